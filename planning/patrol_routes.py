"""Team routes from an orienteering solution: stops, street legs, departure, return, break."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from planning import travel
from planning.orienteering import OrienteeringSolution
from planning.patrol_model import PatrolHotspots, PatrolInstance, PlanClock
from planning.patrol_network import PatrolNetwork, TravelTables
from planning.teams import Team

__all__ = ["RouteContext", "Stop", "TeamRoute", "team_routes"]


@dataclass(frozen=True)
class Stop:
    """One visit of a team to a hotspot: arrive, dwell, leave."""

    order: int
    hotspot_id: str
    label: str
    arrive: datetime
    leave: datetime
    lon: float
    lat: float
    skill: str
    risk: float = 0.0
    node: int = -1
    visit: int = 1


@dataclass(frozen=True)
class TeamRoute:
    """The ordered stops of one team with the street path of every leg.

    ``legs[k]`` is the street path (``(lon, lat)`` list) into ``stops[k]`` (``legs[0]`` from
    the base), and the last leg returns to the end base, so ``len(legs) == len(stops) + 1``
    when the team goes out (no legs when it has no stop).
    """

    team: Team
    stops: tuple[Stop, ...]
    legs: tuple[tuple[tuple[float, float], ...], ...]
    distance_m: float
    depart: datetime
    back: datetime
    break_start: datetime | None = None

    @property
    def shift_date(self) -> date:
        """The date of the team's shift (the plan date, or the next day for a ``day = 1`` team)."""
        return self.team.shift_start.date()

    @property
    def duration(self) -> timedelta:
        """From leaving the base to coming back."""
        return self.back - self.depart

    @property
    def duration_min(self) -> float:
        """:attr:`duration` in minutes."""
        return self.duration.total_seconds() / 60.0

    @property
    def path(self) -> list[tuple[float, float]]:
        """All legs joined into one ``(lon, lat)`` list."""
        out: list[tuple[float, float]] = []
        for leg in self.legs:
            pts = list(leg)
            if out and pts and out[-1] == pts[0]:
                pts = pts[1:]
            out.extend(pts)
        return out


@dataclass
class RouteContext:
    """What the route assembly needs from the planning steps (the plan clock, travel tables...)."""

    net: PatrolNetwork
    spots: PatrolHotspots
    tables: TravelTables
    model: PatrolInstance
    clock: PlanClock
    shifts: list[tuple[float, float]]
    dwell: int


def team_routes(
    teams: list[Team], sol: OrienteeringSolution, work: RouteContext
) -> tuple[list[TeamRoute], list[str], set[int]]:
    """Build each team's route from the solver's.

    Parameters
    ----------
    teams
        The teams, in solver vehicle order.
    sol
        The solution of the plan's orienteering instance.
    work
        The planning steps' data.

    Returns
    -------
    routes : list[TeamRoute]
        One per team.
    warnings : list[str]
        A warning per team whose break fits no idle gap.
    visited : set[int]
        Hotspot rows some team visits.
    """
    lookup = travel.segment_lookup(work.net.segments)
    xs = work.net.nodes["x"].to_numpy(np.float64)
    ys = work.net.nodes["y"].to_numpy(np.float64)
    routes: list[TeamRoute] = []
    warnings: list[str] = []
    visited_k: set[int] = set()
    for j, team in enumerate(teams):
        stops = _stops(j, sol, work, xs, ys, visited_k)
        legs, dist_m = _legs(j, team, stops, work, lookup)
        depart, back, gaps = _depart_back_gaps(j, team, stops, sol, work)
        brk = _break_start(j, team, gaps, work, warnings)
        if brk is not None:
            depart, back = _with_break(j, brk, gaps, depart, back, work)
        routes.append(
            TeamRoute(
                team=team,
                stops=tuple(stops),
                legs=tuple(legs),
                distance_m=dist_m,
                depart=work.clock.at(depart),
                back=work.clock.at(back),
                break_start=work.clock.at(brk[0]) if brk is not None else None,
            )
        )
    return routes, warnings, visited_k


