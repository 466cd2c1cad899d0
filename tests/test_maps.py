"""Unit tests for ui.maps: local assets only, escaped text, the street network base layer."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import branca.colormap
import folium
import folium.plugins
import geopandas as gpd
import pytest
from shapely.geometry import LineString

from ui import maps

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "<img src=x onerror=alert(1)>"
BOUNDS = (-0.3700, 53.7390, -0.3595, 53.7430)


def _fetch_vendor():
    if "fetch_vendor" in sys.modules:
        return sys.modules["fetch_vendor"]
    spec = importlib.util.spec_from_file_location("fetch_vendor", ROOT / "scripts/fetch_vendor.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fetch_vendor"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _streets(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    lines = [
        LineString([(-0.3700, 53.7390), (-0.36651234567, 53.73912345678)]),
        LineString([(-0.3665, 53.7390), (-0.3630, 53.7390)]),
        LineString([(-0.3630, 53.7390), (-0.3630, 53.7430)]),
    ]
    gdf = gpd.GeoDataFrame(
        {
            "segment_id": [0, 1, 2],
            "name": ["Anlaby Road", HOSTILE, "Park & Ride \"Lane\" 'x'"],
            "risk": [1.5, 7.0, float("nan")],
        },
        geometry=lines,
        crs="EPSG:4326",
    )
    return gdf.to_crs(crs)


def _decoded(html_text: str) -> str:
    """Undo the JSON/JS escapes folium's tojson applies, i.e. the strings the browser sees."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda mt: chr(int(mt.group(1), 16)), html_text)


def _geojson_data(html_text: str) -> list[dict]:
    """Every FeatureCollection embedded in a rendered map."""
    out = []
    for match in re.finditer(r"_add\((\{.*?\})\);\n", html_text, flags=re.DOTALL):
        out.append(json.loads(match.group(1)))
    return out


def test_rendered_map_links_only_local_assets() -> None:
    maps.configure_offline_assets()
    m = maps.base_map(bounds=BOUNDS)
    maps.add_street_network(m, _streets())
    html_text = m.get_root().render()
    links = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]*)"', html_text)
    assert len(links) == len(maps.MAP_JS) + len(maps.MAP_CSS)
    assert all(u.startswith("/app/static/vendor/") for u in links), links
    assert "https://" not in html_text
    assert "http://" not in html_text
    assert "cdn" not in html_text.lower()
    assert maps.find_remote_assets(m) == []


def test_configure_is_idempotent_and_rebases() -> None:
    maps.configure_offline_assets()
    first = list(folium.Map.default_js), list(folium.Map.default_css)
    maps.configure_offline_assets()
    assert (list(folium.Map.default_js), list(folium.Map.default_css)) == first
    try:
        maps.configure_offline_assets(base_url="/beatplan/app/static/vendor/")
        assert (
            dict(folium.Map.default_js)["leaflet"]
            == "/beatplan/app/static/vendor/leaflet/leaflet.js"
        )
    finally:
        maps.configure_offline_assets()
    with pytest.raises(ValueError, match="base_url"):
        maps.configure_offline_assets(base_url="/")


def test_fullscreen_plugin_is_local() -> None:
    maps.configure_offline_assets()
    m = maps.base_map(bounds=BOUNDS)
    folium.plugins.Fullscreen().add_to(m)
    html_text = m.get_root().render()
    assert "/app/static/vendor/leaflet-fullscreen/Control.FullScreen.js" in html_text
    assert "https://" not in html_text


def test_every_local_asset_is_fetched_by_the_script() -> None:
    required = set(_fetch_vendor().REQUIRED_FILES)
    wanted = {*maps.MAP_JS.values(), *maps.MAP_CSS.values()}
    for js, css in maps.PLUGIN_ASSETS.values():
        wanted |= {*js.values(), *css.values()}
    assert wanted <= required, wanted - required


def test_vendor_dir_complete_when_fetched() -> None:
    fetch_vendor = _fetch_vendor()
    if not fetch_vendor.is_up_to_date(maps.VENDOR_DIR):
        pytest.skip("static/vendor not fetched; run scripts/fetch_vendor.py")
    assert maps.missing_vendor_files() == []


def test_colormap_on_the_map_is_reported_as_remote() -> None:
    # streamlit-folium loads d3 from two CDNs for any branca colormap on the map.
    m = maps.base_map(bounds=BOUNDS)
    branca.colormap.LinearColormap(["#ffffff", "#ff0000"]).add_to(m)
    assert any("d3" in u for u in maps.find_remote_assets(m))


def test_escape_text() -> None:
    assert maps.escape_text(HOSTILE) == "&lt;img src=x onerror=alert(1)&gt;"
    assert maps.escape_text("a & \"b\" 'c'") == "a &amp; &quot;b&quot; &#x27;c&#x27;"
    assert maps.escape_text(None) == ""
    assert maps.escape_text(float("nan")) == ""
    assert maps.escape_text(12) == "12"


