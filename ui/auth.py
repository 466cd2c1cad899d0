"""Sign-in (Streamlit's st.login, OpenID Connect) and the role checks every page and export makes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from geo.privacy import neutralise_cells
from geo.roles import ROLE_DESCRIPTIONS, get_assignment, seed_roles
from geo.store import Store
from geo.store import current_user as os_user
from ui.escape import md_text
from ui.state import get_store

# Which roles may open each page (keys are the views/ file names).
PAGE_ACCESS: dict[str, frozenset[str]] = {
    "data": frozenset({"supervisor", "partner"}),
    "area": frozenset({"supervisor"}),
    "hotspots": frozenset({"supervisor", "partner"}),
    "patrols": frozenset({"supervisor"}),
    "briefings": frozenset({"supervisor", "team"}),
    "tracking": frozenset({"supervisor", "team"}),
    "community": frozenset({"supervisor", "partner", "viewer"}),
    "settings": frozenset({"supervisor"}),
    "audit": frozenset({"supervisor", "auditor"}),
    "access": frozenset({"supervisor"}),
}

# Which roles may download each export.
EXPORT_ACCESS: dict[str, frozenset[str]] = {
    "rejected_rows": frozenset({"supervisor"}),
    "patrol_plan": frozenset({"supervisor"}),
    "briefing": frozenset({"supervisor", "team"}),
    "community_summary": frozenset({"supervisor", "partner", "viewer"}),
    "audit_log": frozenset({"supervisor", "auditor"}),
}

# Roles that may see report-level data (single reports, rejected rows).
REPORT_LEVEL = frozenset({"supervisor"})

PAGE_TITLES: dict[str, str] = {
    "data": "Data",
    "area": "Area",
    "hotspots": "Hotspots",
    "patrols": "Patrols",
    "briefings": "Briefings",
    "tracking": "Tracking",
    "community": "Community summary",
    "settings": "Settings",
    "audit": "Audit log",
    "access": "Access",
}

LOCAL_MODE_NOTE = "Single-user local mode: no sign-in is configured."


@dataclass(frozen=True)
class User:
    """The person using this session.

    Attributes
    ----------
    email
        Their e-mail address (the OS account name in single-user local mode).
    name
        A display name.
    role
        One of the roles, or ``None`` when they are signed in but have no role.
    team
        For the ``team`` role, the patrol team they brief.
    local
        Whether this is single-user local mode (no sign-in configured).
    """

    email: str
    name: str
    role: str | None
    team: str | None = None
    local: bool = False

    def can_open(self, page: str) -> bool:
        """Whether the user's role may open ``page`` (a key of :data:`PAGE_ACCESS`)."""
        return self.role is not None and self.role in PAGE_ACCESS.get(page, frozenset())

    def can_export(self, export: str) -> bool:
        """Whether the user's role may download ``export`` (a key of :data:`EXPORT_ACCESS`)."""
        return self.role is not None and self.role in EXPORT_ACCESS.get(export, frozenset())

    @property
    def sees_report_level(self) -> bool:
        """Whether the user may see single reports and rejected rows."""
        return self.role in REPORT_LEVEL


def _auth_section() -> Mapping[str, Any]:
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        section = st.secrets.get("auth")
    except Exception:  # unreadable secrets: behave as if none were given
        return {}
    return section if isinstance(section, Mapping) else {}


def auth_configured() -> bool:
    """Whether an ``[auth]`` section is in ``.streamlit/secrets.toml`` (sign-in is required).

    Returns
    -------
    bool
    """
    return bool(_auth_section())


def login_provider() -> str | None:
    """Return the provider name for :func:`st.login` (``None`` for a flat ``[auth]`` section).

    Returns
    -------
    str or None
    """
    section = _auth_section()
    if "client_id" in section:
        return None
    named = [k for k, v in section.items() if isinstance(v, Mapping) and "client_id" in v]
    return named[0] if named else None


@st.cache_resource(show_spinner=False)
def _seeded(url: str) -> int:
    """Seed roles from the settings file once per database per server process."""
    return seed_roles(get_store())


