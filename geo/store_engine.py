"""Opening the report store: database URLs, the engine and its connections, migrations on open."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.settings import DATA_DIR
from geo.store_audit import audit_state, ensure_guarded
from geo.store_tables import metadata

__all__ = [
    "DEFAULT_DB_PATH",
    "MIGRATIONS_DIR",
    "StoreConnection",
    "alembic_config",
    "default_db_url",
    "lock_for_migration",
    "migration_heads",
    "normalise_url",
    "open_engine",
    "safe_url",
]

DEFAULT_DB_PATH = DATA_DIR / "beatplan.db"

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_LOCK_KEY = 7_311_968_842  # any constant: pg_advisory_xact_lock serialises migrations
_HEADS: dict[str, tuple[str, ...]] = {}


def alembic_config(connection: sa.Connection | None = None) -> Any:
    """Build the Alembic configuration of the store in code (no ``alembic.ini`` needed).

    Parameters
    ----------
    connection
        The connection to migrate; ``migrations/env.py`` uses it as it is.

    Returns
    -------
    alembic.config.Config
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def migration_heads(cfg: Any | None = None) -> tuple[str, ...]:
    """Return the head revisions of the migrations (cached per script folder).

    Parameters
    ----------
    cfg
        An Alembic configuration; by default :func:`alembic_config`.

    Returns
    -------
    tuple of str
    """
    from alembic.script import ScriptDirectory

    cfg = cfg or alembic_config()
    key = cfg.get_main_option("script_location")
    if key not in _HEADS:
        _HEADS[key] = tuple(sorted(ScriptDirectory.from_config(cfg).get_heads()))
    return _HEADS[key]


def lock_for_migration(conn: sa.Connection) -> None:
    """Start a transaction on ``conn`` that no other migration can run beside.

    PostgreSQL takes a transaction-scoped advisory lock; SQLite takes the write lock
    (``BEGIN IMMEDIATE``). Both are released by the commit or rollback.

    Parameters
    ----------
    conn
        A connection with no transaction begun.
    """
    name = conn.dialect.name
    if name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
    elif name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def normalise_url(url: str) -> str:
    """Turn a bare path into an SQLite URL and ``postgresql://`` into the psycopg 3 driver.

    Parameters
    ----------
    url
        An SQLAlchemy URL or a file path.

    Returns
    -------
    str
    """
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def default_db_url() -> str:
    """Return ``$BEATPLAN_DB`` or the SQLite file under ``data/``.

    Returns
    -------
    str
        An SQLAlchemy URL.
    """
    env = os.environ.get("BEATPLAN_DB")
    if env:
        return env if "://" in env else f"sqlite:///{Path(env).resolve()}"
    return f"sqlite:///{DEFAULT_DB_PATH}"


def safe_url(url: str) -> str:
    """The SQLAlchemy ``url`` as text with any password hidden, for messages and pages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def open_engine(url: str) -> Engine:
    """Create the engine of a normalised store URL (making the SQLite file's folder).

    Parameters
    ----------
    url
        A normalised SQLAlchemy URL (see :func:`normalise_url`).

    Returns
    -------
    sqlalchemy.engine.Engine
        With a 30 s busy timeout and WAL for SQLite, pre-ping for server databases.

    Raises
    ------
    ValueError
        When the URL cannot be opened (bad URL or missing driver).
    """
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        if url.startswith("sqlite"):
            engine = sa.create_engine(url, connect_args={"timeout": 30})
        else:
            engine = sa.create_engine(url, pool_pre_ping=True)
    except (sa.exc.ArgumentError, ModuleNotFoundError) as exc:
        msg = f"Cannot open the database {safe_url(url)!r}: {exc}. Check --db or BEATPLAN_DB."
        raise ValueError(msg) from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class StoreConnection:
    """The store's engine, opened on a URL with its schema brought up to date.

    Parameters
    ----------
    url
        An SQLAlchemy URL; by default :func:`default_db_url`. A bare path is taken as SQLite.
    """

    def __init__(self, url: str | os.PathLike[str] | None = None) -> None:
        url = str(url) if url is not None else default_db_url()
        url = normalise_url(url)
        self.url = url
        self.engine: Engine = open_engine(url)
        self._create_schema()

    def _create_schema(self) -> None:
        """Bring the schema up to date: Alembic migrations, then tables other modules add.

        Migrations (``migrations/versions``) own ``batches``, ``reports``, ``audit``,
        ``plans`` and ``roles``; the audit table is only ever made with its guard
        (:func:`geo.store_audit.ensure_guarded` restores a dropped one, and logs it).
        Tables that other modules define on :data:`metadata` (e.g. ``patrol_logs``
        in :mod:`planning.tracking`) are created with ``metadata.create_all`` when missing;
        a change to one of them needs a migration. Both run under one lock, so processes
        that open a new store at the same moment wait for each other instead of failing.
        """
        try:
            with self.engine.connect() as conn:
                if self._schema_is_current(conn):
                    return
            with self.engine.connect() as conn:
                lock_for_migration(conn)
                from alembic import command

                command.upgrade(alembic_config(conn), "head")
                # The audit table is made only with its append-only triggers, never by
                # create_all: a dropped table or trigger is restored guarded, and logged.
                ensure_guarded(conn)
                metadata.create_all(conn, tables=_unguarded_tables())
                conn.commit()
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.InterfaceError) as exc:
            msg = (
                f"Cannot open the database {safe_url(self.url)!r}; check the path or server "
                f"and try again ({str(exc.orig or exc).strip().splitlines()[0]})."
            )
            raise ValueError(msg) from exc
        except Exception as exc:
            from alembic.util import CommandError

            if not isinstance(exc, CommandError):
                raise
            msg = (
                f"The database {safe_url(self.url)!r} was migrated by a newer version of "
                f"Beatplan than this one; upgrade Beatplan ({exc})."
            )
            raise ValueError(msg) from exc

    @staticmethod
    def _schema_is_current(conn: sa.Connection) -> bool:
        """Whether the migrations are at head and every table of :data:`metadata` exists."""
        from alembic.runtime.migration import MigrationContext

        heads = tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
        current = heads == migration_heads()
        if current:
            current = set(metadata.tables) <= set(sa.inspect(conn).get_table_names())
        if current:
            current = audit_state(conn) == "guarded"
        conn.rollback()
        return current

    @property
    def is_sqlite(self) -> bool:
        """Whether the store is an SQLite file."""
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        """Close the connection pool."""
        self.engine.dispose()


def _unguarded_tables() -> list[sa.Table]:
    """The tables of :data:`metadata` that ``create_all`` may make (all but ``audit``)."""
    return [t for t in metadata.sorted_tables if t.name != "audit"]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    import sqlite3

    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    # Switching a new file to WAL needs a moment alone with it and SQLite answers "locked" at
    # once, without its busy handler, when another process opens the file at the same time:
    # retry for up to about 30 s (WAL is then a property of the file, set once for all).
    for attempt in range(60):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 59:
                raise
            time.sleep(min(1.0, 0.05 * (attempt + 1)))
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA cache_size=-200000")
    cur.close()
