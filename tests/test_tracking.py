"""Tests of planning.tracking: GPX reading, cleaning, hotspot visits, plan matching, storage."""

from __future__ import annotations

from datetime import timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import LineString

from geo.store import Store
from planning.export import plan_from_json
from planning.routes import PatrolPlan
from planning.tracking import (
    EFFECT_CAVEAT,
    clean_track,
    dosage_by_week,
    effect_estimate,
    hotspot_visits,
    log_patrol,
    match_plan,
    patrol_log,
    patrol_logs,
    plan_stop_hotspots,
    read_tracks,
    save_visits,
    synthetic_track,
)

LAT = 60.17
BASE = 24.930
STOP_LON = {"H01": 24.934, "H02": 24.938, "H03": 24.942}
DAY = "2025-06-10"  # British Summer Time: local = UTC + 1 hour
TEAM = "Foot patrol"


def hotspots() -> gpd.GeoDataFrame:
    """Three short side streets (north-south, 44 m) crossing the main street at each stop."""
    ids = list(STOP_LON)
    geoms = [LineString([(x, LAT - 0.0002), (x, LAT + 0.0002)]) for x in STOP_LON.values()]
    labels = [f"Side Street {k}" for k in range(1, 4)]
    return gpd.GeoDataFrame({"hotspot_id": ids, "label": labels}, geometry=geoms, crs="EPSG:4326")


def _line(a: float, b: float) -> list[list[float]]:
    xs = np.linspace(a, b, 9)
    return [[float(x), LAT] for x in xs]


def make_plan(*, shift: tuple[str, str] = ("18:00", "19:15")) -> PatrolPlan:
    """A one-team plan walking east along one street, three 15-minute stops, then back."""

    def at(hhmm: str) -> str:
        return f"{DAY}T{hhmm}:00"

    stops = [
        ("H01", "18:03", "18:18"),
        ("H02", "18:21", "18:36"),
        ("H03", "18:39", "18:54"),
    ]
    legs = [
        _line(BASE, STOP_LON["H01"]),
        _line(STOP_LON["H01"], STOP_LON["H02"]),
        _line(STOP_LON["H02"], STOP_LON["H03"]),
        _line(STOP_LON["H03"], BASE),
    ]
    body = {
        "date": DAY,
        "generated_at": f"{DAY}T09:00:00",
        "dwell_minutes": 15,
        "risk_covered_share": 1.0,
        "teams": [
            {
                "name": TEAM,
                "skills": ["police"],
                "members": ["PCSO", "PCSO"],
                "mode": "walk",
                "shift": {"start": at(shift[0]), "end": at(shift[1])},
                "base": [BASE, LAT],
                "depart": at("18:00"),
                "back": at("19:05"),
                "stops": [
                    {
                        "order": k + 1,
                        "hotspot_id": h,
                        "label": f"Side Street {k + 1}",
                        "arrive": at(a),
                        "leave": at(b),
                        "lon": STOP_LON[h],
                        "lat": LAT,
                        "skill": "police",
                    }
                    for k, (h, a, b) in enumerate(stops)
                ],
                "legs": legs,
            }
        ],
        "dropped": [],
    }
    return plan_from_json(body)


@pytest.fixture(scope="module")
def plan() -> PatrolPlan:
    return make_plan()


@pytest.fixture(scope="module")
def walk_gpx(plan: PatrolPlan) -> str:
    """Stop 1: 15 min, stop 2: 15 min, stop 3: walked straight past."""
    return synthetic_track(plan, TEAM, seed=1, pause_at={"H02": 15, "H03": 0})


def _fixes(gpx: str, name: str = "walk.gpx") -> pd.DataFrame:
    return read_tracks([(name, gpx.encode())])


# ------------------------------------------------------------------------------- reading


def test_read_tracks_converts_utc_to_london_local_time(walk_gpx: str) -> None:
    fixes = _fixes(walk_gpx)
    assert list(fixes.columns) == ["track", "time", "lon", "lat"]
    assert fixes["time"].dt.tz is None
    # Departure 18:00 local in June is written 17:00Z in the file.
    assert "T17:00:00Z" in walk_gpx
    assert fixes["time"].iloc[0] == pd.Timestamp(f"{DAY} 18:00:00")
    assert fixes["time"].is_monotonic_increasing


