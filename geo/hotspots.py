"""Street-segment risk, network smoothing, Gi* significance and named hotspots (network and point mode)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import connected_components, dijkstra

from geo.settings import Settings, load_settings

__all__ = [
    "HOTSPOT_COLUMNS",
    "active_hours",
    "eb_rates",
    "find_hotspots",
    "find_point_hotspots",
    "gi_star",
    "metric_crs_for",
    "segment_adjacency",
    "segment_risk",
    "segment_table",
    "smooth_risk",
    "time_profile",
]

HOTSPOT_COLUMNS = [
    "hotspot_id",
    "label",
    "risk",
    "n_reports",
    "counts",
    "skill",
    "active_hours",
    "profile",
    "z",
    "p_adj",
    "segment_ids",
    "geometry",
]

_LN2 = math.log(2.0)
_GB_BOUNDS = (-8.75, 49.8, 1.85, 60.95)  # lon/lat box of Great Britain (EPSG:27700's area)
_MIN_EDGE_M = 1e-3  # zero-length segments still count as edges in the graph
_DIJKSTRA_BLOCK_BYTES = 4 * 2**20  # dense Dijkstra output per block (cache-sized is fastest)
_DEFAULT_SAFEGUARDING_SHARE = 0.2


# --------------------------------------------------------------------------------------
# Helpers shared with geo.evaluate
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


def _project(
    lon: np.ndarray, lat: np.ndarray, crs: CRS | str | int
) -> tuple[np.ndarray, np.ndarray]:
    tr = Transformer.from_crs(4326, CRS.from_user_input(crs), always_xy=True)
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


def segment_adjacency(segments: pd.DataFrame) -> sp.csr_matrix:
    """Return the n x n segment adjacency (1 where two segments share an end node).

    Parameters
    ----------
    segments
        Street segments with ``u`` and ``v`` end-node positions.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric, binary, zero diagonal.
    """
    _check_segments(segments)
    inc = _incidence(segments)
    adj = (inc @ inc.T).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    adj.data[:] = 1.0
    return adj


# --------------------------------------------------------------------------------------
# Risk, smoothing, significance
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
    at: Any = None,
    half_life_days: float | None = None,
    settings: Settings | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Segment position and decayed harm weight of every report on the network."""
    _check_segments(segments)
    settings = _resolve_settings(settings)
    half_life = float(_opt(half_life_days, settings, "half_life_days", 28))
    pos = _segment_positions(segments, reports)
    on = pos >= 0
    if not on.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    snapped = reports.loc[on]
    when = pd.to_datetime(snapped["occurred_at"])
    at_ts = _default_at(when) if at is None else _as_timestamp(at)
    weight = _harm_weights(snapped["category"], settings) * _decay(when, at_ts, half_life)
    return pos[on], weight


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
) -> pd.Series:
    """Spread each segment's risk to segments within ``bandwidth_m`` along the network.

    Distance is the network (not straight-line) distance between segment midpoints,
    computed with a bounded Dijkstra (``limit=bandwidth_m``) on the node graph with one
    extra node per segment midpoint. The kernel is triangular, ``K(d) = 1 - d / h`` for
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

    Returns
    -------
    pandas.Series
        Smoothed risk indexed by ``segment_id``.
    """
    _check_segments(segments)
    if bandwidth_m is None:
        bandwidth_m = float(_resolve_settings(settings).hotspots.get("bandwidth_m", 150))
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    if isinstance(risk, pd.Series):
        values = risk.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    else:
        values = np.asarray(risk, dtype=float)
    if values.shape != (len(segments),):
        msg = "risk must hold one value per segment; compute it with segment_risk()."
        raise ValueError(msg)
    index = pd.Index(ids, name="segment_id")
    h = float(bandwidth_m)
    if h < 0 or not math.isfinite(h):
        msg = "bandwidth_m must be a finite number of metres >= 0."
        raise ValueError(msg)
    sources = np.flatnonzero(values != 0)
    if h == 0 or len(sources) == 0:
        return pd.Series(values.copy(), index=index, name="smoothed_risk")

    graph, n_nodes = _midpoint_graph(segments)
    n = len(segments)
    width = graph.shape[0]
    block = max(1, int(_DIJKSTRA_BLOCK_BYTES // (8 * width)))
    smoothed = np.zeros(n, dtype=float)
    for start in range(0, len(sources), block):  # blocks of sources, not a loop over segments
        src = sources[start : start + block]
        dist = dijkstra(graph, directed=False, indices=n_nodes + src, limit=h)[:, n_nodes:]
        rows, cols = np.nonzero(dist < h)
        kern = 1.0 - dist[rows, cols] / h
        norm = np.bincount(rows, weights=kern, minlength=len(src))
        share = kern / norm[rows] * values[src][rows]
        smoothed += np.bincount(cols, weights=share, minlength=n)
    return pd.Series(smoothed, index=index, name="smoothed_risk")


def segment_band_adjacency(segments: pd.DataFrame, *, band_m: float) -> sp.csr_matrix:
    """Binary weights between segments whose midpoints lie within ``band_m`` along the network.

    The network analogue of a distance-band weights matrix: on networks of short segments
    (footways, crossings) first-order adjacency gives each segment two or three
    neighbours, too few for Gi* to tell a cluster from noise; a band of the smoothing
    bandwidth gives it the street stretch around it. Computed with bounded Dijkstra from
    blocks of segment midpoints, no loop over segments.

    Parameters
    ----------
    segments
        Street segments (``segment_id``, ``length_m``, ``u``, ``v``).
    band_m
        The network distance band in metres (> 0).

    Returns
    -------
    scipy.sparse.csr_matrix
        n x n, symmetric, zero diagonal, 1 where two segments are within the band.
    """
    _check_segments(segments)
    if not (band_m > 0 and math.isfinite(band_m)):
        msg = "band_m must be a positive number of metres."
        raise ValueError(msg)
    graph, n_nodes = _midpoint_graph(segments)
    n = len(segments)
    block = max(1, int(_DIJKSTRA_BLOCK_BYTES // (8 * graph.shape[0])))
    rows_all: list[np.ndarray] = []
    cols_all: list[np.ndarray] = []
    for start in range(0, n, block):  # blocks of sources, not a loop over segments
        src = np.arange(start, min(n, start + block))
        dist = dijkstra(graph, directed=False, indices=n_nodes + src, limit=band_m)[:, n_nodes:]
        r, c = np.nonzero(dist <= band_m)
        keep = src[r] != c
        rows_all.append(src[r][keep])
        cols_all.append(c[keep])
    rows = np.concatenate(rows_all) if rows_all else np.empty(0, dtype=np.int64)
    cols = np.concatenate(cols_all) if cols_all else np.empty(0, dtype=np.int64)
    adj = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adj = ((adj + adj.T) > 0).astype(np.float64)
    return adj.tocsr()


def gi_star(
    segments: pd.DataFrame,
    values: pd.Series | np.ndarray,
    *,
    permutations: int | None = None,
    seed: int | None = None,
    fdr: float | None = None,
    n_jobs: int = 1,
    settings: Settings | None = None,
    adjacency: sp.spmatrix | None = None,
    tested: np.ndarray | None = None,
    inference: str = "permutation",
) -> pd.DataFrame:
    """Getis-Ord Gi* of ``values`` on segment adjacency, with FDR control.

    Uses ``esda.G_Local(values, w, transform="B", star=True, ...)`` where ``w`` is the
    binary segment adjacency (segments sharing an end node) with self-weight 1.
    ``p_sim`` is esda's folded pseudo p-value; the hot-spot test is one-sided, so the
    p-value used for the Benjamini-Hochberg adjustment is ``p_sim`` where ``z > 0`` and
    1 elsewhere. Islands (segments with no neighbour) are not tested: ``z`` NaN, p 1.
    esda's randomisation is conditional on the segment's own value, so restricting the
    tested family with a rule on the own value alone (``tested``, e.g. "has reports")
    keeps the p-values valid and shrinks the Benjamini-Hochberg family.
    With ``P`` permutations the smallest p is ``1/(P+1)``; over ``m`` tested segments
    Benjamini-Hochberg then needs at least ``m / ((P+1) * fdr)`` segments at that floor
    before any is significant, so raise ``permutations`` on very large networks if
    genuine hotspots are missed.

    Parameters
    ----------
    segments
        Street segments (``segment_id``, ``u``, ``v``, ``length_m``).
    values
        The variable per segment (usually :func:`segment_risk`), aligned with rows or
        indexed by ``segment_id``.
    permutations
        Conditional permutations (default ``[hotspots] permutations``).
    seed
        Seed of the permutations (default ``[hotspots] seed``).
    fdr
        False-discovery rate for ``significant_hot`` (default ``[hotspots] fdr``).
    n_jobs
        Passed to esda (1 is fastest on small machines).
    settings
        Settings for the defaults.
    adjacency
        A precomputed :func:`segment_adjacency` to reuse.
    tested
        Boolean mask (segment rows) of the hypotheses to test; default all but islands.
        Untested segments get ``p_adj`` 1 and are never significant.
    inference
        ``"permutation"`` (default; esda's conditional permutation ``p_sim``) or
        ``"normal"`` (one-sided normal p of the analytical Gi* z, no permutations: no
        ``1/(P+1)`` floor, but optimistic for skewed, sparse values).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``segment_id`` with columns ``g``, ``z``, ``p_sim``, ``p_adj`` and
        ``significant_hot`` (``z > 0`` and ``p_adj <= fdr``).
    """
    import esda
    from libpysal.weights import WSP
    from scipy.stats import false_discovery_control

    _check_segments(segments)
    settings = _resolve_settings(settings)
    permutations = int(_opt(permutations, settings, "permutations", 999))
    seed = int(_opt(seed, settings, "seed", 12345))
    fdr = float(_opt(fdr, settings, "fdr", 0.05))
    if inference not in ("permutation", "normal"):
        msg = 'inference must be "permutation" or "normal".'
        raise ValueError(msg)
    if inference == "normal":
        permutations = 0
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    if isinstance(values, pd.Series):
        y = values.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    else:
        y = np.asarray(values, dtype=float)
    n = len(ids)
    if y.shape != (n,):
        msg = "values must hold one value per segment; compute them with segment_risk()."
        raise ValueError(msg)
    adj = segment_adjacency(segments) if adjacency is None else sp.csr_matrix(adjacency)
    degree = np.diff(adj.indptr)
    island = degree == 0
    out = pd.DataFrame(
        {
            "g": np.full(n, np.nan),
            "z": np.full(n, np.nan),
            "p_sim": np.ones(n),
            "p_adj": np.ones(n),
            "significant_hot": np.zeros(n, dtype=bool),
        },
        index=pd.Index(ids, name="segment_id"),
    )
    tested = ~island if tested is None else (np.asarray(tested, dtype=bool) & ~island)
    if n < 3 or tested.sum() < 2 or not np.all(np.isfinite(y)) or np.ptp(y) == 0 or y.sum() <= 0:
        return out  # nothing to test: no variation, or too few segments

    w = WSP((adj + sp.identity(n, format="csr")).tocsr()).to_W(silence_warnings=True)
    state = np.random.get_state()  # esda seeds numpy's global generator
    try:
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")
            g = esda.G_Local(
                y,
                w,
                transform="B",
                star=True,
                permutations=permutations,
                seed=seed,
                n_jobs=n_jobs,
                keep_simulations=False,
            )
    finally:
        np.random.set_state(state)
    z = np.asarray(g.Zs, dtype=float)
    if permutations:
        p_sim = np.asarray(g.p_sim, dtype=float)
    else:  # one-sided upper-tail normal p of the analytical z
        p_sim = np.where(z > 0, np.asarray(g.p_norm, dtype=float), 1.0)
    z[island] = np.nan
    p_sim = np.where(island, 1.0, p_sim)
    p_hot = np.where(np.nan_to_num(z, nan=0.0) > 0, p_sim, 1.0)
    p_adj = np.ones(n)
    if tested.any():
        p_adj[tested] = false_discovery_control(p_hot[tested], method="bh")
    out["g"] = np.where(island, np.nan, np.asarray(g.Gs, dtype=float))
    out["z"] = z
    out["p_sim"] = p_sim
    out["p_adj"] = p_adj
    out["significant_hot"] = tested & (np.nan_to_num(z, nan=0.0) > 0) & (p_adj <= fdr)
    return out


# --------------------------------------------------------------------------------------
# Time profiles
# --------------------------------------------------------------------------------------


def _profile_codes(reports: pd.DataFrame) -> np.ndarray:
    """weekday * 24 + hour per report, -1 where the time is not known."""
    when = pd.to_datetime(reports["occurred_at"])
    code = (when.dt.day_of_week * 24 + when.dt.hour).to_numpy(dtype=float)
    timed = np.isfinite(code)
    if "time_known" in reports.columns:
        timed &= reports["time_known"].fillna(False).to_numpy(dtype=bool)
    return np.where(timed, np.nan_to_num(code), -1).astype(np.int64)


def time_profile(reports: pd.DataFrame) -> np.ndarray:
    """Return the 7 x 24 weekday (Mon=0) x hour counts of the reports with a known time.

    Parameters
    ----------
    reports
        Report table with ``occurred_at`` and ``time_known``.

    Returns
    -------
    numpy.ndarray
        int64 array of shape (7, 24).
    """
    code = _profile_codes(reports)
    return np.bincount(code[code >= 0], minlength=168).reshape(7, 24).astype(np.int64)


def active_hours(profile: np.ndarray | list, *, share: float = 0.8) -> list[int]:
    """Return the fewest hours of the day holding at least ``share`` of the timed reports.

    Hours are taken busiest first (ties: earlier hour first) until their total reaches
    ``share`` of the profile's total.

    Parameters
    ----------
    profile
        A 7 x 24 weekday x hour profile (or a 24-long hour vector).
    share
        The share of timed reports to cover, in (0, 1].

    Returns
    -------
    list[int]
        Sorted hours 0..23; empty when the profile holds no reports.
    """
    if not 0 < share <= 1:
        msg = "share must be in (0, 1], e.g. 0.8 for 80% of timed reports."
        raise ValueError(msg)
    arr = np.asarray(profile, dtype=float)
    hours = arr.reshape(-1, 24).sum(axis=0) if arr.size % 24 == 0 else None
    if hours is None:
        msg = "profile must be 7 x 24 (weekday x hour) or 24 hour counts."
        raise ValueError(msg)
    total = hours.sum()
    if total <= 0:
        return []
    order = np.lexsort((np.arange(24), -hours))
    cum = np.cumsum(hours[order])
    k = int(np.searchsorted(cum, share * total - 1e-9 * total)) + 1
    return sorted(int(h) for h in order[:k])


# --------------------------------------------------------------------------------------
# Hotspot assembly
# --------------------------------------------------------------------------------------


def _empty_hotspots() -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in HOTSPOT_COLUMNS[:-1]})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=4326), crs=4326)


