"""Persistence of import batches, reports, plans and the append-only audit log (SQLAlchemy)."""

from __future__ import annotations

import getpass
import os
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.settings import DATA_DIR

DEFAULT_DB_PATH = DATA_DIR / "beatplan.db"

metadata = sa.MetaData()

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("batch_id", sa.String(32), primary_key=True),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("format", sa.String(32), nullable=False),
    sa.Column("imported_at", sa.DateTime, nullable=False),
    sa.Column("imported_by", sa.String(255), nullable=False),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("accepted", sa.Integer, nullable=False),
    sa.Column("duplicates", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("off_network", sa.Integer, nullable=False, default=0),
)

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("report_id", sa.String(32), primary_key=True),
    sa.Column("occurred_at", sa.DateTime, nullable=False, index=True),
    sa.Column("time_known", sa.Boolean, nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("segment_id", sa.Integer, nullable=True),
    sa.Column("location_hint", sa.String(255), nullable=True),
    sa.Column("lsoa_code", sa.String(16), nullable=True),
    sa.Column("batch_id", sa.String(32), nullable=False, index=True),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("what", sa.String(500), nullable=False),
    sa.Column("n_rows", sa.Integer, nullable=False, default=0),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("plan_id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("plan_date", sa.String(10), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)

REPORT_FIELDS = [c.name for c in reports.columns]
AUDIT_ACTIONS = ("import", "export", "purge", "delete", "view", "plan", "network", "demo", "role")

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


def current_user() -> str:
    """Name the local operator for the audit log (the OS account in single-user mode).

    Returns
    -------
    str
    """
    try:
        return os.environ.get("BEATPLAN_USER") or getpass.getuser()
    except Exception:  # no login name in some containers
        return "local"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class Store:
    """The report store: an SQLite file by default, PostgreSQL (or any SQLAlchemy URL) on request.

    Parameters
    ----------
    url
        An SQLAlchemy URL; by default :func:`default_db_url`. A bare path is taken as SQLite.
    """

    def __init__(self, url: str | os.PathLike[str] | None = None) -> None:
        url = str(url) if url is not None else default_db_url()
        url = normalise_url(url)
        self.url = url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            if url.startswith("sqlite"):
                self.engine: Engine = sa.create_engine(url, connect_args={"timeout": 30})
            else:
                self.engine = sa.create_engine(url, pool_pre_ping=True)
        except (sa.exc.ArgumentError, ModuleNotFoundError) as exc:
            msg = f"Cannot open the database {safe_url(url)!r}: {exc}. Check --db or BEATPLAN_DB."
            raise ValueError(msg) from exc
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._create_schema()

    def _create_schema(self) -> None:
        """Bring the schema up to date: Alembic migrations, then tables other modules add.

        Migrations (``migrations/versions``) own ``batches``, ``reports``, ``audit`` and
        ``plans``. Tables that other modules define on :data:`metadata` (e.g. ``patrol_logs``
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
                metadata.create_all(conn)
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
        conn.rollback()
        return current

    @property
    def is_sqlite(self) -> bool:
        """Whether the store is an SQLite file."""
        return self.engine.dialect.name == "sqlite"

    # ----------------------------------------------------------------- writing

    def add_batch(
        self,
        frame: pd.DataFrame,
        *,
        file_name: str,
        source: str,
        fmt: str,
        rows_read: int,
        rejected: int,
        duplicates_in_file: int = 0,
        off_network: int = 0,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Store one import: its reports (new ones only), the batch record and an audit event.

        Parameters
        ----------
        frame
            Accepted reports (the report table of DESIGN section 3).
        file_name, source, fmt
            Where the batch came from.
        rows_read, rejected, duplicates_in_file
            The reader's counts, recorded with the batch.
        off_network
            Reports kept in point mode because no street was close enough.
        actor
            Who imported it (for the audit log).

        Returns
        -------
        dict
            ``batch_id``, ``accepted`` (new reports stored), ``duplicates`` (rows merged
            into reports already stored, plus repeated references inside the file),
            ``rejected``.
        """
        actor = actor or current_user()
        batch_id = uuid.uuid4().hex[:16]
        frame = frame.copy()
        frame["batch_id"] = batch_id
        with self.engine.begin() as conn:
            inserted = self._insert_reports(conn, frame)
            dup = len(frame) - inserted + duplicates_in_file
            conn.execute(
                batches.insert().values(
                    batch_id=batch_id,
                    file_name=file_name[:255],
                    source=source[:64],
                    format=fmt,
                    imported_at=_now(),
                    imported_by=actor,
                    rows_read=rows_read,
                    accepted=inserted,
                    duplicates=dup,
                    rejected=rejected,
                    off_network=off_network,
                )
            )
            self._audit(conn, "import", f"{file_name} ({source})", inserted, actor)
        return {"batch_id": batch_id, "accepted": inserted, "duplicates": dup, "rejected": rejected}

    def _insert_reports(self, conn: sa.Connection, frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        cols = REPORT_FIELDS
        occurred = pd.to_datetime(frame["occurred_at"]).dt.to_pydatetime()
        seg = frame["segment_id"].astype("Int64")
        values = {
            "report_id": frame["report_id"].astype(str).to_numpy(dtype=object),
            "occurred_at": np.asarray(occurred, dtype=object),
            "time_known": frame["time_known"].astype(bool).to_numpy(dtype=object),
            "category": frame["category"].astype(str).to_numpy(dtype=object),
            "source": frame["source"].astype(str).to_numpy(dtype=object),
            "lon": frame["lon"].astype(float).to_numpy(dtype=object),
            "lat": frame["lat"].astype(float).to_numpy(dtype=object),
            "segment_id": np.where(seg.isna(), None, seg.fillna(-1).astype(int)).astype(object),
            "location_hint": _nullable_strings(frame["location_hint"]),
            "lsoa_code": _nullable_strings(frame["lsoa_code"]),
            "batch_id": frame["batch_id"].astype(str).to_numpy(dtype=object),
        }
        if self.is_sqlite:
            # The DB-API path: executemany of plain tuples is several times faster than Core.
            values["occurred_at"] = _sqlite_datetimes(frame["occurred_at"])
            values["time_known"] = frame["time_known"].astype(int).to_numpy(dtype=object)
            # Inserting in key order keeps the primary-key B-tree appends local.
            order = np.argsort(values["report_id"].astype(str), kind="stable")
            rows = list(zip(*(values[c][order] for c in cols), strict=True))
            raw = conn.connection.driver_connection
            before = raw.total_changes
            placeholders = ", ".join("?" * len(cols))
            raw.executemany(
                f"INSERT OR IGNORE INTO reports ({', '.join(cols)}) VALUES ({placeholders})", rows
            )
            return raw.total_changes - before
        # Key order everywhere: concurrent imports of overlapping files then take row locks
        # in the same order and wait for each other instead of deadlocking.
        order = np.argsort(values["report_id"].astype(str), kind="stable")
        records = [
            dict(zip(cols, row, strict=True))
            for row in zip(*(values[c][order] for c in cols), strict=True)
        ]
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            # ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to commit,
            # then skips it; RETURNING lists only the rows this statement inserted.
            stmt = pg_insert(reports).on_conflict_do_nothing(index_elements=["report_id"])
            stmt = stmt.returning(reports.c.report_id)
            total = 0
            for start in range(0, len(records), 5000):
                total += len(conn.execute(stmt, records[start : start + 5000]).fetchall())
            return total
        existing = set(conn.execute(sa.select(reports.c.report_id)).scalars())
        fresh = [r for r in records if r["report_id"] not in existing]
        if fresh:
            conn.execute(reports.insert(), fresh)
        return len(fresh)

    def set_segments(self, report_ids: Sequence[str], segment_ids: Sequence[int | None]) -> int:
        """Record the street segment of stored reports (after a network is loaded).

        Parameters
        ----------
        report_ids
            Reports to update.
        segment_ids
            Their segments (``None`` or a negative number for off-network).

        Returns
        -------
        int
            Rows updated.
        """
        segs = [None if s is None or pd.isna(s) or int(s) < 0 else int(s) for s in segment_ids]
        params = [{"rid": r, "seg": s} for r, s in zip(report_ids, segs, strict=True)]
        if not params:
            return 0
        stmt = (
            reports.update()
            .where(reports.c.report_id == sa.bindparam("rid"))
            .values(segment_id=sa.bindparam("seg"))
        )
        with self.engine.begin() as conn:
            conn.execute(stmt, params)
        return len(params)

    def audit(self, action: str, what: str, *, n_rows: int = 0, actor: str | None = None) -> None:
        """Append an event to the audit log (never report content).

        Parameters
        ----------
        action
            One of ``import, export, purge, delete, view, plan, network, demo, role``.
        what
            A short description, e.g. the file name or the export type.
        n_rows
            How many rows the event touched.
        actor
            Who did it.
        """
        with self.engine.begin() as conn:
            self._audit(conn, action, what, n_rows, actor or current_user())

    @staticmethod
    def _audit(conn: sa.Connection, action: str, what: str, n_rows: int, actor: str) -> None:
        if action not in AUDIT_ACTIONS:
            msg = f"Unknown audit action {action!r}; use one of {', '.join(AUDIT_ACTIONS)}."
            raise ValueError(msg)
        conn.execute(
            audit.insert().values(
                at=_now(), actor=actor[:255], action=action, what=what[:500], n_rows=int(n_rows)
            )
        )

    def purge(
        self, *, older_than_months: int, now: datetime | None = None, actor: str | None = None
    ) -> dict[str, Any]:
        """Delete reports older than the retention period, and audit the deletion.

        Parameters
        ----------
        older_than_months
            Reports that occurred before ``now`` minus this many months are deleted.
        now
            The reference time (default: now).
        actor
            Who ran the purge.

        Returns
        -------
        dict
            ``{"purged": n, "cutoff": "YYYY-MM-DD"}``.
        """
        if older_than_months < 1:
            msg = "--older-than must be a whole number of months, at least 1."
            raise ValueError(msg)
        ref = pd.Timestamp(now or datetime.now()).normalize()
        cutoff = (ref - pd.DateOffset(months=int(older_than_months))).to_pydatetime()
        with self.engine.begin() as conn:
            res = conn.execute(reports.delete().where(reports.c.occurred_at < cutoff))
            n = int(res.rowcount or 0)
            self._audit(
                conn, "purge", f"reports before {cutoff:%Y-%m-%d}", n, actor or current_user()
            )
        if self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("VACUUM")
        return {"purged": n, "cutoff": f"{cutoff:%Y-%m-%d}"}

    def save_plan(self, plan_date: str, body: str, *, actor: str | None = None) -> str:
        """Store a patrol plan (JSON text) and audit its creation.

        Parameters
        ----------
        plan_date
            The plan's date, ``YYYY-MM-DD``.
        body
            The plan as JSON text.
        actor
            Who made it.

        Returns
        -------
        str
            The plan id.
        """
        plan_id = uuid.uuid4().hex[:16]
        with self.engine.begin() as conn:
            conn.execute(
                plans.insert().values(
                    plan_id=plan_id,
                    created_at=_now(),
                    created_by=actor or current_user(),
                    plan_date=plan_date,
                    body=body,
                )
            )
            self._audit(conn, "plan", f"patrol plan for {plan_date}", 1, actor or current_user())
        return plan_id

    # ----------------------------------------------------------------- reading

    def reports(
        self,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        categories: Iterable[str] | None = None,
        sources: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Read stored reports, optionally filtered by period, categories and sources.

        Parameters
        ----------
        start, end
            Keep reports with ``start <= occurred_at < end``.
        categories, sources
            Keep only these.

        Returns
        -------
        pandas.DataFrame
            The report table of DESIGN section 3.
        """
        q = sa.select(*[reports.c[c] for c in REPORT_FIELDS])
        if start is not None:
            q = q.where(reports.c.occurred_at >= pd.Timestamp(start).to_pydatetime())
        if end is not None:
            q = q.where(reports.c.occurred_at < pd.Timestamp(end).to_pydatetime())
        if categories is not None:
            q = q.where(reports.c.category.in_(list(categories)))
        if sources is not None:
            q = q.where(reports.c.source.in_(list(sources)))
        with self.engine.connect() as conn:
            rows = conn.execute(q).fetchall()
        frame = pd.DataFrame(rows, columns=REPORT_FIELDS)
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], format="ISO8601").astype(
            "datetime64[ns]"
        )
        frame["time_known"] = frame["time_known"].astype(bool)
        frame["segment_id"] = frame["segment_id"].astype("Int64")
        for col in ("report_id", "category", "source", "location_hint", "lsoa_code", "batch_id"):
            frame[col] = frame[col].astype("string")
        frame["lon"] = frame["lon"].astype("float64")
        frame["lat"] = frame["lat"].astype("float64")
        return frame

    def count_reports(self) -> int:
        """Return the number of stored reports."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(reports)).scalar_one())

    def batches(self) -> pd.DataFrame:
        """Return the import batches, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(batches).order_by(batches.c.imported_at.desc()))
            return pd.DataFrame(rows.fetchall(), columns=[c.name for c in batches.columns])

    def audit_log(self) -> pd.DataFrame:
        """Return the audit log, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(audit).order_by(audit.c.id))
            return pd.DataFrame(rows.fetchall(), columns=[c.name for c in audit.columns])

    def categories(self) -> list[str]:
        """Return the categories present in the store, sorted."""
        with self.engine.connect() as conn:
            q = sa.select(reports.c.category).distinct().order_by(reports.c.category)
            return list(conn.execute(q).scalars())

    def sources(self) -> list[str]:
        """Return the sources present in the store, sorted."""
        with self.engine.connect() as conn:
            q = sa.select(reports.c.source).distinct().order_by(reports.c.source)
            return list(conn.execute(q).scalars())

    def period(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """Return the earliest and latest report time, or ``None`` when the store is empty."""
        with self.engine.connect() as conn:
            lo, hi = conn.execute(
                sa.select(sa.func.min(reports.c.occurred_at), sa.func.max(reports.c.occurred_at))
            ).one()
        if lo is None:
            return None
        return pd.Timestamp(lo), pd.Timestamp(hi)

    def dispose(self) -> None:
        """Close the connection pool."""
        self.engine.dispose()


def safe_url(url: str) -> str:
    """Return ``url`` with any password hidden, for messages and pages.

    Parameters
    ----------
    url
        An SQLAlchemy URL.

    Returns
    -------
    str
    """
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _nullable_strings(series: pd.Series) -> np.ndarray:
    s = series.astype("string")
    return np.where(s.isna(), None, s.fillna("")).astype(object)


def _sqlite_datetimes(series: pd.Series) -> np.ndarray:
    """Format timestamps as SQLAlchemy's SQLite text (``YYYY-MM-DD HH:MM:SS.000000``), vectorised."""
    text = np.datetime_as_string(series.to_numpy(dtype="datetime64[s]"), unit="s").astype("S19")
    chars = text.view("S1").reshape(-1, 19)
    chars[:, 10] = b" "
    return np.char.add(text.astype("U19"), ".000000").astype(object)


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
