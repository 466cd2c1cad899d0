"""Hostile and careless input files: caps on size, rows, columns and teams, plain errors."""

from __future__ import annotations

from datetime import date

import pytest

from planning.teams import MAX_TEAMS, teams_from_dict

DAY = date(2024, 3, 1)


def _team(name: str, **extra) -> dict:
    return {
        "name": name,
        "base": [-0.34, 53.74],
        "shift": "18:00-22:00",
        "skills": ["police"],
        **extra,
    }


# ----------------------------------------------------------------------------- teams file


def test_teams_file_over_the_cap_is_refused_with_a_plain_message():
    raw = {"team": [_team(f"T{k}") for k in range(MAX_TEAMS + 1)]}
    with pytest.raises(ValueError, match=f"at most {MAX_TEAMS}"):
        teams_from_dict(raw, date=DAY)
    assert len(teams_from_dict({"team": raw["team"][:MAX_TEAMS]}, date=DAY)) == MAX_TEAMS


@pytest.mark.parametrize("day", [-100000, -2, 8, 10**9, 1.5, "x", True])
def test_team_day_offset_outside_the_limits_is_refused(day):
    with pytest.raises(ValueError, match="day ="):
        teams_from_dict({"team": [_team("A", day=day)]}, date=DAY)


@pytest.mark.parametrize(
    ("day", "start"), [(-1, date(2024, 2, 29)), (0, DAY), (7, date(2024, 3, 8))]
)
def test_team_day_offset_inside_the_limits_moves_the_shift(day, start):
    (team,) = teams_from_dict({"team": [_team("A", day=day)]}, date=DAY)
    assert team.shift_start.date() == start
