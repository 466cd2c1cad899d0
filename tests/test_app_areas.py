"""AppTest of the app's areas (issue 12): switcher, first-run set-up, imports, settings, saved plans."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo.areas import create_area, get_area, set_current_area
from geo.ingest import import_file
from geo.store import Store
from planning.export import plan_to_json
from tests.conftest import PROJECT_ROOT
from tests.test_briefing import make_plan, named_network

APP = str(PROJECT_ROOT / "app.py")
VIEWS = PROJECT_ROOT / "views"
ALPHA_BOX = (-0.43, 53.71, -0.24, 53.82)  # Hull
BETA_BOX = (-1.60, 53.78, -1.50, 53.82)  # Leeds
N_ALPHA, N_BETA = 7, 4


def _csv(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _rows(prefix: str, n: int, *, lon: float, lat: float, category: str, day: str) -> list[dict]:
    return [
        {
            "reference": f"{prefix}-{i}",
            "date": day,
            "time": "21:00",
            "category": category,
            "lat": lat + i * 1e-4,
            "lon": lon,
            "source": "council",
        }
        for i in range(n)
    ]


@pytest.fixture
def two_areas(tmp_path: Path, settings) -> Store:
    """Alpha (Hull, needles in January 2024) and Beta (Leeds, asb in June 2023); Alpha current."""
    store = Store()
    alpha = create_area(store, "Alpha", bbox=ALPHA_BOX)
    beta = create_area(store, "Beta", bbox=BETA_BOX)
    a = _rows("A", N_ALPHA, lon=-0.336, lat=53.745, category="needles", day="2024-01-10")
    b = _rows("B", N_BETA, lon=-1.55, lat=53.80, category="asb", day="2023-06-05")
    import_file(_csv(tmp_path / "a.csv", a), store=store, settings=settings, area=alpha)
    import_file(_csv(tmp_path / "b.csv", b), store=store, settings=settings, area=beta)
    set_current_area(store, "Alpha")
    yield store
    store.dispose()


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def _page(name: str) -> AppTest:
    return _run(AppTest.from_file(str(VIEWS / f"{name}.py"), default_timeout=60))


def _texts(at: AppTest, *kinds: str) -> str:
    kinds = kinds or ("caption", "info", "success", "error", "warning", "markdown", "subheader")
    return " | ".join(str(e.value) for k in kinds for e in at.get(k))


def _imports_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Accepted" in d.value.columns)


def test_area_switcher_shows_only_the_chosen_areas_data(two_areas, settings):
    at = _run(AppTest.from_file(APP, default_timeout=60))  # the Hotspots page
    switcher = at.sidebar.selectbox(key="area_switcher")
    names = [switcher.format_func(o) for o in switcher.options]
    assert names == ["Alpha", "Beta"] and switcher.format_func(switcher.value) == "Alpha"
    assert "Area\\: Alpha" in _texts(at, "caption")
    assert at.sidebar.multiselect(key="sel_categories").options == [settings.label("needles")]
    assert at.sidebar.date_input(key="sel_period").value[1].isoformat() == "2024-01-10"
    switcher.set_value(get_area(two_areas, "Beta").area_id)
    _run(at)
    assert "Area\\: Beta" in _texts(at, "caption") and "Alpha" not in _texts(at, "caption")
    cats = at.sidebar.multiselect(key="sel_categories")
    assert cats.options == [settings.label("asb")] and cats.value == ["asb"]
    assert at.sidebar.date_input(key="sel_period").value[1].isoformat() == "2023-06-05"
    at.switch_page("views/data.py")
    _run(at)
    assert "Area\\: Beta" in _texts(at, "caption")
    assert _imports_table(at)["Accepted"].tolist() == [N_BETA]
    assert "synthetic" not in _texts(at).lower()


def test_first_run_setup_with_a_typed_box_is_checked_and_audited():
    at = _page("data")
    assert "Set up your area" in [s.value for s in at.subheader]
    at.text_input(key="setup_name").input("Kingston upon Hull")
    at.text_input(key="setup_bbox").input("-0.43,53.71,-0.24")
    at.button(key="setup_go").click()
    _run(at)
    assert any("four numbers" in e.value for e in at.error), _texts(at)
    store = Store()
    assert store.audit_log().query("action == 'area'").empty
    at.text_input(key="setup_bbox").input("-0.43,53.71,-0.24,53.82")
    at.text_area(key="setup_bases").input("Police station: -0.3367, 53.7446")
    at.button(key="setup_go").click()
    _run(at)
    area = get_area(store, "Kingston upon Hull")
    assert area.bbox == ALPHA_BOX and not area.synthetic
    assert area.settings["bases"] == {"Police station": [-0.3367, 53.7446]}
    assert any("Kingston upon Hull is set up" in s.value for s in at.success)
    assert "Import into Kingston upon Hull" in [s.value for s in at.subheader]
    created = store.audit_log().query("action == 'area'")
    assert created["what"].str.contains(f"created area {area.area_id}").any()
    store.dispose()


def test_setup_refuses_a_base_outside_the_area_and_creates_nothing():
    at = _page("data")
    at.text_input(key="setup_name").input("Hull")
    at.text_input(key="setup_bbox").input("-0.43,53.71,-0.24,53.82")
    at.text_area(key="setup_bases").input("Leeds: -1.55, 53.80")
    at.button(key="setup_go").click()
    _run(at)
    assert any("lies outside Hull" in e.value for e in at.error), _texts(at)
    assert Store().audit_log().query("action == 'area'").empty


def test_imports_list_and_delete_one_with_confirmation(two_areas, tmp_path, settings):
    alpha = get_area(two_areas, "Alpha")
    more = _rows("A2", 3, lon=-0.30, lat=53.75, category="asb", day="2024-01-12")
    import_file(_csv(tmp_path / "a2.csv", more), store=two_areas, settings=settings, area=alpha)
    at = _page("data")
    assert sorted(_imports_table(at)["Accepted"]) == [3, N_ALPHA]
    first = two_areas.batches(area_id=alpha.area_id)
    target = first.loc[first["accepted"] == 3, "batch_id"].iloc[0]
    at.button(key=f"delete_{target}").click()
    _run(at)
    assert any("for good" in w.value for w in at.warning)
    assert two_areas.count_reports(area_id=alpha.area_id) == N_ALPHA + 3  # not yet
    at.button(key="delete_yes").click()
    _run(at)
    assert two_areas.count_reports(area_id=alpha.area_id) == N_ALPHA
    assert two_areas.batches(area_id=alpha.area_id)["accepted"].tolist() == [N_ALPHA]
    assert two_areas.count_reports(area_id=get_area(two_areas, "Beta").area_id) == N_BETA
    assert _imports_table(at)["Accepted"].tolist() == [N_ALPHA]
    assert any("its 3 reports" in s.value for s in at.success)
    deleted = two_areas.audit_log().query("action == 'delete'")
    assert deleted["what"].str.contains(target).any() and int(deleted["n_rows"].iloc[-1]) == 3


@pytest.fixture
def edited_grids(monkeypatch):
    """Simulated edits of st.data_editor grids (AppTest cannot type into a grid)."""
    edits: dict[str, object] = {}
    real = st.data_editor

    def fake(data, *args, key=None, **kwargs):
        shown = real(data, *args, key=key, **kwargs)
        return edits[key](shown) if key in edits else shown

    monkeypatch.setattr(st, "data_editor", fake)
    return edits


def test_settings_edits_are_stored_per_area_and_audited(two_areas, edited_grids):
    at = _page("settings")
    at.text_input(key="base_name").input("Station")
    at.number_input(key="base_lon").set_value(-1.55)  # in Leeds: outside Alpha
    at.number_input(key="base_lat").set_value(53.80)
    next(b for b in at.button if b.label == "Add base").click()
    _run(at)
    assert any("outside Alpha" in e.value for e in at.error), _texts(at)
    at.number_input(key="base_lon").set_value(-0.3367)
    at.number_input(key="base_lat").set_value(53.7446)
    next(b for b in at.button if b.label == "Add base").click()
    _run(at)
    assert get_area(two_areas, "Alpha").settings["bases"] == {"Station": [-0.3367, 53.7446]}
    team = {
        "name": "Night team",
        "members": "PCSO, Outreach worker",
        "skills": "police, outreach",
        "base_name": "Station",
        "shift": "20:00-23:00",
        "day": "plan date",
        "mode": "walk",
        "max_stops": None,
    }
    edited_grids["teams_editor"] = lambda _df: pd.DataFrame([{**team, "skills": "magic"}])
    at.button(key="save_teams").click()
    _run(at)
    assert any("Teams not saved" in e.value for e in at.error)
    edited_grids["teams_editor"] = lambda _df: pd.DataFrame([team])
    at.button(key="save_teams").click()
    _run(at)
    edited_grids["categories_editor"] = lambda df: df.assign(
        harm_weight=np.where(df["slug"] == "needles", 7.0, df["harm_weight"])
    )
    at.button(key="save_categories").click()
    _run(at)
    assert any("Categories saved for Alpha" in m.value for m in at.success), _texts(at)
    at.number_input(key="threshold_input").set_value(5)
    at.button(key="save_threshold").click()
    _run(at)
    alpha, beta = get_area(two_areas, "Alpha"), get_area(two_areas, "Beta")
    assert alpha.settings["teams"] == [
        {
            "name": "Night team",
            "members": ["PCSO", "Outreach worker"],
            "skills": ["police", "outreach"],
            "base_name": "Station",
            "shift": "20:00-23:00",
            "day": 0,
            "mode": "walk",
        }
    ]
    assert alpha.settings["categories"]["needles"]["harm_weight"] == 7.0
    assert alpha.settings["suppression_threshold"] == 5
    assert beta.settings == {}
    audited = two_areas.audit_log().query("action == 'area'")["what"]
    for key in ("bases", "teams", "categories", "suppression_threshold"):
        assert audited.str.contains(f"setting {key} of area {alpha.area_id}").any(), key
    assert any("The threshold saved for Alpha" in s.value for s in at.success)


def _save_plans(store: Store) -> dict[str, str]:
    """Two plans in Alpha (one with Team A and B, one with Team A only), one in Beta."""
    seg, _ = named_network()
    body = plan_to_json(make_plan(seg))
    only_a = {**body, "teams": body["teams"][:1]}
    alpha, beta = get_area(store, "Alpha").area_id, get_area(store, "Beta").area_id
    return {
        "both": store.save_plan("2025-03-07", json.dumps(body), area_id=alpha),
        "only_a": store.save_plan("2025-03-08", json.dumps(only_a), area_id=alpha),
        "beta": store.save_plan("2025-03-09", json.dumps(body), area_id=beta),
    }


def test_saved_plans_of_the_area_are_picked_on_briefings_and_tracking(two_areas):
    ids = _save_plans(two_areas)
    brief = _page("briefings")
    picker = brief.selectbox(key="brief_plan")
    assert [o[:14] for o in picker.options] == ["Sat 2025-03-08", "Fri 2025-03-07"]  # not Beta's
    assert picker.value == ids["only_a"]  # the newest date first
    assert "2025-03-08" in picker.format_func(picker.value)
    picker.set_value(ids["both"])
    _run(brief)
    assert brief.selectbox[1].options == ["All teams", "Team A", "Team B"]
    track = _page("tracking")
    choice = track.selectbox(key="track_plan")
    assert [o[:14] for o in choice.options] == ["Sat 2025-03-08", "Fri 2025-03-07"]
    choice.set_value(ids["both"])
    _run(track)
    assert track.selectbox(key="track_team").options == ["Team A", "Team B"]


def test_team_role_opens_its_own_saved_plan_read_only(two_areas, monkeypatch):
    import ui.auth
    from ui.auth import User

    ids = _save_plans(two_areas)
    member = User(email="pcso@force.uk", name="PCSO", role="team", team="Team B")
    monkeypatch.setattr(ui.auth, "signed_in_user", lambda: member)
    brief = _page("briefings")
    mine = brief.selectbox(key="brief_plan")
    assert [o[:14] for o in mine.options] == ["Fri 2025-03-07"]  # only the plan with Team B
    assert mine.value == ids["both"]
    assert "Read\\-only" in _texts(brief, "caption")
    assert brief.selectbox[1].options == ["Team B"]
    track = _page("tracking")
    assert track.selectbox(key="track_plan").value == ids["both"]
    assert len(track.selectbox(key="track_plan").options) == 1
    assert track.selectbox(key="track_team").options == ["Team B"]
    assert [u.label for u in track.get("file_uploader")][:1] == ["GPX tracks from the patrol"]
    assert not [b for b in track.button if b.label == "Plan patrols"]


def test_settings_loads_saved_teams_from_a_teams_file(two_areas):
    at = _page("settings")
    uploader = next(u for u in at.get("file_uploader") if u.label.startswith("Or load a teams"))
    uploader.upload("teams.toml", b"[[team]]\nname = 'X'\nshift = 'soon'\n", "application/toml")
    _run(at)
    at.button(key="load_teams_file").click()
    _run(at)
    assert any("Teams not saved" in e.value for e in at.error), _texts(at)
    assert "teams" not in get_area(two_areas, "Alpha").settings
    hull = (PROJECT_ROOT / "data" / "examples" / "hull-teams.toml").read_bytes()
    uploader = next(u for u in at.get("file_uploader") if u.label.startswith("Or load a teams"))
    uploader.upload("hull-teams.toml", hull, "application/toml")
    _run(at)
    at.button(key="load_teams_file").click()
    _run(at)
    alpha = get_area(two_areas, "Alpha")
    assert [t["name"] for t in alpha.settings["teams"]] == [
        "City centre foot patrol",
        "Evening outreach patrol",
    ]
    assert alpha.settings["bases"]["Queens Gardens"] == [-0.3367, 53.7446]
    assert get_area(two_areas, "Beta").settings == {}


def test_drawn_rectangle_typed_bases_and_boxes_are_read_or_refused_plainly():
    from ui.area_forms import drawn_bbox, parse_bases, parse_bbox

    ring = [[-0.43, 53.71], [-0.24, 53.71], [-0.24, 53.82], [-0.43, 53.82], [-0.43, 53.71]]
    drawn = {
        "last_active_drawing": {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
    }
    assert drawn_bbox(drawn) == ALPHA_BOX
    assert drawn_bbox({"last_active_drawing": None, "all_drawings": None}) is None
    point = {"last_active_drawing": {"geometry": {"type": "Point", "coordinates": [0, 0]}}}
    assert drawn_bbox(point) is None
    assert parse_bases("A: -0.3, 53.7\n\nB station: -0.31, 53.71") == {
        "A": [-0.3, 53.7],
        "B station": [-0.31, 53.71],
    }
    for bad, words in (
        ("A -0.3 53.7", "line 1"),
        ("A: x, 53", "longitude"),
        ("A: 1, 2\na: 1, 2", "another base"),
    ):
        with pytest.raises(ValueError, match=words):
            parse_bases(bad)
    assert parse_bbox(" -0.43, 53.71 ,-0.24,53.82 ") == ALPHA_BOX
    for bad in ("-0.24,53.71,-0.43,53.82", "1,2,3", "a,b,c,d", "nan,1,2,3"):
        with pytest.raises(ValueError, match="four numbers"):
            parse_bbox(bad)


def test_first_run_setup_from_an_uploaded_boundary_file():
    ring = [[-0.40, 53.72], [-0.25, 53.72], [-0.30, 53.80], [-0.40, 53.72]]
    geojson = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            ],
        }
    ).encode()
    at = _page("data")
    at.text_input(key="setup_name").input("Hull beat")
    at.radio(key="setup_how").set_value("Upload a boundary file")
    _run(at)
    at.button(key="setup_go").click()
    _run(at)
    assert any("Choose the boundary file first" in e.value for e in at.error), _texts(at)
    at.get("file_uploader")[0].upload("beat.geojson", geojson, "application/geo+json")
    _run(at)
    at.button(key="setup_go").click()
    _run(at)
    area = get_area(Store(), "Hull beat")
    assert area.boundary is not None and area.bbox == (-0.40, 53.72, -0.25, 53.80)
    assert bool(area.contains([-0.38], [53.73])[0]) and not bool(area.contains([-0.26], [53.79])[0])


def test_a_hostile_area_name_is_shown_as_text(settings):
    from ui.escape import md_text

    name = "Hull ![x](http://evil.example/p.png) <img src=x onerror=alert(1)> **bold**"
    store = Store()
    create_area(store, name, bbox=ALPHA_BOX)
    at = _page("data")
    shown = _texts(at, "caption", "subheader", "markdown")
    assert md_text(f"Area: {name}") in shown and f"Import into {md_text(name)}" in shown
    for raw in (r"(?<!\\)<img", r"(?<!\\)\]\(http", r"(?<!\\)\*\*bold"):  # only escaped
        assert not re.search(raw, shown), raw
    store.dispose()
