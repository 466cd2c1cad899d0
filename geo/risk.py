"""Prospective street-segment risk: report filters, harm weights, decay and network smoothing."""

from __future__ import annotations

import math
from collections.abc import Iterable, MutableMapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyproj import CRS, Transformer

from geo.settings import Settings, load_settings

__all__ = ["eb_rates", "metric_crs_for", "segment_risk", "smooth_risk"]

_LN2 = math.log(2.0)
_GB_BOUNDS = (-8.75, 49.8, 1.85, 60.95)  # lon/lat box of Great Britain (EPSG:27700's area)
_MIN_EDGE_M = 1e-3  # zero-length segments still count as edges in the graph
_DIJKSTRA_BLOCK_BYTES = 4 * 2**20  # dense Dijkstra output per block (cache-sized is fastest)


# --------------------------------------------------------------------------------------
# Helpers shared with geo.evaluate, geo.significance and geo.clustering
# --------------------------------------------------------------------------------------


def metric_crs_for(lon: Iterable[float], lat: Iterable[float]) -> CRS:
    """Return a metric CRS for data at ``lon``/``lat``.

    Parameters
    ----------
    lon, lat
        WGS84 coordinates of the data.

    Returns
    -------
    pyproj.CRS
        EPSG:27700 (British National Grid) when the centroid lies in Great Britain,
        otherwise the WGS84 UTM zone of the centroid.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        msg = "No valid coordinates to choose a metric CRS from; check the lon/lat columns."
        raise ValueError(msg)
    cx, cy = float(np.median(lon[ok])), float(np.median(lat[ok]))
    west, south, east, north = _GB_BOUNDS
    if west <= cx <= east and south <= cy <= north:
        return CRS.from_epsg(27700)
    zone = min(max(int((cx + 180.0) // 6.0) + 1, 1), 60)
    return CRS.from_epsg((32600 if cy >= 0 else 32700) + zone)


def _resolve_settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else load_settings()


def _opt(value: Any, settings: Settings, key: str, default: Any) -> Any:
    """Pick an explicit option, else the ``[hotspots]`` setting, else ``default``."""
    if value is not None:
        return value
    return settings.hotspots.get(key, default)


@lru_cache(maxsize=16)
def _from_wgs84(crs: CRS) -> Transformer:
    """The WGS84 to ``crs`` transformer, made once per CRS (40 ms; pyproj's are thread-safe)."""
    return Transformer.from_crs(4326, crs, always_xy=True)


def _project(
    lon: np.ndarray, lat: np.ndarray, crs: CRS | str | int
) -> tuple[np.ndarray, np.ndarray]:
    tr = _from_wgs84(CRS.from_user_input(crs))
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _as_timestamp(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("Europe/London").tz_localize(None)
    return ts


def _filter_reports(
    reports: pd.DataFrame,
    *,
    categories: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """Keep the reports in the chosen categories, sources and period.

    ``start`` is inclusive. ``end`` is inclusive; a bare date (no time of day) includes
    the whole of that day.
    """
    missing = {"occurred_at", "category"} - set(reports.columns)
    if missing:
        msg = f"The reports table lacks column(s) {sorted(missing)}; read it with geo.reports."
        raise ValueError(msg)
    keep = np.ones(len(reports), dtype=bool)
    if categories is not None:
        cats = [categories] if isinstance(categories, str) else list(categories)
        keep &= reports["category"].isin(cats).to_numpy()
    if sources is not None:
        if "source" not in reports.columns:
            msg = "The reports table has no 'source' column to filter by; drop the sources filter."
            raise ValueError(msg)
        srcs = [sources] if isinstance(sources, str) else list(sources)
        keep &= reports["source"].isin(srcs).to_numpy()
    when = pd.to_datetime(reports["occurred_at"])
    if start is not None:
        keep &= (when >= _as_timestamp(start)).to_numpy()
    if end is not None:
        end_ts = _as_timestamp(end)
        if end_ts == end_ts.normalize():
            keep &= (when < end_ts + pd.Timedelta(days=1)).to_numpy()
        else:
            keep &= (when <= end_ts).to_numpy()
    return reports.loc[keep]


def _harm_weights(categories: pd.Series, settings: Settings) -> np.ndarray:
    codes, uniq = pd.factorize(categories)
    lookup = np.array([settings.harm_weight(str(c)) for c in uniq] + [1.0])
    return lookup[codes]  # code -1 (missing category) -> weight 1


def _default_at(when: pd.Series) -> pd.Timestamp:
    return pd.Timestamp(when.max()) + pd.Timedelta(days=1)


def _decay(when: pd.Series, at: pd.Timestamp, half_life_days: float) -> np.ndarray:
    """Return exp(-ln2 * age / half-life) per report, 0 for reports after ``at``."""
    age = (at - pd.to_datetime(when)).dt.total_seconds().to_numpy(dtype=float) / 86400.0
    if not half_life_days or not math.isfinite(float(half_life_days)):
        weight = np.ones_like(age)
    else:
        if half_life_days <= 0:
            msg = "half_life_days must be positive (or inf for no decay)."
            raise ValueError(msg)
        weight = np.exp(-_LN2 * np.clip(age, 0.0, None) / float(half_life_days))
    weight[~(age >= 0)] = 0.0  # after `at`, or no date
    return weight


def _check_segments(segments: pd.DataFrame) -> None:
    missing = {"segment_id", "length_m", "u", "v"} - set(segments.columns)
    if missing:
        msg = f"The segments table lacks column(s) {sorted(missing)}; pass StreetNetwork.segments."
        raise ValueError(msg)


def _segment_positions(segments: pd.DataFrame, reports: pd.DataFrame) -> np.ndarray:
    """Row position of each report's segment in ``segments`` (-1 when none)."""
    if "segment_id" not in reports.columns:
        return np.full(len(reports), -1, dtype=np.int64)
    sid = pd.to_numeric(reports["segment_id"], errors="coerce").astype("Int64")
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    raw = sid.fillna(-1).to_numpy(dtype=np.int64)
    if len(ids) and np.array_equal(ids, np.arange(len(ids))):
        pos = np.where((raw >= 0) & (raw < len(ids)), raw, -1)
    else:
        pos = pd.Index(ids).get_indexer(raw)
        pos[raw < 0] = -1
    return pos.astype(np.int64)


def _values_per_segment(values: pd.Series | np.ndarray, ids: np.ndarray, name: str) -> np.ndarray:
    """``values`` aligned with the segment rows of ``ids`` (a Series is matched by id)."""
    if isinstance(values, pd.Series):
        out = values.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    else:
        out = np.asarray(values, dtype=float)
    if out.shape != (len(ids),):
        msg = f"{name} must hold one value per segment; compute it with segment_risk()."
        raise ValueError(msg)
    return out


def _nodes(segments: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    u = segments["u"].to_numpy(dtype=np.int64)
    v = segments["v"].to_numpy(dtype=np.int64)
    n_nodes = int(max(u.max(initial=-1), v.max(initial=-1))) + 1
    return u, v, n_nodes


def _incidence(segments: pd.DataFrame) -> sp.csr_matrix:
    """Segments x nodes, 1 where the node is an end of the segment."""
    u, v, n_nodes = _nodes(segments)
    n = len(u)
    rows = np.r_[np.arange(n), np.arange(n)]
    inc = sp.csr_matrix((np.ones(2 * n), (rows, np.r_[u, v])), shape=(n, n_nodes))
    inc.data[:] = 1.0  # a self-loop counts once
    return inc


# --------------------------------------------------------------------------------------
# Risk and smoothing
# --------------------------------------------------------------------------------------


def segment_risk(
    segments: pd.DataFrame,
    reports: pd.DataFrame,
    *,
    at: Any = None,
    half_life_days: float | None = None,
    settings: Settings | None = None,
) -> pd.Series:
    """Return the prospective (decayed, harm-weighted) risk of every segment.

    ``risk_s = sum_r harm_weight(category_r) * exp(-ln 2 * age_r / half_life)`` over the
    reports snapped to segment ``s``, with ``age_r`` in days before ``at``.

    Parameters
    ----------
    segments
        Street segments (CONTRACTS street-network columns).
    reports
        Report table; rows without a ``segment_id`` (or with one not in ``segments``)
        are ignored.
    at
        The moment risk is computed for. Default: the day after the latest report.
        Reports after ``at`` are ignored.
    half_life_days
        Half-life of the exponential decay (default ``[hotspots] half_life_days``);
        ``inf`` disables the decay.
    settings
        Settings for harm weights and defaults (default :func:`load_settings`).

    Returns
    -------
    pandas.Series
        Float risk indexed by ``segment_id`` (0 where there are no reports).
    """
    pos, weight = _report_weights(
        segments, reports, at=at, half_life_days=half_life_days, settings=settings
    )
    index = pd.Index(segments["segment_id"].to_numpy(dtype=np.int64), name="segment_id")
    risk = np.bincount(pos, weights=weight, minlength=len(segments))
    return pd.Series(risk, index=index, name="risk")


def _report_weights(
    segments: pd.DataFrame,
    reports: pd.DataFrame,
    *,
    at: Any,
    half_life_days: float | None,
    settings: Settings | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Segment position and decayed harm weight of every report on the network."""
    _check_segments(segments)
    settings = _resolve_settings(settings)
    half_life = float(_opt(half_life_days, settings, "half_life_days", 28))
    pos = _segment_positions(segments, reports)
    on = pos >= 0
    if not on.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    weight = _decayed_harm_weights(reports.loc[on], at, half_life, settings)
    return pos[on], weight


def _decayed_harm_weights(
    reports: pd.DataFrame, at: Any, half_life: float, settings: Settings
) -> np.ndarray:
    """Harm weight times decay of every report (``at`` default: the day after the latest)."""
    when = pd.to_datetime(reports["occurred_at"])
    at_ts = _default_at(when) if at is None else _as_timestamp(at)
    return _harm_weights(reports["category"], settings) * _decay(when, at_ts, half_life)


def eb_rates(
    risk: pd.Series | np.ndarray, length_m: np.ndarray, *, dispersion: float = 1.0
) -> np.ndarray:
    """Global empirical-Bayes risk per metre (Marshall 1991), shrinking short segments.

    Raw rates ``r_i = risk_i / L_i`` of short segments are mostly noise; each is pulled
    toward the network mean ``m`` by ``C_i = s2 / (s2 + dispersion * m / L_i)``, where
    ``s2`` is the method-of-moments between-segment variance. ``dispersion`` is the
    variance-to-mean ratio of one report's weight (``E[w^2] / E[w]``; 1 for plain counts).

    Parameters
    ----------
    risk
        Risk per segment.
    length_m
        Segment lengths in metres.
    dispersion
        Variance-to-mean ratio of the risk of one report.

    Returns
    -------
    numpy.ndarray
        Smoothed rates per metre (all equal to ``m`` when there is no extra variation).
    """
    r_sum = np.asarray(risk, dtype=float)
    length = np.maximum(np.asarray(length_m, dtype=float), 1.0)
    total = length.sum()
    mean = r_sum.sum() / total
    if mean <= 0:
        return np.zeros_like(r_sum)
    rate = r_sum / length
    s2 = (length * (rate - mean) ** 2).sum() / total - dispersion * mean / length.mean()
    s2 = max(s2, 0.0)
    shrink = s2 / (s2 + dispersion * mean / length)
    return mean + shrink * (rate - mean)


def _midpoint_graph(segments: pd.DataFrame) -> tuple[sp.csr_matrix, int]:
    """Street nodes plus one node per segment midpoint (joined to both ends by half its length).

    The shortest path between two midpoint nodes is the network distance between the
    segments' midpoints; parallel segments and self-loops need no special case.
    """
    u, v, n_nodes = _nodes(segments)
    n = len(u)
    half = np.maximum(segments["length_m"].to_numpy(dtype=float), 2 * _MIN_EDGE_M) / 2.0
    mid = n_nodes + np.arange(n)
    rows = np.r_[mid, mid]
    cols = np.r_[u, v]
    graph = sp.csr_matrix((np.r_[half, half], (rows, cols)), shape=(n_nodes + n,) * 2)
    return graph, n_nodes


def smooth_risk(
    segments: pd.DataFrame,
    risk: pd.Series | np.ndarray,
    *,
    bandwidth_m: float | None = None,
    settings: Settings | None = None,
    cache: MutableMapping[Any, Any] | None = None,
    radius_m: float | None = None,
) -> pd.Series:
    """Spread each segment's risk to segments within ``bandwidth_m`` along the network.

    Distance is the network (not straight-line) distance between segment midpoints,
    computed with bounded Dijkstra searches tile by tile
    (:func:`geo.network_distance.midpoint_distances`, near-linear in the network size) on
    the node graph with one extra node per segment midpoint. The kernel is triangular, ``K(d) = 1 - d / h`` for
    ``d < h``, and each source's weights are normalised to sum to one, so the smoothing
    conserves total risk and a segment keeps the largest share of its own risk
    (``K(0) = 1`` is the largest weight). Only segments with nonzero risk are sources.

    Parameters
    ----------
    segments
        Street segments (``segment_id``, ``length_m``, ``u``, ``v``).
    risk
        Risk per segment, aligned with ``segments`` rows (or indexed by ``segment_id``).
    bandwidth_m
        Kernel bandwidth in metres along the network (default ``[hotspots] bandwidth_m``).
        0 returns the risk unchanged.
    settings
        Settings for the default bandwidth.
    cache
        A StreetNetwork's analysis cache: the kernel is a network-only matrix, kept there
        under the bandwidth so a rerun with new reports does not search again.
    radius_m
        Search this far (>= the bandwidth) so the same search serves a wider Gi* band.

    Returns
    -------
    pandas.Series
        Smoothed risk indexed by ``segment_id``.
    """
    _check_segments(segments)
    if bandwidth_m is None:
        bandwidth_m = float(_resolve_settings(settings).hotspots.get("bandwidth_m", 150))
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    values = _values_per_segment(risk, ids, "risk")
    index = pd.Index(ids, name="segment_id")
    h = float(bandwidth_m)
    if h < 0 or not math.isfinite(h):
        msg = "bandwidth_m must be a finite number of metres >= 0."
        raise ValueError(msg)
    sources = np.flatnonzero(values != 0)
    if h == 0 or len(sources) == 0:
        return pd.Series(values.copy(), index=index, name="smoothed_risk")

    from geo.network_distance import smoothing_kernel

    if cache is None and len(sources) * 4 < len(segments):  # few sources: search from them only
        from geo.network_distance import midpoint_distances

        md = midpoint_distances(segments, radius_m=h, sources=sources)
        near = md.dist < h
        rows, cols, kern = md.rows[near], md.cols[near], 1.0 - md.dist[near] / h
        norm = np.bincount(rows, weights=kern, minlength=len(segments))
        share = kern / norm[rows] * values[rows]
        smoothed = np.bincount(cols, weights=share, minlength=len(segments))
    else:
        kernel = smoothing_kernel(segments, bandwidth_m=h, cache=cache, radius_m=radius_m)
        smoothed = np.asarray(kernel.T @ values, dtype=float)
    return pd.Series(smoothed, index=index, name="smoothed_risk")
