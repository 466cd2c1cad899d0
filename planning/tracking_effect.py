"""Effect estimate of patrols: a difference in differences of reports per week."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.streets import metric_crs_for

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


__all__: Sequence[str] = (
    "EFFECT_CAVEAT",
    "effect_estimate",
)
