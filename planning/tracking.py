"""Patrol tracking: GPX tracks reduced to hotspot visits (dosage), compared with the plan."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from datetime import date as Date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import geopandas as gpd
import gpxpy
import gpxpy.gpx
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from geo.store import Store, current_user, metadata
from geo.streets import metric_crs_for
from planning.routes import PatrolPlan

LOCAL_TZ = "Europe/London"
FIX_COLUMNS = ["track", "time", "lon", "lat"]
VISIT_COLUMNS = ["track", "hotspot_id", "label", "start", "end", "minutes"]
MATCH_COLUMNS = [
    "team",
    "order",
    "hotspot_id",
    "label",
    "planned_arrive",
    "planned_minutes",
    "delivered_minutes",
    "status",
    "arrival_delta_min",
]
#: Share of the planned dwell that counts as a stop delivered in full.
DONE_SHARE = 0.8
#: Fastest believable speed between two fixes, by travel mode (km/h).
MAX_SPEED_KMH = {"walk": 30.0, "cycle": 60.0, "drive": 150.0}
#: Walking pace used by :func:`synthetic_track` (km/h).
WALK_KMH = 4.5

#: What :func:`effect_estimate` can and cannot show, in plain English.
EFFECT_CAVEAT = (
    "This compares reports per week before and after patrols began in patrolled hotspots "
    "with the same change in hotspots that were not patrolled (a difference in differences). "
    "It is not a randomised trial: hotspots were chosen for patrol because they were busy, so "
    "some fall is expected anyway (regression to the mean), and other things may have changed "
    "at the same time. A fall may also mean activity moved to nearby streets (displacement) or "
    "that fewer reports were made, not less harm. Small numbers swing by chance. Treat it as "
    "a prompt for discussion, not proof that patrols worked."
)

patrol_logs = sa.Table(
    "patrol_logs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team", sa.String(255), nullable=False),
    sa.Column("date", sa.String(10), nullable=False, index=True),
    sa.Column("started_at", sa.DateTime, nullable=True),
    sa.Column("hotspot_id", sa.String(32), nullable=False),
    sa.Column("minutes", sa.Float, nullable=False),
    sa.Column("source_file", sa.String(255), nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Column("recorded_by", sa.String(255), nullable=False),
)
LOG_COLUMNS = [c.name for c in patrol_logs.columns]


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _load_one(item: Any) -> tuple[str, bytes]:
    if isinstance(item, tuple) and len(item) == 2:
        name, data = item
        if isinstance(data, str):
            data = data.encode("utf-8")
        return str(name), bytes(data)
    if hasattr(item, "read") and hasattr(item, "name"):  # an uploaded file
        return str(item.name), item.read()
    path = Path(os.fspath(item))
    if not path.is_file():
        msg = f"GPX file {path} not found; check the path."
        raise FileNotFoundError(msg)
    return path.name, path.read_bytes()


def _parse_gpx(name: str, data: bytes) -> pd.DataFrame:
    text = data.decode("utf-8-sig", errors="replace")
    try:
        gpx = gpxpy.parse(text)
    except Exception:  # gpxpy raises several kinds for broken XML
        msg = (
            f"{name} is not a readable GPX file (the XML is broken or it is another kind of "
            "file); export the track again from the device as GPX."
        )
        raise ValueError(msg) from None
    points = [
        (p.time, p.longitude, p.latitude)
        for trk in gpx.tracks
        for seg in trk.segments
        for p in seg.points
    ]
    if not points:
        extra = " (it holds only a planned route or waypoints)" if gpx.routes else ""
        msg = f"{name} has no recorded track points{extra}; upload the track the device recorded."
        raise ValueError(msg)
    times, lons, lats = zip(*points, strict=True)
    has_time = np.array([t is not None for t in times])
    if not has_time.any():
        msg = (
            f"{name}: This GPX track has no timestamps, so time spent cannot be measured; "
            "export it again with times."
        )
        raise ValueError(msg)
    stamps = pd.to_datetime(
        [t.isoformat() if t is not None else None for t in times], utc=True, format="ISO8601"
    )
    local = stamps.tz_convert(LOCAL_TZ).tz_localize(None)
    frame = pd.DataFrame(
        {
            "track": name,
            "time": local,
            "lon": np.asarray(lons, dtype="float64"),
            "lat": np.asarray(lats, dtype="float64"),
        }
    )
    return frame[has_time].sort_values("time", kind="stable").reset_index(drop=True)


def read_tracks(files: Iterable[Any], *, plan: PatrolPlan | None = None) -> pd.DataFrame:
    """Read GPX tracks into one table of fixes.

    Times in the file are taken as UTC (``Z``) or with their stated offset and converted to
    naive Europe/London local time. Fixes without a time are dropped.

    Parameters
    ----------
    files
        ``(name, bytes)`` pairs, uploaded files (``.name``, ``.read()``) or paths.
    plan
        When given, each track's times are checked against the plan's shifts and
        ``frame.attrs["warnings"]`` lists tracks that look an hour out (wrong time zone).

    Returns
    -------
    pandas.DataFrame
        Columns ``track`` (the file name), ``time`` (datetime64, local), ``lon``, ``lat``;
        ``attrs["warnings"]`` is a list of plain-English warnings.

    Raises
    ------
    ValueError
        For broken XML, a file with no track points, or a track with no timestamps.
    """
    frames = []
    seen: dict[str, int] = {}
    for item in files:
        name, data = _load_one(item)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        frames.append(_parse_gpx(name, data))
    if not frames:
        msg = "No GPX file was given; upload at least one track."
        raise ValueError(msg)
    fixes = pd.concat(frames, ignore_index=True)
    fixes.attrs["warnings"] = time_zone_warnings(fixes, plan) if plan is not None else []
    return fixes


def _shift_windows(plan: PatrolPlan) -> tuple[np.ndarray, np.ndarray]:
    starts = np.array([r.team.shift_start for r in plan.routes], dtype="datetime64[ns]")
    ends = np.array([r.team.shift_end for r in plan.routes], dtype="datetime64[ns]")
    return starts, ends


def _share_in_shifts(times: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> float:
    if times.size == 0 or starts.size == 0:
        return 0.0
    inside = (times[:, None] >= starts[None, :]) & (times[:, None] <= ends[None, :])
    return float(inside.any(axis=1).mean())


def time_zone_warnings(fixes: pd.DataFrame, plan: PatrolPlan) -> list[str]:
    """Warn about tracks whose times fall outside every shift but fit when moved by an hour.

    Times are never changed: a warning asks the user to check the device's time zone.

    Parameters
    ----------
    fixes
        From :func:`read_tracks`.
    plan
        The plan whose team shifts the tracks should fall in.

    Returns
    -------
    list of str
    """
    starts, ends = _shift_windows(plan)
    out: list[str] = []
    hour = np.timedelta64(1, "h")
    for name, group in fixes.groupby("track", sort=False):  # one per file
        times = group["time"].to_numpy(dtype="datetime64[ns]")
        if _share_in_shifts(times, starts, ends) >= 0.5:
            continue
        for sign, word in ((-1, "earlier"), (1, "later")):
            if _share_in_shifts(times + sign * hour, starts, ends) >= 0.8:
                out.append(
                    f"Track {name}: its times fall outside every shift of the plan but fit "
                    f"exactly one hour {word}. The device may be set to the wrong time zone "
                    "(GMT versus BST); times have not been changed, so check the device and "
                    "export the track again."
                )
                break
    return out


# --------------------------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------------------------


def _haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _drop_spikes(fixes: pd.DataFrame, max_mps: float) -> pd.DataFrame:
    """Drop fixes reached and left at impossible speed (repeated for short bursts)."""
    for _ in range(5):
        n = len(fixes)
        if n < 2:
            return fixes
        track = fixes["track"].to_numpy()
        t = fixes["time"].to_numpy(dtype="datetime64[ns]").astype("int64") / 1e9
        lon, lat = fixes["lon"].to_numpy(), fixes["lat"].to_numpy()
        d = _haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
        dt = np.diff(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = np.where(dt > 0, d / np.where(dt > 0, dt, 1), np.where(d > 5, np.inf, 0.0))
        fast = (speed > max_mps) | (track[1:] != track[:-1])
        fast_in = np.r_[True, fast]
        fast_out = np.r_[fast, True]
        boundary_in = np.r_[True, track[1:] != track[:-1]]
        boundary_out = np.r_[track[1:] != track[:-1], True]
        # A spike is reached and left too fast; a track's first (last) fix is a spike when
        # the step out of (into) it is too fast but the next (previous) step is not.
        prev_fast_in = np.r_[True, fast_in[:-1]]
        next_fast_out = np.r_[fast_out[1:], True]
        first = boundary_in & ~boundary_out
        last = boundary_out & ~boundary_in
        bad = np.where(
            first,
            fast_out & ~next_fast_out,
            np.where(last, fast_in & ~prev_fast_in, fast_in & fast_out & ~boundary_in),
        )
        if not bad.any():
            return fixes
        fixes = fixes[~bad].reset_index(drop=True)
        if len(fixes) == n:
            return fixes
    return fixes


def clean_track(
    fixes: pd.DataFrame,
    *,
    mode: str = "walk",
    max_speed_kmh: float | None = None,
    max_gap_s: float = 120.0,
    step_s: float = 15.0,
) -> pd.DataFrame:
    """Drop impossible fixes, fill short gaps and split the track at long gaps.

    Parameters
    ----------
    fixes
        From :func:`read_tracks`.
    mode
        ``walk``, ``cycle`` or ``drive``: sets the default ``max_speed_kmh``
        (:data:`MAX_SPEED_KMH`).
    max_speed_kmh
        A fix reached and left faster than this is a GPS spike and is dropped.
    max_gap_s
        Gaps up to this long are filled by linear interpolation every ``step_s`` seconds;
        longer gaps start a new ``segment`` (time there is not counted).
    step_s
        Interpolation step in seconds.

    Returns
    -------
    pandas.DataFrame
        ``track, segment, time, lon, lat, interpolated``, sorted by track and time.
    """
    if max_speed_kmh is None:
        max_speed_kmh = MAX_SPEED_KMH.get(mode, MAX_SPEED_KMH["walk"])
    out_cols = ["track", "segment", "time", "lon", "lat", "interpolated"]
    if fixes.empty:
        return pd.DataFrame(columns=out_cols)
    f = fixes[FIX_COLUMNS].sort_values(["track", "time"], kind="stable")
    f = f.drop_duplicates(["track", "time"]).reset_index(drop=True)
    f = _drop_spikes(f, max_speed_kmh / 3.6)
    track = f["track"].to_numpy()
    t = f["time"].to_numpy(dtype="datetime64[ns]").astype("int64")
    lon, lat = f["lon"].to_numpy(), f["lat"].to_numpy()
    new_track = np.r_[True, track[1:] != track[:-1]]
    dt = np.r_[0, np.diff(t)] / 1e9
    split = new_track | (dt > max_gap_s)
    segment = np.cumsum(split) - 1
    # Short gaps: positions k*step inside each gap.
    fill = ~split & (dt > step_s)
    idx = np.flatnonzero(fill)
    n_new = np.ceil(dt[idx] / step_s).astype(int) - 1
    rep = np.repeat(idx, n_new)
    k = np.arange(n_new.sum()) - np.repeat(np.cumsum(n_new) - n_new, n_new) + 1
    frac = k * step_s / dt[rep]
    add_t = t[rep - 1] + (frac * (t[rep] - t[rep - 1])).astype("int64")
    add_lon = lon[rep - 1] + frac * (lon[rep] - lon[rep - 1])
    add_lat = lat[rep - 1] + frac * (lat[rep] - lat[rep - 1])
    out = pd.DataFrame(
        {
            "track": np.r_[track, track[rep]],
            "segment": np.r_[segment, segment[rep]],
            "time": np.r_[t, add_t].astype("datetime64[ns]"),
            "lon": np.r_[lon, add_lon],
            "lat": np.r_[lat, add_lat],
            "interpolated": np.r_[np.zeros(len(t), bool), np.ones(len(rep), bool)],
        }
    )
    # Segment ids were global; renumber within each track from 0.
    out = out.sort_values(["segment", "time"], kind="stable").reset_index(drop=True)
    first = out.groupby("track", sort=False)["segment"].transform("min")
    out["segment"] = (out["segment"] - first).astype("int64")
    return out[out_cols]


# --------------------------------------------------------------------------------------------
# Visits
# --------------------------------------------------------------------------------------------


def _hotspot_geoms(hotspots: gpd.GeoDataFrame, segments: Any | None) -> np.ndarray:
    """Hotspot geometries in WGS84: their segments' lines when given, else their own shape."""
    hs = hotspots
    if hs.crs is not None and not hs.crs.equals("EPSG:4326"):
        hs = hs.to_crs("EPSG:4326")
    geoms = np.asarray(hs.geometry.to_numpy(), dtype=object)
    if segments is None or "segment_ids" not in hs.columns:
        return geoms
    seg = getattr(segments, "segments", segments)
    if seg.crs is not None and not seg.crs.equals("EPSG:4326"):
        seg = seg.to_crs("EPSG:4326")
    lines = np.asarray(seg.geometry.to_numpy(), dtype=object)
    out = geoms.copy()
    for k, ids in enumerate(hs["segment_ids"]):  # one per hotspot
        ids = [int(i) for i in (ids if ids is not None else []) if 0 <= int(i) < len(lines)]
        if ids:
            out[k] = shapely.union_all(lines[ids])
    return out