def test_escape_properties_keeps_numbers() -> None:
    import numpy as np
    import pandas as pd

    props = maps.escape_properties(
        {
            "name": HOSTILE,
            "n": np.int64(3),
            "risk": np.float64(2.5),
            "nan": float("nan"),
            "na": pd.NA,
            "flag": True,
            "when": pd.Timestamp("2024-05-01 22:00"),
            "<k>": "v",
        }
    )
    assert props == {
        "name": "&lt;img src=x onerror=alert(1)&gt;",
        "n": 3,
        "risk": 2.5,
        "nan": None,
        "na": None,
        "flag": True,
        "when": "2024-05-01 22:00:00",
        "&lt;k&gt;": "v",
    }


def test_hostile_street_name_is_escaped_in_rendered_map() -> None:
    m = maps.base_map(bounds=BOUNDS)
    maps.add_street_network(m, _streets())
    maps.add_segments_by_value(
        m,
        _streets(),
        column="risk",
        tooltip_fields={"name": "Street <b>name</b>", "risk": "Risk"},
    )
    maps.add_legend(m, maps.default_colormap([1.5, 7.0]), caption="Risk <script>")
    seen = _decoded(m.get_root().render())
    assert HOSTILE not in seen
    assert "<img" not in seen
    assert "&lt;img src=x onerror=alert(1)&gt;" in seen
    assert "Park &amp; Ride &quot;Lane&quot; &#x27;x&#x27;" in seen
    assert "Street &lt;b&gt;name&lt;/b&gt;" in seen
    assert "<b>name</b>" not in seen
    assert "Risk &lt;script&gt;" in seen
    assert '<script>"' not in seen


def test_street_network_layer_is_one_plain_geojson() -> None:
    m = maps.base_map(bounds=BOUNDS)
    layer = maps.add_street_network(m, _streets("EPSG:27700"), name="Streets <x>")
    assert isinstance(layer, folium.GeoJson)
    assert layer.layer_name == "Streets &lt;x&gt;"
    geojsons = [c for c in m._children.values() if isinstance(c, folium.GeoJson)]
    assert geojsons == [layer]
    assert not layer._children  # no popup, no tooltip
    html_text = m.get_root().render()
    assert '"interactive": false' in html_text
    (data,) = _geojson_data(html_text)
    assert len(data["features"]) == 3
    for feat in data["features"]:
        assert feat["properties"] == {}
        for lon, lat in feat["geometry"]["coordinates"]:
            assert -0.38 < lon < -0.35 and 53.73 < lat < 53.75  # reprojected to WGS84
            assert round(lon, 6) == lon and round(lat, 6) == lat
    assert "-0.366512" in html_text and "-0.36651234567" not in html_text


def test_segments_by_value_colours_and_order() -> None:
    m = maps.base_map(bounds=BOUNDS)
    layer = maps.add_segments_by_value(m, _streets(), column="risk", tooltip_fields=["name"])
    assert any(isinstance(c, folium.GeoJsonTooltip) for c in layer._children.values())
    feats = layer.data["features"]
    # Missing first, then ascending: the highest value is drawn on top.
    assert [f["properties"]["name"] for f in feats][-1] == "&lt;img src=x onerror=alert(1)&gt;"
    strokes = [f["properties"]["_stroke"] for f in feats]
    assert strokes[0] == "#bdbdbd"
    assert all(re.fullmatch(r"#[0-9a-f]{6}", s) for s in strokes)
    assert strokes[1] != strokes[2]


def test_segments_by_value_missing_column() -> None:
    m = maps.base_map(bounds=BOUNDS)
    with pytest.raises(ValueError, match="'nope'"):
        maps.add_segments_by_value(m, _streets(), column="nope", tooltip_fields=["name"])


def test_base_map_tiles_are_opt_in() -> None:
    m = maps.base_map(bounds=BOUNDS)
    assert not [c for c in m._children.values() if isinstance(c, folium.TileLayer)]
    assert maps.tile_options({"tiles": "none", "attribution": ""}) == {
        "tiles": None,
        "attribution": "",
    }
    opts = maps.tile_options(
        {"tiles": "https://tiles.example.org/{z}/{x}/{y}.png", "attribution": "&copy; Example"}
    )
    m = maps.base_map(bounds=BOUNDS, **opts)
    tiles = [c for c in m._children.values() if isinstance(c, folium.TileLayer)]
    assert len(tiles) == 1
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in m.get_root().render()


