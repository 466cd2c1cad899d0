"""Street segments from edge tables: largest component, chains merged through degree-2 nodes, noding."""

from __future__ import annotations

from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.street_crs import WGS84, _geodesic_lengths
from geo.street_tags import _clean_text

NODE_SNAP_M = 0.5


class _Edges(NamedTuple):
    """Atomic edges as parallel arrays: end node codes, geometry (u to v), name, highway."""

    u: np.ndarray
    v: np.ndarray
    geoms: np.ndarray
    names: np.ndarray
    highways: np.ndarray

    def take(self, mask: np.ndarray) -> _Edges:
        """The edges where ``mask`` is true (or at the given positions)."""
        return _Edges(*(a[mask] for a in self))


class _Chains(NamedTuple):
    """Edges grouped into chains, with each chain's merged geometry and its half-edges."""

    label: np.ndarray
    n_chains: int
    merged: np.ndarray
    h_node: np.ndarray
    h_chain: np.ndarray
    ends: np.ndarray


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
    edges = _valid_edges(edges)
    atoms, n_nodes = _unique_edges(edges)
    atoms, n_nodes, dropped = _largest_component(atoms, n_nodes)
    u, v, geoms = atoms.u, atoms.v, atoms.geoms

    # Node coordinates from edge end points (geometry runs from u to v).
    node_xy = np.empty((n_nodes, 2))
    node_xy[u] = shapely.get_coordinates(shapely.get_point(geoms, 0))
    node_xy[v] = shapely.get_coordinates(shapely.get_point(geoms, -1))
    lengths = _geodesic_lengths(geoms)

    chains = _merge_chains(u, v, geoms, n_nodes)
    seg_u, seg_v = _orient_chains(chains, node_xy)
    seg_name, seg_highway, seg_length = _chain_attributes(
        chains.label, atoms.names, atoms.highways, lengths, chains.n_chains
    )
    segments, nodes = _segment_tables(
        seg_u, seg_v, seg_name, seg_highway, seg_length, chains.merged, node_xy
    )
    return segments, nodes, dropped


def _valid_edges(edges: pd.DataFrame) -> pd.DataFrame:
    """Drop edges without a line of at least two points or without both end keys."""
    geoms = edges["geometry"].to_numpy()
    ok = ~shapely.is_missing(geoms)
    ok[ok] = ~shapely.is_empty(geoms[ok]) & (shapely.get_num_coordinates(geoms[ok]) >= 2)
    ok &= pd.notna(edges["ukey"]).to_numpy() & pd.notna(edges["vkey"]).to_numpy()
    edges = edges.loc[ok].reset_index(drop=True)
    if edges.empty:
        msg = "No street lines were found in the data: check the file and the area you chose."
        raise ValueError(msg)
    return edges


def _unique_edges(edges: pd.DataFrame) -> tuple[_Edges, int]:
    """Number the end nodes and drop reciprocal / repeated edges (same ends, same geometry)."""
    codes, _ = pd.factorize(pd.concat([edges["ukey"], edges["vkey"]], ignore_index=True))
    m = len(edges)
    u, v = codes[:m].astype(np.int64), codes[m:].astype(np.int64)
    geoms = edges["geometry"].to_numpy()
    wkb = shapely.to_wkb(shapely.normalize(geoms), output_dimension=2)
    key = pd.DataFrame({"a": np.minimum(u, v), "b": np.maximum(u, v), "g": wkb})
    unique = ~key.duplicated().to_numpy()
    atoms = _Edges(u, v, geoms, edges["name"].to_numpy(), edges["highway"].to_numpy())
    return atoms.take(unique), int(codes.max()) + 1


def _largest_component(atoms: _Edges, n_nodes: int) -> tuple[_Edges, int, int]:
    """Keep the edges of the largest connected component, nodes renumbered in order of use.

    Returns the kept edges, their node count and how many other components were dropped.
    """
    u, v = atoms.u, atoms.v
    graph = sparse.coo_matrix((np.ones(len(u)), (u, v)), shape=(n_nodes, n_nodes))
    used = np.zeros(n_nodes, dtype=bool)
    used[u] = used[v] = True
    n_comp, comp = connected_components(graph, directed=False)
    comp_sizes = np.bincount(comp[used], minlength=n_comp)
    dropped = int((comp_sizes > 0).sum() - 1)
    biggest = int(np.argmax(comp_sizes))
    atoms = atoms.take(comp[u] == biggest)
    codes, _ = pd.factorize(np.concatenate([atoms.u, atoms.v]))
    m = len(atoms.u)
    u, v = codes[:m].astype(np.int64), codes[m:].astype(np.int64)
    return atoms._replace(u=u, v=v), int(codes.max()) + 1, dropped


def _merge_chains(u: np.ndarray, v: np.ndarray, geoms: np.ndarray, n_nodes: int) -> _Chains:
    """Merge edges into chains through degree-2 nodes, keeping nodes where a merge fails."""
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
        merged = _merged_geometries(label, geoms, n_chains)
        bad = shapely.get_type_id(merged) != 1
        if bad.any():  # could not merge (e.g. coincident distinct nodes): keep those nodes
            bad_nodes = h_node[bad[h_chain]]
            kept[bad_nodes] = True
            continue
        break
    else:  # pragma: no cover - defensive
        msg = "Could not build street segments from these lines."
        raise ValueError(msg)
    return _Chains(label, n_chains, merged, h_node, h_chain, ends)


