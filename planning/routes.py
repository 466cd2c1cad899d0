"""Patrol teams and plans, and the team-orienteering solver (OR-Tools) that proposes routes."""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planning import travel

#: Reasons a hotspot is left out of a plan (exactly these strings).
REASON_SKILL = "no team has the skill"
REASON_SHIFT = "outside every shift"
REASON_DETOUR = "not worth the detour"
REASON_UNFIT = "could not be fitted"
REASONS = (REASON_SKILL, REASON_SHIFT, REASON_DETOUR, REASON_UNFIT)

#: Skills a hotspot may call for (``hotspots.skill``). A stop needs a team holding exactly that
#: skill: "police" stops any team with a police member, "sharps" stops only a team with the
#: sharps skill (a police team records the place and calls the council sharps line instead of
#: handling needles, per the ``needles`` action in settings), "outreach" stops only a team with
#: an outreach worker.
SKILLS = ("police", "sharps", "outreach")

#: Default skills of member roles (lower case). A team's skills are the union of its members'
#: skills and any ``skills`` listed for it.
ROLE_SKILLS: dict[str, tuple[str, ...]] = {
    "pcso": ("police",),
    "police officer": ("police",),
    "pc": ("police",),
    "special constable": ("police",),
    "sergeant": ("police",),
    "outreach worker": ("outreach",),
    "outreach": ("outreach",),
    "sharps team": ("sharps",),
    "sharps officer": ("sharps",),
    "street cleansing": ("sharps",),
    "council officer": (),
    "asb officer": (),
}

#: Weight of the best hotspot in the solver objective; smaller risks are scaled in proportion
#: (so risks are resolved to 1/10,000 of the largest).
RISK_RESOLUTION = 10_000
#: Model time units per minute for patrols (60 = whole seconds).
PATROL_TIME_SCALE = 60


# --------------------------------------------------------------------------------------------
# Teams and plans
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    """A patrol team for one shift.

    ``members`` are roles ("PCSO", "Outreach worker"), never names. ``skills`` are the union of
    the members' skills. ``base``/``end_base`` are ``(lon, lat)``; the team returns to ``base``
    unless ``end_base`` is given.
    """

    name: str
    skills: tuple[str, ...]
    base: tuple[float, float]
    shift_start: datetime
    shift_end: datetime
    mode: str = "walk"
    end_base: tuple[float, float] | None = None
    max_stops: int | None = None
    break_minutes: int = 0
    members: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.shift_end <= self.shift_start:
            msg = f"Team {self.name!r}: the shift must end after it starts; check its shift times."
            raise ValueError(msg)
        travel._check_mode(self.mode)
        if self.break_minutes < 0:
            msg = f"Team {self.name!r}: break_minutes must be zero or more."
            raise ValueError(msg)
        if self.max_stops is not None and self.max_stops < 0:
            msg = f"Team {self.name!r}: max_stops must be zero or more."
            raise ValueError(msg)

    @property
    def finish_base(self) -> tuple[float, float]:
        """Where the team ends its shift."""
        return self.end_base if self.end_base is not None else self.base

    def can_take(self, skill: str) -> bool:
        """Whether this team may be given a stop calling for ``skill``."""
        return skill in self.skills


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
    def visited_ids(self) -> list[str]:
        """Hotspot ids that some team visits (each once, in plan order)."""
        seen: dict[str, None] = {}
        for route in self.routes:
            for stop in route.stops:
                seen.setdefault(stop.hotspot_id, None)
        return list(seen)


# --------------------------------------------------------------------------------------------
# Teams TOML
# --------------------------------------------------------------------------------------------


def parse_shift(text: str, *, date: Date) -> tuple[datetime, datetime]:
    """Turn ``"18:00-22:00"`` into start and end datetimes on ``date``.

    An end at or before the start (``"20:00-00:00"``) falls on the next day; ``"24:00"`` is
    midnight at the end of the day.

    Parameters
    ----------
    text
        ``"HH:MM-HH:MM"``.
    date
        The day the shift starts.

    Returns
    -------
    tuple[datetime, datetime]
    """
    try:
        a, b = (part.strip() for part in str(text).split("-"))
        start = datetime.combine(date, _parse_hhmm(a))
        if b in ("24:00", "24"):
            end = datetime.combine(date + timedelta(days=1), time(0, 0))
        else:
            end = datetime.combine(date, _parse_hhmm(b))
    except ValueError:
        msg = f"Shift {text!r} is not like '18:00-22:00'; write start and end as HH:MM-HH:MM."
        raise ValueError(msg) from None
    if end <= start:
        end += timedelta(days=1)
    return start, end


def _parse_hhmm(text: str) -> time:
    hh, _, mm = text.partition(":")
    return time(int(hh), int(mm or 0))


def team_skills(members: Iterable[str], skills: Iterable[str] = ()) -> tuple[str, ...]:
    """Return the union of listed skills and the skills of member roles (:data:`ROLE_SKILLS`).

    Parameters
    ----------
    members
        Roles such as ``"PCSO"`` or ``"Outreach worker"``.
    skills
        Extra skills held by the team.

    Returns
    -------
    tuple[str, ...]
        Sorted, without duplicates.
    """
    out = {str(s).strip().lower() for s in skills if str(s).strip()}
    for role in members:
        out.update(ROLE_SKILLS.get(str(role).strip().lower(), ()))
    return tuple(sorted(out))


def load_teams(path_toml: str | Path, *, date: Date) -> list[Team]:
    """Read the teams on shift from a TOML file.

    The format::

        [bases]                         # optional named places, [lon, lat]
        station = [-0.3367, 53.7446]

        [[team]]
        name = "Foot patrol"
        members = ["PCSO", "PCSO"]      # roles, never names
        skills = ["police"]             # optional; added to the roles' skills
        base_name = "station"           # or base = [lon, lat]
        end_base_name = "station"       # optional (or end_base = [lon, lat]); default: base
        shift = "18:00-22:00"           # end before start = past midnight
        day = 0                         # optional: days after the plan date (1 = tomorrow)
        mode = "walk"                   # walk (default), cycle or drive
        max_stops = 6                   # optional
        break_minutes = 30              # optional

    Parameters
    ----------
    path_toml
        The TOML file.
    date
        The plan date; shifts start on it (plus ``day``).

    Returns
    -------
    list[Team]
    """
    path = Path(path_toml)
    if not path.is_file():
        msg = f"Teams file {path} not found; write one as described in planning.routes.load_teams."
        raise FileNotFoundError(msg)
    with path.open("rb") as fh:
        try:
            raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            msg = f"Teams file {path} is not valid TOML ({exc}); fix the line it names."
            raise ValueError(msg) from None
    return teams_from_dict(raw, date=date)


