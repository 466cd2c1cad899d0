"""Tests of the report store on SQLite and PostgreSQL: inserts, filters, purge, audit, concurrency."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from geo.reports import read_reports
from geo.store import Store

PG_ENV = "BEATPLAN_TEST_PG_URL"


def pg_server_url() -> str:
    """Return the test PostgreSQL server's URL; fail in CI and skip elsewhere when there is none."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set in CI: .ci/run starts PostgreSQL through make test")
        pytest.skip(f"no PostgreSQL server: set {PG_ENV} (bash scripts/postgres.sh prints one)")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL on the test server whose search path is a fresh schema, dropped afterwards."""
    server = pg_server_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.engine.make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL, once for an SQLite file and once for the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A fresh store on each backend (overrides the SQLite-only fixture of conftest)."""
    s = Store(store_url)
    yield s
    s.dispose()


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
    assert out["purged"] == 3 and out["cutoff"] == "2023-11-01"
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


def _day_frame(day: int) -> pd.DataFrame:
    return _reports(200, day=f"2024-02-{day:02d}")


def _supervisor(url: str, worker: int) -> None:
    """One supervisor: open the store, import two overlapping files, save a plan."""
    s = Store(url)
    _add(s, _day_frame(1 + worker % 3))
    _add(s, pd.concat([_day_frame(1 + (worker + 1) % 3), _day_frame(4)], ignore_index=True))
    s.save_plan("2024-02-05", f'{{"worker": {worker}}}')
    s.dispose()


def _process_supervisor(url: str, worker: int, ready: Any, go: Any) -> None:
    """A supervisor in another process: say it is ready, wait for the start, then work."""
    ready.put(worker)
    if not go.wait(timeout=300):
        msg = "the start signal never came"
        raise RuntimeError(msg)
    _supervisor(url, worker)


def test_concurrent_imports_store_each_row_once(store_url):
    """Four threads and two processes import overlapping files into a new store at once."""
    n_threads, n_procs = 4, 2
    ctx = mp.get_context("spawn")
    ready, go = ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=_process_supervisor, args=(store_url, n_threads + i, ready, go))
        for i in range(n_procs)
    ]
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            go.wait(timeout=300)
            _supervisor(store_url, worker)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for p in procs:
        p.start()
    for t in threads:
        t.start()
    for _ in procs:  # spawned interpreters take a while to import everything
        ready.get(timeout=300)
    go.set()  # everyone opens the new store at the same moment
    for t in threads:
        t.join(timeout=300)
    for p in procs:
        p.join(timeout=300)
    assert not errors, errors
    assert [p.exitcode for p in procs] == [0] * n_procs

    expected = set().union(*(set(_day_frame(d)["report_id"]) for d in (1, 2, 3, 4)))
    s = Store(store_url)
    stored = s.reports()
    assert len(stored) == len(expected) == 800
    assert set(stored["report_id"]) == expected and stored["report_id"].is_unique
    b = s.batches()
    workers = n_threads + n_procs
    assert len(b) == 2 * workers
    assert b["accepted"].sum() == len(expected)
    assert (b["accepted"] + b["duplicates"]).sum() == workers * (200 + 400)
    log = s.audit_log()
    assert (log["action"] == "import").sum() == 2 * workers
    assert log.loc[log["action"] == "import", "n_rows"].sum() == len(expected)
    assert (log["action"] == "plan").sum() == workers
    with s.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM plans")).scalar_one() == workers
    s.dispose()


def test_bad_url_is_a_plain_error():
    with pytest.raises(ValueError, match="Cannot open the database"):
        Store("nosuchdialect://x")


# ------------------------------------------------------------------ the audit table's guard


def _guarded(store: Store) -> None:
    """The audit log refuses UPDATE and DELETE."""
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit SET what = 'x'")


def _drop_audit(store: Store) -> None:
    with store.engine.begin() as conn:
        if store.is_sqlite:
            conn.exec_driver_sql("DROP TABLE audit")
        else:
            conn.exec_driver_sql("DROP TABLE audit CASCADE")


