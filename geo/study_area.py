"""The study area and its units: grid cells over the area, or the area's street segments.

The study area is the area's boundary when given, else the training reports' extent after
dropping far-off outliers (outside Tukey's far fences, ``FENCE_IQR`` x IQR beyond the
quartiles of either metric coordinate). Test data never shape it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.forecast import Lattice, Units
from geo.hotspots import _project

__all__ = ["FENCE_IQR", "area_bounds", "cells", "grid_units", "network_units", "study_area"]

FENCE_IQR = 3.0
LATTICE_RES_M = 10.0
LATTICE_MAX_PIXELS = 2_000_000
LATTICE_MARGIN_M = 1200.0  # three times the widest kernel


def study_area(
    x: np.ndarray, y: np.ndarray, *, bounds: tuple[float, float, float, float] | None = None
) -> tuple[tuple[float, float, float, float], np.ndarray]:
    """The study area's metric bounds and which training points are far-off outliers.

    Parameters
    ----------
    x, y
        Metric coordinates of the training reports.
    bounds
        The area's boundary box in the same metric CRS; when given it is the study area.

    Returns
    -------
    tuple
        ``(bounds, outlier)``: ``(xmin, ymin, xmax, ymax)`` and a boolean mask of the
        points outside Tukey's far fences (``FENCE_IQR`` x IQR beyond the quartiles of
        either coordinate); all False when ``bounds`` is given.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if bounds is not None:
        return tuple(float(b) for b in bounds), np.zeros(len(x), dtype=bool)  # type: ignore[return-value]
    far = np.zeros(len(x), dtype=bool)
    for v in (x, y):
        q1, q3 = np.percentile(v, [25, 75])
        far |= (v < q1 - FENCE_IQR * (q3 - q1)) | (v > q3 + FENCE_IQR * (q3 - q1))
    kx, ky = x[~far], y[~far]
    return (float(kx.min()), float(ky.min()), float(kx.max()), float(ky.max())), far


def area_bounds(area: Sequence[float], crs: CRS) -> tuple[float, float, float, float]:
    west, south, east, north = (float(v) for v in area)
    bx, by = _project(
        np.array([west, east, west, east]), np.array([south, south, north, north]), crs
    )
    return float(bx.min()), float(by.min()), float(bx.max()), float(by.max())


def grid_units(bounds: tuple[float, float, float, float], cell_m: float) -> Units:
    x0, y0, x1, y1 = bounds
    nx = max(1, int(np.ceil((x1 - x0) / cell_m + 1e-9)))
    ny = max(1, int(np.ceil((y1 - y0) / cell_m + 1e-9)))
    cx = x0 + (np.arange(nx) + 0.5) * cell_m
    cy = y0 + (np.arange(ny) + 0.5) * cell_m
    gx, gy = np.meshgrid(cx, cy)
    size = np.full(nx * ny, cell_m * cell_m)
    return Units("point", size, gx.ravel(), gy.ravel(), grid=(nx, ny, x0, y0, cell_m))


def cells(units: Units, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    nx, ny, x0, y0, cell = units.grid  # type: ignore[misc]
    ix = np.floor((x - x0) / cell).astype(np.int64)
    iy = np.floor((y - y0) / cell).astype(np.int64)
    ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    return np.where(ok, iy * nx + ix, -1)


_UNITS_MEMO: dict[tuple, tuple[pd.DataFrame, tuple[Units, np.ndarray]]] = {}


def network_units(
    segments: pd.DataFrame, crs: CRS, area: Sequence[float] | None
) -> tuple[Units, np.ndarray]:
    """Segments of the study area as units (with their street raster) and their row positions.

    Kept for the last few networks (the same segments object, CRS and area): the street
    raster of a 30,000-segment network takes 1.4 s and depends on the network only. The
    arrays are read-only.
    """
    box = None if area is None else tuple(float(v) for v in area)
    key = (id(segments), len(segments), CRS.from_user_input(crs).to_string(), box)
    hit = _UNITS_MEMO.get(key)
    if hit is not None and hit[0] is segments:
        return hit[1]
    units, pos = _network_units(segments, crs, area)
    lattice = units.lattice
    for arr in (units.size, units.x, units.y, pos, lattice.length, lattice.mid_pix):
        arr.setflags(write=False)
    if len(_UNITS_MEMO) >= 4:
        _UNITS_MEMO.clear()
    _UNITS_MEMO[key] = (segments, (units, pos))  # holding segments keeps its id unique
    return units, pos


def _network_units(
    segments: pd.DataFrame, crs: CRS, area: Sequence[float] | None
) -> tuple[Units, np.ndarray]:
    geom = segments.geometry.to_numpy()
    mids = shapely.line_interpolate_point(geom, 0.5, normalized=True)
    mlon, mlat = shapely.get_x(mids), shapely.get_y(mids)
    keep = np.ones(len(segments), dtype=bool)
    if area is not None:
        w, s, e, n = (float(v) for v in area)
        keep = (mlon >= w) & (mlon <= e) & (mlat >= s) & (mlat <= n)
    if not keep.any():
        msg = "No street segment lies inside the area; check --area or the network."
        raise ValueError(msg)
    pos = np.flatnonzero(keep)
    length = np.maximum(segments["length_m"].to_numpy(dtype=float)[pos], 1.0)
    mx, my = _project(mlon[pos], mlat[pos], crs)
    # street length as points every ~5 m along each segment, for the length raster
    k = np.maximum(1, np.ceil(length / (LATTICE_RES_M / 2)).astype(np.int64))
    rep = np.repeat(np.arange(len(pos)), k)
    frac = (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k) + 0.5) / k[rep]
    pts = shapely.line_interpolate_point(geom[pos][rep], frac, normalized=True)
    px, py = _project(shapely.get_x(pts), shapely.get_y(pts), crs)
    margin = LATTICE_MARGIN_M
    x0, y0 = px.min() - margin, py.min() - margin
    span = max(px.max() - x0 + margin, 1.0) * max(py.max() - y0 + margin, 1.0)
    res = max(LATTICE_RES_M, float(np.sqrt(span / LATTICE_MAX_PIXELS)))
    nx = int(np.ceil((px.max() + margin - x0) / res))
    ny = int(np.ceil((py.max() + margin - y0) / res))
    base = Lattice(x0, y0, res, nx, ny, np.zeros((ny, nx)), np.zeros(0, dtype=np.int64))
    lat = Lattice(
        x0, y0, res, nx, ny, base.raster(px, py, length[rep] / k[rep]), base.pixels(mx, my)
    )
    return Units("network", length, mx, my, lattice=lat), pos