def teams_from_dict(raw: Mapping[str, Any], *, date: Date) -> list[Team]:
    """Build teams from a parsed teams TOML document (see :func:`load_teams`).

    Parameters
    ----------
    raw
        The document.
    date
        The plan date.

    Returns
    -------
    list[Team]
    """
    bases = {str(k): _lonlat(v, f"bases.{k}") for k, v in (raw.get("bases") or {}).items()}
    specs = raw.get("team") or raw.get("teams") or []
    if not specs:
        msg = "The teams file lists no team; add a [[team]] table per team."
        raise ValueError(msg)
    teams: list[Team] = []
    names: set[str] = set()
    for k, spec in enumerate(specs, start=1):
        name = str(spec.get("name") or f"Team {k}")
        if name in names:
            msg = f"Two teams are called {name!r}; give each team its own name."
            raise ValueError(msg)
        names.add(name)
        base = _base(spec, "base", bases, name)
        if base is None:
            msg = f"Team {name!r} has no base; add base = [lon, lat] or base_name from [bases]."
            raise ValueError(msg)
        end_base = _base(spec, "end_base", bases, name)
        if "shift" not in spec:
            msg = f'Team {name!r} has no shift; add shift = "18:00-22:00".'
            raise ValueError(msg)
        day = date + timedelta(days=int(spec.get("day", 0)))
        start, end = parse_shift(spec["shift"], date=day)
        members = tuple(str(m) for m in spec.get("members", ()))
        skills = team_skills(members, spec.get("skills", ()))
        if not skills:
            msg = (
                f'Team {name!r} has no skill; list skills = ["police"] (or sharps, outreach) '
                "or members with known roles such as PCSO or Outreach worker."
            )
            raise ValueError(msg)
        max_stops = spec.get("max_stops")
        teams.append(
            Team(
                name=name,
                skills=skills,
                base=base,
                shift_start=start,
                shift_end=end,
                mode=str(spec.get("mode", "walk")),
                end_base=end_base,
                max_stops=None if max_stops is None else int(max_stops),
                break_minutes=int(spec.get("break_minutes", 0)),
                members=members,
            )
        )
    return teams


def _lonlat(value: Any, where: str) -> tuple[float, float]:
    try:
        lon, lat = (float(x) for x in value)
    except (TypeError, ValueError):
        msg = f"{where} must be [lon, lat], got {value!r}."
        raise ValueError(msg) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"{where} = {value!r} is not a [lon, lat] pair in degrees; check the order."
        raise ValueError(msg)
    return (lon, lat)


def _base(
    spec: Mapping[str, Any], key: str, bases: Mapping[str, tuple[float, float]], name: str
) -> tuple[float, float] | None:
    ref = spec.get(f"{key}_name")
    value = spec.get(key)
    if isinstance(value, str):
        ref, value = value, None
    if ref is not None:
        if ref not in bases:
            msg = f"Team {name!r}: base {ref!r} is not in [bases]; add it there as [lon, lat]."
            raise ValueError(msg)
        return bases[ref]
    if value is None:
        return None
    return _lonlat(value, f"team {name!r} {key}")


# --------------------------------------------------------------------------------------------
# Generic orienteering core (shared by plan_patrols and benchmarks/top.py)
# --------------------------------------------------------------------------------------------


@dataclass
class OrienteeringInstance:
    """A team orienteering problem with time windows, in the instance's own units.

    Locations ``0..n-1`` include the depots. Time and distance coincide (``travel``).

    Attributes
    ----------
    travel
        ``n x n`` travel times, or a list of such matrices (one per travel mode) chosen per
        vehicle by ``vehicle_matrix``.
    scores
        Score of visiting each location (0 for depots).
    service
        Service (dwell) time at each location.
    starts, ends
        Start and end location of each vehicle; depots must not be visits.
    vehicle_windows
        ``(earliest departure, latest return)`` of each vehicle.
    windows
        Per location, the allowed intervals for the start of service, or ``None`` for the
        vehicle's whole horizon.
    allowed
        Per location, the vehicles that may visit it (``None`` = any).
    mandatory
        Per location, whether it carries a very large drop penalty.
    max_stops
        Per vehicle, the largest number of visits (``None`` = no cap).
    breaks
        Per vehicle, ``(duration, earliest start, latest start)`` of one break, or ``None``.
    min_gaps
        ``(i, j, gap)``: when both ``i`` and ``j`` are visited, ``j`` starts at least ``gap``
        after ``i`` starts.
    scale
        Model units per instance unit; travel and service are rounded up and windows inwards,
        so a route feasible in the model is feasible in the instance's units.
    score_scale
        Integer model score per unit of score (scores are rounded to integers after scaling).
    """

    travel: np.ndarray | Sequence[np.ndarray]
    scores: np.ndarray
    service: np.ndarray
    starts: Sequence[int]
    ends: Sequence[int]
    vehicle_windows: Sequence[tuple[float, float]]
    windows: Sequence[Sequence[tuple[float, float]] | None] | None = None
    vehicle_matrix: Sequence[int] | None = None
    allowed: Sequence[Sequence[int] | None] | None = None
    mandatory: Sequence[bool] | None = None
    max_stops: Sequence[int | None] | None = None
    breaks: Sequence[tuple[float, float, float] | None] | None = None
    min_gaps: Sequence[tuple[int, int, float]] = ()
    scale: float = 1.0
    score_scale: float = 1.0

    @property
    def n(self) -> int:
        """Number of locations."""
        return len(self.scores)

    @property
    def n_vehicles(self) -> int:
        """Number of vehicles."""
        return len(self.starts)

    def matrices(self) -> list[np.ndarray]:
        """The travel matrices as a list."""
        if isinstance(self.travel, np.ndarray) and self.travel.ndim == 2:
            return [self.travel]
        return [np.asarray(m, dtype=np.float64) for m in self.travel]

    def matrix_of(self, vehicle: int) -> np.ndarray:
        """The travel matrix vehicle ``vehicle`` uses."""
        mats = self.matrices()
        return mats[0 if self.vehicle_matrix is None else self.vehicle_matrix[vehicle]]


@dataclass
class OrienteeringSolution:
    """Routes found by :func:`solve_orienteering`, in the instance's units."""

    routes: list[list[int]]
    service_starts: list[list[float]]
    depart: list[float]
    back: list[float]
    break_starts: list[float | None]
    score: float
    objective: int
    seconds: float
    status: str

    @property
    def visited(self) -> set[int]:
        """All locations visited."""
        return {i for r in self.routes for i in r}