def test_z_and_offset_times_agree() -> None:
    def doc(stamp: str) -> bytes:
        return (
            '<?xml version="1.0"?><gpx version="1.1" creator="t" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
            f'<trkpt lat="60.17" lon="24.93"><time>{stamp}</time></trkpt>'
            "</trkseg></trk></gpx>"
        ).encode()

    fixes = read_tracks(
        [("z.gpx", doc("2025-06-10T17:00:00Z")), ("o.gpx", doc("2025-06-10T18:00:00+01:00"))]
    )
    assert fixes["time"].nunique() == 1
    assert fixes["time"].iloc[0] == pd.Timestamp("2025-06-10 18:00")
    winter = read_tracks([("w.gpx", doc("2025-01-10T17:00:00Z"))])
    assert winter["time"].iloc[0] == pd.Timestamp("2025-01-10 17:00")


def test_track_without_timestamps_is_refused_plainly() -> None:
    gpx = (
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
        '<trkpt lat="60.17" lon="24.93"/><trkpt lat="60.171" lon="24.931"/>'
        "</trkseg></trk></gpx>"
    )
    with pytest.raises(ValueError, match="no timestamps, so time spent cannot be measured"):
        read_tracks([("notime.gpx", gpx.encode())])


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"<gpx><trk><trkseg><trkpt lat=", "not a readable GPX file"),
        (b"this is not xml at all", "not a readable GPX file"),
        (
            b'<?xml version="1.0"?><gpx version="1.1" creator="t" '
            b'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg/></trk></gpx>',
            "no recorded track points",
        ),
    ],
)
def test_broken_or_empty_gpx_is_refused_plainly(data: bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        read_tracks([("bad.gpx", data)])


def test_plan_gpx_without_a_track_says_so(plan: PatrolPlan) -> None:
    from planning.export import plan_to_gpx

    with pytest.raises(ValueError, match="only a planned route"):
        read_tracks([("plan.gpx", plan_to_gpx(plan).encode())])


def test_track_an_hour_out_is_warned_about_not_shifted(plan: PatrolPlan) -> None:
    # The device wrote local (BST) times marked as UTC: read back, all an hour late.
    route = plan.routes[0]
    gpx = synthetic_track(plan, TEAM, seed=2, start=route.depart + timedelta(hours=1))
    fixes = read_tracks([("late.gpx", gpx.encode())], plan=plan)
    (warning,) = fixes.attrs["warnings"]
    assert "late.gpx" in warning and "one hour earlier" in warning and "time zone" in warning
    assert fixes["time"].iloc[0] == pd.Timestamp(f"{DAY} 19:00")  # not silently shifted
    ok = read_tracks([("ok.gpx", synthetic_track(plan, TEAM, seed=2).encode())], plan=plan)
    assert ok.attrs["warnings"] == []


# ------------------------------------------------------------------------------- cleaning


def test_gps_spike_at_impossible_speed_is_dropped(walk_gpx: str) -> None:
    fixes = _fixes(walk_gpx)
    spike = fixes.iloc[[40]].copy()
    spike["lon"] += 0.05  # 2.8 km away, 0 s later
    spike["time"] += pd.Timedelta(seconds=5)
    noisy = pd.concat([fixes, spike]).sort_values("time").reset_index(drop=True)
    clean = clean_track(noisy)
    assert len(clean) == len(fixes)
    assert clean["lon"].max() < 24.95
    # A normal walk loses nothing.
    assert len(clean_track(fixes)) == len(fixes)


def test_short_gap_is_filled_and_long_gap_splits(walk_gpx: str) -> None:
    fixes = _fixes(walk_gpx)
    short = fixes.drop(index=range(20, 25))  # a 90 s hole
    clean = clean_track(short)
    assert len(clean) == len(fixes)
    assert clean["interpolated"].sum() == 5
    assert clean["segment"].nunique() == 1
    steps = clean["time"].diff().dt.total_seconds().dropna()
    assert steps.max() <= 15.0 + 1e-6
    long_gap = fixes.drop(index=range(100, 140))  # 10 minutes lost
    clean = clean_track(long_gap)
    assert clean["segment"].nunique() == 2
    assert not clean["interpolated"].any()


# ------------------------------------------------------------------------------- visits


def test_walk_with_pause_and_drive_past_gives_expected_visits(
    walk_gpx: str, plan: PatrolPlan
) -> None:
    fixes = clean_track(_fixes(walk_gpx))
    visits = hotspot_visits(fixes, hotspots(), buffer_m=25, min_minutes=2)
    assert list(visits.columns) == ["track", "hotspot_id", "label", "start", "end", "minutes"]
    assert visits["hotspot_id"].tolist() == ["H01", "H02"]  # H03 walked past: < 2 min
    by = visits.set_index("hotspot_id")["minutes"]
    assert abs(by["H01"] - 15) <= 1
    assert abs(by["H02"] - 15) <= 1
    assert visits["start"].iloc[0] >= pd.Timestamp(f"{DAY} 18:00")


def test_visit_does_not_bridge_a_long_gap(walk_gpx: str) -> None:
    fixes = _fixes(walk_gpx)
    pause = fixes[(fixes["lon"] - STOP_LON["H02"]).abs() < 0.0003]
    mid = pause.index[len(pause) // 2]
    holed = fixes.drop(index=range(mid - 4, mid + 20))  # 6 minutes lost mid-stop
    visits = hotspot_visits(clean_track(holed), hotspots(), min_minutes=2)
    h2 = visits[visits["hotspot_id"] == "H02"]
    assert len(h2) == 2
    assert h2["minutes"].sum() < 11


def test_point_mode_polygons_and_segments_lookup(walk_gpx: str, plan: PatrolPlan) -> None:
    fixes = clean_track(_fixes(walk_gpx))
    circles = plan_stop_hotspots(plan, radius_m=20)
    assert circles.geom_type.eq("Polygon").all()
    v1 = hotspot_visits(fixes, circles, buffer_m=10)
    assert v1["hotspot_id"].tolist() == ["H01", "H02"]
    # Hotspots given by segment ids: their own geometry is ignored.
    seg = hotspots()[["geometry"]].reset_index(drop=True)
    far = hotspots().assign(segment_ids=[[0], [1], [2]])
    far["geometry"] = far.geometry.translate(1.0, 1.0)
    v2 = hotspot_visits(fixes, far, seg)
    assert v2["hotspot_id"].tolist() == ["H01", "H02"]


# ------------------------------------------------------------------------------- plan


def test_match_plan_statuses(plan: PatrolPlan) -> None:
    gpx = synthetic_track(plan, TEAM, seed=3, pause_at={"H01": 6, "H03": 0})
    visits = hotspot_visits(clean_track(_fixes(gpx)), hotspots())
    visits["team"] = TEAM
    got = match_plan(visits, plan).set_index("hotspot_id")
    assert got.loc["H01", "status"] == "short"
    assert got.loc["H02", "status"] == "done"
    assert got.loc["H03", "status"] == "missed"
    assert got.loc["H03", "delivered_minutes"] == 0
    assert np.isnan(got.loc["H03", "arrival_delta_min"])
    # Nine minutes early after the short stop, the team waits at H02 for its planned arrival.
    assert abs(got.loc["H02", "delivered_minutes"] - (15 + (15 - 6))) <= 1
    assert got.loc["H01", "planned_minutes"] == 15
    # The walk starts at 18:00 and the first stop is planned for 18:03.
    assert abs(got.loc["H01", "arrival_delta_min"]) <= 2
    # Visits on another day, or by another team, do not count.
    other = visits.assign(start=visits["start"] + pd.Timedelta(days=1))
    assert (match_plan(other, plan)["status"] == "missed").all()
    assert (match_plan(visits.assign(team="Van"), plan)["status"] == "missed").all()


def test_dosage_by_week() -> None:
    visits = pd.DataFrame(
        {
            "hotspot_id": ["H01", "H01", "H02", "H01"],
            "start": pd.to_datetime(
                ["2025-06-09 18:00", "2025-06-15 20:00", "2025-06-10 19:00", "2025-06-16 18:00"]
            ),
            "minutes": [15.0, 10.0, 12.0, 5.0],
        }
    )
    got = dosage_by_week(visits)
    assert got.to_dict("list") == {
        "week": [pd.Timestamp("2025-06-09")] * 2 + [pd.Timestamp("2025-06-16")],
        "hotspot_id": ["H01", "H02", "H01"],
        "minutes": [25.0, 12.0, 5.0],
    }
    assert dosage_by_week(visits.iloc[:0]).empty


def test_effect_estimate_sign_on_constructed_data() -> None:
    hs = hotspots()
    start = pd.Timestamp("2025-03-03")
    rows = []
    # Weekly reports before/after: patrolled H01, H02 fall 6 -> 2; comparison H03 stays at 6.
    for h, x in STOP_LON.items():
        for week in range(-8, 8):
            n = 6 if week < 0 or h == "H03" else 2
            for i in range(n):
                rows.append((start + pd.Timedelta(days=7 * week + i % 7, hours=20), x, LAT))
    reports = pd.DataFrame(rows, columns=["occurred_at", "lon", "lat"])
    got = effect_estimate(reports, hs, {"H01": start, "H02": start}, weeks=8).set_index("group")
    assert got.loc["patrolled", "before_per_week"] == pytest.approx(6)
    assert got.loc["patrolled", "after_per_week"] == pytest.approx(2)
    assert got.loc["comparison", "change"] == pytest.approx(0)
    assert got.loc["difference in differences", "change"] == pytest.approx(-4)
    assert "regression to the mean" in EFFECT_CAVEAT and "displacement" in EFFECT_CAVEAT
    assert "not a randomised" in got.attrs["caveat"]
    with pytest.raises(ValueError, match="patrol start"):
        effect_estimate(reports, hs, {})


# ------------------------------------------------------------------------------- storage


def test_store_holds_visits_never_track_points(store: Store, walk_gpx: str, tmp_path) -> None:
    fixes = _fixes(walk_gpx)
    visits = hotspot_visits(clean_track(fixes), hotspots())
    n = save_visits(store, visits, team=TEAM, source_file="walk.gpx")
    assert n == 2
    log_patrol(store, team="Outreach van", date="2025-06-11", hotspot_id="H-0000Z3", minutes=20)
    log = patrol_log(store)
    assert log["hotspot_id"].tolist() == ["H01", "H02", "H-0000Z3"]
    assert log["source_file"].tolist() == ["walk.gpx", "walk.gpx", "manual entry"]
    assert log["date"].iloc[-1] == pd.Timestamp("2025-06-11")
    assert not {"lon", "lat", "geometry", "time"} & set(log.columns)
    cols = {c["name"] for c in sa.inspect(store.engine).get_columns("patrol_logs")}
    assert cols == {c.name for c in patrol_logs.columns}
    audit = store.audit_log()
    assert audit["what"].str.contains("patrol track walk.gpx").any()
    assert audit["what"].str.contains("patrol track manual entry").any()
    store.dispose()
    raw = (tmp_path / "store.db").read_bytes()
    for lon, lat in fixes[["lon", "lat"]].iloc[::25].itertuples(index=False):
        assert f"{lon:.6f}".encode() not in raw
        assert f"{lat:.6f}".encode() not in raw
    got = dosage_by_week(patrol_log(store))
    assert got["minutes"].sum() == pytest.approx(visits["minutes"].sum() + 20, abs=0.2)


def test_manual_entry_is_checked(store: Store) -> None:
    with pytest.raises(ValueError, match="between 1 and 720"):
        log_patrol(store, team="A", date="2025-06-11", hotspot_id="H01", minutes=0)
    with pytest.raises(ValueError, match="team and the hotspot"):
        log_patrol(store, team=" ", date="2025-06-11", hotspot_id="H01", minutes=5)


def test_synthetic_track_errors(plan: PatrolPlan) -> None:
    with pytest.raises(ValueError, match="No team called"):
        synthetic_track(plan, "Nobody", seed=0)


def test_match_plan_with_no_visits_marks_all_missed(plan: PatrolPlan) -> None:
    for empty in (pd.DataFrame(), pd.DataFrame(columns=["hotspot_id", "start", "minutes"])):
        got = match_plan(empty, plan)
        assert got["status"].tolist() == ["missed"] * 3
        assert (got["delivered_minutes"] == 0).all()


def test_effect_estimate_with_segment_ids_and_off_segment_reports() -> None:
    # Reports matched by segment id, plus one matched by distance: the segment lookup's
    # array must stay writable (pandas 3 can hand back read-only arrays).
    from planning.tracking import effect_estimate

    hot = hotspots()
    hot = hot.assign(segment_ids=[[i] for i in range(len(hot))])
    start = pd.Timestamp("2025-06-01")
    rows = []
    for k, h in enumerate(hot.itertuples()):
        c = h.geometry.representative_point()
        for w in range(-8, 8):
            rows.append(
                {
                    "occurred_at": start + pd.Timedelta(weeks=w),
                    "lon": c.x,
                    "lat": c.y,
                    "segment_id": k if w % 2 else pd.NA,
                }
            )
    reports = pd.DataFrame(rows)
    reports["segment_id"] = reports["segment_id"].astype("Int64")
    out = effect_estimate(reports, hot, {hot["hotspot_id"].iloc[0]: start}, weeks=8)
    assert list(out["group"])[-1] == "difference in differences"
