"""After a purge or deletion, make the deleted text gone from the database files too."""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["scrub", "secure_delete"]

_IDENT = frozenset("abcdefghijklmnopqrstuvwxyz_0123456789")


def secure_delete(conn: sa.Connection) -> None:
    """Make SQLite overwrite deleted content with zeros on this connection (no-op elsewhere).

    Parameters
    ----------
    conn
        The connection about to delete rows.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete=ON")


def _checkpoint(conn: sa.Connection, *, attempts: int) -> bool:
    """Copy the write-ahead log into the database and truncate it; whether that completed."""
    for attempt in range(attempts):
        row = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if row is None or int(row[0]) == 0:
            return True
        time.sleep(min(0.5, 0.05 * (attempt + 1)))
    return False


def scrub(engine: Engine, tables: Sequence[str], *, attempts: int = 40) -> bool:
    """Remove deleted rows' content from the files: SQLite database and WAL, or PostgreSQL.

    On SQLite: checkpoint and truncate the write-ahead log (old frames still hold the
    deleted rows), ``VACUUM`` (rebuilds the file without free pages) and checkpoint and
    truncate again. On PostgreSQL: ``VACUUM`` the touched tables, outside a transaction, so
    the dead rows' space is reclaimed and reused.

    Parameters
    ----------
    engine
        The store's engine.
    tables
        The tables rows were deleted from (plain identifiers).
    attempts
        How often to retry a checkpoint that another reader holds up.

    Returns
    -------
    bool
        Whether the log was truncated (SQLite; another process holding a read open can
        delay it) or the tables were vacuumed (PostgreSQL).
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
            _checkpoint(conn, attempts=attempts)
            conn.exec_driver_sql("VACUUM")
            done = _checkpoint(conn, attempts=attempts)
            conn.commit()
        return done
    if engine.dialect.name == "postgresql":
        names = [t for t in tables if t and set(t) <= _IDENT]
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in names:
                conn.exec_driver_sql(f"VACUUM {name}")
        return True
    return False
