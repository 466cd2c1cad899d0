"""Sign-in configuration: the [auth] secrets checked strictly, and the loopback-only rule."""

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

import streamlit as st

_log = logging.getLogger(__name__)

LOCAL_MODE_NOTE = "Single-user local mode: no sign-in is configured."
README_HINT = "See 'Sign-in and roles' in the README."
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
SIGN_IN_KEYS = frozenset({"redirect_uri", "cookie_secret", *PROVIDER_KEYS})
METADATA_SUFFIX = "/.well-known/openid-configuration"
MIN_COOKIE_SECRET = 32
# Headers a reverse proxy adds: in local mode the request must come straight from this computer.
FORWARD_HEADERS = frozenset({"forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip"})


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
    """Check the ``[auth]`` section of ``secrets`` (every secret, as Streamlit loaded them).

    Returns the checked settings, or ``None`` when sign-in is not configured.

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
        As for :func:`check_auth`.

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
