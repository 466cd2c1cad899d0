"""Page data for team briefings: the plan and team, the timetable and recent activity at each stop."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from geo.settings import Settings, load_settings
from planning.briefing_map import M_PER_DEG_LAT, M_PER_DEG_LON, team_colour
from planning.export import plan_from_json
from planning.routes import PatrolPlan, TeamRoute
from planning.travel_straight import APPROXIMATE_NOTE, TRAVEL_STRAIGHT

__all__ = [
    "MODE_LABELS",
    "BriefingInputs",
    "as_plan",
    "hour_ranges",
    "recent_reports",
    "resolve_settings",
    "route_of",
    "segment_lookup",
    "stop_activity",
    "team_context",
]

MODE_LABELS = {"walk": "On foot", "cycle": "Cycle", "drive": "Vehicle"}


def as_plan(
    plan: PatrolPlan | Mapping[str, Any],
) -> tuple[PatrolPlan, dict[tuple[str, int], list[int]]]:
    """Return the plan object and any per-stop segment ids carried by a plan JSON.

    Parameters
    ----------
    plan
        A plan object or its JSON dict (:func:`planning.export.plan_to_json`).

    Returns
    -------
    (PatrolPlan, dict)
        The plan and the segment ids by ``(team name, stop order)`` (empty for an object).

    Raises
    ------
    ValueError
        When ``plan`` is neither.
    """
    if isinstance(plan, PatrolPlan):
        return plan, {}
    if isinstance(plan, Mapping):
        extra: dict[tuple[str, int], list[int]] = {}
        for t in plan.get("teams", []):
            for s in t.get("stops", []):
                if s.get("segment_ids") is not None:
                    extra[(str(t.get("name")), int(s.get("order", 0)))] = [
                        int(x) for x in s["segment_ids"]
                    ]
        return plan_from_json(dict(plan)), extra
    msg = f"Expected a PatrolPlan or its JSON dict, got {type(plan).__name__}."
    raise ValueError(msg)


def resolve_settings(settings: Settings | None) -> Settings:
    """Return ``settings``, or the project settings when it is ``None``.

    Parameters
    ----------
    settings
        Settings or ``None``.

    Returns
    -------
    Settings
    """
    return settings if settings is not None else load_settings()


def route_of(plan: PatrolPlan, team_name: str) -> tuple[int, TeamRoute]:
    """Find a team's route and its position in the plan.

    Parameters
    ----------
    plan
        The patrol plan.
    team_name
        The team.

    Returns
    -------
    (int, TeamRoute)

    Raises
    ------
    ValueError
        When no team has that name.
    """
    for k, route in enumerate(plan.routes):
        if route.team.name == team_name:
            return k, route
    names = ", ".join(r.team.name for r in plan.routes) or "none"
    msg = f"No team called {team_name!r} in this plan; the teams are: {names}."
    raise ValueError(msg)


def _roles(members: Sequence[str]) -> str:
    if not members:
        return "Roles not given"
    counts = Counter(m.strip() for m in members if m.strip())
    return ", ".join(f"{n} \u00d7 {role}" if n > 1 else role for role, n in counts.items())


def _hhmm(dt: datetime | None) -> str:
    return "" if dt is None else f"{dt:%H:%M}"


def _day(d: Date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def hour_ranges(hours: Iterable[int]) -> str:
    """Describe a set of clock hours as ranges, e.g. ``"21:00\u201300:00, 02:00\u201303:00"``.

    Runs of consecutive hours are joined, wrapping round midnight.

    Parameters
    ----------
    hours
        Hours 0..23 (repeats ignored).

    Returns
    -------
    str
        ``""`` when there are no hours.
    """
    hs = sorted({int(h) % 24 for h in hours})
    if not hs:
        return ""
    if len(hs) == 24:
        return "all hours"
    runs: list[list[int]] = []
    for h in hs:
        if runs and h == runs[-1][-1] + 1:
            runs[-1].append(h)
        else:
            runs.append([h])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 23:
        runs[0] = runs.pop() + runs[0]
    runs.sort(key=lambda r: r[0] if r[0] >= 12 else r[0] + 24)
    return ", ".join(f"{r[0]:02d}:00\u2013{(r[-1] + 1) % 24:02d}:00" for r in runs)


def _distance_m(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> np.ndarray:
    dx = (lon - lon0) * M_PER_DEG_LON * math.cos(math.radians(lat0))
    dy = (lat - lat0) * M_PER_DEG_LAT
    return np.hypot(dx, dy)


def recent_reports(
    reports: pd.DataFrame, *, plan_date: Date, window_days: int = 28
) -> pd.DataFrame:
    """Keep the reports of the ``window_days`` days before ``plan_date``.

    Parameters
    ----------
    reports
        The report table (CONTRACTS).
    plan_date
        The patrol date; reports on that day itself are left out.
    window_days
        Length of the look-back window.

    Returns
    -------
    pandas.DataFrame
    """
    if reports is None or len(reports) == 0:
        return pd.DataFrame(columns=["category", "occurred_at", "time_known", "lon", "lat"])
    end = pd.Timestamp(plan_date)
    start = end - pd.Timedelta(days=window_days)
    when = pd.to_datetime(reports["occurred_at"])
    return reports.loc[(when >= start) & (when < end)]


def stop_activity(
    recent: pd.DataFrame,
    *,
    lon: float,
    lat: float,
    segment_ids: Sequence[int] | None = None,
    radius_m: float = 100.0,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Summarise the reports at one stop by category: count, hours and suggested action.

    Parameters
    ----------
    recent
        Reports already limited to the look-back window (:func:`recent_reports`).
    lon, lat
        The stop.
    segment_ids
        The hotspot's street segments; reports on them are counted. When omitted, reports
        within ``radius_m`` of the stop are counted instead.
    radius_m
        Radius for the fallback.
    settings
        Category labels and actions.

    Returns
    -------
    list of dict
        ``{"category", "label", "count", "hours", "action"}``, most reported first.
    """
    settings = resolve_settings(settings)
    if recent is None or len(recent) == 0:
        return []
    if segment_ids:
        seg = (
            pd.to_numeric(recent["segment_id"], errors="coerce") if "segment_id" in recent else None
        )
        mask = seg.isin([int(s) for s in segment_ids]).to_numpy() if seg is not None else None
    else:
        mask = None
    if mask is None:
        d = _distance_m(
            recent["lon"].to_numpy(dtype=float), recent["lat"].to_numpy(dtype=float), lon, lat
        )
        mask = d <= radius_m
    here = recent.loc[mask]
    out: list[dict[str, Any]] = []
    for cat, grp in here.groupby(here["category"].astype(str), sort=False):
        timed = grp.loc[grp["time_known"].astype(bool)] if "time_known" in grp else grp
        hours = hour_ranges(pd.to_datetime(timed["occurred_at"]).dt.hour.tolist())
        untimed = len(grp) - len(timed)
        if untimed:
            extra = f"{untimed} with no time"
            hours = f"{hours}; {extra}" if hours else extra
        cfg = settings.categories.get(str(cat))
        out.append(
            {
                "category": str(cat),
                "label": settings.label(str(cat)),
                "count": len(grp),
                "hours": hours,
                "action": cfg.action
                if cfg and cfg.action
                else "Record through the normal channel.",
            }
        )
    out.sort(key=lambda a: (-a["count"], a["label"]))
    return out


