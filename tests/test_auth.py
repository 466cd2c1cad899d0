"""Sign-in fails closed: broken secrets, no sign-in on a network address, who may record what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_ROOT
from ui.auth import (
    AuthConfigError,
    User,
    check_auth,
    is_loopback,
    patrol_team,
    startup_problem,
)

APP = str(PROJECT_ROOT / "app.py")
ISSUER = "https://login.example.org/tenant-1/v2.0"
GOOD: dict[str, Any] = {
    "auth": {
        "redirect_uri": "https://beatplan.force.example/oauth2callback",
        "cookie_secret": "x" * 48,
        "client_id": "beatplan",
        "client_secret": "not-a-secret",
        "server_metadata_url": f"{ISSUER}/.well-known/openid-configuration",
    }
}


def _with(**changes: Any) -> dict[str, Any]:
    section = {**GOOD["auth"], **changes}
    return {"auth": {k: v for k, v in section.items() if v is not None}}


@pytest.fixture
def option() -> Iterator[Any]:
    """Set Streamlit config options for one test, restoring them afterwards."""
    saved: dict[str, Any] = {}

    def set_(key: str, value: Any) -> None:
        saved.setdefault(key, st_config.get_option(key))
        st_config.set_option(key, value)

    yield set_
    for key, value in saved.items():
        st_config.set_option(key, value)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def _shows_no_data(at: AppTest) -> None:
    assert not at.dataframe and not at.metric and not at.get("download_button")
    assert not at.sidebar.caption  # neither "Signed in" nor the local-mode note
    assert not any(b.label == "Sign in" for b in at.button)


# ------------------------------------------------------------------ the [auth] section


def test_a_complete_auth_section_gives_the_issuer() -> None:
    config = check_auth(GOOD)
    assert config is not None and config.issuers == {None: ISSUER}
    named = {"auth": {**{k: GOOD["auth"][k] for k in ("redirect_uri", "cookie_secret")}}}
    named["auth"]["entra"] = {k: GOOD["auth"][k] for k in GOOD["auth"] if k.startswith(("c", "s"))}
    named["auth"]["entra"].pop("cookie_secret")
    got = check_auth(named)
    assert got is not None and got.issuers == {"entra": ISSUER} and got.provider == "entra"


def test_no_auth_section_is_local_mode() -> None:
    assert check_auth({}) is None
    assert check_auth({"other": {"api_key": "x"}}) is None


@pytest.mark.parametrize(
    ("secrets", "message"),
    [
        (_with(client_secret=None), "missing client_secret"),
        (_with(server_metadata_url=""), "missing server_metadata_url"),
        (_with(redirect_uri=None), "missing redirect_uri"),
        (_with(cookie_secret="short-secret"), "at least 32 characters"),
        (_with(redirect_uri="https://beatplan.force.example/"), "/oauth2callback"),
        (
            _with(server_metadata_url="http://idp.example.org/.well-known/openid-configuration"),
            "https://",
        ),
        (_with(server_metadata_url="https://idp.example.org/metadata"), "https://"),
        ({"auth": "yes"}, "not a table"),
        ({"auth": {}}, "empty"),
        (
            {"auth": {k: GOOD["auth"][k] for k in ("redirect_uri", "cookie_secret")}},
            "no identity provider",
        ),
        ({"atuh": GOOD["auth"]}, "outside [auth] (atuh)"),
        ({"cookie_secret": "x" * 40}, "outside [auth]"),
    ],
)
def test_an_incomplete_auth_section_is_refused(secrets: dict, message: str) -> None:
    with pytest.raises(AuthConfigError, match=re.escape(message)):
        check_auth(secrets)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.0.1.5", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("", False),
        (None, False),
        ("192.168.1.20", False),
        ("beatplan.example.org", False),
    ],
)
def test_loopback(host: str | None, expected: bool) -> None:
    assert is_loopback(host) is expected


# ------------------------------------------------------------------ refusing to start


def test_local_mode_refuses_a_network_address(option) -> None:
    option("secrets.files", [])
    for address in ("0.0.0.0", "", "192.168.1.20", "::"):
        problem = startup_problem(address=address, headers={})
        assert problem and "no sign-in is configured" in problem, address
    assert startup_problem(address="127.0.0.1", headers={"Host": "127.0.0.1:8501"}) is None
    assert startup_problem(address="localhost", headers={"Host": "localhost:8501"}) is None


def test_local_mode_refuses_a_request_from_elsewhere(option) -> None:
    """Behind a proxy (or reached by another name) the loopback address is no protection."""
    option("secrets.files", [])
    for headers in (
        {"Host": "beatplan.example.org"},
        {"Host": "10.0.0.5:8501"},
        {"Host": "127.0.0.1:8501", "X-Forwarded-For": "203.0.113.9"},
        {"Host": "localhost", "Forwarded": "for=203.0.113.9"},
    ):
        problem = startup_problem(address="127.0.0.1", headers=headers)
        assert problem and "reached from another computer" in problem, headers


def test_a_broken_secrets_file_stops_startup(option, tmp_path: Path) -> None:
    bad = tmp_path / "secrets.toml"
    bad.write_text('[auth]\nredirect_uri = "https://x/oauth2callback\n', encoding="utf-8")
    option("secrets.files", [str(bad)])
    problem = startup_problem(address="127.0.0.1", headers={})
    assert problem and "is not valid TOML" in problem and "has stopped" in problem
    assert str(tmp_path) not in problem  # a visitor is not told where the server keeps it


def test_the_project_listens_on_loopback_only() -> None:
    import tomllib

    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    run = next(
        line
        for line in (PROJECT_ROOT / "Makefile").read_text().splitlines()
        if "streamlit run" in line
    )
    assert "server.address" not in run  # make run keeps the config file's address


def test_app_stops_on_a_secrets_file_with_a_typo(option, tmp_path: Path) -> None:
    """Streamlit reads a broken secrets file as none at all: the app used to run unsigned."""
    bad = tmp_path / "secrets.toml"
    bad.write_text(
        "[auth]\n"
        'redirect_uri = "https://beatplan.force.example/oauth2callback"\n'
        'cookie_secret = "' + "x" * 48 + '"\n'
        'client_id = "beatplan\n',  # the closing quote is missing
        encoding="utf-8",
    )
    option("secrets.files", [str(bad)])
    at = _run(AppTest.from_file(APP, default_timeout=60))
    assert [e.value for e in at.error] and "Beatplan has stopped" in at.error[0].value
    assert "not valid TOML" in at.error[0].value.replace("\\", "")
    _shows_no_data(at)


def test_app_stops_on_an_incomplete_auth_section(option) -> None:
    option("secrets.files", [])
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = _with(client_secret=None)
    _run(at)
    assert "missing client\\_secret" in at.error[0].value or "missing client_secret" in (
        at.error[0].value.replace("\\", "")
    )
    _shows_no_data(at)


def test_app_refuses_a_network_address_without_sign_in(option) -> None:
    option("secrets.files", [])
    option("server.address", "0.0.0.0")
    at = _run(AppTest.from_file(APP, default_timeout=60))
    assert at.error and "no sign-in is configured" in at.error[0].value.replace("\\", "")
    _shows_no_data(at)


def test_app_on_a_network_address_with_sign_in_asks_to_sign_in(option) -> None:
    option("secrets.files", [])
    option("server.address", "0.0.0.0")
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = GOOD
    at.user = {"is_logged_in": False}
    _run(at)
    assert not at.error
    assert [b.label for b in at.button] == ["Sign in"]


def test_a_page_opened_directly_also_stops(option) -> None:
    option("secrets.files", [])
    option("server.address", "0.0.0.0")
    at = _run(AppTest.from_file(str(PROJECT_ROOT / "views" / "data.py"), default_timeout=60))
    assert at.error and "no sign-in is configured" in at.error[0].value.replace("\\", "")
    assert not at.title and not at.get("file_uploader")


# ------------------------------------------------------------------ who records patrols


def test_a_team_user_records_patrols_only_for_its_own_team() -> None:
    pcso = User(email="pcso@force.uk", name="PCSO", role="team", team="Team B")
    assert patrol_team(pcso, "Team B") == "Team B"
    assert patrol_team(pcso, "") == "Team B"
    with pytest.raises(ValueError, match=r"only for your own team \(Team B\)"):
        patrol_team(pcso, "Team A")
    with pytest.raises(ValueError, match="has no team yet"):
        patrol_team(User(email="p@f.uk", name="P", role="team"), "Team A")
    boss = User(email="sgt@force.uk", name="Sgt", role="supervisor")
    assert patrol_team(boss, " Team A ") == "Team A"
    with pytest.raises(ValueError, match="Name the team"):
        patrol_team(boss, "  ")


# ------------------------------------------------------------------ the command line's actor


def test_the_cli_records_the_os_account_and_host(tmp_path: Path, monkeypatch, capsys) -> None:
    import getpass
    import socket

    from cli import main
    from geo.store import Store

    monkeypatch.setenv("BEATPLAN_USER", "the.chief.constable@force.police.uk")
    csv = tmp_path / "council.csv"
    csv.write_text("date,time,category,lat,lon\n2024-01-05,21:30,needles,53.744,-0.356\n")
    db = tmp_path / "cli.db"
    assert main(["--db", str(db), "import", str(csv)]) == 0, capsys.readouterr().err
    store = Store(str(db))
    expected = f"{getpass.getuser()}@{socket.gethostname()}"
    assert set(store.audit_log()["actor"]) == {expected}
    assert set(store.batches()["imported_by"]) == {expected}
    store.dispose()


# ------------------------------------------------------------------ the upload limit


def test_the_upload_limit_message_gives_the_setting_in_mb(tmp_path: Path, settings) -> None:
    """200 MB in settings is 200 x 1024 x 1024 bytes; the message used to say 210 MB."""
    import dataclasses

    from geo.reports import ReportFileError, read_reports

    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:  # a sparse file: nothing is written or read
        fh.truncate(201 * 1024 * 1024)
    chosen = dataclasses.replace(settings, general={**settings.general, "max_upload_mb": 200})
    with pytest.raises(ReportFileError) as info:
        read_reports(big, settings=chosen)
    assert "big.csv is 201 MB, over the 200 MB limit" in str(info.value)
