"""Tests that report ids and repeats come out the same however they are computed (slices, words)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import geo.reports_ids as ids
from geo.reports import read_reports


def _csv(refs: list[str]) -> bytes:
    rows = "".join(
        f"{r},0{1 + i % 9}/01/2024 10:00,ASB,53.7{i:03d},-0.3{i:03d}\n" for i, r in enumerate(refs)
    )
    return ("Reference,Date,Incident type,Latitude,Longitude\n" + rows).encode()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["R1", "R2", "R3", "", "ü-7", "x y"]), min_size=1, max_size=30))
def test_ids_hashed_in_slices_equal_ids_hashed_whole(refs):
    data = _csv(refs)
    whole = read_reports(data, file_name="x.csv", source="council")
    old = ids._HASH_SLICE
    ids._HASH_SLICE = 4  # many slices
    try:
        sliced = read_reports(data, file_name="x.csv", source="council")
    finally:
        ids._HASH_SLICE = old
    pd.testing.assert_frame_equal(sliced.reports, whole.reports)
    assert sliced.duplicates_in_file == whole.duplicates_in_file


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=40))
def test_repeats_on_words_equal_repeats_on_text(picks):
    pool = ids._hex128(np.arange(7, dtype=np.uint64) * 977, np.arange(7, dtype=np.uint64) ** 5)
    rid = pd.Series(pd.array([pool[i] for i in picks], dtype="string[pyarrow]"))
    assert (ids._repeated(rid) == rid.duplicated(keep="first").to_numpy()).all()
    words = ids.id_words(rid.array)
    assert words is not None
    order = np.lexsort((words[:, 1], words[:, 0]))
    assert list(rid.iloc[order]) == sorted(rid)


def test_ids_that_are_not_hex_have_no_words():
    assert ids.id_words(pd.array(["x" * 32], dtype="string[pyarrow]")) is None
    assert ids.id_words(pd.array(["ab", None], dtype="string[pyarrow]")) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=0, max_size=50))
def test_sorted_ordinals_and_repeats_equal_pandas(pairs):
    hi = np.asarray([p[0] for p in pairs], dtype=np.uint64)
    lo = np.asarray([p[1] for p in pairs], dtype=np.uint64)
    keys = pd.DataFrame({"hi": hi, "lo": lo})
    expected = keys.groupby(["hi", "lo"], sort=False).cumcount().to_numpy()
    assert (ids._ordinals(hi, lo) == expected).all()
    assert (ids.repeated_words(hi, lo) == keys.duplicated(keep="first").to_numpy()).all()


def test_words_of_many_slices_equal_words_of_one():
    rid = pd.Series(
        ids._hex128(np.arange(11, dtype=np.uint64) * 7919, np.arange(11, dtype=np.uint64))
    )
    whole = ids.id_words(rid.array)
    old = ids._HASH_SLICE
    ids._HASH_SLICE = 3
    try:
        sliced = ids.id_words(rid.array)
    finally:
        ids._HASH_SLICE = old
    assert whole is not None and sliced is not None
    assert (whole == sliced).all()