_FIRST = {
    "PATH_CHEAPEST_ARC",
    "PARALLEL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_INSERTION",
    "SEQUENTIAL_CHEAPEST_INSERTION",
    "BEST_INSERTION",
    "SAVINGS",
    "ALL_UNPERFORMED",
    "GLOBAL_CHEAPEST_ARC",
    "LOCAL_CHEAPEST_ARC",
    "PATH_MOST_CONSTRAINED_ARC",
    "AUTOMATIC",
}
_META = {"GUIDED_LOCAL_SEARCH", "GREEDY_DESCENT", "SIMULATED_ANNEALING", "TABU_SEARCH", "AUTOMATIC"}


def _up(x: np.ndarray | float, scale: float) -> np.ndarray:
    """Scale and round up, forgiving float noise (12.3 * 10 = 122.99999...)."""
    return np.ceil(np.round(np.asarray(x, dtype=np.float64) * scale, 6)).astype(np.int64)


def _down(x: np.ndarray | float, scale: float) -> np.ndarray:
    return np.floor(np.round(np.asarray(x, dtype=np.float64) * scale, 6)).astype(np.int64)


class _Ils:
    """Iterated local search for the team orienteering problem with time windows.

    Vansteenwegen, Souffriau, Vanden Berghe and Van Oudheusden (2009), *Iterated local search
    for the team orienteering problem with time windows*, Computers & Operations Research 36:
    insertion by the ratio score^2 / time added, checked in O(1) with each visit's wait and
    ``maxShift``; shaking removes ``S`` consecutive visits from position ``R`` of every route.
    Works on the integer model data, so its routes are feasible for the OR-Tools model except
    for breaks and revisit gaps (which OR-Tools then enforces or repairs).
    """

    def __init__(
        self,
        mats: list[np.ndarray],
        vmat: list[int],
        service: np.ndarray,
        cand_node: np.ndarray,
        cand_open: np.ndarray,
        cand_close: np.ndarray,
        cand_group: np.ndarray,
        cand_score: np.ndarray,
        cand_allowed: np.ndarray,
        starts: list[int],
        ends: list[int],
        vwin: list[tuple[int, int]],
        caps: list[int],
    ) -> None:
        self.mats = [m.astype(np.float64) for m in mats]
        self.vmat, self.service = vmat, service.astype(np.float64)
        self.node, self.open, self.close = (
            cand_node,
            cand_open.astype(float),
            cand_close.astype(float),
        )
        self.group, self.score, self.allowed = cand_group, cand_score.astype(float), cand_allowed
        self.starts, self.ends, self.vwin, self.caps = starts, ends, vwin, caps
        self.m = len(starts)
        self.routes: list[list[int]] = [[] for _ in range(self.m)]
        self.stall_limit = 300
        horizon = max(b for _, b in vwin)
        # Visits whose window never binds (and symmetric travel): 2-opt may reorder them freely.
        symmetric = all(np.allclose(m, m.T) for m in self.mats)
        self.free = (self.open <= min(a for a, _ in vwin)) & (self.close >= horizon) & symmetric
        self.group_used = np.zeros(int(cand_group.max(initial=-1)) + 1, dtype=bool)
        self.sched = [self._schedule(v) for v in range(self.m)]

    def _schedule(self, v: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        t = self.mats[self.vmat[v]]
        cands = self.routes[v]
        nodes = np.array([self.starts[v], *self.node[cands], self.ends[v]], dtype=np.int64)
        a, b = self.vwin[v]
        opens = np.concatenate([[a], self.open[cands], [a]])
        closes = np.concatenate([[b], self.close[cands], [b]])
        n = len(nodes)
        start = np.empty(n)
        wait = np.zeros(n)
        start[0] = a
        for i in range(1, n):
            arr = start[i - 1] + self.service[nodes[i - 1]] + t[nodes[i - 1], nodes[i]]
            start[i] = max(arr, opens[i])
            wait[i] = start[i] - arr
        maxshift = np.empty(n)
        maxshift[-1] = b - start[-1]
        for i in range(n - 2, -1, -1):
            maxshift[i] = min(closes[i] - start[i], wait[i + 1] + maxshift[i + 1])
        return nodes, start, wait, maxshift

    def insert_best(self, power: float = 2.0, noise: np.ndarray | None = None) -> bool:
        avail = ~self.group_used[self.group]
        best = (-np.inf, -1, -1, -1)
        for v in range(self.m):
            if len(self.routes[v]) >= self.caps[v]:
                continue
            cand = np.flatnonzero(avail & self.allowed[:, v])
            if cand.size == 0:
                continue
            t = self.mats[self.vmat[v]]
            nodes, start, wait, maxshift = self.sched[v]
            prev, nxt = nodes[:-1], nodes[1:]
            jn = self.node[cand]
            t_in = t[prev][:, jn].T
            arr = (start[:-1] + self.service[prev])[None, :] + t_in
            ok = arr <= self.close[cand][:, None]
            w = np.maximum(0.0, self.open[cand][:, None] - arr)
            shift = t_in + w + self.service[jn][:, None] + t[jn][:, nxt] - t[prev, nxt][None, :]
            ok &= shift <= (wait[1:] + maxshift[1:])[None, :]
            if not ok.any():
                continue
            value = self.score[cand] ** power
            if noise is not None:
                value = value * noise[cand]
            ratio = np.where(ok, value[:, None] / np.maximum(shift, 1e-3), -np.inf)
            k = int(np.argmax(ratio))
            r = ratio.flat[k]
            if r > best[0]:
                best = (r, v, int(cand[k // ratio.shape[1]]), k % ratio.shape[1])
        if best[1] < 0:
            return False
        _, v, c, pos = best
        self.routes[v].insert(pos, c)
        self.group_used[self.group[c]] = True
        self.sched[v] = self._schedule(v)
        return True

    def shake(self, s: int, r: int) -> None:
        for v in range(self.m):
            route = self.routes[v]
            if not route:
                continue
            a = r % len(route)
            for c in route[a : a + s]:
                self.group_used[self.group[c]] = False
            del route[a : a + s]
            self.sched[v] = self._schedule(v)

    def total(self) -> float:
        return float(sum(self.score[c] for route in self.routes for c in route))

    def _restore(self, routes: list[list[int]]) -> None:
        self.routes = [list(x) for x in routes]
        self.group_used[:] = False
        for route in self.routes:
            self.group_used[self.group[route]] = True
        self.sched = [self._schedule(v) for v in range(self.m)]

    def _two_opt(self, v: int) -> bool:
        """Best-improvement 2-opt on a route whose visits have no binding window."""
        route = self.routes[v]
        if len(route) < 3 or not self.free[route].all():
            return False
        t = self.mats[self.vmat[v]]
        improved = False
        for _ in range(4 * len(route)):
            p = np.array([self.starts[v], *self.node[route], self.ends[v]], dtype=np.int64)
            a, b = p[:-1], p[1:]
            delta = t[a[:, None], a[None, :]] + t[b[:, None], b[None, :]]
            delta -= t[a, b][:, None] + t[a, b][None, :]
            delta = np.triu(delta, 2)
            # The move reverses visits i+1..j; the first index is the start depot.
            i, j = np.unravel_index(int(np.argmin(delta)), delta.shape)
            if delta[i, j] >= -1e-9:
                break
            route[i:j] = route[i:j][::-1]
            improved = True
        if improved:
            self.sched[v] = self._schedule(v)
        return improved

    def _fill(self, power: float = 2.0, noise: np.ndarray | None = None) -> float:
        for _ in range(3):
            while self.insert_best(power, noise):
                pass
            if not any([self._two_opt(v) for v in range(self.m)]):
                break
        return self.total()

    def run(
        self, deadline: float, *, max_iterations: int | None = None, seed: int = 0
    ) -> list[list[int]]:
        """Ruin and recreate from the greedy start until ``deadline``; return the best routes."""
        import time as _time

        rng = np.random.default_rng(seed)
        self.iterations = 0
        current = self._fill()
        best_score, best = current, [list(x) for x in self.routes]
        cur_routes = [list(x) for x in self.routes]
        t_begin = _time.perf_counter()
        span = max(deadline - t_begin, 1e-6)
        xy_node = self.node
        stall = 0
        while _time.perf_counter() < deadline:
            if max_iterations is not None and self.iterations >= max_iterations:
                break
            if stall >= self.stall_limit:
                # Diversify: a fresh randomised greedy start (the best so far is kept).
                self._restore([[] for _ in range(self.m)])
                noise = rng.uniform(0.5, 1.5, size=len(self.node))
                current = self._fill(float(rng.choice([1.0, 2.0, 3.0])), noise)
                cur_routes, stall = [list(x) for x in self.routes], 0
            self.iterations += 1
            progress = (_time.perf_counter() - t_begin) / span
            kind = rng.integers(0, 3)
            for v in range(self.m):
                route = self.routes[v]
                if not route:
                    continue
                size = int(rng.integers(1, len(route) // 2 + 2))
                if kind == 0:  # a run of consecutive visits
                    a = int(rng.integers(0, len(route)))
                    drop = route[a : a + size]
                elif kind == 1:  # random visits
                    drop = list(rng.choice(route, size=min(size, len(route)), replace=False))
                else:  # visits close (in travel) to a random one
                    t = self.mats[self.vmat[v]]
                    pivot = xy_node[route[int(rng.integers(0, len(route)))]]
                    near = np.argsort(t[pivot, xy_node[route]])[:size]
                    drop = [route[i] for i in near]
                for c in drop:
                    self.group_used[self.group[c]] = False
                self.routes[v] = [c for c in route if c not in set(drop)]
                self.sched[v] = self._schedule(v)
            noise = rng.uniform(0.8, 1.2, size=len(self.node))
            score = self._fill(float(rng.choice([1.0, 2.0, 3.0])), noise)
            if score > best_score + 1e-9:
                best_score, best = score, [list(x) for x in self.routes]
                stall = 0
            else:
                stall += 1
            threshold = 0.03 * (1.0 - progress)
            if score >= current - 1e-9 or score >= best_score * (1.0 - threshold):
                current, cur_routes = score, [list(x) for x in self.routes]
            else:
                self._restore(cur_routes)
        return best


def solve_orienteering(
    inst: OrienteeringInstance,
    *,
    time_limit_s: float = 5.0,
    solution_limit: int | None = None,
    first_solution: str = "PATH_CHEAPEST_ARC",
    metaheuristic: str = "GUIDED_LOCAL_SEARCH",
    order: Sequence[int] | None = None,
    ils_share: float = 0.5,
    ils_iterations: int | None = None,
    seed: int = 0,
) -> OrienteeringSolution:
    """Solve a team orienteering problem with time windows with OR-Tools routing.

    Every non-depot location is optional (``AddDisjunction``) with a drop penalty of its score
    times a constant larger than any total travel, so the solver maximises the score first and
    shortens travel second. Time is one dimension with waiting slack, service time added on
    leaving a location, windows on the cumul variables (gaps removed for split windows) and each
    vehicle's departure and return bounded by its window. Allowed vehicles go on the vehicle
    variable (``VehicleVar(i).SetValues([-1] + allowed)``; ``SetAllowedVehiclesForIndex``
    fails from Python in OR-Tools 9.15).

    The search runs in two stages sharing ``time_limit_s``: first (``ils_share`` of the time)
    a ruin-and-recreate iterated local search on the same integer model (insertion by
    score^p / time added with O(1) wait/maxShift checks, after Vansteenwegen et al. 2009;
    2-opt on routes without binding windows; random restarts when stalled), then OR-Tools
    (``first_solution`` + ``metaheuristic``) polishes that solution, or solves from scratch
    when it does not satisfy breaks or gaps. OR-Tools alone was 6-20 % below the proven optima
    of the Solomon/Cordeau TOPTW benchmarks in 2 s; the two stages are within about 1 %.

    Parameters
    ----------
    inst
        The instance.
    time_limit_s
        Hard wall-clock limit of the search.
    solution_limit
        Stop after this many improving solutions (deterministic, for tests).
    first_solution
        OR-Tools ``FirstSolutionStrategy`` name.
    metaheuristic
        OR-Tools ``LocalSearchMetaheuristic`` name (``GREEDY_DESCENT`` is fast and deterministic).
    ils_share
        Share of the time limit for the iterated local search (0 = OR-Tools only).
    ils_iterations
        Cap on its iterations (200 by default when ``solution_limit`` is set, so tests are
        deterministic).
    seed
        Seed of its random choices.
    order
        Optional permutation of the non-depot locations: the order they enter the model (changes
        the search path deterministically; see ``seed`` in :func:`plan_patrols`).

    Returns
    -------
    OrienteeringSolution
    """
    import time as _time

    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    if first_solution not in _FIRST:
        msg = f"Unknown first solution strategy {first_solution!r}; use one of {sorted(_FIRST)}."
        raise ValueError(msg)
    if metaheuristic not in _META:
        msg = f"Unknown metaheuristic {metaheuristic!r}; use one of {sorted(_META)}."
        raise ValueError(msg)
    t_start = _time.perf_counter()
    n, m = inst.n, inst.n_vehicles
    if m == 0:
        msg = "The instance has no vehicle (team); add at least one."
        raise ValueError(msg)
    s = float(inst.scale)
    depots = set(inst.starts) | set(inst.ends)
    visits = [i for i in range(n) if i not in depots]
    if order is not None:
        if sorted(order) != sorted(visits):
            msg = "order must be a permutation of the non-depot locations."
            raise ValueError(msg)
        visits = list(order)
    # Model nodes: depots first (in location order), then visits in the chosen order.
    loc_of_node = sorted(depots) + visits
    node_of_loc = {loc: k for k, loc in enumerate(loc_of_node)}
    sel = np.asarray(loc_of_node, dtype=np.int64)

    mats = inst.matrices()
    vmat = list(inst.vehicle_matrix) if inst.vehicle_matrix is not None else [0] * m
    service = _up(np.asarray(inst.service, dtype=np.float64)[sel], s)
    big = np.int64(2**40)
    travel_int: list[np.ndarray] = []
    for mat in mats:
        sub = np.asarray(mat, dtype=np.float64)[np.ix_(sel, sel)]
        sub = np.where(np.isfinite(sub), sub, np.inf)
        t = np.where(np.isfinite(sub), _up(np.where(np.isfinite(sub), sub, 0), s), big)
        np.fill_diagonal(t, 0)
        travel_int.append(t)
    # A vehicle going straight from its start to its end is unused: that costs nothing.
    for v in range(m):
        travel_int[vmat[v]][node_of_loc[inst.starts[v]], node_of_loc[inst.ends[v]]] = 0
    vwin = [(int(_up(a, s)), int(_down(b, s))) for a, b in inst.vehicle_windows]
    horizon = max(b for _, b in vwin)
    if horizon <= 0 and any(b < 0 for _, b in vwin):
        msg = "Vehicle windows must be non-negative; shift the instance's clock."
        raise ValueError(msg)

    manager = pywrapcp.RoutingIndexManager(
        n, m, [node_of_loc[v] for v in inst.starts], [node_of_loc[v] for v in inst.ends]
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()

    # Costs: travel (secondary objective) and time transits (travel + service on leaving).
    cost_cb: list[int] = []
    time_cb: list[int] = []
    for t in travel_int:
        capped = np.minimum(t, horizon + 1)
        cost_cb.append(routing.RegisterTransitMatrix(capped.tolist()))
        time_cb.append(routing.RegisterTransitMatrix((capped + service[:, None]).tolist()))
    for v in range(m):
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[vmat[v]], v)
    routing.AddDimensionWithVehicleTransits(
        [time_cb[vmat[v]] for v in range(m)], horizon, horizon, False, "time"
    )
    tdim = routing.GetDimensionOrDie("time")

    # Penalties: score x (bound on total travel + 1) makes the objective lexicographic.
    total_span = sum(max(b - a, 0) for a, b in vwin) + 1
    score_int = np.maximum(
        np.round(np.asarray(inst.scores, dtype=np.float64) * inst.score_scale), 0
    ).astype(np.int64)
    mandatory = np.zeros(n, dtype=bool) if inst.mandatory is None else np.asarray(inst.mandatory)
    must_penalty = int(score_int.sum() + 1) * total_span
    if must_penalty * (int(mandatory.sum()) + 1) > 2**62:
        msg = "Scores too large for the integer model; lower score_scale."
        raise ValueError(msg)

    windows = inst.windows
    allowed = inst.allowed
    # Candidates for the ILS: one per (visit, window interval); the group is the visit.
    cand: list[tuple[int, int, int, int, float, list[int]]] = []
    for loc in visits:
        idx = manager.NodeToIndex(node_of_loc[loc])
        if allowed is not None and allowed[loc] is not None and len(allowed[loc]) == 0:
            routing.ActiveVar(idx).SetValue(0)
            continue
        penalty = must_penalty if mandatory[loc] else int(score_int[loc]) * total_span
        routing.AddDisjunction([idx], penalty)
        vehicles = list(range(m))
        if allowed is not None and allowed[loc] is not None and len(allowed[loc]) < m:
            vehicles = sorted(int(v) for v in allowed[loc])
            routing.VehicleVar(idx).SetValues([-1, *vehicles])
        win = None if windows is None else windows[loc]
        node = node_of_loc[loc]
        if win is None:
            cand.append((node, 0, horizon, node, penalty / total_span, vehicles))
        else:
            ints = sorted((int(_up(a, s)), int(_down(b, s))) for a, b in win)
            ints = [(a, b) for a, b in ints if a <= b]
            if not ints:
                routing.ActiveVar(idx).SetValue(0)
                continue
            cand.extend((node, a, b, node, penalty / total_span, vehicles) for a, b in ints)
            cumul = tdim.CumulVar(idx)
            cumul.SetRange(max(ints[0][0], 0), min(max(b for _, b in ints), horizon))
            reach = ints[0][1]
            for a, b in ints[1:]:
                if a > reach + 1:
                    cumul.RemoveInterval(reach + 1, a - 1)
                reach = max(reach, b)
    for v, (a, b) in enumerate(vwin):
        tdim.CumulVar(routing.Start(v)).SetRange(a, b)
        tdim.CumulVar(routing.End(v)).SetRange(a, b)

    if inst.max_stops is not None and any(c is not None for c in inst.max_stops):
        ones = [0 if loc in depots else 1 for loc in loc_of_node]
        cb = routing.RegisterUnaryTransitVector(ones)
        caps = [len(visits) if c is None else int(c) for c in inst.max_stops]
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "stops")

    if inst.breaks is not None:
        node_visit = [int(x) for x in service]
        for v, spec in enumerate(inst.breaks):
            if spec is None or spec[0] <= 0:
                continue
            dur, lo, hi = spec
            interval = solver.FixedDurationIntervalVar(
                int(_up(lo, s)), int(_down(hi, s)), int(_up(dur, s)), False, f"break {v}"
            )
            tdim.SetBreakIntervalsOfVehicle([interval], v, node_visit)

    for i, j, gap in inst.min_gaps:
        ii = manager.NodeToIndex(node_of_loc[i])
        jj = manager.NodeToIndex(node_of_loc[j])
        slack = 2 * (horizon + int(_up(gap, s)))
        solver.Add(
            tdim.CumulVar(jj) + slack * (2 - routing.ActiveVar(ii) - routing.ActiveVar(jj))
            >= tdim.CumulVar(ii) + int(_up(gap, s))
        )

    for v in range(m):
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.Start(v)))
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(v)))

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, first_solution
    )
    params.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic
    )
    params.time_limit.FromMilliseconds(max(int(time_limit_s * 1000), 1))
    if solution_limit is not None:
        params.solution_limit = int(solution_limit)

    sol = None
    deadline = t_start + float(time_limit_s)
    if ils_share > 0 and cand:
        caps = [
            len(visits) if inst.max_stops is None or c is None else int(c)
            for c in (inst.max_stops or [None] * m)
        ]
        allowed_mat = np.zeros((len(cand), m), dtype=bool)
        for k, c in enumerate(cand):
            allowed_mat[k, c[5]] = True
        ils = _Ils(
            [np.minimum(t, horizon + 1) for t in travel_int],
            vmat,
            service,
            np.array([c[0] for c in cand], dtype=np.int64),
            np.array([c[1] for c in cand], dtype=np.int64),
            np.array([c[2] for c in cand], dtype=np.int64),
            np.array([c[3] for c in cand], dtype=np.int64),
            np.array([c[4] for c in cand], dtype=np.float64),
            allowed_mat,
            [manager.IndexToNode(routing.Start(v)) for v in range(m)],
            [manager.IndexToNode(routing.End(v)) for v in range(m)],
            vwin,
            caps,
        )
        ils_deadline = t_start + float(time_limit_s) * float(ils_share)
        if ils_iterations is None and solution_limit is not None:
            ils_iterations = 200
        routes_ils = ils.run(ils_deadline, max_iterations=ils_iterations, seed=seed)
        remaining = max(deadline - _time.perf_counter(), 0.05)
        params.time_limit.FromMilliseconds(max(int(remaining * 1000), 1))
        routing.CloseModelWithParameters(params)
        initial = routing.ReadAssignmentFromRoutes(
            [[manager.NodeToIndex(int(ils.node[c])) for c in r] for r in routes_ils], True
        )
        if initial is not None:
            sol = routing.SolveFromAssignmentWithParameters(initial, params)
    if sol is None:
        remaining = max(deadline - _time.perf_counter(), 0.05)
        params.time_limit.FromMilliseconds(max(int(remaining * 1000), 1))
        sol = routing.SolveWithParameters(params)
    status = str(routing.status())
    if sol is None:
        # No model solution (e.g. a mandatory break cannot fit): report empty routes.
        return OrienteeringSolution(
            routes=[[] for _ in range(m)],
            service_starts=[[] for _ in range(m)],
            depart=[a / s for a, _ in vwin],
            back=[a / s for a, _ in vwin],
            break_starts=[None] * m,
            score=0.0,
            objective=-1,
            seconds=_time.perf_counter() - t_start,
            status=status,
        )
    routes: list[list[int]] = []
    starts_t: list[list[float]] = []
    depart: list[float] = []
    back: list[float] = []
    for v in range(m):
        idx = routing.Start(v)
        depart.append(sol.Min(tdim.CumulVar(idx)) / s)
        route: list[int] = []
        times: list[float] = []
        idx = sol.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            route.append(loc_of_node[manager.IndexToNode(idx)])
            times.append(sol.Min(tdim.CumulVar(idx)) / s)
            idx = sol.Value(routing.NextVar(idx))
        back.append(sol.Min(tdim.CumulVar(idx)) / s)
        routes.append(route)
        starts_t.append(times)
    break_starts: list[float | None] = [None] * m
    if inst.breaks is not None:
        intervals = sol.IntervalVarContainer()
        for k in range(intervals.Size()):
            el = intervals.Element(k)
            name = el.Var().Name()
            if name.startswith("break "):
                break_starts[int(name.split()[1])] = el.StartMin() / s
    visited = {i for r in routes for i in r}
    score = float(sum(float(inst.scores[i]) for i in visited))
    return OrienteeringSolution(
        routes=routes,
        service_starts=starts_t,
        depart=depart,
        back=back,
        break_starts=break_starts,
        score=score,
        objective=int(sol.ObjectiveValue()),
        seconds=_time.perf_counter() - t_start,
        status=status,
    )


