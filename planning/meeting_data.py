"""The meeting pack's numbers: hotspots, trends, patrols, problems and displacement since a date."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from geo.settings import Settings
from planning.meeting import (
    HotspotFacts,
    MeetingFacts,
    patrols_delivered,
    patrols_planned,
    safeguarding_table,
)

__all__ = ["gather", "weekly_counts"]


def weekly_counts(
    reports: pd.DataFrame, at_hotspot: np.ndarray, *, since: date, start: date, end: date
) -> pd.DataFrame:
    """Reports per week at the hotspots and elsewhere, weeks aligned so one starts at ``since``.

    Parameters
    ----------
    reports
        Reports (``occurred_at``).
    at_hotspot
        Whether each report lies in a hotspot.
    since
        The last meeting: a week starts here.
    start, end
        The span to cover (inclusive); whole weeks around it.

    Returns
    -------
    pandas.DataFrame
        Index: the week's first day; columns ``hotspots`` and ``elsewhere``.
    """
    first = pd.Timestamp(since) - pd.Timedelta(weeks=-(-(since - start).days // 7))
    days = (pd.to_datetime(reports["occurred_at"]).dt.normalize() - first).dt.days
    week = days.to_numpy() // 7
    n = max(1, ((pd.Timestamp(end) - first).days // 7) + 1)
    keep = (week >= 0) & (week < n)
    out = np.zeros((n, 2), dtype=np.int64)
    np.add.at(out, (week[keep], np.where(at_hotspot[keep], 0, 1)), 1)
    index = [first + pd.Timedelta(weeks=int(k)) for k in range(n)]
    return pd.DataFrame(out, index=index, columns=["hotspots", "elsewhere"])


def _problems(store: Any, area_id: str) -> list[Any]:
    try:
        from planning.problems import list_problems
    except ImportError:
        return []
    return list_problems(store, area_id=area_id)


def _assessments(problems: list[Any], reports: pd.DataFrame, hot: Any, log: Any) -> dict:
    """Each problem's assessment when planning.assessment can make one (else none)."""
    try:
        from planning.assessment import assess_problems

        found = assess_problems(problems, reports, hot, patrol_log=log)
    except (ImportError, NotImplementedError, ValueError, KeyError):
        return {}
    return {a.problem_id: a for a in found if a.ratio is not None or a.reading}


def _displacement(
    reports: pd.DataFrame, row: Any, network: Any, *, before: tuple, after: tuple, ring: tuple
) -> Any:
    from planning.displacement import displacement_watch

    try:
        return displacement_watch(
            reports,
            row,
            before=before,
            after=after,
            network=network,
            inner_m=ring[0],
            outer_m=ring[1],
        )
    except ValueError:
        return None


def _ring() -> tuple[float, float]:
    try:
        from planning.problems import partnership_settings

        part = partnership_settings()
    except ImportError:
        part = {}
    return float(part.get("buffer_inner_m", 100)), float(part.get("buffer_outer_m", 400))


def _by_category(reports: pd.DataFrame, owner: np.ndarray, n: int, settings: Settings) -> list:
    """``[(label, count), ...]`` per hotspot, largest first."""
    inside = owner >= 0
    frame = pd.DataFrame(
        {"h": owner[inside], "c": reports["category"].to_numpy()[inside].astype(str)}
    )
    table = frame.groupby(["h", "c"]).size()
    out: list[list[tuple[str, int]]] = [[] for _ in range(n)]
    for (h, c), v in table.sort_values(ascending=False).items():  # hotspot x category cells
        out[int(h)].append((settings.label(c), int(v)))
    return out


