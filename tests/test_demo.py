"""Tests of the synthetic demo: seeded reports on the real central-Helsinki network."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.areas import find_area
from geo.demo import (
    CLUSTER_KINDS,
    DEMO_FILE_PREFIX,
    REPORT_COLUMNS,
    build_demo,
    demo_clusters,
    demo_network,
    demo_period,
    generate_demo_reports,
)
from geo.hotspots import find_hotspots
from geo.store import Store
from geo.streets import StreetNetwork
from geo.workspace import network_path
from planning.routes import load_teams

PROJECT_ROOT = Path(__file__).resolve().parents[1]
END = "2026-06-30"
CATEGORIES = {
    "propositioning",
    "sex_in_public",
    "needles",
    "condoms",
    "welfare_concern",
    "asb",
    "drugs",
    "public_order",
}
SOURCES = {"police", "outreach", "council", "public", "cctv"}


@pytest.fixture(scope="module")
def network() -> StreetNetwork:
    return demo_network()


@pytest.fixture(scope="module")
def small(network: StreetNetwork) -> pd.DataFrame:
    return generate_demo_reports(network, seed=7, n_reports=3000, end=END)


@pytest.fixture(scope="module")
def built(network: StreetNetwork, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("demo")
    store = Store(f"sqlite:///{tmp}/d.db")
    first = build_demo(store, seed=7, data_dir=tmp, network=network)
    second = build_demo(store, seed=7, data_dir=tmp, network=network)
    yield tmp, store, first, second
    store.dispose()


def _stamps(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["date"] + " " + frame["time"], format="%Y-%m-%d %H:%M")


def test_same_seed_same_frame_other_seed_differs(network: StreetNetwork, small: pd.DataFrame):
    again = generate_demo_reports(network, seed=7, n_reports=3000, end=END)
    pd.testing.assert_frame_equal(small, again)
    other = generate_demo_reports(network, seed=8, n_reports=3000, end=END)
    assert not small[["lat", "lon"]].equals(other[["lat", "lon"]])
    assert demo_clusters(network, seed=7).equals(demo_clusters(network, seed=7))


def test_generic_csv_format(small: pd.DataFrame) -> None:
    assert list(small.columns) == list(REPORT_COLUMNS)
    assert len(small) == 3000
    assert small["reference"].is_unique
    assert set(small["category"]) == CATEGORIES
    assert set(small["source"]) == SOURCES
    assert small["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert small["time"].str.fullmatch(r"\d{2}:\d{2}").all()
    first, last = demo_period(months=12, end=END)
    assert first == pd.Timestamp("2025-07-01")
    stamps = _stamps(small)
    assert stamps.min() >= first
    assert stamps.max() < last + pd.Timedelta(days=1)
    assert stamps.is_monotonic_increasing
    assert (small["location"] != "").mean() > 0.5  # most reports name their street


def test_default_end_is_last_month(network: StreetNetwork) -> None:
    frame = generate_demo_reports(network, n_reports=500)
    last = datetime.date.today().replace(day=1) - datetime.timedelta(days=1)
    assert pd.Timestamp(frame["date"].max()).date() <= last
    assert pd.Timestamp(frame["date"].max()).date() >= last - datetime.timedelta(days=10)


def test_full_size_frame(network: StreetNetwork) -> None:
    frame = generate_demo_reports(network, end=END)
    assert len(frame) == 10_000
    assert frame["reference"].is_unique


def test_hours_and_weekdays(small: pd.DataFrame) -> None:
    stamps = _stamps(small)
    hour = stamps.dt.hour
    night = small["category"].isin(["propositioning", "welfare_concern"])
    finds = small["category"].isin(["needles", "condoms"])
    assert ((hour >= 20) | (hour < 3))[night].mean() > 0.85
    assert hour.between(6, 10)[finds].mean() > 0.85
    asb_hour = hour[small["category"] == "asb"]
    assert asb_hour.between(18, 23).mean() > 2 * asb_hour.between(2, 7).mean()
    # Friday and Saturday nights (the evening's weekday) are busier than 2 nights in 7.
    evening_day = (stamps - pd.Timedelta(hours=12)).dt.day_of_week
    assert evening_day[night].isin([4, 5]).mean() > 0.38


def test_emerging_and_fading_clusters(network: StreetNetwork, small: pd.DataFrame) -> None:
    clusters = demo_clusters(network, seed=7)
    assert tuple(clusters["kind"]) == CLUSTER_KINDS
    assert all(len(s) >= 2 for s in clusters["streets"])
    seg, _ = network.snap(small["lon"], small["lat"], max_distance_m=50)
    sex_work = small["category"].isin(["propositioning", "welfare_concern", "sex_in_public"])
    stamps = _stamps(small)
    last_quarter = stamps >= pd.Timestamp("2026-04-01")
    counts: dict[str, list[tuple[int, int]]] = {}
    for row in clusters.itertuples():
        on = sex_work.to_numpy() & np.isin(seg, row.segment_ids)
        before, after = int((on & ~last_quarter).sum()), int((on & last_quarter).sum())
        counts.setdefault(row.kind, []).append((before, after))
    (emerging,) = counts["emerging"]
    (fading,) = counts["fading"]
    assert emerging[0] == 0 and emerging[1] > 30
    assert fading[0] > 30 and fading[1] == 0
    assert all(before > 30 and after > 10 for before, after in counts["persistent"])


def test_points_on_and_off_the_network(network: StreetNetwork, small: pd.DataFrame) -> None:
    _, dist = network.snap(small["lon"], small["lat"], max_distance_m=500)
    assert (dist <= 50).mean() >= 0.95
    assert 0.02 <= (dist > 60).mean() <= 0.05
    assert (dist <= 5).mean() > 0.85  # a few metres of jitter


def test_build_demo_imports_idempotently(built) -> None:
    tmp, store, first, second = built
    assert first["reports"] == 10_000
    assert first["snapped"] + first["off_network"] == 10_000
    assert first["segments"] > 3000
    assert second["reports"] == 0
    path = Path(first["file"])
    assert path.name == f"{DEMO_FILE_PREFIX}-reports-seed7.csv"
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(REPORT_COLUMNS)
    saved = network_path(first["area_id"], data_dir=tmp)  # the demo area's own network
    assert saved == tmp / "networks" / f"{first['area_id']}.gpkg" and saved.is_file()
    assert StreetNetwork.load(saved).summary()["segments"] == first["segments"]
    assert first["area"] == "Helsinki (demo)" and find_area(store, "Helsinki (demo)").synthetic
    reports = store.reports()
    assert len(reports) == 10_000
    assert reports["segment_id"].notna().mean() >= 0.93
    assert reports["time_known"].all()
    assert set(reports["category"]) == CATEGORIES
    # the imports are the synthetic area's (file names are stored as a hash since issue 15)
    demo_id = find_area(store, "Helsinki (demo)").area_id
    assert (store.batches(all_areas=True)["area_id"] == demo_id).all()


def test_demo_hotspots_are_the_story(network: StreetNetwork, built) -> None:
    _, store, _, _ = built
    hot = find_hotspots(network.segments, store.reports())
    assert len(hot) >= 3
    clusters = demo_clusters(network, seed=7)
    streets = {s for names in clusters["streets"] for s in names}
    for label in hot["label"].head(3):
        assert any(s in label for s in streets), label
    # Every cluster active at the end is found; the faded one is not among the top five.
    top = hot.head(5)
    for row in clusters.itertuples():
        overlaps = [bool(set(row.segment_ids) & set(ids)) for ids in top["segment_ids"]]
        assert any(overlaps) == (row.kind != "fading"), row.streets
    assert {"outreach", "sharps", "police"} <= set(top["skill"])
    hours = set(top["active_hours"].iloc[0])
    assert {22, 23, 0} <= hours


def test_demo_teams_load(network: StreetNetwork) -> None:
    date = datetime.date(2026, 6, 30)
    teams = load_teams(PROJECT_ROOT / "data" / "demo" / "teams.toml", date=date)
    assert len(teams) == 3
    foot, outreach, sharps = teams
    assert foot.skills == ("police",) and foot.members == ("PCSO", "PCSO")
    assert "outreach" in outreach.skills and "police" in outreach.skills
    assert sharps.skills == ("sharps",)
    assert (foot.shift_start.hour, foot.shift_end.hour) == (18, 22)
    assert outreach.shift_end == datetime.datetime(2026, 7, 1, 0, 0)
    assert sharps.shift_start == datetime.datetime(2026, 7, 1, 7, 0)
    assert sharps.shift_end == datetime.datetime(2026, 7, 1, 10, 0)
    lon = [t.base[0] for t in teams]
    lat = [t.base[1] for t in teams]
    _, dist = network.snap(lon, lat, max_distance_m=50)
    assert (dist < 5).all()  # bases are on real demo streets


def test_bad_arguments(network: StreetNetwork) -> None:
    with pytest.raises(ValueError, match="n_reports"):
        generate_demo_reports(network, n_reports=0)
    with pytest.raises(ValueError, match="months"):
        generate_demo_reports(network, months=0)
    with pytest.raises(ValueError, match="not a date"):
        demo_period(end="soon")
