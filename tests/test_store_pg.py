"""Tests of the store's Alembic migrations on SQLite and PostgreSQL: upgrades keep every row."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from geo.store import MIGRATIONS_DIR, Store, metadata, migration_heads, normalise_url
from tests import test_store as base
from tests.test_store import _add, _reports

# The store tests' fixtures: a fresh SQLite file and a fresh PostgreSQL schema.
pg_url = base.pg_url
store_url = base.store_url
store = base.store
# The newest revision in migrations/versions (the test-only one goes on top of it).
HEAD = max(p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))

SECOND_REVISION = '''"""Test-only revision: a reviewed flag on reports, added by copying the table."""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add reports.reviewed (SQLite and PostgreSQL both rebuild the table)."""
    with op.batch_alter_table("reports", recreate="always") as batch:
        batch.add_column(sa.Column("reviewed", sa.Boolean, nullable=True))


def downgrade() -> None:
    """Drop reports.reviewed."""
    with op.batch_alter_table("reports", recreate="always") as batch:
        batch.drop_column("reviewed")
'''


def _fill(store: Store) -> None:
    _add(store, _reports(8))
    _add(store, _reports(5, day="2023-03-02"))
    store.save_plan("2024-01-06", '{"teams": []}')
    store.audit("export", "hotspots.csv", n_rows=4)


def _snapshot(store: Store) -> dict[str, pd.DataFrame]:
    reports = store.reports().sort_values("report_id", ignore_index=True)
    with store.engine.connect() as conn:
        plans = pd.read_sql(sa.text("SELECT * FROM plans ORDER BY plan_id"), conn)
    return {
        "reports": reports,
        "batches": store.batches().sort_values("batch_id", ignore_index=True),
        "audit": store.audit_log(),
        "plans": plans,
    }


def _assert_same(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name][frame.columns], obj=name)


def _version(store: Store) -> str:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()


def _config_with_second_revision(tmp_path: Path, conn: sa.Connection) -> Config:
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_reviewed.py").write_text(SECOND_REVISION.replace("{head}", HEAD))
    cfg = Config()
    cfg.set_main_option("script_location", str(scripts))
    cfg.attributes["connection"] = conn
    return cfg


def test_new_store_is_at_the_head_revision(store):
    assert _version(store) == migration_heads()[0] == HEAD
    Store(store.url).dispose()  # a second open finds the schema current
    assert _version(store) == HEAD


def test_upgrade_and_downgrade_of_a_later_revision_keep_every_row(store, tmp_path):
    _fill(store)
    before = _snapshot(store)
    with store.engine.connect() as conn:
        cfg = _config_with_second_revision(tmp_path, conn)
        command.upgrade(cfg, "head")
        conn.commit()
    assert _version(store) == "9999"
    with store.engine.connect() as conn:
        cols = {c["name"] for c in sa.inspect(conn).get_columns("reports")}
    assert "reviewed" in cols
    _assert_same(before, _snapshot(store))

    with store.engine.connect() as conn:
        cfg = _config_with_second_revision(tmp_path / "again", conn)
        command.downgrade(cfg, HEAD)
        command.upgrade(cfg, "head")
        command.downgrade(cfg, HEAD)
        conn.commit()
    assert _version(store) == HEAD
    _assert_same(before, _snapshot(store))
    # Still a working store afterwards: the audit log is still append-only.
    reopened = Store(store.url)
    assert reopened.count_reports() == len(before["reports"])
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), reopened.engine.begin() as c:
        c.exec_driver_sql("DELETE FROM audit")
    reopened.dispose()


def test_store_made_before_migrations_is_adopted_with_its_data(store_url):
    legacy = sa.create_engine(store_url)
    metadata.create_all(legacy)  # what Store did before Alembic
    frame = _reports(4)
    rows = frame.assign(batch_id="old").to_dict("records")
    with legacy.begin() as conn:
        conn.execute(metadata.tables["reports"].insert(), rows)
    legacy.dispose()
    store = Store(store_url)
    assert _version(store) == HEAD
    assert set(store.reports()["report_id"]) == set(frame["report_id"])
    store.audit("export", "x.csv")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as c:
        c.exec_driver_sql("UPDATE audit SET what = 'x'")
    store.dispose()


def test_database_from_a_newer_version_is_a_plain_error(store, tmp_path):
    with store.engine.connect() as conn:
        command.upgrade(_config_with_second_revision(tmp_path, conn), "head")
        conn.commit()
    with pytest.raises(ValueError, match="newer version of Beatplan"):
        Store(store.url)


def test_tables_of_other_modules_are_created(store_url):
    extra = sa.Table("extra_test_table", metadata, sa.Column("id", sa.Integer, primary_key=True))
    try:
        store = Store(store_url)
        with store.engine.connect() as conn:
            assert "extra_test_table" in sa.inspect(conn).get_table_names()
            assert "extra_test_table" not in {"batches", "reports", "audit", "plans"}
        store.dispose()
    finally:
        metadata.remove(extra)


def test_postgres_urls_use_psycopg():
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_unreachable_server_is_a_plain_error():
    with pytest.raises(ValueError, match="Cannot open the database") as info:
        Store("postgresql+psycopg://beatplan:secret@127.0.0.1:1/none?connect_timeout=3")
    assert "secret" not in str(info.value)


def test_upgrade_to_the_data_version_revision_keeps_every_row(store):
    _fill(store)
    with store.engine.connect() as conn:
        command.downgrade(base_config(conn), "0003")
        conn.commit()
    before = _snapshot_tables(store)
    with store.engine.connect() as conn:
        assert "store_state" not in sa.inspect(conn).get_table_names()
        command.upgrade(base_config(conn), "head")
        conn.commit()
    assert _version(store) == HEAD
    _assert_same(before, _snapshot_tables(store))
    assert store.data_version() == 1
    _add(store, _reports(3, day="2024-05-01"))
    assert store.data_version() == 2


def base_config(conn: sa.Connection) -> Config:
    """The store's own migrations, run on ``conn``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


def _snapshot_tables(store: Store) -> dict[str, pd.DataFrame]:
    """Every row of the reports, batches, audit and plans tables, read without the store."""
    out = {}
    with store.engine.connect() as conn:
        for table, key in (("reports", "report_id"), ("batches", "batch_id"), ("plans", "plan_id")):
            out[table] = pd.read_sql(sa.text(f"SELECT * FROM {table} ORDER BY {key}"), conn)
        out["audit"] = pd.read_sql(sa.text("SELECT * FROM audit ORDER BY id"), conn)
    return out
