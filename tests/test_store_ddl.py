"""The migrations' view of a store (geo.store_ddl): online answers, and offline SQL that writes every table."""

from __future__ import annotations

import contextlib
import io

import pytest
import sqlalchemy as sa
from alembic import command

from geo import store_ddl
from geo.store import Store
from geo.store_engine import alembic_config

# The tables migrations 0001-0006 create (others, e.g. patrol_logs, come from create_all).
MIGRATED = [
    "batches",
    "reports",
    "audit",
    "plans",
    "published_releases",
    "published_figures",
    "roles",
    "role_seeds",
    "store_state",
    "areas",
    "store_meta",
    "problems",
    "problem_responses",
]


def test_offline_sql_creates_every_migrated_table_once(tmp_path, monkeypatch):
    monkeypatch.setenv("BEATPLAN_DB", str(tmp_path / "never.db"))
    cfg = alembic_config()
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{tmp_path / 'never.db'}")
    out = io.StringIO()
    cfg.stdout = out
    with contextlib.redirect_stdout(out):
        command.upgrade(cfg, "head", sql=True)
    sql = out.getvalue()
    for table in MIGRATED:
        assert sql.count(f"CREATE TABLE {table} ") == 1, table
    assert "CREATE TABLE patrol_logs" not in sql
    assert "CREATE UNIQUE INDEX ix_roles_account ON roles (issuer, subject)" in sql
    assert "ix_reports_area_occurred" in sql
    assert not (tmp_path / "never.db").exists()  # offline writes SQL, touches no store


def test_online_answers_name_what_the_store_has(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        with Operations.context(ctx):
            assert {"reports", "batches", "areas"} <= store_ddl.tables()
            assert "area_id" in store_ddl.columns("reports")
            assert "ix_reports_area_occurred" in store_ddl.indexes("reports")
            assert not store_ddl.is_offline()
            with pytest.raises(sa.exc.NoSuchTableError):
                store_ddl.columns("no_such_table")
