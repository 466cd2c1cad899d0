"""Travel times, shortest street paths and their geometry between patrol stops."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

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
    matrix: sp.spmatrix, sources: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Run Dijkstra from a few source nodes only.

    Parameters
    ----------
    matrix
        ``N x N`` sparse weight matrix (metres or minutes).
    sources
        Node positions to start from.

    Returns
    -------
    dist : numpy.ndarray
        ``len(sources) x N`` shortest weights (``inf`` where unreachable).
    predecessors : numpy.ndarray
        ``len(sources) x N`` predecessor of each node on its shortest path (-9999 = none).
    """
    idx = np.asarray(sources, dtype=np.int64).reshape(-1)
    dist, pred = dijkstra(matrix, directed=False, indices=idx, return_predecessors=True)
    return np.atleast_2d(dist), np.atleast_2d(pred)


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


def street_path(
    node_matrix: sp.spmatrix,
    predecessors: np.ndarray,
    a: int,
    b: int,
    *,
    sources: Sequence[int] | np.ndarray | None = None,
) -> list[int]:
    """Return the node positions of the shortest street path from ``a`` to ``b``.

    Parameters
    ----------
    node_matrix
        The ``N x N`` matrix the predecessors were computed on (used to check adjacency).
    predecessors
        Either the 1-D predecessor row of a Dijkstra run from ``a``, or a 2-D array of rows;
        with ``sources`` the row of ``a`` is found there, otherwise row ``a`` is used (all pairs).
    a, b
        Start and end node positions.
    sources
        The source nodes of the rows of a 2-D ``predecessors`` (as passed to
        :func:`shortest_paths`).

    Returns
    -------
    list[int]
        ``[a, ..., b]``; ``[a]`` when ``a == b``.

    Raises
    ------
    ValueError
        When ``b`` cannot be reached from ``a``.
    """
    pred = np.asarray(predecessors)
    if pred.ndim == 2:
        if sources is None:
            row = int(a)
        else:
            hits = np.flatnonzero(np.asarray(sources) == a)
            if hits.size == 0:
                msg = f"Node {a} is not among the Dijkstra sources; run shortest_paths from it."
                raise ValueError(msg)
            row = int(hits[0])
        pred = pred[row]
    a, b = int(a), int(b)
    if a == b:
        return [a]
    path = [b]
    node = b
    for _ in range(node_matrix.shape[0] + 1):
        node = int(pred[node])
        if node < 0:
            msg = f"No street path from node {a} to node {b}; check the network is connected."
            raise ValueError(msg)
        path.append(node)
        if node == a:
            return path[::-1]
    msg = f"The predecessors do not lead from node {b} back to node {a}; pass the row of {a}."
    raise ValueError(msg)


def segment_lookup(segments: pd.DataFrame) -> dict[tuple[int, int], int]:
    """Map each unordered node pair to the row position of its shortest segment.

    Parameters
    ----------
    segments
        Street segments with ``u``, ``v`` and ``length_m``.

    Returns
    -------
    dict
        ``{(min(u, v), max(u, v)): row position}``.
    """
    u = segments["u"].to_numpy(np.int64)
    v = segments["v"].to_numpy(np.int64)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((segments["length_m"].to_numpy(np.float64), hi, lo))[::-1]
    # Reversed so that, for each pair, the shortest segment is written last and wins.
    return {(int(lo[i]), int(hi[i])): int(i) for i in order}


def path_coords(
    segments: pd.DataFrame,
    nodes: pd.DataFrame,
    path: Iterable[int],
    *,
    lookup: Mapping[tuple[int, int], int] | None = None,
) -> list[tuple[float, float]]:
    """Turn a node path into ``(lon, lat)`` coordinates following the streets.

    Each step uses the geometry of the segment joining the two nodes, oriented from the first
    node to the second; where no segment joins them (or it has no geometry) the step is a
    straight line between the nodes.

    Parameters
    ----------
    segments
        Street segments (EPSG:4326) with ``u``, ``v``, ``length_m`` and ``geometry``.
    nodes
        Nodes with ``x`` (lon) and ``y`` (lat), indexed by position.
    path
        Node positions, e.g. from :func:`street_path`.
    lookup
        A precomputed :func:`segment_lookup` (saves time over many legs).

    Returns
    -------
    list[tuple[float, float]]
        The coordinates, starting at the first node and ending at the last, without repeated
        junction points.
    """
    path = [int(p) for p in path]
    xs = nodes["x"].to_numpy(np.float64)
    ys = nodes["y"].to_numpy(np.float64)
    if not path:
        return []
    if lookup is None:
        lookup = segment_lookup(segments)
    geoms = segments.geometry.to_numpy() if "geometry" in segments else None
    us = segments["u"].to_numpy(np.int64)
    out: list[tuple[float, float]] = [(float(xs[path[0]]), float(ys[path[0]]))]
    for a, b in itertools.pairwise(path):
        row = lookup.get((min(a, b), max(a, b)))
        coords: list[tuple[float, float]] | None = None
        if row is not None and geoms is not None and geoms[row] is not None:
            coords = [(float(x), float(y)) for x, y, *_ in geoms[row].coords]
            if us[row] != a:
                coords.reverse()
        if not coords:
            coords = [(float(xs[a]), float(ys[a])), (float(xs[b]), float(ys[b]))]
        # Pin the ends on the node positions so legs join exactly.
        coords[0] = (float(xs[a]), float(ys[a]))
        coords[-1] = (float(xs[b]), float(ys[b]))
        out.extend(coords[1:])
    return out


def path_line(
    segments: pd.DataFrame,
    nodes: pd.DataFrame,
    path: Iterable[int],
    *,
    lookup: Mapping[tuple[int, int], int] | None = None,
) -> LineString:
    """Return :func:`path_coords` as a shapely LineString (a degenerate one for a single node).

    Parameters
    ----------
    segments, nodes, path, lookup
        As for :func:`path_coords`.

    Returns
    -------
    shapely.geometry.LineString
    """
    coords = path_coords(segments, nodes, path, lookup=lookup)
    if len(coords) == 1:
        coords = coords * 2
    return LineString(coords)


def path_length_m(node_matrix: sp.spmatrix, path: Sequence[int]) -> float:
    """Return the length in metres of a node path on a metre-weighted node matrix.

    Parameters
    ----------
    node_matrix
        ``N x N`` matrix of segment lengths.
    path
        Node positions; consecutive nodes must be adjacent.

    Returns
    -------
    float
    """
    if len(path) < 2:
        return 0.0
    a = np.asarray(path[:-1], dtype=np.int64)
    b = np.asarray(path[1:], dtype=np.int64)
    w = np.asarray(node_matrix[a, b]).reshape(-1)
    if np.any(w <= 0):
        msg = "The path steps between nodes that share no street segment; rebuild it with street_path."
        raise ValueError(msg)
    return float(w.sum())


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
