"""Hotspots and teams as a team orienteering instance: which team may make which stop, when."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from planning.orienteering import OrienteeringInstance
from planning.patrol_network import TravelTables
from planning.teams import Team

__all__ = [
    "PATROL_TIME_SCALE",
    "REASONS",
    "REASON_DETOUR",
    "REASON_SHIFT",
    "REASON_SKILL",
    "REASON_UNFIT",
    "RISK_RESOLUTION",
    "Eligibility",
    "PatrolHotspots",
    "PatrolInstance",
    "PlanClock",
    "build_instance",
    "check_hotspot_columns",
    "eligibility",
    "read_hotspots",
    "team_breaks",
]

#: Reasons a hotspot is left out of a plan (exactly these strings).
REASON_SKILL = "no team has the skill"
REASON_SHIFT = "outside every shift"
REASON_DETOUR = "not worth the detour"
REASON_UNFIT = "could not be fitted"
REASONS = (REASON_SKILL, REASON_SHIFT, REASON_DETOUR, REASON_UNFIT)

#: Weight of the best hotspot in the solver objective; smaller risks are scaled in proportion
#: (so risks are resolved to 1/10,000 of the largest).
RISK_RESOLUTION = 10_000
#: Model time units per minute for patrols (60 = whole seconds).
PATROL_TIME_SCALE = 60


def _hour_intervals(
    hours: Sequence[int], t0: datetime, t_end: datetime
) -> list[tuple[float, float]]:
    """Active hours as merged minute intervals (relative to ``t0``) covering ``t0..t_end``."""
    hs = sorted({int(h) % 24 for h in hours})
    out: list[tuple[float, float]] = []
    day = datetime.combine(t0.date() - timedelta(days=1), time(0, 0))
    last = datetime.combine(t_end.date() + timedelta(days=1), time(0, 0))
    while day <= last:
        for h in hs:
            a = (day + timedelta(hours=h) - t0).total_seconds() / 60.0
            b = a + 60.0
            if out and abs(out[-1][1] - a) < 1e-9:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        day += timedelta(days=1)
    return out


def _intersect(
    a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Pairwise overlaps of two interval lists, sorted."""
    out = []
    for a0, a1 in a:
        for b0, b1 in b:
            lo, hi = max(a0, b0), min(a1, b1)
            if lo <= hi:
                out.append((lo, hi))
    return sorted(out)


def _active_hours(value: Any) -> list[int]:
    """A hotspot's ``active_hours`` cell as a list (missing = no hours)."""
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    return [int(h) for h in value]


@dataclass
class PatrolHotspots:
    """The hotspot table's columns as the planner reads them (rows in table order)."""

    table: pd.DataFrame
    ids: list[str]
    labels: list[str]
    risks: np.ndarray
    skills: list[str]
    hours: list[list[int]]
    must: set[str]
    rev: list[str]


def check_hotspot_columns(hotspots: pd.DataFrame) -> None:
    """Refuse a hotspot table without the columns the planner needs.

    Parameters
    ----------
    hotspots
        The hotspot table (CONTRACTS).
    """
    required = {"hotspot_id", "label", "risk", "skill"}
    missing = required - set(hotspots.columns)
    if missing:
        msg = f"The hotspot table lacks {', '.join(sorted(missing))}; build it with geo.hotspots."
        raise ValueError(msg)


def read_hotspots(
    hotspots: pd.DataFrame, revisit: Iterable[str] | None, must_visit: Iterable[str]
) -> PatrolHotspots:
    """Read ids, labels, risks, skills and active hours from the hotspot table.

    Parameters
    ----------
    hotspots
        The hotspot table (CONTRACTS).
    revisit, must_visit
        Hotspot ids to visit twice, and ids with a very large drop penalty.

    Returns
    -------
    PatrolHotspots
        Negative or missing risks read as 0; ``rev`` in table order.
    """
    hs = hotspots.reset_index(drop=True)
    ids = hs["hotspot_id"].astype(str).tolist()
    unknown = (set(revisit or ()) | set(must_visit)) - set(ids)
    if unknown:
        msg = f"Unknown hotspot ids {', '.join(sorted(unknown))} in revisit/must_visit; use ids from the hotspot table."
        raise ValueError(msg)
    labels = hs["label"].astype(str).tolist()
    risks = hs["risk"].to_numpy(np.float64)
    risks = np.where(np.isfinite(risks), np.maximum(risks, 0.0), 0.0)
    skills_h = hs["skill"].astype(str).str.lower().tolist()
    hours_h = (
        [_active_hours(x) for x in hs["active_hours"]] if "active_hours" in hs else [[]] * len(hs)
    )
    must = set(must_visit)
    rev = [h for h in ids if h in set(revisit or ())]
    return PatrolHotspots(hs, ids, labels, risks, skills_h, hours_h, must, rev)


