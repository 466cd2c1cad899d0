"""Fixtures for end-to-end tests: Debian Chromium, a Streamlit server per app, local-only requests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ui.browser import PROJECT_ROOT, RequestRecorder, StreamlitServer, launch_args, stage_app

CHROMIUM = Path("/usr/bin/chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the browser tests when Debian's Chromium is missing (run `make system-deps`)."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        msg = f"{CHROMIUM} is missing in CI: .ci/run must install Debian's chromium"
        raise pytest.UsageError(msg)
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not found; run `make system-deps`")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium headless with no background networking (never `playwright install`)."""
    return launch_args(browser_type_launch_args)


@pytest.fixture
def e2e_env(tmp_path: Path) -> dict[str, str]:
    """Environment for the app under test: a scratch SQLite database, not the one in data/."""
    return {
        "BEATPLAN_DB": str(tmp_path / "beatplan-e2e.sqlite"),
        "BEATPLAN_DATA": str(tmp_path),
        "BEATPLAN_AUTO_DEMO": "0",
    }


@pytest.fixture
def streamlit_app(tmp_path: Path, e2e_env: dict[str, str]) -> Iterator[Callable[..., str]]:
    """Start a Streamlit script on 127.0.0.1 and return its URL; stopped after the test.

    Call it with a path or the script's source text; scripts outside the project root are
    staged in ``tmp_path`` beside a link to ``static/`` so ``/app/static/vendor`` works.
    """
    servers: list[StreamlitServer] = []

    def start(script: str | os.PathLike[str], *, env: dict[str, str] | None = None) -> str:
        path = None if "\n" in str(script) else Path(script)
        if path is None or path.resolve().parent != PROJECT_ROOT:
            path = stage_app(script, tmp_path / f"app{len(servers)}")
        server = StreamlitServer(path, env={**e2e_env, **(env or {})})
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def request_recorder(context: Any) -> RequestRecorder:
    """Record (and block) every request the test's browser context makes off 127.0.0.1."""
    return RequestRecorder(block=True).attach(context)


@pytest.fixture(autouse=True)
def _only_local_requests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any browser test whose pages asked for anything outside 127.0.0.1."""
    if "page" not in request.fixturenames:
        yield
        return
    recorder: RequestRecorder = request.getfixturevalue("request_recorder")
    yield
    recorder.assert_local()