def _skill(counts: dict[str, int], settings: Settings, safeguarding_share: float) -> str:
    if not counts:
        return "police"
    total = sum(counts.values())
    safeguarding = sum(
        c
        for cat, c in counts.items()
        if (k := settings.categories.get(cat)) and k.kind == "safeguarding"
    )
    if total and safeguarding / total >= safeguarding_share:
        return "outreach"
    weighted = sorted(counts, key=lambda c: (-counts[c] * settings.harm_weight(c), c))
    return settings.skill(weighted[0])


def _group_summaries(
    reports: pd.DataFrame, group: np.ndarray, n_groups: int, settings: Settings, share: float
) -> dict[str, list[Any]]:
    """Counts, profile, active hours and skill per group (group -1 = none), vectorised."""
    ok = group >= 0
    g = group[ok]
    cats = reports["category"].astype(object).to_numpy()[ok]
    counts: list[dict[str, int]] = [{} for _ in range(n_groups)]
    if ok.any():
        table = pd.crosstab(g, cats)
        for gi, row in zip(table.index, table.to_numpy(), strict=True):
            counts[int(gi)] = {
                str(c): int(k) for c, k in zip(table.columns, row, strict=True) if k > 0
            }
    code = _profile_codes(reports)[ok]
    timed = code >= 0
    prof = np.bincount(g[timed] * 168 + code[timed], minlength=n_groups * 168)
    prof = prof.reshape(n_groups, 7, 24).astype(np.int64)
    n_rep = np.bincount(g, minlength=n_groups)
    sg_share = float(settings.hotspots.get("safeguarding_share", _DEFAULT_SAFEGUARDING_SHARE))
    return {
        "n_reports": [int(k) for k in n_rep],
        "counts": counts,
        "profile": [p.tolist() for p in prof],
        "active_hours": [active_hours(p, share=share) for p in prof],
        "skill": [_skill(c, settings, sg_share) for c in counts],
    }


