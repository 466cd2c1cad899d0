"""End-to-end: with an [auth] section, a signed-out visitor sees a sign-in prompt and no data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo.ingest import import_file
from geo.settings import load_settings
from geo.store import Store
from tests.conftest import PROJECT_ROOT
from ui.browser import RequestRecorder, StreamlitServer, save_screenshot, wait_for_app

pytestmark = pytest.mark.e2e
APP = PROJECT_ROOT / "app.py"
SEED_NAME = "CONFIDENTIAL-outreach-seed.csv"
SEED = b"date,time,category,lat,lon,location\n" + b"".join(
    f"2024-01-{d:02d},21:30,needles,53.744,-0.356,Secret Lane\n".encode() for d in range(1, 16)
)


def _fake_auth_dir(tmp_path: Path, port_hint: int) -> Path:
    """A working directory whose .streamlit holds the project's config and a fake [auth]."""
    work = tmp_path / "signed-out"
    (work / ".streamlit").mkdir(parents=True)
    shutil.copyfile(
        PROJECT_ROOT / ".streamlit" / "config.toml", work / ".streamlit" / "config.toml"
    )
    (work / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port_hint}/oauth2callback"\n'
        'cookie_secret = "e2e-cookie-secret-not-used-anywhere-else"\n'
        'client_id = "beatplan-e2e"\n'
        'client_secret = "not-a-secret"\n'
        # Nothing listens here: the test never gets as far as the identity provider.
        'server_metadata_url = "http://127.0.0.1:9/v2.0/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    return work


def test_signed_out_page_reveals_no_data(
    page, e2e_env: dict[str, str], request_recorder: RequestRecorder, tmp_path: Path
) -> None:
    store = Store(e2e_env["BEATPLAN_DB"])
    import_file(SEED, file_name=SEED_NAME, store=store, settings=load_settings())
    assert store.count_reports() == 15
    store.dispose()

    server = StreamlitServer(APP, env=e2e_env, cwd=_fake_auth_dir(tmp_path, 8501))
    server.log_path = tmp_path / "signed-out.log"
    with server:
        page.set_viewport_size({"width": 1200, "height": 800})
        for path in ("", "/data", "/hotspots", "/audit"):
            page.goto(f"{server.url}{path}")
            wait_for_app(page)
            sign_in = page.locator('[data-testid="stButton"] button')
            sign_in.first.wait_for(state="visible", timeout=30_000)
            body = page.locator('[data-testid="stApp"]').inner_text()
            assert "Sign in with your organisation account" in body, path
            for secret in (SEED_NAME, "Secret Lane", "needles", "Needles", "15"):
                assert secret not in body, (path, secret)
            assert page.locator('[data-testid="stDataFrame"]').count() == 0
            assert page.locator('[data-testid="stMetric"]').count() == 0
            assert page.locator('[data-testid="stDownloadButton"]').count() == 0
            assert page.locator('iframe[title="streamlit_folium.st_folium"]').count() == 0
            assert sign_in.all_inner_texts() == ["Sign in"]  # the only control on the page
        page.goto(server.url)
        wait_for_app(page)
        # Let the button finish its entrance transition before the screenshot.
        page.wait_for_function(
            """() => { const b = document.querySelector('[data-testid="stButton"] button');
                       return b && b.getBoundingClientRect().width > 50
                           && getComputedStyle(b).opacity === '1'; }""",
            timeout=30_000,
        )
        page.wait_for_timeout(500)
        save_screenshot(page, "login_signed_out")
    request_recorder.assert_local()


def test_a_broken_secrets_file_stops_the_app(
    page, e2e_env: dict[str, str], request_recorder: RequestRecorder, tmp_path: Path
) -> None:
    """One typo in secrets.toml: Streamlit treats the file as absent, Beatplan stops instead."""
    store = Store(e2e_env["BEATPLAN_DB"])
    import_file(SEED, file_name=SEED_NAME, store=store, settings=load_settings())
    store.dispose()
    work = _fake_auth_dir(tmp_path, 8501)
    secrets = work / ".streamlit" / "secrets.toml"
    # The closing quote of client_id is missing: the whole file no longer parses.
    secrets.write_text(
        secrets.read_text(encoding="utf-8").replace('"beatplan-e2e"', '"beatplan-e2e'),
        encoding="utf-8",
    )
    server = StreamlitServer(APP, env=e2e_env, cwd=work)
    server.log_path = tmp_path / "broken-secrets.log"
    with server:
        page.set_viewport_size({"width": 1200, "height": 800})
        for path in ("", "/data", "/access"):
            page.goto(f"{server.url}{path}")
            wait_for_app(page)
            alert = page.locator('[data-testid="stAlert"]')
            alert.first.wait_for(state="visible", timeout=30_000)
            body = page.locator('[data-testid="stApp"]').inner_text()
            assert "Beatplan has stopped" in body and "secrets" in body, path
            for secret in (SEED_NAME, "Secret Lane", "Single-user local mode", "Sign out"):
                assert secret not in body, (path, secret)
            assert page.locator('[data-testid="stDataFrame"]').count() == 0
            assert page.locator('[data-testid="stButton"]').count() == 0
            assert page.locator('[data-testid="stSidebarNav"]').count() == 0
        save_screenshot(page, "login_broken_secrets")
    request_recorder.assert_local()
