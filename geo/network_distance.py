"""Bounded street distances between segment midpoints, searched tile by tile in near-linear time."""

from __future__ import annotations

import math
from collections.abc import Callable, MutableMapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import dijkstra

__all__ = [
    "MidpointDistances",
    "band_adjacency",
    "midpoint_distances",
    "network_cache",
    "smoothing_kernel",
]

_MIN_EDGE_M = 1e-3  # zero-length segments still count as edges in the graph
_BLOCK_BYTES = 4 * 2**20  # dense Dijkstra output per block (cache-sized is fastest)
_TILE_SOURCES = 200  # about this many source segments per tile (fastest on grids of 5k-300k)
_TILE_MARGIN_M = 5.0  # slack on the halo for node coordinates that sit off the segment ends


class MidpointDistances(NamedTuple):
    """Network distances between segment midpoints up to ``radius_m`` (sparse triplets).

    ``rows[k]`` and ``cols[k]`` are segment rows, ``dist[k]`` the shortest distance in
    metres along the network between their midpoints; every pair with distance
    ``<= radius_m`` appears once in each direction, and each segment with itself (0 m).
    """

    rows: np.ndarray
    cols: np.ndarray
    dist: np.ndarray
    n: int
    radius_m: float


def network_cache(segments: Any) -> MutableMapping[Any, Any] | None:
    """Return the analysis cache of a :class:`geo.streets.StreetNetwork`, or ``None``.

    Parameters
    ----------
    segments
        A StreetNetwork (its cache is returned) or a plain segments table (``None``).

    Returns
    -------
    dict or None
        The network's cache of network-only matrices, keyed by kind and bandwidth.
    """
    getter = getattr(segments, "analysis_cache", None)
    return getter() if callable(getter) else None


def _symmetric_midpoint_graph(segments: pd.DataFrame) -> tuple[sp.csr_matrix, int]:
    """Street nodes plus one node per segment midpoint, symmetric CSR (built once per call).

    Each midpoint node is joined to both end nodes of its segment by half its length, so
    the shortest path between two midpoint nodes is the network distance between the
    segments' midpoints. The matrix is made symmetric here so Dijkstra runs with
    ``directed=True`` and never converts the graph.
    """
    u = segments["u"].to_numpy(dtype=np.int64)
    v = segments["v"].to_numpy(dtype=np.int64)
    n = len(u)
    n_nodes = int(max(u.max(initial=-1), v.max(initial=-1))) + 1
    half = np.maximum(segments["length_m"].to_numpy(dtype=float), 2 * _MIN_EDGE_M) / 2.0
    mid = n_nodes + np.arange(n)
    one_way = sp.csr_matrix(
        (np.r_[half, half], (np.r_[mid, mid], np.r_[u, v])), shape=(n_nodes + n,) * 2
    )  # a self-loop's two halves add up to its length, as before
    graph = (one_way + one_way.T).tocsr()
    graph.sort_indices()
    return graph, n_nodes


