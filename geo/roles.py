"""Who may do what: roles granted by e-mail, bound to a sign-in account, audited, seeded once."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geo.settings import settings_file
from geo.store import Store, metadata
from geo.store_columns import stamp_columns

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
    sa.Column("team", sa.String(100)),  # nullable (the default) as issuer and subject
    *stamp_columns("updated"),
    # The sign-in account the role is bound to: the identity provider's issuer and its
    # immutable subject (``oid`` or ``sub``). NULL until the person first signs in with a
    # verified e-mail address, or when granted by e-mail only.
    sa.Column("issuer", sa.String(255)),
    sa.Column("subject", sa.String(255)),
    sa.Index("ix_roles_account", "issuer", "subject", unique=True),
)

# E-mail addresses the settings file's [roles] table has already been applied to: a seed
# applies once, so a role removed on the Access page stays removed after a restart.
role_seeds = sa.Table(
    "role_seeds",
    metadata,
    sa.Column("email", sa.String(255), primary_key=True),
    sa.Column("seeded_at", sa.DateTime, nullable=False),
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_READY: set[int] = set()


@dataclass(frozen=True)
class Assignment:
    """One person's role (and, for the ``team`` role, which team)."""

    email: str
    role: str
    team: str | None = None
    issuer: str | None = None
    subject: str | None = None


def normalise_email(email: str) -> str:
    """Return an e-mail address trimmed and in lower case, or raise a plain error.

    Parameters
    ----------
    email
        An e-mail address as typed or as the identity provider gives it.

    Returns
    -------
    str
        The address, trimmed and in lower case.

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
    metadata.create_all(store.engine, tables=[roles, role_seeds])
    _READY.add(key)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _assignment(row: Any) -> Assignment | None:
    if row is None or row.role not in ROLES:
        return None
    return Assignment(
        email=str(row.email),
        role=str(row.role),
        team=row.team or None,
        issuer=row.issuer or None,
        subject=row.subject or None,
    )


def get_assignment(store: Store, email: str | None) -> Assignment | None:
    """Return the role granted to an e-mail address, or ``None`` when there is none.

    This is the Access page's view; sign-in uses :func:`account_assignment`, which also
    checks the account the role is bound to.

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
        row = conn.execute(sa.select(roles).where(roles.c.email == clean)).first()
    return _assignment(row)


def is_verified(claim: object) -> bool:
    """Whether an ``email_verified`` claim says yes (``true``, or the string ``"true"``).

    Parameters
    ----------
    claim
        The claim's value as the identity provider gave it (``None`` when absent).

    Returns
    -------
    bool
    """
    return claim is True or (isinstance(claim, str) and claim.strip().lower() == "true")