@pytest.mark.parametrize(
    ("tiles", "attribution", "match"),
    [
        ("OpenStreetMap", "x", "URL template"),
        ("https://tiles.example.org/tile.png", "x", "URL template"),
        ("https://tiles.example.org/{z}/{x}/{y}.png", "", "attribution"),
    ],
)
def test_base_map_rejects_bad_tiles(tiles: str, attribution: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        maps.base_map(bounds=BOUNDS, tiles=tiles, attribution=attribution)


@pytest.mark.parametrize(
    "bounds", [(1, 2, 3), (0.0, 0.0, -1.0, 1.0), (0, 0, 1, float("nan")), (0, 95, 1, 96)]
)
def test_base_map_rejects_bad_bounds(bounds: tuple) -> None:
    with pytest.raises(ValueError, match="bounds"):
        maps.base_map(bounds=bounds)


def test_base_map_fits_bounds_and_handles_a_point() -> None:
    m = maps.base_map(bounds=(-0.36, 53.74, -0.36, 53.74))
    html_text = m.get_root().render()
    assert "fitBounds" in html_text
    assert "L.tileLayer" not in html_text


# --- issue 15: script and markup from data -------------------------------------------------

PAYLOADS = (
    "${top.alert(1)}",
    "`${top.alert(2)}`",
    "</script><script>alert(3)</script>",
    "![x](http://host.example/x.png)",
    "[x](javascript:alert(4))",
    "<img src=x onerror=alert(5)>",
    "javascript:alert(6)",
    "a\u2028b\u2029c",
    "a\rb",
)
# What must never appear in the rendered page: the payloads' active parts, unescaped.
ACTIVE = ("${top", "`${", "<script>alert", "<img src=x", "onerror=alert(5)>", "\u2028", "\u2029")


def _hostile_routes() -> list:
    from datetime import datetime
    from types import SimpleNamespace

    t0 = datetime(2026, 3, 2, 18, 0)
    routes = []
    for k, payload in enumerate(PAYLOADS):
        team = SimpleNamespace(name=f"Team {payload}", base=(-0.368, 53.740))
        stop = SimpleNamespace(
            order=1, label=f"Stop {payload}", arrive=t0, leave=t0, lat=53.741, lon=-0.366 + k * 1e-4
        )
        routes.append(
            SimpleNamespace(team=team, path=[(-0.368, 53.740), (-0.366, 53.741)], stops=[stop])
        )
    return routes


def _hostile_map() -> folium.Map:
    streets = _streets()
    streets["name"] = [PAYLOADS[0], PAYLOADS[1], PAYLOADS[5]]
    streets["label"] = [PAYLOADS[2], PAYLOADS[3], PAYLOADS[7]]
    m = maps.base_map(
        bounds=BOUNDS,
        tiles="https://127.0.0.1/{z}/{x}/{y}.png",
        attribution="&copy; " + " ".join(PAYLOADS),
    )
    maps.add_street_network(m, streets, name=PAYLOADS[0])
    maps.add_segments_by_value(
        m, streets, column="risk", tooltip_fields={"name": PAYLOADS[1]}, name=PAYLOADS[2]
    )
    maps.add_legend(m, maps.default_colormap([1.0, 2.0]), caption=" ".join(PAYLOADS))
    maps.add_outlines(m, streets, tooltip_fields={"name": PAYLOADS[4]}, name=PAYLOADS[6])
    maps.add_routes(m, _hostile_routes())
    for payload in PAYLOADS:
        folium.PolyLine(
            [(53.74, -0.37), (53.741, -0.369)], tooltip=maps.text_tooltip(f"track {payload}")
        ).add_to(m)
    return m


def test_map_builders_leave_no_payload_active() -> None:
    rendered = _hostile_map().get_root().render()
    for bad in ACTIVE:
        assert bad not in rendered, bad
    # Template literals in the page: no data-made substitution or closing backtick inside.
    for literal in re.findall(r"bindTooltip\(\s*`(.*?)`,", rendered, flags=re.DOTALL):
        assert "${" not in literal and "\\`" not in literal


def test_text_tooltip_shows_the_text_literally() -> None:
    for payload in PAYLOADS:
        tip = maps.text_tooltip(payload)
        # The template literal's value (JSON escapes only) is the HTML-escaped text.
        assert json.loads(f'"{tip.text}"') == maps.escape_text(payload)


def test_attribution_is_text_not_markup() -> None:
    m = maps.base_map(
        bounds=BOUNDS,
        tiles="https://tiles.example.org/{z}/{x}/{y}.png",
        attribution="&copy; Example <img src=x onerror=alert(1)> ${top.alert(1)}",
    )
    (layer,) = [c for c in m._children.values() if isinstance(c, folium.TileLayer)]
    attr = layer.options["attribution"]
    assert attr == "© Example &lt;img src=x onerror=alert(1)&gt; &#36;{top.alert(1)}"


@pytest.mark.parametrize(
    "tiles",
    [
        "//host.example/{z}/{x}/{y}.png",
        "http://tiles.example.org/{z}/{x}/{y}.png",
        "javascript:alert(1)//{z}/{x}/{y}",
        "/app/static/{z}/{x}/{y}.png",
        'https://tiles.example.org/{z}/{x}/{y}.png" onerror="alert(1)',
        "https://tiles.example.org/{z}/\n{x}/{y}.png",
        " https:// tiles.example.org/{z}/{x}/{y}.png",
    ],
)
def test_tiles_must_be_https_templates(tiles: str) -> None:
    from geo.settings import parse_settings

    with pytest.raises(ValueError, match=r"https://"):
        maps.base_map(bounds=BOUNDS, tiles=tiles, attribution="x")
    with pytest.raises(ValueError, match=r"\[maps\] tiles"):
        maps.tile_options({"tiles": tiles})
    with pytest.raises(ValueError, match=r"\[maps\] tiles"):
        parse_settings({"maps": {"tiles": tiles, "attribution": "x"}})
