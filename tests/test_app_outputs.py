"""AppTest of the Briefings and Community pages: plan and period choice, preview, downloads."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.store import Store
from geo.streets import StreetNetwork
from planning.export import plan_to_json
from tests.conftest import PROJECT_ROOT
from tests.test_briefing import make_plan, named_network, report_frame

BRIEFINGS = str(PROJECT_ROOT / "views" / "briefings.py")
COMMUNITY = str(PROJECT_ROOT / "views" / "community.py")


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    """Keep the pages away from the project's data/ folder (no network unless a test saves one)."""
    monkeypatch.setenv("BEATPLAN_DATA", str(tmp_path))
    return tmp_path


def _seed(*, with_plan: bool = True) -> None:
    """Fill the test database (BEATPLAN_DB, set by conftest) with reports and a plan."""
    seg, _ = named_network()
    rows = []
    for month, n in (("2025-01", 14), ("2025-02", 12), ("2025-03", 5)):
        start = pd.Period(month, freq="M").start_time
        for i in range(n):
            s = (3, 20)[i % 2]
            c = seg.geometry.iloc[s].interpolate(0.5, normalized=True)
            rows.append(
                ("needles", start + timedelta(days=i, hours=21), c.x, c.y, s, True, "Anlaby Road")
            )
    frame = report_frame(rows)
    frame["report_id"] = [f"{k:032x}" for k in range(len(frame))]
    store = Store()
    store.add_batch(
        frame, file_name="seed.csv", source="police", fmt="csv", rows_read=len(frame), rejected=0
    )
    if with_plan:
        plan = make_plan(seg)
        store.save_plan(plan.date.isoformat(), json.dumps(plan_to_json(plan)))
    store.dispose()


def _run(path: str) -> AppTest:
    at = AppTest.from_file(path, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_briefings_page_without_a_plan_says_so():
    _seed(with_plan=False)
    at = _run(BRIEFINGS)
    assert at.title[0].value == "Briefings"
    assert any("No patrol plan yet" in i.value for i in at.info)


def test_briefings_page_previews_and_offers_downloads(_data_dir):
    seg, _ = named_network()
    StreetNetwork.from_lines(seg[["name", "highway", "geometry"]]).save(_data_dir / "network.gpkg")
    _seed()
    at = _run(BRIEFINGS)
    plan_box, team_box = at.selectbox[0], at.selectbox[1]
    assert "2025-03-07" in plan_box.format_func(plan_box.value)
    assert team_box.options == ["All teams", "Team A", "Team B"]
    downloads = at.get("download_button")
    assert len(downloads) == 2
    team_box.set_value("Team B").run()
    assert not at.exception
    html = at.get("iframe")[0].proto.srcdoc if at.get("iframe") else ""
    assert "Patrol briefing: Team B" in html and "Patrol briefing: Team A" not in html
    assert "data:image/png;base64," in html


def test_briefings_page_uses_the_session_plan():
    _seed(with_plan=False)
    seg, _ = named_network()
    plan = plan_to_json(make_plan(seg))
    plan["teams"] = plan["teams"][:1]
    at = AppTest.from_file(BRIEFINGS, default_timeout=60)
    at.session_state["plan_json"] = plan
    at.run()
    assert not at.exception
    assert at.selectbox[1].options == ["All teams", "Team A"]


def test_community_page_offers_months_and_quarters_and_defaults_to_the_last_full_month():
    _seed()
    at = _run(COMMUNITY)
    assert at.title[0].value == "Community summary"
    feb, mar = pd.Period("2025-02", freq="M"), pd.Period("2025-03", freq="M")
    assert at.selectbox(key="community_period_Month").value == (feb, feb)
    assert len(at.get("download_button")) == 2
    html = at.get("iframe")[0].proto.srcdoc
    assert "Community impact summary" in html and "February 2025" in html
    at.radio(key="community_kind").set_value("Quarter").run()
    assert not at.exception
    assert "January to March 2025" in at.get("iframe")[0].proto.srcdoc
    at.radio(key="community_kind").set_value("Month").run()
    at.selectbox(key="community_period_Month").set_value((mar, mar)).run()
    assert not at.exception
    assert "fewer than 10" in at.get("iframe")[0].proto.srcdoc


def test_community_page_empty_store():
    at = _run(COMMUNITY)
    assert any("No reports yet" in i.value for i in at.info)


def test_community_page_counts_delivered_patrols_from_the_log():
    from datetime import date

    from geo.store import Store
    from planning.tracking import log_patrol

    _seed()
    store = Store()
    log_patrol(store, team="Foot patrol", date=date(2025, 2, 3), hotspot_id="H-0000Z1", minutes=15)
    log_patrol(store, team="Foot patrol", date=date(2025, 2, 4), hotspot_id="H-0000Z1", minutes=20)
    at = _run(COMMUNITY)
    html = at.get("iframe")[0].proto.srcdoc
    assert "Visits delivered" in html
    assert "Patrol teams made 2 delivered hotspot visits" in html
