"""Patrol plans: which hotspots each team visits, when, and by which streets.

The plan is assembled here from the steps in sibling modules, whose public names are
re-exported so that ``planning.routes`` stays the one import for callers: teams and shifts
(:mod:`planning.teams`), the orienteering model and solver (:mod:`planning.orienteering`,
:mod:`planning.orienteering_ortools`, :mod:`planning.orienteering_ils`,
:mod:`planning.orienteering_solver`, :mod:`planning.orienteering_check`), and the patrol
instance on a street network (:mod:`planning.patrol_network`, :mod:`planning.patrol_model`)
and the team routes read back from the solution (:mod:`planning.patrol_routes`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date as Date
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from planning import patrol_model, travel
from planning.orienteering import OrienteeringInstance as OrienteeringInstance
from planning.orienteering import OrienteeringSolution as OrienteeringSolution
from planning.orienteering_check import check_solution as check_solution
from planning.orienteering_solver import solve_orienteering as solve_orienteering
from planning.patrol_model import PATROL_TIME_SCALE as PATROL_TIME_SCALE
from planning.patrol_model import REASON_DETOUR as REASON_DETOUR
from planning.patrol_model import REASON_SHIFT as REASON_SHIFT
from planning.patrol_model import REASON_SKILL as REASON_SKILL
from planning.patrol_model import REASON_UNFIT as REASON_UNFIT
from planning.patrol_model import REASONS as REASONS
from planning.patrol_model import RISK_RESOLUTION as RISK_RESOLUTION
from planning.patrol_model import (
    PatrolHotspots,
    PlanClock,
    build_instance,
    check_hotspot_columns,
    eligibility,
    read_hotspots,
)
from planning.patrol_network import PatrolNetwork, as_patrol_network, travel_tables
from planning.patrol_network import hotspot_nodes as hotspot_nodes
from planning.patrol_routes import RouteContext, team_routes
from planning.patrol_routes import Stop as Stop
from planning.patrol_routes import TeamRoute as TeamRoute
from planning.teams import ROLE_SKILLS as ROLE_SKILLS
from planning.teams import SKILLS as SKILLS
from planning.teams import Team as Team
from planning.teams import load_teams as load_teams
from planning.teams import parse_shift as parse_shift
from planning.teams import team_skills as team_skills
from planning.teams import teams_from_dict as teams_from_dict
from planning.travel_straight import detour_factor, straight_line_network, travel_kind

__all__ = [
    *(name for name in patrol_model.__all__ if name.isupper()),  # the reasons and scales
    "ROLE_SKILLS",
    "SKILLS",
    "Dropped",
    "OrienteeringInstance",
    "OrienteeringSolution",
    "PatrolPlan",
    "Stop",
    "Team",
    "TeamRoute",
    "check_solution",
    "hotspot_nodes",
    "load_teams",
    "parse_shift",
    "plan_patrols",
    "solve_orienteering",
    "team_skills",
    "teams_from_dict",
]


class Dropped(NamedTuple):
    """A hotspot left out of the plan and why (one of :data:`REASONS`)."""

    hotspot_id: str
    label: str
    reason: str


@dataclass(frozen=True)
class PatrolPlan:
    """The proposal for one date: a route per team and the hotspots left out."""

    date: Date
    routes: tuple[TeamRoute, ...]
    dropped: tuple[Dropped, ...]
    risk_covered_share: float
    dwell_minutes: int
    generated_at: datetime
    settings: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def travel(self) -> str:
        """``"network"`` (street routes) or ``"straight-line"`` (approximate, no streets)."""
        return str(self.settings.get("travel", "network"))

    @property
    def visited_ids(self) -> list[str]:
        """Hotspot ids that some team visits (each once, in plan order)."""
        seen: dict[str, None] = {}
        for route in self.routes:
            for stop in route.stops:
                seen.setdefault(stop.hotspot_id, None)
        return list(seen)


def plan_patrols(
    network: Any,
    hotspots: pd.DataFrame,
    teams: Sequence[Team],
    *,
    date: Date,
    dwell_minutes: int | None = None,
    time_limit_s: float | None = None,
    seed: int = 0,
    solution_limit: int | None = None,
    revisit: Iterable[str] | None = None,
    revisit_gap_minutes: int = 60,
    must_visit: Iterable[str] = (),
    max_stops: int | None = None,
    metaheuristic: str = "GUIDED_LOCAL_SEARCH",
    first_solution: str = "PATH_CHEAPEST_ARC",
    settings: Any | None = None,
) -> PatrolPlan:
    """Propose which hotspots each team visits, when, and by which streets.

    A team orienteering problem with time windows solved by :func:`solve_orienteering`:
    each hotspot is an optional stop worth its risk; a stop lasts ``dwell_minutes`` and the
    whole dwell falls inside a run of the hotspot's active hours on the plan date (hours wrap
    past midnight; no active hours = any time in the shift) and inside the team's shift; a
    stop needs a team holding its skill; every team leaves its base at or after its shift
    start and is back at its end base by the shift end. A team's break (``break_minutes``) is
    an OR-Tools break interval starting between one hour after the shift start and one hour
    before its end (anywhere in the shift when it is shorter than that), not overlapping
    travel or a stop.

    Parameters
    ----------
    network
        A ``StreetNetwork`` (``.segments``, ``.nodes``, ``.node_matrix()``) or a
        ``(segments, nodes)`` pair; ``None`` plans without streets: straight-line distance
        times ``[patrols] straight_line_detour`` at each team's speed
        (:mod:`planning.travel_straight`), and the plan's ``travel`` says "straight-line".
    hotspots
        The hotspot table (CONTRACTS): ``hotspot_id``, ``label``, ``risk``, ``skill``,
        ``active_hours``, ``segment_ids``, ``geometry``.
    teams
        The teams on shift.
    date
        The plan date (active hours are read on this day and the next).
    dwell_minutes
        Length of every stop; default ``[patrols] dwell_minutes`` (15, the Koper curve).
    time_limit_s
        Time for the whole plan, default ``[patrols] time_limit_s`` (5 s): travel times,
        search and street paths together. The search gets what the travel times leave, less
        a reserve for the street paths; when the travel times alone take it all, the plan is
        the first-stage greedy routes (the plan's ``settings`` record the seconds).
    seed
        Seeds the iterated local search and changes, deterministically, the order the stops
        enter the OR-Tools model (0 = risk order); OR-Tools routing itself has no seed.
    solution_limit
        Stop after this many improving solutions (deterministic results for tests).
    revisit
        Hotspot ids to visit twice, the second visit starting at least
        ``revisit_gap_minutes`` after the first; each visit is worth the hotspot's risk to
        the solver, but the risk counts once in ``risk_covered_share``.
    revisit_gap_minutes
        Minimum gap between the starts of the two visits.
    must_visit
        Hotspot ids carrying a very large drop penalty; when one is still dropped the plan's
        ``warnings`` say so.
    max_stops
        Cap on stops for every team without its own ``max_stops``.
    metaheuristic, first_solution
        OR-Tools search settings (``GREEDY_DESCENT`` is fast and deterministic).
    settings
        :class:`geo.settings.Settings`; loaded from the default file when omitted.

    Returns
    -------
    PatrolPlan
    """
    t_start = time.perf_counter()
    settings, dwell, limit = _plan_options(settings, dwell_minutes, time_limit_s)
    teams = _checked_inputs(teams, hotspots)
    spots = read_hotspots(hotspots, revisit, must_visit)
    net = (
        as_patrol_network(network)
        if network is not None
        else straight_line_network(spots.table, teams, settings=settings)
    )
    search = _Search(limit, seed, solution_limit, metaheuristic, first_solution, t_start + limit)
    rules = _Rules(dwell, revisit_gap_minutes, max_stops)
    work, dropped, sol = _solve_plan(net, spots, teams, settings, rules, search)
    plan = _assemble_plan(date, teams, sol, work, dropped, rules, search, settings)
    kind = {"travel": travel_kind(network)}
    if network is None:
        kind["straight_line_detour"] = detour_factor(settings)
    return replace(plan, settings={**plan.settings, **kind})


@dataclass(frozen=True)
class _Search:
    """Search options of :func:`plan_patrols` (``seed`` as given)."""

    time_limit_s: float
    seed: Any
    solution_limit: int | None
    metaheuristic: str
    first_solution: str
    deadline: float = float("inf")


@dataclass(frozen=True)
class _Rules:
    """Stop rules of :func:`plan_patrols`."""

    dwell: int
    revisit_gap_minutes: int
    max_stops: int | None


def _plan_options(
    settings: Any | None, dwell_minutes: int | None, time_limit_s: float | None
) -> tuple[Any, int, float]:
    """Settings (loaded when omitted), dwell minutes and time limit, defaults from settings."""
    if settings is None:
        from geo.settings import load_settings

        settings = load_settings()
    patrols = travel._patrols(settings)
    dwell = int(patrols.get("dwell_minutes", 15) if dwell_minutes is None else dwell_minutes)
    limit = float(patrols.get("time_limit_s", 5) if time_limit_s is None else time_limit_s)
    if dwell <= 0:
        msg = "dwell_minutes must be positive (15 is the Koper-curve default)."
        raise ValueError(msg)
    return settings, dwell, limit


def _checked_inputs(teams: Sequence[Team], hotspots: pd.DataFrame) -> list[Team]:
    """The teams as a list; refuse none, duplicate names or a hotspot table lacking columns."""
    teams = list(teams)
    if not teams:
        msg = "No team is on shift; add at least one team to plan patrols."
        raise ValueError(msg)
    if len({t.name for t in teams}) != len(teams):
        msg = "Two teams share a name; give each team its own name."
        raise ValueError(msg)
    check_hotspot_columns(hotspots)
    return teams


def _solve_plan(
    net: PatrolNetwork,
    spots: PatrolHotspots,
    teams: list[Team],
    settings: Any,
    rules: _Rules,
    search: _Search,
) -> tuple[RouteContext, dict[int, str], OrienteeringSolution]:
    """Build the orienteering instance of the plan and solve it."""
    clock = PlanClock.of(teams)
    shifts = clock.shifts(teams)
    tables = travel_tables(net, spots.table, teams, settings)
    elig = eligibility(spots, teams, clock, shifts, tables, rules.dwell)
    model = build_instance(
        spots,
        teams,
        shifts,
        tables,
        elig,
        dwell=rules.dwell,
        revisit_gap_minutes=rules.revisit_gap_minutes,
        max_stops=rules.max_stops,
    )
    m = len(teams)
    order = None
    if search.seed:
        rng = np.random.default_rng(search.seed)
        order = [2 * m + int(q) for q in rng.permutation(len(model.visit_h))]
    sol = solve_orienteering(
        model.inst,
        time_limit_s=search.time_limit_s,
        deadline=search.deadline - _assembly_reserve(search.time_limit_s, model),
        solution_limit=search.solution_limit,
        first_solution=search.first_solution,
        metaheuristic=search.metaheuristic,
        order=order,
        seed=int(search.seed),
    )
    work = RouteContext(net, spots, tables, model, clock, shifts, rules.dwell)
    return work, elig.dropped, sol


def _assembly_reserve(limit: float, model: Any) -> float:
    """Seconds to keep for the street paths and the plan after the search (a rough estimate)."""
    return min(0.05 + 0.002 * len(model.visit_h), 0.1 * limit)


def _assemble_plan(
    date: Date,
    teams: list[Team],
    sol: OrienteeringSolution,
    work: RouteContext,
    dropped: dict[int, str],
    rules: _Rules,
    search: _Search,
    settings: Any,
) -> PatrolPlan:
    """The plan from the solver's routes: team routes, dropped hotspots and warnings."""
    routes, warnings, visited_k = team_routes(teams, sol, work)
    drop_list = _dropped(work.spots, dropped, visited_k, warnings)
    risks = work.spots.risks
    total = float(risks.sum())
    covered = float(sum(risks[k] for k in visited_k))
    return PatrolPlan(
        date=date,
        routes=tuple(routes),
        dropped=tuple(drop_list),
        risk_covered_share=covered / total if total > 0 else 0.0,
        dwell_minutes=rules.dwell,
        generated_at=datetime.now().replace(microsecond=0),
        settings=_plan_settings(work.spots, rules, search, settings, sol),
        warnings=tuple(warnings),
    )


def _dropped(
    spots: PatrolHotspots, dropped: dict[int, str], visited_k: set[int], warnings: list[str]
) -> list[Dropped]:
    """Hotspots left out, with their reasons; warns about must-visit ones."""
    drop_list: list[Dropped] = []
    ids, labels = spots.ids, spots.labels
    for k in range(len(spots.table)):
        if k in visited_k:
            continue
        reason = dropped.get(k, REASON_DETOUR)
        drop_list.append(Dropped(ids[k], labels[k], reason))
        if ids[k] in spots.must:
            warnings.append(
                f"Must-visit hotspot {ids[k]} ({labels[k]}) is not in the plan: {reason}."
            )
    return drop_list


def _plan_settings(
    spots: PatrolHotspots,
    rules: _Rules,
    search: _Search,
    settings: Any,
    sol: OrienteeringSolution,
) -> dict[str, Any]:
    """The settings a plan records (shown with it and exported)."""
    return {
        "time_limit_s": search.time_limit_s,
        "seed": int(search.seed),
        "solution_limit": search.solution_limit,
        "metaheuristic": search.metaheuristic,
        "first_solution": search.first_solution,
        "revisit": list(spots.rev),
        "revisit_gap_minutes": int(rules.revisit_gap_minutes),
        "must_visit": sorted(spots.must),
        "max_stops": rules.max_stops,
        "walk_kmh": travel.mode_speed_kmh("walk", settings=settings),
        "solver_status": sol.status,
        "solver_stage": sol.stage,
        "solver_seconds": round(sol.seconds, 3),
        "plan_seconds": round(time.perf_counter() - search.deadline + search.time_limit_s, 3),
    }
