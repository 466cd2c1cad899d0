"""Tests for planning.export: plan JSON round trip, GeoJSON and GPX."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime

import geopandas as gpd
import gpxpy
import pytest
from shapely.geometry import MultiLineString

from planning import export, routes, travel
from planning.routes import Team
from tests.test_routes import grid_network

DAY = date(2025, 3, 7)


@pytest.fixture(scope="module")
def plan():
    segments, nodes = grid_network(5, 4, 150.0, named=False)
    pts = list(zip(nodes["x"], nodes["y"], strict=True))
    specs = [(3, 5.0, "police"), (20, 4.0, "outreach"), (28, 3.0, "police"), (10, 2.0, "dogs")]
    hotspots = gpd.GeoDataFrame(
        [
            {
                "hotspot_id": f"H{k:02d}",
                "label": f"Road <{k}> & Lane",
                "risk": r,
                "skill": sk,
                "active_hours": [],
                "segment_ids": [seg],
                "geometry": MultiLineString([segments.geometry[seg]]),
            }
            for k, (seg, r, sk) in enumerate(specs, start=1)
        ],
        crs="EPSG:4326",
    )
    teams = [
        Team(
            "Foot",
            ("police",),
            pts[0],
            datetime(2025, 3, 7, 18),
            datetime(2025, 3, 7, 22),
            members=("PCSO", "PCSO"),
        ),
        Team(
            "Outreach",
            ("outreach", "police"),
            pts[-1],
            datetime(2025, 3, 7, 20),
            datetime(2025, 3, 8, 0),
            members=("PCSO", "Outreach worker"),
            end_base=pts[0],
            break_minutes=15,
        ),
    ]
    return routes.plan_patrols(
        (segments, nodes),
        hotspots,
        teams,
        date=DAY,
        time_limit_s=1.0,
        solution_limit=20,
        settings={},
    )


def test_json_round_trip(plan):
    data = plan_json = export.plan_to_json(plan)
    text = json.dumps(plan_json)
    back = export.plan_from_json(json.loads(text))
    assert back == plan
    assert set(data) >= {
        "date",
        "generated_at",
        "dwell_minutes",
        "risk_covered_share",
        "teams",
        "dropped",
    }
    team = data["teams"][0]
    assert set(team) >= {
        "name",
        "skills",
        "members",
        "mode",
        "shift",
        "base",
        "stops",
        "path",
        "distance_m",
        "duration_min",
    }
    n_stops = sum(len(t["stops"]) for t in data["teams"])
    assert n_stops == 3
    assert {"order", "hotspot_id", "label", "arrive", "leave", "lon", "lat", "skill"} <= set(
        data["teams"][1]["stops"][0]
    )
    assert data["dropped"] == [
        {"hotspot_id": "H04", "label": "Road <4> & Lane", "reason": "no team has the skill"}
    ]
    assert export.plan_to_json(back) == data


def test_json_missing_key(plan):
    data = export.plan_to_json(plan)
    del data["date"]
    with pytest.raises(ValueError, match="lacks 'date'"):
        export.plan_from_json(data)


def test_geojson_features(plan):
    gj = export.plan_to_geojson(plan)
    assert gj["type"] == "FeatureCollection"
    lines = [f for f in gj["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in gj["features"] if f["geometry"]["type"] == "Point"]
    assert len(lines) == sum(1 for r in plan.routes if r.stops)
    assert len(points) == sum(len(r.stops) for r in plan.routes)
    for f in lines:
        route = next(r for r in plan.routes if r.team.name == f["properties"]["team"])
        assert f["geometry"]["coordinates"][0] == list(route.team.base)
        assert f["geometry"]["coordinates"][-1] == list(route.team.finish_base)
    json.dumps(gj)


def test_gpx_parses_back(plan):
    text = export.plan_to_gpx(plan)
    gpx = gpxpy.parse(text)
    assert len(gpx.waypoints) == sum(len(r.stops) for r in plan.routes)
    assert len(gpx.routes) == len(plan.routes)
    outreach = next(r for r in plan.routes if r.team.name == "Outreach")
    one = gpxpy.parse(export.plan_to_gpx(plan, team="Outreach"))
    assert [w.name for w in one.waypoints] == [f"{s.order}. {s.label}" for s in outreach.stops]
    assert len(one.routes[0].points) == len(outreach.path)
    assert one.routes[0].points[0].longitude == pytest.approx(outreach.team.base[0])
    with pytest.raises(ValueError, match="No team called"):
        export.plan_to_gpx(plan, team="Nobody")


def test_paths_follow_streets(plan):
    for route in plan.routes:
        for leg in route.legs:
            for a, b in itertools.pairwise(leg):
                # Neighbouring grid nodes: one step of 150 m along x or y.
                assert (a[0] == pytest.approx(b[0])) != (a[1] == pytest.approx(b[1]))
    assert travel.WALK_KMH == 4.8
