"""Street networks for Beatplan: load OSM/line data into street segments, graph helpers, snapping."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Geod, Transformer
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.settings import DATA_DIR

__all__ = [
    "DEFAULT_CACHE_DIR",
    "NETWORK_TYPES",
    "NetworkUnavailableError",
    "StreetNetwork",
    "metric_crs_for",
]

WGS84 = CRS.from_epsg(4326)
BRITISH_NATIONAL_GRID = CRS.from_epsg(27700)
DEFAULT_CACHE_DIR = DATA_DIR / "cache"
NETWORK_TYPES = ("walk", "drive", "all")
CACHE_FORMAT_VERSION = 1
NODE_SNAP_M = 0.5
SNAP_PIECE_M = 8.0
SNAP_CHUNK = 262_144
OFFLINE_MESSAGE = (
    "Could not download the street network: this machine appears to be offline. "
    "Load a street file (.osm.pbf, .osm, GeoPackage) instead."
)

_GEOD = Geod(ellps="WGS84")

# OSM highway values that are never part of the street network (not built, not a way, areas).
_NEVER_HIGHWAY = frozenset(
    {
        "",
        "abandoned",
        "bus_stop",
        "construction",
        "disused",
        "no",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "rest_area",
        "services",
    }
)
# Not walkable: motorways, bus-only ways. Trunk roads are walkable unless tagged without a pavement.
_WALK_EXCLUDED_HIGHWAY = frozenset(
    {"motorway", "motorway_link", "motor", "bus_guideway", "busway", "escape"}
)
_TRUNK = frozenset({"trunk", "trunk_link"})
_NO_SIDEWALK = frozenset({"no", "none"})
_FOOT_ALLOWED = frozenset({"yes", "designated", "permissive", "official"})
_DRIVE_HIGHWAY = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "road",
    }
)
_CLOSED_ACCESS = frozenset({"no", "private"})
_TAG_KEYS = (
    "highway",
    "name",
    "access",
    "foot",
    "service",
    "area",
    "sidewalk",
    "sidewalk:both",
    "sidewalk:left",
    "sidewalk:right",
    "motorcar",
    "motor_vehicle",
    "vehicle",
)

# A coarse outline of the island of Ireland, so that points there do not get the British grid.
_IRELAND = shapely.Polygon(
    [
        (-11.0, 51.2),
        (-6.2, 51.9),
        (-5.9, 53.5),
        (-5.35, 54.2),
        (-5.35, 54.75),
        (-5.95, 55.25),
        (-7.4, 55.5),
        (-11.0, 55.5),
    ]
)
_NAME_COLUMNS = ("name", "name1", "road_name", "roadname", "street", "street_name", "nom", "NAME")
_HIGHWAY_COLUMNS = ("highway", "fclass", "function", "road_classification", "class", "type")


class NetworkUnavailableError(RuntimeError):
    """The street network could not be downloaded (no internet connection or server down)."""


# ----------------------------------------------------------------------------------------
# CRS helpers
# ----------------------------------------------------------------------------------------


def metric_crs_for(lon: float, lat: float) -> CRS:
    """Choose a metric CRS for analysis around a WGS84 point.

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude in degrees, typically the centre of the area.

    Returns
    -------
    pyproj.CRS
        EPSG:27700 (British National Grid) in Great Britain and nearby waters (not on the
        island of Ireland), otherwise the WGS84 UTM zone that holds the point
        (EPSG:326xx in the northern hemisphere, 327xx in the southern).
    """
    lon = float(lon)
    lat = float(lat)
    if not (np.isfinite(lon) and np.isfinite(lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"Cannot choose a map projection for lon={lon}, lat={lat}: give WGS84 degrees."
        raise ValueError(msg)
    in_gb_box = -9.0 <= lon <= 2.0 and 49.75 <= lat <= 61.0
    if in_gb_box and not shapely.contains_xy(_IRELAND, lon, lat):
        return BRITISH_NATIONAL_GRID
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _transformer(src: CRS, dst: CRS) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _transform_geoms(geoms: np.ndarray, src: CRS, dst: CRS) -> np.ndarray:
    if src == dst:
        return geoms
    tr = _transformer(src, dst)
    return shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _geodesic_lengths(geoms: np.ndarray) -> np.ndarray:
    """Ellipsoidal lengths in metres of WGS84 line strings (vectorised over all vertices)."""
    n = len(geoms)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) < 2:
        return np.zeros(n)
    same = idx[:-1] == idx[1:]
    _, _, dist = _GEOD.inv(
        coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same]
    )
    return np.bincount(idx[:-1][same], weights=np.asarray(dist, dtype=float), minlength=n)


# ----------------------------------------------------------------------------------------
# Tag filters
# ----------------------------------------------------------------------------------------


def _check_network_type(network_type: str) -> str:
    value = str(network_type).strip().lower()
    if value not in NETWORK_TYPES:
        msg = f"Unknown network type {network_type!r}; use one of {', '.join(NETWORK_TYPES)}."
        raise ValueError(msg)
    return value


def _tag(df: pd.DataFrame, key: str) -> pd.Series:
    """A tag as a clean lower-case string Series ('' when missing), from a column or JSON tags."""
    if key in df.columns:
        col = df[key]
    elif "tags" in df.columns:
        pattern = '"' + re.escape(key) + r'"\s*:\s*"([^"]*)"'
        col = df["tags"].astype("string").str.extract(pattern, expand=False)
    else:
        return pd.Series("", index=df.index, dtype=object)
    col = col.map(lambda v: v[0] if isinstance(v, list) and v else v)
    return col.astype("string").fillna("").str.strip().str.lower().astype(object)


def _any_value_in(values: pd.Series, allowed: frozenset[str]) -> np.ndarray:
    """True where a (possibly ``a;b`` multi-valued) tag holds one of ``allowed``."""
    exact = values.isin(allowed).to_numpy()
    multi = values.str.contains(";", regex=False).to_numpy()
    if multi.any():
        parts = values[multi].str.split(";")
        exact[multi] = parts.map(lambda ps: any(p.strip() in allowed for p in ps)).to_numpy()
    return exact


def _access_closed(df: pd.DataFrame, keys: Iterable[str]) -> np.ndarray:
    """OSM access hierarchy: the most specific tag present decides; closed if no/private."""
    decided = np.zeros(len(df), dtype=bool)
    closed = np.zeros(len(df), dtype=bool)
    for key in (*keys, "access"):
        values = _tag(df, key)
        present = (values != "").to_numpy() & ~decided
        closed |= present & _any_value_in(values, _CLOSED_ACCESS)
        decided |= present
    return closed


def _network_mask(df: pd.DataFrame, network_type: str) -> np.ndarray:
    """Which OSM ways (rows with OSM tags) belong to a ``walk``, ``drive`` or ``all`` network."""
    highway = _tag(df, "highway")
    keep = ~highway.isin(_NEVER_HIGHWAY).to_numpy()
    keep &= ~_any_value_in(_tag(df, "area"), frozenset({"yes"}))
    if network_type == "walk":
        keep &= ~highway.isin(_WALK_EXCLUDED_HIGHWAY).to_numpy()
        no_pavement = np.zeros(len(df), dtype=bool)
        for key in ("sidewalk", "sidewalk:both"):
            no_pavement |= _tag(df, key).isin(_NO_SIDEWALK).to_numpy()
        foot_ok = _tag(df, "foot").isin(_FOOT_ALLOWED).to_numpy()
        keep &= ~(highway.isin(_TRUNK).to_numpy() & no_pavement & ~foot_ok)
        keep &= ~_access_closed(df, ("foot",))
        keep &= ~_any_value_in(_tag(df, "service"), frozenset({"private"}))
    elif network_type == "drive":
        keep &= highway.isin(_DRIVE_HIGHWAY).to_numpy()
        keep &= ~_access_closed(df, ("motorcar", "motor_vehicle", "vehicle"))
    return keep


def _clean_text(values: Any, index: pd.Index | None = None) -> pd.Series:
    """Names/highway values as str ('' for missing); lists become sorted, ' / '-joined text."""

    def one(v: Any) -> str:
        if isinstance(v, (list, tuple, set, np.ndarray)):
            parts = sorted({str(p).strip() for p in v if p is not None and str(p).strip()})
            return " / ".join(parts)
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return ""
        return str(v).strip()

    series = pd.Series(values, index=index)
    return series.map(one).astype(object)


# ----------------------------------------------------------------------------------------
# Building segments from an edge table
# ----------------------------------------------------------------------------------------


def _edges_frame(
    ukey: Any, vkey: Any, geometry: np.ndarray, name: Any = "", highway: Any = ""
) -> pd.DataFrame:
    n = len(geometry)
    return pd.DataFrame(
        {
            "ukey": np.asarray(ukey),
            "vkey": np.asarray(vkey),
            "name": _clean_text(name if not isinstance(name, str) else [name] * n).to_numpy(),
            "highway": _clean_text(
                highway if not isinstance(highway, str) else [highway] * n
            ).to_numpy(),
            "geometry": np.asarray(geometry, dtype=object),
        }
    )


def _chains(
    u: np.ndarray, v: np.ndarray, n_nodes: int, kept: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Group edges into chains through interior (degree-2, non-kept) nodes.

    Returns the chain label of each edge, the interior mask of nodes and the number of chains.
    """
    m = len(u)
    deg = np.bincount(u, minlength=n_nodes) + np.bincount(v, minlength=n_nodes)
    loops = u == v
    has_loop = np.zeros(n_nodes, dtype=bool)
    has_loop[u[loops]] = True
    nl = ~loops
    pairs = np.unique(np.r_[np.c_[u[nl], v[nl]], np.c_[v[nl], u[nl]]].reshape(-1, 2), axis=0)
    n_neighbours = np.bincount(pairs[:, 0], minlength=n_nodes)
    interior = (deg == 2) & (n_neighbours == 2) & ~has_loop & ~kept
    h_node = np.concatenate([u, v])
    h_edge = np.concatenate([np.arange(m), np.arange(m)])
    at_interior = interior[h_node]
    order = np.argsort(h_node[at_interior], kind="stable")
    linked = h_edge[at_interior][order].reshape(-1, 2)
    adj = sparse.coo_matrix((np.ones(len(linked)), (linked[:, 0], linked[:, 1])), shape=(m, m))
    n_chains, label = connected_components(adj, directed=False)
    return label, interior, int(n_chains)


