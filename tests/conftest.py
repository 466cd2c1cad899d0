"""Shared fixtures: the real public data in ../shared/data, a throwaway store, settings."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from geo.settings import load_settings
from geo.store import Store
from ui.auth import PAGE_ACCESS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
HULL_BBOX = (-0.45, 53.71, -0.23, 53.81)
#: The app's pages by their url path.
PAGE_NAMES = tuple(PAGE_ACCESS)


def shared_file(*parts: str) -> Path:
    """Return a file of ../shared/data, skipping (never in CI) when the folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing in CI: ../shared/data must sit beside the project")
        pytest.skip(f"{path} not present (../shared/data is absent on this machine)")
    return path


@pytest.fixture(autouse=True)
def _isolated_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch data/beatplan.db from a test."""
    monkeypatch.setenv("BEATPLAN_DB", str(tmp_path / "test.db"))
    monkeypatch.setenv("BEATPLAN_DATA", str(tmp_path))
    monkeypatch.setenv("BEATPLAN_AUTO_DEMO", "0")


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command line's store (``cli.db``) and data folder in the test's folder."""
    monkeypatch.setenv("BEATPLAN_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("BEATPLAN_DATA", str(tmp_path))
    return tmp_path


def run_cli(args: list[Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    """Run ``beatplan`` on ``args``: its exit code, its one JSON line (on success) and stderr."""
    from cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == (1 if code == 0 else 0)
    return code, (json.loads(out) if code == 0 else None), err


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh SQLite store in a temporary folder."""
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.dispose()


@pytest.fixture
def demo_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The demo built in the test's data folder and default store (the one the app opens)."""
    from geo.demo import build_demo

    monkeypatch.setenv("BEATPLAN_DATA", str(tmp_path))
    s = Store()
    build_demo(s, data_dir=tmp_path)
    return s


@pytest.fixture(scope="session")
def settings():
    """The project's settings."""
    return load_settings()


@pytest.fixture(scope="session")
def police_2022() -> Path:
    """data.police.uk Humberside street-level crimes, January 2022 (8,001 rows)."""
    return shared_file("police-uk", "2022-01-humberside-street.csv")


@pytest.fixture(scope="session")
def police_2024() -> Path:
    """data.police.uk Humberside street-level crimes, January 2024 (7,718 rows)."""
    return shared_file("police-uk", "2024-01-humberside-street.csv")
