"""The Hotspots page's caches never show stale results: new data and new choices show at once."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo.areas import area_settings, list_areas
from geo.ingest import import_file
from geo.settings import load_settings
from geo.streets import StreetNetwork
from geo.workspace import compute_hotspots, network_path
from tests.conftest import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")
COLUMNS = ["occurred_at", "time_known", "category", "source", "lon", "lat", "segment_id"]


def _page() -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("views/hotspots.py").run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Who should go" in d.value.columns)


def _expected_ids(store, at: AppTest) -> list[str]:
    """The hotspot ids computed straight from SQL for the page's sidebar selection."""
    area = list_areas(store)[0]
    start, end = at.sidebar.date_input(key="sel_period").value
    cats = list(at.sidebar.multiselect(key="sel_categories").value)
    srcs = list(at.sidebar.multiselect(key="sel_sources").value)
    reports = store.reports(
        start=start,
        end=end + timedelta(days=1),
        categories=cats,
        sources=srcs,
        columns=COLUMNS,
        area_id=area.area_id,
    )
    net = StreetNetwork.load(network_path(area.area_id, store=store))
    hot, _, _ = compute_hotspots(
        reports, network=net, settings=area_settings(area, load_settings())
    )
    return [str(h) for h in hot["hotspot_id"]]


def test_a_changed_selection_shows_its_own_hotspots_and_going_back_shows_the_first(demo_store):
    at = _page()
    first = _table(at)
    assert list(first["Id"]) == _expected_ids(demo_store, at)
    cats = at.sidebar.multiselect(key="sel_categories")
    everything = list(cats.value)
    assert len(everything) > 1
    cats.set_value(everything[:1]).run()
    assert not at.exception, at.exception
    one = _table(at) if "hotspots**" in " ".join(m.value for m in at.markdown) else None
    expected = _expected_ids(demo_store, at)
    assert (list(one["Id"]) if one is not None else []) == expected
    assert expected != list(first["Id"])  # the change could not pass unnoticed
    period = at.sidebar.date_input(key="sel_period")
    start, end = period.value
    period.set_value((start + timedelta(days=30), end))
    at.sidebar.multiselect(key="sel_categories").set_value(everything).run()
    later = _table(at)
    assert list(later["Id"]) == _expected_ids(demo_store, at)
    period.set_value((start, end)).run()  # back to the first choice: the first table again
    pd.testing.assert_frame_equal(
        _table(at).drop(columns="Last 12 months"), first.drop(columns="Last 12 months")
    )


def test_an_import_shows_on_the_next_run(demo_store, tmp_path):
    at = _page()
    before = _table(at)
    area = list_areas(demo_store)[0]
    net = StreetNetwork.load(network_path(area.area_id, store=demo_store))
    _, end = at.sidebar.date_input(key="sel_period").value
    category = next(iter(at.sidebar.multiselect(key="sel_categories").value))
    # 120 reports on one street in the period: hotspots the page must recompute.
    seg = net.segments.to_crs(4326).geometry.iloc[len(net.segments) // 3]
    mid = seg.interpolate(0.5, normalized=True)
    rows = "".join(
        f"{end - timedelta(days=1 + i % 5):%Y-%m-%d},2{i % 4}:00,{category},{mid.y:.6f},{mid.x:.6f}\n"
        for i in range(120)
    )
    path = tmp_path / "new.csv"
    path.write_text("date,time,category,lat,lon\n" + rows)
    version = demo_store.data_version()
    summary = import_file(path, store=demo_store, source="police", network=net, area=area)
    assert summary.accepted == 120 and demo_store.data_version() > version
    at.run()
    assert not at.exception, at.exception
    after = _table(at)
    assert list(after["Id"]) == _expected_ids(demo_store, at)
    assert list(after["Id"]) != list(before["Id"])  # the new reports changed the hotspots


def _map_args(at: AppTest) -> str:
    maps = [c for c in at.get("component_instance") if "json_args" in str(c.proto)]
    return maps[0].proto.json_args


def test_the_same_inputs_send_the_same_map_and_new_inputs_a_new_one(demo_store):
    at = _page()
    first = _map_args(at)
    at.toggle(key="hotspots_compare").set_value(True).run()  # a rerun with the same inputs
    assert not at.exception, at.exception
    assert _map_args(at) == first  # byte for byte: the browser keeps its map
    cats = at.sidebar.multiselect(key="sel_categories")
    cats.set_value(list(cats.value)[:1]).run()
    assert _map_args(at) != first
