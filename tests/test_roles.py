"""Roles: the e-mail to role table, and each role walked through each page with AppTest."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.roles import (
    get_assignment,
    get_role,
    list_roles,
    remove_role,
    roles_from_settings,
    seed_roles,
    set_role,
)
from geo.store import Store
from tests.conftest import PROJECT_ROOT
from ui.auth import PAGE_ACCESS, PAGE_TITLES, audit_csv

APP = str(PROJECT_ROOT / "app.py")
VIEWS = PROJECT_ROOT / "views"
# A fake [auth] section: nothing contacts it under AppTest.
AUTH = {
    "auth": {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "test-cookie-secret",
        "client_id": "beatplan-test",
        "client_secret": "not-a-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
}
PEOPLE = {
    "supervisor": "sgt.supervisor@force.police.uk",
    "team": "pcso.team@force.police.uk",
    "partner": "outreach.partner@council.gov.uk",
    "viewer": "resident.viewer@example.org",
    "auditor": "dpo.auditor@force.police.uk",
}
UNKNOWN = "stranger@example.com"
# What each role may open (pages whose file exists are checked).
EXPECTED = {
    "supervisor": set(PAGE_ACCESS),
    "team": {"briefings", "tracking"},
    "partner": {"data", "hotspots", "community"},
    "viewer": {"community"},
    "auditor": {"audit"},
    "unknown": set(),
}
# Pages whose files are gated with ui.auth.require (others are gated by navigation only).
GATED = ("data", "area", "hotspots", "patrols", "briefings", "community", "audit", "access")


def existing_pages() -> list[str]:
    return [p for p in PAGE_ACCESS if (VIEWS / f"{p}.py").is_file()]


# ------------------------------------------------------------------ the roles table


def test_set_and_get_role_is_audited(store: Store) -> None:
    got = set_role(store, " Sgt.Smith@Force.Police.UK ", "supervisor", actor="admin@force")
    assert got.email == "sgt.smith@force.police.uk"
    assert get_role(store, "SGT.SMITH@force.police.uk") == "supervisor"
    set_role(store, "sgt.smith@force.police.uk", "team", actor="admin@force", team="Foot patrol")
    assert get_assignment(store, "sgt.smith@force.police.uk").team == "Foot patrol"
    log = store.audit_log().query("action == 'role'")
    assert len(log) == 2
    assert set(log["actor"]) == {"admin@force"}
    assert "set to team" in log["what"].iloc[-1] and "(was supervisor)" in log["what"].iloc[-1]
    assert list(list_roles(store)["email"]) == ["sgt.smith@force.police.uk"]


def test_unknown_people_have_no_role(store: Store) -> None:
    assert get_role(store, "nobody@example.com") is None
    assert get_role(store, "") is None
    assert get_role(store, None) is None


def test_bad_role_or_email_gives_plain_errors(store: Store) -> None:
    with pytest.raises(ValueError, match="is not a role; use one of supervisor"):
        set_role(store, "a@b.org", "admin", actor="x")
    with pytest.raises(ValueError, match="is not an e-mail address"):
        set_role(store, "not an address", "viewer", actor="x")
    assert store.audit_log().query("action == 'role'").empty


def test_team_name_only_kept_for_team_role(store: Store) -> None:
    assert set_role(store, "a@b.org", "viewer", actor="x", team="Foot patrol").team is None


def test_remove_role(store: Store) -> None:
    set_role(store, "a@b.org", "viewer", actor="x")
    assert remove_role(store, "a@b.org", actor="boss@b.org")
    assert get_role(store, "a@b.org") is None
    assert not remove_role(store, "a@b.org", actor="boss@b.org")
    last = store.audit_log().iloc[-1]
    assert (last["action"], last["actor"], last["what"]) == (
        "role",
        "boss@b.org",
        "a@b.org role removed",
    )


def test_seed_from_settings_file_keeps_database_roles(store, tmp_path, monkeypatch) -> None:
    toml = tmp_path / "settings.toml"
    toml.write_text(
        (PROJECT_ROOT / "data" / "settings.toml").read_text(encoding="utf-8")
        + '\n[roles]\n"Boss@Force.police.uk" = "supervisor"\n'
        '"pcso@force.police.uk" = { role = "team", team = "Foot patrol" }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BEATPLAN_SETTINGS", str(toml))
    assert set(roles_from_settings()) == {"Boss@Force.police.uk", "pcso@force.police.uk"}
    set_role(store, "pcso@force.police.uk", "viewer", actor="someone")
    assert seed_roles(store) == 1
    assert get_role(store, "boss@force.police.uk") == "supervisor"
    assert get_role(store, "pcso@force.police.uk") == "viewer"  # the database wins
    assert seed_roles(store) == 0
    with pytest.raises(ValueError, match="is not a role"):
        seed_roles(store, {"x@y.org": "boss"})


def test_audit_csv_is_neutralised_and_audited(store: Store) -> None:
    table = pd.DataFrame({"Who": ["=cmd|' /C calc'!A0"], "What": ["import x.csv"], "Rows": [3]})
    data = audit_csv(store, table, actor="dpo@force")
    back = pd.read_csv(io.BytesIO(data))
    assert back["Who"].iloc[0].startswith("'=")
    last = store.audit_log().iloc[-1]
    assert (last["action"], last["actor"], last["n_rows"]) == ("export", "dpo@force", 1)


# ------------------------------------------------------------------ AppTest: the pages


@pytest.fixture
def people(tmp_path, monkeypatch) -> Store:
    """The app's store (``BEATPLAN_DB``) with one person for each role."""
    monkeypatch.setenv("BEATPLAN_DATA", str(tmp_path))
    s = Store()
    for role, email in PEOPLE.items():
        set_role(s, email, role, actor="test", team="Foot patrol" if role == "team" else None)
    s.audit("import", "seed.csv (police)", n_rows=12, actor="sgt.supervisor@force.police.uk")
    return s


