"""The demo's report generator: seeded synthetic partner reports around the scenario's clusters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

from geo.demo_scenario import (
    ASB_RADIUS_M,
    CLUSTER_RADIUS_M,
    CLUSTER_STRENGTH,
    FINDS_RADIUS_M,
    demo_clusters,
)
from geo.streets import StreetNetwork

__all__ = ["REPORT_COLUMNS", "demo_period", "generate_demo_reports"]

#: Columns of the generated CSV: the generic partner format read by :mod:`geo.reports`.
REPORT_COLUMNS = ("reference", "date", "time", "category", "lat", "lon", "source", "location")

_PATH_HIGHWAYS = frozenset({"footway", "cycleway", "path", "steps", "trail", "corridor", "track"})

# Share of reports by component: night street sex work at the clusters, morning finds near
# them, ASB around them, background noise over the whole network, off-network points.
_COMPONENTS = {"night": 0.40, "finds": 0.18, "asb_near": 0.12, "background": 0.27, "off": 0.03}
# The components placed around each cluster: (component, reach in m, decay scale in m).
_NEAR_COMPONENTS = (
    ("night", CLUSTER_RADIUS_M, 120.0),
    ("finds", FINDS_RADIUS_M, 100.0),
    ("asb_near", ASB_RADIUS_M, 150.0),
)
_NIGHT_MIX = {
    "police": {"propositioning": 0.65, "welfare_concern": 0.20, "sex_in_public": 0.15},
    "outreach": {"propositioning": 0.42, "welfare_concern": 0.50, "sex_in_public": 0.08},
    "sharps": {"propositioning": 0.65, "welfare_concern": 0.20, "sex_in_public": 0.15},
}
_FINDS_FACTOR = {"police": 1.0, "outreach": 1.0, "sharps": 3.0}
_MIX = {
    "finds": {"needles": 0.55, "condoms": 0.45},
    "asb_near": {"asb": 0.65, "drugs": 0.25, "public_order": 0.10},
    "background": {
        "asb": 0.55,
        "drugs": 0.15,
        "public_order": 0.15,
        "needles": 0.10,
        "condoms": 0.05,
    },
    "off": {"needles": 0.35, "condoms": 0.20, "sex_in_public": 0.20, "asb": 0.25},
}
_SOURCES = {
    "propositioning": {"public": 0.55, "police": 0.35, "cctv": 0.10},
    "sex_in_public": {"public": 0.60, "police": 0.25, "cctv": 0.15},
    "welfare_concern": {"outreach": 0.75, "police": 0.25},
    "needles": {"council": 0.60, "public": 0.40},
    "condoms": {"council": 0.55, "public": 0.45},
    "asb": {"police": 0.50, "public": 0.35, "council": 0.10, "cctv": 0.05},
    "drugs": {"police": 0.70, "public": 0.20, "cctv": 0.10},
    "public_order": {"police": 0.80, "cctv": 0.20},
}
_REF_PREFIX = {
    "police": "POL",
    "outreach": "OUT",
    "council": "CNL",
    "public": "PUB",
    "cctv": "CCTV",
}
# When each category happens: "night" (20:00-03:00, the evening's weekday counts), "morning"
# (finds, 06:00-11:00) or "evening" (general ASB, peaks in the evening).
_TIME_KIND = {
    "propositioning": "night",
    "sex_in_public": "night",
    "welfare_concern": "night",
    "needles": "morning",
    "condoms": "morning",
    "asb": "evening",
    "drugs": "evening",
    "public_order": "evening",
}
_HOURS = {
    "night": {18: 0.1, 19: 0.3, 20: 0.7, 21: 1.0, 22: 1.4, 23: 1.6, 0: 1.5, 1: 1.1, 2: 0.7}
    | {3: 0.25, 4: 0.08},
    "morning": {5: 0.15, 6: 0.7, 7: 1.2, 8: 1.5, 9: 1.3, 10: 0.9, 11: 0.3, 12: 0.15},
    "evening": dict(
        enumerate(
            (
                *(0.5, 0.4, 0.3, 0.2, 0.1, 0.1, 0.15, 0.25, 0.35, 0.45, 0.55, 0.6),
                *(0.65, 0.65, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4, 1.5, 1.5, 1.3, 0.9),
            )
        )
    ),
}
# Weekday (Mon=0) weights: of the evening for night reports, of the day otherwise.
_WEEKDAYS = {
    "night": (0.7, 0.75, 0.85, 1.0, 1.6, 1.7, 0.8),
    "morning": (0.9, 0.8, 0.85, 0.9, 1.05, 1.5, 1.5),
    "evening": (0.8, 0.8, 0.9, 1.0, 1.4, 1.5, 1.0),
}


def demo_period(*, months: int = 12, end: Any = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the first and last day of the demo period.

    Parameters
    ----------
    months
        Length of the period in whole months.
    end
        Last day (date-like); default the last day of the previous month, so the demo is
        always recent.

    Returns
    -------
    tuple of pandas.Timestamp
        ``(first_day, last_day)``, both at midnight.
    """
    if int(months) < 1:
        msg = "months must be at least 1."
        raise ValueError(msg)
    if end is None:
        last = Date.today().replace(day=1) - timedelta(days=1)
    else:
        try:
            last = pd.Timestamp(end).date()
        except (TypeError, ValueError):
            msg = f"end={end!r} is not a date; give it as YYYY-MM-DD."
            raise ValueError(msg) from None
    last_ts = pd.Timestamp(last)
    first_ts = last_ts + pd.Timedelta(days=1) - pd.DateOffset(months=int(months))
    return pd.Timestamp(first_ts).normalize(), last_ts.normalize()


