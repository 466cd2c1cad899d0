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


# ----------------------------------------------------------------------------- GPX tracks


def _gpx(points: list[tuple[str, str]]) -> bytes:
    pts = "".join(
        f'<trkpt lat="{lat}" lon="{lon}"><time>2024-03-01T18:{k:02d}:00Z</time></trkpt>'
        for k, (lat, lon) in enumerate(points)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
        f"{pts}</trkseg></trk></gpx>"
    ).encode()


def test_gpx_points_at_impossible_positions_are_left_out_and_counted():
    from planning.tracking import read_tracks

    good = [("53.7440", "-0.3560"), ("53.7441", "-0.3561")]
    bad = [("95", "-0.356"), ("53.744", "500"), ("nan", "-0.356"), ("53.744", "inf")]
    fixes = read_tracks([("t.gpx", _gpx(good + bad))])
    assert len(fixes) == 2
    assert fixes["lat"].between(-90, 90).all() and fixes["lon"].between(-180, 180).all()
    assert fixes.attrs["rejected_fixes"] == 4
    assert any("4 point(s)" in w for w in fixes.attrs["warnings"])


def test_gpx_with_no_valid_position_is_refused_plainly():
    from planning.tracking import read_tracks

    with pytest.raises(ValueError, match="no track point with a valid position"):
        read_tracks([("t.gpx", _gpx([("95", "500"), ("nan", "nan")]))])
