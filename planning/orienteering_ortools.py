"""The integer OR-Tools routing model of an orienteering instance, with every constraint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planning.orienteering import OrienteeringInstance, scale_down, scale_up

__all__ = ["OrienteeringModel", "build_model"]


@dataclass
class OrienteeringModel:
    """The integer OR-Tools model of an instance and the data both search stages share.

    Attributes
    ----------
    manager, routing, tdim
        The OR-Tools index manager, routing model and time dimension.
    loc_of_node, node_of_loc
        Instance location of each model node, and back (depots first, then the visits).
    depots, visits
        Depot locations, and the visit locations in the order they entered the model.
    vmat
        Travel matrix index of each vehicle.
    service, travel_int
        Service times and travel matrices in integer model units, in model node order.
    vwin, horizon
        Vehicle windows in model units, and the latest return.
    scale
        Model units per instance unit.
    cand
        Candidates for the iterated local search: ``(node, open, close, group, score,
        vehicles)`` per (visit, window interval); the group is the visit.
    breaks_int
        Per vehicle, its break as ``(duration, earliest start, latest start)`` in model
        units, or ``None``.
    """

    manager: Any
    routing: Any
    tdim: Any
    loc_of_node: list[int]
    node_of_loc: dict[int, int]
    depots: set[int]
    visits: list[int]
    vmat: list[int]
    service: np.ndarray
    travel_int: list[np.ndarray]
    vwin: list[tuple[int, int]]
    horizon: int
    scale: float
    cand: list[tuple[int, int, int, int, float, list[int]]] = field(default_factory=list)
    breaks_int: list[tuple[int, int, int] | None] = field(default_factory=list)
    idle_cost: int = 0


def _node_order(
    inst: OrienteeringInstance, order: Sequence[int] | None
) -> tuple[set[int], list[int], list[int], dict[int, int]]:
    """Depots, visits (in the chosen order) and the location <-> model node maps."""
    depots = set(inst.starts) | set(inst.ends)
    visits = [i for i in range(inst.n) if i not in depots]
    if order is not None:
        if sorted(order) != sorted(visits):
            msg = "order must be a permutation of the non-depot locations."
            raise ValueError(msg)
        visits = list(order)
    # Model nodes: depots first (in location order), then visits in the chosen order.
    loc_of_node = sorted(depots) + visits
    node_of_loc = {loc: k for k, loc in enumerate(loc_of_node)}
    return depots, visits, loc_of_node, node_of_loc


def _integer_travel(
    inst: OrienteeringInstance, sel: np.ndarray, node_of_loc: dict[int, int], s: float
) -> tuple[list[int], np.ndarray, list[np.ndarray]]:
    """Vehicle matrix choice, service and travel times in integer model units, in node order."""
    m = inst.n_vehicles
    mats = inst.matrices()
    vmat = list(inst.vehicle_matrix) if inst.vehicle_matrix is not None else [0] * m
    service = scale_up(np.asarray(inst.service, dtype=np.float64)[sel], s)
    big = np.int64(2**40)
    travel_int: list[np.ndarray] = []
    for mat in mats:
        sub = np.asarray(mat, dtype=np.float64)[np.ix_(sel, sel)]
        sub = np.where(np.isfinite(sub), sub, np.inf)
        t = np.where(np.isfinite(sub), scale_up(np.where(np.isfinite(sub), sub, 0), s), big)
        np.fill_diagonal(t, 0)
        travel_int.append(t)
    # A vehicle going straight from its start to its end is unused: that costs nothing.
    for v in range(m):
        travel_int[vmat[v]][node_of_loc[inst.starts[v]], node_of_loc[inst.ends[v]]] = 0
    return vmat, service, travel_int


def _vehicle_windows(inst: OrienteeringInstance, s: float) -> tuple[list[tuple[int, int]], int]:
    """Vehicle windows rounded inwards to model units, and the horizon (latest return)."""
    vwin = [(int(scale_up(a, s)), int(scale_down(b, s))) for a, b in inst.vehicle_windows]
    horizon = max(b for _, b in vwin)
    if horizon <= 0 and any(b < 0 for _, b in vwin):
        msg = "Vehicle windows must be non-negative; shift the instance's clock."
        raise ValueError(msg)
    return vwin, horizon


def _add_time_dimension(
    routing: Any, travel_int: list[np.ndarray], service: np.ndarray, vmat: list[int], horizon: int
) -> Any:
    """Arc costs (travel) and the time dimension (travel + service on leaving); return it."""
    m = len(vmat)
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
    return routing.GetDimensionOrDie("time")


def build_model(inst: OrienteeringInstance, order: Sequence[int] | None) -> OrienteeringModel:
    """Build the OR-Tools routing model of ``inst`` with every constraint added.

    Parameters
    ----------
    inst
        The instance.
    order
        Optional permutation of the non-depot locations: the order they enter the model.

    Returns
    -------
    OrienteeringModel
        The model, not yet closed, with the candidates of the iterated local search.
    """
    from ortools.constraint_solver import pywrapcp

    s = float(inst.scale)
    depots, visits, loc_of_node, node_of_loc = _node_order(inst, order)
    sel = np.asarray(loc_of_node, dtype=np.int64)
    vmat, service, travel_int = _integer_travel(inst, sel, node_of_loc, s)
    vwin, horizon = _vehicle_windows(inst, s)

    manager = pywrapcp.RoutingIndexManager(
        inst.n,
        inst.n_vehicles,
        [node_of_loc[v] for v in inst.starts],
        [node_of_loc[v] for v in inst.ends],
    )
    routing = pywrapcp.RoutingModel(manager)
    tdim = _add_time_dimension(routing, travel_int, service, vmat, horizon)
    model = OrienteeringModel(
        manager=manager,
        routing=routing,
        tdim=tdim,
        loc_of_node=loc_of_node,
        node_of_loc=node_of_loc,
        depots=depots,
        visits=visits,
        vmat=vmat,
        service=service,
        travel_int=travel_int,
        vwin=vwin,
        horizon=horizon,
        scale=s,
    )
    _add_visits(inst, model)
    _add_vehicle_constraints(inst, model)
    return model


def _penalties(
    inst: OrienteeringInstance, vwin: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Integer scores, mandatory flags, the mandatory drop penalty and one score unit's cost."""
    # Penalties: score x (bound on total travel + 1) makes the objective lexicographic; with
    # ``balance`` an idle vehicle costs that bound, and a score unit (m + 1) times it, so the
    # order is: score, then vehicles with a stop, then travel.
    total_span = sum(max(b - a, 0) for a, b in vwin) + 1
    if inst.balance:
        total_span *= inst.n_vehicles + 1
    score_int = np.maximum(
        np.round(np.asarray(inst.scores, dtype=np.float64) * inst.score_scale), 0
    ).astype(np.int64)
    mandatory = (
        np.zeros(inst.n, dtype=bool) if inst.mandatory is None else np.asarray(inst.mandatory)
    )
    must_penalty = int(score_int.sum() + 1) * total_span
    if must_penalty * (int(mandatory.sum()) + 1) > 2**62:
        msg = "Scores too large for the integer model; lower score_scale."
        raise ValueError(msg)
    return score_int, mandatory, must_penalty, total_span


