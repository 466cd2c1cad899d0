"""Travel times, shortest street paths and their geometry between patrol stops."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from planning.travel_paths import SegmentLookup as SegmentLookup
from planning.travel_paths import path_coords as path_coords
from planning.travel_paths import path_length_m as path_length_m
from planning.travel_paths import path_line as path_line
from planning.travel_paths import paths_coords as paths_coords
from planning.travel_paths import segment_lookup as segment_lookup
from planning.travel_paths import street_path as street_path

#: Walking pace of a foot patrol in km/h (``[patrols] walk_kmh`` overrides it).
WALK_KMH = 4.8
#: Cycling pace in km/h (``[patrols] cycle_kmh`` overrides it).
CYCLE_KMH = 15.0
#: Travel modes a team may use.
MODES = ("walk", "cycle", "drive")

#: Driving speeds in km/h by OSM ``highway`` type, in the spirit of osmnx's ``add_edge_speeds``
#: fallbacks but tuned to UK urban streets (30 mph = 48 km/h, 20 mph = 32 km/h), minus a margin
#: for junctions and traffic. Ways a car cannot use (footways, paths, steps, pedestrian streets)
#: are taken at walking pace: the crew parks and walks the last stretch, so every stop remains
#: reachable. ``[patrols] drive_kmh`` replaces the whole table by one flat speed, and
#: ``[patrols.drive_speeds_kmh]`` overrides single entries.
DRIVE_SPEEDS_KMH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 60.0,
    "trunk": 60.0,
    "trunk_link": 45.0,
    "primary": 40.0,
    "primary_link": 35.0,
    "secondary": 35.0,
    "secondary_link": 30.0,
    "tertiary": 30.0,
    "tertiary_link": 30.0,
    "unclassified": 28.0,
    "residential": 25.0,
    "living_street": 12.0,
    "service": 15.0,
    "road": 25.0,
    "busway": 25.0,
    "track": 10.0,
}
#: Driving speed for highway types not in :data:`DRIVE_SPEEDS_KMH` that are still roads.
DRIVE_DEFAULT_KMH = 25.0
#: Highway types a car cannot use; driven teams cover them at walking pace.
FOOT_ONLY_HIGHWAYS = frozenset(
    {"footway", "path", "pedestrian", "steps", "cycleway", "bridleway", "corridor", "elevator"}
)


def _patrols(settings: Any | None) -> Mapping[str, Any]:
    if settings is None:
        return {}
    if isinstance(settings, Mapping):
        return settings
    return getattr(settings, "patrols", {}) or {}


def mode_speed_kmh(mode: str = "walk", *, settings: Any | None = None) -> float:
    """Return the flat speed of a travel mode in km/h.

    Parameters
    ----------
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    settings
        :class:`geo.settings.Settings` or its ``patrols`` dict; ``walk_kmh``, ``cycle_kmh`` and
        ``drive_kmh`` override the defaults.

    Returns
    -------
    float
        The speed; for ``"drive"`` without ``drive_kmh`` the urban default of 30 km/h (the
        network itself uses :data:`DRIVE_SPEEDS_KMH` by street type, see :func:`edge_minutes`).
    """
    _check_mode(mode)
    patrols = _patrols(settings)
    if mode == "walk":
        return float(patrols.get("walk_kmh", WALK_KMH))
    if mode == "cycle":
        return float(patrols.get("cycle_kmh", CYCLE_KMH))
    return float(patrols.get("drive_kmh", 30.0))


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        msg = f"Unknown travel mode {mode!r}; use one of {', '.join(MODES)}."
        raise ValueError(msg)


def node_matrix_from_segments(segments: pd.DataFrame, n_nodes: int | None = None) -> sp.csr_matrix:
    """Build the symmetric node matrix (metres, shortest parallel segment) from segments.

    Parameters
    ----------
    segments
        Street segments with integer columns ``u``, ``v`` and float ``length_m``.
    n_nodes
        Number of nodes; by default one more than the largest node position.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``N x N`` matrix of segment lengths, as ``StreetNetwork.node_matrix()``.
    """
    u = segments["u"].to_numpy(np.int64)
    v = segments["v"].to_numpy(np.int64)
    w = segments["length_m"].to_numpy(np.float64)
    return _min_csr(u, v, w, n_nodes)


def _min_csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n_nodes: int | None) -> sp.csr_matrix:
    """Symmetric csr matrix keeping the smallest weight of parallel edges; drops self-loops."""
    if n_nodes is None:
        n_nodes = int(max(u.max(initial=-1), v.max(initial=-1))) + 1
    keep = u != v
    u, v, w = u[keep], v[keep], w[keep]
    # Zero-length edges would vanish from a sparse matrix: give them a tiny positive weight.
    w = np.maximum(w, 1e-6)
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    vals = np.concatenate([w, w])
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return sp.csr_matrix((vals[first], (rows[first], cols[first])), shape=(n_nodes, n_nodes))


def edge_minutes(
    segments: pd.DataFrame,
    n_nodes: int | None = None,
    *,
    mode: str = "walk",
    settings: Any | None = None,
) -> sp.csr_matrix:
    """Build a node matrix whose weights are travel minutes for one mode.

    Walking and cycling use one flat speed (:func:`mode_speed_kmh`). Driving uses
    :data:`DRIVE_SPEEDS_KMH` by the segment's ``highway`` type (foot-only ways at walking pace),
    unless ``[patrols] drive_kmh`` sets one flat speed.

    Parameters
    ----------
    segments
        Street segments with ``u``, ``v``, ``length_m`` and, for driving, ``highway``.
    n_nodes
        Number of nodes; by default one more than the largest node position.
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    settings
        :class:`geo.settings.Settings` or its ``patrols`` dict.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``N x N`` symmetric matrix of minutes.
    """
    _check_mode(mode)
    length = segments["length_m"].to_numpy(np.float64)
    patrols = _patrols(settings)
    if mode != "drive" or "drive_kmh" in patrols or "highway" not in segments:
        kmh = np.full(len(segments), mode_speed_kmh(mode, settings=settings))
    else:
        table = {**DRIVE_SPEEDS_KMH, **dict(patrols.get("drive_speeds_kmh", {}) or {})}
        walk = mode_speed_kmh("walk", settings=settings)
        highway = segments["highway"].astype(str).str.split(";").str[0].str.strip()
        kmh = highway.map(table).to_numpy(np.float64, na_value=np.nan)
        foot = highway.isin(FOOT_ONLY_HIGHWAYS).to_numpy()
        kmh = np.where(foot, walk, np.where(np.isnan(kmh), DRIVE_DEFAULT_KMH, kmh))
    minutes = length / (kmh * 1000.0 / 60.0)
    return _min_csr(
        segments["u"].to_numpy(np.int64), segments["v"].to_numpy(np.int64), minutes, n_nodes
    )


def shortest_paths(
    matrix: sp.spmatrix,
    sources: Sequence[int] | np.ndarray,
    *,
    limit: float = np.inf,
    symmetric: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Run Dijkstra from a few source nodes only, optionally bounded.

    Parameters
    ----------
    matrix
        ``N x N`` sparse weight matrix (metres or minutes).
    sources
        Node positions to start from.
    limit
        Stop each search at this weight: nodes farther away read ``inf`` (no predecessor);
        nodes within it have their exact distance and shortest-path predecessors.
    symmetric
        The matrix is symmetric (as ``StreetNetwork.node_matrix()`` and
        :func:`edge_minutes` are): search it as directed, which gives the same answer without
        scipy converting the graph for an undirected search.

    Returns
    -------
    dist : numpy.ndarray
        ``len(sources) x N`` shortest weights (``inf`` where unreachable or beyond ``limit``).
    predecessors : numpy.ndarray
        ``len(sources) x N`` predecessor of each node on its shortest path (-9999 = none).
    """
    if not limit >= 0:
        msg = f"limit must be zero or more, got {limit}; pass numpy.inf for an unbounded search."
        raise ValueError(msg)
    idx = np.asarray(sources, dtype=np.int64).reshape(-1)
    dist, pred = dijkstra(
        matrix, directed=symmetric, indices=idx, return_predecessors=True, limit=float(limit)
    )
    return np.atleast_2d(dist), np.atleast_2d(pred)