def test_a_dropped_audit_table_comes_back_guarded_and_says_so(store):
    store.audit("export", "hotspots.csv", n_rows=10)
    _drop_audit(store)
    reopened = Store(store.url)
    log = reopened.audit_log()
    assert list(log["action"]) == ["delete"]
    assert (
        "audit log missing" in log["what"].iloc[0]
        and "earlier events are lost" in log["what"].iloc[0]
    )
    _guarded(reopened)
    reopened.dispose()


def test_a_dropped_trigger_is_restored(store):
    with store.engine.begin() as conn:
        if store.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER audit_no_delete")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_no_change ON audit")
    reopened = Store(store.url)
    _guarded(reopened)
    assert "lost its append-only guard" in reopened.audit_log()["what"].iloc[-1]
    reopened.dispose()


def test_no_downgrade_drops_the_audit_table(store):
    from alembic import command

    from geo.store import alembic_config

    store.audit("export", "hotspots.csv", n_rows=10)
    with store.engine.connect() as conn:
        command.downgrade(alembic_config(conn), "base")
        conn.commit()
        tables = set(sa.inspect(conn).get_table_names())
    assert "audit" in tables and "reports" not in tables
    assert list(store.audit_log()["what"]) == ["hotspots.csv"]
    _guarded(store)
    reopened = Store(store.url)  # upgrades again and keeps the events
    assert list(reopened.audit_log()["what"]) == ["hotspots.csv"]
    reopened.dispose()


def test_the_local_actor_is_the_os_account_and_host_not_an_env_var(store, monkeypatch):
    import getpass
    import socket

    monkeypatch.setenv("BEATPLAN_USER", "someone-else")
    store.audit("export", "hotspots.csv", n_rows=1)
    actor = store.audit_log()["actor"].iloc[-1]
    assert actor == f"{getpass.getuser()}@{socket.gethostname()}"
    assert "someone-else" not in actor


