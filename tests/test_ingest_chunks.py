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
