"""The balance rule of patrol planning: no team idles while another has a stop it could take."""

from __future__ import annotations

import numpy as np

from planning.orienteering import OrienteeringInstance
from planning.orienteering_check import check_solution
from planning.orienteering_solver import solve_orienteering


def _two_teams_two_stops(*, balance: bool, allowed=None) -> OrienteeringInstance:
    """Two teams at one base (locations 0-3); two stops 1 km out and 100 m apart (4, 5).

    Without the rule one team takes both (200 m less walking, in minutes at 80 m/min).
    """
    pos = np.array([[0, 0], [0, 0], [0, 0], [0, 0], [1000, 0], [1000, 100]], dtype=float)
    travel = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1)) / 80.0
    return OrienteeringInstance(
        travel=travel,
        scores=np.array([0, 0, 0, 0, 1.0, 0.8]),
        service=np.array([0, 0, 0, 0, 15.0, 15.0]),
        starts=[0, 1],
        ends=[2, 3],
        vehicle_windows=[(0.0, 240.0), (0.0, 240.0)],
        allowed=allowed,
        balance=balance,
        scale=60,
        score_scale=10_000,
    )


def _solve(inst):
    return solve_orienteering(
        inst, time_limit_s=5, solution_limit=50, metaheuristic="GREEDY_DESCENT"
    )


def test_without_the_rule_one_team_takes_both_stops():
    sol = _solve(_two_teams_two_stops(balance=False))
    assert sol.visited == {4, 5}
    assert sorted(len(r) for r in sol.routes) == [0, 2]


def test_with_the_rule_each_team_gets_a_stop_and_coverage_stays_the_same():
    inst = _two_teams_two_stops(balance=True)
    sol = _solve(inst)
    assert sol.visited == {4, 5}
    assert sorted(len(r) for r in sol.routes) == [1, 1]
    assert check_solution(inst, sol) == []
    assert sol.score == _solve(_two_teams_two_stops(balance=False)).score


def test_the_rule_never_gives_a_team_a_stop_it_may_not_make():
    # Only team 0 has the skill for either stop: it takes both, team 1 stays at base.
    inst = _two_teams_two_stops(balance=True, allowed=[None, None, None, None, [0], [0]])
    sol = _solve(inst)
    assert sol.routes[1] == [] and sorted(sol.routes[0]) == [4, 5]


def test_the_rule_never_drops_coverage_for_balance():
    # Stop 5 only fits team 0's shift after stop 4; team 1's shift is too short to reach any.
    inst = _two_teams_two_stops(balance=True)
    inst.vehicle_windows = [(0.0, 240.0), (0.0, 20.0)]
    sol = _solve(inst)
    assert sol.visited == {4, 5} and sol.routes[1] == []