@dataclass
class PlanClock:
    """Plan time as minutes after the earliest shift start ``t0``."""

    t0: datetime
    t_end: datetime

    @classmethod
    def of(cls, teams: Sequence[Team]) -> PlanClock:
        """The clock spanning the shifts of ``teams``."""
        return cls(min(t.shift_start for t in teams), max(t.shift_end for t in teams))

    def minutes(self, dt: datetime) -> float:
        """Minutes from ``t0`` to ``dt``."""
        return (dt - self.t0).total_seconds() / 60.0

    def at(self, minute: float) -> datetime:
        """The time ``minute`` minutes after ``t0``, to the second."""
        return self.t0 + timedelta(seconds=round(minute * 60.0))

    def shifts(self, teams: Sequence[Team]) -> list[tuple[float, float]]:
        """Each team's shift as ``(start, end)`` minutes."""
        return [(self.minutes(t.shift_start), self.minutes(t.shift_end)) for t in teams]


@dataclass
class Eligibility:
    """Which teams may make each hotspot's stop, and when.

    ``dropped`` maps hotspot rows that cannot be a stop to their reason (a hotspot that no
    team can fit stays a candidate with no allowed team); ``allowed[k]`` lists the teams that
    could make stop ``k`` alone; ``windows[k]`` are the allowed start intervals in plan
    minutes (``None`` = any time in the shift).
    """

    dropped: dict[int, str]
    allowed: list[list[int]]
    windows: list[list[tuple[float, float]] | None]


def eligibility(
    spots: PatrolHotspots,
    teams: Sequence[Team],
    clock: PlanClock,
    shifts: Sequence[tuple[float, float]],
    tables: TravelTables,
    dwell: int,
) -> Eligibility:
    """Match hotspots with teams by skill, active hours within shifts and travel there and back.

    Parameters
    ----------
    spots
        The hotspots.
    teams
        The teams on shift.
    clock
        The plan clock.
    shifts
        Each team's shift in plan minutes.
    tables
        Travel times.
    dwell
        Length of a stop in minutes.

    Returns
    -------
    Eligibility
    """
    out = Eligibility({}, [], [])
    for k in range(len(spots.table)):
        skill_teams = [j for j, t in enumerate(teams) if t.can_take(spots.skills[k])]
        if not skill_teams:
            out.dropped[k] = REASON_SKILL
            out.allowed.append([])
            out.windows.append(None)
            continue
        if spots.hours[k]:
            runs = _hour_intervals(spots.hours[k], clock.t0, clock.t_end)
            starts = [(a, b - dwell) for a, b in runs if b - a >= dwell]
        else:
            starts = None
        ok: list[int] = []
        for j in skill_teams:
            s0, s1 = shifts[j]
            shift_iv = [(s0, s1 - dwell)]
            iv = shift_iv if starts is None else _intersect(starts, shift_iv)
            if iv:
                ok.append(j)
        if not ok:
            out.dropped[k] = REASON_SHIFT
            out.allowed.append([])
            out.windows.append(None)
            continue
        out.windows.append(starts)
        fit = _teams_that_fit(k, ok, starts, teams, shifts, tables, dwell)
        if not fit:
            out.dropped[k] = REASON_UNFIT
        out.allowed.append(fit)
    return out


def _teams_that_fit(
    k: int,
    ok: list[int],
    starts: list[tuple[float, float]] | None,
    teams: Sequence[Team],
    shifts: Sequence[tuple[float, float]],
    tables: TravelTables,
    dwell: int,
) -> list[int]:
    """Keep teams that could make stop ``k`` alone: out, (wait), dwell, back."""
    fit: list[int] = []
    for j in ok:
        s0, s1 = shifts[j]
        mode = teams[j].mode
        arrive = s0 + tables.tt(mode, tables.base_nodes[j], int(tables.stop_nodes[k]))
        latest = s1 - dwell - tables.tt(mode, tables.end_nodes[j], int(tables.stop_nodes[k]))
        iv = [(s0, s1)] if starts is None else starts
        if any(max(arrive, a) <= min(b, latest) + 1e-9 for a, b in iv):
            fit.append(j)
    return fit


@dataclass
class PatrolInstance:
    """The orienteering instance of a plan and how its locations map back to hotspots.

    Locations are the team starts, the team ends, then one visit per candidate hotspot and
    the second visits: ``visit_h[loc - 2 * m]`` is the hotspot row of visit ``loc``, and
    ``first_loc[k]`` the location of the first visit of row ``k``.
    """

    inst: OrienteeringInstance
    visit_h: list[int]
    first_loc: dict[int, int]
    breaks: list[tuple[float, float, float] | None]


