"""The offline map proof: Leaflet starts inside the st_folium iframe with no request off 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from ui import maps
from ui.browser import RequestRecorder, save_screenshot, wait_for_app, wait_for_map

APP = Path(__file__).parent / "apps" / "map_app.py"
HOSTILE = "<img src=x onerror=alert(1)>"

pytestmark = pytest.mark.e2e


def test_map_initialises_offline(page, streamlit_app, request_recorder: RequestRecorder) -> None:
    missing = maps.missing_vendor_files()
    assert not missing, f"static/vendor is incomplete ({missing}); run scripts/fetch_vendor.py"
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    url = streamlit_app(APP)
    page.set_viewport_size({"width": 1100, "height": 800})
    page.goto(url)
    wait_for_app(page)
    frame = wait_for_map(page)

    # Leaflet came from this server, not a CDN.
    scripts = frame.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert any(s.endswith("/app/static/vendor/leaflet/leaflet.js") for s in scripts), scripts
    assert frame.evaluate("() => L.version") == "1.9.4"

    # 8 grey street lines + 3 coloured segments, drawn as SVG paths.
    paths = frame.locator(".leaflet-overlay-pane svg path")
    paths.nth(10).wait_for(
        state="attached"
    )  # lines have a zero-height box: "attached", not "visible"
    assert paths.count() == 11
    strokes = frame.eval_on_selector_all(
        ".leaflet-overlay-pane svg path", "els => els.map(e => e.getAttribute('stroke'))"
    )
    assert strokes.count("#8f8f8f") == 8
    assert frame.locator(".beatplan-legend").is_visible()

    # The hostile street name shows as text in the tooltip, never as an element.
    box = frame.locator(".leaflet-overlay-pane svg path").nth(8).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = frame.locator(".leaflet-tooltip")
    tooltip.wait_for(state="visible", timeout=10_000)
    assert HOSTILE in tooltip.inner_text()
    assert frame.locator(".leaflet-tooltip img").count() == 0
    assert not dialogs

    shot = save_screenshot(page, "offline_map")
    assert shot.stat().st_size > 10_000

    request_recorder.assert_local()
    assert any("/app/static/vendor/" in u for u in request_recorder.urls)
