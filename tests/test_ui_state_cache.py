"""The pages' caches: sidebar facts and reports are read once per data version, then reused."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.store import Store
from tests.test_store import _add, _reports


@pytest.fixture
def state(tmp_path, monkeypatch):
    """ui.state on a fresh SQLite store with empty caches."""
    import streamlit as st

    url = f"sqlite:///{tmp_path / 'ui.db'}"
    monkeypatch.setenv("BEATPLAN_DB", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    from ui import state as ui_state

    yield ui_state, url
    st.cache_data.clear()
    st.cache_resource.clear()


def _count_calls(monkeypatch, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(Store, name)

    def spy(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, name, spy)
    return calls


def test_sidebar_facts_are_read_once_per_data_version(state, monkeypatch):
    ui_state, url = state
    store = ui_state.get_store()
    _add(store, _reports(4))
    calls = _count_calls(monkeypatch, "categories")
    v1 = ui_state.data_version(store)
    first = ui_state.sidebar_facts(url, v1)
    again = ui_state.sidebar_facts(url, ui_state.data_version(store))
    assert first == again and first[1] == ["asb", "needles"] and len(calls) == 1
    _add(store, _reports(3, day="2024-02-01"))  # new reports: a new version, read again
    v2 = ui_state.data_version(store)
    assert v2 != v1
    period, _cats, _srcs = ui_state.sidebar_facts(url, v2)
    assert len(calls) == 2 and period[1] == pd.Timestamp("2024-02-01 22:00")


def test_selected_reports_read_only_the_asked_columns_once(state, monkeypatch):
    ui_state, url = state
    store = ui_state.get_store()
    _add(store, _reports(6))
    calls = _count_calls(monkeypatch, "reports")
    sel = ui_state.Selection(None, None, ("asb",), ("council",))
    version = ui_state.data_version(store)
    cols = ui_state.HOTSPOT_COLUMNS
    first = ui_state.selected_reports(url, version, sel, cols)
    second = ui_state.selected_reports(url, version, sel, cols)
    assert list(first.columns) == list(cols) and len(first) == 3
    pd.testing.assert_frame_equal(first, second)
    assert len(calls) == 1
    ui_state.selected_reports(url, version, sel)  # all columns: another entry
    assert len(calls) == 2