def _build_segments(edges: pd.DataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, int]:
    """Turn a table of atomic edges (WGS84, geometry from ukey to vkey) into segments and nodes.

    Drops empty and duplicate (reciprocal) edges, keeps the largest connected component and
    merges chains through degree-2 nodes.
    """
    geoms = edges["geometry"].to_numpy()
    ok = ~shapely.is_missing(geoms)
    ok[ok] = ~shapely.is_empty(geoms[ok]) & (shapely.get_num_coordinates(geoms[ok]) >= 2)
    ok &= pd.notna(edges["ukey"]).to_numpy() & pd.notna(edges["vkey"]).to_numpy()
    edges = edges.loc[ok].reset_index(drop=True)
    if edges.empty:
        msg = "No street lines were found in the data: check the file and the area you chose."
        raise ValueError(msg)
    codes, _ = pd.factorize(pd.concat([edges["ukey"], edges["vkey"]], ignore_index=True))
    m = len(edges)
    u, v = codes[:m].astype(np.int64), codes[m:].astype(np.int64)
    geoms = edges["geometry"].to_numpy()

    # Dedupe reciprocal / repeated edges: same unordered end nodes and same geometry.
    wkb = shapely.to_wkb(shapely.normalize(geoms), output_dimension=2)
    key = pd.DataFrame({"a": np.minimum(u, v), "b": np.maximum(u, v), "g": wkb})
    unique = ~key.duplicated().to_numpy()
    u, v, geoms = u[unique], v[unique], geoms[unique]
    names = edges["name"].to_numpy()[unique]
    highways = edges["highway"].to_numpy()[unique]

    # Largest connected component.
    n_nodes = int(codes.max()) + 1
    graph = sparse.coo_matrix((np.ones(len(u)), (u, v)), shape=(n_nodes, n_nodes))
    used = np.zeros(n_nodes, dtype=bool)
    used[u] = used[v] = True
    n_comp, comp = connected_components(graph, directed=False)
    comp_sizes = np.bincount(comp[used], minlength=n_comp)
    dropped = int((comp_sizes > 0).sum() - 1)
    biggest = int(np.argmax(comp_sizes))
    keep_edge = comp[u] == biggest
    u, v, geoms = u[keep_edge], v[keep_edge], geoms[keep_edge]
    names, highways = names[keep_edge], highways[keep_edge]
    codes2, _ = pd.factorize(np.concatenate([u, v]))
    m = len(u)
    u, v = codes2[:m].astype(np.int64), codes2[m:].astype(np.int64)
    n_nodes = int(codes2.max()) + 1

    # Node coordinates from edge end points (geometry runs from u to v).
    node_xy = np.empty((n_nodes, 2))
    node_xy[u] = shapely.get_coordinates(shapely.get_point(geoms, 0))
    node_xy[v] = shapely.get_coordinates(shapely.get_point(geoms, -1))
    lengths = _geodesic_lengths(geoms)

    kept = np.zeros(n_nodes, dtype=bool)
    for _ in range(4):
        label, interior, n_chains = _chains(u, v, n_nodes, kept)
        h_node = np.concatenate([u, v])
        h_chain = np.concatenate([label, label])
        ends = ~interior[h_node]
        end_counts = np.bincount(h_chain[ends], minlength=n_chains)
        cycles = np.flatnonzero(end_counts == 0)
        if len(cycles):  # isolated rings of degree-2 nodes: keep one node of each as a node
            first_node = pd.Series(h_node).groupby(h_chain).min().to_numpy()
            kept[first_node[cycles]] = True
            continue
        sizes = np.bincount(label, minlength=n_chains)
        order = np.argsort(label, kind="stable")
        merged = np.empty(n_chains, dtype=object)
        single = sizes == 1
        single_edge = np.empty(n_chains, dtype=np.int64)
        single_edge[label] = np.arange(m)
        merged[single] = geoms[single_edge[single]]
        multi = ~single
        if multi.any():
            sel = order[multi[label[order]]]
            group, chain_of_group = pd.factorize(label[sel], sort=True)
            mls = shapely.multilinestrings(geoms[sel], indices=group)
            merged[chain_of_group] = shapely.line_merge(mls)
        bad = shapely.get_type_id(merged) != 1
        if bad.any():  # could not merge (e.g. coincident distinct nodes): keep those nodes
            bad_nodes = h_node[bad[h_chain]]
            kept[bad_nodes] = True
            continue
        break
    else:  # pragma: no cover - defensive
        msg = "Could not build street segments from these lines."
        raise ValueError(msg)

    # Chain end nodes: the two non-interior half-edges of each chain.
    end_idx = np.flatnonzero(ends)
    end_idx = end_idx[np.argsort(h_chain[end_idx], kind="stable")]
    seg_u = h_node[end_idx[0::2]]
    seg_v = h_node[end_idx[1::2]]
    # Orient: merged geometry must start at seg_u.
    start = shapely.get_coordinates(shapely.get_point(merged, 0))
    starts_at_u = np.isclose(start, node_xy[seg_u], rtol=0, atol=1e-9).all(axis=1)
    starts_at_v = np.isclose(start, node_xy[seg_v], rtol=0, atol=1e-9).all(axis=1)
    swap = ~starts_at_u & starts_at_v
    seg_u, seg_v = np.where(swap, seg_v, seg_u), np.where(swap, seg_u, seg_v)
    for i in np.flatnonzero(~starts_at_u & ~starts_at_v):  # rings merged from another vertex
        ring = shapely.get_coordinates(merged[i])[:-1]
        at = np.flatnonzero(np.isclose(ring, node_xy[seg_u[i]], rtol=0, atol=1e-9).all(axis=1))
        if len(at):
            ring = np.roll(ring, -int(at[0]), axis=0)
            merged[i] = shapely.linestrings(np.vstack([ring, ring[:1]]))

    # Attributes per chain: sorted unique names, the highway value with the longest length.
    attrs = pd.DataFrame({"chain": label, "name": names, "highway": highways, "len": lengths})
    named = attrs.loc[attrs["name"] != "", ["chain", "name"]]
    named = named.assign(name=named["name"].str.split(" / ")).explode("name")
    named = named.drop_duplicates().sort_values(["chain", "name"])
    seg_name = pd.Series("", index=pd.RangeIndex(n_chains), dtype=object)
    seg_name.loc[named["chain"].unique()] = (
        named.groupby("chain", sort=True)["name"].agg(" / ".join).to_numpy()
    )
    hw = attrs.groupby(["chain", "highway"], sort=True)["len"].sum().reset_index()
    hw = hw.sort_values(["chain", "len"], ascending=[True, False], kind="stable").drop_duplicates(
        "chain"
    )
    seg_highway = pd.Series("", index=pd.RangeIndex(n_chains), dtype=object)
    seg_highway.loc[hw["chain"].to_numpy()] = hw["highway"].to_numpy()
    seg_length = np.bincount(label, weights=lengths, minlength=n_chains)

    # Keep only junction / dead-end nodes, renumbered 0..N-1 in order of first use.
    node_codes, node_old = pd.factorize(np.concatenate([seg_u, seg_v]))
    k = len(seg_u)
    segments = gpd.GeoDataFrame(
        {
            "segment_id": np.arange(k, dtype=np.int64),
            "name": seg_name.to_numpy(),
            "highway": seg_highway.to_numpy(),
            "length_m": seg_length.astype(np.float64),
            "u": node_codes[:k].astype(np.int64),
            "v": node_codes[k:].astype(np.int64),
        },
        geometry=gpd.GeoSeries(merged, crs=WGS84).values,
        crs=WGS84,
    )
    xy = node_xy[np.asarray(node_old)]
    nodes = gpd.GeoDataFrame(
        {"x": xy[:, 0], "y": xy[:, 1]},
        geometry=shapely.points(xy),
        crs=WGS84,
    )
    return segments, nodes, dropped


