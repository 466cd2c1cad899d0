"""The bi-monthly partner-meeting pack: what happened at each hotspot since the last meeting."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from geo.settings import Settings

__all__ = [
    "HotspotFacts",
    "MeetingFacts",
    "meeting_facts",
    "meeting_html",
    "patrols_delivered",
    "patrols_planned",
    "safeguarding_table",
]


@dataclass(frozen=True)
class HotspotFacts:
    """One hotspot's lines in the pack (counts leave safeguarding reports out).

    Attributes
    ----------
    hotspot_id, label, rank
        Its stable id, its street label and its rank by risk now.
    trend
        A word of :data:`geo.trend.TRENDS` (Mann-Kendall on weekly counts).
    this_period, last_period
        Reports since the meeting and in the period of equal length before it.
    by_category
        ``[(label, count), ...]`` since the meeting, largest first.
    planned_visits, planned_minutes, delivered_visits, delivered_minutes
        Patrols in saved plans and in the patrol log since the meeting.
    problems
        Ids of the problems linked to it.
    displacement
        The displacement watch (:class:`planning.displacement.Displacement`) when it has
        responses or patrols, else ``None``.
    """

    hotspot_id: str
    label: str
    rank: int
    trend: str
    this_period: int
    last_period: int
    by_category: list[tuple[str, int]] = field(default_factory=list)
    planned_visits: int = 0
    planned_minutes: float = 0.0
    delivered_visits: int = 0
    delivered_minutes: float = 0.0
    problems: list[str] = field(default_factory=list)
    displacement: Any = None


@dataclass(frozen=True)
class MeetingFacts:
    """Everything the meeting pack prints (no person, no single report)."""

    area_name: str
    synthetic: bool
    since: date
    until: date
    prev_start: date
    prev_end: date
    threshold: int
    mode: str
    hotspots: list[HotspotFacts]
    new: list[tuple[str, str]]
    fading: list[tuple[str, str]]
    gone: list[tuple[str, str]]
    problems: list[Any]
    assessments: dict[str, Any]
    safeguarding: list[dict[str, str]]
    weekly: pd.DataFrame
    labels: dict[str, str]
    agency_labels: dict[str, str] = field(default_factory=dict)


def patrols_planned(store: Any, area_id: str, *, start: date, end: date) -> pd.DataFrame:
    """Visits and minutes per hotspot in the area's saved plans dated ``start..end``.

    Only each stop's hotspot id and times are read (never team members).

    Returns
    -------
    pandas.DataFrame
        ``hotspot_id, visits, minutes``.
    """
    from geo.store_tables import plans

    with store.engine.connect() as conn:
        bodies = conn.execute(
            sa.select(plans.c.body).where(
                plans.c.area_id == area_id,
                plans.c.plan_date >= start.isoformat(),
                plans.c.plan_date <= end.isoformat(),
            )
        ).scalars()
        stops = []
        for body in bodies:  # plans, not reports: a handful per meeting
            try:
                teams = json.loads(body).get("teams", [])
            except (ValueError, AttributeError):
                continue
            stops += [s for t in teams for s in t.get("stops", []) if isinstance(s, dict)]
    frame = pd.DataFrame(stops, columns=["hotspot_id", "arrive", "leave"])
    if frame.empty:
        return pd.DataFrame({"hotspot_id": [], "visits": [], "minutes": []})
    mins = (pd.to_datetime(frame["leave"]) - pd.to_datetime(frame["arrive"])).dt.total_seconds()
    frame["minutes"] = mins.fillna(0.0) / 60.0
    out = frame.groupby(frame["hotspot_id"].astype(str)).agg(
        visits=("minutes", "size"), minutes=("minutes", "sum")
    )
    return out.reset_index()


def patrols_delivered(store: Any, area_id: str, *, start: date, end: date) -> pd.DataFrame:
    """Visits and minutes per hotspot in the area's patrol log dated ``start..end``.

    Returns
    -------
    pandas.DataFrame
        ``hotspot_id, visits, minutes``.
    """
    from planning.tracking_store import patrol_log

    log = patrol_log(store, area_id=area_id)
    day = log["date"].dt.date if len(log) else log["date"]
    log = log[(day >= start) & (day <= end)] if len(log) else log
    out = log.groupby(log["hotspot_id"].astype(str)).agg(
        visits=("minutes", "size"), minutes=("minutes", "sum")
    )
    return out.reset_index()


def safeguarding_table(
    reports: pd.DataFrame, at_hotspot: np.ndarray, settings: Settings, *, threshold: int
) -> list[dict[str, str]]:
    """Safeguarding reports by category, at the hotspots and elsewhere, small counts hidden.

    Counts below ``threshold`` read "fewer than N"; complements that would let one be
    worked out from the totals read "not shown" (:func:`planning.impact_suppression.suppress_table`).

    Parameters
    ----------
    reports
        The reports since the meeting (all categories).
    at_hotspot
        Whether each report lies in a hotspot.
    settings
        The area's settings (category kinds and labels).
    threshold
        The suppression threshold.

    Returns
    -------
    list of dict
        ``{"label", "hotspots", "elsewhere", "total"}`` per category, then ``Total``.
    """
    from planning.impact_suppression import suppress_table

    cats = [c for c, cat in settings.categories.items() if cat.kind == "safeguarding"]
    if not cats:
        return []
    mine = reports["category"].isin(cats).to_numpy()
    frame = pd.DataFrame(
        {"category": reports["category"].to_numpy()[mine], "where": at_hotspot[mine]}
    )
    table = (
        pd.crosstab(frame["category"], frame["where"])
        .reindex(index=cats, columns=[True, False], fill_value=0)
        .astype(np.int64)
    )
    table.columns = ["hotspots", "elsewhere"]
    mask = suppress_table(table, threshold=threshold, margins=True)
    full = table.copy()
    full["Total"] = table.sum(axis=1)
    full.loc["Total"] = full.sum(axis=0)

    def _cell(r: str, c: str) -> str:
        v = int(full.loc[r, c])
        if not mask.loc[r, c]:
            return f"{v:,}"
        return f"fewer than {threshold}" if 0 < v < threshold else "not shown"

    rows = []
    for r in [*cats, "Total"]:
        label = settings.label(r) if r != "Total" else "All safeguarding reports"
        rows.append(
            {
                "label": label,
                "hotspots": _cell(r, "hotspots"),
                "elsewhere": _cell(r, "elsewhere"),
                "total": _cell(r, "Total"),
            }
        )
    return rows


def meeting_facts(
    store: Any,
    area: Any,
    *,
    since: Any,
    until: Any = None,
    network: Any = None,
    settings: Settings,
) -> MeetingFacts:
    """Gather the meeting pack's facts for an area since the last meeting.

    Parameters
    ----------
    store
        The store.
    area
        The area (:class:`geo.areas.Area`).
    since
        The last meeting's date (the pack covers ``since`` to ``until`` inclusive).
    until
        The last day covered (default: the area's newest report; the end of its month when
        it is dated the 1st at midnight, as month-only police.uk records are).
    network
        The area's street network, or ``None`` (point mode).
    settings
        The area's settings.

    Returns
    -------
    MeetingFacts
    """
    from planning.meeting_data import gather

    period = store.period(area_id=area.area_id)
    if period is None:
        msg = f"{area.name} has no reports yet: import partner files first."
        raise ValueError(msg)
    start = pd.Timestamp(since).date()
    newest = period[1]
    if newest == newest.normalize() and newest.day == 1:  # month-only data (police.uk)
        newest = newest + pd.offsets.MonthEnd(0)
    end = pd.Timestamp(until).date() if until is not None else newest.date()
    if end < start:
        msg = "The last meeting is after the newest report: choose an earlier --since date."
        raise ValueError(msg)
    return gather(store, area, start=start, end=end, network=network, settings=settings)


def meeting_html(facts: MeetingFacts) -> str:
    """Render the meeting pack as one self-contained HTML document (marked on every page).

    Parameters
    ----------
    facts
        From :func:`meeting_facts`.

    Returns
    -------
    str
    """
    from planning.meeting_render import render

    return render(facts)