class _Labeller:
    """Human labels for runs of segments from street names."""

    def __init__(self, segments: pd.DataFrame) -> None:
        names = (
            segments["name"] if "name" in segments.columns else pd.Series("", index=segments.index)
        )
        self.names = names.fillna("").astype(str).str.strip().to_numpy(dtype=object)
        self.length = segments["length_m"].to_numpy(dtype=float)
        self.u, self.v, _ = _nodes(segments)
        self.node_seg = _incidence(segments).T.tocsr()  # node -> incident segments
        highway = (
            segments["highway"]
            if "highway" in segments.columns
            else pd.Series("", index=segments.index)
        )
        self.highway = highway.fillna("").astype(str).to_numpy(dtype=object)
        self.geoms = segments.geometry.to_numpy() if "geometry" in segments.columns else None
        named = np.flatnonzero(self.names != "")
        self.named_idx = named
        self.named_tree = (
            shapely.STRtree(self.geoms[named]) if self.geoms is not None and len(named) else None
        )

    def _nearest_name(self, segs: np.ndarray) -> str | None:
        """The named street nearest the middle of an unnamed run (within about 250 m)."""
        if self.named_tree is None:
            return None
        centre = shapely.centroid(shapely.union_all(self.geoms[segs]))
        hit = self.named_tree.query_nearest(centre, max_distance=0.004)  # ~250 m in degrees
        if len(hit) == 0:
            return None
        return str(self.names[self.named_idx[int(hit[0])]]).split(" / ")[0]

    def _noun(self, segs: np.ndarray) -> str:
        kinds = set(self.highway[segs])
        if kinds and kinds <= {"footway", "path", "pedestrian", "steps", "cycleway", "track"}:
            return "footpath"
        if kinds and kinds <= {"service"}:
            return "service road"
        return "unnamed street"

    def _names_at(self, node: int, exclude: str) -> list[str]:
        """Street names at a junction other than ``exclude`` (merged "A / B" names split)."""
        segs = self.node_seg.indices[self.node_seg.indptr[node] : self.node_seg.indptr[node + 1]]
        own = {p.strip() for p in exclude.split(" / ")}
        parts = {p.strip() for nm in self.names[segs] if nm for p in str(nm).split(" / ")}
        return sorted(p for p in parts if p and p not in own)

    def _ends(self, segs: np.ndarray) -> tuple[int, int] | None:
        """The two nodes of a run of segments farthest apart along it (None for a loop)."""
        nodes, inv = np.unique(np.r_[self.u[segs], self.v[segs]], return_inverse=True)
        k = len(segs)
        graph = sp.csr_matrix(
            (np.maximum(self.length[segs], _MIN_EDGE_M), (inv[:k], inv[k:])),
            shape=(len(nodes), len(nodes)),
        )
        deg = np.bincount(inv, minlength=len(nodes))
        cand = np.flatnonzero(deg == 1)
        if len(cand) < 2:
            return None
        dist = dijkstra(graph, directed=False, indices=cand)[:, cand]
        dist[~np.isfinite(dist)] = -1
        a, b = np.unravel_index(int(np.argmax(dist)), dist.shape)
        return int(nodes[cand[a]]), int(nodes[cand[b]])

    def label(self, segs: np.ndarray) -> str:
        segs = np.asarray(segs, dtype=np.int64)
        names = self.names[segs]
        named = names != ""
        if not named.any():
            around = sorted(
                {
                    nm
                    for node in np.r_[self.u[segs], self.v[segs]]
                    for nm in self._names_at(int(node), "")
                }
            )
            noun = self._noun(segs)
            near = around[0] if around else self._nearest_name(segs)
            return f"{noun} near {near}" if near else noun
        by_len = pd.Series(self.length[segs][named]).groupby(names[named].astype(str)).sum()
        dominant = sorted(by_len.index, key=lambda nm: (-round(by_len[nm], 6), nm))[0]
        ends = self._ends(segs[names == dominant])
        if ends is None:
            return dominant
        crossing = [c[0] for c in (self._names_at(e, dominant) for e in ends) if c]
        crossing = sorted(set(crossing))
        if len(crossing) == 2:
            return f"{dominant} ({crossing[0]} to {crossing[1]})"
        if len(crossing) == 1:
            return f"{dominant} (near {crossing[0]})"
        return dominant