def account_assignment(
    store: Store,
    *,
    issuer: str,
    subject: str,
    email: str | None = None,
    email_verified: object = None,
) -> Assignment | None:
    """Return the role of a signed-in account, binding an e-mail grant to it on first sign-in.

    A role is found by the account's issuer and subject (immutable claims). When the account
    has none, a role granted by e-mail and not yet bound to any account is bound to it, but
    only when the identity provider says the address is verified: an unverified ``email``
    claim, or one already bound to another account, gives no role. Binding is audited.

    Parameters
    ----------
    store
        The report store.
    issuer
        The ``iss`` claim, already checked against the configured identity provider.
    subject
        The account's immutable id (``oid`` in Microsoft Entra ID, else ``sub``).
    email
        The ``email`` claim, if any.
    email_verified
        The ``email_verified`` claim, if any.

    Returns
    -------
    Assignment or None
    """
    issuer, subject = str(issuer or "").strip(), str(subject or "").strip()
    if not issuer or not subject:
        return None
    ensure_table(store)
    account = (roles.c.issuer == issuer) & (roles.c.subject == subject)
    with store.engine.connect() as conn:
        found = _assignment(conn.execute(sa.select(roles).where(account)).first())
    if found is not None or not is_verified(email_verified):
        return found
    try:
        clean = normalise_email(str(email or ""))
    except ValueError:
        return None
    unbound = (roles.c.email == clean) & roles.c.subject.is_(None)
    with store.engine.begin() as conn:
        n = conn.execute(
            roles.update().where(unbound).values(issuer=issuer[:255], subject=subject[:255])
        ).rowcount
    if not n:  # bound meanwhile (by this account in another session, or by another)
        with store.engine.connect() as conn:
            return _assignment(conn.execute(sa.select(roles).where(account)).first())
    store.audit("role", f"{clean} role bound to their sign-in account", n_rows=1, actor=clean)
    return get_assignment(store, clean)


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
    store: Store,
    email: str,
    role: str,
    *,
    actor: str,
    team: str | None = None,
    issuer: str | None = None,
    subject: str | None = None,
) -> Assignment:
    """Give someone a role (replacing any earlier one) and record the change in the audit log.

    Parameters
    ----------
    store
        The report store.
    email
        Their e-mail address (the label the Access page lists them by).
    role
        One of :data:`ROLES`.
    actor
        Who made the change (their e-mail address), for the audit log.
    team
        For the ``team`` role: the patrol team they brief (as named on the Patrols page).
    issuer, subject
        Bind the role to this sign-in account now (for identity providers that do not
        verify e-mail addresses, e.g. Microsoft Entra ID). Without them an earlier binding
        is kept, or the role is bound when they first sign in with a verified address.

    Returns
    -------
    Assignment

    Raises
    ------
    ValueError
        If the e-mail address, the role or the account is not valid, or the account
        already has a role under another address.
    """
    clean = normalise_email(email)
    role = str(role or "").strip().lower()
    if role not in ROLES:
        msg = f"{role!r} is not a role; use one of {', '.join(ROLES)}."
        raise ValueError(msg)
    team = (str(team).strip() or None) if team is not None and role == "team" else None
    issuer, subject = (str(issuer or "").strip() or None), (str(subject or "").strip() or None)
    if (issuer is None) != (subject is None) or len(subject or "") > 255:
        msg = "An account id needs both the identity provider and the id; check and try again."
        raise ValueError(msg)
    ensure_table(store)
    values: dict[str, Any] = {
        "role": role,
        "team": team,
        "updated_at": _now(),
        "updated_by": str(actor)[:255],
    }
    if subject is not None:
        values |= {"issuer": issuer[:255] if issuer else None, "subject": subject}
    with store.engine.begin() as conn:
        if subject is not None:
            other = conn.execute(
                sa.select(roles.c.email).where(
                    (roles.c.issuer == values["issuer"])
                    & (roles.c.subject == subject)
                    & (roles.c.email != clean)
                )
            ).scalar()
            if other is not None:
                msg = f"That account already has a role as {other}; remove that one first."
                raise ValueError(msg)
        before = conn.execute(sa.select(roles.c.role).where(roles.c.email == clean)).scalar()
        if before is None:
            conn.execute(roles.insert().values(email=clean, **values))
        else:
            conn.execute(roles.update().where(roles.c.email == clean).values(**values))
    was = f" (was {before})" if before and before != role else ""
    suffix = f", team {team}" if team else ""
    bound = ", bound to the given account id" if subject else ""
    store.audit("role", f"{clean} set to {role}{suffix}{was}{bound}", n_rows=1, actor=actor)
    found = get_assignment(store, clean)
    return found if found is not None else Assignment(email=clean, role=role, team=team)


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
        A settings TOML, as for :func:`geo.settings.load_settings`; none there reads as empty.

    Returns
    -------
    dict
        E-mail address to role name, or to ``{role = ..., team = ...}``.
    """
    chosen = settings_file(path)
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
    """Apply the roles listed in settings, once per person (changes are audited).

    Each address is applied once and remembered in ``role_seeds``: someone who already has a
    role keeps it (the database wins), and a role a supervisor later removes stays removed
    after a restart. The settings file only bootstraps, e.g. the first supervisor, who can
    then give everyone else a role on the Access page.

    Parameters
    ----------
    store
        The report store; its ``role_seeds`` table remembers the addresses applied.
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
        If an entry names an unknown role or an invalid e-mail address (nothing is applied).
    """
    entries = roles_from_settings() if mapping is None else dict(mapping)
    wanted: dict[str, tuple[str, str | None]] = {}
    for email, spec in entries.items():
        role, team = (
            (spec.get("role", ""), spec.get("team")) if isinstance(spec, Mapping) else (spec, None)
        )
        if str(role or "").strip().lower() not in ROLES:
            msg = f"{role!r} is not a role; use one of {', '.join(ROLES)} (entry {email!r})."
            raise ValueError(msg)
        wanted[normalise_email(email)] = (str(role), team)
    ensure_table(store)
    with store.engine.connect() as conn:
        done = set(conn.execute(sa.select(role_seeds.c.email)).scalars())
    added = 0
    for email, (role, team) in wanted.items():
        if email in done:
            continue
        try:  # claim the seed first, so it is applied at most once
            with store.engine.begin() as conn:
                conn.execute(role_seeds.insert().values(email=email, seeded_at=_now()))
        except sa.exc.IntegrityError:  # another process claimed it at the same moment
            continue
        if get_assignment(store, email) is None:
            set_role(store, email, role, actor=actor, team=team)
            added += 1
    return added