def _add_visits(inst: OrienteeringInstance, model: OrienteeringModel) -> None:
    """Make every visit optional with its drop penalty, allowed vehicles and time windows."""
    score_int, mandatory, must_penalty, total_span = _penalties(inst, model.vwin)
    if inst.balance and inst.n_vehicles > 1:
        model.idle_cost = total_span // (inst.n_vehicles + 1)
    windows = inst.windows
    allowed = inst.allowed
    routing, m = model.routing, inst.n_vehicles
    for loc in model.visits:
        idx = model.manager.NodeToIndex(model.node_of_loc[loc])
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
        node = model.node_of_loc[loc]
        if win is None:
            model.cand.append((node, 0, model.horizon, node, penalty / total_span, vehicles))
        else:
            _add_window(model, idx, node, win, penalty / total_span, vehicles)


def _add_window(
    model: OrienteeringModel,
    idx: int,
    node: int,
    win: Sequence[tuple[float, float]],
    value: float,
    vehicles: list[int],
) -> None:
    """Restrict a visit's service start to its window intervals (gaps removed)."""
    s = model.scale
    ints = sorted((int(scale_up(a, s)), int(scale_down(b, s))) for a, b in win)
    ints = [(a, b) for a, b in ints if a <= b]
    if not ints:
        model.routing.ActiveVar(idx).SetValue(0)
        return
    model.cand.extend((node, a, b, node, value, vehicles) for a, b in ints)
    cumul = model.tdim.CumulVar(idx)
    cumul.SetRange(max(ints[0][0], 0), min(max(b for _, b in ints), model.horizon))
    reach = ints[0][1]
    for a, b in ints[1:]:
        if a > reach + 1:
            cumul.RemoveInterval(reach + 1, a - 1)
        reach = max(reach, b)