def check_solution(
    inst: OrienteeringInstance, sol: OrienteeringSolution, *, tol: float = 1e-6
) -> list[str]:
    """Check a solution in the instance's own (unscaled) units.

    The schedule is rebuilt from the routes alone: leave the depot at the vehicle's earliest
    departure, start each service at the first allowed time on arrival, add service, return.

    Parameters
    ----------
    inst
        The instance.
    sol
        A solution of it.
    tol
        Tolerance on time comparisons.

    Returns
    -------
    list[str]
        Problems found (empty when feasible). Breaks and ``min_gaps`` are not rechecked.
    """
    problems: list[str] = []
    seen: set[int] = set()
    for v, route in enumerate(sol.routes):
        if not route:
            continue  # an unused vehicle does not travel
        mat = inst.matrix_of(v)
        t0, t1 = inst.vehicle_windows[v]
        t = float(t0)
        here = inst.starts[v]
        cap = None if inst.max_stops is None else inst.max_stops[v]
        if cap is not None and len(route) > cap:
            problems.append(f"vehicle {v} makes more than {inst.max_stops[v]} stops")
        for loc in route:
            if loc in seen:
                problems.append(f"location {loc} visited twice")
            seen.add(loc)
            ok = None if inst.allowed is None else inst.allowed[loc]
            if ok is not None and v not in ok:
                problems.append(f"vehicle {v} may not visit {loc}")
            arrive = t + float(mat[here, loc])
            win = None if inst.windows is None else inst.windows[loc]
            start = arrive
            if win is not None:
                fits = [max(arrive, a) for a, b in sorted(win) if max(arrive, a) <= b + tol]
                if not fits:
                    problems.append(f"vehicle {v} reaches {loc} at {arrive:.3f}, after its window")
                    start = arrive
                else:
                    start = fits[0]
            t = start + float(inst.service[loc])
            here = loc
        t += float(mat[here, inst.ends[v]])
        if t > t1 + tol:
            problems.append(f"vehicle {v} returns at {t:.3f}, after {t1}")
    return problems


