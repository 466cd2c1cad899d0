"""Hotspot exports (GeoJSON, KML, CSV, A4 map PDF) with hostile text, and charts without findfont."""

from __future__ import annotations

import json
import logging
import subprocess
import xml.etree.ElementTree as ET
from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import MultiLineString, box

from planning.map_export import (
    MARKING,
    hotspot_rows,
    hotspots_csv,
    hotspots_geojson,
    hotspots_kml,
    hotspots_map_pdf,
)

EVIL = "=HYPERLINK(\"x\")<script>alert('`${1}`')</script>&\x07"


def _hot() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "hotspot_id": ["H01", "H02"],
            "label": [EVIL, "Park Street"],
            "risk": [10.55, 3.0],
            "n_reports": [12, 4],
            "counts": [{"needles": 8, "asb": 4}, {"asb": 4}],
            "skill": ["sharps", "police"],
            "active_hours": [[20, 21, 22], []],
            "segment_ids": [[1], [2]],
        },
        geometry=[
            MultiLineString([[(24.94, 60.16), (24.945, 60.165)]]),
            box(24.95, 60.16, 24.955, 60.163),
        ],
        crs=4326,
    )


def _rows():
    trends = pd.DataFrame(
        {"hotspot_id": ["H01"], "trend": ["growing"], "this_period": [12], "last_period": [3]}
    )
    return hotspot_rows(_hot(), label=lambda c: {"needles": "Needles"}.get(c, c), trends=trends)


def test_hotspot_rows_plain_words():
    rows = _rows()
    assert list(rows["rank"]) == [1, 2]
    assert rows["main_categories"].iloc[0] == "Needles 8, asb 4"
    assert list(rows["who_should_go"]) == ["sharps team", "PCSO / police"]
    assert rows["active_hours"].iloc[1] == "no timed reports"
    assert list(rows["trend"]) == ["growing", "steady"]
    assert "\x07" not in rows["where"].iloc[0]


def test_geojson_keeps_text_inert():
    text = hotspots_geojson(_rows(), _hot())
    assert "<" not in text and ">" not in text and "&" not in text
    data = json.loads(text)
    assert data["features"][0]["properties"]["where"] == EVIL.replace("\x07", "")
    assert data["features"][1]["geometry"]["type"] == "Polygon"


def test_kml_is_valid_xml_with_escaped_text():
    text = hotspots_kml(_rows(), _hot(), title="Hotspots <b>")
    root = ET.fromstring(text.encode())
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    names = [n.text for n in root.findall(".//k:Placemark/k:name", ns)]
    assert names[0] == "H01 " + EVIL.replace("\x07", "")
    assert "<script>" not in text and "<b>" not in text
    assert root.find(".//k:Polygon", ns) is not None
    assert root.find(".//k:LineString", ns) is not None


def test_csv_neutralises_formulas():
    text = hotspots_csv(_rows(), _hot()).decode("utf-8-sig")
    frame = pd.read_csv(pd.io.common.StringIO(text))
    assert frame["where"].iloc[0].startswith("'=")
    assert {"lon", "lat", "trend"} <= set(frame.columns)


def test_map_pdf_has_marking_title_and_legend(tmp_path, caplog):
    risk = _hot().assign(smoothed_risk=[1.0, 5.0])
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        pdf = hotspots_map_pdf(
            _hot(),
            streets=_hot(),
            risk=risk,
            area="Helsinki (demo)",
            start=date(2024, 2, 1),
            end=date(2024, 4, 30),
        )
    assert pdf.startswith(b"%PDF")
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
    path = tmp_path / "map.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert text.count(MARKING) == 2
    assert "Hotspots: Helsinki (demo)" in text and "1 Feb 2024 to 30 Apr 2024" in text
    assert "Hotspot outline" in text and "lower" in text and "higher" in text
    assert "N" in text and " m" in text  # north arrow and scale bar label
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert "(A4)" in info and "841.68 x 595.44" in info  # A4 landscape in points


def test_map_pdf_needs_hotspots_or_bounds():
    with pytest.raises(ValueError, match="no hotspots"):
        hotspots_map_pdf(
            _hot().iloc[:0], streets=None, risk=None, area="x", start=date.today(), end=date.today()
        )


def test_charts_use_an_installed_font(caplog):
    import inspect

    import matplotlib.font_manager as fm

    from planning import briefing_map, impact_render

    for mod in (briefing_map, impact_render):
        assert "Liberation" not in inspect.getsource(mod)  # matplotlib rc: DejaVu Sans only
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        path = fm.findfont(fm.FontProperties(family=["DejaVu Sans"]), fallback_to_default=False)
    assert "DejaVuSans" in path
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