def _merged_geometries(label: np.ndarray, geoms: np.ndarray, n_chains: int) -> np.ndarray:
    """One line per chain: the edge itself for single-edge chains, else the merged edges."""
    m = len(label)
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
    return merged


def _orient_chains(chains: _Chains, node_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """End nodes of each chain, ordered so that its merged geometry starts at the first.

    Rings merged from another vertex are rotated in place in ``chains.merged``.
    """
    merged, h_node, h_chain = chains.merged, chains.h_node, chains.h_chain
    # Chain end nodes: the two non-interior half-edges of each chain.
    end_idx = np.flatnonzero(chains.ends)
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
    return seg_u, seg_v


def _chain_attributes(
    label: np.ndarray,
    names: np.ndarray,
    highways: np.ndarray,
    lengths: np.ndarray,
    n_chains: int,
) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Per chain: sorted unique names, the highway value with the longest length, the length."""
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
    return seg_name, seg_highway, seg_length


def _segment_tables(
    seg_u: np.ndarray,
    seg_v: np.ndarray,
    seg_name: pd.Series,
    seg_highway: pd.Series,
    seg_length: np.ndarray,
    merged: np.ndarray,
    node_xy: np.ndarray,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Segment and node tables; only junction / dead-end nodes, renumbered by first use."""
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
    return segments, nodes


def _network_tables(
    segments: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Check and normalise a network's tables: WGS84, contract columns and dtypes, u/v in range."""
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
    segments_out = segments[[*columns, *extra, segments.geometry.name]]
    if segments_out.geometry.name != "geometry":
        segments_out = segments_out.rename_geometry("geometry")
    xy = shapely.get_coordinates(nodes.geometry.values)
    nodes_out = gpd.GeoDataFrame(
        {"x": xy[:, 0], "y": xy[:, 1]}, geometry=shapely.points(xy), crs=WGS84
    )
    if len(segments_out) and (
        segments_out[["u", "v"]].to_numpy().max() >= len(nodes_out)
        or segments_out[["u", "v"]].to_numpy().min() < 0
    ):
        msg = "Segment end nodes u/v must be positions 0..N-1 in the node table."
        raise ValueError(msg)
    return segments_out, nodes_out


# ----------------------------------------------------------------------------------------
# Noding line layers
# ----------------------------------------------------------------------------------------


def _node_lines(
    lines: np.ndarray, tolerance: float = NODE_SNAP_M
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Node metric line strings: join vertices closer than ``tolerance`` and split at shared ones.

    Returns piece geometries, their source line index, and start/end node ids.
    """
    lines = _split_at_near_endpoints(lines, tolerance)
    coords, line_idx = shapely.get_coordinates(lines, return_index=True)
    cluster, rep, n_clusters = _cluster_vertices(coords, tolerance)
    coords, line_idx, cluster, first, last = _drop_repeated_vertices(
        coords, line_idx, cluster, len(lines)
    )

    # A node is a cluster at a line end or used by two or more vertices.
    uses = np.bincount(cluster, minlength=n_clusters)
    is_node_cluster = uses >= 2
    is_node_cluster[cluster[first | last]] = True
    is_node = is_node_cluster[cluster]
    coords = np.where(is_node[:, None], rep[cluster], coords)
    return _split_at_nodes(coords, line_idx, cluster, first, last, is_node)


def _cluster_vertices(coords: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Cluster vertices within the tolerance (exact duplicates first, then a KD-tree).

    Returns the cluster of each vertex, each cluster's position (its first member) and the
    number of clusters.
    """
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
    return cluster, rep, n_clusters


def _line_bounds(line_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the first and the last vertex of each line."""
    n = len(line_idx)
    first = np.ones(n, dtype=bool)
    first[1:] = line_idx[1:] != line_idx[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = line_idx[:-1] != line_idx[1:]
    return first, last


def _drop_repeated_vertices(
    coords: np.ndarray, line_idx: np.ndarray, cluster: np.ndarray, n_lines: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Drop consecutive vertices of a line in the same cluster, then lines left with one vertex.

    Returns the remaining coordinates, line indices, clusters and first/last vertex masks.
    """
    n = len(coords)
    first, last = _line_bounds(line_idx)
    dup = np.zeros(n, dtype=bool)
    dup[1:] = (cluster[1:] == cluster[:-1]) & ~first[1:]
    # never drop a line's last vertex: drop the one before it instead
    dup_last = dup & last
    dup[dup_last] = False
    prev = np.flatnonzero(dup_last) - 1
    dup[prev[~first[prev]]] = True
    coords, line_idx, cluster = coords[~dup], line_idx[~dup], cluster[~dup]
    first, last = _line_bounds(line_idx)
    # Lines reduced to a single vertex vanish.
    counts = np.bincount(line_idx, minlength=n_lines)
    alive = counts[line_idx] >= 2
    coords, line_idx, cluster = coords[alive], line_idx[alive], cluster[alive]
    return coords, line_idx, cluster, first[alive], last[alive]


def _split_at_nodes(
    coords: np.ndarray,
    line_idx: np.ndarray,
    cluster: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    is_node: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split at interior node vertices: duplicate them, start a new piece at the copy."""
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