def segment_table(
    segments: gpd.GeoDataFrame,
    risk: pd.Series,
    gi: pd.DataFrame | None = None,
    *,
    smoothed: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Return the segments with ``risk``, ``smoothed_risk``, ``z``, ``p_adj`` and ``significant_hot``.

    Parameters
    ----------
    segments
        Street segments (EPSG:4326).
    risk
        :func:`segment_risk` output.
    gi
        :func:`gi_star` output (columns filled with NaN/False when omitted).
    smoothed
        :func:`smooth_risk` output (``risk`` copied when omitted).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``segments`` with the extra columns, for drawing.
    """
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    out = segments.copy()
    out["risk"] = risk.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    sm = smoothed if smoothed is not None else risk
    out["smoothed_risk"] = sm.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    if gi is not None:
        g = gi.reindex(ids)
        out["z"] = g["z"].to_numpy(dtype=float)
        out["p_adj"] = g["p_adj"].fillna(1.0).to_numpy(dtype=float)
        out["significant_hot"] = g["significant_hot"].fillna(False).to_numpy(dtype=bool)
    else:
        out["z"] = np.nan
        out["p_adj"] = np.nan
        out["significant_hot"] = False
    return out


def find_hotspots(
    segments: gpd.GeoDataFrame,
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
    inference: str = "permutation",
    return_segments: bool = False,
) -> gpd.GeoDataFrame | tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Find named street hotspots: connected runs of significant hot segments.

    Steps: filter the reports; per-segment prospective risk (:func:`segment_risk`);
    network smoothing (:func:`smooth_risk`); Gi* with FDR control (:func:`gi_star`) on
    the empirical-Bayes risk per metre (:func:`eb_rates`), testing only segments that
    have reports; connected components of the significant hot segments on the segment
    adjacency. Each hotspot's ``risk`` is the sum of the smoothed risk of its segments.

    Gi* is not run on the raw or smoothed risk: raw sums grow with segment length, so
    runs of long segments look "hot" under pure noise (on central Helsinki, uniform noise
    made ~190 segments significant), and smoothed values carry the spatial lag twice.

    Known limits of first-order adjacency with permutation inference: a cluster along a
    single straight street is hard to detect (each segment has 2 hot neighbours of ~6),
    and when a large share of reports sits in clusters the conditional permutation pool
    is itself full of hot values, so no p reaches the ``1/(P+1)`` floor that
    Benjamini-Hochberg needs on thousands of segments. ``inference="normal"`` avoids
    both at the cost of some false positives on sparse data.

    Parameters
    ----------
    segments
        Street segments (CONTRACTS street-network columns, EPSG:4326).
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
        ``"permutation"`` or ``"normal"``, see :func:`gi_star`.
    return_segments
        Also return :func:`segment_table` of all segments.

    Returns
    -------
    geopandas.GeoDataFrame
        The CONTRACTS hotspot table, ranked by risk (``H01`` first); with
        ``return_segments`` a tuple ``(hotspots, segment_table)``.

    Raises
    ------
    ValueError
        When no reports remain after the filters, or none is on the street network.
    """
    _check_segments(segments)
    settings = _resolve_settings(settings)
    share = float(_opt(active_share, settings, "active_share", 0.8))
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
    if at is None:
        at = _default_at(pd.to_datetime(chosen["occurred_at"]))
    rep_pos, weight = _report_weights(
        segments, chosen, at=at, half_life_days=half_life_days, settings=settings
    )
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    risk_arr = np.bincount(rep_pos, weights=weight, minlength=len(segments))
    risk = pd.Series(risk_arr, index=pd.Index(ids, name="segment_id"), name="risk")
    smoothed = smooth_risk(segments, risk, bandwidth_m=bandwidth_m, settings=settings)
    adj = segment_adjacency(segments)
    band = float(settings.hotspots.get("gi_band_m", 0) or 0)
    gi_w = segment_band_adjacency(segments, band_m=band) + adj if band > 0 else adj
    dispersion = float((weight**2).sum() / weight.sum()) if weight.sum() > 0 else 1.0
    rates = eb_rates(risk_arr, segments["length_m"].to_numpy(dtype=float), dispersion=dispersion)
    gi = gi_star(
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
    table = segment_table(segments, risk, gi, smoothed=smoothed) if return_segments else None

    hot = gi["significant_hot"].to_numpy(dtype=bool)
    hot_idx = np.flatnonzero(hot)
    if len(hot_idx) == 0:
        empty = _empty_hotspots()
        return (empty, table) if return_segments else empty
    sub = adj[hot_idx][:, hot_idx]
    n_comp, comp = connected_components(sub, directed=False)
    # A "hotspot" of one or two reports on a very short street is noise to a patrol planner.
    min_reports = int(settings.hotspots.get("min_reports", 5))
    seg_reports = np.bincount(rep_pos[rep_pos >= 0], minlength=len(segments))
    comp_reports = np.bincount(comp, weights=seg_reports[hot_idx], minlength=n_comp)
    big = comp_reports[comp] >= min_reports
    if not big.all():
        hot_idx = hot_idx[big]
        if len(hot_idx) == 0:
            empty = _empty_hotspots()
            return (empty, table) if return_segments else empty
        sub = adj[hot_idx][:, hot_idx]
        n_comp, comp = connected_components(sub, directed=False)
    seg_group = np.full(len(segments), -1, dtype=np.int64)
    seg_group[hot_idx] = comp

    sm = smoothed.to_numpy(dtype=float)
    z = gi["z"].to_numpy(dtype=float)
    p_adj = gi["p_adj"].to_numpy(dtype=float)
    comp_risk = np.bincount(comp, weights=sm[hot_idx], minlength=n_comp)
    first_seg = np.full(n_comp, np.iinfo(np.int64).max)
    np.minimum.at(first_seg, comp, hot_idx)
    rank = np.lexsort((first_seg, -comp_risk))  # rank position -> component
    new_of_comp = np.empty(n_comp, dtype=np.int64)
    new_of_comp[rank] = np.arange(n_comp)
    group = new_of_comp[comp]  # per hot segment, 0 = top-ranked hotspot
    seg_group[hot_idx] = group

    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(n_comp + 1))
    members = [hot_idx[order[bounds[k] : bounds[k + 1]]] for k in range(n_comp)]
    z_max = np.full(n_comp, -np.inf)
    np.maximum.at(z_max, group, np.nan_to_num(z[hot_idx], nan=-np.inf))
    p_min = np.full(n_comp, np.inf)
    np.minimum.at(p_min, group, p_adj[hot_idx])

    geoms = shapely.multilinestrings(
        segments.geometry.to_numpy()[hot_idx[order]], indices=group[order]
    )
    rep_group = np.where(pos >= 0, seg_group[np.clip(pos, 0, None)], -1)
    summary = _group_summaries(chosen, rep_group, n_comp, settings, share)
    labeller = _Labeller(segments)
    frame = pd.DataFrame(
        {
            "hotspot_id": [f"H{k + 1:02d}" for k in range(n_comp)],
            "label": [labeller.label(m) for m in members],
            "risk": comp_risk[rank],
            "n_reports": summary["n_reports"],
            "counts": summary["counts"],
            "skill": summary["skill"],
            "active_hours": summary["active_hours"],
            "profile": summary["profile"],
            "z": np.where(np.isfinite(z_max), z_max, np.nan),
            "p_adj": p_min,
            "segment_ids": [sorted(int(i) for i in ids[m]) for m in members],
        }
    )
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=segments.crs or 4326))
    if out.crs is not None and not out.crs.equals(CRS.from_epsg(4326)):
        out = out.to_crs(4326)
    return (out, table) if return_segments else out


