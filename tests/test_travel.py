"""Tests for planning.travel: travel times, street paths and their geometry."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from planning import travel

STEP_M = 200.0


def grid_network(nx: int = 5, ny: int = 4, step_m: float = STEP_M):
    """A grid of streets in EPSG:4326 (3-point LineStrings) with nodes at the crossings."""
    lat0, lon0 = 53.74, -0.34
    dlat = step_m / 111_320.0
    dlon = step_m / (111_320.0 * np.cos(np.radians(lat0)))
    pts = [(lon0 + i * dlon, lat0 + j * dlat) for j in range(ny) for i in range(nx)]
    rows = []
    for j in range(ny):
        for i in range(nx):
            here = j * nx + i
            for other in ([here + 1] if i + 1 < nx else []) + ([here + nx] if j + 1 < ny else []):
                a, b = pts[here], pts[other]
                mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + dlat * 0.05)
                # Store half the segments reversed (v -> u) to exercise orientation.
                u, v, line = (here, other, [a, mid, b])
                if len(rows) % 2:
                    u, v, line = (other, here, [b, mid, a])
                rows.append(
                    {
                        "segment_id": len(rows),
                        "name": f"Street {len(rows)}",
                        "highway": "residential" if i % 2 else "footway",
                        "length_m": step_m,
                        "u": u,
                        "v": v,
                        "geometry": LineString(line),
                    }
                )
    segments = gpd.GeoDataFrame(rows, crs="EPSG:4326")
    nodes = gpd.GeoDataFrame(
        {"x": [p[0] for p in pts], "y": [p[1] for p in pts]},
        geometry=[Point(p) for p in pts],
        crs="EPSG:4326",
    )
    return segments, nodes


@pytest.fixture(scope="module")
def net():
    segments, nodes = grid_network()
    return segments, nodes, travel.node_matrix_from_segments(segments, len(nodes))


def test_node_matrix_keeps_shortest_parallel_segment():
    segs = gpd.GeoDataFrame(
        {
            "u": [0, 1, 1],
            "v": [1, 0, 2],
            "length_m": [50.0, 30.0, 10.0],
            "geometry": [LineString([(0, 0), (1, 0)])] * 3,
        }
    )
    m = travel.node_matrix_from_segments(segs, 3)
    assert m[0, 1] == 30.0 and m[1, 0] == 30.0
    assert m[1, 2] == 10.0
    assert m[0, 2] == 0.0


def test_travel_times_match_manhattan_distance(net):
    _segments, _nodes, nm = net
    nx = 5
    sources, targets = [0, 7, 0], [19, 3, 0, 12]
    minutes = travel.travel_times(nm, sources, targets, speed_kmh=4.8)
    assert minutes.shape == (3, 4)
    for r, s in enumerate(sources):
        for c, t in enumerate(targets):
            hops = abs(s % nx - t % nx) + abs(s // nx - t // nx)
            assert minutes[r, c] == pytest.approx(hops * STEP_M / 80.0)  # 4.8 km/h = 80 m/min
    # The matrix in minutes gives the same answer with speed_kmh=None.
    as_minutes = nm * (1 / 80.0)
    np.testing.assert_allclose(
        travel.travel_times(as_minutes, sources, targets, speed_kmh=None), minutes
    )


def test_travel_times_rejects_bad_nodes(net):
    _, _, nm = net
    with pytest.raises(ValueError, match="nearest_node"):
        travel.travel_times(nm, [0], [999])
    with pytest.raises(ValueError, match="positive"):
        travel.travel_times(nm, [0], [1], speed_kmh=0)


def test_travel_times_unreachable_is_inf():
    m = sp.csr_matrix(np.array([[0, 5.0, 0], [5.0, 0, 0], [0, 0, 0]]))
    out = travel.travel_times(m, [0], [1, 2], speed_kmh=None)
    assert out[0, 0] == 5.0 and np.isinf(out[0, 1])


def test_street_path_is_connected_and_shortest(net):
    _segments, _nodes, nm = net
    sources = np.array([3, 0])
    dist, pred = travel.shortest_paths(nm, sources)
    path = travel.street_path(nm, pred, 0, 19, sources=sources)
    assert path[0] == 0 and path[-1] == 19
    assert all(nm[a, b] > 0 for a, b in itertools.pairwise(path))
    assert travel.path_length_m(nm, path) == pytest.approx(dist[1, 19])
    assert travel.street_path(nm, pred[1], 0, 0) == [0]
    with pytest.raises(ValueError, match="not among"):
        travel.street_path(nm, pred, 5, 19, sources=sources)


def test_street_path_unreachable_raises():
    m = sp.csr_matrix(np.array([[0, 5.0, 0], [5.0, 0, 0], [0, 0, 0]]))
    _, pred = travel.shortest_paths(m, [0])
    with pytest.raises(ValueError, match="No street path"):
        travel.street_path(m, pred[0], 0, 2)


def test_path_coords_follow_oriented_segments(net):
    segments, nodes, nm = net
    _, pred = travel.shortest_paths(nm, [0])
    path = travel.street_path(nm, pred[0], 0, 18)
    coords = travel.path_coords(segments, nodes, path)
    xs, ys = nodes["x"].to_numpy(), nodes["y"].to_numpy()
    assert coords[0] == (xs[0], ys[0]) and coords[-1] == (xs[18], ys[18])
    # Each step contributes its segment's middle vertex then the next node, in order.
    assert len(coords) == 2 * (len(path) - 1) + 1
    for k, (a, b) in enumerate(itertools.pairwise(path)):
        assert coords[2 * k] == (xs[a], ys[a])
        assert coords[2 * k + 2] == (xs[b], ys[b])
        mid = coords[2 * k + 1]
        assert min(xs[a], xs[b]) - 1e-12 <= mid[0] <= max(xs[a], xs[b]) + 1e-12
    line = travel.path_line(segments, nodes, path)
    assert line.is_valid and len(line.coords) == len(coords)


def test_path_coords_falls_back_to_straight_lines(net):
    segments, nodes, _ = net
    coords = travel.path_coords(segments, nodes, [0, 6])  # diagonal: no segment joins them
    assert coords == [
        (nodes["x"][0], nodes["y"][0]),
        (nodes["x"][6], nodes["y"][6]),
    ]


def test_nearest_node(net):
    _, nodes, _ = net
    x, y = nodes["x"][7] + 1e-5, nodes["y"][7] - 1e-5
    assert travel.nearest_node(nodes, x, y) == 7
    many = travel.nearest_node(nodes, nodes["x"].to_numpy()[[3, 9]], nodes["y"].to_numpy()[[3, 9]])
    assert list(many) == [3, 9]


def test_edge_minutes_by_mode(net):
    segments, nodes, _nm = net
    walk = travel.edge_minutes(segments, len(nodes), mode="walk")
    assert walk[0, 1] == pytest.approx(STEP_M / 80.0)
    drive = travel.edge_minutes(segments, len(nodes), mode="drive")
    for row in segments.itertuples():
        kmh = 4.8 if row.highway == "footway" else travel.DRIVE_SPEEDS_KMH["residential"]
        assert drive[row.u, row.v] == pytest.approx(STEP_M / (kmh * 1000 / 60))
    flat = travel.edge_minutes(segments, len(nodes), mode="drive", settings={"drive_kmh": 30})
    assert flat[0, 1] == pytest.approx(STEP_M / 500.0)
    assert travel.mode_speed_kmh("walk", settings={"walk_kmh": 4.0}) == 4.0
    with pytest.raises(ValueError, match="travel mode"):
        travel.edge_minutes(segments, len(nodes), mode="fly")


# ------------------------------------------------------------------------------------------
# Bounded searches: equal to the full ones within the bound
# ------------------------------------------------------------------------------------------


@st.composite
def small_networks(draw):
    """A random undirected network (possibly disconnected, with parallel edges) and sources."""
    n = draw(st.integers(2, 18))
    m = draw(st.integers(1, 40))
    u = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    v = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    w = np.array(draw(st.lists(st.floats(0.5, 100.0), min_size=m, max_size=m)))
    segments = pd.DataFrame({"u": u, "v": v, "length_m": w})
    matrix = travel.node_matrix_from_segments(segments, n)
    k = draw(st.integers(1, n))
    sources = np.array(draw(st.permutations(range(n)))[:k], dtype=np.int64)
    limit = draw(st.one_of(st.floats(0.0, 300.0), st.just(np.inf)))
    return matrix, sources, limit


def _walk_back(pred_row: np.ndarray, source: int, node: int) -> list[int]:
    path = [node]
    while path[-1] != source:
        path.append(int(pred_row[path[-1]]))
        assert path[-1] >= 0 and len(path) <= pred_row.size
    return path[::-1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_networks())
def test_bounded_search_equals_full_search_within_the_bound(case):
    matrix, sources, limit = case
    full, _ = travel.shortest_paths(matrix, sources)
    dist, pred = travel.shortest_paths(matrix, sources, limit=limit, symmetric=True)
    inside = np.isfinite(full) & (full <= limit)
    np.testing.assert_allclose(dist[inside], full[inside], rtol=1e-12)
    assert np.isinf(dist[~inside]).all()
    for r, s in enumerate(sources):
        for node in np.flatnonzero(inside[r]):
            path = _walk_back(pred[r], int(s), int(node))
            assert travel.path_length_m(matrix, path) == pytest.approx(full[r, node])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_networks(), st.booleans())
def test_paths_among_equal_full_search_between_the_nodes(case, hint):
    matrix, nodes, limit = case
    full, _ = travel.shortest_paths(matrix, nodes)
    full = full[:, nodes]
    centre = len(nodes) // 2 if hint else None
    dist, pred, bounds = travel.paths_among(
        matrix, nodes, limit=limit, symmetric=True, centre=centre
    )
    inside = np.isfinite(full) & (full <= limit)
    np.testing.assert_allclose(dist[inside], full[inside], rtol=1e-12)
    assert np.isinf(dist[~inside]).all()
    assert (bounds <= limit).all()
    for r, c in zip(*np.nonzero(inside), strict=True):
        path = travel.street_path(matrix, pred, int(nodes[r]), int(nodes[c]), sources=nodes)
        assert travel.path_length_m(matrix, path) == pytest.approx(full[r, c])


def test_paths_among_searches_only_the_area_the_nodes_span():
    segments, _nodes = grid_network(nx=30, ny=30)
    nm = travel.node_matrix_from_segments(segments, 900)
    corner = np.array([0, 1, 30, 31, 62])  # a few nodes in one corner of a 30 x 30 grid
    dist, pred, bounds = travel.paths_among(nm, corner, symmetric=True)
    full, _ = travel.shortest_paths(nm, corner)
    np.testing.assert_allclose(dist, full[:, corner])
    assert np.isfinite(bounds).sum() == len(corner) - 1  # all but the middle node's search
    # Every search but the first stopped near the corner: most of the grid was never reached.
    rest = np.flatnonzero(np.isfinite(bounds))
    assert ((pred[rest] >= 0).sum(axis=1) < 100).all()


def test_segment_lookup_keeps_the_shortest_parallel_segment():
    segs = pd.DataFrame({"u": [0, 1, 1, 3, 2], "v": [1, 0, 2, 2, 1], "length_m": [5, 3, 7, 1, 2.0]})
    lookup = travel.segment_lookup(segs)
    assert dict(lookup) == {(0, 1): 1, (1, 2): 4, (2, 3): 3}
    assert lookup[(1, 0)] == 1 and (0, 3) not in lookup and lookup.get((0, 3), -5) == -5
    with pytest.raises(KeyError):
        lookup[(0, 3)]
    rows = lookup.rows(np.array([1, 2, 0, 9, -1]), np.array([0, 1, 3, 0, 1]))
    assert list(rows) == [1, 4, -1, -1, -1]


def test_paths_coords_equal_path_coords_one_by_one(net):
    segments, nodes, nm = net
    _, pred = travel.shortest_paths(nm, [0, 13], symmetric=True)
    paths = [
        travel.street_path(nm, pred[0], 0, 18),
        [4],
        travel.street_path(nm, pred[1], 13, 5),
        [0, 6, 7],  # a diagonal step: a straight line
        [],
    ]
    together = travel.paths_coords(segments, nodes, paths)
    assert together == [travel.path_coords(segments, nodes, p) for p in paths]
    assert together[1] == [(nodes["x"][4], nodes["y"][4])] and together[4] == []


def test_travel_tables_share_one_search_for_flat_speeds(net):
    from datetime import datetime

    from planning.patrol_network import PatrolNetwork, travel_tables
    from planning.teams import Team

    segments, nodes, nm = net
    xy = (float(nodes["x"][0]), float(nodes["y"][0]))
    day = datetime(2025, 3, 7)
    teams = [
        Team(m, ("police",), xy, day.replace(hour=18), day.replace(hour=22), mode=m)
        for m in ("walk", "cycle", "drive")
    ]
    hs = gpd.GeoDataFrame(
        {"segment_ids": [[3], [17], [30]]},
        geometry=[segments.geometry[k] for k in (3, 17, 30)],
        crs="EPSG:4326",
    )
    tables = travel_tables(PatrolNetwork(segments, nodes, nm), hs, teams, {})
    keys = tables.key_nodes
    assert tables.pred["walk"] is tables.pred["cycle"]  # one search on metres
    for mode in ("walk", "cycle"):
        kmh = travel.mode_speed_kmh(mode)
        np.testing.assert_allclose(
            tables.dist[mode], travel.travel_times(nm, keys, keys, speed_kmh=kmh)
        )
    # Driving by street type has its own search on minutes.
    minutes = travel.edge_minutes(segments, len(nodes), mode="drive")
    np.testing.assert_allclose(
        tables.dist["drive"], travel.travel_times(minutes, keys, keys, speed_kmh=None)
    )
    assert tables.tt("walk", int(keys[0]), int(keys[-1])) == tables.dist["walk"][0, -1]