def _node_lines(
    lines: np.ndarray, tolerance: float = NODE_SNAP_M
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Node metric line strings: join vertices closer than ``tolerance`` and split at shared ones.

    Returns piece geometries, their source line index, and start/end node ids.
    """
    lines = _split_at_near_endpoints(lines, tolerance)
    coords, line_idx = shapely.get_coordinates(lines, return_index=True)
    # Cluster vertices within the tolerance (exact duplicates first, then a KD-tree).
    rounded = np.round(coords / 1e-3).astype(np.int64)
    _, uniq_first, uniq_inv = np.unique(rounded, axis=0, return_index=True, return_inverse=True)
    uniq_inv = uniq_inv.ravel()
    uniq_xy = coords[uniq_first]
    close = cKDTree(uniq_xy).query_pairs(tolerance, output_type="ndarray")
    graph = sparse.coo_matrix(
        (np.ones(len(close)), (close[:, 0], close[:, 1])), shape=(len(uniq_xy), len(uniq_xy))
    )
    _, cluster_of_uniq = connected_components(graph, directed=False)
    cluster = cluster_of_uniq[uniq_inv]
    n_clusters = int(cluster.max()) + 1
    rep = np.zeros((n_clusters, 2))
    rep[cluster[::-1]] = coords[::-1]  # first member of each cluster as its position

    # Drop consecutive vertices of a line that fall into the same cluster.
    n = len(coords)
    first = np.ones(n, dtype=bool)
    first[1:] = line_idx[1:] != line_idx[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = line_idx[:-1] != line_idx[1:]
    dup = np.zeros(n, dtype=bool)
    dup[1:] = (cluster[1:] == cluster[:-1]) & ~first[1:]
    # never drop a line's last vertex: drop the one before it instead
    dup_last = dup & last
    dup[dup_last] = False
    prev = np.flatnonzero(dup_last) - 1
    dup[prev[~first[prev]]] = True
    coords, line_idx, cluster = coords[~dup], line_idx[~dup], cluster[~dup]
    n = len(coords)
    first = np.ones(n, dtype=bool)
    first[1:] = line_idx[1:] != line_idx[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = line_idx[:-1] != line_idx[1:]
    # Lines reduced to a single vertex vanish.
    counts = np.bincount(line_idx, minlength=len(lines))
    alive = counts[line_idx] >= 2
    coords, line_idx, cluster = coords[alive], line_idx[alive], cluster[alive]
    first, last = first[alive], last[alive]

    # A node is a cluster at a line end or used by two or more vertices.
    uses = np.bincount(cluster, minlength=n_clusters)
    is_node_cluster = uses >= 2
    is_node_cluster[cluster[first | last]] = True
    is_node = is_node_cluster[cluster]
    coords = np.where(is_node[:, None], rep[cluster], coords)

    # Split at interior node vertices: duplicate them, start a new piece at the copy.
    interior_node = is_node & ~first & ~last
    repeat = np.where(interior_node, 2, 1)
    coords_r = np.repeat(coords, repeat, axis=0)
    line_r = np.repeat(line_idx, repeat)
    cluster_r = np.repeat(cluster, repeat)
    starts = np.repeat(first, repeat)
    copy_pos = np.cumsum(repeat) - 1  # position of the last copy of each vertex
    starts[copy_pos[interior_node]] = True
    piece = np.cumsum(starts) - 1
    pieces = shapely.linestrings(coords_r, indices=piece)
    piece_first = np.flatnonzero(starts)
    piece_last = np.r_[piece_first[1:] - 1, len(coords_r) - 1]
    return pieces, line_r[piece_first], cluster_r[piece_first], cluster_r[piece_last]


def _split_at_near_endpoints(lines: np.ndarray, tolerance: float) -> np.ndarray:
    """Insert a vertex where a line end lies within ``tolerance`` of another line's interior."""
    ends = np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    owner = np.concatenate([np.arange(len(lines)), np.arange(len(lines))])
    tree = shapely.STRtree(lines)
    pt_idx, line_hit = tree.query(ends, predicate="dwithin", distance=tolerance)
    other = owner[pt_idx] != line_hit
    pt_idx, line_hit = pt_idx[other], line_hit[other]
    if not len(pt_idx):
        return lines
    # Skip hits where the end already coincides with a vertex of the other line.
    along = shapely.line_locate_point(lines[line_hit], ends[pt_idx])
    line_len = shapely.length(lines[line_hit])
    inner = (along > tolerance) & (along < line_len - tolerance)
    pt_idx, line_hit, along = pt_idx[inner], line_hit[inner], along[inner]
    if not len(pt_idx):
        return lines
    lines = lines.copy()
    for j in np.unique(line_hit):  # few lines at T-junctions without a shared vertex
        cuts = np.unique(along[line_hit == j])
        xy = shapely.get_coordinates(lines[j])
        seg = np.hypot(*np.diff(xy, axis=0).T)
        cum = np.r_[0.0, np.cumsum(seg)]
        new_pts = shapely.get_coordinates(shapely.line_interpolate_point(lines[j], cuts))
        near_vertex = np.min(np.abs(cum[None, :] - cuts[:, None]), axis=1) <= tolerance
        if near_vertex.all():
            continue
        all_d = np.r_[cum, cuts[~near_vertex]]
        all_xy = np.vstack([xy, new_pts[~near_vertex]])
        lines[j] = shapely.linestrings(all_xy[np.argsort(all_d, kind="stable")])
    return lines


class _PieceIndex:
    """Exact nearest-line search: a KD-tree over the midpoints of short straight pieces.

    Every line is cut into straight pieces no longer than ``2 * H``. A piece whose midpoint is
    at distance ``m`` from a point lies at least ``m - H`` from it, so once the k nearest
    midpoints are known, any piece beyond the k-th midpoint distance ``m_k`` is at least
    ``m_k - H`` away: the best of the k candidates is exact when it is no farther than that.
    Points left undecided after a few rounds with larger k are reported for an exact fallback.
    """

    ROUNDS = (8, 32, 128)

    def __init__(self, lines: np.ndarray, *, piece_m: float = SNAP_PIECE_M) -> None:
        dense = shapely.segmentize(lines, piece_m)
        coords, owner = shapely.get_coordinates(dense, return_index=True)
        same = owner[:-1] == owner[1:]
        a, b = coords[:-1][same], coords[1:][same]
        self.owner = owner[:-1][same]
        self.ax, self.ay = a[:, 0].copy(), a[:, 1].copy()
        self.dx, self.dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        den = self.dx * self.dx + self.dy * self.dy
        self.inv = np.divide(1.0, den, out=np.zeros_like(den), where=den > 0)
        self.half = float(np.sqrt(den.max()) / 2) if len(den) else 0.0
        self.n = len(self.owner)
        self.kd = cKDTree((a + b) / 2)
        self.workers = max(1, min(2, os.cpu_count() or 1))

    def _round(
        self, px: np.ndarray, py: np.ndarray, k: int, max_d: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mid_d, cand = self.kd.query(
            np.column_stack([px, py]),
            k=k,
            distance_upper_bound=max_d + self.half,
            workers=self.workers,
        )
        mid_d = mid_d.reshape(len(px), k)
        cand = cand.reshape(len(px), k)
        present = cand < self.n
        cand = np.where(present, cand, 0)
        qx = px[:, None] - self.ax[cand]
        qy = py[:, None] - self.ay[cand]
        dx, dy = self.dx[cand], self.dy[cand]
        t = (qx * dx + qy * dy) * self.inv[cand]
        np.clip(t, 0.0, 1.0, out=t)
        qx -= t * dx
        qy -= t * dy
        d2 = qx * qx + qy * qy
        d2[~present] = np.inf
        j = d2.argmin(axis=1)
        rows = np.arange(len(px))
        best = np.sqrt(d2[rows, j])
        decided = mid_d[:, -1] - self.half >= np.minimum(best, max_d)
        return cand[rows, j], best, decided

    def nearest(
        self, px: np.ndarray, py: np.ndarray, max_d: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest line index and distance per point (-1/inf beyond ``max_d``), undecided rows."""
        line = np.full(len(px), -1, dtype=np.int64)
        dist = np.full(len(px), np.inf)
        todo = np.arange(len(px))
        if self.n == 0:
            return line, dist, np.empty(0, dtype=np.int64)
        for k in self.ROUNDS:
            if not len(todo):
                break
            piece, best, decided = self._round(px[todo], py[todo], k, max_d)
            found = todo[decided]
            within = best[decided] <= max_d
            line[found[within]] = self.owner[piece[decided][within]]
            dist[found[within]] = best[decided][within]
            todo = todo[~decided]
        return line, dist, todo


# ----------------------------------------------------------------------------------------
# The network
# ----------------------------------------------------------------------------------------


class StreetNetwork:
    """Street segments between junctions, their end nodes and graph helpers.

    Parameters
    ----------
    segments
        GeoDataFrame with ``segment_id``, ``name``, ``highway``, ``length_m``, ``u``, ``v`` and
        LineString geometry (any CRS; stored in EPSG:4326). See docs/CONTRACTS.md.
    nodes
        GeoDataFrame of the end nodes, index = node position (any CRS; stored in EPSG:4326).
    metric_crs
        CRS for analysis; chosen with :func:`metric_crs_for` from the centre when omitted.
    dropped_components
        How many disconnected pieces were left out when only the largest one was kept.
    source
        A short description of where the network came from.
    """

    def __init__(
        self,
        segments: gpd.GeoDataFrame,
        nodes: gpd.GeoDataFrame,
        *,
        metric_crs: CRS | str | int | None = None,
        dropped_components: int = 0,
        source: str = "",
    ) -> None:
        if segments.crs is None or nodes.crs is None:
            msg = "Street segments and nodes need a coordinate reference system."
            raise ValueError(msg)
        segments = segments.to_crs(WGS84).reset_index(drop=True)
        nodes = nodes.to_crs(WGS84).reset_index(drop=True)
        segments["segment_id"] = np.arange(len(segments), dtype=np.int64)
        segments["name"] = _clean_text(segments["name"].to_numpy(), segments.index)
        segments["highway"] = _clean_text(segments["highway"].to_numpy(), segments.index)
        for col in ("u", "v"):
            segments[col] = segments[col].astype(np.int64)
        segments["length_m"] = segments["length_m"].astype(np.float64)
        columns = ["segment_id", "name", "highway", "length_m", "u", "v"]
        extra = [c for c in segments.columns if c not in (*columns, segments.geometry.name)]
        self.segments: gpd.GeoDataFrame = segments[[*columns, *extra, segments.geometry.name]]
        if self.segments.geometry.name != "geometry":
            self.segments = self.segments.rename_geometry("geometry")
        xy = shapely.get_coordinates(nodes.geometry.values)
        self.nodes: gpd.GeoDataFrame = gpd.GeoDataFrame(
            {"x": xy[:, 0], "y": xy[:, 1]}, geometry=shapely.points(xy), crs=WGS84
        )
        if len(self.segments) and (
            self.segments[["u", "v"]].to_numpy().max() >= len(self.nodes)
            or self.segments[["u", "v"]].to_numpy().min() < 0
        ):
            msg = "Segment end nodes u/v must be positions 0..N-1 in the node table."
            raise ValueError(msg)
        if metric_crs is None:
            if len(self.nodes):
                west, south, east, north = self.nodes.total_bounds
                metric_crs = metric_crs_for((west + east) / 2, (south + north) / 2)
            else:
                metric_crs = BRITISH_NATIONAL_GRID
        self.metric_crs: CRS = CRS.from_user_input(metric_crs)
        self.dropped_components = int(dropped_components)
        self.source = source
        self._segments_metric: gpd.GeoDataFrame | None = None
        self._tree: shapely.STRtree | None = None
        self._pieces: _PieceIndex | None = None
        self._to_metric: Transformer | None = None
        self._node_matrix: sparse.csr_matrix | None = None
        self._adjacency: sparse.csr_matrix | None = None

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"StreetNetwork({s['segments']} segments, {s['nodes']} nodes, "
            f"{s['length_km']} km, metric CRS EPSG:{self.metric_crs.to_epsg()})"
        )

    def __len__(self) -> int:
        return len(self.segments)

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def _from_edges(cls, edges: pd.DataFrame, *, source: str) -> StreetNetwork:
        segments, nodes, dropped = _build_segments(edges)
        return cls(segments, nodes, dropped_components=dropped, source=source)

    @classmethod
    def from_pbf(
        cls,
        path: str | os.PathLike[str],
        *,
        bbox: tuple[float, float, float, float] | None = None,
        polygon: shapely.Geometry | None = None,
        network_type: str = "walk",
    ) -> StreetNetwork:
        """Load streets from an OpenStreetMap ``.osm.pbf`` extract with pyrosm.

        Parameters
        ----------
        path
            The ``.osm.pbf`` file, e.g. a Geofabrik extract.
        bbox
            Optional ``(min_lon, min_lat, max_lon, max_lat)`` to clip to.
        polygon
            Optional WGS84 polygon to clip to (instead of or as well as ``bbox``).
        network_type
            ``"walk"`` (default), ``"drive"`` or ``"all"``.

        Returns
        -------
        StreetNetwork
        """
        import pyrosm

        network_type = _check_network_type(network_type)
        path = _existing(path)
        area = _area(bbox, polygon)
        osm = pyrosm.OSM(str(path), bounding_box=area)
        extra = [k for k in _TAG_KEYS if k not in ("highway", "name")]
        try:
            result = osm.get_network(network_type="all", extra_attributes=extra, nodes=True)
        except Exception as exc:  # pyrosm raises a bare error on empty areas / broken files
            msg = (
                f"Could not read streets from {path.name}: {exc}. Check that it is an OSM PBF file."
            )
            raise ValueError(msg) from exc
        raw = result[1] if isinstance(result, tuple) else result
        if raw is None or len(raw) == 0:
            msg = f"{path.name} holds no streets in the chosen area; check the file or the area."
            raise ValueError(msg)
        raw = raw.loc[_network_mask(raw, network_type)]
        if area is not None:
            raw = raw.loc[shapely.intersects(area, raw.geometry.values)]
        edges = _edges_frame(raw["u"], raw["v"], raw.geometry.values, raw["name"], raw["highway"])
        return cls._from_edges(edges, source=f"pbf:{path.name}")

    @classmethod
    def from_osm_xml(
        cls, path: str | os.PathLike[str], *, network_type: str = "walk"
    ) -> StreetNetwork:
        """Load streets from an OpenStreetMap XML (``.osm``) file with osmnx.

        Parameters
        ----------
        path
            The ``.osm`` / ``.xml`` file (e.g. exported from openstreetmap.org or JOSM).
        network_type
            ``"walk"`` (default), ``"drive"`` or ``"all"``.

        Returns
        -------
        StreetNetwork
        """
        import osmnx as ox

        network_type = _check_network_type(network_type)
        path = _existing(path)
        saved = list(ox.settings.useful_tags_way)
        ox.settings.useful_tags_way = sorted(set(saved) | set(_TAG_KEYS))
        try:
            G = ox.graph_from_xml(path, simplify=False, retain_all=True)
        except Exception as exc:
            msg = (
                f"Could not read streets from {path.name}: {exc}. Check that it is an OSM XML file."
            )
            raise ValueError(msg) from exc
        finally:
            ox.settings.useful_tags_way = saved
        edges = _graph_edges(G)
        edges = edges.loc[_network_mask(edges, network_type)]
        frame = _edges_frame(
            edges["u"], edges["v"], edges.geometry.values, edges["name"], edges["highway"]
        )
        return cls._from_edges(frame, source=f"osm:{path.name}")

    @classmethod
    def from_graph(cls, G: nx.Graph) -> StreetNetwork:
        """Build the network from an osmnx/networkx graph (nodes with ``x``/``y``).

        Directed graphs are made undirected and reciprocal edges with the same geometry
        are kept once. Edge ``geometry`` is used when present, else a straight line.

        Parameters
        ----------
        G
            A (Multi)(Di)Graph; ``G.graph["crs"]`` gives its CRS (EPSG:4326 when absent).

        Returns
        -------
        StreetNetwork
        """
        edges = _graph_edges(G)
        frame = _edges_frame(
            edges["u"], edges["v"], edges.geometry.values, edges["name"], edges["highway"]
        )
        return cls._from_edges(frame, source="graph")

    @classmethod
    def from_lines(
        cls,
        gdf_or_path: gpd.GeoDataFrame | str | os.PathLike[str],
        *,
        name_column: str | None = None,
        highway_column: str | None = None,
    ) -> StreetNetwork:
        """Build the network from a line layer (e.g. OS Open Roads, a council's street file).

        Lines are noded: end points and shared vertices closer than 0.5 m are joined, and
        lines are split where they share a vertex or where a line ends on another line.

        Parameters
        ----------
        gdf_or_path
            A GeoDataFrame of (Multi)LineStrings in any CRS, or a GeoPackage / GeoJSON /
            Shapefile path (the first line layer is read).
        name_column
            Column with the street name; guessed (``name``, ``name1``, ``road_name``, ...)
            when omitted; names are "" when there is none.
        highway_column
            Column with the road class; guessed (``highway``, ``fclass``, ``function``, ...)
            when omitted.

        Returns
        -------
        StreetNetwork
        """
        if isinstance(gdf_or_path, gpd.GeoDataFrame):
            gdf, label = gdf_or_path, "lines"
        else:
            path = _existing(gdf_or_path)
            gdf, label = _read_line_layer(path), f"lines:{path.name}"
        if gdf.crs is None:
            west, south, east, north = gdf.total_bounds if len(gdf) else (0, 0, 0, 0)
            if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
                msg = "The street lines have no coordinate reference system; save them with one (e.g. EPSG:27700)."
                raise ValueError(msg)
            gdf = gdf.set_crs(WGS84)
        gdf = gdf.loc[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        gdf = gdf.loc[gdf.geom_type.isin(["LineString", "MultiLineString"])]
        if gdf.empty:
            msg = "The file holds no street lines (LineString features); choose a street layer."
            raise ValueError(msg)
        name_column = name_column or _guess_column(gdf, _NAME_COLUMNS)
        highway_column = highway_column or _guess_column(gdf, _HIGHWAY_COLUMNS)
        for col in (name_column, highway_column):
            if col is not None and col not in gdf.columns:
                msg = f"Column {col!r} is not in the street layer; columns are: {', '.join(map(str, gdf.columns))}."
                raise ValueError(msg)
        gdf = gdf.explode(index_parts=False).reset_index(drop=True)
        lonlat = gdf.to_crs(WGS84)
        west, south, east, north = lonlat.total_bounds
        metric = metric_crs_for((west + east) / 2, (south + north) / 2)
        lines = _transform_geoms(gdf.geometry.values, CRS.from_user_input(gdf.crs), metric)
        lines = shapely.force_2d(np.asarray(lines))
        pieces, src, uc, vc = _node_lines(lines)
        pieces = _transform_geoms(pieces, metric, WGS84)
        names = gdf[name_column].to_numpy()[src] if name_column else ""
        highways = gdf[highway_column].to_numpy()[src] if highway_column else ""
        frame = _edges_frame(uc, vc, pieces, names, highways)
        net = cls._from_edges(frame, source=label)
        net.metric_crs = metric
        return net

    @classmethod
    def download(
        cls,
        place_or_bbox: str | tuple[float, float, float, float],
        *,
        network_type: str = "walk",
        timeout_s: float = 10.0,
    ) -> StreetNetwork:
        """Download the street network from OpenStreetMap (Overpass) with osmnx.

        Parameters
        ----------
        place_or_bbox
            A place name (``"Kingston upon Hull, UK"``) or ``(min_lon, min_lat, max_lon, max_lat)``.
        network_type
            ``"walk"`` (default), ``"drive"`` or ``"all"``.
        timeout_s
            Seconds to wait for the servers.

        Returns
        -------
        StreetNetwork

        Raises
        ------
        NetworkUnavailableError
            When the machine is offline or the server cannot be reached.
        """
        import osmnx as ox
        import requests

        network_type = _check_network_type(network_type)
        if not _online(ox.settings.overpass_url, timeout_s=min(timeout_s, 3.0)):
            raise NetworkUnavailableError(OFFLINE_MESSAGE)
        saved_timeout = ox.settings.requests_timeout
        saved_tags = list(ox.settings.useful_tags_way)
        ox.settings.requests_timeout = timeout_s
        ox.settings.useful_tags_way = sorted(set(saved_tags) | set(_TAG_KEYS))
        osmnx_type = {"walk": "walk", "drive": "drive", "all": "all"}[network_type]
        try:
            if isinstance(place_or_bbox, str):
                G = ox.graph_from_place(place_or_bbox, network_type=osmnx_type, simplify=False)
            else:
                west, south, east, north = (float(c) for c in place_or_bbox)
                G = ox.graph_from_bbox(
                    (west, south, east, north), network_type=osmnx_type, simplify=False
                )
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, OSError) as exc:
            raise NetworkUnavailableError(OFFLINE_MESSAGE) from exc
        except ox._errors.InsufficientResponseError as exc:
            msg = f"OpenStreetMap returned no streets for {place_or_bbox!r}; check the place name or area."
            raise ValueError(msg) from exc
        finally:
            ox.settings.requests_timeout = saved_timeout
            ox.settings.useful_tags_way = saved_tags
        edges = _graph_edges(G)
        if network_type == "walk":  # osmnx's walk filter drops cycleways; keep our own rules
            edges = edges.loc[_network_mask(edges, network_type)]
        frame = _edges_frame(
            edges["u"], edges["v"], edges.geometry.values, edges["name"], edges["highway"]
        )
        return cls._from_edges(frame, source=f"download:{place_or_bbox}")

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        bbox: tuple[float, float, float, float] | None = None,
        network_type: str = "walk",
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> StreetNetwork:
        """Load a street file, choosing the reader by its extension.

        Parameters
        ----------
        path
            ``.osm.pbf``/``.pbf`` (pyrosm), ``.osm``/``.xml`` (osmnx), or a line layer
            ``.gpkg``/``.geojson``/``.json``/``.shp``. A GeoPackage written by
            :meth:`save` is read back directly.
        bbox
            Optional ``(min_lon, min_lat, max_lon, max_lat)`` to clip to.
        network_type
            ``"walk"`` (default), ``"drive"`` or ``"all"`` (OSM files only).
        cache_dir
            When given (e.g. :data:`DEFAULT_CACHE_DIR`, ``data/cache``), the built network is
            cached there as a GeoPackage keyed by the file, its modification time and these
            options, so the next load of the same file is fast.

        Returns
        -------
        StreetNetwork
        """
        network_type = _check_network_type(network_type)
        path = _existing(path)
        kind = _file_kind(path)
        cache_path: Path | None = None
        if cache_dir is not None:
            stat = path.stat()
            key = json.dumps(
                [
                    str(path.resolve()),
                    stat.st_mtime_ns,
                    stat.st_size,
                    bbox and [float(b) for b in bbox],
                    network_type,
                    CACHE_FORMAT_VERSION,
                ]
            )
            digest = hashlib.sha256(key.encode()).hexdigest()[:20]
            cache_path = Path(cache_dir) / f"streets-{digest}.gpkg"
            if cache_path.is_file():
                try:
                    return cls.load(cache_path)
                except Exception:  # a broken cache file is rebuilt
                    cache_path.unlink(missing_ok=True)
        if kind == "pbf":
            net = cls.from_pbf(path, bbox=bbox, network_type=network_type)
        elif kind == "xml":
            net = cls.from_osm_xml(path, network_type=network_type)
        elif kind == "gpkg" and _is_saved_network(path):
            net = cls.load(path)
        else:
            net = cls.from_lines(path)
        if bbox is not None and kind != "pbf":
            net = net.clip(bbox)
        if cache_path is not None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_path.with_suffix(".tmp.gpkg")
            net.save(tmp)
            os.replace(tmp, cache_path)
        return net

    def clip(self, bbox: tuple[float, float, float, float]) -> StreetNetwork:
        """Keep the segments that intersect ``bbox`` (largest connected part).

        Parameters
        ----------
        bbox
            ``(min_lon, min_lat, max_lon, max_lat)``.

        Returns
        -------
        StreetNetwork
        """
        area = _area(bbox, None)
        seg = self.segments.loc[shapely.intersects(area, self.segments.geometry.values)]
        frame = _edges_frame(seg["u"], seg["v"], seg.geometry.values, seg["name"], seg["highway"])
        return type(self)._from_edges(frame, source=self.source)

    # -- persistence ----------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the network to a GeoPackage (layers ``segments`` and ``nodes``).

        The metric CRS, dropped component count and source are stored as layer metadata.

        Parameters
        ----------
        path
            The ``.gpkg`` file to (over)write.

        Returns
        -------
        Path
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        meta = {
            "beatplan_streets": str(CACHE_FORMAT_VERSION),
            "metric_crs": self.metric_crs.to_wkt(),
            "metric_epsg": str(self.metric_crs.to_epsg() or ""),
            "dropped_components": str(self.dropped_components),
            "source": self.source,
        }
        seg = self.segments.copy()
        pyogrio.write_dataframe(seg, path, layer="segments", driver="GPKG", layer_metadata=meta)
        nodes = self.nodes.copy()
        nodes.insert(0, "node_id", np.arange(len(nodes), dtype=np.int64))
        pyogrio.write_dataframe(nodes, path, layer="nodes", driver="GPKG", append=False)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StreetNetwork:
        """Read a network written by :meth:`save`.

        Parameters
        ----------
        path
            The GeoPackage.

        Returns
        -------
        StreetNetwork
        """
        path = _existing(path)
        if not _is_saved_network(path):
            msg = (
                f"{path.name} is not a street network saved by Beatplan; load it with from_file()."
            )
            raise ValueError(msg)
        meta = pyogrio.read_info(path, layer="segments").get("layer_metadata") or {}
        seg = pyogrio.read_dataframe(path, layer="segments", use_arrow=True)
        nodes = pyogrio.read_dataframe(path, layer="nodes", use_arrow=True)
        nodes = nodes.sort_values("node_id").reset_index(drop=True)
        seg = seg.sort_values("segment_id").reset_index(drop=True)
        return cls(
            seg,
            nodes,
            metric_crs=CRS.from_wkt(meta["metric_crs"]) if meta.get("metric_crs") else None,
            dropped_components=int(meta.get("dropped_components", 0)),
            source=meta.get("source", ""),
        )

    # -- graph helpers --------------------------------------------------------------------

    def segments_metric(self) -> gpd.GeoDataFrame:
        """Return the segments in :attr:`metric_crs` (computed once, then cached).

        Returns
        -------
        geopandas.GeoDataFrame
        """
        if self._segments_metric is None:
            self._segments_metric = self.segments.to_crs(self.metric_crs)
        return self._segments_metric

    def node_matrix(self) -> sparse.csr_matrix:
        """Return the N x N symmetric node adjacency weighted by the shortest segment length (m).

        Self-loops are left out; lengths are clamped to at least 1 mm so every edge is stored.

        Returns
        -------
        scipy.sparse.csr_matrix
        """
        if self._node_matrix is None:
            n = len(self.nodes)
            u = self.segments["u"].to_numpy()
            v = self.segments["v"].to_numpy()
            w = np.maximum(self.segments["length_m"].to_numpy(), 1e-3)
            rows, cols, vals = np.r_[u, v], np.r_[v, u], np.r_[w, w]
            off = rows != cols
            rows, cols, vals = rows[off], cols[off], vals[off]
            order = np.lexsort((vals, cols, rows))
            rows, cols, vals = rows[order], cols[order], vals[order]
            first = np.ones(len(rows), dtype=bool)
            first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
            self._node_matrix = sparse.csr_matrix(
                (vals[first], (rows[first], cols[first])), shape=(n, n)
            )
        return self._node_matrix

    def segment_adjacency(self) -> sparse.csr_matrix:
        """Return the n x n segment adjacency: 1 where two segments share an end node.

        Returns
        -------
        scipy.sparse.csr_matrix
        """
        if self._adjacency is None:
            k, n = len(self.segments), len(self.nodes)
            u = self.segments["u"].to_numpy()
            v = self.segments["v"].to_numpy()
            rows = np.r_[np.arange(k), np.arange(k)]
            incidence = sparse.csr_matrix((np.ones(2 * k), (rows, np.r_[u, v])), shape=(k, n))
            incidence.data[:] = 1.0  # a self-loop counts once
            adj = (incidence @ incidence.T).tocsr()
            adj.setdiag(0)
            adj.eliminate_zeros()
            adj.data[:] = 1.0
            self._adjacency = adj
        return self._adjacency

    def to_networkx(self) -> nx.MultiGraph:
        """Return an undirected MultiGraph of the segments.

        Nodes 0..N-1 carry ``x``/``y`` (lon/lat); one edge per segment (key = segment_id)
        carries ``segment_id``, ``length`` (m), ``name``, ``highway`` and ``geometry`` (WGS84).

        Returns
        -------
        networkx.MultiGraph
        """
        G = nx.MultiGraph(crs="EPSG:4326")
        G.add_nodes_from(
            (i, {"x": x, "y": y})
            for i, x, y in zip(
                range(len(self.nodes)), self.nodes["x"], self.nodes["y"], strict=True
            )
        )
        seg = self.segments
        G.add_edges_from(
            (
                u,
                v,
                sid,
                {
                    "segment_id": sid,
                    "length": length,
                    "name": name,
                    "highway": hw,
                    "geometry": geom,
                },
            )
            for u, v, sid, length, name, hw, geom in zip(
                seg["u"].tolist(),
                seg["v"].tolist(),
                seg["segment_id"].tolist(),
                seg["length_m"].tolist(),
                seg["name"].tolist(),
                seg["highway"].tolist(),
                seg.geometry.values,
                strict=True,
            )
        )
        return G

    def summary(self) -> dict[str, Any]:
        """Return ``{"segments": int, "nodes": int, "length_km": float}``.

        Returns
        -------
        dict
        """
        return {
            "segments": len(self.segments),
            "nodes": len(self.nodes),
            "length_km": round(float(self.segments["length_m"].sum()) / 1000.0, 3),
        }

    # -- snapping -------------------------------------------------------------------------

    def _snap_tree(self) -> shapely.STRtree:
        """STRtree of the metric segments (exact fallback of :meth:`snap`), built once."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.segments_metric().geometry.values)
        return self._tree

    def _snap_index(self) -> _PieceIndex:
        """KD-tree over short straight pieces of the metric segments, built once."""
        if self._pieces is None:
            self._pieces = _PieceIndex(self.segments_metric().geometry.values)
        return self._pieces

    def to_metric(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """Project WGS84 lon/lat arrays to :attr:`metric_crs` (NaN stays NaN).

        Parameters
        ----------
        lon, lat
            Array-likes of degrees.

        Returns
        -------
        tuple of numpy.ndarray
        """
        if self._to_metric is None:
            self._to_metric = _transformer(WGS84, self.metric_crs)
        x, y = self._to_metric.transform(
            np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        )
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def snap(
        self, lon: Any, lat: Any, *, max_distance_m: float = 50.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Snap WGS84 points to their nearest street segment.

        Points are projected to :attr:`metric_crs`; an exact, vectorised nearest-line search
        (a KD-tree over short straight pieces of the segments with a proven distance bound,
        see ``_PieceIndex``) answers almost every point, and the few it cannot decide go to
        ``shapely.STRtree.query_nearest(max_distance=...)``. Both indexes are built once and
        cached on the instance. No Python loop over points.

        Parameters
        ----------
        lon, lat
            Scalars or 1-D array-likes of WGS84 degrees; NaN/invalid gives -1.
        max_distance_m
            Points farther than this (metres) from every segment get -1.

        Returns
        -------
        segment_id : numpy.ndarray of int64
            Nearest segment, -1 where none is within ``max_distance_m``.
        distance_m : numpy.ndarray of float64
            Distance in metres to that segment, NaN where ``segment_id`` is -1.
        """
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
        if lon.shape != lat.shape:
            msg = "snap() needs as many longitudes as latitudes."
            raise ValueError(msg)
        if not max_distance_m > 0:
            msg = "max_distance_m must be a positive number of metres."
            raise ValueError(msg)
        seg_id = np.full(len(lon), -1, dtype=np.int64)
        dist = np.full(len(lon), np.nan, dtype=np.float64)
        if len(lon) == 0 or len(self.segments) == 0:
            return seg_id, dist
        valid = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        x, y = self.to_metric(lon[valid], lat[valid])
        finite = np.isfinite(x) & np.isfinite(y)
        where = np.flatnonzero(valid)[finite]
        x, y = x[finite], y[finite]
        index = self._snap_index()
        tree_idx = np.full(len(x), -1, dtype=np.int64)
        d = np.full(len(x), np.inf)
        for lo in range(0, len(x), SNAP_CHUNK):
            sl = slice(lo, lo + SNAP_CHUNK)
            tree_idx[sl], d[sl], unresolved = index.nearest(x[sl], y[sl], float(max_distance_m))
            if len(unresolved):  # rare: exact answer from the segments' STRtree
                rows = unresolved + lo
                (pt, hit), dd = self._snap_tree().query_nearest(
                    shapely.points(x[rows], y[rows]),
                    max_distance=float(max_distance_m),
                    return_distance=True,
                    all_matches=False,
                )
                tree_idx[rows] = -1
                d[rows] = np.inf
                tree_idx[rows[pt]] = hit
                d[rows[pt]] = dd
        hit = (tree_idx >= 0) & (d <= max_distance_m)
        seg_id[where[hit]] = self.segments["segment_id"].to_numpy()[tree_idx[hit]]
        dist[where[hit]] = d[hit]
        return seg_id, dist


# ----------------------------------------------------------------------------------------
# I/O helpers
# ----------------------------------------------------------------------------------------


def _existing(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        msg = f"Street file {p} not found; check the path."
        raise FileNotFoundError(msg)
    return p


def _file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".osm.pbf", ".pbf")):
        return "pbf"
    if name.endswith((".osm", ".xml")):
        return "xml"
    if name.endswith(".gpkg"):
        return "gpkg"
    if name.endswith((".geojson", ".json", ".shp")):
        return "lines"
    msg = (
        f"Cannot read street file {path.name}: use an OpenStreetMap extract (.osm.pbf or .osm) "
        "or a line layer (.gpkg, .geojson, .shp)."
    )
    raise ValueError(msg)


def _is_saved_network(path: Path) -> bool:
    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(path)}
        if not {"segments", "nodes"} <= layers:
            return False
        meta = pyogrio.read_info(path, layer="segments").get("layer_metadata") or {}
    except Exception:
        return False
    return "beatplan_streets" in meta


def _read_line_layer(path: Path) -> gpd.GeoDataFrame:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        msg = f"Could not open {path.name} as a map layer: {exc}."
        raise ValueError(msg) from exc
    layer = None
    for name, geom_type in layers:
        if geom_type and "line" in str(geom_type).lower():
            layer = name
            break
    if layer is None:
        msg = f"{path.name} holds no street lines (LineString features); choose a street layer."
        raise ValueError(msg)
    return pyogrio.read_dataframe(path, layer=layer)


def _guess_column(gdf: pd.DataFrame, candidates: Iterable[str]) -> str | None:
    lower = {str(c).lower(): c for c in gdf.columns}
    for cand in candidates:
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None


def _area(
    bbox: tuple[float, float, float, float] | None, polygon: shapely.Geometry | None
) -> shapely.Geometry | None:
    area = None
    if bbox is not None:
        west, south, east, north = (float(c) for c in bbox)
        if not (west < east and south < north):
            msg = "The bbox must be (min_lon, min_lat, max_lon, max_lat) with min < max."
            raise ValueError(msg)
        area = shapely.box(west, south, east, north)
    if polygon is not None:
        area = polygon if area is None else shapely.intersection(area, polygon)
    return area


def _graph_edges(G: nx.Graph) -> gpd.GeoDataFrame:
    """Edge table (WGS84, geometry from u to v) with tags from a networkx/osmnx graph."""
    crs = CRS.from_user_input(G.graph.get("crs", "EPSG:4326"))
    node_ids = list(G.nodes)
    if not node_ids:
        msg = "The street graph has no nodes."
        raise ValueError(msg)
    xy = {n: (float(d["x"]), float(d["y"])) for n, d in G.nodes(data=True)}
    rows = (
        G.edges(keys=True, data=True)
        if G.is_multigraph()
        else ((a, b, 0, d) for a, b, d in G.edges(data=True))
    )
    us, vs, geoms, records = [], [], [], []
    for a, b, _, data in rows:
        us.append(a)
        vs.append(b)
        geom = data.get("geometry")
        if geom is None:
            geom = shapely.LineString([xy[a], xy[b]])
        else:
            start = shapely.get_coordinates(geom)[0]
            if not np.allclose(start, xy[a], rtol=0, atol=1e-9):
                geom = shapely.reverse(geom)
        geoms.append(geom)
        records.append({k: data.get(k) for k in _TAG_KEYS})
    table = pd.DataFrame.from_records(records, columns=list(_TAG_KEYS))
    table.insert(0, "v", vs)
    table.insert(0, "u", us)
    geometry = _transform_geoms(np.asarray(geoms, dtype=object), crs, WGS84)
    for key in ("highway", "name"):
        table[key] = _clean_text(table[key].to_numpy(), table.index)
    return gpd.GeoDataFrame(table, geometry=geometry, crs=WGS84)


def _online(url: str, *, timeout_s: float = 3.0) -> bool:
    """Whether ``url``'s host answers a TCP connection within ``timeout_s`` (DNS included)."""
    parsed = urlparse(url)
    host = parsed.hostname or url
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    result: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout_s + 0.5)
    return bool(result and result[0])
