"""Check an orienteering solution against its instance, in the instance's own units."""

from __future__ import annotations

from planning.orienteering import OrienteeringInstance, OrienteeringSolution

__all__ = ["check_solution"]


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