def build_instance(
    spots: PatrolHotspots,
    teams: Sequence[Team],
    shifts: Sequence[tuple[float, float]],
    tables: TravelTables,
    elig: Eligibility,
    *,
    dwell: int,
    revisit_gap_minutes: int,
    max_stops: int | None,
) -> PatrolInstance:
    """Build the team orienteering instance of a plan (times in minutes after ``t0``).

    Parameters
    ----------
    spots, teams, shifts, tables, elig
        The hotspots, teams, their shifts in plan minutes, travel times and eligibility.
    dwell
        Length of a stop in minutes.
    revisit_gap_minutes
        Minimum gap between the starts of two visits of a hotspot.
    max_stops
        Cap on stops for every team without its own ``max_stops``.

    Returns
    -------
    PatrolInstance
    """
    # Locations: team starts, team ends, then one visit per hotspot (and second visits).
    m = len(teams)
    ids = spots.ids
    visit_h: list[int] = [k for k in range(len(spots.table)) if k not in elig.dropped]
    visit_h += [ids.index(h) for h in spots.rev if ids.index(h) not in elig.dropped]
    n_loc = 2 * m + len(visit_h)
    matrices = _location_matrices(tables, visit_h)
    vehicle_matrix = [tables.modes.index(t.mode) for t in teams]
    scores = np.zeros(n_loc)
    service = np.zeros(n_loc)
    windows: list[list[tuple[float, float]] | None] = [None] * n_loc
    allowed: list[list[int] | None] = [None] * n_loc
    mandatory = np.zeros(n_loc, dtype=bool)
    risks = spots.risks
    top = float(risks.max()) if risks.size and risks.max() > 0 else 1.0
    min_gaps: list[tuple[int, int, float]] = []
    first_loc: dict[int, int] = {}
    for q, k in enumerate(visit_h):
        loc = 2 * m + q
        scores[loc] = risks[k] / top
        service[loc] = dwell
        windows[loc] = elig.windows[k]
        allowed[loc] = elig.allowed[k]
        mandatory[loc] = ids[k] in spots.must and k not in first_loc
        if k in first_loc:
            min_gaps.append((first_loc[k], loc, float(revisit_gap_minutes)))
        else:
            first_loc[k] = loc
    breaks = team_breaks(teams, shifts)
    caps = [t.max_stops if t.max_stops is not None else max_stops for t in teams]
    inst = OrienteeringInstance(
        travel=matrices,
        vehicle_matrix=vehicle_matrix,
        scores=scores,
        service=service,
        starts=list(range(m)),
        ends=list(range(m, 2 * m)),
        vehicle_windows=shifts,
        windows=windows,
        allowed=allowed,
        mandatory=mandatory,
        max_stops=caps if any(c is not None for c in caps) else None,
        breaks=breaks if any(b is not None for b in breaks) else None,
        min_gaps=min_gaps,
        balance=True,  # no team idles while another has a stop it could take (issue 12)
        scale=PATROL_TIME_SCALE,
        score_scale=RISK_RESOLUTION,
    )
    return PatrolInstance(inst, visit_h, first_loc, breaks)


def _location_matrices(tables: TravelTables, visit_h: list[int]) -> list[np.ndarray]:
    """Travel minutes between the locations (starts, ends, visits), one matrix per mode."""
    loc_nodes = np.array(
        tables.base_nodes + tables.end_nodes + [int(tables.stop_nodes[k]) for k in visit_h],
        dtype=np.int64,
    )
    rows = np.array([tables.pos[int(nd)] for nd in loc_nodes], dtype=np.int64)
    return [tables.dist[mode][np.ix_(rows, rows)] for mode in tables.modes]


def team_breaks(
    teams: Sequence[Team], shifts: Sequence[tuple[float, float]]
) -> list[tuple[float, float, float] | None]:
    """Each team's break as ``(minutes, earliest start, latest start)``, or ``None``.

    The break starts between one hour after the shift start and one hour before its end, or
    anywhere in the shift when it is shorter than that.

    Parameters
    ----------
    teams
        The teams on shift.
    shifts
        Their shifts in plan minutes.

    Returns
    -------
    list
    """
    breaks: list[tuple[float, float, float] | None] = []
    for t, (s0, s1) in zip(teams, shifts, strict=True):
        if t.break_minutes <= 0:
            breaks.append(None)
            continue
        lo, hi = s0 + 60.0, s1 - 60.0 - t.break_minutes
        if hi < lo:
            lo, hi = s0, s1 - t.break_minutes
        if hi < lo:
            msg = f"Team {t.name!r}: a {t.break_minutes}-minute break does not fit its shift."
            raise ValueError(msg)
        breaks.append((float(t.break_minutes), lo, hi))
    return breaks
