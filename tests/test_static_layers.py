"""Tests of the prepared map layers (ui.static_layers) and the merged hotspot outlines."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import numpy as np
import shapely
import streamlit_folium as sf
from shapely.geometry import LineString, MultiLineString

from ui.hotspot_map import TREND_STYLE, add_hotspot_outlines, add_report_points
from ui.maps import add_street_network, base_map
from ui.static_layers import PreparedGeoJson, safe_json, street_layer, streets_geojson


class _Net:
    """The bits of a StreetNetwork the street layer reads."""

    def __init__(self, segments: gpd.GeoDataFrame) -> None:
        self.segments = segments
        self._cache: dict = {}

    def analysis_cache(self) -> dict:
        return self._cache


def _streets() -> gpd.GeoDataFrame:
    lines = [
        LineString([(-0.37, 53.74), (-0.36912345678, 53.7401), (-0.368, 53.7402)]),
        LineString([(-0.368, 53.7402), (-0.366, 53.741)]),
    ]
    return gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=lines, crs=4326)


def _map_string(m: folium.Map) -> str:
    m.get_root().render()
    return sf._get_map_string(m)


def test_street_layer_draws_the_same_coordinates_as_the_folium_layer():
    segs = _streets()
    old = add_street_network(base_map(bounds=(-0.38, 53.73, -0.36, 53.75)), segs)
    text, bounds = streets_geojson(segs)
    ours = json.loads(text)
    assert [f["geometry"] for f in ours["features"]] == [
        json.loads(json.dumps(f["geometry"])) for f in old.data["features"]
    ]
    assert all(f["properties"] == {} for f in ours["features"])
    assert bounds == [[53.74, -0.37], [53.741, -0.366]]


def test_street_layer_is_prepared_once_per_network_and_in_the_layer_control():
    net = _Net(_streets())
    m = base_map(bounds=(-0.38, 53.73, -0.36, 53.75))
    first = street_layer(m, net)
    folium.LayerControl().add_to(m)
    second = street_layer(base_map(bounds=(-0.38, 53.73, -0.36, 53.75)), net)
    assert second.data_js is first.data_js  # taken from the network's cache
    out = _map_string(m)
    name = re.search(r"var (prepared_geo_json_\w+) = L\.geoJson\(", out)
    assert name is not None
    assert f"{name.group(1)}.addTo(map_div)" in out
    assert '"interactive": false' in out
    overlays = re.search(r"overlays\s*:\s*\{(.*?)\}", out, flags=re.DOTALL)
    assert overlays is not None and '"Streets"' in overlays.group(1)  # a checkbox, not a base
    assert m.get_bounds() == [[53.74, -0.37], [53.741, -0.366]]


def test_prepared_text_is_not_run_through_jinja_and_json_is_script_safe():
    m = base_map(bounds=(-0.38, 53.73, -0.36, 53.75))
    PreparedGeoJson("{{ 6 * 7 }}", options={}, name="x").add_to(m)
    html = m.get_root().render()
    assert "L.geoJson({{ 6 * 7 }}, {})" in html  # branca would have written 42
    assert safe_json("</script><b>'&") == '"\\u003c/script\\u003e\\u003cb\\u003e\\u0027\\u0026"'


def _hotspots() -> gpd.GeoDataFrame:
    geoms = [
        MultiLineString([[(-0.37, 53.74), (-0.369, 53.7401)]]),
        MultiLineString(
            [[(-0.36, 53.742), (-0.359, 53.7421)], [(-0.359, 53.7421), (-0.358, 53.7425)]]
        ),
    ]
    return gpd.GeoDataFrame(
        {
            "hotspot_id": ["H-AAAAAA", "H-BBBBBB"],
            "label": ["<img src=x onerror=alert(1)>", "${alert(2)} Road"],
            "n_reports": [12, 30],
        },
        geometry=geoms,
        crs=4326,
    )


def test_hotspot_outlines_are_one_layer_with_dashes_badges_and_escaped_tooltips():
    m = base_map(bounds=(-0.38, 53.73, -0.35, 53.75))
    group = add_hotspot_outlines(
        m,
        _hotspots(),
        trends={"H-AAAAAA": "fading", "H-BBBBBB": "new"},
        tooltip_fields={"hotspot_id": "Id", "label": "Where"},
    )
    layers = [c for c in group._children.values() if isinstance(c, folium.GeoJson)]
    assert len(layers) == 1 and len(layers[0].data["features"]) == 2
    out = _map_string(m)
    assert "<img" not in out and "${alert" not in out  # escaped HTML, written as JSON
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in out
    assert TREND_STYLE["fading"][1] in out  # the fading outline is dashed
    badges = json.loads(re.search(r"var badges = (\[.*?\]\]);", out).group(1))
    assert [b[2].count("H-AAAAAA") + b[2].count("H-BBBBBB") for b in badges] == [1, 1]
    assert TREND_STYLE["new"][0] in badges[1][2] and TREND_STYLE["fading"][0] in badges[0][2]
    assert "\\u003c/div\\u003e" in out  # badge markup reaches the page only as JSON text
    anchor = shapely.point_on_surface(_hotspots().geometry.iloc[0])  # on the outline itself
    assert np.allclose(badges[0][:2], [anchor.y, anchor.x], atol=1e-6)


def test_no_hotspots_draw_an_empty_group():
    m = base_map(bounds=(-0.38, 53.73, -0.35, 53.75))
    group = add_hotspot_outlines(m, _hotspots().iloc[:0], tooltip_fields={"label": "Where"})
    assert not group._children
    assert "feature_group" in _map_string(m)


def test_report_points_reach_the_page_as_json_without_recompiling():
    import pandas as pd

    m = base_map(bounds=(-0.38, 53.73, -0.35, 53.75))
    reports = pd.DataFrame(
        {
            "lon": [-0.37, -0.36],
            "lat": [53.74, 53.741],
            "category": ["asb", "{{ 6 * 7 }}"],
            "occurred_at": pd.to_datetime(["2025-01-02", "2025-01-03"]),
        }
    )
    add_report_points(m, reports, labels={"asb": "<b>ASB</b>"})
    out = _map_string(m)
    assert "{{ 6 * 7 }}" in out and "42" not in out
    assert "<b>" not in out and "\\u0026lt;b\\u0026gt;ASB" in out


def test_colormap_hex_equals_branca_for_every_value():
    from ui.maps import default_colormap

    values = np.r_[np.linspace(-1.0, 12.0, 997), 0.5, 10.6, 3.3]
    cmap = default_colormap(np.r_[0.5, 10.6])
    from ui.hotspot_map import colormap_hex

    assert list(colormap_hex(cmap, values)) == [cmap.rgb_hex_str(v) for v in values]


def test_risk_layer_colours_orders_and_escapes_its_tooltips():
    from ui.hotspot_map import add_risk_layer, colormap_hex
    from ui.maps import default_colormap

    segs = _streets().assign(
        name=["<script>alert(1)</script>", "${x} `y` Street"], risk=[7.25, np.nan]
    )
    segs.loc[2] = ["Low Road", LineString([(-0.366, 53.741), (-0.365, 53.742)]), 1.0]
    cmap = default_colormap(segs["risk"].dropna())
    m = base_map(bounds=(-0.38, 53.73, -0.36, 53.75))
    layer = add_risk_layer(
        m, segs, column="risk", colormap=cmap, labels={"name": "Street <i>", "risk": "Risk"}
    )
    data = json.loads(layer.data_js)
    rows = [f["properties"]["t"] for f in data["features"]]
    # drawn lowest first, so the highest risk is on top; a missing value is grey
    assert [r[1] for r in rows] == ["nan", "1.00", "7.25"]
    colours = [f["properties"]["c"] for f in data["features"]]
    assert colours == ["#bdbdbd", *colormap_hex(cmap, np.array([1.0, 7.25]))]
    assert rows[2][0] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "${" not in rows[0][0] and "`" not in rows[0][0]
    out = _map_string(m)
    assert "<script>alert" not in out and "<i>" not in out
    assert "Street \\u0026lt;i\\u0026gt;" in out  # the heads are escaped too
    assert re.search(r"risk_layer_\w+\.addTo\(map_div\)", out) and "bindTooltip" in out


def test_heat_layer_keeps_folium_output_and_links_leaflet_heat():
    import pandas as pd

    from ui.hotspot_map import add_heat_layer

    reports = pd.DataFrame({"lat": [53.74, np.nan, 53.7412345], "lon": [-0.37, -0.36, -0.365]})
    m = base_map(bounds=(-0.38, 53.73, -0.35, 53.75))
    group = add_heat_layer(m, reports)
    (heat,) = group._children.values()
    ref = folium.plugins.HeatMap([[53.74, -0.37], [53.74123, -0.365]], radius=18, blur=22)
    assert heat.data == ref.data  # the missing point dropped, the others rounded to 1 m
    assert heat._get_self_bounds() == ref._get_self_bounds()
    html = m.get_root().render()
    assert "L.heatLayer(" in html and "[[53.74, -0.37], [53.74123, -0.365]]" in html
    assert re.search(r'<script src="[^"]*heat[^"]*\.js"', html)  # leaflet-heat is linked


def test_heat_layer_sends_reports_at_one_place_once_with_their_count():
    import pandas as pd

    from ui.hotspot_map import add_heat_layer

    lat = [53.74, 53.74, 53.740001, 53.75, 53.74]  # three at one place (to 1 m), one apart
    lon = [-0.37, -0.37, -0.370001, -0.36, -0.37]
    m = base_map(bounds=(-0.38, 53.73, -0.35, 53.76))
    (heat,) = add_heat_layer(m, pd.DataFrame({"lat": lat, "lon": lon}))._children.values()
    assert heat.data == [[53.74, -0.37, 4.0], [53.75, -0.36, 1.0]]
    assert heat._get_self_bounds() == [[53.74, -0.37], [53.75, -0.36]]