def _last_quarter_start(last: pd.Timestamp, months: int) -> pd.Timestamp:
    quarter = max(1, round(months / 4))
    return pd.Timestamp(last + pd.Timedelta(days=1) - pd.DateOffset(months=quarter)).normalize()


def _day_profile(kind: str, days: pd.DatetimeIndex, lq_start: pd.Timestamp) -> np.ndarray:
    """Relative intensity per day of a cluster of this kind."""
    t = np.asarray((days - days[0]).days, dtype=float)
    t_lq = float((lq_start - days[0]).days)
    if kind == "emerging":
        ramp = 0.5 + (t - t_lq) / max(1.0, t[-1] - t_lq)
        return np.where(t >= t_lq, ramp, 0.0)
    if kind == "fading":
        stop = max(1.0, t_lq - 14.0)  # gone a fortnight before the last quarter
        return np.clip(1.5 * (1.0 - t / stop), 0.0, None)
    return np.ones(len(days))


def _sample_times(
    rng: np.random.Generator,
    n: int,
    time_kind: str,
    days: pd.DatetimeIndex,
    day_weight: np.ndarray,
) -> np.ndarray:
    """Draw ``n`` naive timestamps (datetime64[m]) on ``days`` for a time kind."""
    if n == 0:
        return np.array([], dtype="datetime64[m]")
    w = day_weight * np.asarray(_WEEKDAYS[time_kind])[days.day_of_week]
    day_idx = rng.choice(len(days), size=n, p=w / w.sum())
    hour_table = _HOURS[time_kind]
    hours = np.fromiter(hour_table.keys(), dtype=np.int64)
    hw = np.fromiter(hour_table.values(), dtype=float)
    hour = hours[rng.choice(len(hours), size=n, p=hw / hw.sum())]
    minute = rng.integers(0, 60, size=n)
    day0 = days.to_numpy().astype("datetime64[D]")[day_idx]
    if time_kind == "night":  # the small hours belong to the evening before
        day0 = day0 + (hour < 12).astype("timedelta64[D]")
    stamps = day0.astype("datetime64[m]") + (hour * 60 + minute).astype("timedelta64[m]")
    beyond = stamps >= (days[-1] + pd.Timedelta(days=1)).to_datetime64().astype("datetime64[m]")
    return np.where(beyond, stamps - np.timedelta64(7, "D"), stamps)