def _stops(
    j: int,
    sol: OrienteeringSolution,
    work: RouteContext,
    xs: np.ndarray,
    ys: np.ndarray,
    visited_k: set[int],
) -> list[Stop]:
    """Team ``j``'s stops in order; adds their hotspot rows to ``visited_k``."""
    m = len(work.shifts)
    spots, at = work.spots, work.clock.at
    stops: list[Stop] = []
    for order_no, (loc, start) in enumerate(
        zip(sol.routes[j], sol.service_starts[j], strict=True), start=1
    ):
        k = work.model.visit_h[loc - 2 * m]
        visited_k.add(k)
        node = int(work.tables.stop_nodes[k])
        stops.append(
            Stop(
                order=order_no,
                hotspot_id=spots.ids[k],
                label=spots.labels[k],
                arrive=at(start),
                leave=at(start + work.dwell),
                lon=float(xs[node]),
                lat=float(ys[node]),
                skill=spots.skills[k],
                risk=float(spots.risks[k]),
                node=node,
                visit=1 if loc == work.model.first_loc.get(k) else 2,
            )
        )
    return stops


def _legs(
    j: int, team: Team, stops: list[Stop], work: RouteContext, lookup: Any
) -> tuple[list[tuple[tuple[float, float], ...]], float]:
    """Street paths from the base through the stops to the end base, and their length."""
    net, tables = work.net, work.tables
    pred = tables.pred[team.mode]
    nodes_seq = (
        [tables.base_nodes[j], *[s.node for s in stops], tables.end_nodes[j]] if stops else []
    )
    paths = [
        travel.street_path(net.node_matrix, pred, a, b, sources=tables.key_nodes)
        for a, b in itertools.pairwise(nodes_seq)
    ]
    dist_m = float(sum(travel.path_length_m(net.node_matrix, path) for path in paths))
    coords = travel.paths_coords(net.segments, net.nodes, paths, lookup=lookup)
    return [tuple(c) for c in coords], dist_m


def _depart_back_gaps(
    j: int, team: Team, stops: list[Stop], sol: OrienteeringSolution, work: RouteContext
) -> tuple[float, float, list[tuple[float, float, float]]]:
    """When team ``j`` leaves and is back (plan minutes), and the gaps a break may fall in.

    A gap is ``(free from, free until, travel)``: from leaving one place until service at the
    next, the leg's travel included (the break may fall during it, as in the solver).
    """
    minutes, tt, mode = work.clock.minutes, work.tables.tt, team.mode
    s0, s1 = work.shifts[j]
    if not stops:
        return s0, s0, [(s0, s1, 0.0)]
    # Leave the base just in time for the first stop (no idle wait there).
    first_leg = tt(mode, work.tables.base_nodes[j], stops[0].node)
    depart_min = max(sol.depart[j], minutes(stops[0].arrive) - first_leg)
    last = stops[-1]
    last_leg = tt(mode, work.tables.end_nodes[j], last.node)
    back_min = minutes(last.leave) + last_leg
    gaps = [(s0, minutes(stops[0].arrive), first_leg)]
    gaps += [
        (minutes(a.leave), minutes(b.arrive), tt(mode, a.node, b.node))
        for a, b in itertools.pairwise(stops)
    ]
    gaps.append((minutes(last.leave), s1, last_leg))
    return depart_min, back_min, gaps


def _break_start(
    j: int,
    team: Team,
    gaps: list[tuple[float, float, float]],
    work: RouteContext,
    warnings: list[str],
) -> tuple[float, int] | None:
    """The break start (plan minutes) in the first gap that holds it, and that gap's index.

    The break starts as early as its window allows and may fall during the gap's travel; it
    fits when the travel and the break together end by the end of the gap. Warns when no gap
    holds it.
    """
    spec = work.model.breaks[j]
    if spec is None:
        return None
    dur, lo, hi = spec
    for g, (a, b, leg) in enumerate(gaps):
        at = max(a, lo)
        if at <= hi + 1e-9 and max(at + dur, a + leg + dur) <= b + 1e-6:
            return at, g
    warnings.append(
        f"Team {team.name}: no {int(dur)}-minute gap for the break; plan it on the day."
    )
    return None


def _with_break(
    j: int,
    brk: tuple[float, int],
    gaps: list[tuple[float, float, float]],
    depart: float,
    back: float,
    work: RouteContext,
) -> tuple[float, float]:
    """Departure and return (plan minutes) once team ``j``'s break is in gap ``brk[1]``.

    A break on the first leg makes the team leave earlier, one on the way back makes it return
    later; a break at the base, or between stops, changes neither.
    """
    at, g = brk
    spec = work.model.breaks[j]
    dur = float(spec[0]) if spec is not None else 0.0
    a, b, leg = gaps[g]
    if len(gaps) > 1 and g == 0 and at + dur > depart:
        depart = b - leg - dur
    if len(gaps) > 1 and g == len(gaps) - 1 and at < back:
        back = a + leg + dur
    return depart, back