def hotspot_visits(
    fixes: pd.DataFrame,
    hotspots: gpd.GeoDataFrame,
    segments: Any | None = None,
    *,
    buffer_m: float = 25.0,
    min_minutes: float = 2.0,
) -> pd.DataFrame:
    """Find the visits of tracks to hotspots: runs of consecutive fixes near a hotspot.

    Parameters
    ----------
    fixes
        Fixes, preferably from :func:`clean_track` (its ``segment`` column stops a visit
        from bridging a long gap).
    hotspots
        ``hotspot_id``, ``label``, geometry (lines or point-mode polygons); with
        ``segment_ids`` and ``segments`` the hotspot's own street segments are used.
    segments
        Street segments (GeoDataFrame or a ``StreetNetwork``), optional.
    buffer_m
        A fix is inside a hotspot within this distance of its geometry.
    min_minutes
        Shorter visits (a walk or drive past) are left out.

    Returns
    -------
    pandas.DataFrame
        ``track, hotspot_id, label, start, end, minutes`` sorted by track and start.
    """
    empty = pd.DataFrame(
        {
            "track": pd.Series(dtype=object),
            "hotspot_id": pd.Series(dtype=object),
            "label": pd.Series(dtype=object),
            "start": pd.Series(dtype="datetime64[ns]"),
            "end": pd.Series(dtype="datetime64[ns]"),
            "minutes": pd.Series(dtype="float64"),
        }
    )
    if fixes.empty or hotspots is None or len(hotspots) == 0:
        return empty
    f = fixes.copy()
    if "segment" not in f.columns:
        f["segment"] = 0
    f = f.sort_values(["track", "segment", "time"], kind="stable").reset_index(drop=True)
    geoms = _hotspot_geoms(hotspots, segments)
    crs = metric_crs_for(float(f["lon"].median()), float(f["lat"].median()))
    hot_m = gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(crs).to_numpy()
    pts = gpd.GeoSeries(gpd.points_from_xy(f["lon"], f["lat"]), crs="EPSG:4326").to_crs(crs)
    tree = shapely.STRtree(hot_m)
    fix_i, hot_i = tree.query(pts.to_numpy(), predicate="dwithin", distance=float(buffer_m))
    if fix_i.size == 0:
        return empty
    order = np.lexsort((fix_i, hot_i))
    fix_i, hot_i = fix_i[order], hot_i[order]
    group = pd.factorize(f["track"].astype(str) + "\x00" + f["segment"].astype(str))[0]
    g = group[fix_i]
    new_run = np.r_[
        True,
        (hot_i[1:] != hot_i[:-1]) | (fix_i[1:] != fix_i[:-1] + 1) | (g[1:] != g[:-1]),
    ]
    run = np.cumsum(new_run) - 1
    times = f["time"].to_numpy(dtype="datetime64[ns]")
    runs = pd.DataFrame({"run": run, "hot": hot_i, "fix": fix_i, "time": times[fix_i]})
    agg = runs.groupby("run").agg(
        hot=("hot", "first"), fix=("fix", "first"), start=("time", "min"), end=("time", "max")
    )
    agg["minutes"] = (agg["end"] - agg["start"]).dt.total_seconds() / 60.0
    agg = agg[agg["minutes"] >= float(min_minutes)]
    if agg.empty:
        return empty
    hot_ids = hotspots["hotspot_id"].astype(str).to_numpy()
    labels = hotspots["label"].astype(str).to_numpy() if "label" in hotspots.columns else hot_ids
    out = pd.DataFrame(
        {
            "track": f["track"].to_numpy()[agg["fix"].to_numpy()],
            "hotspot_id": hot_ids[agg["hot"].to_numpy()],
            "label": labels[agg["hot"].to_numpy()],
            "start": agg["start"].to_numpy(),
            "end": agg["end"].to_numpy(),
            "minutes": agg["minutes"].to_numpy().round(2),
        }
    )
    return out.sort_values(["track", "start"], kind="stable").reset_index(drop=True)