def signed_in(email: str | None, *, page: str | None = None) -> AppTest:
    """Run the app under a fake [auth] config, signed in as ``email`` (``None``: signed out)."""
    at = AppTest.from_file(page or APP, default_timeout=60)
    at.secrets = AUTH
    at.user = {"email": email, "is_logged_in": True} if email else {"is_logged_in": False}
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [
        e.value for kind in ("title", "markdown", "caption", "info", "error") for e in at.get(kind)
    ]
    return "\n".join(str(p) for p in parts)


def open_pages(at: AppTest) -> set[str]:
    """The pages the navigation lets this session open (switching to others is refused)."""
    seen = set()
    for page in existing_pages():
        try:
            at.switch_page(f"views/{page}.py")
        except ValueError:
            continue
        seen.add(page)
    return seen


@pytest.mark.parametrize("role", [*PEOPLE, "unknown"])
def test_each_role_sees_only_its_pages(people: Store, role: str) -> None:
    email = PEOPLE.get(role, UNKNOWN)
    at = signed_in(email)
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert f"Signed in as {email}" in sidebar
    assert "Single-user local mode" not in sidebar
    assert any(b.label == "Sign out" for b in at.sidebar.button)
    expected = EXPECTED[role] & set(existing_pages())
    assert open_pages(at) == expected
    if not expected:
        assert at.title[0].value == "No access yet"
        assert "no Beatplan role yet" in at.error[0].value
        assert not at.dataframe
    for page in sorted(expected):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, at.exception)
        if page in GATED:
            assert at.title and at.title[0].value == PAGE_TITLES[page], page
            assert not any("cannot open" in e.value for e in at.error), page


DENIED = [
    (role, page)
    for role in ("team", "partner", "viewer", "auditor", "unknown")
    for page in GATED
    if role not in PAGE_ACCESS[page]
]


@pytest.mark.parametrize(("role", "page"), DENIED)
def test_pages_refuse_roles_without_access(people: Store, role: str, page: str) -> None:
    """Each gated page checks the role itself too, even when opened directly."""
    at = signed_in(PEOPLE.get(role, UNKNOWN), page=str(VIEWS / f"{page}.py"))
    assert at.error, (role, page)
    message = at.error[0].value
    assert ("cannot open" in message) if role != "unknown" else ("no Beatplan role" in message)
    assert not at.title and not at.dataframe and not at.get("download_button")


