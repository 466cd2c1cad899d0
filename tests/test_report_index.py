"""The in-memory report index gives exactly the rows the store's SQL filters give."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.report_index import ReportIndex
from geo.reports import read_reports
from geo.store import Store

COLUMNS = ["occurred_at", "category", "source", "lon", "lat", "report_id", "time_known"]
CATEGORIES = ("asb", "needles", "soliciting", "kerb_crawling")
SOURCES = ("council", "police", "outreach")
FIRST_DAY = date(2024, 1, 1)


def _frame(source: str, k: int) -> pd.DataFrame:
    """Reports of one source spread over 40 days, some on midnight exactly, some untimed."""
    lines = []
    for i in range(60):
        day = FIRST_DAY + timedelta(days=(i * 7 + k) % 40)
        time = "" if i % 9 == 0 else ("00:00" if i % 5 == 0 else f"{(i * 5) % 24:02d}:{i % 60:02d}")
        cat = CATEGORIES[(i + k) % len(CATEGORIES)]
        lines.append(f"{day:%Y-%m-%d},{time},{cat},53.7{i:02d}{k},-0.3{i:02d}{k}\n")
    text = "date,time,category,lat,lon\n" + "".join(lines)
    return read_reports(text.encode(), file_name=f"{source}.csv", source=source).reports


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Store:
    """A store with 180 reports of three sources, four categories and 40 days."""
    path = tmp_path_factory.mktemp("index") / "index.db"
    store = Store(f"sqlite:///{path}")
    for k, source in enumerate(SOURCES):
        frame = _frame(source, k)
        store.add_batch(
            frame, file_name="x.csv", source=source, fmt="csv", rows_read=len(frame), rejected=0
        )
    yield store
    store.dispose()


def _same(sql: pd.DataFrame, mine: pd.DataFrame) -> None:
    """Equal rows, columns and dtypes (the index keeps time order, SQL none: compare by id)."""
    assert list(mine.columns) == list(sql.columns)
    a = sql.sort_values("report_id").reset_index(drop=True)
    b = mine.sort_values("report_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.none() | st.integers(-3, 45),
    span=st.none() | st.integers(-2, 45),
    cats=st.none() | st.lists(st.sampled_from((*CATEGORIES, "absent")), unique=True),
    srcs=st.none() | st.lists(st.sampled_from((*SOURCES, "cctv")), unique=True),
)
def test_select_gives_the_rows_of_the_sql_filters(filled, start, span, cats, srcs):
    index = ReportIndex.build(filled.reports(columns=COLUMNS))
    lo = None if start is None else FIRST_DAY + timedelta(days=start)
    hi = None if span is None else (lo or FIRST_DAY) + timedelta(days=span)
    sql = filled.reports(start=lo, end=hi, categories=cats, sources=srcs, columns=COLUMNS)
    mine = index.select(start=lo, end=hi, categories=cats, sources=srcs)
    _same(sql, mine)
    assert mine["occurred_at"].is_monotonic_increasing


def test_select_asks_columns_in_order_and_returns_new_frames(filled):
    index = ReportIndex.build(filled.reports(columns=COLUMNS))
    assert len(index) == 180
    part = index.select(categories=["asb"], columns=["lat", "category"])
    assert list(part.columns) == ["lat", "category"] and set(part["category"]) == {"asb"}
    part.loc[0, "lat"] = 0.0  # a caller changing its frame leaves the index as it was
    assert (index.frame["lat"] > 53).all()
    assert index.select(categories=[]).empty and index.select(sources=[]).empty
    with pytest.raises(ValueError, match="not held"):
        index.select(columns=["segment_id"])


def test_build_needs_time_category_and_source():
    with pytest.raises(ValueError, match="occurred_at"):
        ReportIndex.build(pd.DataFrame({"category": ["asb"], "source": ["police"]}))