def plan_stop_hotspots(plan: PatrolPlan, *, radius_m: float = 30.0) -> gpd.GeoDataFrame:
    """Stand-in hotspot shapes for a plan: a circle of ``radius_m`` round each stop.

    Use when the hotspot geometries the plan was made from are not at hand.

    Parameters
    ----------
    plan
        The plan.
    radius_m
        Circle radius in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        ``hotspot_id``, ``label``, geometry (polygons, EPSG:4326), one row per hotspot.
    """
    rows: dict[str, tuple[str, float, float]] = {}
    for route in plan.routes:
        for s in route.stops:
            rows.setdefault(s.hotspot_id, (s.label, s.lon, s.lat))
    if not rows:
        return gpd.GeoDataFrame(
            {"hotspot_id": [], "label": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326")
        )
    ids = list(rows)
    labels, lons, lats = zip(*rows.values(), strict=True)
    pts = gpd.GeoSeries(gpd.points_from_xy(lons, lats), crs="EPSG:4326")
    crs = metric_crs_for(float(np.mean(lons)), float(np.mean(lats)))
    circles = pts.to_crs(crs).buffer(radius_m).to_crs("EPSG:4326")
    return gpd.GeoDataFrame({"hotspot_id": ids, "label": list(labels)}, geometry=circles)


# --------------------------------------------------------------------------------------------
# Plan against delivery
# --------------------------------------------------------------------------------------------


def plan_stops(plan: PatrolPlan) -> pd.DataFrame:
    """The plan's stops as a table.

    Parameters
    ----------
    plan
        The plan.

    Returns
    -------
    pandas.DataFrame
        ``team, order, hotspot_id, label, planned_arrive, planned_leave, planned_minutes,
        shift_start, shift_end``.
    """
    rows = [
        (
            r.team.name,
            s.order,
            s.hotspot_id,
            s.label,
            s.arrive,
            s.leave,
            (s.leave - s.arrive).total_seconds() / 60.0,
            r.team.shift_start,
            r.team.shift_end,
        )
        for r in plan.routes
        for s in r.stops
    ]
    cols = [
        "team",
        "order",
        "hotspot_id",
        "label",
        "planned_arrive",
        "planned_leave",
        "planned_minutes",
        "shift_start",
        "shift_end",
    ]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("planned_arrive", "planned_leave", "shift_start", "shift_end"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    return out


def match_plan(
    visits: pd.DataFrame,
    plan: PatrolPlan,
    *,
    team_of_track: Mapping[str, str] | None = None,
    slack_minutes: float = 60.0,
) -> pd.DataFrame:
    """Compare delivered minutes with each planned stop.

    A visit counts for a stop of the same hotspot (and team, when known) when it starts within
    the team's shift widened by ``slack_minutes``; with two planned stops at one hotspot, a
    visit goes to the one with the nearest planned arrival.

    Parameters
    ----------
    visits
        From :func:`hotspot_visits`; a ``team`` column (or ``team_of_track``) ties visits to
        teams, otherwise any visit counts for any team.
    plan
        The plan.
    team_of_track
        Track name -> team name.
    slack_minutes
        Visits this long before or after the shift still count.

    Returns
    -------
    pandas.DataFrame
        ``team, order, hotspot_id, label, planned_arrive, planned_minutes, delivered_minutes,
        status, arrival_delta_min``; status is ``done`` (at least 80% of the dwell),
        ``short`` or ``missed``; the arrival delta is minutes after the planned arrival
        (negative = early, NaN when missed).
    """
    stops = plan_stops(plan).reset_index(names="stop")
    v = visits.copy()
    if v.empty:
        v = pd.DataFrame({"track": [], "hotspot_id": [], "start": [], "minutes": []})
    v["start"] = pd.to_datetime(v["start"]).astype("datetime64[ns]")
    v["minutes"] = v["minutes"].astype(float)
    if "team" not in v.columns and team_of_track is not None:
        v["team"] = v["track"].map(dict(team_of_track))
    keys = ["hotspot_id"]
    if "team" in v.columns:
        keys.append("team")
    v = v.reset_index(names="visit")
    m = stops.merge(v[["visit", *keys, "start", "minutes"]], on=keys, how="inner")
    slack = pd.Timedelta(minutes=slack_minutes)
    m = m[(m["start"] >= m["shift_start"] - slack) & (m["start"] <= m["shift_end"] + slack)]
    m = m.assign(dist=(m["start"] - m["planned_arrive"]).abs())
    m = m.sort_values(["visit", "dist"], kind="stable").drop_duplicates("visit")
    got = m.groupby("stop").agg(delivered=("minutes", "sum"), first=("start", "min"))
    out = stops.join(got, on="stop")
    out["delivered_minutes"] = out["delivered"].fillna(0.0).round(1)
    share = out["delivered_minutes"] / out["planned_minutes"].where(out["planned_minutes"] > 0)
    out["status"] = np.select(
        [share.fillna(1.0) >= DONE_SHARE, out["delivered_minutes"] > 0], ["done", "short"], "missed"
    )
    out.loc[out["delivered_minutes"] <= 0, "status"] = "missed"
    out["arrival_delta_min"] = (
        (out["first"] - out["planned_arrive"]).dt.total_seconds() / 60.0
    ).round(1)
    return out[MATCH_COLUMNS].reset_index(drop=True)


def dosage_by_week(visits: pd.DataFrame) -> pd.DataFrame:
    """Total minutes per hotspot per week (weeks start on Monday).

    Parameters
    ----------
    visits
        From :func:`hotspot_visits` (``start``) or :func:`patrol_log` (``date``), with
        ``hotspot_id`` and ``minutes``.

    Returns
    -------
    pandas.DataFrame
        ``week`` (Monday, datetime64), ``hotspot_id``, ``minutes``.
    """
    if visits.empty:
        return pd.DataFrame(
            {
                "week": pd.Series(dtype="datetime64[ns]"),
                "hotspot_id": pd.Series(dtype=object),
                "minutes": pd.Series(dtype="float64"),
            }
        )
    when = pd.to_datetime(visits["start"] if "start" in visits.columns else visits["date"])
    week = when.dt.normalize() - pd.to_timedelta(when.dt.day_of_week, unit="D")
    out = (
        pd.DataFrame(
            {"week": week, "hotspot_id": visits["hotspot_id"], "minutes": visits["minutes"]}
        )
        .groupby(["week", "hotspot_id"], as_index=False)["minutes"]
        .sum()
    )
    out["minutes"] = out["minutes"].astype(float).round(1)
    return out.sort_values(["week", "hotspot_id"]).reset_index(drop=True)


def _report_hotspots(
    reports: pd.DataFrame, hotspots: gpd.GeoDataFrame, buffer_m: float
) -> np.ndarray:
    """Index of the hotspot each report falls in (-1 for none)."""
    n = len(reports)
    out = np.full(n, -1, dtype=int)
    if n == 0 or len(hotspots) == 0:
        return out
    if "segment_ids" in hotspots.columns and "segment_id" in reports.columns:
        seg_to_hot = {
            int(s): k
            for k, ids in enumerate(hotspots["segment_ids"])
            for s in (ids if ids is not None else [])
        }
        if seg_to_hot:
            seg = reports["segment_id"].astype("Int64").fillna(-1).astype(int)
            out = seg.map(seg_to_hot).fillna(-1).astype(int).to_numpy().copy()
    todo = np.flatnonzero(out < 0)
    if todo.size:
        crs = metric_crs_for(float(reports["lon"].median()), float(reports["lat"].median()))
        hot = hotspots.set_crs("EPSG:4326") if hotspots.crs is None else hotspots
        hot_m = hot.to_crs(crs).geometry.to_numpy()
        pts = gpd.GeoSeries(
            gpd.points_from_xy(reports["lon"].iloc[todo], reports["lat"].iloc[todo]),
            crs="EPSG:4326",
        ).to_crs(crs)
        p_i, h_i = shapely.STRtree(hot_m).query(
            pts.to_numpy(), predicate="dwithin", distance=buffer_m
        )
        first = pd.Series(h_i).groupby(p_i).first()
        out[todo[first.index.to_numpy()]] = first.to_numpy()
    return out


def effect_estimate(
    reports: pd.DataFrame,
    hotspots: gpd.GeoDataFrame,
    patrol_start_by_hotspot: Mapping[str, Any],
    *,
    weeks: int = 8,
    buffer_m: float = 25.0,
) -> pd.DataFrame:
    """Difference in differences of reports per week, patrolled against other hotspots.

    Each patrolled hotspot is compared over ``weeks`` weeks before and after its own start;
    hotspots never patrolled use the earliest start as their reference date. Read
    :data:`EFFECT_CAVEAT` (also in ``attrs["caveat"]``) before quoting the result.

    Parameters
    ----------
    reports
        The report table (``occurred_at``, ``lon``, ``lat``, optionally ``segment_id``).
    hotspots
        ``hotspot_id``, geometry, optionally ``segment_ids``.
    patrol_start_by_hotspot
        Hotspot id -> date patrols began.
    weeks
        Length of each window.
    buffer_m
        Reports within this distance of a hotspot count for it (when not matched by segment).

    Returns
    -------
    pandas.DataFrame
        Rows ``patrolled``, ``comparison`` and ``difference in differences``; columns
        ``group``, ``hotspots``, ``before_per_week``, ``after_per_week``, ``change`` (per
        hotspot per week; the last row's ``change`` is the estimate: negative = fewer
        reports where patrolled than the comparison would suggest).
    """
    if not patrol_start_by_hotspot:
        msg = "No hotspot has a patrol start date; record patrols before estimating an effect."
        raise ValueError(msg)
    ids = hotspots["hotspot_id"].astype(str).to_numpy()
    starts = {str(k): pd.Timestamp(v).normalize() for k, v in patrol_start_by_hotspot.items()}
    reference = min(starts.values())
    ref = np.array([starts.get(h, reference) for h in ids], dtype="datetime64[ns]")
    patrolled = np.array([h in starts for h in ids])
    k = _report_hotspots(reports, hotspots, buffer_m)
    ok = k >= 0
    t = pd.to_datetime(reports["occurred_at"]).to_numpy(dtype="datetime64[ns]")[ok]
    k = k[ok]
    span = np.timedelta64(int(weeks) * 7, "D")
    before = (t >= ref[k] - span) & (t < ref[k])
    after = (t >= ref[k]) & (t < ref[k] + span)
    n_before = np.bincount(k[before], minlength=len(ids)) / weeks
    n_after = np.bincount(k[after], minlength=len(ids)) / weeks
    rows = []
    for name, mask in (("patrolled", patrolled), ("comparison", ~patrolled)):
        b = float(n_before[mask].mean()) if mask.any() else np.nan
        a = float(n_after[mask].mean()) if mask.any() else np.nan
        rows.append((name, int(mask.sum()), b, a, a - b))
    did = rows[0][4] - rows[1][4]
    rows.append(("difference in differences", len(ids), np.nan, np.nan, did))
    out = pd.DataFrame(
        rows, columns=["group", "hotspots", "before_per_week", "after_per_week", "change"]
    )
    out.attrs["caveat"] = EFFECT_CAVEAT
    return out


# --------------------------------------------------------------------------------------------
# Synthetic tracks (demo and tests)
# --------------------------------------------------------------------------------------------


def _walk(
    pts: np.ndarray, t0: float, mps: float, step_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Fixes every ``step_s`` along a polyline of (lon, lat) from time ``t0`` (seconds)."""
    if len(pts) < 2:
        return np.empty(0), np.empty(0), np.empty(0), t0
    d = _haversine_m(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1])
    cum = np.r_[0.0, np.cumsum(d)]
    total = cum[-1] / mps
    s = np.arange(0.0, total, step_s)
    lon = np.interp(s * mps, cum, pts[:, 0])
    lat = np.interp(s * mps, cum, pts[:, 1])
    return t0 + s, lon, lat, t0 + total


def synthetic_track(
    plan: PatrolPlan,
    team: str,
    *,
    seed: int = 0,
    pause_at: Mapping[str, float] | None = None,
    speed_kmh: float = WALK_KMH,
    step_s: float = 15.0,
    jitter_m: float = 3.0,
    start: datetime | None = None,
) -> str:
    """Make a realistic GPX track of a team walking its planned route.

    The team leaves the base at the route's departure time, walks each leg at ``speed_kmh``
    waits at a stop reached early until its planned arrival, and stays at each stop for its
    planned dwell (or ``pause_at[hotspot_id]`` minutes; 0 =
    walk straight past), with GPS jitter on every fix. Times are written in UTC (``Z``).

    Parameters
    ----------
    plan
        The plan.
    team
        The team's name.
    seed
        Random seed for the jitter.
    pause_at
        Hotspot id -> minutes to stay instead of the planned dwell.
    speed_kmh
        Walking pace.
    step_s
        Seconds between fixes.
    jitter_m
        Standard deviation of GPS noise in metres.
    start
        Departure time (local); default the route's departure.

    Returns
    -------
    str
        GPX 1.1 text with one track.

    Raises
    ------
    ValueError
        When the team is not in the plan or has no route.
    """
    route = next((r for r in plan.routes if r.team.name == team), None)
    if route is None:
        names = ", ".join(r.team.name for r in plan.routes)
        msg = f"No team called {team!r} in this plan; use one of: {names}."
        raise ValueError(msg)
    if not route.legs:
        msg = f"Team {team!r} has no route in this plan, so there is nothing to walk."
        raise ValueError(msg)
    pause_at = dict(pause_at or {})
    mps = speed_kmh / 3.6
    t0 = pd.Timestamp(start or route.depart).tz_localize(LOCAL_TZ).tz_convert(UTC)
    now = 0.0
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for k, leg in enumerate(route.legs):  # a handful of legs
        pts = np.asarray(leg, dtype=float).reshape(-1, 2)
        if k == 0 and route.stops and len(pts) >= 2:
            # Wait at the base and leave just in time for the first stop, not idle at it.
            walk_s = _haversine_m(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1]).sum() / mps
            due0 = (route.stops[0].arrive - (start or route.depart)).total_seconds()
            n_base = max(0, int((due0 - walk_s - now) // step_s))
            if n_base:
                ts = now + step_s * np.arange(n_base)
                parts.append((ts, np.full(n_base, pts[0, 0]), np.full(n_base, pts[0, 1])))
                now += n_base * step_s
        ts, lon, lat, now = _walk(pts, now, mps, step_s)
        parts.append((ts, lon, lat))
        if k < len(route.stops):
            s = route.stops[k]
            dwell = pause_at.get(s.hotspot_id, (s.leave - s.arrive).total_seconds() / 60.0)
            end = pts[-1] if len(pts) else np.array([s.lon, s.lat])
            # Early: wait at the stop for the planned arrival, as a team following the plan would.
            due = (s.arrive - (start or route.depart)).total_seconds()
            passing = pause_at.get(s.hotspot_id) == 0  # walks straight past: no waiting
            n_wait = 0 if passing else max(0, int((due - now) // step_s))
            if n_wait:
                ts = now + step_s * np.arange(n_wait)
                parts.append((ts, np.full(n_wait, end[0]), np.full(n_wait, end[1])))
                now += n_wait * step_s
            n = round(dwell * 60.0 / step_s)
            ts = now + step_s * np.arange(n)
            parts.append((ts, np.full(n, end[0]), np.full(n, end[1])))
            now += n * step_s
    last = np.asarray(route.legs[-1], dtype=float).reshape(-1, 2)[-1]
    parts.append((np.array([now]), np.array([last[0]]), np.array([last[1]])))
    ts, lon, lat = (np.concatenate(p) for p in zip(*parts, strict=True))
    rng = np.random.default_rng(seed)
    lat_m = 111_320.0
    lon_m = lat_m * np.cos(np.radians(lat))
    lon = lon + rng.normal(0.0, jitter_m, lon.size) / lon_m
    lat = lat + rng.normal(0.0, jitter_m, lat.size) / lat_m
    stamps = (t0 + pd.to_timedelta(np.round(ts, 3), unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = "".join(
        f'<trkpt lat="{b:.7f}" lon="{a:.7f}"><time>{c}</time></trkpt>'
        for a, b, c in zip(lon, lat, stamps, strict=True)
    )
    name = xml_escape(f"{team} (synthetic)")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="Beatplan synthetic" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><name>{name}</name><trkseg>{body}</trkseg></trk></gpx>\n"
    )


# --------------------------------------------------------------------------------------------
# Storage (visits only, never the track)
# --------------------------------------------------------------------------------------------


def _ensure_table(store: Store) -> None:
    metadata.create_all(store.engine, tables=[patrol_logs])


def save_visits(
    store: Store,
    visits: pd.DataFrame,
    *,
    team: str,
    source_file: str,
    actor: str | None = None,
) -> int:
    """Store visits (team, date, hotspot, minutes) in ``patrol_logs`` and audit the import.

    Only the visit summary is stored, never the track's points.

    Parameters
    ----------
    store
        The store.
    visits
        From :func:`hotspot_visits` (``hotspot_id``, ``start``, ``minutes``) or with a
        ``date`` column instead of ``start``.
    team
        The team that patrolled.
    source_file
        The GPX file name or ``"manual entry"``.
    actor
        Who recorded it.

    Returns
    -------
    int
        Rows stored.
    """
    _ensure_table(store)
    actor = actor or current_user()
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if "start" in visits.columns:
        started = pd.to_datetime(visits["start"])
        dates = started.dt.strftime("%Y-%m-%d")
        started_py = [None if pd.isna(x) else x.to_pydatetime() for x in started]
    else:
        dates = pd.to_datetime(visits["date"]).dt.strftime("%Y-%m-%d")
        started_py = [None] * len(visits)
    rows = [
        {
            "team": str(team)[:255],
            "date": d,
            "started_at": s,
            "hotspot_id": str(h)[:32],
            "minutes": float(m),
            "source_file": str(source_file)[:255],
            "recorded_at": now,
            "recorded_by": actor[:255],
        }
        for d, s, h, m in zip(
            dates, started_py, visits["hotspot_id"], visits["minutes"], strict=True
        )
    ]
    with store.engine.begin() as conn:
        if rows:
            conn.execute(patrol_logs.insert(), rows)
    store.audit("import", f"patrol track {source_file}", n_rows=len(rows), actor=actor)
    return len(rows)


def log_patrol(
    store: Store,
    *,
    team: str,
    date: Date | str,
    hotspot_id: str,
    minutes: float,
    actor: str | None = None,
) -> int:
    """Record a patrol by hand (teams without GPS).

    Parameters
    ----------
    store
        The store.
    team, date, hotspot_id, minutes
        What was done.
    actor
        Who recorded it.

    Returns
    -------
    int
        Rows stored (1).

    Raises
    ------
    ValueError
        For a blank team or hotspot, or minutes outside 1..720.
    """
    if not str(team).strip() or not str(hotspot_id).strip():
        msg = "Give the team and the hotspot for the patrol."
        raise ValueError(msg)
    if not 0 < float(minutes) <= 720:
        msg = "Minutes must be between 1 and 720."
        raise ValueError(msg)
    frame = pd.DataFrame(
        {"date": [pd.Timestamp(date)], "hotspot_id": [hotspot_id], "minutes": [float(minutes)]}
    )
    return save_visits(
        store, frame, team=str(team).strip(), source_file="manual entry", actor=actor
    )


def patrol_log(store: Store) -> pd.DataFrame:
    """Read the stored patrol log.

    Parameters
    ----------
    store
        The store.

    Returns
    -------
    pandas.DataFrame
        ``id, team, date (datetime64), started_at, hotspot_id, minutes, source_file,
        recorded_at, recorded_by``, oldest first.
    """
    _ensure_table(store)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(patrol_logs).order_by(patrol_logs.c.id)).fetchall()
    out = pd.DataFrame(rows, columns=LOG_COLUMNS)
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    out["started_at"] = pd.to_datetime(out["started_at"]).astype("datetime64[ns]")
    out["minutes"] = out["minutes"].astype(float)
    return out


__all__: Sequence[str] = (
    "EFFECT_CAVEAT",
    "clean_track",
    "dosage_by_week",
    "effect_estimate",
    "hotspot_visits",
    "log_patrol",
    "match_plan",
    "patrol_log",
    "patrol_logs",
    "plan_stop_hotspots",
    "plan_stops",
    "read_tracks",
    "save_visits",
    "synthetic_track",
    "time_zone_warnings",
)
