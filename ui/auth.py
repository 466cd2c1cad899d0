"""Sign-in (Streamlit's st.login, OpenID Connect) and the role checks every page and export makes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from geo.privacy import safe_csv
from geo.roles import ROLE_DESCRIPTIONS, account_assignment, seed_roles
from geo.store import Store
from geo.store import current_user as os_user
from ui.auth_config import (
    FORWARD_HEADERS as FORWARD_HEADERS,
)
from ui.auth_config import (
    LOCAL_MODE_NOTE as LOCAL_MODE_NOTE,
)
from ui.auth_config import (
    METADATA_SUFFIX as METADATA_SUFFIX,
)
from ui.auth_config import (
    MIN_COOKIE_SECRET as MIN_COOKIE_SECRET,
)
from ui.auth_config import (
    PROVIDER_KEYS as PROVIDER_KEYS,
)
from ui.auth_config import (
    README_HINT as README_HINT,
)
from ui.auth_config import (
    SIGN_IN_KEYS as SIGN_IN_KEYS,
)
from ui.auth_config import (
    AuthConfig as AuthConfig,
)
from ui.auth_config import (
    AuthConfigError as AuthConfigError,
)
from ui.auth_config import (
    auth_configured as auth_configured,
)
from ui.auth_config import (
    auth_settings as auth_settings,
)
from ui.auth_config import (
    check_auth as check_auth,
)
from ui.auth_config import (
    is_loopback as is_loopback,
)
from ui.auth_config import (
    login_provider as login_provider,
)
from ui.auth_config import (
    startup_problem as startup_problem,
)
from ui.escape import md_text
from ui.state import get_store

_log = logging.getLogger(__name__)

# Which roles may open each page (keys are the views/ file names).
PAGE_ACCESS: dict[str, frozenset[str]] = {
    "data": frozenset({"supervisor", "partner"}),
    "area": frozenset({"supervisor"}),
    "hotspots": frozenset({"supervisor", "partner"}),
    "patrols": frozenset({"supervisor"}),
    "briefings": frozenset({"supervisor", "team"}),
    "tracking": frozenset({"supervisor", "team"}),
    "community": frozenset({"supervisor", "partner", "viewer"}),
    "meeting": frozenset({"supervisor", "partner"}),
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
    "meeting_pack": frozenset({"supervisor", "partner"}),
    "audit_log": frozenset({"supervisor", "auditor"}),
    "hotspots": frozenset({"supervisor"}),
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
    "meeting": "Meeting",
    "settings": "Settings",
    "audit": "Audit log",
    "access": "Access",
}


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
    account
        The sign-in account's immutable id (``oid`` or ``sub``), shown to someone without a
        role so a supervisor can grant one to it.
    """

    email: str
    name: str
    role: str | None
    team: str | None = None
    local: bool = False
    account: str | None = None

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


@st.cache_resource(show_spinner=False)
def _seeded(url: str) -> int:
    """Seed roles from the settings file once per database per server process."""
    return seed_roles(get_store())


def _claim(name: str) -> str:
    return str(st.user.get(name) or "").strip()


def signed_in_user() -> User | None:
    """Return the user of this session, or ``None`` when sign-in is required and not done.

    In single-user local mode (no ``[auth]`` secrets) the user is the local supervisor,
    named ``user@host`` after the OS account. Otherwise the role is found by the account's
    issuer (which must be a configured provider's) and immutable subject (``oid`` or
    ``sub``); a role granted by e-mail is bound to the account on first sign-in when the
    provider says the address is verified.

    Returns
    -------
    User or None

    Raises
    ------
    AuthConfigError
        When the sign-in settings are broken (the app stops before this is called).
    """
    config = auth_settings()
    if config is None:
        name = os_user()
        return User(email=name, name=name, role="supervisor", local=True)
    # st.user.is_logged_in raises under AppTest; .get works everywhere.
    if not st.user.get("is_logged_in", False):
        return None
    label = (_claim("email") or _claim("preferred_username")).lower()
    issuer, subject = _claim("iss"), _claim("oid") or _claim("sub")
    store = get_store()
    try:
        _seeded(store.url)
    except ValueError as exc:
        st.warning(md_text(f"The [roles] table in the settings file was not used: {exc}"))
    found = None
    if issuer in config.issuers.values() and subject:
        found = account_assignment(
            store,
            issuer=issuer,
            subject=subject,
            email=_claim("email"),
            email_verified=st.user.get("email_verified"),
        )
    return User(
        email=found.email if found else label or "unknown account",
        name=_claim("name") or label,
        role=found.role if found else None,
        team=found.team if found else None,
        account=subject or None,
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
    if user is not None and user.account:
        st.caption(
            "If your identity provider does not confirm e-mail addresses (e.g. Microsoft "
            "Entra ID), the supervisor also needs your account id:"
        )
        st.code(user.account, language=None)


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
    problem = startup_problem()
    if problem:
        st.error(md_text(problem))
        st.stop()
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


def patrol_team(user: User, team: str | None) -> str:
    """Return the team a user may record a patrol for, or raise a plain error.

    A ``team`` user records patrols only for their own team; other roles that may open the
    Tracking page record for any team.

    Parameters
    ----------
    user
        The session's user.
    team
        The team chosen or typed on the page.

    Returns
    -------
    str
        The team to record the patrol for.

    Raises
    ------
    ValueError
        When a team user names another team, has no team, or no team is given.
    """
    chosen = str(team or "").strip()
    if user.role == "team":
        if not user.team:
            msg = "Your role has no team yet; ask a supervisor to set it on the Access page."
            raise ValueError(msg)
        if chosen and chosen != user.team:
            msg = f"You can record patrols only for your own team ({user.team})."
            raise ValueError(msg)
        return user.team
    if not chosen:
        msg = "Name the team that patrolled."
        raise ValueError(msg)
    return chosen


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
    return safe_csv(table, encoding="utf-8")
