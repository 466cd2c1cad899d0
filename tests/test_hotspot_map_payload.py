"""What the Hotspots map sends: heat places pooled past a cap, streets as compact lines."""

from __future__ import annotations

import json
import re
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString

from ui.hotspot_map import add_report_points, heat_points
from ui.maps import STREET_STYLE, base_map
from ui.static_layers import street_layer, street_lines, streets_geojson


def test_heat_points_keep_every_place_and_count_under_the_cap():
    lat = [53.74, 53.74, 53.740001, 53.75, np.nan]
    lon = [-0.37, -0.37, -0.370001, -0.36, -0.36]
    pts = heat_points(lat, lon, max_points=2)
    assert pts.tolist() == [[53.74, -0.37, 3.0], [53.75, -0.36, 1.0]]
    assert heat_points([53.7], [-0.3]).tolist() == [[53.7, -0.3]]  # no weights when all are 1
    assert heat_points([], []).shape[0] == 0
    with pytest.raises(ValueError, match="at least 1"):
        heat_points(lat, lon, max_points=0)


def test_heat_points_past_the_cap_pool_into_cells_that_keep_every_report():
    rng = np.random.default_rng(7)
    lat = 53.74 + rng.normal(0, 0.004, 20_000)
    lon = -0.36 + rng.normal(0, 0.006, 20_000)
    lat[:500] = 53.75  # one busy place
    lon[:500] = -0.35
    pts = heat_points(lat, lon, max_points=1_000)
    assert 250 < len(pts) <= 1_000  # the finest grid that fits, not a much coarser one
    assert pts[:, 2].sum() == 20_000  # every report keeps its weight
    assert pts[:, 0].min() >= lat.min() - 1e-5 and pts[:, 0].max() <= lat.max() + 1e-5
    assert pts[:, 1].min() >= lon.min() - 1e-5 and pts[:, 1].max() <= lon.max() + 1e-5
    busy = pts[np.argmax(pts[:, 2])]
    assert busy[2] >= 500 and abs(busy[0] - 53.75) < 0.002 and abs(busy[1] + 0.35) < 0.002
    # The weighted centre of all places is the reports' own centre.
    centre = (pts[:, :2] * pts[:, 2:]).sum(axis=0) / 20_000
    assert np.allclose(centre, [np.round(lat, 5).mean(), np.round(lon, 5).mean()], atol=1e-5)


def _segments() -> gpd.GeoDataFrame:
    lines = [
        LineString([(-0.37, 53.74), (-0.36912345678, 53.7401), (-0.368, 53.7402)]),
        LineString([(-0.368, 53.7402), (-0.366, 53.741)]),
        MultiLineString([[(-0.361, 53.75), (-0.3605, 53.7501)], [(-0.36, 53.75), (-0.359, 53.74)]]),
        LineString(),  # an empty geometry is left out, as before
    ]
    return gpd.GeoDataFrame({"name": list("ABCD")}, geometry=lines, crs=4326).to_crs(27700)


def _drawn_in_node(script: str) -> list:
    """Run a layer's script with a stand-in Leaflet that returns the GeoJSON it is given."""
    stub = "var L = {geoJson: function (d, o) { return {data: d, options: o}; }};"
    name = re.search(r"var (\w+) = L\.geoJson", script).group(1)
    run = f"{stub}\n{script}\nconsole.log(JSON.stringify({name}));"
    out = subprocess.run(
        ["node", "-e", run], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(out.stdout)


def test_street_lines_draw_exactly_the_geojson_coordinates_from_a_fifth_of_the_bytes():
    segs = _segments()
    reference, ref_bounds = streets_geojson(segs)
    expected = []
    for feature in json.loads(reference)["features"]:
        geom = feature["geometry"]
        parts = [geom["coordinates"]] if geom["type"] == "LineString" else geom["coordinates"]
        expected += parts
    m = base_map(bounds=(-0.38, 53.73, -0.35, 53.76))
    layer = street_layer(m, segs)
    m.get_root().render()
    script = m.get_root().script.render()
    drawn = _drawn_in_node(script[script.index(f"var {layer.get_name()} = ") :].split("\n")[0])
    features = drawn["data"]["features"]
    assert [f["geometry"]["type"] for f in features] == ["LineString"] * 4
    assert [f["geometry"]["coordinates"] for f in features] == expected  # to the last bit
    assert drawn["options"] == {"interactive": False, "style": STREET_STYLE}
    assert layer._get_self_bounds() == ref_bounds
    assert re.fullmatch(r'\{"o":\[-?\d+,-?\d+\],"l":\[\[[-\d,\[\]]+\]\]\}', layer.data_js)


def test_street_lines_of_a_city_are_far_smaller_than_geojson():
    rng = np.random.default_rng(3)
    x0, y0 = rng.uniform(-0.4, -0.3, 3000), rng.uniform(53.7, 53.8, 3000)
    lines = [LineString([(x, y), (x + 0.0007, y + 0.0002)]) for x, y in zip(x0, y0, strict=True)]
    segs = gpd.GeoDataFrame(geometry=lines, crs=4326)
    compact, _ = street_lines(segs)
    full, _ = streets_geojson(segs)
    assert len(compact) < len(full) / 4
    assert street_lines(segs.iloc[:0]) == ('{"o":[0,0],"l":[]}', None)


def test_report_points_draw_each_category_and_day_once_with_escaped_tooltips():
    reports = pd.DataFrame(
        {
            "lon": [-0.37, -0.36, -0.35, np.nan],
            "lat": [53.74, 53.741, 53.7423456, 53.0],
            "category": ["asb", "<img src=x>", "asb", "asb"],
            "occurred_at": pd.to_datetime(
                ["2025-01-02 10:00", "2025-01-03 23:59", "2025-01-02 01:00", "2025-01-04 00:00"]
            ),
        }
    )
    m = base_map(bounds=(-0.38, 53.73, -0.34, 53.75))
    legend = add_report_points(m, reports, labels={"asb": "<b>ASB</b>"})
    m.get_root().render()
    script = m.get_root().script.render()
    start = script.index("var pts = ")
    body = script[script.rindex("(function () {", 0, start) : script.index("})();", start) + 5]
    cluster = re.search(r"var cluster = (\w+);", body).group(1)
    stub = (
        "var L = {circleMarker: function (ll, o) { return {ll: ll, fill: o.fillColor,"
        " bindTooltip: function (t) { this.tip = t; return this; }}; }};"
        f"var {cluster} = {{items: [], addLayer: function (x) {{ this.items.push(x); }}}};"
    )
    run = f"{stub}\n{body}\nconsole.log(JSON.stringify({cluster}.items));"
    out = subprocess.run(
        ["node", "-e", run], capture_output=True, text=True, timeout=60, check=True
    )
    drawn = json.loads(out.stdout)
    assert [d["ll"] for d in drawn] == [[53.74, -0.37], [53.741, -0.36], [53.74235, -0.35]]
    assert [d["tip"] for d in drawn] == [
        "&lt;b&gt;ASB&lt;/b&gt; · 2 Jan 2025",
        "&lt;img src=x&gt; · 3 Jan 2025",
        "&lt;b&gt;ASB&lt;/b&gt; · 2 Jan 2025",
    ]
    assert drawn[0]["fill"] == drawn[2]["fill"] != drawn[1]["fill"]
    assert legend == {"<img src=x>": drawn[1]["fill"], "<b>ASB</b>": drawn[0]["fill"]}
    assert "<img" not in body and "<b>" not in body