def segment_lookup(hotspots: pd.DataFrame | None) -> dict[str, list[int]]:
    """Map each hotspot id in the table ``hotspots`` to its street segment ids.

    Hotspots without segments are left out; no table (``None``) gives an empty mapping.
    """
    if hotspots is None or len(hotspots) == 0 or "segment_ids" not in hotspots:
        return {}
    out: dict[str, list[int]] = {}
    for hid, segs in zip(hotspots["hotspot_id"].astype(str), hotspots["segment_ids"], strict=True):
        if segs is None or (isinstance(segs, float) and math.isnan(segs)):
            continue
        vals = [int(x) for x in list(segs)]
        if vals:
            out[hid] = vals
    return out


@dataclass(frozen=True)
class BriefingInputs:
    """What every team's briefing page reads besides its own route.

    Attributes
    ----------
    recent
        Reports in the look-back window (:func:`recent_reports`).
    seg_lookup
        Segment ids by hotspot id (:func:`segment_lookup`).
    stop_segments
        Segment ids by ``(team name, stop order)`` carried by a plan JSON; these win.
    settings
        Labels, actions and the signposting text.
    window_days
        Look-back window before the plan date.
    radius_m
        Radius around a stop when its segments are unknown.
    """

    recent: pd.DataFrame
    seg_lookup: Mapping[str, list[int]]
    stop_segments: Mapping[tuple[str, int], list[int]]
    settings: Settings
    window_days: int
    radius_m: float


