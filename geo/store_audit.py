"""The append-only guard of the audit table: its triggers, a check, and a guarded restore."""

from __future__ import annotations

import getpass
import logging
import os
import socket
from datetime import UTC, datetime

import sqlalchemy as sa

from geo.store_tables import audit

__all__ = [
    "GUARD_MESSAGE",
    "POSTGRES_GUARD",
    "SQLITE_GUARD",
    "apply_guard",
    "audit_state",
    "create_guarded_audit",
    "current_user",
    "ensure_guarded",
]

_log = logging.getLogger(__name__)

GUARD_MESSAGE = "the audit log is append-only"

# Each guard trigger: the statement events it refuses and, on PostgreSQL, per row or statement.
_SQLITE = {"audit_no_update": "UPDATE", "audit_no_delete": "DELETE"}
_POSTGRES = {
    "audit_no_change": ("UPDATE OR DELETE", "ROW"),
    "audit_no_truncate": ("TRUNCATE", "STATEMENT"),
}
SQLITE_TRIGGERS = frozenset(_SQLITE)
POSTGRES_TRIGGERS = frozenset(_POSTGRES)

SQLITE_GUARD = tuple(
    f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {event} ON audit "
    f"BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}'); END"
    for name, event in _SQLITE.items()
)

POSTGRES_GUARD = (
    "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{GUARD_MESSAGE}'; END $$",
    *(
        stmt
        for name, (event, each) in _POSTGRES.items()
        for stmt in (
            f"DROP TRIGGER IF EXISTS {name} ON audit",
            f"CREATE TRIGGER {name} BEFORE {event} ON audit "
            f"FOR EACH {each} EXECUTE FUNCTION audit_append_only()",
        )
    ),
)

_GUARDS = {"sqlite": SQLITE_GUARD, "postgresql": POSTGRES_GUARD}


def apply_guard(conn: sa.Connection) -> None:
    """Install the triggers that refuse any UPDATE, DELETE (or TRUNCATE) of ``audit``.

    Parameters
    ----------
    conn
        A connection inside a transaction; the ``audit`` table exists.
    """
    for stmt in _GUARDS.get(conn.dialect.name, ()):
        conn.exec_driver_sql(stmt)


def create_guarded_audit(conn: sa.Connection) -> None:
    """Create the ``audit`` table and its append-only triggers in one step.

    This and the migrations are the only places the audit table is made: never
    ``metadata.create_all``, which would make it without its guard.

    Parameters
    ----------
    conn
        A connection inside a transaction; the ``audit`` table does not exist.
    """
    audit.create(conn)  # this table alone, never metadata.create_all
    apply_guard(conn)


def audit_state(conn: sa.Connection) -> str:
    """Say whether the ``audit`` table is there and guarded.

    Parameters
    ----------
    conn
        An open connection.

    Returns
    -------
    str
        ``"guarded"``, ``"unguarded"`` (a trigger is missing) or ``"missing"``. Dialects
        without a known guard count as guarded when the table exists.
    """
    name = conn.dialect.name
    if name == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT type, name FROM sqlite_master WHERE tbl_name = 'audit'"
        ).fetchall()
        if not any(kind == "table" for kind, _ in rows):
            return "missing"
        found = {n for kind, n in rows if kind == "trigger"}
        return "guarded" if found >= SQLITE_TRIGGERS else "unguarded"
    if not sa.inspect(conn).has_table("audit"):
        return "missing"
    if name == "postgresql":
        found = set(
            conn.execute(
                sa.text(
                    "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE c.relname = 'audit' AND c.relnamespace = "
                    "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
                )
            ).scalars()
        )
        return "guarded" if found >= POSTGRES_TRIGGERS else "unguarded"
    return "guarded"


def current_user() -> str:
    """Name the local operator for the audit log: the OS account and the host, ``user@host``.

    Taken from the operating system (``getpass`` and ``socket``), never from an environment
    variable anyone could set to another name.

    Returns
    -------
    str
    """
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "local"
    host = socket.gethostname() or "localhost"
    return f"{user}@{host}"[:255]


def ensure_guarded(conn: sa.Connection) -> str | None:
    """Restore a missing ``audit`` table or a missing trigger, and record that in the log.

    Parameters
    ----------
    conn
        A connection inside the migration transaction.

    Returns
    -------
    str or None
        What was repaired (also written to the audit log), or ``None`` when nothing was.
    """
    state = audit_state(conn)
    if state == "guarded":
        return None
    if state == "missing":
        create_guarded_audit(conn)
        what = (
            "audit log missing when the store was opened: recreated empty with its "
            "append-only guard; earlier events are lost (restore them from a backup)"
        )
    else:
        apply_guard(conn)
        what = "audit log had lost its append-only guard when the store was opened: restored"
    conn.execute(
        audit.insert().values(
            at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            actor=current_user(),
            action="delete",
            what=what,
            n_rows=0,
        )
    )
    _log.warning("Beatplan store: %s", what)
    return what
