"""Sign-in (Streamlit's st.login, OpenID Connect) and the role checks every page and export makes."""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from geo.privacy import safe_csv
from geo.roles import ROLE_DESCRIPTIONS, account_assignment, seed_roles
from geo.store import Store
from geo.store import current_user as os_user
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
    "settings": "Settings",
    "audit": "Audit log",
    "access": "Access",
}

LOCAL_MODE_NOTE = "Single-user local mode: no sign-in is configured."
README_HINT = "See 'Sign-in and roles' in the README."
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
SIGN_IN_KEYS = frozenset({"redirect_uri", "cookie_secret", *PROVIDER_KEYS})
METADATA_SUFFIX = "/.well-known/openid-configuration"
MIN_COOKIE_SECRET = 32
# Headers a reverse proxy adds: in local mode the request must come straight from this computer.
FORWARD_HEADERS = frozenset({"forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip"})


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


class AuthConfigError(ValueError):
    """The sign-in settings are broken: the app must not start (it would fail open)."""


@dataclass(frozen=True)
class AuthConfig:
    """A checked ``[auth]`` section.

    Attributes
    ----------
    issuers
        Provider name (``None`` for a flat ``[auth]`` section) to the issuer its ID tokens
        must carry (``server_metadata_url`` without ``/.well-known/openid-configuration``).
    """

    issuers: dict[str | None, str]

    @property
    def provider(self) -> str | None:
        """The provider :func:`st.login` is called with (the first configured)."""
        return next(iter(self.issuers))


def _secrets_problem(path: Path) -> str | None:
    """Say what is wrong with one secrets file on disk (``None``: absent or valid TOML).

    The page names the file by its folder and name only (no server path for a visitor);
    the server log has the full path.
    """
    short = f"{path.parent.name}/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"The secrets file {short} cannot be read ({type(exc).__name__})"
    else:
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            problem = f"The secrets file {short} is not valid TOML ({exc})"
        else:
            return None
    _log.error("Beatplan stopped: %s (%s)", problem, path)
    return problem


def _check_provider(name: str | None, spec: Mapping[str, Any]) -> str:
    """Check one provider's keys; return the issuer its tokens must carry."""
    where = "[auth]" if name is None else f"[auth.{name}]"
    missing = [k for k in PROVIDER_KEYS if not str(spec.get(k) or "").strip()]
    if missing:
        msg = f"{where} in the secrets file is missing {', '.join(missing)}"
        raise AuthConfigError(msg)
    url = str(spec["server_metadata_url"]).strip()
    host = urlsplit(url).hostname
    secure = url.startswith("https://") or (url.startswith("http://") and is_loopback(host))
    if not secure or not url.endswith(METADATA_SUFFIX):
        msg = (
            f"{where} server_metadata_url must be the https:// address of your identity "
            f"provider's {METADATA_SUFFIX} (e.g. https://login.microsoftonline.com/<tenant "
            f"id>/v2.0{METADATA_SUFFIX}: a tenant's own address, not /common)"
        )
        raise AuthConfigError(msg)
    return url.removesuffix(METADATA_SUFFIX)


def check_auth(secrets: Mapping[str, Any]) -> AuthConfig | None:
    """Check the ``[auth]`` section of the secrets; ``None`` when there is none.

    Parameters
    ----------
    secrets
        Every secret, as Streamlit loaded them.

    Returns
    -------
    AuthConfig or None

    Raises
    ------
    AuthConfigError
        For a section that is not a table, misses a required key, has a short
        ``cookie_secret`` or an insecure metadata address, or sign-in keys outside ``[auth]``.
    """
    for key, value in secrets.items():
        stray = key in SIGN_IN_KEYS or (
            key != "auth" and isinstance(value, Mapping) and bool(SIGN_IN_KEYS & set(value))
        )
        if stray:
            msg = f"The secrets file has sign-in settings outside [auth] ({key}); move them"
            raise AuthConfigError(msg)
    section = secrets.get("auth")
    if section is None:
        return None
    if not isinstance(section, Mapping) or not section:
        msg = "The [auth] section of the secrets file is empty or not a table"
        raise AuthConfigError(msg)
    missing = [k for k in ("redirect_uri", "cookie_secret") if not str(section.get(k) or "")]
    if missing:
        msg = f"[auth] in the secrets file is missing {', '.join(missing)}"
        raise AuthConfigError(msg)
    redirect = str(section["redirect_uri"]).strip()
    if not redirect.startswith(("https://", "http://")) or not redirect.endswith("/oauth2callback"):
        msg = "[auth] redirect_uri must be this app's address followed by /oauth2callback"
        raise AuthConfigError(msg)
    if len(str(section["cookie_secret"])) < MIN_COOKIE_SECRET:
        msg = (
            f"[auth] cookie_secret must be a random string of at least {MIN_COOKIE_SECRET} "
            'characters (python -c "import secrets; print(secrets.token_urlsafe(48))")'
        )
        raise AuthConfigError(msg)
    issuers: dict[str | None, str] = {}
    if any(k in section for k in PROVIDER_KEYS):
        issuers[None] = _check_provider(None, section)
    for name, spec in section.items():
        if isinstance(spec, Mapping):
            issuers[str(name)] = _check_provider(str(name), spec)
    if not issuers:
        msg = f"[auth] names no identity provider: add {', '.join(PROVIDER_KEYS)}"
        raise AuthConfigError(msg)
    if importlib.util.find_spec("authlib") is None:
        msg = "Sign-in is configured but Authlib is not installed; run make install"
        raise AuthConfigError(msg)
    return AuthConfig(issuers=issuers)