def _stop_rows(route: TeamRoute, shared: BriefingInputs) -> list[dict[str, Any]]:
    """Each stop's order, label, times and recent activity."""
    team = route.team
    stops_ctx = []
    for s in route.stops:
        segs = shared.stop_segments.get((team.name, s.order)) or shared.seg_lookup.get(s.hotspot_id)
        stops_ctx.append(
            {
                "order": s.order,
                "label": s.label,
                "visit": s.visit,
                "arrive": _hhmm(s.arrive),
                "leave": _hhmm(s.leave),
                "activity": stop_activity(
                    shared.recent,
                    lon=s.lon,
                    lat=s.lat,
                    segment_ids=segs,
                    radius_m=shared.radius_m,
                    settings=shared.settings,
                ),
            }
        )
    return stops_ctx


def team_context(
    plan: PatrolPlan, index: int, route: TeamRoute, shared: BriefingInputs
) -> dict[str, Any]:
    """Everything one team's briefing page shows, as text, except the map.

    Parameters
    ----------
    plan
        The patrol plan.
    index
        The team's position in ``plan.routes`` (for its colour).
    route
        The team's route.
    shared
        The reports, segment lookups, settings, window and radius every team shares.

    Returns
    -------
    dict
        The briefing template's variables, with ``map_uri`` empty.
    """
    team = route.team
    stops_ctx = _stop_rows(route, shared)
    settings, window_days = shared.settings, shared.window_days
    window_to = plan.date - timedelta(days=1)
    window_from = plan.date - timedelta(days=window_days)
    return {
        "colour": team_colour(index),
        "team": team.name,
        "day": _day(team.shift_start.date()),  # a ``day = 1`` team works the next day
        "travel_note": APPROXIMATE_NOTE if plan.travel == TRAVEL_STRAIGHT else "",
        "shift": f"{_hhmm(team.shift_start)}\u2013{_hhmm(team.shift_end)}",
        "mode": MODE_LABELS.get(team.mode, team.mode),
        "roles": _roles(team.members),
        "depart": _hhmm(route.depart),
        "back": _hhmm(route.back),
        "distance": f"{route.distance_m / 1000:.1f} km" if route.distance_m else "",
        "break_start": _hhmm(route.break_start),
        "break_minutes": team.break_minutes,
        "dwell": plan.dwell_minutes,
        "stops": stops_ctx,
        "map_uri": "",
        "window_days": window_days,
        "window_from": f"{window_from.day} {window_from:%b %Y}",
        "window_to": f"{window_to.day} {window_to:%b %Y}",
        "signposting": str((settings.signposting or {}).get("text", "")),
        "generated": f"{plan.generated_at:%d/%m/%Y %H:%M}",
    }
