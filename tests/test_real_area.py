"""A real area end to end (issue 12): Hull from police.uk files, planned without streets."""

from __future__ import annotations

import itertools
import json
import math
from datetime import date

import pytest

from geo.hotspots import find_point_hotspots
from geo.reports import read_reports
from planning.export import plan_from_json, plan_to_json
from planning.routes import load_teams, plan_patrols
from planning.travel_straight import APPROXIMATE_NOTE, detour_factor
from tests.conftest import PROJECT_ROOT

HULL_TEAMS = PROJECT_ROOT / "data" / "examples" / "hull-teams.toml"
HULL_BOX = (-0.43, 53.71, -0.24, 53.82)
CENTRE = (-0.3367, 53.7446)
PLAN_DAY = date(2024, 2, 1)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lam1, phi1, lam2, phi2 = map(math.radians, (*a, *b))
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin((lam2 - lam1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


@pytest.fixture(scope="module")
def hull_hotspots(police_2024, settings):
    reports = read_reports(police_2024, settings=settings).reports
    w, s, e, n = HULL_BOX
    hull = reports[reports["lon"].between(w, e) & reports["lat"].between(s, n)]
    mapped = [c for c in hull["category"].unique() if c in settings.categories]
    return find_point_hotspots(hull, settings=settings, categories=mapped)


def test_hull_teams_example_is_two_evening_teams_in_the_city_centre():
    teams = load_teams(HULL_TEAMS, date=PLAN_DAY)
    assert len(teams) == 2
    for team in teams:
        assert _metres(team.base, CENTRE) < 1000
        assert team.shift_start.hour >= 17 and team.shift_start.date() == PLAN_DAY
    assert sum("outreach" in t.skills for t in teams) == 1


def test_point_mode_hotspots_plan_stops_for_both_hull_teams_in_straight_lines(
    hull_hotspots, settings
):
    assert len(hull_hotspots) >= 2
    teams = load_teams(HULL_TEAMS, date=PLAN_DAY)
    plan = plan_patrols(
        None, hull_hotspots, teams, date=PLAN_DAY, settings=settings, solution_limit=50
    )
    assert plan.travel == "straight-line"
    assert set(plan.visited_ids) == set(hull_hotspots["hotspot_id"])  # both fit the evening
    factor = detour_factor(settings)
    assert factor == 1.3  # data/settings.toml
    ids = set(hull_hotspots["hotspot_id"])
    for route in (r for r in plan.routes if r.stops):
        assert {s.hotspot_id for s in route.stops} <= ids
        assert all(len(leg) == 2 for leg in route.legs)  # straight legs, no street geometry
        places = [route.team.base, *[(s.lon, s.lat) for s in route.stops], route.team.finish_base]
        line = sum(_metres(a, b) for a, b in itertools.pairwise(places))
        assert route.distance_m == pytest.approx(line * factor, rel=1e-3)
        # walking speed: the first leg takes its detour distance at 4.8 km/h (or waits)
        first = _metres(places[0], places[1]) * factor / (4.8 * 1000 / 60)
        gap = (route.stops[0].arrive - route.depart).total_seconds() / 60
        assert gap == pytest.approx(first, abs=1.01)
    body = plan_to_json(plan)
    assert body["travel"] == "straight-line" and body["travel_note"] == APPROXIMATE_NOTE
    again = plan_from_json(json.loads(json.dumps(body)))
    assert again.travel == "straight-line"


def test_every_hull_team_gets_a_stop(hull_hotspots, settings):
    """Hull, January 2024: map points split into stops a patrol covers; no team idles."""
    assert len(hull_hotspots) >= 3
    teams = load_teams(HULL_TEAMS, date=PLAN_DAY)
    plan = plan_patrols(
        None, hull_hotspots, teams, date=PLAN_DAY, settings=settings, solution_limit=50
    )
    assert all(route.stops for route in plan.routes), [len(r.stops) for r in plan.routes]


def _cli(args, capsys):
    from cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def _pdf_text(path) -> str:
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_done_when_journey_from_the_command_line(
    tmp_path, monkeypatch, capsys, police_2022, police_2024, settings
):
    """Issue 12's 'Done when', step by step, through ``beatplan`` itself."""
    import pandas as pd

    from geo.reports import read_reports as read

    monkeypatch.chdir(tmp_path)
    hull = "Kingston upon Hull"
    _cli(["demo"], capsys)
    _cli(["area", "create", hull, "--bbox", "-0.43,53.71,-0.24,53.82"], capsys)
    imported = _cli(
        ["import", police_2022, police_2024, "--source", "police", "--area", hull], capsys
    )
    rows = sum(len(pd.read_csv(f)) for f in (police_2022, police_2024))
    assert imported["accepted"] + imported["duplicates"] + imported["rejected"] == rows
    hot = _cli(
        [
            "hotspots",
            "--area",
            hull,
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-31",
            "--out",
            tmp_path / "h.geojson",
        ],
        capsys,
    )
    assert hot["hotspots"] >= 1 and all(t["label"] for t in hot["top"])
    planned = _cli(
        [
            "plan",
            "--area",
            hull,
            "--teams",
            HULL_TEAMS,
            "--date",
            "2024-02-01",
            "--out",
            tmp_path / "plan.json",
        ],
        capsys,
    )
    body = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert planned["travel"] == body["travel"] == "straight-line"
    assert planned["stops"] >= 2 and all(team["stops"] for team in body["teams"])
    assert planned["plan_id"]  # saved in the area: brief picks it by id (or by its date)
    _cli(["brief", "--plan-id", planned["plan_id"], "--out", tmp_path / "brief.pdf"], capsys)
    january = ["summary", "--area", hull, "--from", "2024-01-01", "--to", "2024-01-31"]
    _cli([*january, "--out", tmp_path / "summary.pdf"], capsys)
    for pdf in ("brief.pdf", "summary.pdf"):
        text = _pdf_text(tmp_path / pdf).lower()
        assert "synthetic" not in text and "demo" not in text, pdf
    # the summary's total: the in-box rows of the mapped categories, January 2024
    reports = read(police_2024, settings=settings).reports
    inbox = reports[reports["lon"].between(-0.43, -0.24) & reports["lat"].between(53.71, 53.82)]
    mapped = int(inbox["category"].isin(list(settings.categories)).sum())
    summary = _cli([*january, "--out", tmp_path / "again.html"], capsys)
    assert summary["figures"]["all"]["this"] == f"{mapped:,}"
    assert "straight-line distances" in _pdf_text(tmp_path / "brief.pdf")
    summary_text = " ".join(_pdf_text(tmp_path / "summary.pdf").split())
    assert "Community impact summary for Kingston upon Hull" in summary_text
    for point in ("Parking Area", "Supermarket", "Shopping Area", "Petrol Station", "Nightclub"):
        assert point not in summary_text
    _cli(["area", "delete", "Helsinki (demo)"], capsys)
    from geo.areas import list_areas
    from geo.store import Store

    store = Store()
    areas = list_areas(store)
    assert [a.name for a in areas] == [hull] and not areas[0].synthetic
    assert len(store.reports()) == imported["accepted"]  # every Hull report, nothing else
    store.dispose()
