"""Saved patrol plans per area (issue 12, item 8): list, load, and the CLI's plan pickers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from geo.areas import create_area
from geo.store import Store
from planning.export import plan_to_json
from planning.plan_store import list_plans, load_plan, newest_plan_id
from tests.test_briefing import make_plan, named_network

BOX_A = (24.90, 60.15, 24.98, 60.20)
BOX_B = (-0.43, 53.71, -0.24, 53.82)


@pytest.fixture(autouse=True)
def _clock(monkeypatch):
    """Plans made one minute apart (the store keeps whole seconds)."""
    import geo.store_write

    ticks = iter(range(10_000))
    start = datetime(2025, 3, 6, 12, 0)
    monkeypatch.setattr(geo.store_write, "_now", lambda: start + timedelta(minutes=next(ticks)))


@pytest.fixture
def saved(store: Store) -> dict[str, str]:
    """Alpha: two plans on 2025-03-07 (the second made later, one team) and one on 03-06."""
    seg, _ = named_network()
    body = plan_to_json(make_plan(seg))
    one_team = {**body, "teams": body["teams"][:1], "travel": "straight-line"}
    older = {**body, "date": "2025-03-06"}
    alpha = create_area(store, "Alpha", bbox=BOX_A).area_id
    beta = create_area(store, "Beta", bbox=BOX_B).area_id
    ids = {
        "first": store.save_plan("2025-03-07", json.dumps(body), area_id=alpha),
        "older": store.save_plan("2025-03-06", json.dumps(older), area_id=alpha),
    }
    ids["second"] = store.save_plan("2025-03-07", json.dumps(one_team), area_id=alpha)
    ids["beta"] = store.save_plan("2025-03-07", json.dumps(body), area_id=beta)
    ids["alpha_id"], ids["beta_id"] = alpha, beta
    return ids


def test_list_plans_of_one_area_newest_first_with_counts(store, saved):
    listed = list_plans(store, area_id=saved["alpha_id"])
    assert list(listed.columns) == [
        "plan_id",
        "plan_date",
        "created_at",
        "created_by",
        "teams",
        "stops",
        "travel",
    ]
    assert saved["beta"] not in set(listed["plan_id"])
    assert list(listed["plan_date"]) == ["2025-03-07", "2025-03-07", "2025-03-06"]
    assert set(listed["plan_id"].iloc[:2]) == {saved["first"], saved["second"]}
    by_id = listed.set_index("plan_id")
    assert by_id.loc[saved["first"], "teams"] == 2 and by_id.loc[saved["first"], "stops"] == 5
    assert by_id.loc[saved["second"], "teams"] == 1 and by_id.loc[saved["second"], "stops"] == 3
    assert by_id.loc[saved["second"], "travel"] == "straight-line"
    assert by_id.loc[saved["first"], "travel"] == "network"
    day = list_plans(store, area_id=saved["alpha_id"], plan_date="2025-03-06")
    assert list(day["plan_id"]) == [saved["older"]]
    assert list_plans(store, area_id=saved["alpha_id"], plan_date="2030-01-01").empty


def test_newest_plan_of_a_date_is_the_last_made(store, saved):
    got = newest_plan_id(store, area_id=saved["alpha_id"], plan_date="2025-03-07")
    made = list_plans(store, area_id=saved["alpha_id"], plan_date="2025-03-07")
    assert got == made.sort_values("created_at")["plan_id"].iloc[-1] == saved["second"]
    assert newest_plan_id(store, area_id=saved["beta_id"], plan_date="2025-03-07") == saved["beta"]
    with pytest.raises(ValueError, match="No patrol plan is saved for 2025-03-08"):
        newest_plan_id(store, area_id=saved["alpha_id"], plan_date="2025-03-08")


def test_load_plan_round_trip_and_never_another_areas_plan(store, saved):
    seg, _ = named_network()
    plan = load_plan(store, saved["first"], area_id=saved["alpha_id"])
    want = make_plan(seg)
    assert plan.date == want.date
    assert [r.team.name for r in plan.routes] == ["Team A", "Team B"]
    assert [[s.hotspot_id for s in r.stops] for r in plan.routes] == [
        [s.hotspot_id for s in r.stops] for r in want.routes
    ]
    assert plan.routes[1].stops[0].arrive == want.routes[1].stops[0].arrive
    with pytest.raises(ValueError, match="not saved for this area"):
        load_plan(store, saved["beta"], area_id=saved["alpha_id"])
    with pytest.raises(ValueError, match="not saved for this area"):
        load_plan(store, "banana", area_id=saved["alpha_id"])


def _cli(args, capsys) -> tuple[int, dict | None, str]:
    from cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, (json.loads(out.strip().splitlines()[-1]) if code == 0 else None), err


def _gpx_through(stop, path) -> None:
    """A track standing on a stop for its whole dwell, fixes every minute."""
    import gpxpy.gpx

    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack()
    seg = gpxpy.gpx.GPXTrackSegment()
    minutes = int((stop.leave - stop.arrive).total_seconds() // 60)
    for k in range(minutes + 1):
        when = stop.arrive + timedelta(minutes=k)
        seg.points.append(gpxpy.gpx.GPXTrackPoint(stop.lat, stop.lon, time=when))
    track.segments.append(seg)
    gpx.tracks.append(track)
    path.write_text(gpx.to_xml(), encoding="utf-8")


def test_cli_brief_and_track_pick_a_saved_plan_by_id_or_date(tmp_path, capsys):
    store = Store()
    seg, _ = named_network()
    body = plan_to_json(make_plan(seg))
    alpha = create_area(store, "Alpha", bbox=BOX_A).area_id
    old = store.save_plan("2025-03-07", json.dumps(body), area_id=alpha)
    one_team = {**body, "teams": body["teams"][1:]}
    newest = store.save_plan("2025-03-07", json.dumps(one_team), area_id=alpha)
    store.dispose()
    code, out, err = _cli(["brief", "--plan-id", old, "--out", tmp_path / "a.html"], capsys)
    assert code == 0, err
    assert out["teams"] == 2
    html = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "Team A" in html and "Team B" in html
    code, out, err = _cli(["brief", "--date", "2025-03-07", "--out", tmp_path / "b.html"], capsys)
    assert code == 0, err
    assert out["teams"] == 1  # the newest plan of that date: Team B only
    html = (tmp_path / "b.html").read_text(encoding="utf-8")
    assert "Team B" in html and "Team A" not in html
    stop = make_plan(seg).routes[1].stops[0]
    _gpx_through(stop, tmp_path / "t.gpx")
    code, out, err = _cli(["track", tmp_path / "t.gpx", "--plan-id", newest], capsys)
    assert code == 0, err
    done = {row["hotspot_id"]: row for row in out["plan"]}
    assert done[stop.hotspot_id]["status"] == "done"
    assert done[stop.hotspot_id]["delivered_minutes"] >= 14
    code, out, err = _cli(["track", tmp_path / "t.gpx", "--date", "2025-03-07"], capsys)
    assert code == 0, err
    assert {r["team"] for r in out["plan"]} == {"Team B"}


def test_cli_plan_pickers_refuse_plainly(tmp_path, capsys):
    store = Store()
    create_area(store, "Alpha", bbox=BOX_A)
    store.dispose()
    code, _, err = _cli(["brief", "--plan-id", "nope", "--out", tmp_path / "a.html"], capsys)
    assert code == 2 and "not saved for this area" in err and "Traceback" not in err
    code, _, err = _cli(["brief", "--date", "2025-03-09", "--out", tmp_path / "a.html"], capsys)
    assert code == 2 and "No patrol plan is saved for 2025-03-09" in err
    code, _, err = _cli(["brief", "--date", "soon", "--out", tmp_path / "a.html"], capsys)
    assert code == 2 and "--date must be a date" in err
    (tmp_path / "x.json").write_text("[1, 2]", encoding="utf-8")
    code, _, err = _cli(
        ["brief", "--plan", tmp_path / "x.json", "--out", tmp_path / "a.html"], capsys
    )
    assert code == 2 and "x.json is not a plan JSON file" in err
    with pytest.raises(SystemExit) as stop:  # one of --plan, --plan-id, --date is required
        _cli(["brief", "--out", tmp_path / "a.html"], capsys)
    assert stop.value.code == 2
    with pytest.raises(SystemExit):
        _cli(["brief", "--plan-id", "a", "--date", "2025-03-07", "--out", "a.html"], capsys)


def test_a_next_day_team_carries_its_shift_date_in_the_route_and_the_plan_json():
    from dataclasses import replace

    from planning.export import plan_from_json
    from planning.routes import teams_from_dict

    seg, _ = named_network()
    plan = make_plan(seg)
    base = list(plan.routes[0].team.base)
    raw = {
        "team": [
            {"name": "Evening", "shift": "18:00-22:00", "base": base, "skills": ["police"]},
            {"name": "Sweep", "shift": "07:00-09:00", "day": 1, "base": base, "skills": ["sharps"]},
        ]
    }
    evening, sweep = teams_from_dict(raw, date=plan.date)
    routes = (replace(plan.routes[0], team=evening), replace(plan.routes[1], team=sweep))
    plan = replace(plan, routes=routes)
    assert [r.shift_date for r in plan.routes] == [plan.date, plan.date + timedelta(days=1)]
    body = plan_to_json(plan)
    assert [t["date"] for t in body["teams"]] == ["2025-03-07", "2025-03-08"]
    assert body["date"] == "2025-03-07"
    back = plan_from_json(json.loads(json.dumps(body)))
    assert back.routes[1].shift_date.isoformat() == "2025-03-08"


def test_hand_entry_takes_only_a_hotspot_of_the_area(store):
    from planning.tracking_store import log_patrol, patrol_log

    area = create_area(store, "Alpha", bbox=BOX_A).area_id
    ids = ["H-4KX2Q7", "H-0DAQR0"]
    kw = {"team": "Team A", "date": "2025-03-07", "minutes": 15, "area_id": area}
    for bad in ("banana", "H01", "<b>H-4KX2Q7</b>", "H-4KX2Q7; DROP"):
        with pytest.raises(ValueError, match="not a hotspot of this area") as err:
            log_patrol(store, hotspot_id=bad, **kw)
        assert bad not in str(err.value)  # the typed text is never echoed
    with pytest.raises(ValueError, match="not a hotspot of this area"):
        log_patrol(store, hotspot_id="H-ZZZZZZ", hotspot_ids=ids, **kw)  # another place's id
    assert log_patrol(store, hotspot_id="H-0DAQR0", hotspot_ids=ids, **kw) == 1
    assert log_patrol(store, hotspot_id=" H-4KX2Q7 ", **kw) == 1
    assert patrol_log(store, area_id=area)["hotspot_id"].tolist() == ["H-0DAQR0", "H-4KX2Q7"]
