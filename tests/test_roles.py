"""Roles: the e-mail to role table, and each role walked through each page with AppTest."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from geo.roles import (
    account_assignment,
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
        "cookie_secret": "test-cookie-secret-of-at-least-32-characters",
        "client_id": "beatplan-test",
        "client_secret": "not-a-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
}
ISSUER = "http://127.0.0.1:9"  # the metadata address without /.well-known/openid-configuration
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
    "partner": {"data", "hotspots", "community", "meeting"},
    "viewer": {"community"},
    "auditor": {"audit"},
    "unknown": set(),
}
# Pages whose files are gated with ui.auth.require (others are gated by navigation only).
GATED = ("data", "area", "hotspots", "patrols", "briefings", "community", "audit", "access")
GATED += ("meeting",)


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


def claims(email: str, **extra: object) -> dict[str, object]:
    """The ID-token claims of a signed-in account: a verified e-mail from the configured issuer."""
    return {
        "is_logged_in": True,
        "iss": ISSUER,
        "sub": f"subject-of-{email}",
        "email": email,
        "email_verified": True,
        **extra,
    }


def signed_in(email: str | None, *, page: str | None = None) -> AppTest:
    """Run the app under a fake [auth] config, signed in as ``email`` (``None``: signed out)."""
    at = AppTest.from_file(page or APP, default_timeout=60)
    at.secrets = AUTH
    at.user = claims(email) if email else {"is_logged_in": False}
    at.run()
    assert not at.exception, at.exception
    return at


def unescape(markdown: str) -> str:
    """The text markdown escaped with ui.escape.md_text renders as (backslashes gone)."""
    return re.sub(r"\\(.)", r"\1", markdown)


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
    sidebar = unescape(" ".join(c.value for c in at.sidebar.caption))
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
    assert any("new.person@council.gov.uk is now partner" in unescape(s.value) for s in at.success)
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
    # by label: a supervisor's Data page also offers "Set up your area" with its own widgets
    upload = next(u for u in at.file_uploader if u.label == "Partner file")
    upload.upload("outreach.csv", REJECTING_FILE, "text/csv")
    next(b for b in at.button if b.label == "Import").click()
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
    # saved plans are offered to a team only when they hold its route
    assert any("No patrol plan yet for your team" in unescape(i.value) for i in at.info)
    assert not at.get("iframe") and not at.get("download_button")

    at = signed_in(PEOPLE["supervisor"])
    at.switch_page("views/briefings.py").run()
    assert at.selectbox[1].options == ["All teams", "Team A", "Team B"]


# ------------------------------------------------------------------ seeded once, removal kept


def test_a_seeded_role_removed_stays_removed_after_a_restart(store, tmp_path, monkeypatch) -> None:
    toml = tmp_path / "settings.toml"
    toml.write_text(
        (PROJECT_ROOT / "data" / "settings.toml").read_text(encoding="utf-8")
        + '\n[roles]\n"boss@force.police.uk" = "supervisor"\n"pc@force.police.uk" = "viewer"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BEATPLAN_SETTINGS", str(toml))
    assert seed_roles(store) == 2
    assert remove_role(store, "pc@force.police.uk", actor="boss@force.police.uk")
    restarted = Store(store.url)  # a new server process opens the same database
    assert seed_roles(restarted) == 0
    assert get_role(restarted, "pc@force.police.uk") is None
    assert get_role(restarted, "boss@force.police.uk") == "supervisor"
    restarted.dispose()


# ------------------------------------------------------------------ roles bound to an account


def test_a_role_is_bound_to_the_first_verified_account(store: Store) -> None:
    set_role(store, "sgt@force.police.uk", "supervisor", actor="x")
    first = {"issuer": ISSUER, "email": "sgt@force.police.uk"}
    assert account_assignment(store, subject="A", **first, email_verified=False) is None
    got = account_assignment(store, subject="A", **first, email_verified=True)
    assert got is not None and (got.role, got.subject, got.issuer) == ("supervisor", "A", ISSUER)
    # Another account claiming the same verified address later gets nothing.
    assert account_assignment(store, subject="B", **first, email_verified=True) is None
    # The bound account keeps its role whatever e-mail it shows next time.
    again = account_assignment(store, issuer=ISSUER, subject="A", email="new@force.police.uk")
    assert again is not None and again.email == "sgt@force.police.uk"
    assert account_assignment(store, issuer="https://other.example", subject="A") is None
    log = store.audit_log().query("action == 'role'")
    assert log["what"].str.contains("bound to their sign-in account").sum() == 1


def test_an_account_id_grant_needs_no_email(store: Store) -> None:
    set_role(
        store,
        "pc@force.police.uk",
        "team",
        actor="x",
        team="Team B",
        issuer=ISSUER,
        subject="oid-123",
    )
    got = account_assignment(store, issuer=ISSUER, subject="oid-123")
    assert got is not None and (got.role, got.team) == ("team", "Team B")
    with pytest.raises(ValueError, match=r"already has a role as pc@force\.police\.uk"):
        set_role(
            store, "other@force.police.uk", "viewer", actor="x", issuer=ISSUER, subject="oid-123"
        )
    with pytest.raises(ValueError, match="needs both"):
        set_role(store, "other@force.police.uk", "viewer", actor="x", subject="oid-9")


@pytest.mark.parametrize(
    "extra",
    [
        {"email_verified": False},
        {"email_verified": None},
        {"email_verified": "false"},
        {"iss": "https://accounts.attacker.example"},
        {"iss": ""},
        {"sub": ""},
    ],
    ids=["unverified", "no-claim", "false-string", "other-issuer", "no-issuer", "no-subject"],
)
def test_no_role_from_an_unverified_email_or_another_issuer(people: Store, extra: dict) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = AUTH
    at.user = claims(PEOPLE["supervisor"], **extra)
    at.run()
    assert not at.exception
    assert at.title[0].value == "No access yet"
    assert open_pages(at) == set()
    assert not at.dataframe


def test_entra_account_without_email_verified_signs_in_by_account_id(people: Store) -> None:
    set_role(
        people,
        "pc.entra@force.police.uk",
        "viewer",
        actor="test",
        issuer=ISSUER,
        subject="oid-entra-1",
    )
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = AUTH
    at.user = {
        "is_logged_in": True,
        "iss": ISSUER,
        "sub": "pairwise-x",
        "oid": "oid-entra-1",
        "preferred_username": "pc.entra@force.police.uk",
    }
    at.run()
    assert not at.exception
    assert at.title[0].value == "Community summary"


def test_the_no_access_page_shows_the_account_id(people: Store) -> None:
    at = signed_in(UNKNOWN)
    assert at.title[0].value == "No access yet"
    assert [c.value for c in at.code] == [f"subject-of-{UNKNOWN}"]


def test_a_store_from_before_accounts_gains_the_columns_and_keeps_roles(tmp_path) -> None:
    from alembic import command

    from geo.store import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    s = Store(url)
    with s.engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0002")
        conn.commit()
        cols = {c["name"] for c in sa.inspect(conn).get_columns("roles")}
        assert "subject" not in cols and "role_seeds" not in sa.inspect(conn).get_table_names()
        conn.exec_driver_sql(
            "INSERT INTO roles VALUES ('old@force.police.uk', 'viewer', NULL, "
            "'2024-01-01 00:00:00', 'someone')"
        )
        conn.commit()
    s.dispose()
    s = Store(url)  # migrates to the head again
    assert get_role(s, "old@force.police.uk") == "viewer"
    assert (
        account_assignment(
            s, issuer=ISSUER, subject="S", email="old@force.police.uk", email_verified=True
        )
        is not None
    )
    s.dispose()


# ------------------------------------------------------------------ accountable patrol records


def _patrols(store: Store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.read_sql(sa.text("SELECT team, recorded_by FROM patrol_logs"), conn)


def _record_by_hand(at: AppTest, *, team: str | None) -> AppTest:
    import json

    from planning.export import plan_to_json
    from tests.test_briefing import make_plan, named_network

    body = plan_to_json(make_plan(named_network()[0]))  # hand entry offers the plan's hotspots
    for stop in (s for t in body["teams"] for s in t["stops"]):
        stop["hotspot_id"] = f"H-0000{stop['hotspot_id'][-2:]}"
    store = Store()
    store.save_plan(body["date"], json.dumps(body))
    store.dispose()
    at.switch_page("views/tracking.py").run()
    if team is not None:
        at.text_input[0].set_value(team)
    next(b for b in at.button if b.label == "Save patrol").click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_team_user_cannot_log_patrols_for_another_team(people: Store) -> None:
    from streamlit.testing.v1.errors import AppTestError

    set_role(people, PEOPLE["team"], "team", actor="test", team="Team B")
    at = signed_in(PEOPLE["team"])
    at.switch_page("views/tracking.py").run()
    team_box = at.text_input[0]
    assert (team_box.label, team_box.value, team_box.disabled) == ("Team", "Team B", True)
    with pytest.raises(AppTestError, match="disabled"):
        team_box.set_value("Team A")  # and the page re-checks the team server-side
    at = _record_by_hand(at, team=None)
    assert [s.value for s in at.success] == ["Patrol recorded."]
    logged = _patrols(people)
    assert list(logged["team"]) == ["Team B"]
    assert list(logged["recorded_by"]) == [PEOPLE["team"]]
    last = people.audit_log().iloc[-1]
    assert (last["action"], last["actor"]) == ("import", PEOPLE["team"])


def test_the_supervisor_is_the_actor_of_a_patrol_record(people: Store) -> None:
    at = _record_by_hand(signed_in(PEOPLE["supervisor"]), team="Team A")
    assert [s.value for s in at.success] == ["Patrol recorded."]
    assert _patrols(people).to_dict("records") == [
        {"team": "Team A", "recorded_by": PEOPLE["supervisor"]}
    ]


def test_the_first_start_demo_is_audited_under_the_signed_in_supervisor(
    people: Store, monkeypatch
) -> None:
    monkeypatch.setenv("BEATPLAN_AUTO_DEMO", "1")
    at = signed_in(PEOPLE["supervisor"])
    assert people.count_reports() > 0
    imports = people.audit_log().query("action in ('import', 'demo')")
    assert len(imports) >= 3 and set(imports["actor"]) == {PEOPLE["supervisor"]}
    assert not at.exception
