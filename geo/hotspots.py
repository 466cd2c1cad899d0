"""Named street hotspots (network and point mode), built from the risk, Gi* and profile tools.

Method notes for :func:`find_hotspots`:

Gi* is not run on the raw or smoothed risk: raw sums grow with segment length, so runs of
long segments look "hot" under pure noise (on central Helsinki, uniform noise made ~190
segments significant), and smoothed values carry the spatial lag twice. It runs on the
empirical-Bayes risk per metre (:func:`geo.risk.eb_rates`).

Known limits of permutation inference: when a large share of reports sits in clusters the
conditional permutation pool is itself full of hot values, and with ``P`` permutations no p
falls below ``1/(P+1)``, so Benjamini-Hochberg over tens of thousands of tests finds
nothing (measured on perturbed grids with 100,000 reports and 20 planted clusters: 18-19
found at 3k-11k segments, none at 26k, where the normal approximation found all 20 in
0.5 s). ``inference="auto"`` (the default) therefore uses permutations up to
:data:`geo.significance.NORMAL_ABOVE_SEGMENTS` segments and the analytical z above, at the
cost of some false positives on sparse data.

The risk, significance, clustering, time-profile and table functions live in
:mod:`geo.risk`, :mod:`geo.significance`, :mod:`geo.clustering`, :mod:`geo.time_profiles`
and :mod:`geo.hotspot_tables`; they are re-exported here, with the private helpers that
:mod:`geo.evaluate` and the tests import from this module.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import TYPE_CHECKING, Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import CRS

from geo import hotspot_ids
from geo.clustering import _cluster_labels as _cluster_labels
from geo.clustering import _dbscan_labels as _dbscan_labels
from geo.clustering import _group_members as _group_members
from geo.clustering import _hint_label as _hint_label
from geo.clustering import _hot_components as _hot_components
from geo.clustering import _Labeller as _Labeller
from geo.clustering import _rank_clusters as _rank_clusters
from geo.clustering import _rank_components as _rank_components
from geo.clustering import cluster_outlines as cluster_outlines
from geo.hotspot_tables import _DEFAULT_SAFEGUARDING_SHARE as _DEFAULT_SAFEGUARDING_SHARE
from geo.hotspot_tables import HOTSPOT_COLUMNS as HOTSPOT_COLUMNS
from geo.hotspot_tables import _empty_hotspots as _empty_hotspots
from geo.hotspot_tables import _group_summaries as _group_summaries
from geo.hotspot_tables import _hotspot_frame as _hotspot_frame
from geo.hotspot_tables import _skill as _skill
from geo.hotspot_tables import segment_table as segment_table
from geo.network_distance import network_cache
from geo.risk import _DIJKSTRA_BLOCK_BYTES as _DIJKSTRA_BLOCK_BYTES
from geo.risk import _GB_BOUNDS as _GB_BOUNDS
from geo.risk import _LN2 as _LN2
from geo.risk import _MIN_EDGE_M as _MIN_EDGE_M
from geo.risk import _as_timestamp as _as_timestamp
from geo.risk import _check_segments as _check_segments
from geo.risk import _decay as _decay
from geo.risk import _decayed_harm_weights as _decayed_harm_weights
from geo.risk import _default_at as _default_at
from geo.risk import _filter_reports as _filter_reports
from geo.risk import _harm_weights as _harm_weights
from geo.risk import _incidence as _incidence
from geo.risk import _midpoint_graph as _midpoint_graph
from geo.risk import _nodes as _nodes
from geo.risk import _opt as _opt
from geo.risk import _project as _project
from geo.risk import _report_weights as _report_weights
from geo.risk import _resolve_settings as _resolve_settings
from geo.risk import _segment_positions as _segment_positions
from geo.risk import eb_rates as eb_rates
from geo.risk import metric_crs_for as metric_crs_for
from geo.risk import segment_risk as segment_risk
from geo.risk import smooth_risk as smooth_risk
from geo.settings import Settings
from geo.significance import gi_star as gi_star
from geo.significance import segment_adjacency as segment_adjacency
from geo.significance import segment_band_adjacency as segment_band_adjacency
from geo.time_profiles import _profile_codes as _profile_codes
from geo.time_profiles import active_hours as active_hours
from geo.time_profiles import format_hour_windows as format_hour_windows
from geo.time_profiles import hour_windows as hour_windows
from geo.time_profiles import time_profile as time_profile

if TYPE_CHECKING:
    from geo.streets import StreetNetwork

__all__ = [
    "HOTSPOT_COLUMNS",
    "active_hours",
    "eb_rates",
    "find_hotspots",
    "find_point_hotspots",
    "format_hour_windows",
    "gi_star",
    "hour_windows",
    "metric_crs_for",
    "segment_adjacency",
    "segment_band_adjacency",
    "segment_risk",
    "segment_table",
    "smooth_risk",
    "time_profile",
]


# --------------------------------------------------------------------------------------
# Network mode
# --------------------------------------------------------------------------------------


def find_hotspots(
    segments: gpd.GeoDataFrame | StreetNetwork,
    reports: pd.DataFrame,
    *,
    settings: Settings | None = None,
    at: Any = None,
    categories: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    start: Any = None,
    end: Any = None,
    half_life_days: float | None = None,
    bandwidth_m: float | None = None,
    permutations: int | None = None,
    fdr: float | None = None,
    seed: int | None = None,
    active_share: float | None = None,
    n_jobs: int = 1,
    inference: str = "auto",
    return_segments: bool = False,
) -> gpd.GeoDataFrame | tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Find named street hotspots: connected runs of significant hot segments.

    Steps: filter the reports; per-segment prospective risk (:func:`segment_risk`);
    network smoothing (:func:`smooth_risk`); Gi* with FDR control (:func:`gi_star`) on
    the empirical-Bayes risk per metre (:func:`eb_rates`), testing only segments that
    have reports; connected components of the significant hot segments on the segment
    adjacency. Each hotspot's ``risk`` is the sum of the smoothed risk of its segments.

    See the module notes for why Gi* runs on rates per metre and for the known limits of
    first-order adjacency.

    The street-distance steps (smoothing kernel, Gi* band) are bounded searches tile by
    tile (:mod:`geo.network_distance`), near-linear in the network size. Pass the
    :class:`~geo.streets.StreetNetwork` itself (not only its segments) and those
    network-only matrices, and the segment adjacency, are kept in its analysis cache
    under their bandwidth, so a rerun with other reports, periods or categories reuses
    them.

    Parameters
    ----------
    segments
        A StreetNetwork, or its street segments (CONTRACTS street-network columns).
    reports
        Report table (CONTRACTS); only reports with a ``segment_id`` are used.
    settings
        Settings (default :func:`load_settings`); defaults come from ``[hotspots]``.
    at
        Moment of the prospective risk (default: the day after the latest report).
    categories, sources
        Keep only these categories / sources (default: all).
    start, end
        Keep reports in this period (inclusive; a bare ``end`` date includes that day).
    half_life_days, bandwidth_m, permutations, fdr, seed, active_share
        Override the ``[hotspots]`` settings.
    n_jobs
        esda worker count for the permutations.
    inference
        ``"auto"`` (default: permutations on small networks, the normal approximation
        above ``[hotspots] normal_above_segments``), ``"permutation"`` or ``"normal"``;
        see :func:`gi_star`.
    return_segments
        Also return :func:`segment_table` of all segments.

    Returns
    -------
    geopandas.GeoDataFrame
        The CONTRACTS hotspot table, ranked by risk (``rank`` 1 first) with stable place ids
        (:mod:`geo.hotspot_ids`); with
        ``return_segments`` a tuple ``(hotspots, segment_table)``.

    Raises
    ------
    ValueError
        When no reports remain after the filters, or none is on the street network.
    """
    cache = network_cache(segments)
    segments = segments.segments if cache is not None else segments
    _check_segments(segments)
    settings = _resolve_settings(settings)
    share = float(_opt(active_share, settings, "active_share", 0.8))
    chosen, pos = _network_reports(segments, reports, categories, sources, start, end)
    if at is None:
        at = _default_at(pd.to_datetime(chosen["occurred_at"]))
    gi_opts = {"permutations": permutations, "seed": seed, "fdr": fdr, "n_jobs": n_jobs}
    scores = _score_network(
        segments, chosen, settings, at, half_life_days, bandwidth_m, inference, gi_opts, cache
    )
    out = _network_hotspots(segments, chosen, pos, scores, settings, share)
    if not return_segments:
        return out
    return out, segment_table(segments, scores.risk, scores.gi, smoothed=scores.smoothed)


