"""Plain reasons per team for the stops it has."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from planning.patrol_explain import shift_hours, team_reasons, top_for_revisits
from planning.routes import Dropped, PatrolPlan, Stop, Team, TeamRoute


def _team(name: str, skills: tuple[str, ...]) -> Team:
    return Team(
        name=name,
        skills=skills,
        base=(0.0, 0.0),
        shift_start=datetime(2024, 3, 1, 18),
        shift_end=datetime(2024, 3, 1, 22),
    )


def _stop(hid: str, hour: int) -> Stop:
    return Stop(
        order=1,
        hotspot_id=hid,
        label=hid,
        arrive=datetime(2024, 3, 1, hour),
        leave=datetime(2024, 3, 1, hour, 15),
        lon=0.0,
        lat=0.0,
        skill="police",
    )


def test_shift_hours_wrap_past_midnight():
    assert shift_hours(datetime(2024, 3, 1, 22), datetime(2024, 3, 2, 2)) == {22, 23, 0, 1}


def test_team_reasons_count_each_cause():
    foot, van = _team("Foot", ("police",)), _team("Van", ("police", "outreach"))
    plan = PatrolPlan(
        date=date(2024, 3, 1),
        routes=(
            TeamRoute(foot, (_stop("H01", 19),), (), 1000.0, foot.shift_start, foot.shift_end),
            TeamRoute(van, (_stop("H02", 20),), (), 1000.0, van.shift_start, van.shift_end),
        ),
        dropped=(Dropped("H05", "H05", "not worth the detour"),),
        risk_covered_share=0.5,
        dwell_minutes=15,
        generated_at=datetime(2024, 3, 1),
    )
    hot = pd.DataFrame(
        {
            "hotspot_id": ["H01", "H02", "H03", "H04", "H05"],
            "risk": [5.0, 4.0, 3.0, 2.0, 1.0],
            "skill": ["police", "outreach", "outreach", "police", "police"],
            "active_hours": [[19], [], [20], [8, 9], []],
        }
    )
    foot_line, van_line = team_reasons(plan, hot)
    assert foot_line == (
        "1 stop, 15 min at hotspots in a 4-hour shift: of the other hotspots, 1 is visited by "
        "another team; 1 needs outreach worker; 1 is active outside this shift; 1 did not fit "
        "in the time or was not worth the detour."
    )
    assert van_line.startswith("1 stop, 15 min at hotspots in a 4-hour shift")
    assert "need" not in van_line  # the van can take every skill
    assert top_for_revisits(hot, n=2) == ["H01", "H02"]
    assert top_for_revisits(hot, n=0) == []
