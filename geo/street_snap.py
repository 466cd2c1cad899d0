"""Snapping points to street lines: an exact KD-tree nearest-line search with an STRtree fallback."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

__all__ = ["nearest_lines", "snap_points"]

SNAP_PIECE_M = 8.0
SNAP_CHUNK = 262_144


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


def _snap_inputs(lon: Any, lat: Any, max_distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Flat float arrays of the points to snap; checks the shapes and the distance."""
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
    if lon.shape != lat.shape:
        msg = "snap() needs as many longitudes as latitudes."
        raise ValueError(msg)
    if not max_distance_m > 0:
        msg = "max_distance_m must be a positive number of metres."
        raise ValueError(msg)
    return lon, lat


def snap_points(
    lon: Any,
    lat: Any,
    max_distance_m: float,
    *,
    line_ids: np.ndarray,
    to_metric: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    index: Callable[[], _PieceIndex],
    tree: Callable[[], shapely.STRtree],
) -> tuple[np.ndarray, np.ndarray]:
    """Snap WGS84 points to their nearest line (see ``StreetNetwork.snap``).

    Parameters
    ----------
    lon, lat, max_distance_m
        As in ``StreetNetwork.snap`` (a line here is a segment there).
    line_ids
        The id of each line (``segment_id``), in the order of the indexes.
    to_metric
        Projects lon/lat arrays to the metric CRS of the indexes.
    index, tree
        Return the (cached) piece index and STRtree of the metric lines; built on demand.

    Returns
    -------
    line_id : numpy.ndarray of int64
        Id of the nearest line, -1 where none is within ``max_distance_m``.
    distance_m : numpy.ndarray of float64
        Distance in metres to that line, NaN where ``line_id`` is -1.
    """
    lon, lat = _snap_inputs(lon, lat, max_distance_m)
    seg_id = np.full(len(lon), -1, dtype=np.int64)
    dist = np.full(len(lon), np.nan, dtype=np.float64)
    if len(lon) == 0 or len(line_ids) == 0:
        return seg_id, dist
    valid = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    x, y = to_metric(lon[valid], lat[valid])
    finite = np.isfinite(x) & np.isfinite(y)
    where = np.flatnonzero(valid)[finite]
    x, y = x[finite], y[finite]
    tree_idx, d = nearest_lines(x, y, index(), tree, max_distance_m)
    hit = (tree_idx >= 0) & (d <= max_distance_m)
    seg_id[where[hit]] = line_ids[tree_idx[hit]]
    dist[where[hit]] = d[hit]
    return seg_id, dist


def nearest_lines(
    x: np.ndarray,
    y: np.ndarray,
    index: _PieceIndex,
    tree: Callable[[], shapely.STRtree],
    max_distance_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Find the nearest line to each metric point, in chunks.

    Parameters
    ----------
    x, y
        Metric coordinates of the points (finite).
    index
        The KD-tree piece index of the lines.
    tree
        Returns the STRtree of the same lines; called only for points the index leaves
        undecided (the exact fallback).
    max_distance_m
        Search radius in metres.

    Returns
    -------
    line : numpy.ndarray of int64
        Nearest line position, -1 where none is within ``max_distance_m``.
    distance : numpy.ndarray of float64
        Distance to it, inf where ``line`` is -1.
    """
    tree_idx = np.full(len(x), -1, dtype=np.int64)
    d = np.full(len(x), np.inf)
    for lo in range(0, len(x), SNAP_CHUNK):
        sl = slice(lo, lo + SNAP_CHUNK)
        tree_idx[sl], d[sl], unresolved = index.nearest(x[sl], y[sl], float(max_distance_m))
        if len(unresolved):  # rare: exact answer from the segments' STRtree
            rows = unresolved + lo
            (pt, hit), dd = tree().query_nearest(
                shapely.points(x[rows], y[rows]),
                max_distance=float(max_distance_m),
                return_distance=True,
                all_matches=False,
            )
            tree_idx[rows] = -1
            d[rows] = np.inf
            tree_idx[rows[pt]] = hit
            d[rows[pt]] = dd
    return tree_idx, d
