"""Tests of the report store: batches, idempotent inserts, filters, purge and the audit log."""

from __future__ import annotations

import threading
from datetime import datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from geo.reports import read_reports
from geo.store import Store


def _reports(n: int = 5, *, day: str = "2024-01-05") -> pd.DataFrame:
    text = "date,time,category,lat,lon\n" + "".join(
        f"{day},2{i % 4}:00,{'asb' if i % 2 else 'needles'},53.74{i},-0.35{i}\n" for i in range(n)
    )
    return read_reports(text.encode(), file_name="x.csv", source="council").reports


def _add(store: Store, frame: pd.DataFrame) -> dict:
    return store.add_batch(
        frame, file_name="x.csv", source="council", fmt="csv", rows_read=len(frame), rejected=0
    )


def test_add_is_idempotent(store):
    frame = _reports(5)
    first = _add(store, frame)
    second = _add(store, frame)
    assert (first["accepted"], first["duplicates"]) == (5, 0)
    assert (second["accepted"], second["duplicates"]) == (0, 5)
    assert store.count_reports() == 5
    assert len(store.batches()) == 2


def test_roundtrip_types_and_filters(store):
    frame = _reports(6)
    _add(store, frame)
    back = store.reports()
    assert set(back["report_id"]) == set(frame["report_id"])
    merged = frame.merge(back, on="report_id", suffixes=("", "_db"))
    assert (merged["occurred_at"] == merged["occurred_at_db"]).all()
    assert (merged["lat"] - merged["lat_db"]).abs().max() < 1e-9
    assert back["segment_id"].dtype == "Int64" and back["segment_id"].isna().all()
    assert len(store.reports(categories=["asb"])) == 3
    assert len(store.reports(start="2024-01-05 21:00", end="2024-01-05 23:00")) == 3
    assert store.reports(sources=["police"]).empty
    assert store.categories() == ["asb", "needles"]


def test_purge_deletes_old_reports_and_is_audited(store):
    _add(store, _reports(3, day="2020-01-01"))
    _add(store, _reports(4, day="2024-06-01"))
    out = store.purge(older_than_months=13, now=datetime(2024, 12, 1))
    assert out == {"purged": 3, "cutoff": "2023-11-01"}
    assert store.count_reports() == 4
    log = store.audit_log()
    assert list(log["action"]) == ["import", "import", "purge"]
    assert log["n_rows"].iloc[-1] == 3


def test_audit_log_is_append_only(store):
    store.audit("export", "hotspots.csv", n_rows=10)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit SET what = 'x'")
    assert len(store.audit_log()) == 1


def test_unknown_audit_action_is_refused(store):
    with pytest.raises(ValueError, match="Unknown audit action"):
        store.audit("peek", "x")


def test_set_segments(store):
    frame = _reports(3)
    _add(store, frame)
    ids = list(frame["report_id"])
    assert store.set_segments(ids, [7, -1, None]) == 3
    back = store.reports().set_index("report_id").loc[ids, "segment_id"]
    assert back.iloc[0] == 7 and back.iloc[1:].isna().all()


def test_concurrent_imports_store_each_row_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    frames = [_reports(200, day=f"2024-02-{d:02d}") for d in (1, 2, 3)]
    errors: list[BaseException] = []

    def work(frame: pd.DataFrame) -> None:
        try:
            s = Store(url)
            _add(s, frame)
            _add(s, frame)
            s.dispose()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f,)) for f in frames + frames]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    s = Store(url)
    assert s.count_reports() == 600
    b = s.batches()
    assert b["accepted"].sum() == 600 and (b["accepted"] + b["duplicates"]).sum() == 600 * 4


def test_bad_url_is_a_plain_error():
    with pytest.raises(ValueError, match="Cannot open the database"):
        Store("nosuchdialect://x")
