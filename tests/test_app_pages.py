"""AppTest of the Area and Hotspots pages on real data (police.uk, the Leeds street extract)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from geo.ingest import import_file
from geo.store import Store
from geo.streets import StreetNetwork
from geo.workspace import install_network
from tests.conftest import HULL_BBOX, PROJECT_ROOT, shared_file

APP = str(PROJECT_ROOT / "app.py")


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    monkeypatch.setenv("BEATPLAN_DATA", str(tmp_path))
    return tmp_path


def _page(path: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def test_hotspots_page_empty_store(data_env):
    at = _page("views/hotspots.py")
    assert any("No reports yet" in i.value for i in at.info)


def test_hotspots_page_point_mode_on_police_uk(data_env, police_2022, settings):
    store = Store()
    import_file(police_2022, store=store, settings=settings.with_area(HULL_BBOX))
    at = _page("views/hotspots.py")
    assert any("no street network loaded" in c.value for c in at.caption)
    frames = [d.value for d in at.dataframe]
    ranked = next(f for f in frames if "Who should go" in f.columns)
    assert len(ranked) > 3 and ranked["Rank"].iloc[0] == 1
    assert ranked["Active hours"].iloc[0] == "no timed reports"  # police.uk: month only
    maps = [c for c in at.get("component_instance") if "json_args" in str(c.proto)]
    assert maps, "the folium map component is drawn"
    html = json.loads(maps[0].proto.json_args)["script"]
    assert "cdn" not in html.lower() and "https://" not in html
    # Narrowing the categories in the sidebar reruns the analysis.
    at.sidebar.multiselect(key="sel_categories").set_value(["drugs"]).run()
    assert not at.exception


def test_area_page_shows_loaded_network(data_env):
    leeds = shared_file("osm", "leeds-its-example.osm.pbf")
    install_network(StreetNetwork.from_file(leeds), Store())
    at = _page("views/area.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Street segments"] == "242"
    assert metrics["Length"] == "10.2 km"