class _NetworkScores(NamedTuple):
    """Per-segment results of the network steps of :func:`find_hotspots`."""

    rep_pos: np.ndarray
    risk: pd.Series
    smoothed: pd.Series
    adj: sp.csr_matrix
    gi: pd.DataFrame


def _network_reports(
    segments: pd.DataFrame,
    reports: pd.DataFrame,
    categories: Iterable[str] | None,
    sources: Iterable[str] | None,
    start: Any,
    end: Any,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The filtered reports and their segment rows; raises when none is on the network."""
    chosen = _filter_reports(reports, categories=categories, sources=sources, start=start, end=end)
    if chosen.empty:
        msg = "No reports in the chosen period, categories and sources; widen the filters."
        raise ValueError(msg)
    pos = _segment_positions(segments, chosen)
    if not (pos >= 0).any():
        msg = (
            "None of the chosen reports is on the street network (no segment_id); snap them "
            "to the network first, or use find_point_hotspots for point mode."
        )
        raise ValueError(msg)
    return chosen, pos


def _score_network(
    segments: pd.DataFrame,
    chosen: pd.DataFrame,
    settings: Settings,
    at: Any,
    half_life_days: float | None,
    bandwidth_m: float | None,
    inference: str,
    gi_opts: dict[str, Any],
    cache: MutableMapping[Any, Any] | None,
) -> _NetworkScores:
    """Risk, smoothed risk, adjacency and Gi* of every segment for :func:`find_hotspots`.

    Without a network cache a one-call cache still lets the smoothing and the Gi* band
    share one distance search.
    """
    cache = {} if cache is None else cache
    h = float(_opt(bandwidth_m, settings, "bandwidth_m", 150))
    band = float(settings.hotspots.get("gi_band_m", 0) or 0)
    rep_pos, weight = _report_weights(
        segments, chosen, at=at, half_life_days=half_life_days, settings=settings
    )
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    risk_arr = np.bincount(rep_pos, weights=weight, minlength=len(segments))
    risk = pd.Series(risk_arr, index=pd.Index(ids, name="segment_id"), name="risk")
    smoothed = smooth_risk(
        segments, risk, bandwidth_m=h, settings=settings, cache=cache, radius_m=band
    )
    key = ("segment_adjacency", len(segments))
    if key not in cache:
        cache[key] = segment_adjacency(segments)
    adj = cache[key]
    gi = _eb_gi_star(
        segments, risk_arr, weight, adj, settings, inference=inference, cache=cache, **gi_opts
    )
    return _NetworkScores(rep_pos, risk, smoothed, adj, gi)


def _eb_gi_star(
    segments: pd.DataFrame,
    risk_arr: np.ndarray,
    weight: np.ndarray,
    adj: sp.csr_matrix,
    settings: Settings,
    *,
    inference: str,
    cache: MutableMapping[Any, Any],
    permutations: int | None,
    seed: int | None,
    fdr: float | None,
    n_jobs: int,
) -> pd.DataFrame:
    """Gi* of the empirical-Bayes risk per metre, testing only segments with reports.

    The weights are the segment adjacency, plus the ``[hotspots] gi_band_m`` network band
    when that is set (kept in ``cache`` with the sum). The tested family, and so the
    Benjamini-Hochberg family, is the segments with reports of their own: on a county
    network most segments have none, and leaving them out (as ArcGIS's Optimized Hot Spot
    Analysis leaves out features without incidents) keeps the correction able to find
    hotspots at 300,000 segments.
    """
    band = float(settings.hotspots.get("gi_band_m", 0) or 0)
    gi_w = adj
    if band > 0:
        key = ("gi_weights", len(segments), band)
        if key not in cache:
            h = float(settings.hotspots.get("bandwidth_m", 150))
            band_w = segment_band_adjacency(segments, band_m=band, cache=cache, radius_m=h)
            cache[key] = (band_w + adj).tocsr()
        gi_w = cache[key]
    dispersion = float((weight**2).sum() / weight.sum()) if weight.sum() > 0 else 1.0
    rates = eb_rates(risk_arr, segments["length_m"].to_numpy(dtype=float), dispersion=dispersion)
    return gi_star(
        segments,
        rates,
        tested=risk_arr > 0,
        inference=inference,
        permutations=permutations,
        seed=seed,
        fdr=fdr,
        n_jobs=n_jobs,
        settings=settings,
        adjacency=gi_w,
    )


def _network_hotspots(
    segments: gpd.GeoDataFrame,
    chosen: pd.DataFrame,
    pos: np.ndarray,
    scores: _NetworkScores,
    settings: Settings,
    share: float,
) -> gpd.GeoDataFrame:
    """The ranked, labelled hotspot table: connected runs of significant hot segments."""
    hot = scores.gi["significant_hot"].to_numpy(dtype=bool)
    hot_idx, comp, n_comp = _hot_components(scores.adj, hot, scores.rep_pos, settings)
    if n_comp == 0:
        return _empty_hotspots()
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    z = scores.gi["z"].to_numpy(dtype=float)
    p_adj = scores.gi["p_adj"].to_numpy(dtype=float)
    sm = scores.smoothed.to_numpy(dtype=float)
    rank, group, comp_risk = _rank_components(hot_idx, comp, n_comp, sm)
    order, members = _group_members(hot_idx, group, n_comp)
    z_max = np.full(n_comp, -np.inf)
    np.maximum.at(z_max, group, np.nan_to_num(z[hot_idx], nan=-np.inf))
    p_min = np.full(n_comp, np.inf)
    np.minimum.at(p_min, group, p_adj[hot_idx])
    geoms = shapely.multilinestrings(
        segments.geometry.to_numpy()[hot_idx[order]], indices=group[order]
    )
    seg_group = np.full(len(segments), -1, dtype=np.int64)
    seg_group[hot_idx] = group
    rep_group = np.where(pos >= 0, seg_group[np.clip(pos, 0, None)], -1)
    summary = _group_summaries(chosen, rep_group, n_comp, settings, share)
    labeller = _Labeller(segments)
    frame = _hotspot_frame(
        [labeller.label(m) for m in members],
        comp_risk[rank],
        summary,
        z=np.where(np.isfinite(z_max), z_max, np.nan),
        p_adj=p_min,
        segment_ids=[sorted(int(i) for i in ids[m]) for m in members],
        ids=_network_ids(chosen, rep_group, n_comp),
    )
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=segments.crs or 4326))
    if out.crs is not None and not out.crs.equals(CRS.from_epsg(4326)):
        out = out.to_crs(4326)
    return out


def _network_ids(chosen: pd.DataFrame, rep_group: np.ndarray, n_comp: int) -> list[str]:
    """Stable ids from the place (:func:`geo.hotspot_ids.place_ids`), not the rank.

    The 100 m grid square holding most of a hotspot's reports mostly stays its densest
    square when the period or the categories shift: on the demo, over ten pairs of five
    overlapping periods, 60 of the 78 places found in both kept their id, where the
    segment with the most reports kept 54 and the highest-risk segment fewer; 200 m squares
    kept more but were shared by neighbouring hotspots. Point mode names the same place by
    the same square, so an id survives loading a street network.
    """
    lon = pd.to_numeric(chosen["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(chosen["lat"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    crs = metric_crs_for(lon[ok], lat[ok])
    ok &= rep_group >= 0  # only reports in a hotspot name it (1M projections took 0.8 s)
    x, y = _project(lon[ok], lat[ok], crs)
    return hotspot_ids.place_ids(x, y, rep_group[ok], n_comp)


# --------------------------------------------------------------------------------------
# Point mode
# --------------------------------------------------------------------------------------


def find_point_hotspots(
    reports: pd.DataFrame,
    *,
    eps_m: float | None = None,
    min_samples: int | None = None,
    settings: Settings | None = None,
    at: Any = None,
    categories: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    start: Any = None,
    end: Any = None,
    half_life_days: float | None = None,
    active_share: float | None = None,
    cell_m: float | None = None,
    metric_crs: CRS | str | int | None = None,
) -> gpd.GeoDataFrame:
    """Find hotspots without a street network: DBSCAN clusters of reports in metres.

    Reports are projected to ``metric_crs`` and clustered with scikit-learn DBSCAN
    (``eps_m``, ``min_samples``). Each cluster's outline is the grid squares holding its
    reports (:func:`geo.clustering.cluster_outlines`; never a hull of them), labelled
    with its one or two most common ``location_hint`` values, scored by its decayed
    harm-weighted report count (same weights and decay as :func:`segment_risk`) and ranked
    by that score.

    Parameters
    ----------
    reports
        Report table (CONTRACTS) with ``lon``/``lat``.
    eps_m, min_samples
        DBSCAN radius in metres and minimum reports (default ``[hotspots] point_eps_m``
        and ``point_min_samples``).
    settings
        Settings (default :func:`load_settings`).
    at, categories, sources, start, end, half_life_days, active_share
        As for :func:`find_hotspots`.
    cell_m
        Side of the outline's grid squares in metres (default ``[hotspots] point_cell_m``,
        100).
    metric_crs
        CRS for the clustering (default: EPSG:27700 in Great Britain, else UTM).

    Returns
    -------
    geopandas.GeoDataFrame
        The CONTRACTS hotspot table with ``z``/``p_adj`` NaN and empty ``segment_ids``.

    Raises
    ------
    ValueError
        When no reports with coordinates remain after the filters.
    """
    settings = _resolve_settings(settings)
    eps = float(_opt(eps_m, settings, "point_eps_m", 150))
    min_pts = int(_opt(min_samples, settings, "point_min_samples", 8))
    half_life = float(_opt(half_life_days, settings, "half_life_days", 28))
    share = float(_opt(active_share, settings, "active_share", 0.8))
    chosen, lon, lat = _located_reports(reports, categories, sources, start, end)
    crs = CRS.from_user_input(metric_crs) if metric_crs is not None else metric_crs_for(lon, lat)
    x, y = _project(lon, lat, crs)
    radius = float(_opt(None, settings, "point_max_radius_m", 200))
    labels = _dbscan_labels(x, y, eps=eps, min_samples=min_pts, max_radius_m=radius)
    n_clusters = int(labels.max()) + 1
    if n_clusters == 0:
        return _empty_hotspots()
    weight = _decayed_harm_weights(chosen, at, half_life, settings)
    inside, score, size, group = _rank_clusters(labels, weight, n_clusters)
    cell = float(_opt(cell_m, settings, "point_cell_m", 100))
    geoms = cluster_outlines(x, y, inside, group, cell_m=cell, crs=crs)
    labels_txt = _cluster_labels(chosen, lon, lat, inside, group, size)
    summary = _group_summaries(chosen, group, n_clusters, settings, share)
    frame = _hotspot_frame(
        labels_txt,
        score,
        summary,
        z=np.full(n_clusters, np.nan),
        p_adj=np.full(n_clusters, np.nan),
        segment_ids=[[] for _ in range(n_clusters)],
        ids=hotspot_ids.place_ids(x, y, group, n_clusters),
    )
    return gpd.GeoDataFrame(frame, geometry=geoms.reset_index(drop=True), crs=4326)


def _located_reports(
    reports: pd.DataFrame,
    categories: Iterable[str] | None,
    sources: Iterable[str] | None,
    start: Any,
    end: Any,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The filtered reports with coordinates and their lon/lat; raises when none is left."""
    chosen = _filter_reports(reports, categories=categories, sources=sources, start=start, end=end)
    lon = pd.to_numeric(chosen["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(chosen["lat"], errors="coerce").to_numpy(dtype=float)
    located = np.isfinite(lon) & np.isfinite(lat)
    chosen, lon, lat = chosen.loc[located], lon[located], lat[located]
    if chosen.empty:
        msg = "No reports with coordinates in the chosen period, categories and sources; widen the filters."
        raise ValueError(msg)
    return chosen, lon, lat