def paths_among(
    matrix: sp.spmatrix,
    nodes: Sequence[int] | np.ndarray,
    *,
    limit: float = np.inf,
    symmetric: bool = False,
    centre: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shortest paths between a set of nodes, each search kept to the area they span.

    A search from a node ``c`` near the middle of the others gives each node's distance
    ``d(a, c)`` and their radius ``r`` around ``c``; by the triangle inequality no node is
    more than ``d(a, c) + r`` from ``a``, so the search from ``a`` stops there (and at
    ``limit``) instead of covering the whole network. With the stops in one district of a
    city this searches that district, not the city.

    Parameters
    ----------
    matrix
        ``N x N`` sparse weight matrix.
    nodes
        Node positions (unique).
    limit
        Pairs farther apart than this are not needed (e.g. the longest shift times the speed):
        they read ``inf``.
    symmetric
        As for :func:`shortest_paths`.
    centre
        Index into ``nodes`` of one near their middle (e.g. nearest their median position);
        found with two extra searches when omitted.

    Returns
    -------
    dist : numpy.ndarray
        ``len(nodes)`` square matrix of shortest weights between them (``inf`` beyond
        ``limit`` or where no path exists), equal to an unbounded search's within ``limit``.
    predecessors : numpy.ndarray
        ``len(nodes) x N`` shortest-path predecessors (-9999 = none), complete on every path
        between two of ``nodes`` at most ``limit`` apart.
    bounds : numpy.ndarray
        The bound each row's search used.
    """
    idx = np.asarray(nodes, dtype=np.int64).reshape(-1)
    n = matrix.shape[0]
    bounds = np.full(idx.size, float(limit))
    if idx.size == 0:
        return np.zeros((0, 0)), np.zeros((0, n), dtype=np.int32), bounds
    if centre is None:
        centre = _middle_node(matrix, idx, limit=limit, symmetric=symmetric)
    d0, p0 = shortest_paths(matrix, [idx[centre]], limit=limit, symmetric=symmetric)
    dist = np.empty((idx.size, idx.size))
    pred = np.empty((idx.size, n), dtype=p0.dtype)
    dist[centre], pred[centre] = d0[0, idx], p0[0]
    reach = d0[0, idx]
    if np.isfinite(reach).all():
        # A little margin so float rounding never cuts a pair at exactly the bound.
        bounds = np.minimum(bounds, (reach + reach.max()) * (1.0 + 1e-9) + 1e-9)
    rest = np.flatnonzero(np.arange(idx.size) != centre)
    # A few batches of searches, each at the largest bound of its members.
    for chunk in np.array_split(rest[np.argsort(bounds[rest])], min(4, max(rest.size, 1))):
        if chunk.size == 0:
            continue
        bounds[chunk] = bounds[chunk].max()
        d, p = shortest_paths(matrix, idx[chunk], limit=bounds[chunk[0]], symmetric=symmetric)
        dist[chunk], pred[chunk] = d[:, idx], p
    bounds[centre] = float(limit)
    # Pairs beyond ``limit`` read inf whichever search found them.
    dist[dist > limit] = np.inf
    return dist, pred, bounds


def _middle_node(matrix: sp.spmatrix, idx: np.ndarray, *, limit: float, symmetric: bool) -> int:
    """Index into ``idx`` of a node near the middle of the others (a two-sweep estimate)."""
    if idx.size <= 2:
        return 0
    # The farthest node from any one lies at an edge of the set; the farthest from that, at
    # the opposite edge; the node most evenly placed between the two is near the middle.
    d, _ = shortest_paths(matrix, [idx[0]], limit=limit, symmetric=symmetric)
    if not np.isfinite(d[0, idx]).all():
        return 0
    end_a = int(np.argmax(d[0, idx]))
    da, _ = shortest_paths(matrix, [idx[end_a]], limit=limit, symmetric=symmetric)
    end_b = int(np.argmax(da[0, idx]))
    db, _ = shortest_paths(matrix, [idx[end_b]], limit=limit, symmetric=symmetric)
    return int(np.argmin(np.maximum(da[0, idx], db[0, idx])))


def travel_times(
    node_matrix: sp.spmatrix,
    sources: Sequence[int] | np.ndarray,
    targets: Sequence[int] | np.ndarray,
    *,
    speed_kmh: float | None = WALK_KMH,
) -> np.ndarray:
    """Return network travel minutes from each source node to each target node.

    Dijkstra runs from the (unique) source nodes only, never all pairs.

    Parameters
    ----------
    node_matrix
        ``N x N`` sparse matrix of segment lengths in metres (``StreetNetwork.node_matrix()``),
        or of minutes when ``speed_kmh`` is None (e.g. from :func:`edge_minutes`).
    sources, targets
        Node positions.
    speed_kmh
        Travel speed; ``None`` when the matrix already holds minutes.

    Returns
    -------
    numpy.ndarray
        ``len(sources) x len(targets)`` minutes; ``inf`` where no street path exists.
    """
    src = np.asarray(sources, dtype=np.int64).reshape(-1)
    tgt = np.asarray(targets, dtype=np.int64).reshape(-1)
    if speed_kmh is not None and speed_kmh <= 0:
        msg = (
            f"speed_kmh must be positive, got {speed_kmh}; set a positive walking or driving speed."
        )
        raise ValueError(msg)
    n = node_matrix.shape[0]
    for name, arr in (("sources", src), ("targets", tgt)):
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            msg = f"{name} hold node positions outside 0..{n - 1}; snap points with nearest_node first."
            raise ValueError(msg)
    if src.size == 0 or tgt.size == 0:
        return np.zeros((src.size, tgt.size))
    uniq, inverse = np.unique(src, return_inverse=True)
    dist, _ = shortest_paths(node_matrix, uniq)
    out = dist[inverse][:, tgt]
    if speed_kmh is not None:
        out = out / (speed_kmh * 1000.0 / 60.0)
    return out


def nearest_node(nodes: pd.DataFrame, lon: float | np.ndarray, lat: float | np.ndarray) -> Any:
    """Return the position of the network node nearest to each point.

    Distances use an equirectangular projection around each point (exact enough at street
    scale).

    Parameters
    ----------
    nodes
        Nodes with ``x`` (lon) and ``y`` (lat), indexed by position 0..N-1.
    lon, lat
        One point or arrays of points (WGS84).

    Returns
    -------
    int or numpy.ndarray
        Node position(s).
    """
    xs = nodes["x"].to_numpy(np.float64)
    ys = nodes["y"].to_numpy(np.float64)
    if xs.size == 0:
        msg = "The street network has no nodes; load a network before planning patrols."
        raise ValueError(msg)
    lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    out = np.empty(lon_a.size, dtype=np.int64)
    for k, (x, y) in enumerate(zip(lon_a, lat_a, strict=True)):
        dx = (xs - x) * np.cos(np.radians(y))
        dy = ys - y
        out[k] = int(np.argmin(dx * dx + dy * dy))
    if np.ndim(lon) == 0:
        return int(out[0])
    return out