def _index_names(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return {ix["name"] for ix in sa.inspect(conn).get_indexes("reports")}


def test_bulk_load_into_an_empty_store_rebuilds_its_indexes(store, monkeypatch):
    import geo.store_bulk

    before = _index_names(store)
    assert {"ix_reports_area_occurred", "ix_reports_batch_id"} <= before
    monkeypatch.setattr(geo.store_bulk, "BULK_MIN_ROWS", 4)  # take the bulk path with 12 rows
    frame = _reports(12)
    repeated = pd.concat([frame, frame.iloc[:3]], ignore_index=True)  # 3 keys twice
    out = _add(store, repeated)
    assert (out["accepted"], out["duplicates"]) == (12, 3)
    assert _index_names(store) == before
    again = _add(store, pd.concat([frame.iloc[6:], _reports(4, day="2024-03-01")]))
    assert (again["accepted"], again["duplicates"]) == (4, 6)
    back = store.reports()
    assert back["report_id"].is_unique and len(back) == 16


def test_hostile_text_round_trips_exactly(store):
    frame = _reports(6)
    hints = ["tab\there", "line\nbreak\r\n", 'quote " and \\ backslash', "\\N", "", None]
    frame["location_hint"] = pd.array(hints, dtype="string")
    frame["lsoa_code"] = pd.array(["E01012345", None, ",;|", "'", "\\.", "x"], dtype="string")
    _add(store, frame)
    back = store.reports().set_index("report_id").loc[frame["report_id"]]
    for col in ("location_hint", "lsoa_code"):
        expected = frame[col].to_numpy(dtype=object, na_value=None).tolist()
        assert back[col].to_numpy(dtype=object, na_value=None).tolist() == expected


def test_reports_reads_only_the_columns_asked_for(store):
    frame = _reports(6)
    _add(store, frame)
    back = store.reports(columns=["occurred_at", "category", "segment_id", "lon"])
    assert list(back.columns) == ["occurred_at", "category", "segment_id", "lon"]
    assert back["occurred_at"].dtype == "datetime64[ns]"
    assert back["segment_id"].dtype == "Int64" and back["lon"].dtype == "float64"
    assert back["category"].dtype == "string"
    assert sorted(back["occurred_at"]) == sorted(frame["occurred_at"])
    part = store.reports(
        columns=["category"], categories=["asb"], start="2024-01-05 21:00", end="2024-01-06"
    )
    assert list(part["category"]) == ["asb"] * len(part) and len(part) == 3
    empty = store.reports(columns=["occurred_at", "time_known"], sources=["police"])
    assert empty.empty and empty["occurred_at"].dtype == "datetime64[ns]"
    assert empty["time_known"].dtype == bool
    with pytest.raises(ValueError, match="Unknown report columns"):
        store.reports(columns=["lat; DROP TABLE reports"])


def test_reports_read_in_chunks_equal_one_read(store, monkeypatch):
    import geo.store_bulk

    _add(store, _reports(7))
    whole = store.reports().sort_values("report_id", ignore_index=True)
    monkeypatch.setattr(geo.store_bulk, "CHUNK_ROWS", 2)
    chunked = store.reports().sort_values("report_id", ignore_index=True)
    pd.testing.assert_frame_equal(whole, chunked)
    assert len(chunked) == 7


def test_data_version_changes_with_the_reports_only(store):
    v0 = store.data_version()
    frame = _reports(4)
    _add(store, frame)
    v1 = store.data_version()
    assert v1 == v0 + 1
    _add(store, frame)  # nothing new
    store.audit("export", "hotspots.csv", n_rows=4)
    store.save_plan("2024-01-06", "{}")
    assert store.data_version() == v1
    store.set_segments(list(frame["report_id"]), [3, 4, -1, None])
    assert store.data_version() == v1 + 1
    store.purge(older_than_months=1, now=datetime(2030, 1, 1))
    assert store.data_version() == v1 + 2


def test_sqlite_datetime_text_equals_the_stored_format_over_the_calendar():
    """The digit-by-digit date text equals numpy's for leap days, 1900, 2000, BC-free years."""
    import numpy as np

    from geo.store_bulk import _sqlite_datetimes

    rng = np.random.default_rng(3)
    edges = ["1900-02-28T23:59:59", "1900-03-01", "2000-02-29T12:00:00", "1970-01-01", "0001-01-01"]
    secs = np.concatenate(
        [
            np.array(edges, dtype="datetime64[s]").view("int64"),
            rng.integers(-62_135_596_800, 253_402_300_799, 20_000),
            np.array(["2024-03-31T00:59:59", "9999-12-31T23:59:59"], dtype="datetime64[s]").view(
                "int64"
            ),
        ]
    )
    stamps = pd.Series(secs.astype("datetime64[s]"))
    want = [
        t.replace("T", " ") + ".000000"
        for t in np.datetime_as_string(stamps.to_numpy(dtype="datetime64[s]"), unit="s")
    ]
    assert _sqlite_datetimes(stamps).tolist() == want


def test_text_columns_become_python_strings_with_none_for_missing():
    from geo.store_bulk import _texts

    few = pd.Series(["asb", None, "drugs", "asb", "é 🚀"] * 40, dtype="string[pyarrow]")
    assert _texts(few) == ["asb", None, "drugs", "asb", "é 🚀"] * 40
    many = pd.Series([f"r{i}" for i in range(50)] + [None], dtype="string")
    assert _texts(many) == [f"r{i}" for i in range(50)] + [None]
    assert _texts(pd.Series([], dtype="string[pyarrow]")) == []


def test_key_order_is_the_stable_text_order_of_the_ids():
    import numpy as np

    from geo.store_bulk import key_order

    rng = np.random.default_rng(2)
    hexes = [f"{a:016x}{b:016x}" for a, b in rng.integers(0, 2**63, (500, 2), dtype=np.int64)]
    hexes += hexes[:50]  # repeated keys keep their order in the frame
    for ids in (hexes, [*hexes[:20], "not-hex", "Z", ""]):
        want = sorted(range(len(ids)), key=lambda i: (ids[i], i))
        got = key_order(pd.Series(ids, dtype="string[pyarrow]"))
        assert got.tolist() == want
