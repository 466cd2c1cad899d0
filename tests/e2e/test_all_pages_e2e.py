"""End-to-end smoke test: every page of the demo opens in Chromium without an error box."""

from __future__ import annotations

import pytest

from tests.conftest import PAGE_NAMES, PROJECT_ROOT
from ui.browser import RequestRecorder, save_screenshot, wait_for_app, wait_for_map

pytestmark = pytest.mark.e2e
APP = PROJECT_ROOT / "app.py"
PAGES = [page for page in PAGE_NAMES if page != "hotspots"]


def test_every_page_opens_on_the_demo(
    page, streamlit_app, request_recorder: RequestRecorder
) -> None:
    url = streamlit_app(APP, env={"BEATPLAN_AUTO_DEMO": "1"})
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(url)
    wait_for_app(page, timeout_ms=240_000)
    for name in PAGES:
        page.goto(f"{url}/{name}")
        wait_for_app(page, timeout_ms=120_000)
        if name == "area":
            wait_for_map(page)  # the street network drawn as the base layer
        page.wait_for_timeout(300)
        assert page.locator('[data-testid="stException"]').count() == 0, name
        assert page.locator('[data-testid="stMainBlockContainer"] h1').count() >= 1, name
        save_screenshot(page, f"page_{name}")
    request_recorder.assert_local()