def test_signed_out_page_shows_only_a_sign_in_prompt(people: Store) -> None:
    at = signed_in(None)
    assert [t.value for t in at.title] == ["Beatplan"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe and not at.metric and not at.get("download_button")
    assert not at.sidebar.caption or "Signed in" not in at.sidebar.caption[0].value
    with pytest.raises(ValueError):
        at.switch_page("views/data.py")
    assert "seed.csv" not in texts(at)


def test_local_mode_is_the_supervisor_and_says_so() -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert "Single-user local mode: no sign-in is configured." in [
        c.value for c in at.sidebar.caption
    ]
    assert open_pages(at) == set(existing_pages())
    assert not any(b.label == "Sign out" for b in at.sidebar.button)


def test_auditor_sees_the_audit_log_and_can_export(people: Store) -> None:
    at = signed_in(PEOPLE["auditor"])
    assert at.title[0].value == "Audit log"  # the auditor's landing page
    frame = at.dataframe[0].value
    assert {"When (UTC)", "Who", "Action", "What", "Rows"} <= set(frame.columns)
    assert "Role change" in set(frame["Action"]) and "Import" in set(frame["Action"])
    assert [d.label for d in at.get("download_button")] == ["Download these events (CSV)"]


def test_viewer_lands_on_the_community_summary(people: Store) -> None:
    at = signed_in(PEOPLE["viewer"])
    assert at.title[0].value == "Community summary"


def test_supervisor_assigns_a_role_on_the_access_page(people: Store) -> None:
    at = signed_in(PEOPLE["supervisor"])
    at.switch_page("views/access.py").run()
    at.text_input[0].set_value("New.Person@Council.gov.uk")
    at.selectbox[0].set_value("partner")
    next(b for b in at.button if b.label == "Give this role").click()
    at.run()
    assert not at.exception
    assert any("new.person@council.gov.uk is now partner" in s.value for s in at.success)
    last = people.audit_log().iloc[-1]
    assert (last["action"], last["actor"]) == ("role", PEOPLE["supervisor"])


REJECTING_FILE = (
    b"date,time,category,lat,lon\n"
    b"05/01/2024,21:30,Propositioning,53.744,-0.356\n"
    b"06/01/2024,22:00,Welfare,0,0\n"
)


def _import_as(role: str) -> AppTest:
    at = signed_in(PEOPLE[role])
    at.switch_page("views/data.py").run()
    at.file_uploader[0].upload("outreach.csv", REJECTING_FILE, "text/csv")
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_partner_imports_but_never_sees_rejected_rows(people: Store) -> None:
    at = _import_as("partner")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rejected"] == "1"
    assert not any("reason" in d.value.columns for d in at.dataframe)
    assert not at.get("download_button")
    assert any("only a supervisor can see" in c.value for c in at.caption)
    log = people.audit_log()
    assert log.query("action == 'view'").empty
    imports = log.query("action == 'import'")
    assert imports["actor"].iloc[-1] == PEOPLE["partner"]


def test_supervisor_viewing_rejected_rows_is_audited_once(people: Store) -> None:
    at = _import_as("supervisor")
    assert any("reason" in d.value.columns for d in at.dataframe)
    assert [d.label for d in at.get("download_button")] == ["Download rejected rows (CSV)"]
    at.run()  # a rerun shows the rows again but records no second view
    views = people.audit_log().query("action == 'view'")
    assert len(views) == 1
    assert views["actor"].iloc[0] == PEOPLE["supervisor"] and views["n_rows"].iloc[0] == 1
    assert "0,0" not in views["what"].iloc[0]  # never report content


def test_team_sees_only_its_own_briefing(people: Store) -> None:
    from tests.test_app_outputs import _seed

    _seed()
    set_role(people, PEOPLE["team"], "team", actor="test", team="Team B")
    at = signed_in(PEOPLE["team"])
    assert at.title[0].value == "Briefings"  # the team's landing page
    assert at.selectbox[1].options == ["Team B"]
    html = at.get("iframe")[0].proto.srcdoc
    assert "Patrol briefing: Team B" in html and "Patrol briefing: Team A" not in html
    assert len(at.get("download_button")) == 2

    set_role(people, PEOPLE["team"], "team", actor="test", team="Team C")
    at = signed_in(PEOPLE["team"])
    assert any("no route for your team (Team C)" in i.value for i in at.info)
    assert not at.get("iframe") and not at.get("download_button")

    at = signed_in(PEOPLE["supervisor"])
    at.switch_page("views/briefings.py").run()
    assert at.selectbox[1].options == ["All teams", "Team A", "Team B"]