def _pick(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(table), dtype=object)
    p = np.fromiter(table.values(), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def _times_for(
    rng: np.random.Generator, cats: np.ndarray, days: pd.DatetimeIndex, day_weight: np.ndarray
) -> np.ndarray:
    """Timestamps for reports of the given categories, each by its category's time kind."""
    kinds = pd.Series(cats, dtype=object).map(_TIME_KIND).to_numpy()
    stamps = np.empty(len(cats), dtype="datetime64[m]")
    for tk in ("night", "morning", "evening"):
        sel = np.flatnonzero(kinds == tk)
        stamps[sel] = _sample_times(rng, len(sel), tk, days, day_weight)
    return stamps


def _off_network_candidates(network: StreetNetwork) -> np.ndarray:
    """Metric points 65-150 m from every street: parks, yards, blocks without paths."""
    sm = network.segments_metric()
    hull = shapely.convex_hull(shapely.multipoints(shapely.get_coordinates(sm.geometry.values)))
    x0, y0, x1, y1 = sm.total_bounds
    step = 10.0
    gx, gy = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
    gx, gy = gx.ravel(), gy.ravel()
    tree = shapely.STRtree(sm.geometry.values)
    pts = shapely.points(gx, gy)
    (hit, _), d = tree.query_nearest(pts, max_distance=150.0, return_distance=True)
    dist = np.full(len(gx), np.inf)
    dist[hit] = d
    far = (dist > 65.0) & np.isfinite(dist)
    inside = far & shapely.contains_xy(shapely.buffer(hull, -20.0), gx, gy)
    keep = inside if inside.sum() >= 20 else far
    if not keep.any():  # a network with no gaps: go just outside it
        ring = shapely.get_coordinates(shapely.segmentize(shapely.buffer(hull, 90.0).exterior, 10))
        return ring
    return np.c_[gx[keep], gy[keep]]


@dataclass
class _Emitter:
    """Draws reports on street segments and collects their segments, categories and times."""

    rng: np.random.Generator
    days: pd.DatetimeIndex
    n_seg: int
    seg_parts: list[np.ndarray] = field(default_factory=list)
    cat_parts: list[np.ndarray] = field(default_factory=list)
    time_parts: list[np.ndarray] = field(default_factory=list)

    def emit(
        self, n: int, mix: dict[str, float], seg_weight: np.ndarray, day_weight: np.ndarray
    ) -> None:
        """Draw ``n`` reports: categories from ``mix``, segments and days by the weights."""
        if n == 0:
            return
        cats = _pick(self.rng, mix, n)
        segs = self.rng.choice(self.n_seg, size=n, p=seg_weight / seg_weight.sum())
        stamps = _times_for(self.rng, cats, self.days, day_weight)
        self.seg_parts.append(segs)
        self.cat_parts.append(cats)
        self.time_parts.append(stamps)


def generate_demo_reports(
    network: StreetNetwork,
    *,
    seed: int = 7,
    months: int = 12,
    n_reports: int = 10_000,
    end: Any = None,
) -> pd.DataFrame:
    """Generate synthetic partner reports with the structure of real street sex-work data.

    The story: six clusters from :func:`demo_clusters` (four persistent, one that emerges
    only in the last quarter of the period and one that fades out before it) of
    propositioning, sex in public and welfare concerns at night (20:00-03:00, more on Friday
    and Saturday nights); needle and condom finds in the morning (06:00-11:00) on and near
    the same streets, reported by the council and the public; ASB, drugs and public order
    around the clusters and, as background noise, over the whole network in proportion to
    street length (evening peaks); ~3% of reports off the network (65-150 m from any
    street). Points lie along the segments with a few metres of jitter (a few with up to
    35 m). Vectorised; the same arguments give the same frame.

    Parameters
    ----------
    network
        The street network to place reports on (the demo uses :func:`geo.demo.demo_network`).
    seed
        Random seed.
    months
        Length of the period in months.
    n_reports
        Number of rows.
    end
        Last day of the period (default: the last day of the previous month).

    Returns
    -------
    pandas.DataFrame
        The generic CSV columns :data:`REPORT_COLUMNS`: ``reference``, ``date``
        (``YYYY-MM-DD``), ``time`` (``HH:MM``), ``category`` (taxonomy slug), ``lat``,
        ``lon`` (WGS84, 6 decimals), ``source`` and ``location`` (street name, "" when
        unnamed or off the network); sorted by date and time.
    """
    n_reports = int(n_reports)
    if n_reports < 1:
        msg = "n_reports must be at least 1."
        raise ValueError(msg)
    first, last = demo_period(months=months, end=end)
    days = pd.date_range(first, last, freq="D")
    lq_start = _last_quarter_start(last, int(months))
    clusters = demo_clusters(network, seed=seed)
    rng = np.random.default_rng([int(seed), 2])
    seg = network.segments
    length = seg["length_m"].to_numpy(dtype=float)
    highway = seg["highway"].astype(str).to_numpy()
    season, month_idx = _seasonality(days)
    seg_dist = _cluster_distances(network, clusters, length)
    counts = rng.multinomial(n_reports, np.fromiter(_COMPONENTS.values(), dtype=float))
    n_by = dict(zip(_COMPONENTS, counts, strict=True))
    profiles = _cluster_profiles(rng, clusters, days, lq_start, season, month_idx)

    emitter = _Emitter(rng, days, len(seg))
    _emit_near_clusters(emitter, clusters, seg_dist, length, profiles, n_by)
    background = length * np.where(np.isin(highway, list(_PATH_HIGHWAYS)), 0.4, 1.0)
    emitter.emit(int(n_by["background"]), _MIX["background"], background, season)

    segs_on = (
        np.concatenate(emitter.seg_parts) if emitter.seg_parts else np.array([], dtype=np.int64)
    )
    xy = _place_on_streets(rng, network, segs_on)
    location = seg["name"].astype(str).to_numpy()[segs_on]
    off_xy, off_cats, off_times = _off_network_reports(rng, network, int(n_by["off"]), days, season)

    xy = np.r_[xy, off_xy]
    cats = np.concatenate([*emitter.cat_parts, off_cats])
    stamps = np.concatenate([*emitter.time_parts, off_times])
    location = np.r_[location, np.full(len(off_cats), "", dtype=object)]
    sources = _pick_sources(rng, cats)
    return _report_frame(network, xy, cats, stamps, location, sources, seed)


def _seasonality(days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal swing per day (busier in summer) and each day's month index."""
    season = 1.0 + 0.15 * np.sin(2 * np.pi * (days.day_of_year.to_numpy() - 100) / 365.25)
    month_code = (days.year * 12 + days.month).to_numpy()
    _, month_idx = np.unique(month_code, return_inverse=True)
    return season, month_idx


def _cluster_distances(
    network: StreetNetwork, clusters: pd.DataFrame, length: np.ndarray
) -> np.ndarray:
    """Network distance (m) from each cluster's junction to each segment's midpoint."""
    seg = network.segments
    u, v = seg["u"].to_numpy(), seg["v"].to_numpy()
    node_ids = clusters["node"].to_numpy(dtype=np.int64)
    dist = dijkstra(network.node_matrix(), directed=False, indices=node_ids, limit=ASB_RADIUS_M)
    return np.minimum(dist[:, u], dist[:, v]) + 0.5 * length[None, :]  # to the midpoint


def _cluster_profiles(
    rng: np.random.Generator,
    clusters: pd.DataFrame,
    days: pd.DatetimeIndex,
    lq_start: pd.Timestamp,
    season: np.ndarray,
    month_idx: np.ndarray,
) -> list[np.ndarray]:
    """Daily intensity of each cluster: strength, kind, season and month-to-month noise."""
    n_months = int(month_idx.max()) + 1
    strengths = list(CLUSTER_STRENGTH["persistent"])
    profiles = []
    for k, kind in enumerate(clusters["kind"]):
        base = strengths[k] if kind == "persistent" else float(CLUSTER_STRENGTH[kind])
        noise = rng.lognormal(0.0, 0.15, size=n_months)[month_idx]
        profiles.append(base * _day_profile(kind, days, lq_start) * season * noise)
    return profiles


def _emit_near_clusters(
    emitter: _Emitter,
    clusters: pd.DataFrame,
    seg_dist: np.ndarray,
    length: np.ndarray,
    profiles: list[np.ndarray],
    n_by: dict[str, int],
) -> None:
    """Emit the night, finds and nearby-ASB reports of every cluster."""
    cluster_share = np.array([p.sum() for p in profiles])
    cluster_share = cluster_share / cluster_share.sum()
    for comp, radius, scale in _NEAR_COMPONENTS:
        share = cluster_share.copy()
        if comp == "finds":
            share *= [_FINDS_FACTOR[c] for c in clusters["skill"]]
        per_cluster = emitter.rng.multinomial(n_by[comp], share / share.sum())
        for k, members in enumerate(clusters["segment_ids"]):
            in_cluster = np.zeros(emitter.n_seg, dtype=bool)
            in_cluster[members] = True
            weight = _near_weight(comp, in_cluster, seg_dist[k], length, radius, scale)
            mix = _NIGHT_MIX[clusters["skill"].iloc[k]] if comp == "night" else _MIX[comp]
            emitter.emit(int(per_cluster[k]), mix, weight, profiles[k])


def _near_weight(
    comp: str,
    in_cluster: np.ndarray,
    d: np.ndarray,
    length: np.ndarray,
    radius: float,
    scale: float,
) -> np.ndarray:
    """Segment weights of one component around one cluster (decaying with distance)."""
    if comp == "night":
        weight = np.where(in_cluster, length * np.exp(-d / scale), 0.0)
    else:
        near = np.isfinite(d) & (d <= radius)
        weight = np.where(near, length * np.exp(-d / scale), 0.0)
        if comp == "finds":  # mostly on the cluster's own streets
            weight = np.where(in_cluster, 3.0 * weight, weight)
    if weight.sum() <= 0:
        weight = in_cluster.astype(float) * length
    return weight


def _place_on_streets(
    rng: np.random.Generator, network: StreetNetwork, segs_on: np.ndarray
) -> np.ndarray:
    """Metric points along the drawn segments, jittered a few metres (a few up to 35 m)."""
    sm = network.segments_metric()
    n_on = len(segs_on)
    frac = rng.random(n_on)
    pts = shapely.line_interpolate_point(sm.geometry.to_numpy()[segs_on], frac, normalized=True)
    xy = shapely.get_coordinates(pts)
    wide = rng.random(n_on) < 0.03  # geocoded to a doorway or a building, not the street
    radius = np.where(wide, rng.uniform(10.0, 35.0, n_on), np.abs(rng.normal(0.0, 3.0, n_on)))
    angle = rng.uniform(0.0, 2 * np.pi, n_on)
    return xy + np.c_[radius * np.cos(angle), radius * np.sin(angle)]


def _off_network_reports(
    rng: np.random.Generator,
    network: StreetNetwork,
    n_off: int,
    days: pd.DatetimeIndex,
    season: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Metric points, categories and times of the reports away from every street."""
    cand = _off_network_candidates(network)
    off_xy = cand[rng.choice(len(cand), size=n_off)] + rng.uniform(-4.0, 4.0, (n_off, 2))
    off_cats = _pick(rng, _MIX["off"], n_off)
    off_times = _times_for(rng, off_cats, days, season)
    return off_xy, off_cats, off_times


def _pick_sources(rng: np.random.Generator, cats: np.ndarray) -> np.ndarray:
    """The reporting source of each report, drawn from its category's table."""
    sources = np.empty(len(cats), dtype=object)
    for cat, table in _SOURCES.items():
        sel = np.flatnonzero(cats == cat)
        sources[sel] = _pick(rng, table, len(sel))
    return sources


def _report_frame(
    network: StreetNetwork,
    xy: np.ndarray,
    cats: np.ndarray,
    stamps: np.ndarray,
    location: np.ndarray,
    sources: np.ndarray,
    seed: int,
) -> pd.DataFrame:
    """The CSV frame: WGS84 points, sorted by time, with per-source references."""
    to_wgs = Transformer.from_crs(network.metric_crs, 4326, always_xy=True)
    lon, lat = to_wgs.transform(xy[:, 0], xy[:, 1])
    ts = pd.to_datetime(stamps)
    frame = pd.DataFrame(
        {
            "ts": ts,
            "category": cats.astype(str),
            "lat": np.round(np.asarray(lat, dtype=float), 6),
            "lon": np.round(np.asarray(lon, dtype=float), 6),
            "source": sources.astype(str),
            "location": location.astype(str),
        }
    )
    frame = frame.sort_values(["ts", "lat", "lon"], kind="stable").reset_index(drop=True)
    serial = frame.groupby("source", sort=False).cumcount() + 1
    prefix = frame["source"].map(_REF_PREFIX).fillna("REF")
    frame["reference"] = prefix + f"-S{int(seed)}-" + serial.astype(str).str.zfill(6)
    frame["date"] = frame["ts"].dt.strftime("%Y-%m-%d")
    frame["time"] = frame["ts"].dt.strftime("%H:%M")
    return frame[list(REPORT_COLUMNS)]
