"""Hotspot visits from cleaned GPX fixes, stand-in hotspot shapes and weekly dosage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.streets import metric_crs_for
from planning.routes import PatrolPlan

VISIT_COLUMNS = ["track", "hotspot_id", "label", "start", "end", "minutes"]


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


def _empty_visits() -> pd.DataFrame:
    """An empty visit table with the columns and types of :func:`hotspot_visits`."""
    return pd.DataFrame(
        {
            "track": pd.Series(dtype=object),
            "hotspot_id": pd.Series(dtype=object),
            "label": pd.Series(dtype=object),
            "start": pd.Series(dtype="datetime64[ns]"),
            "end": pd.Series(dtype="datetime64[ns]"),
            "minutes": pd.Series(dtype="float64"),
        }
    )


def _sorted_fixes(fixes: pd.DataFrame) -> pd.DataFrame:
    """A copy of the fixes with a ``segment`` column (0 when absent), in track order."""
    f = fixes.copy()
    if "segment" not in f.columns:
        f["segment"] = 0
    return f.sort_values(["track", "segment", "time"], kind="stable").reset_index(drop=True)


def _fixes_near_hotspots(
    f: pd.DataFrame, hotspots: gpd.GeoDataFrame, segments: Any | None, buffer_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (fix index, hotspot index) within ``buffer_m`` metres, by hotspot then fix."""
    geoms = _hotspot_geoms(hotspots, segments)
    crs = metric_crs_for(float(f["lon"].median()), float(f["lat"].median()))
    hot_m = gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(crs).to_numpy()
    pts = gpd.GeoSeries(gpd.points_from_xy(f["lon"], f["lat"]), crs="EPSG:4326").to_crs(crs)
    tree = shapely.STRtree(hot_m)
    fix_i, hot_i = tree.query(pts.to_numpy(), predicate="dwithin", distance=buffer_m)
    if fix_i.size == 0:
        return fix_i, hot_i
    order = np.lexsort((fix_i, hot_i))
    return fix_i[order], hot_i[order]


def _visit_runs(f: pd.DataFrame, fix_i: np.ndarray, hot_i: np.ndarray) -> pd.DataFrame:
    """Runs of consecutive fixes at one hotspot within one track segment.

    Returns one row per run: ``hot``, ``fix`` (its first fix), ``start``, ``end``, ``minutes``.
    """
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
    return agg


def _visit_table(f: pd.DataFrame, hotspots: gpd.GeoDataFrame, agg: pd.DataFrame) -> pd.DataFrame:
    """The visit runs as the table :func:`hotspot_visits` returns."""
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


def hotspot_visits(
    fixes: pd.DataFrame,
    hotspots: gpd.GeoDataFrame,
    segments: Any = None,
    *,
    buffer_m: float = 25.0,
    min_minutes: float = 2.0,
) -> pd.DataFrame:
    """Find the visits of tracks to hotspots.

    A visit is a run of consecutive fixes near a hotspot.

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
    if fixes.empty or hotspots is None or len(hotspots) == 0:
        return _empty_visits()
    f = _sorted_fixes(fixes)
    fix_i, hot_i = _fixes_near_hotspots(f, hotspots, segments, float(buffer_m))
    if fix_i.size == 0:
        return _empty_visits()
    agg = _visit_runs(f, fix_i, hot_i)
    agg = agg[agg["minutes"] >= float(min_minutes)]
    if agg.empty:
        return _empty_visits()
    return _visit_table(f, hotspots, agg)


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


__all__: Sequence[str] = (
    "VISIT_COLUMNS",
    "dosage_by_week",
    "hotspot_visits",
    "plan_stop_hotspots",
)