def _add_vehicle_constraints(inst: OrienteeringInstance, model: OrienteeringModel) -> None:
    """Vehicle windows, stop caps, breaks, revisit gaps and the finalizers."""
    routing, tdim, manager = model.routing, model.tdim, model.manager
    solver = routing.solver()
    s, m = model.scale, inst.n_vehicles
    for v, (a, b) in enumerate(model.vwin):
        tdim.CumulVar(routing.Start(v)).SetRange(a, b)
        tdim.CumulVar(routing.End(v)).SetRange(a, b)

    if inst.max_stops is not None and any(c is not None for c in inst.max_stops):
        ones = [0 if loc in model.depots else 1 for loc in model.loc_of_node]
        cb = routing.RegisterUnaryTransitVector(ones)
        caps = [len(model.visits) if c is None else int(c) for c in inst.max_stops]
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "stops")

    model.breaks_int = [None] * m
    if inst.breaks is not None:
        # OR-Tools reads the visit durations by routing index, not by node.
        node_visit = [
            int(model.service[manager.IndexToNode(i)]) for i in range(manager.GetNumberOfIndices())
        ]
        for v, spec in enumerate(inst.breaks):
            if spec is None or spec[0] <= 0:
                continue
            dur, lo, hi = spec
            brk = (int(scale_up(dur, s)), int(scale_up(lo, s)), int(scale_down(hi, s)))
            model.breaks_int[v] = brk
            interval = solver.FixedDurationIntervalVar(brk[1], brk[2], brk[0], False, f"break {v}")
            tdim.SetBreakIntervalsOfVehicle([interval], v, node_visit)

    for i, j, gap in inst.min_gaps:
        ii = manager.NodeToIndex(model.node_of_loc[i])
        jj = manager.NodeToIndex(model.node_of_loc[j])
        slack = 2 * (model.horizon + int(scale_up(gap, s)))
        solver.Add(
            tdim.CumulVar(jj) + slack * (2 - routing.ActiveVar(ii) - routing.ActiveVar(jj))
            >= tdim.CumulVar(ii) + int(scale_up(gap, s))
        )

    if model.idle_cost > 0:  # balance: each vehicle's first stop is worth more than travel
        ones = [0 if loc in model.depots else 1 for loc in model.loc_of_node]
        count = routing.RegisterUnaryTransitVector(ones)
        routing.AddDimension(count, 0, len(model.visits), True, "visited")
        visited = routing.GetDimensionOrDie("visited")
        for v in range(m):
            visited.SetCumulVarSoftLowerBound(routing.End(v), 1, model.idle_cost)
            routing.SetVehicleUsedWhenEmpty(True, v)  # else an idle team costs nothing

    for v in range(m):
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.Start(v)))
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(v)))