def auth_settings() -> AuthConfig | None:
    """Read and check the sign-in settings; ``None`` when no ``[auth]`` is configured.

    Streamlit treats a secrets file it cannot parse as absent; this does not: each
    secrets file on disk must be readable valid TOML, and an ``[auth]`` section complete.

    Returns
    -------
    AuthConfig or None

    Raises
    ------
    AuthConfigError
        When the secrets or the ``[auth]`` section are broken (the app must stop).
    """
    found = False
    for name in st.get_option("secrets.files") or ():
        path = Path(str(name))
        if path.suffix != ".toml":  # a folder of secrets (Kubernetes): Streamlit reads it
            found = found or path.is_dir()
            continue
        problem = _secrets_problem(path)
        if problem:
            raise AuthConfigError(problem)
        found = found or path.is_file()
    loaded = st.secrets.load_if_toml_exists()
    if found and not loaded:
        msg = "Streamlit could not load the secrets file"
        raise AuthConfigError(msg)
    return check_auth(st.secrets.to_dict() if loaded else {})


def auth_configured() -> bool:
    """Whether a valid ``[auth]`` section is configured (sign-in is required).

    Returns
    -------
    bool

    Raises
    ------
    AuthConfigError
        When the sign-in settings are broken.
    """
    return auth_settings() is not None


def login_provider() -> str | None:
    """Return the provider name for :func:`st.login` (``None`` for a flat ``[auth]`` section).

    Returns
    -------
    str or None
    """
    config = auth_settings()
    return config.provider if config else None


def is_loopback(host: str | None) -> bool:
    """Whether a host name or address is this computer only (``localhost``, 127/8, ``::1``).

    Parameters
    ----------
    host
        A host name or IP address (IPv6 may be in brackets); empty means every interface.

    Returns
    -------
    bool
    """
    host = str(host or "").strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _request_host(headers: Mapping[str, str]) -> str | None:
    """The host name of the ``Host`` header (without its port), or ``None``."""
    raw = str(headers.get("Host") or headers.get("host") or "").strip()
    if not raw:
        return None
    return urlsplit(f"//{raw}").hostname or raw


def startup_problem(
    *, address: str | None = None, headers: Mapping[str, str] | None = None
) -> str | None:
    """Say why the app must not start for this request, or ``None`` when it may.

    It must not when the sign-in settings are broken, or when no sign-in is configured
    (everyone would be the local supervisor) and the server listens beyond this computer
    or the request came from elsewhere (another host name, or through a proxy).

    Parameters
    ----------
    address
        The ``server.address`` Streamlit listens on; by default the configured one.
    headers
        The request's headers; by default this session's.

    Returns
    -------
    str or None
        A plain message for the page.
    """
    try:
        config = auth_settings()
    except AuthConfigError as exc:
        return (
            f"Beatplan has stopped: {exc}. Nothing is shown until whoever runs Beatplan "
            f"fixes .streamlit/secrets.toml and restarts it. {README_HINT}"
        )
    if config is not None:
        return None
    address = st.get_option("server.address") if address is None else address
    if not is_loopback(address):
        where = address or "every network interface"
        return (
            f"Beatplan has stopped: it is listening on {where} but no sign-in is configured, "
            "so anyone who can reach this computer would be a supervisor. Set "
            'server.address = "127.0.0.1" in .streamlit/config.toml, or configure sign-in '
            f"(an [auth] section in .streamlit/secrets.toml). {README_HINT}"
        )
    if headers is None:
        try:
            headers = dict(st.context.headers or {})
        except Exception:  # no request context (bare script run)
            headers = {}
    proxied = any(h.lower() in FORWARD_HEADERS for h in headers)
    host = _request_host(headers)
    if proxied or (host is not None and not is_loopback(host)):
        return (
            "Beatplan has stopped: this page was reached from another computer (through "
            "a proxy or by a network address) and no sign-in is configured. Open it on "
            f"this computer at http://127.0.0.1, or configure sign-in. {README_HINT}"
        )
    return None


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