def _metric_points(segments: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Metric x/y of each segment's midpoint, start and end (3 rows of n), or ``None``."""
    geom = getattr(segments, "geometry", None)
    if geom is None or len(segments) == 0:
        return None
    import shapely

    from geo.risk import metric_crs_for

    lines = np.asarray(geom.values if hasattr(geom, "values") else geom)
    mid = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    coords = shapely.get_coordinates(lines)
    ends = np.cumsum(shapely.get_num_coordinates(lines))
    if len(coords) == 0 or (np.diff(np.r_[0, ends]) == 0).any():
        return None  # an empty geometry: no tiles
    first, last = np.r_[0, ends[:-1]], ends - 1
    x = np.r_[shapely.get_x(mid), coords[first, 0], coords[last, 0]]
    y = np.r_[shapely.get_y(mid), coords[first, 1], coords[last, 1]]
    crs = getattr(segments, "crs", None)
    if crs is not None and CRS.from_user_input(crs).is_geographic:
        to = metric_crs_for(x[np.isfinite(x)], y[np.isfinite(y)])
        x, y = Transformer.from_crs(crs, to, always_xy=True).transform(x, y)
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return None
    return x.reshape(3, -1), y.reshape(3, -1)


def _node_points(
    segments: pd.DataFrame, n_nodes: int, xy: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Metric x/y of every graph node: street nodes from segment ends, then midpoints."""
    x, y = xy
    u = segments["u"].to_numpy(dtype=np.int64)
    v = segments["v"].to_numpy(dtype=np.int64)
    nx_, ny_ = np.full(n_nodes, x[0, 0]), np.full(n_nodes, y[0, 0])  # unused nodes: anywhere
    nx_[v], ny_[v] = x[2], y[2]
    nx_[u], ny_[u] = x[1], y[1]
    return np.r_[nx_, x[0]], np.r_[ny_, y[0]]


class _Tiles(NamedTuple):
    """Graph nodes and source segments grouped by square cell."""

    cells: np.ndarray  # the occupied cells (sorted ids cy * n_cx + cx)
    node_order: np.ndarray
    node_bounds: np.ndarray  # nodes of cells[k]: node_order[node_bounds[k]:node_bounds[k+1]]
    src_order: np.ndarray
    src_bounds: np.ndarray  # sources of cells[k], likewise
    n_cx: int


def _tiles(
    px: np.ndarray, py: np.ndarray, sources: np.ndarray, n_nodes: int, cell: float
) -> _Tiles:
    """Bucket nodes (and the sources' midpoint nodes) into square cells of side ``cell``."""
    x0, y0 = px.min(), py.min()
    cx = ((px - x0) // cell).astype(np.int64)
    cy = ((py - y0) // cell).astype(np.int64)
    n_cx = int(cx.max()) + 3  # a spare column each side: neighbours never wrap a row
    cell_of_node = (cy + 1) * n_cx + cx + 1
    cells = np.unique(cell_of_node)
    node_order = np.argsort(cell_of_node, kind="stable")
    node_bounds = np.searchsorted(cell_of_node[node_order], np.r_[cells, cells[-1] + 1])
    src_cell = cell_of_node[n_nodes + sources]
    src_order = sources[np.argsort(src_cell, kind="stable")]
    src_bounds = np.searchsorted(np.sort(src_cell), np.r_[cells, cells[-1] + 1])
    return _Tiles(cells, node_order, node_bounds, src_order, src_bounds, n_cx)


def _cell_size(
    px: np.ndarray, py: np.ndarray, n: int, radius: float, tile_m: float | None
) -> float:
    """Side of the tiles: about ``_TILE_SOURCES`` segments each, never below the halo."""
    floor = radius + _TILE_MARGIN_M
    if tile_m is not None:
        return max(float(tile_m), floor)
    area = max(np.ptp(px), 1.0) * max(np.ptp(py), 1.0)
    return max(math.sqrt(area * _TILE_SOURCES / max(n, 1)), floor)


def _subgraph(
    graph: sp.csr_matrix, nodes: np.ndarray, local: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """The subgraph induced on ``nodes`` and, per node, its lightest edge leaving the set.

    ``local`` is a scratch array (-1 everywhere) of graph width; it is restored on return.
    """
    local[nodes] = np.arange(len(nodes))
    starts, ends = graph.indptr[nodes], graph.indptr[nodes + 1]
    counts = ends - starts
    entry = np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(counts.sum())
    row = np.repeat(np.arange(len(nodes)), counts)
    col = local[graph.indices[entry]]
    data = graph.data[entry]
    inside = col >= 0
    local[nodes] = -1
    out_w = np.full(len(nodes), np.inf)
    np.minimum.at(out_w, row[~inside], data[~inside])
    indptr = np.r_[0, np.cumsum(np.bincount(row[inside], minlength=len(nodes)))]
    sub = sp.csr_matrix((data[inside], col[inside], indptr), shape=(len(nodes),) * 2)
    return sub, out_w


def _near(x: np.ndarray, y: np.ndarray, sx: np.ndarray, sy: np.ndarray, reach: float) -> np.ndarray:
    """Mask of the points inside the sources' bounding box grown by ``reach``."""
    return (
        (x >= sx.min() - reach)
        & (x <= sx.max() + reach)
        & (y >= sy.min() - reach)
        & (y <= sy.max() + reach)
    )


def _tile_distances(
    graph: sp.csr_matrix,
    n_nodes: int,
    tiles: _Tiles,
    radius: float,
    local: np.ndarray,
    points: tuple[np.ndarray, np.ndarray],
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Bounded searches tile by tile; returns the sources whose search may leave the tile.

    A source is exact when every way out of its tile's node set is longer than the
    radius (distance to a boundary node plus its lightest edge out), so nothing depends
    on the geometry matching the lengths; the other sources are returned for a full search.
    """
    px, py = points
    reach = radius + _TILE_MARGIN_M
    unsafe: list[np.ndarray] = []
    ring = (np.arange(-1, 2)[:, None] * tiles.n_cx + np.arange(-1, 2)).ravel()
    for k in np.flatnonzero(np.diff(tiles.src_bounds)):  # a loop over tiles, not segments
        src = tiles.src_order[tiles.src_bounds[k] : tiles.src_bounds[k + 1]]
        want = tiles.cells[k] + ring
        around = np.minimum(np.searchsorted(tiles.cells, want), len(tiles.cells) - 1)
        around = around[tiles.cells[around] == want]  # the occupied cells of the 3 x 3 block
        parts = [tiles.node_order[tiles.node_bounds[c] : tiles.node_bounds[c + 1]] for c in around]
        nodes = np.concatenate(parts)
        nodes = np.sort(
            nodes[_near(px[nodes], py[nodes], px[n_nodes + src], py[n_nodes + src], reach)]
        )
        sub, out_w = _subgraph(graph, nodes, local)
        pos = np.searchsorted(nodes, n_nodes + src)
        is_mid = nodes >= n_nodes
        mid_cols, mid_seg = np.flatnonzero(is_mid), nodes[is_mid] - n_nodes
        exits = np.flatnonzero(np.isfinite(out_w))
        block = max(1, _BLOCK_BYTES // (8 * len(nodes)))
        for start in range(0, len(src), block):
            s, p = src[start : start + block], pos[start : start + block]
            dist = dijkstra(sub, directed=True, indices=p, limit=radius)
            if len(exits):
                leave = (dist[:, exits] + out_w[exits]).min(axis=1) <= radius
                if leave.any():
                    unsafe.append(s[leave])
                    s, dist = s[~leave], dist[~leave]
            d = dist[:, mid_cols]
            r, c = np.nonzero(d <= radius)
            out.append((s[r], mid_seg[c], d[r, c]))
    return np.concatenate(unsafe) if unsafe else np.zeros(0, dtype=np.int64)


def _full_distances(
    graph: sp.csr_matrix,
    n_nodes: int,
    sources: np.ndarray,
    radius: float,
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> None:
    """Bounded searches over the whole graph in blocks of sources (small networks, fallback)."""
    block = max(1, _BLOCK_BYTES // (8 * graph.shape[0]))
    for start in range(0, len(sources), block):
        s = sources[start : start + block]
        d = dijkstra(graph, directed=True, indices=n_nodes + s, limit=radius)[:, n_nodes:]
        r, c = np.nonzero(d <= radius)
        out.append((s[r], c, d[r, c]))


def midpoint_distances(
    segments: pd.DataFrame,
    *,
    radius_m: float,
    sources: np.ndarray | None = None,
    tile_m: float | None = None,
) -> MidpointDistances:
    """Network distances between segment midpoints up to ``radius_m``, in near-linear time.

    The graph (street nodes plus one node per segment midpoint) is made symmetric once.
    Sources are grouped into square tiles (about 200 segments each, never narrower than
    the radius); each tile searches a local subgraph of its own and the eight
    neighbouring cells with a bounded Dijkstra (``limit=radius_m``). A source whose
    search could leave that subgraph within the radius (its distance to a boundary node
    plus the lightest edge out is at most the radius, e.g. when ``length_m`` is shorter
    than the drawn line) is searched again on the whole graph, so the result always
    equals the full search. Without geometry every source is searched on the whole graph.

    Parameters
    ----------
    segments
        Street segments (``length_m``, ``u``, ``v`` and, for tiling, ``geometry``).
    radius_m
        Largest distance kept, in metres (>= 0).
    sources
        Segment rows to search from (default: all).
    tile_m
        Side of the tiles in metres (default: chosen from the network's density).

    Returns
    -------
    MidpointDistances
        Triplets of source row, target row and distance for every pair within the radius.
    """
    radius = float(radius_m)
    if not (radius >= 0 and math.isfinite(radius)):
        msg = "The network distance radius must be a finite number of metres >= 0."
        raise ValueError(msg)
    n = len(segments)
    src = np.arange(n, dtype=np.int64) if sources is None else np.asarray(sources, np.int64)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if n and len(src):
        graph, n_nodes = _symmetric_midpoint_graph(segments)
        xy = _metric_points(segments)
        if xy is None:
            _full_distances(graph, n_nodes, src, radius, out)
        else:
            px, py = _node_points(segments, n_nodes, xy)
            cell = _cell_size(px[n_nodes:], py[n_nodes:], n, radius, tile_m)
            tiles = _tiles(px, py, src, n_nodes, cell)
            local = np.full(graph.shape[0], -1, dtype=np.int64)
            unsafe = _tile_distances(graph, n_nodes, tiles, radius, local, (px, py), out)
            if len(unsafe):
                _full_distances(graph, n_nodes, np.sort(unsafe), radius, out)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    rows, cols, dist = (np.concatenate(a) for a in zip(*(out or [empty]), strict=True))
    return MidpointDistances(rows.astype(np.int64), cols.astype(np.int64), dist, n, radius)


def _cached_distances(
    segments: pd.DataFrame, radius: float, cache: MutableMapping[Any, Any] | None
) -> MidpointDistances:
    """The midpoint distances within ``radius``, from ``cache`` when a wide enough search is there."""
    n = len(segments)
    if cache is not None:
        for key, found in list(cache.items()):
            if key[0] == "midpoint_distances" and key[1] == n and found.radius_m >= radius:
                if found.radius_m == radius:
                    return found
                keep = found.dist <= radius
                return MidpointDistances(
                    found.rows[keep], found.cols[keep], found.dist[keep], n, radius
                )
    found = midpoint_distances(segments, radius_m=radius)
    if cache is not None:
        cache[("midpoint_distances", n, radius)] = found
    return found


def smoothing_kernel(
    segments: pd.DataFrame,
    *,
    bandwidth_m: float,
    cache: MutableMapping[Any, Any] | None = None,
    radius_m: float | None = None,
) -> sp.csr_matrix:
    """Row-normalised triangular kernel between segments within ``bandwidth_m`` on the network.

    ``K[s, t] = k(d_st) / sum_t' k(d_st')`` with ``k(d) = 1 - d / h`` for ``d < h``, so
    ``values @ K`` spreads each segment's value over its neighbourhood and conserves the
    total. A network-only matrix: kept in ``cache`` (a StreetNetwork's analysis cache)
    under the bandwidth, so new reports reuse it.

    Parameters
    ----------
    segments
        Street segments (``length_m``, ``u``, ``v``, ``geometry``).
    bandwidth_m
        Kernel bandwidth ``h`` in metres (> 0).
    cache
        Where to keep and find the matrix (and the distance search behind it).
    radius_m
        Search this far (>= ``bandwidth_m``) so one search also serves a wider band.

    Returns
    -------
    scipy.sparse.csr_matrix
        n x n, each row summing to one.
    """
    return _distance_matrix(_kernel, segments, bandwidth_m, "smoothing_kernel", cache, radius_m)


def _kernel(md: MidpointDistances, h: float) -> sp.csr_matrix:
    """The row-normalised triangular kernel of bandwidth ``h`` from the distances ``md``."""
    near = md.dist < h
    rows, cols, kern = md.rows[near], md.cols[near], 1.0 - md.dist[near] / h
    norm = np.bincount(rows, weights=kern, minlength=md.n)
    return sp.csr_matrix((kern / norm[rows], (rows, cols)), shape=(md.n, md.n))


def band_adjacency(
    segments: pd.DataFrame,
    *,
    band_m: float,
    cache: MutableMapping[Any, Any] | None = None,
    radius_m: float | None = None,
) -> sp.csr_matrix:
    """Binary weights between segments whose midpoints lie within ``band_m`` on the network.

    The network analogue of a distance-band weights matrix: on networks of short segments
    (footways, crossings) first-order adjacency gives each segment two or three
    neighbours, too few for Gi* to tell a cluster from noise; a band of the smoothing
    bandwidth gives it the street stretch around it. A network-only matrix, kept in
    ``cache`` under the band; computed with bounded Dijkstra searches tile by tile
    (:func:`midpoint_distances`, near-linear in the network size, equal to the full search).

    Parameters
    ----------
    band_m
        The band in metres (> 0).
    segments, cache, radius_m
        As for :func:`smoothing_kernel` (the search radius at least ``band_m``).

    Returns
    -------
    scipy.sparse.csr_matrix
        n x n, symmetric, zero diagonal, 1 where two distinct segments are within the band.
    """
    if not (band_m > 0 and math.isfinite(band_m)):
        msg = "band_m must be a positive number of metres."
        raise ValueError(msg)
    return _distance_matrix(_band, segments, band_m, "band_adjacency", cache, radius_m)


def _band(md: MidpointDistances, band: float) -> sp.csr_matrix:
    """Symmetric binary weights between distinct segments within ``band`` in ``md``."""
    keep = (md.dist <= band) & (md.rows != md.cols)
    adj = sp.csr_matrix(
        (np.ones(int(keep.sum())), (md.rows[keep], md.cols[keep])), shape=(md.n, md.n)
    )
    return ((adj + adj.T) > 0).astype(np.float64).tocsr()


def _distance_matrix(
    build: Callable[[MidpointDistances, float], sp.csr_matrix],
    segments: pd.DataFrame,
    size_m: float,
    name: str,
    cache: MutableMapping[Any, Any] | None,
    radius_m: float | None,
) -> sp.csr_matrix:
    """``build(distances, size)`` from the distances within ``size_m`` (or ``radius_m``), kept.

    The matrix is kept in ``cache`` under ``name``, the segment count and the size.
    """
    size = float(size_m)
    radius = max(size, float(radius_m or 0.0))
    key = (name, len(segments), size)
    return _kept(cache, key, lambda: build(_cached_distances(segments, radius, cache), size))


def _kept(
    cache: MutableMapping[Any, Any] | None, key: tuple[Any, ...], build: Callable[[], Any]
) -> Any:
    """``cache[key]`` when it is there, else ``build()``, kept under ``key`` when there is a cache."""
    if cache is not None and key in cache:
        return cache[key]
    found = build()
    if cache is not None:
        cache[key] = found
    return found