def signed_in_user() -> User | None:
    """Return the user of this session, or ``None`` when sign-in is required and not done.

    In single-user local mode (no ``[auth]`` secrets) the user is the local supervisor,
    named after the OS account. Otherwise the e-mail address comes from the identity
    provider (``email``, or Entra ID's ``preferred_username``) and the role from the
    ``roles`` table.

    Returns
    -------
    User or None
    """
    if not auth_configured():
        name = os_user()
        return User(email=name, name=name, role="supervisor", local=True)
    # st.user.is_logged_in raises under AppTest; .get works everywhere.
    if not st.user.get("is_logged_in", False):
        return None
    email = str(st.user.get("email") or st.user.get("preferred_username") or "").strip().lower()
    name = str(st.user.get("name") or email)
    store = get_store()
    try:
        _seeded(store.url)
    except ValueError as exc:
        st.warning(md_text(f"The [roles] table in the settings file was not used: {exc}"))
    found = get_assignment(store, email)
    return User(
        email=email,
        name=name,
        role=found.role if found else None,
        team=found.team if found else None,
    )


def sign_in_page() -> None:
    """Draw the logged-out page: a sign-in prompt and nothing else."""
    st.title("Beatplan")
    st.write("Sign in with your organisation account to continue.")
    if st.button("Sign in", type="primary", key="sign_in"):
        try:
            provider = login_provider()
            st.login() if provider is None else st.login(provider)
        except Exception as exc:  # e.g. Authlib missing or a malformed [auth] section
            st.error(
                "Sign-in is not working on this server; ask whoever runs Beatplan to check "
                f"the [auth] settings. ({type(exc).__name__})"
            )


def no_role_page() -> None:
    """Draw the page for someone signed in without a role: no data, who to ask."""
    user = signed_in_user()
    st.title("No access yet")
    who = md_text(user.email) if user else "this account"
    st.error(
        f"You are signed in as {who}, but you have no Beatplan role yet. Ask a supervisor "
        "to give you one on the Access page."
    )


def sidebar_account(user: User) -> None:
    """Show who is signed in and a sign-out button (or the local-mode note) in the sidebar.

    Parameters
    ----------
    user
        The session's user.
    """
    with st.sidebar:
        if user.local:
            st.caption(LOCAL_MODE_NOTE)
            return
        role = user.role or "no role"
        team = f", {user.team}" if user.team else ""
        st.caption(md_text(f"Signed in as {user.email} ({role}{team})"))
        if st.button("Sign out", key="sign_out"):
            st.logout()


def require(page: str) -> User:
    """Stop the page unless the session's user may open it; return the user otherwise.

    Parameters
    ----------
    page
        A key of :data:`PAGE_ACCESS`, e.g. ``"hotspots"``.

    Returns
    -------
    User
    """
    user = signed_in_user()
    title = PAGE_TITLES.get(page, page)
    if user is None:
        st.info(f"Sign in to open the {title} page.")
        st.stop()
    if user.role is None:
        st.error(
            f"You are signed in as {user.email}, but you have no Beatplan role yet. Ask a "
            "supervisor to give you one on the Access page."
        )
        st.stop()
    if not user.can_open(page):
        st.error(
            f"Your role ({user.role}: {ROLE_DESCRIPTIONS[user.role]}) cannot open the "
            f"{title} page. Ask a supervisor if you need it."
        )
        st.stop()
    return user


def visible_pages(user: User | None) -> list[str]:
    """Return the pages (keys of :data:`PAGE_ACCESS`) the user may open, in menu order.

    Parameters
    ----------
    user
        The session's user, or ``None`` when signed out.

    Returns
    -------
    list of str
    """
    if user is None:
        return []
    return [p for p in PAGE_ACCESS if user.can_open(p)]


def audit_csv(store: Store, table: pd.DataFrame, *, actor: str) -> bytes:
    """Return audit events as a spreadsheet-safe CSV and record the export in the audit log.

    Parameters
    ----------
    store
        The report store.
    table
        The events to export (as shown on the Audit log page).
    actor
        Who is downloading, for the audit log.

    Returns
    -------
    bytes
        UTF-8 CSV; cells that a spreadsheet would run as formulas are neutralised.
    """
    store.audit("export", "audit log CSV", n_rows=len(table), actor=actor)
    return neutralise_cells(table).to_csv(index=False).encode("utf-8")
