"""Street paths between patrol stops: node paths from Dijkstra predecessors and their geometry."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from shapely.geometry import LineString

__all__ = [
    "SegmentLookup",
    "path_coords",
    "path_length_m",
    "path_line",
    "paths_coords",
    "segment_lookup",
    "street_path",
]


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


class SegmentLookup(Mapping[tuple[int, int], int]):
    """Row position of the shortest segment joining each unordered node pair (array-backed).

    Built with numpy in one pass; looking a pair up is a binary search, so a network of
    hundreds of thousands of segments costs no Python loop.
    """

    def __init__(self, segments: pd.DataFrame) -> None:
        u = segments["u"].to_numpy(np.int64)
        v = segments["v"].to_numpy(np.int64)
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        self._width = int(hi.max(initial=-1)) + 1
        key = lo * self._width + hi
        order = np.lexsort((segments["length_m"].to_numpy(np.float64), key))
        key = key[order]
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        # The shortest segment of each pair comes first in (key, length) order.
        self._keys, self._rows = key[first], order[first]

    def rows(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Row positions of the segments joining ``a[i]`` and ``b[i]`` (-1 where none does).

        Parameters
        ----------
        a, b
            Node positions, paired by position.

        Returns
        -------
        numpy.ndarray
            ``int64`` row positions.
        """
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        ok = (lo >= 0) & (hi < self._width)
        key = np.where(ok, lo * self._width + hi, -1)
        i = np.minimum(np.searchsorted(self._keys, key), max(self._keys.size - 1, 0))
        if self._keys.size == 0:
            return np.full(key.shape, -1, dtype=np.int64)
        found = ok & (self._keys[i] == key)
        return np.where(found, self._rows[i], -1).astype(np.int64)

    def _find(self, pair: tuple[int, int]) -> int | None:
        a, b = int(pair[0]), int(pair[1])
        lo, hi = min(a, b), max(a, b)
        if lo < 0 or hi >= self._width:
            return None
        key = lo * self._width + hi
        i = int(np.searchsorted(self._keys, key))
        if i < self._keys.size and self._keys[i] == key:
            return int(self._rows[i])
        return None

    def __getitem__(self, pair: tuple[int, int]) -> int:
        row = self._find(pair)
        if row is None:
            raise KeyError(pair)
        return row

    def get(self, pair: tuple[int, int], default: Any = None) -> Any:
        """The row of ``pair`` or ``default``."""
        row = self._find(pair)
        return default if row is None else row

    def __contains__(self, pair: object) -> bool:
        return isinstance(pair, tuple) and len(pair) == 2 and self._find(pair) is not None

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for key in self._keys:
            yield (int(key // self._width), int(key % self._width))

    def __len__(self) -> int:
        return int(self._keys.size)


def segment_lookup(segments: pd.DataFrame) -> SegmentLookup:
    """Map each unordered node pair to the row position of its shortest segment.

    Parameters
    ----------
    segments
        Street segments with ``u``, ``v`` and ``length_m``.

    Returns
    -------
    SegmentLookup
        A read-only mapping ``{(min(u, v), max(u, v)): row position}``.
    """
    return SegmentLookup(segments)


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
    return paths_coords(segments, nodes, [path], lookup=lookup)[0]


def paths_coords(
    segments: pd.DataFrame,
    nodes: pd.DataFrame,
    paths: Sequence[Iterable[int]],
    *,
    lookup: Mapping[tuple[int, int], int] | None = None,
) -> list[list[tuple[float, float]]]:
    """:func:`path_coords` of many paths at once (one segment lookup and geometry read).

    Parameters
    ----------
    segments, nodes, lookup
        As for :func:`path_coords`.
    paths
        Node paths.

    Returns
    -------
    list[list[tuple[float, float]]]
        The coordinates of each path.
    """
    node_paths = [np.asarray(list(p), dtype=np.int64).reshape(-1) for p in paths]
    xs = nodes["x"].to_numpy(np.float64)
    ys = nodes["y"].to_numpy(np.float64)
    a = np.concatenate([p[:-1] for p in node_paths] + [np.zeros(0, dtype=np.int64)])
    b = np.concatenate([p[1:] for p in node_paths] + [np.zeros(0, dtype=np.int64)])
    if lookup is None:
        lookup = segment_lookup(segments)
    if isinstance(lookup, SegmentLookup):
        rows = lookup.rows(a, b)
    else:
        rows = np.array([lookup.get((min(x, y), max(x, y)), -1) for x, y in zip(a, b, strict=True)])
    pieces = _step_coords(segments, rows.astype(np.int64))
    us = segments["u"].to_numpy(np.int64)
    out: list[list[tuple[float, float]]] = []
    k = 0
    for p in node_paths:
        if p.size == 0:
            out.append([])
            continue
        coords_p: list[tuple[float, float]] = [(float(xs[p[0]]), float(ys[p[0]]))]
        for _ in range(p.size - 1):
            u_, v_, row, piece = int(a[k]), int(b[k]), int(rows[k]), pieces[k]
            k += 1
            if len(piece) >= 2 and us[row] != u_:
                piece = piece[::-1]
            if len(piece) >= 2:
                coords_p.extend((float(x), float(y)) for x, y in piece[1:-1])
            # The ends sit on the node positions so legs join exactly.
            coords_p.append((float(xs[v_]), float(ys[v_])))
        out.append(coords_p)
    return out


def _step_coords(segments: pd.DataFrame, rows: np.ndarray) -> list[np.ndarray]:
    """The ``(x, y)`` vertices of the segment at each row (none for -1 or a missing geometry)."""
    empty = np.zeros((0, 2))
    if "geometry" not in segments or rows.size == 0:
        return [empty] * rows.size
    have = np.flatnonzero(rows >= 0)
    geoms = np.asarray(segments.geometry.values[rows[have]], dtype=object)
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    cut = np.searchsorted(owner, np.arange(len(have) + 1))
    out = [empty] * rows.size
    for k, i in enumerate(have):
        out[i] = xy[cut[k] : cut[k + 1]]
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