def gather(
    store: Any, area: Any, *, start: date, end: date, network: Any, settings: Settings
) -> MeetingFacts:
    """The facts of :func:`planning.meeting.meeting_facts` for ``start..end`` (inclusive).

    Counts other than the safeguarding table leave safeguarding reports out, so a small
    safeguarding count hidden there cannot be worked out from them.

    Returns
    -------
    MeetingFacts
    """
    from geo.area_data import default_categories
    from geo.trend import assign_reports, gone_hotspots, hotspot_trends, previous_period
    from geo.workspace import compute_hotspots
    from planning.tracking_store import patrol_log

    periods = previous_period(start, end)
    day = pd.Timedelta(days=1)
    lo, mid, hi = (pd.Timestamp(periods.prev_start), pd.Timestamp(start), pd.Timestamp(end) + day)
    cats = default_categories(store, area, settings=settings)
    reports = store.reports(start=lo, end=hi, categories=cats, area_id=area.area_id)
    now = reports[pd.to_datetime(reports["occurred_at"]) >= mid]
    if now.empty:
        msg = "No reports since the last meeting: choose an earlier --since date."
        raise ValueError(msg)
    hot, mode, _ = compute_hotspots(now, network=network, settings=settings)
    before = reports[pd.to_datetime(reports["occurred_at"]) < mid]
    prev = (
        compute_hotspots(before, network=network, settings=settings)[0] if len(before) else hot[:0]
    )
    safe = {c for c, k in settings.categories.items() if k.kind == "safeguarding"}
    plain = reports[~reports["category"].isin(safe)]
    trends = hotspot_trends(hot, plain, periods=periods).set_index("hotspot_id")
    plain_now = plain[pd.to_datetime(plain["occurred_at"]) >= mid]
    owner = assign_reports(hot, plain_now)
    cats_of = _by_category(plain_now, owner, len(hot), settings)
    planned = patrols_planned(store, area.area_id, start=start, end=end).set_index("hotspot_id")
    delivered = patrols_delivered(store, area.area_id, start=start, end=end)
    delivered = delivered.set_index("hotspot_id")
    problems = _problems(store, area.area_id)
    rows = _hotspot_rows(
        hot, trends, cats_of, planned, delivered, problems, plain,
        network=network if mode == "network" else None, before=(lo, mid), after=(mid, hi),
    )  # fmt: skip
    in_hot = assign_reports(hot, now) >= 0
    threshold = int(settings.general.get("suppression_threshold", 10))
    gone = gone_hotspots(prev, hot)
    gone = gone[~gone["hotspot_id"].astype(str).isin(set(hot["hotspot_id"].astype(str)))]
    log = patrol_log(store, area_id=area.area_id)
    return MeetingFacts(
        area_name=str(area.name),
        synthetic=bool(area.synthetic),
        since=start,
        until=end,
        prev_start=periods.prev_start,
        prev_end=periods.prev_end,
        threshold=threshold,
        mode=mode,
        hotspots=rows,
        new=[(h.hotspot_id, h.label) for h in rows if h.trend == "new"],
        fading=[(h.hotspot_id, h.label) for h in rows if h.trend in ("fading", "gone")],
        gone=[(str(a), str(b)) for a, b in zip(gone["hotspot_id"], gone["label"], strict=True)],
        problems=problems,
        assessments=_assessments(problems, plain, hot, log),
        safeguarding=safeguarding_table(now, in_hot, settings, threshold=threshold),
        weekly=_weekly(plain, hot, since=start, start=periods.prev_start, end=end),
        labels={str(h): str(lab) for h, lab in zip(hot["hotspot_id"], hot["label"], strict=True)}
        | {str(h): str(lab) for h, lab in zip(gone["hotspot_id"], gone["label"], strict=True)},
        agency_labels=_agency_labels(),
    )


def _hotspot_rows(
    hot: Any,
    trends: pd.DataFrame,
    cats_of: list[dict[str, int]],
    planned: pd.DataFrame,
    delivered: pd.DataFrame,
    problems: list[Any],
    plain: pd.DataFrame,
    *,
    network: Any,
    before: tuple[pd.Timestamp, pd.Timestamp],
    after: tuple[pd.Timestamp, pd.Timestamp],
) -> list[HotspotFacts]:
    """One :class:`HotspotFacts` per hotspot: trend, categories, patrols, problems, displacement."""
    ring = _ring()
    responded = {h for p in problems if p.responses for h in p.hotspot_ids}
    rows = []
    for k, row in enumerate(hot.itertuples(index=False)):  # hotspots: tens, not reports
        hid = str(row.hotspot_id)
        t = trends.loc[hid]
        pv, pm = _pair(planned, hid)
        dv, dm = _pair(delivered, hid)
        disp = None
        if hid in responded or pv or dv:
            disp = _displacement(
                plain,
                hot.iloc[k],
                network,
                before=before,
                after=after,
                ring=ring,
            )
        rows.append(
            HotspotFacts(
                hotspot_id=hid,
                label=str(row.label),
                rank=k + 1,
                trend=str(t["trend"]),
                this_period=int(t["this_period"]),
                last_period=int(t["last_period"]),
                by_category=cats_of[k],
                planned_visits=pv,
                planned_minutes=pm,
                delivered_visits=dv,
                delivered_minutes=dm,
                problems=[p.problem_id for p in problems if hid in p.hotspot_ids],
                displacement=disp,
            )
        )
    return rows


def _weekly(plain: pd.DataFrame, hot: Any, *, since: date, start: date, end: date) -> pd.DataFrame:
    """The weekly chart's counts; none for month-only data (police.uk), where weeks mislead."""
    from geo.trend import assign_reports

    if "time_known" in plain and not plain["time_known"].astype(bool).any():
        return pd.DataFrame({"hotspots": [], "elsewhere": []})
    at_hot = assign_reports(hot, plain) >= 0
    return weekly_counts(plain, at_hot, since=since, start=start, end=end)


def _pair(table: pd.DataFrame, hid: str) -> tuple[int, float]:
    if hid not in table.index:
        return 0, 0.0
    return int(table.loc[hid, "visits"]), float(table.loc[hid, "minutes"])


def _agency_labels() -> dict[str, str]:
    try:
        from planning.problems import agencies
    except ImportError:
        return {}
    return {a: a.replace("_", " ").capitalize() for a in agencies()}
