"""AppTest of the Tracking page: no plan, a demo track against a plan, manual entry."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from planning.export import plan_to_json
from tests.conftest import PROJECT_ROOT
from tests.test_tracking import make_plan

TRACKING = str(PROJECT_ROOT / "views" / "tracking.py")


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    """Keep the page away from the project's data/ folder."""
    monkeypatch.setenv("BEATPLAN_DATA", str(tmp_path))
    return tmp_path


def _texts(at: AppTest) -> str:
    parts = [
        e.value for kind in ("info", "error", "warning", "caption", "success") for e in at.get(kind)
    ]
    return " | ".join(str(p) for p in parts)


def test_tracking_page_without_a_plan_says_so() -> None:
    at = AppTest.from_file(TRACKING, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert any("No patrol plan yet" in i.value for i in at.info)
    assert not at.error
    # Hand entry offers only the area's hotspots: without a plan there is none to pick.
    hotspot = next(s for s in at.selectbox if s.label == "Hotspot")
    assert hotspot.options == []
    at.text_input[0].set_value("Outreach van")
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    assert not at.success and any("hotspot" in e.value for e in at.error), _texts(at)


def test_tracking_page_with_demo_track_shows_dosage_table() -> None:
    at = AppTest.from_file(TRACKING, default_timeout=60)
    at.session_state["plan_json"] = plan_to_json(make_plan())
    at.run()
    assert not at.exception, at.exception
    demo = next(b for b in at.button if b.label == "Use a demo track")
    demo.click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, _texts(at)
    assert any(s.value == "Planned and delivered minutes" for s in at.subheader)
    table = at.dataframe[0].value
    assert table["Status"].tolist() == ["Done", "Done", "Done"]
    assert (table["Delivered (min)"] >= 12).all()
    assert at.get("component_instance"), "the track map is missing"
    save = next(b for b in at.button if b.label.startswith("Save these visits"))
    save.click()
    at.run()
    assert not at.exception, at.exception
    assert any("Saved 3 visit(s)" in s.value for s in at.success), _texts(at)
    assert at.get("vega_lite_chart"), "the dosage chart is missing"
    assert any(s.value == "Effect on reports" for s in at.subheader)
    assert any("Plan patrols first" in c.value for c in at.caption)
    assert table["Delivered (min)"].dtype.name == "Int64"  # whole minutes
    assert all(a == "on time" or a.endswith(("late", "early")) for a in table["Arrival"])


def test_unreadable_gpx_is_a_plain_error_and_marks_no_stop() -> None:
    plan = make_plan()
    at = AppTest.from_file(TRACKING, default_timeout=60)
    at.session_state["plan_json"] = plan_to_json(plan)
    team = plan.routes[0].team.name
    at.session_state["tracking_demo"] = ("broken.gpx", b"<gpx><trk>not a track", team)
    at.run()
    assert not at.exception, at.exception
    assert any("Could not read the track" in e.value for e in at.error), _texts(at)
    assert not any(s.value == "Planned and delivered minutes" for s in at.subheader)
    assert not [d for d in at.dataframe if "Status" in d.value.columns]
    assert any("No stop is marked" in i.value for i in at.info)
