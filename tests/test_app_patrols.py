"""AppTest of the Patrols page on the demo: team editor, plan, timetable, dropped hotspots."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo.demo import build_demo
from geo.store import Store
from tests.conftest import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")


@pytest.fixture
def demo(tmp_path):
    store = Store()
    build_demo(store, data_dir=tmp_path)
    return store


def test_patrols_page_without_network_says_so():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("views/patrols.py").run()
    assert not at.exception
    # Without streets the page plans in straight lines and says so (issue 12).
    assert any("straight-line distances" in i.value for i in at.info)


def test_plan_patrols_on_the_demo(demo):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("views/patrols.py").run()
    assert not at.exception
    editor = at.data_editor[0].value
    assert list(editor["name"]) == ["Foot patrol", "Outreach patrol", "Sharps sweep"]
    at.number_input[1].set_value(1)  # planning time (seconds)
    at.number_input[2].set_value(2)  # repeat visits to the top 2 hotspots
    next(b for b in at.button if b.label == "Plan patrols").click()
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    covered = int(metrics["Risk covered"].rstrip("%"))
    assert 0 < covered <= 100
    assert int(metrics["Stops"]) >= 3
    tables = [d.value for d in at.dataframe]
    timetables = [t for t in tables if "Arrive" in t.columns]
    assert timetables and all((t["Arrive"] < t["Leave"]).all() for t in timetables)
    assert len(demo.audit_log().query("action == 'plan'")) == 1
    # A colour key per team drawn as colour, and a line per team saying why.
    keys = [h.proto.body for h in at.get("html")]
    assert any("Foot patrol" in k and "background:#" in k for k in keys)
    assert not any("<span" in m.value for m in at.markdown)
    why = [c.value for c in at.caption if "min at hotspots" in c.value]
    assert len(why) == len(editor)
    assert all("Visit" in t.columns and "Who should go" in t.columns for t in timetables)
    assert any((t["Visit"] == 2).any() for t in timetables), "no repeat visit planned"
