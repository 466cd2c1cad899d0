"""Hotspots page in Chromium: click a row to zoom, switch layers, download the KML and the map PDF."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from ui.browser import RequestRecorder, save_screenshot, wait_for_app, wait_for_map

pytestmark = pytest.mark.e2e
APP = PROJECT_ROOT / "app.py"


def _download(page, label: str, tmp_path: Path) -> bytes:
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name=label).click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path.read_bytes()


def test_hotspots_row_zoom_layers_and_downloads(
    page, streamlit_app, request_recorder: RequestRecorder, tmp_path: Path
) -> None:
    url = streamlit_app(APP, env={"BEATPLAN_AUTO_DEMO": "1"})
    page.set_viewport_size({"width": 1500, "height": 1100})
    page.goto(url)
    wait_for_app(page, timeout_ms=240_000)
    page.locator('[data-testid="stSidebarNav"] a', has_text="Hotspots").click()
    wait_for_app(page, timeout_ms=180_000)
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=180_000)
    frame = wait_for_map(page)
    zoom_before = frame.evaluate("window.map.getZoom()")
    span_before = frame.evaluate(
        "window.map.getBounds().getEast() - window.map.getBounds().getWest()"
    )
    save_screenshot(page, "hotspots_overview")

    # Click the first hotspot row's selector (glide's scroller sits over the canvas: force).
    canvas = page.locator('[data-testid="stDataFrame"]').first.locator("canvas").first
    page.wait_for_timeout(2000)  # the grid takes clicks once it has drawn
    canvas.click(position={"x": 15, "y": 51}, force=True)
    zoomed = False
    for _ in range(60):  # up to 30 s for the rerun and the map to move
        page.wait_for_timeout(500)
        wait_for_app(page, timeout_ms=120_000)
        frame = wait_for_map(page)
        if frame.evaluate("window.map.getZoom()") > zoom_before:
            zoomed = True
            break
    assert zoomed, "the map did not zoom to the chosen hotspot"
    span_after = frame.evaluate(
        "window.map.getBounds().getEast() - window.map.getBounds().getWest()"
    )
    assert span_after < span_before
    save_screenshot(page, "hotspots_zoomed")

    # Layer switcher: turn the heat map on.
    control = frame.locator(".leaflet-control-layers")
    assert control.get_by_text("Hotspot outlines and ids").count() == 1
    assert control.locator("input[type=checkbox] + span", has_text="Streets").count() == 1
    streets = "l => l.feature && l.options && l.options.color === '#8f8f8f'"
    assert frame.evaluate(f"Object.values(window.map._layers).filter({streets}).length") > 1000
    assert frame.locator("canvas.leaflet-heatmap-layer").count() == 0
    control.get_by_text("Heat map (report density)").click()
    frame.wait_for_selector("canvas.leaflet-heatmap-layer", timeout=10_000)
    control.get_by_text("Reports by category").click()
    frame.wait_for_function(
        "() => Object.values(window.map._layers).some("
        "l => l instanceof L.MarkerClusterGroup && l.getLayers().length > 0)",
        timeout=10_000,
    )
    assert frame.locator(".hotspot-id").count() >= 1
    tip = frame.evaluate(
        "() => { const l = Object.values(window.map._layers).find(x => x.feature && "
        "Array.isArray(x.feature.properties.t)); l.openTooltip(); "
        "return document.querySelector('.leaflet-tooltip').innerText; }"
    )
    assert "Risk (weighted reports)" in tip and "Street" in tip  # the risk layer's tooltip
    save_screenshot(page, "hotspots_layers")

    kml = _download(page, "Download KML", tmp_path)
    assert kml.startswith(b"<?xml") and b"<Placemark>" in kml
    pdf = _download(page, "Download Map (PDF, A4)", tmp_path)
    assert pdf.startswith(b"%PDF")
    request_recorder.assert_local()