# --------------------------------------------------------------------------------------------
# Patrol planning on a street network
# --------------------------------------------------------------------------------------------


@dataclass
class _Net:
    segments: pd.DataFrame
    nodes: pd.DataFrame
    node_matrix: sp.csr_matrix


def _as_net(network: Any) -> _Net:
    if isinstance(network, tuple) and len(network) == 2:
        segments, nodes = network
        nm = travel.node_matrix_from_segments(segments, len(nodes))
        return _Net(segments, nodes, nm)
    try:
        segments, nodes = network.segments, network.nodes
    except AttributeError:
        msg = (
            "network must be a StreetNetwork (with .segments, .nodes, .node_matrix()) or a "
            "(segments, nodes) pair; load a street network first."
        )
        raise TypeError(msg) from None
    nm_fn = getattr(network, "node_matrix", None)
    nm = nm_fn() if callable(nm_fn) else travel.node_matrix_from_segments(segments, len(nodes))
    return _Net(segments, nodes, sp.csr_matrix(nm))


def hotspot_nodes(network: Any, hotspots: pd.DataFrame) -> np.ndarray:
    """Choose the network node where a team stands for each hotspot.

    In network mode it is the end node of the hotspot's segments nearest to the centre of
    its geometry; in point mode (no ``segment_ids``) the network node nearest to that centre.

    Parameters
    ----------
    network
        A ``StreetNetwork`` or ``(segments, nodes)``.
    hotspots
        The hotspot table (CONTRACTS).

    Returns
    -------
    numpy.ndarray
        Node position per hotspot row.
    """
    net = _as_net(network) if not isinstance(network, _Net) else network
    xs = net.nodes["x"].to_numpy(np.float64)
    ys = net.nodes["y"].to_numpy(np.float64)
    u = net.segments["u"].to_numpy(np.int64)
    v = net.segments["v"].to_numpy(np.int64)
    out = np.empty(len(hotspots), dtype=np.int64)
    geoms = hotspots.geometry if "geometry" in hotspots else [None] * len(hotspots)
    seg_lists = hotspots["segment_ids"] if "segment_ids" in hotspots else [None] * len(hotspots)
    n_seg = len(net.segments)
    for k, (geom, segs) in enumerate(zip(geoms, seg_lists, strict=True)):
        segs = [int(x) for x in (segs if segs is not None else []) if 0 <= int(x) < n_seg]
        if geom is not None and not geom.is_empty:
            c = geom.centroid
            cx, cy = c.x, c.y
        elif segs:
            cand = np.unique(np.concatenate([u[segs], v[segs]]))
            cx, cy = xs[cand].mean(), ys[cand].mean()
        else:
            msg = f"Hotspot row {k} has neither geometry nor segment_ids; rebuild the hotspots."
            raise ValueError(msg)
        if segs:
            cand = np.unique(np.concatenate([u[segs], v[segs]]))
            dx = (xs[cand] - cx) * math.cos(math.radians(cy))
            out[k] = int(cand[np.argmin(dx * dx + (ys[cand] - cy) ** 2)])
        else:
            out[k] = travel.nearest_node(net.nodes, cx, cy)
    return out


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
    out = []
    for a0, a1 in a:
        for b0, b1 in b:
            lo, hi = max(a0, b0), min(a1, b1)
            if lo <= hi:
                out.append((lo, hi))
    return sorted(out)


