"""Tests that an import read in small slices gives exactly what one whole pass gives."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import geo.reports_dates as dates
import geo.reports_ids as ids
from geo.reports import read_reports

_DATES = ["03/01/2024 10:00", "03/01/2024 10:00", "31/02/2024", "", "15/13/2024", "1/2/24"]
_COORDS = [("53.75", "-0.33"), ("53.75", "-0.33"), ("-0.33", "53.75"), ("abc", "1"), ("", "")]
_ROW = st.tuples(
    st.sampled_from(["", "R1", "R2", "R3"]),
    st.sampled_from(_DATES),
    st.sampled_from(["ASB", "Drugs", ""]),
    st.sampled_from(_COORDS),
)


def _csv(rows: list[tuple[str, str, str, tuple[str, str]]], *, with_ref: bool) -> bytes:
    head = ("Reference," if with_ref else "") + "Date,Incident type,Latitude,Longitude\n"
    body = "".join(
        (f"{ref}," if with_ref else "") + f"{day},{cat},{lat},{lon}\n"
        for ref, day, cat, (lat, lon) in rows
    )
    return (head + body).encode()


def _read_sliced(data: bytes, rows: int):
    old = ids._HASH_SLICE, dates._SLICE_ROWS
    ids._HASH_SLICE = dates._SLICE_ROWS = rows
    try:
        return read_reports(data, file_name="x.csv", source="council")
    finally:
        ids._HASH_SLICE, dates._SLICE_ROWS = old


@settings(max_examples=40, deadline=None)
@given(st.lists(_ROW, min_size=1, max_size=40), st.booleans(), st.integers(1, 5))
def test_small_slices_give_the_same_reports_rejects_and_repeats(rows, with_ref, size):
    data = _csv(rows, with_ref=with_ref)
    try:
        whole = read_reports(data, file_name="x.csv", source="council")
    except ValueError as exc:  # a whole-file refusal (e.g. mixed dates) must stay one
        try:
            _read_sliced(data, size)
        except ValueError as sliced_exc:
            assert str(sliced_exc) == str(exc)
            return
        raise AssertionError("sliced read did not refuse the file") from exc
    sliced = _read_sliced(data, size)
    pd.testing.assert_frame_equal(sliced.reports, whole.reports)
    pd.testing.assert_frame_equal(sliced.rejected, whole.rejected)
    assert sliced.duplicates_in_file == whole.duplicates_in_file
    assert sliced.notes == whole.notes
    assert len(whole.reports) + len(whole.rejected) + whole.duplicates_in_file == len(rows)


def _imported(tmp_path, name: str, data: bytes):
    from geo.ingest import import_file
    from geo.store import Store

    store = Store(f"sqlite:///{tmp_path / name}")
    summary = import_file(data, store=store, file_name="x.csv", rejects_dir=tmp_path / name[:-3])
    return store, summary


def _partner_csv(n: int) -> bytes:
    rows = "".join(
        f"0{1 + i % 9}/01/2024 1{i % 10}:00,{'ASB' if i % 3 else 'Drugs'},53.7{i % 7}{i},-0.3{i}\n"
        for i in range(n)
    )
    repeats = "".join(rows.splitlines(keepends=True)[:5])  # identical rows get ordinals
    return ("Date,Incident type,Latitude,Longitude\n" + rows + repeats).encode()


def test_store_in_small_chunks_equals_one_chunk(tmp_path, monkeypatch):
    import geo.store_bulk as bulk
    from geo.ingest import import_file

    data = _partner_csv(60)
    one, one_summary = _imported(tmp_path, "one.db", data)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 7)  # many chunks
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 5)
    many, many_summary = _imported(tmp_path, "many.db", data)
    cols = ["report_id", "occurred_at", "category", "source", "lon", "lat", "location_hint"]
    a = one.reports(columns=cols).sort_values("report_id", ignore_index=True)
    b = many.reports(columns=cols).sort_values("report_id", ignore_index=True)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == one_summary.accepted == many_summary.accepted == 65
    again = import_file(data, store=many, file_name="x.csv", rejects_dir=tmp_path)
    assert (again.accepted, again.duplicates) == (0, 65)


def test_a_failure_while_storing_leaves_the_store_unchanged(tmp_path, monkeypatch):
    import pytest

    import geo.store_bulk as bulk

    store, first = _imported(tmp_path, "s.db", _partner_csv(10))
    before = (len(store.reports()), len(store.batches()))
    calls = {"n": 0}
    real = bulk._statements

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # the third chunk
            msg = "disk full"
            raise OSError(msg)
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "CHUNK_ROWS", 5)
    monkeypatch.setattr(bulk, "_statements", failing)
    from geo.ingest import import_file

    with pytest.raises(OSError, match="disk full"):
        import_file(_partner_csv(40), store=store, file_name="y.csv", rejects_dir=tmp_path)
    assert calls["n"] == 3
    assert (len(store.reports()), len(store.batches())) == before == (first.accepted, 1)
