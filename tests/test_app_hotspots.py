"""AppTest of the Hotspots page on the demo: table columns, trends, layers, legend, exports, forecast."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")


def _hotspots_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("views/hotspots.py").run()
    assert not at.exception, at.exception
    return at


def _map_html(at: AppTest, index: int = 0) -> str:
    maps = [c for c in at.get("component_instance") if "json_args" in str(c.proto)]
    args = json.loads(maps[index].proto.json_args)
    return args["script"] + args["header"] + str(args["js_links"]) + str(args["css_links"])


def test_hotspots_page_on_the_demo(demo_store):
    at = _hotspots_page()
    table = next(d.value for d in at.dataframe if "Who should go" in d.value.columns)
    assert list(table.columns) == [
        "Rank",
        "Id",
        "Where",
        "Reports",
        "Main categories",
        "Active hours",
        "Who should go",
        "Trend",
        "Last 12 months",
    ]
    assert len(table) >= 3 and table["Rank"].iloc[0] == 1
    assert set(table["Trend"]) <= {"new", "growing", "steady", "fading", "gone"}
    assert all(len(m) == 12 for m in table["Last 12 months"])
    assert table["Reports"].iloc[0] > 0
    html = _map_html(at)
    # Layer switcher with every layer, ids on the map, legend in words, local scripts only.
    assert "L.control.layers" in html
    for name in (
        "Risk by street",
        "Hotspot outlines and ids",
        "Heat map (report density)",
        "Reports by category",
    ):
        assert name in html
    assert "hotspot-id" in html and f"{table['Id'].iloc[0]}\\u003c/div" in html
    assert "reports weighted by harm" in html and "Hotspot outline" in html
    assert "/app/static/vendor/leaflet-heat/leaflet-heat.js" in html
    assert "/app/static/vendor/markercluster/leaflet.markercluster.js" in html
    assert "https://" not in html
    # Forecast sentence under the map, with its method in the help.
    check = [c for c in at.caption if "of this month" in c.value.replace("\\", "")]
    assert check and check[0].proto.help
    # Downloads for the supervisor.
    labels = [b.label for b in at.get("download_button")]
    assert {"Download GeoJSON", "Download KML", "Download CSV", "Download Map (PDF, A4)"} <= set(
        labels
    )


def test_compare_view_shows_both_periods(demo_store):
    at = _hotspots_page()
    at.toggle(key="hotspots_compare").set_value(True).run()
    assert not at.exception, at.exception
    words = " ".join(m.value for m in at.markdown)
    assert "Period before" in words and "This period" in words
    assert "gone since then" in words
    maps = [c for c in at.get("component_instance") if "json_args" in str(c.proto)]
    assert len(maps) == 3