def _active_hours(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    return [int(h) for h in value]


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
        ``(segments, nodes)`` pair.
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
        Hard limit of the search; default ``[patrols] time_limit_s`` (5 s).
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
    if settings is None:
        from geo.settings import load_settings

        settings = load_settings()
    patrols = travel._patrols(settings)
    dwell = int(patrols.get("dwell_minutes", 15) if dwell_minutes is None else dwell_minutes)
    limit = float(patrols.get("time_limit_s", 5) if time_limit_s is None else time_limit_s)
    if dwell <= 0:
        msg = "dwell_minutes must be positive (15 is the Koper-curve default)."
        raise ValueError(msg)
    teams = list(teams)
    if not teams:
        msg = "No team is on shift; add at least one team to plan patrols."
        raise ValueError(msg)
    if len({t.name for t in teams}) != len(teams):
        msg = "Two teams share a name; give each team its own name."
        raise ValueError(msg)
    required = {"hotspot_id", "label", "risk", "skill"}
    missing = required - set(hotspots.columns)
    if missing:
        msg = f"The hotspot table lacks {', '.join(sorted(missing))}; build it with geo.hotspots."
        raise ValueError(msg)
    net = _as_net(network)
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

    t0 = min(t.shift_start for t in teams)
    t_end = max(t.shift_end for t in teams)

    def minutes(dt: datetime) -> float:
        return (dt - t0).total_seconds() / 60.0

    shifts = [(minutes(t.shift_start), minutes(t.shift_end)) for t in teams]
    stop_nodes = hotspot_nodes(net, hs) if len(hs) else np.zeros(0, dtype=np.int64)
    base_nodes = [travel.nearest_node(net.nodes, *t.base) for t in teams]
    end_nodes = [travel.nearest_node(net.nodes, *t.finish_base) for t in teams]

    # Travel minutes per mode, from the few nodes that matter.
    key_nodes = np.unique(np.concatenate([stop_nodes, base_nodes, end_nodes]).astype(np.int64))
    modes = sorted({t.mode for t in teams})
    mode_dist: dict[str, np.ndarray] = {}
    mode_pred: dict[str, np.ndarray] = {}
    for mode in modes:
        if mode == "drive":
            mat = travel.edge_minutes(net.segments, len(net.nodes), mode=mode, settings=settings)
        else:
            speed = travel.mode_speed_kmh(mode, settings=settings)
            mat = net.node_matrix * (60.0 / (speed * 1000.0))
        dist, pred = travel.shortest_paths(mat, key_nodes)
        mode_dist[mode] = dist
        mode_pred[mode] = pred
    pos = {int(nd): k for k, nd in enumerate(key_nodes)}

    def tt(mode: str, a: int, b: int) -> float:
        return float(mode_dist[mode][pos[a], b])

    dropped: dict[int, str] = {}
    allowed_h: list[list[int]] = []
    windows_h: list[list[tuple[float, float]] | None] = []
    for k in range(len(hs)):
        skill_teams = [j for j, t in enumerate(teams) if t.can_take(skills_h[k])]
        if not skill_teams:
            dropped[k] = REASON_SKILL
            allowed_h.append([])
            windows_h.append(None)
            continue
        if hours_h[k]:
            runs = _hour_intervals(hours_h[k], t0, t_end)
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
            dropped[k] = REASON_SHIFT
            allowed_h.append([])
            windows_h.append(None)
            continue
        windows_h.append(starts)
        # Keep teams that could make this stop alone: out, (wait), dwell, back.
        fit: list[int] = []
        for j in ok:
            s0, s1 = shifts[j]
            mode = teams[j].mode
            arrive = s0 + tt(mode, base_nodes[j], int(stop_nodes[k]))
            latest = s1 - dwell - tt(mode, end_nodes[j], int(stop_nodes[k]))
            iv = [(s0, s1)] if starts is None else starts
            if any(max(arrive, a) <= min(b, latest) + 1e-9 for a, b in iv):
                fit.append(j)
        if not fit:
            dropped[k] = REASON_UNFIT
        allowed_h.append(fit)

    # Locations: team starts, team ends, then one visit per hotspot (and second visits).
    m = len(teams)
    visit_h: list[int] = [k for k in range(len(hs)) if k not in dropped]
    visit_h += [ids.index(h) for h in rev if ids.index(h) not in dropped]
    n_loc = 2 * m + len(visit_h)
    loc_nodes = np.array(
        base_nodes + end_nodes + [int(stop_nodes[k]) for k in visit_h], dtype=np.int64
    )
    matrices = []
    for mode in modes:
        rows = np.array([pos[int(nd)] for nd in loc_nodes])
        matrices.append(mode_dist[mode][rows][:, loc_nodes])
    vehicle_matrix = [modes.index(t.mode) for t in teams]
    scores = np.zeros(n_loc)
    service = np.zeros(n_loc)
    windows: list[list[tuple[float, float]] | None] = [None] * n_loc
    allowed: list[list[int] | None] = [None] * n_loc
    mandatory = np.zeros(n_loc, dtype=bool)
    top = float(risks.max()) if risks.size and risks.max() > 0 else 1.0
    min_gaps: list[tuple[int, int, float]] = []
    first_loc: dict[int, int] = {}
    for q, k in enumerate(visit_h):
        loc = 2 * m + q
        scores[loc] = risks[k] / top
        service[loc] = dwell
        windows[loc] = windows_h[k]
        allowed[loc] = allowed_h[k]
        mandatory[loc] = ids[k] in must and k not in first_loc
        if k in first_loc:
            min_gaps.append((first_loc[k], loc, float(revisit_gap_minutes)))
        else:
            first_loc[k] = loc
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
        scale=PATROL_TIME_SCALE,
        score_scale=RISK_RESOLUTION,
    )
    order = None
    if seed:
        rng = np.random.default_rng(seed)
        order = [2 * m + int(q) for q in rng.permutation(len(visit_h))]
    sol = solve_orienteering(
        inst,
        time_limit_s=limit,
        solution_limit=solution_limit,
        first_solution=first_solution,
        metaheuristic=metaheuristic,
        order=order,
        seed=int(seed),
    )

    lookup = travel.segment_lookup(net.segments)
    xs = net.nodes["x"].to_numpy(np.float64)
    ys = net.nodes["y"].to_numpy(np.float64)

    def at(minute: float) -> datetime:
        return t0 + timedelta(seconds=round(minute * 60.0))

    routes: list[TeamRoute] = []
    warnings: list[str] = []
    visited_k: set[int] = set()
    for j, team in enumerate(teams):
        route_locs = sol.routes[j]
        mode = team.mode
        pred = mode_pred[mode]
        stops: list[Stop] = []
        legs: list[tuple[tuple[float, float], ...]] = []
        dist_m = 0.0
        seen_count: dict[int, int] = {}
        base_nodes[j]
        for order_no, (loc, start) in enumerate(
            zip(route_locs, sol.service_starts[j], strict=True), start=1
        ):
            k = visit_h[loc - 2 * m]
            visited_k.add(k)
            seen_count[k] = seen_count.get(k, 0) + 1
            node = int(stop_nodes[k])
            stops.append(
                Stop(
                    order=order_no,
                    hotspot_id=ids[k],
                    label=labels[k],
                    arrive=at(start),
                    leave=at(start + dwell),
                    lon=float(xs[node]),
                    lat=float(ys[node]),
                    skill=skills_h[k],
                    risk=float(risks[k]),
                    node=node,
                    visit=1 if loc == first_loc.get(k) else 2,
                )
            )
        nodes_seq = [base_nodes[j], *[s.node for s in stops], end_nodes[j]] if stops else []
        for a, b in itertools.pairwise(nodes_seq):
            path = travel.street_path(net.node_matrix, pred, a, b, sources=key_nodes)
            dist_m += travel.path_length_m(net.node_matrix, path)
            legs.append(tuple(travel.path_coords(net.segments, net.nodes, path, lookup=lookup)))
        s0, s1 = shifts[j]
        if stops:
            # Leave the base just in time for the first stop (no idle wait there).
            first_leg = tt(mode, base_nodes[j], stops[0].node)
            depart_min = max(sol.depart[j], minutes(stops[0].arrive) - first_leg)
            last = stops[-1]
            back_min = minutes(last.leave) + tt(mode, end_nodes[j], last.node)
            depart, back = at(depart_min), at(back_min)
            # Idle time: rest first, then walk on to the next stop.
            gaps = [(s0, minutes(stops[0].arrive) - first_leg)]
            gaps += [
                (minutes(a.leave), minutes(b.arrive) - tt(mode, a.node, b.node))
                for a, b in itertools.pairwise(stops)
            ]
            gaps.append((back_min, s1))
        else:
            depart = back = team.shift_start
            gaps = [(s0, s1)]
        brk_at: float | None = None
        if breaks[j] is not None:
            dur, lo, hi = breaks[j]
            for a, b in gaps:
                start_b = max(a, lo)
                if start_b <= hi + 1e-9 and start_b + dur <= b + 1e-6:
                    brk_at = start_b
                    break
            if brk_at is None:
                warnings.append(
                    f"Team {team.name}: no {int(dur)}-minute gap for the break; plan it on the day."
                )
        routes.append(
            TeamRoute(
                team=team,
                stops=tuple(stops),
                legs=tuple(legs),
                distance_m=dist_m,
                depart=depart,
                back=back,
                break_start=at(brk_at) if brk_at is not None else None,
            )
        )

    drop_list: list[Dropped] = []
    for k in range(len(hs)):
        if k in visited_k:
            continue
        reason = dropped.get(k, REASON_DETOUR)
        drop_list.append(Dropped(ids[k], labels[k], reason))
        if ids[k] in must:
            warnings.append(
                f"Must-visit hotspot {ids[k]} ({labels[k]}) is not in the plan: {reason}."
            )
    total = float(risks.sum())
    covered = float(sum(risks[k] for k in visited_k))
    return PatrolPlan(
        date=date,
        routes=tuple(routes),
        dropped=tuple(drop_list),
        risk_covered_share=covered / total if total > 0 else 0.0,
        dwell_minutes=dwell,
        generated_at=datetime.now().replace(microsecond=0),
        settings={
            "time_limit_s": limit,
            "seed": int(seed),
            "solution_limit": solution_limit,
            "metaheuristic": metaheuristic,
            "first_solution": first_solution,
            "revisit": list(rev),
            "revisit_gap_minutes": int(revisit_gap_minutes),
            "must_visit": sorted(must),
            "max_stops": max_stops,
            "walk_kmh": travel.mode_speed_kmh("walk", settings=settings),
            "solver_status": sol.status,
            "solver_seconds": round(sol.seconds, 3),
        },
        warnings=tuple(warnings),
    )