# --------------------------------------------------------------------------------------
# Point mode
# --------------------------------------------------------------------------------------


def _hint_label(hints: pd.Series, lon: float, lat: float) -> str:
    vals = hints.dropna().astype(str).str.strip()
    vals = vals[vals != ""]
    if vals.empty:
        return f"area near {lat:.4f}, {lon:.4f}"
    counts = vals.value_counts()
    top = sorted(counts.index, key=lambda h: (-counts[h], h))[:2]
    return top[0] if len(top) == 1 else f"{top[0]} and {top[1]}"


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
    buffer_m: float = 25.0,
    metric_crs: CRS | str | int | None = None,
) -> gpd.GeoDataFrame:
    """Find hotspots without a street network: DBSCAN clusters of reports in metres.

    Reports are projected to ``metric_crs`` and clustered with scikit-learn DBSCAN
    (``eps_m``, ``min_samples``). Each cluster becomes the convex hull of its reports
    buffered by ``buffer_m``, labelled with its one or two most common
    ``location_hint`` values, scored by its decayed harm-weighted report count (same
    weights and decay as :func:`segment_risk`) and ranked by that score.

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
    buffer_m
        Buffer around each hull in metres (so a cluster on one map point is an area).
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
    from sklearn.cluster import DBSCAN

    settings = _resolve_settings(settings)
    eps = float(_opt(eps_m, settings, "point_eps_m", 150))
    min_pts = int(_opt(min_samples, settings, "point_min_samples", 8))
    half_life = float(_opt(half_life_days, settings, "half_life_days", 28))
    share = float(_opt(active_share, settings, "active_share", 0.8))
    chosen = _filter_reports(reports, categories=categories, sources=sources, start=start, end=end)
    lon = pd.to_numeric(chosen["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(chosen["lat"], errors="coerce").to_numpy(dtype=float)
    located = np.isfinite(lon) & np.isfinite(lat)
    chosen, lon, lat = chosen.loc[located], lon[located], lat[located]
    if chosen.empty:
        msg = "No reports with coordinates in the chosen period, categories and sources; widen the filters."
        raise ValueError(msg)
    crs = CRS.from_user_input(metric_crs) if metric_crs is not None else metric_crs_for(lon, lat)
    x, y = _project(lon, lat, crs)
    labels = DBSCAN(eps=eps, min_samples=min_pts).fit_predict(np.c_[x, y])
    n_clusters = int(labels.max()) + 1
    if n_clusters == 0:
        return _empty_hotspots()
    when = pd.to_datetime(chosen["occurred_at"])
    at_ts = _default_at(when) if at is None else _as_timestamp(at)
    weight = _harm_weights(chosen["category"], settings) * _decay(when, at_ts, half_life)
    inside = labels >= 0
    score = np.bincount(labels[inside], weights=weight[inside], minlength=n_clusters)
    size = np.bincount(labels[inside], minlength=n_clusters)
    rank = np.lexsort((-size, -score))
    new = np.empty(n_clusters, dtype=np.int64)
    new[rank] = np.arange(n_clusters)
    group = np.where(inside, new[np.clip(labels, 0, None)], -1)

    pts = shapely.points(x[inside], y[inside])
    by_group = np.argsort(group[inside], kind="stable")  # shapely needs sorted indices
    hulls = shapely.convex_hull(shapely.multipoints(pts[by_group], indices=group[inside][by_group]))
    hulls = shapely.buffer(hulls, buffer_m)
    geoms = gpd.GeoSeries(hulls, crs=crs).to_crs(4326)
    cx = np.bincount(group[inside], weights=lon[inside], minlength=n_clusters) / size[rank]
    cy = np.bincount(group[inside], weights=lat[inside], minlength=n_clusters) / size[rank]
    hints = (
        chosen["location_hint"]
        if "location_hint" in chosen.columns
        else pd.Series(pd.NA, index=chosen.index, dtype=object)
    )
    hint_groups = hints.loc[inside].groupby(group[inside])
    labels_txt = [
        _hint_label(
            hint_groups.get_group(k) if k in hint_groups.groups else pd.Series(dtype=object),
            cx[k],
            cy[k],
        )
        for k in range(n_clusters)
    ]
    summary = _group_summaries(chosen, group, n_clusters, settings, share)
    frame = pd.DataFrame(
        {
            "hotspot_id": [f"H{k + 1:02d}" for k in range(n_clusters)],
            "label": labels_txt,
            "risk": score[rank],
            "n_reports": summary["n_reports"],
            "counts": summary["counts"],
            "skill": summary["skill"],
            "active_hours": summary["active_hours"],
            "profile": summary["profile"],
            "z": np.full(n_clusters, np.nan),
            "p_adj": np.full(n_clusters, np.nan),
            "segment_ids": [[] for _ in range(n_clusters)],
        }
    )
    return gpd.GeoDataFrame(frame, geometry=geoms.reset_index(drop=True), crs=4326)


def hour_windows(hours: Iterable[int]) -> list[tuple[int, int]]:
    """Group active hours into windows ``(start, end)``, wrapping past midnight.

    ``[22, 23, 0, 1, 7]`` becomes ``[(7, 8), (22, 2)]``: 07:00-08:00 and 22:00-02:00.

    Parameters
    ----------
    hours
        Hours of the day, 0 to 23.

    Returns
    -------
    list of (start_hour, end_hour)
        ``end_hour`` is exclusive and taken modulo 24.
    """
    hs = sorted({int(h) % 24 for h in hours})
    if not hs:
        return []
    if len(hs) == 24:
        return [(0, 0)]
    runs: list[list[int]] = [[hs[0], hs[0] + 1]]
    for h in hs[1:]:  # at most 24 hours
        if h == runs[-1][1]:
            runs[-1][1] = h + 1
        else:
            runs.append([h, h + 1])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == 24:
        runs[0][0] = runs[-1][0]
        runs.pop()
    return sorted((a, b % 24) for a, b in runs)


def format_hour_windows(hours: Iterable[int]) -> str:
    """Render active hours as text, e.g. ``"07:00–08:00, 22:00–02:00"``.

    Parameters
    ----------
    hours
        Hours of the day.

    Returns
    -------
    str
        ``"no timed reports"`` when there are none.
    """
    windows = hour_windows(hours)
    if not windows:
        return "no timed reports"
    if windows == [(0, 0)]:
        return "all day"
    return ", ".join(f"{a:02d}:00–{b:02d}:00" for a, b in windows)
