"""Tests of migration 0007 (report indexes): upgrading a store with reports, and head = metadata."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from geo.reports import read_reports
from geo.store import Store, alembic_config
from geo.store_bulk import read_reports as read_stored
from geo.store_tables import metadata


def _frame(n: int) -> pd.DataFrame:
    text = "date,time,category,lat,lon\n" + "".join(
        f"2024-01-0{1 + i % 9},1{i % 10}:00,asb,53.7{i:03d},-0.3{i:03d}\n" for i in range(n)
    )
    return read_reports(text.encode(), file_name="x.csv", source="council").reports


def _upgrade(url: str, revision: str) -> None:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), revision)
        conn.commit()
    engine.dispose()


def test_a_store_with_reports_at_0006_keeps_every_report_and_id_at_0007(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _upgrade(url, "0006")
    frame = _frame(40)
    rows = [
        {
            "report_id": str(r.report_id),
            "occurred_at": r.occurred_at.to_pydatetime(),
            "time_known": bool(r.time_known),
            "category": str(r.category),
            "source": str(r.source),
            "lon": float(r.lon),
            "lat": float(r.lat),
            "batch_id": "b1",
            "area_id": None,
        }
        for r in frame.itertuples()
    ]
    engine = sa.create_engine(url)
    table = sa.Table("reports", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
        before = {ix["name"] for ix in sa.inspect(conn).get_indexes("reports")}
    engine.dispose()
    assert {"ix_reports_occurred_at", "ix_reports_area_id"} <= before

    store = Store(url)  # opening migrates to head
    with store.engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
        after = {ix["name"] for ix in sa.inspect(conn).get_indexes("reports")}
        ids = set(conn.execute(sa.text("SELECT report_id FROM reports")).scalars())
    with store.engine.connect() as conn:
        back = read_stored(conn, all_areas=True)
    store.dispose()
    assert "0007" in heads
    assert after == {"ix_reports_area_occurred", "ix_reports_batch_id"}
    assert ids == set(frame["report_id"]) and len(back) == 40
    got = back.set_index("report_id").loc[frame["report_id"]]
    assert (got["occurred_at"].to_numpy() == frame["occurred_at"].to_numpy()).all()
    assert (got["lon"].to_numpy() == frame["lon"].to_numpy()).all()


_OWN = {"reports", "batches", "store_state", "store_meta", "areas"}


def _table_of(diff: tuple | list) -> str:
    """The table a schema difference of ``compare_metadata`` is about."""
    if isinstance(diff, list):  # modify_* differences come grouped per column
        return _table_of(diff[0])
    kind, item = diff[0], diff[1]
    if kind.endswith("_table"):
        return item.name
    if kind.endswith(("_index", "_constraint")):
        return item.table.name
    return str(diff[2])  # (kind, schema, table, column, ...)


def test_migrating_an_empty_store_to_head_gives_the_metadata_schema(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    _upgrade(url, "head")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, metadata) if _table_of(d) in _OWN]
    engine.dispose()
    assert diffs == []


def test_downgrade_to_0006_brings_back_the_old_indexes(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'down.db'}"
    _upgrade(url, "head")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0006")
        conn.commit()
        names = {ix["name"] for ix in sa.inspect(conn).get_indexes("reports")}
    engine.dispose()
    assert names == {"ix_reports_occurred_at", "ix_reports_area_id", "ix_reports_batch_id"}
