"""End to end for a real area (issue 12): from the demo's first start to Hull's briefing PDF."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, shared_file
from ui.browser import RequestRecorder, save_screenshot, wait_for_app, wait_for_map

pytestmark = pytest.mark.e2e
APP = PROJECT_ROOT / "app.py"
HULL = "Kingston upon Hull"
BOX = "-0.43,53.71,-0.24,53.82"
# Two teams based in Hull city centre (Queens Gardens), as `beatplan plan --teams` reads them.
TEAMS = """
[[team]]
name = "City centre foot patrol"
members = ["PCSO", "PCSO"]
base_name = "City centre"
shift = "18:00-22:00"
mode = "walk"

[[team]]
name = "Evening outreach patrol"
members = ["PCSO", "Outreach worker"]
skills = ["police", "outreach"]
base_name = "City centre"
shift = "19:00-23:00"
mode = "walk"
"""


def _go(page, name: str) -> None:
    page.get_by_role("link", name=name, exact=True).click()
    wait_for_app(page, timeout_ms=180_000)


def _type(page, label: str, text: str) -> None:
    """Type into a Streamlit text input or area and commit it (blur), then let the run end."""
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Tab")
    wait_for_app(page)


def _upload(page, label: str, path: Path) -> None:
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text=label)
    uploader.locator('input[type="file"]').set_input_files(str(path))
    # The upload has landed: its chip shows the name's start ("2022-01...street.csv").
    uploader.get_by_text(path.name[:7]).first.wait_for(timeout=60_000)
    wait_for_app(page)


def _set_up_hull(page) -> None:
    _go(page, "Data")
    page.get_by_text("Set up your area").first.wait_for(timeout=30_000)
    _type(page, "Area name", HULL)
    _type(page, "Box: min_lon, min_lat, max_lon, max_lat", BOX)
    _type(page, "Bases (optional)", "City centre: -0.3367, 53.7446")
    save_screenshot(page, "real_area_02_setup_form")
    page.get_by_role("button", name="Set up area").click()
    wait_for_app(page, timeout_ms=120_000)
    page.get_by_text(f"{HULL} is set up").first.wait_for(timeout=60_000)
    save_screenshot(page, "real_area_03_set_up")


def _import_police_files(page) -> None:
    for month in ("2022-01", "2024-01"):
        path = shared_file("police-uk", f"{month}-humberside-street.csv")
        _upload(page, "Partner file", path)
        page.get_by_role("button", name="Import", exact=True).click()
        wait_for_app(page, timeout_ms=240_000)
        page.get_by_text(f"Imported {month}-humberside-street.csv").first.wait_for(timeout=60_000)
    page.get_by_text(f"rows rejected as outside {HULL}").first.wait_for(timeout=30_000)
    page.get_by_text("police.uk types that").first.wait_for(timeout=30_000)
    save_screenshot(page, "real_area_04_imported")


def _save_teams(page, tmp_path: Path) -> None:
    teams = tmp_path / "hull-teams.toml"
    teams.write_text(TEAMS, encoding="utf-8")
    _go(page, "Settings")
    _upload(page, "Or load a teams file", teams)
    page.get_by_role("button", name="Use this teams file").click()
    wait_for_app(page, timeout_ms=60_000)
    page.get_by_text(f"Teams saved for {HULL}").first.wait_for(timeout=30_000)


def test_real_area_from_first_run_to_a_briefing_pdf(
    page, streamlit_app, request_recorder: RequestRecorder, tmp_path: Path
) -> None:
    try:
        _journey(page, streamlit_app, request_recorder, tmp_path)
    except Exception:
        save_screenshot(page, "real_area_failure")
        raise


def _journey(page, streamlit_app, request_recorder: RequestRecorder, tmp_path: Path) -> None:
    url = streamlit_app(APP, env={"BEATPLAN_AUTO_DEMO": "1"})
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(url)
    wait_for_app(page, timeout_ms=240_000)
    page.get_by_text("these reports are synthetic").first.wait_for(timeout=120_000)
    save_screenshot(page, "real_area_01_demo")

    _set_up_hull(page)
    _import_police_files(page)

    _go(page, "Hotspots")
    page.get_by_text(f"Area: {HULL}").first.wait_for(timeout=60_000)
    wait_for_map(page)
    page.get_by_text(re.compile(r"\d+ hotspots")).first.wait_for(timeout=60_000)
    assert page.get_by_text("synthetic").count() == 0
    assert page.get_by_text(re.compile(r"\bdemo\b", re.IGNORECASE)).count() == 0
    save_screenshot(page, "real_area_05_hotspots")

    _save_teams(page, tmp_path)
    _go(page, "Patrols")
    page.get_by_text("straight-line distances").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Plan patrols").click()
    wait_for_app(page, timeout_ms=180_000)
    page.get_by_text("Risk covered").first.wait_for(timeout=120_000)
    wait_for_map(page)
    save_screenshot(page, "real_area_06_patrols")
    for team in ("City centre foot patrol", "Evening outreach patrol"):
        assert page.get_by_text(re.compile(re.escape(team) + r" · ")).count() >= 1, team

    _go(page, "Briefings")
    page.get_by_text("Saved patrol plan").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Download PDF").wait_for(timeout=180_000)
    save_screenshot(page, "real_area_07_briefings")
    with page.expect_download(timeout=180_000) as info:
        page.get_by_role("button", name="Download PDF").click()
    pdf = tmp_path / "briefing.pdf"
    info.value.save_as(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "City centre foot patrol" in text or "Evening outreach patrol" in text
    bad = [ln for ln in text.splitlines() if re.search(r"synthetic|demo", ln, re.IGNORECASE)]
    assert not bad, bad
    request_recorder.assert_local()
