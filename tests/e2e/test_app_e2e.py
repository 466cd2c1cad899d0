"""End-to-end: the real app in headless Chromium: import a police.uk file, see hotspots, no XSS."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PROJECT_ROOT, shared_file
from ui.browser import (
    RequestRecorder,
    each_map_layer_js,
    save_screenshot,
    wait_for_app,
    wait_for_map,
)

pytestmark = pytest.mark.e2e
APP = PROJECT_ROOT / "app.py"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "<script>alert(2)</script>"
OPEN_TOOLTIPS_JS = each_map_layer_js(
    "try { if (where && layer.openTooltip && layer.getTooltip && layer.getTooltip()) {"
    " layer.openTooltip(where); n += 1; } } catch (e) {}"
)


def _upload(page, path_or_payload, *, name: str | None = None) -> None:
    # the import form's uploader (a supervisor's Data page also offers "Set up your area")
    chooser = (
        page.locator('[data-testid="stFileUploader"]')
        .filter(has_text="Partner file")
        .locator('[data-testid="stFileUploaderDropzoneInput"]')
    )
    if isinstance(path_or_payload, bytes):
        chooser.set_input_files({"name": name, "mimeType": "text/csv", "buffer": path_or_payload})
    else:
        chooser.set_input_files(str(path_or_payload))
    page.locator('[data-testid="stFileChip"]').first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Import").click()
    wait_for_app(page, timeout_ms=120_000)


def test_import_police_uk_then_hotspot_map(
    page, streamlit_app, request_recorder: RequestRecorder, tmp_path
) -> None:
    police = shared_file("police-uk", "2022-01-humberside-street.csv")
    url = streamlit_app(APP, env={"BEATPLAN_DATA": str(tmp_path)})
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{url}/data")
    wait_for_app(page)
    _upload(page, police)
    metrics = page.locator('[data-testid="stMetric"]')
    metrics.first.wait_for(timeout=60_000)
    text = " ".join(metrics.all_inner_texts())
    assert re.search(r"Rows read\s+8,001", text), text
    assert re.search(r"Accepted\s+8,001", text), text
    save_screenshot(page, "data_import_police_uk")

    page.goto(url)  # Hotspots is the home page
    wait_for_app(page, timeout_ms=120_000)
    frame = wait_for_map(page)
    paths = frame.locator(".leaflet-overlay-pane svg path")
    paths.first.wait_for(state="attached", timeout=30_000)
    assert paths.count() >= 5  # hotspot outlines drawn inside the map's iframe
    assert page.get_by_text("no street network loaded").first.is_visible()
    save_screenshot(page, "hotspots_point_mode")
    request_recorder.assert_local()


def test_hostile_text_is_shown_literally_and_never_runs(page, streamlit_app, tmp_path) -> None:
    rows = [f"2024-01-{d:02d},21:00,asb,53.7440,-0.3560,{XSS_SCRIPT} Street" for d in range(1, 29)]
    rows += [f",21:00,{XSS_IMG},53.7440,-0.3560,{XSS_SCRIPT} Street"]  # rejected: no date
    payload = ("date,time,category,lat,lon,location\n" + "\n".join(rows) + "\n").encode()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    url = streamlit_app(APP, env={"BEATPLAN_DATA": str(tmp_path)})
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{url}/data")
    wait_for_app(page)
    _upload(page, payload, name="hostile.csv")
    page.get_by_text("Rejected rows").first.wait_for(timeout=30_000)
    save_screenshot(page, "data_hostile_upload")

    page.goto(url)  # Hotspots is the home page
    wait_for_app(page, timeout_ms=120_000)
    frame = wait_for_map(page)
    outline = frame.locator(".leaflet-overlay-pane svg path").first
    outline.wait_for(state="attached", timeout=30_000)
    # open every layer's tooltip (outlines are one layer drawn by a prepared script)
    frame.wait_for_function("() => window.map !== undefined", timeout=30_000)
    opened = frame.evaluate(OPEN_TOOLTIPS_JS)
    assert opened > 0
    texts = frame.locator(".leaflet-tooltip").all_inner_texts()
    # the hostile "street" never reads like a street, so it is not even stored as a hint: the
    # label falls back to a position; whatever text is shown, no markup from it is live
    assert texts and not any("<img" in t for t in texts), texts
    assert frame.locator(".leaflet-tooltip script, .leaflet-tooltip img").count() == 0
    save_screenshot(page, "hotspots_hostile_label")
    page.wait_for_timeout(500)
    assert dialogs == []
