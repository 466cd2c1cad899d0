"""Who may do what: the e-mail to role table, its audited changes and its seed from settings."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geo.settings import DEFAULT_SETTINGS_PATH
from geo.store import Store, metadata

ROLES: tuple[str, ...] = ("supervisor", "team", "partner", "viewer", "auditor")
ROLE_DESCRIPTIONS: dict[str, str] = {
    "supervisor": "everything: imports, area, hotspots, patrols, briefings, summaries, settings",
    "team": "the briefings (and patrol tracking) of its own team",
    "partner": "imports, hotspots and community summaries; no report-level data",
    "viewer": "community summaries only",
    "auditor": "the audit log only",
}

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("email", sa.String(255), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("team", sa.String(100), nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(255), nullable=False),
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_READY: set[int] = set()


@dataclass(frozen=True)
class Assignment:
    """One person's role (and, for the ``team`` role, which team)."""

    email: str
    role: str
    team: str | None = None


def normalise_email(email: str) -> str:
    """Return an e-mail address trimmed and in lower case, or raise a plain error.

    Parameters
    ----------
    email
        An e-mail address as typed or as the identity provider gives it.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If it does not look like an e-mail address.
    """
    clean = str(email or "").strip().lower()
    if not _EMAIL.match(clean) or len(clean) > 255:
        msg = f"{email!r} is not an e-mail address (expected name@organisation.gov.uk)."
        raise ValueError(msg)
    return clean


def ensure_table(store: Store) -> None:
    """Create the ``roles`` table in the store's database if it is missing.

    Parameters
    ----------
    store
        The report store.
    """
    key = id(store.engine)
    if key in _READY:
        return
    metadata.create_all(store.engine, tables=[roles])
    _READY.add(key)


def get_assignment(store: Store, email: str | None) -> Assignment | None:
    """Return someone's role and team, or ``None`` when they have no role.

    Parameters
    ----------
    store
        The report store.
    email
        Their e-mail address (any case).

    Returns
    -------
    Assignment or None
    """
    if not email:
        return None
    try:
        clean = normalise_email(email)
    except ValueError:
        return None
    ensure_table(store)
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(roles.c.role, roles.c.team).where(roles.c.email == clean)
        ).first()
    if row is None or row.role not in ROLES:
        return None
    return Assignment(email=clean, role=str(row.role), team=row.team or None)


def get_role(store: Store, email: str | None) -> str | None:
    """Return someone's role, or ``None`` when they have none (no access).

    Parameters
    ----------
    store
        The report store.
    email
        Their e-mail address (any case).

    Returns
    -------
    str or None
        One of :data:`ROLES`, or ``None``.
    """
    found = get_assignment(store, email)
    return found.role if found else None


def set_role(
    store: Store, email: str, role: str, *, actor: str, team: str | None = None
) -> Assignment:
    """Give someone a role (replacing any earlier one) and record the change in the audit log.

    Parameters
    ----------
    store
        The report store.
    email
        Their e-mail address.
    role
        One of :data:`ROLES`.
    actor
        Who made the change (their e-mail address), for the audit log.
    team
        For the ``team`` role: the patrol team they brief (as named on the Patrols page).

    Returns
    -------
    Assignment

    Raises
    ------
    ValueError
        If the e-mail address or the role is not valid.
    """
    clean = normalise_email(email)
    role = str(role or "").strip().lower()
    if role not in ROLES:
        msg = f"{role!r} is not a role; use one of {', '.join(ROLES)}."
        raise ValueError(msg)
    team = (str(team).strip() or None) if team is not None and role == "team" else None
    ensure_table(store)
    values = {
        "role": role,
        "team": team,
        "updated_at": datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        "updated_by": str(actor)[:255],
    }
    with store.engine.begin() as conn:
        before = conn.execute(sa.select(roles.c.role).where(roles.c.email == clean)).scalar()
        if before is None:
            conn.execute(roles.insert().values(email=clean, **values))
        else:
            conn.execute(roles.update().where(roles.c.email == clean).values(**values))
    was = f" (was {before})" if before and before != role else ""
    suffix = f", team {team}" if team else ""
    store.audit("role", f"{clean} set to {role}{suffix}{was}", n_rows=1, actor=actor)
    return Assignment(email=clean, role=role, team=team)


def remove_role(store: Store, email: str, *, actor: str) -> bool:
    """Take away someone's role (they can no longer open any page) and audit it.

    Parameters
    ----------
    store
        The report store.
    email
        Their e-mail address.
    actor
        Who made the change, for the audit log.

    Returns
    -------
    bool
        Whether they had a role.
    """
    clean = normalise_email(email)
    ensure_table(store)
    with store.engine.begin() as conn:
        n = int(conn.execute(roles.delete().where(roles.c.email == clean)).rowcount or 0)
    if n:
        store.audit("role", f"{clean} role removed", n_rows=n, actor=actor)
    return bool(n)


def list_roles(store: Store) -> pd.DataFrame:
    """Return everyone with a role, sorted by e-mail address.

    Parameters
    ----------
    store
        The report store.

    Returns
    -------
    pandas.DataFrame
        Columns ``email, role, team, updated_at, updated_by``.
    """
    ensure_table(store)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(roles).order_by(roles.c.email)).fetchall()
    return pd.DataFrame(rows, columns=[c.name for c in roles.columns])


def roles_from_settings(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read the ``[roles]`` table of the settings file (empty when there is none).

    Parameters
    ----------
    path
        A settings TOML; by default ``$BEATPLAN_SETTINGS`` or ``data/settings.toml``.

    Returns
    -------
    dict
        E-mail address to role name, or to ``{role = ..., team = ...}``.
    """
    chosen = Path(path or os.environ.get("BEATPLAN_SETTINGS") or DEFAULT_SETTINGS_PATH)
    try:
        with open(chosen, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        msg = f"The settings file {chosen} is not valid TOML: {exc}."
        raise ValueError(msg) from exc
    return dict(raw.get("roles") or {})


def seed_roles(
    store: Store, mapping: Mapping[str, Any] | None = None, *, actor: str = "settings file"
) -> int:
    """Add the roles listed in settings for people who have no role yet (changes are audited).

    Roles already in the database win: the settings file only bootstraps, e.g. the first
    supervisor, who can then give everyone else a role on the Access page.

    Parameters
    ----------
    store
        The report store.
    mapping
        E-mail address to a role name or to ``{"role": ..., "team": ...}``; by default the
        ``[roles]`` table of the settings file.
    actor
        Recorded as who made the change.

    Returns
    -------
    int
        How many people were given a role.

    Raises
    ------
    ValueError
        If an entry names an unknown role or an invalid e-mail address.
    """
    entries = roles_from_settings() if mapping is None else dict(mapping)
    added = 0
    for email, spec in entries.items():
        role, team = (
            (spec.get("role", ""), spec.get("team"))
            if isinstance(spec, Mapping)
            else (
                spec,
                None,
            )
        )
        if get_assignment(store, email) is not None:
            continue
        set_role(store, email, str(role), actor=actor, team=team)
        added += 1
    return added
