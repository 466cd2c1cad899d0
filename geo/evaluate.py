"""Back-tests of hotspot rankings: hit rate, PAI and PEI against count and KDE baselines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.hotspots import (
    _decay,
    _default_at,
    _filter_reports,
    _harm_weights,
    _opt,
    _project,
    _resolve_settings,
    _segment_positions,
    metric_crs_for,
    segment_risk,
    smooth_risk,
)
from geo.settings import Settings

__all__ = ["METHODS", "evaluate", "hit_rates", "max_hit_rates"]

METHODS = ("beatplan", "counts", "kde")
DEFAULT_COVERAGE = (0.01, 0.05, 0.10)
DEFAULT_CELL_M = 150.0
# Planar KDE baseline: Gaussian kernel with a fixed bandwidth (a common crime-mapping
# choice between one and two grid cells; Scott/Silverman give kilometres on city-wide
# data and a needlessly weak baseline).
DEFAULT_KDE_BANDWIDTH_M = 200.0
# Point-mode "beatplan": the decayed harm-weighted reports' Gaussian kernel mass (this
# sigma) integrated over each cell, i.e. the expected weighted reports per cell.
# Tuned on Hull 2022->2024 among sigma 50..300 m (see tests/test_evaluate.py).
DEFAULT_POINT_BANDWIDTH_M = 200.0
# Plus a narrow "near-repeat" component: police.uk and partner locations recur at the same
# map points, so a second kernel of this sigma, with this share of the total, marks the
# exact places within the wider neighbourhood. Chosen on Hull 2022->2024 among
# (150-250 m, 30-75 m, 0.3-1.0); every combination tried beat the single kernel at 5%.
DEFAULT_POINT_NARROW_M = 50.0
DEFAULT_POINT_NARROW_SHARE = 0.3
# Network mode: a segment's own decayed risk plus this share of its network-smoothed risk.
# Smoothing alone (share -> infinity) scored PAI@5% 3.8 on the demo against 7.2 for counts;
# own risk alone 7.0; 0.3 gave 7.3 (1%: 13.9 vs 12.3). The same share as in point mode.
DEFAULT_NETWORK_SMOOTH_SHARE = 0.3


def _coverage_key(c: float) -> str:
    key = f"{c:.2f}"
    return key if abs(float(key) - c) < 1e-12 else repr(float(c))


def hit_rates(
    scores: np.ndarray,
    counts: np.ndarray,
    sizes: np.ndarray,
    coverage: Sequence[float],
) -> np.ndarray:
    """Share of test reports caught by the top-scored units covering each share of size.

    Units are taken in decreasing score; the last unit is taken in part (its reports
    pro rata). Tied scores are spread, not ordered: a block of tied units is treated as
    one unit whose reports are caught pro rata to the size taken, which is the expected
    result of a random order inside the block, so ties can never inflate a score.

    Parameters
    ----------
    scores
        Predicted risk per unit (higher first).
    counts
        Test reports per unit.
    sizes
        Unit sizes (street length or area); must be positive.
    coverage
        Shares of the total size, each in (0, 1].

    Returns
    -------
    numpy.ndarray
        Hit rate per coverage level (NaN when there are no test reports).
    """
    scores = np.asarray(scores, dtype=float)
    counts = np.asarray(counts, dtype=float)
    sizes = np.asarray(sizes, dtype=float)
    cov = np.asarray(coverage, dtype=float)
    if np.any((cov <= 0) | (cov > 1)):
        msg = "coverage levels must be shares in (0, 1], e.g. 0.05 for 5%."
        raise ValueError(msg)
    total = counts.sum()
    if total <= 0:
        return np.full(len(cov), np.nan)
    scores = np.where(np.isfinite(scores), scores, -np.inf)
    uniq, group = np.unique(-scores, return_inverse=True)  # group 0 = highest score
    g_size = np.bincount(group, weights=sizes, minlength=len(uniq))
    g_count = np.bincount(group, weights=counts, minlength=len(uniq))
    cum_size = np.r_[0.0, np.cumsum(g_size)]
    cum_count = np.r_[0.0, np.cumsum(g_count)]
    budget = cov * sizes.sum()
    k = np.clip(np.searchsorted(cum_size, budget, side="left") - 1, 0, len(uniq) - 1)
    part = np.clip((budget - cum_size[k]) / np.where(g_size[k] > 0, g_size[k], 1.0), 0, 1)
    return (cum_count[k] + part * g_count[k]) / total


def max_hit_rates(counts: np.ndarray, sizes: np.ndarray, coverage: Sequence[float]) -> np.ndarray:
    """Best achievable hit rates: units ranked by test reports per unit size (hindsight).

    Parameters
    ----------
    counts, sizes, coverage
        As for :func:`hit_rates`.

    Returns
    -------
    numpy.ndarray
        The largest hit rate any ranking of these units can reach at each coverage.
    """
    counts = np.asarray(counts, dtype=float)
    sizes = np.asarray(sizes, dtype=float)
    return hit_rates(counts / sizes, counts, sizes, coverage)


def _kde_scores(train_xy: np.ndarray, at_xy: np.ndarray, bandwidth_m: float) -> np.ndarray:
    from sklearn.neighbors import KernelDensity

    kde = KernelDensity(kernel="gaussian", bandwidth=float(bandwidth_m), rtol=1e-4)
    kde.fit(train_xy)
    return np.exp(kde.score_samples(at_xy))


def _clip_area(reports: pd.DataFrame, area: Sequence[float] | None) -> pd.DataFrame:
    lon = pd.to_numeric(reports["lon"], errors="coerce")
    lat = pd.to_numeric(reports["lat"], errors="coerce")
    keep = lon.notna() & lat.notna()
    if area is not None:
        west, south, east, north = (float(v) for v in area)
        keep &= lon.between(west, east) & lat.between(south, north)
    return reports.loc[keep.to_numpy()]


def _grid(
    x: np.ndarray, y: np.ndarray, cell_m: float, bounds: tuple[float, float, float, float]
) -> tuple[int, int, float, float]:
    x0, y0, x1, y1 = bounds
    nx = max(1, int(np.ceil((x1 - x0) / cell_m + 1e-9)))
    ny = max(1, int(np.ceil((y1 - y0) / cell_m + 1e-9)))
    return nx, ny, x0, y0


def _cell_index(
    x: np.ndarray, y: np.ndarray, nx: int, ny: int, x0: float, y0: float, cell_m: float
) -> np.ndarray:
    ix = np.floor((x - x0) / cell_m).astype(np.int64)
    iy = np.floor((y - y0) / cell_m).astype(np.int64)
    ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    return np.where(ok, iy * nx + ix, -1)


def _cell_mass(
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    nx: int,
    ny: int,
    x0: float,
    y0: float,
    cell_m: float,
    sigma_m: float,
) -> np.ndarray:
    """Weighted Gaussian kernel mass falling in each cell (exact, separable integrals)."""
    from scipy.special import ndtr

    r = int(np.ceil(4.0 * sigma_m / cell_m)) + 1
    offs = np.arange(-r, r + 1)
    ix = np.floor((x - x0) / cell_m).astype(np.int64)
    iy = np.floor((y - y0) / cell_m).astype(np.int64)
    cols = ix[:, None] + offs[None, :]  # (n, 2r+1)
    rows = iy[:, None] + offs[None, :]
    left = x0 + cols * cell_m
    bottom = y0 + rows * cell_m
    mx = ndtr((left + cell_m - x[:, None]) / sigma_m) - ndtr((left - x[:, None]) / sigma_m)
    my = ndtr((bottom + cell_m - y[:, None]) / sigma_m) - ndtr((bottom - y[:, None]) / sigma_m)
    mx *= (cols >= 0) & (cols < nx)
    my *= (rows >= 0) & (rows < ny)
    mass = weight[:, None, None] * my[:, :, None] * mx[:, None, :]  # (n, rows, cols)
    flat = np.clip(rows, 0, ny - 1)[:, :, None] * nx + np.clip(cols, 0, nx - 1)[:, None, :]
    return np.bincount(flat.ravel(), weights=mass.ravel(), minlength=nx * ny)


def evaluate(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    settings: Settings | None = None,
    coverage: Sequence[float] = DEFAULT_COVERAGE,
    categories: Iterable[str] | None = None,
    area: Sequence[float] | None = None,
    at: Any = None,
    half_life_days: float | None = None,
    bandwidth_m: float | None = None,
    cell_m: float = DEFAULT_CELL_M,
    kde_bandwidth_m: float = DEFAULT_KDE_BANDWIDTH_M,
    point_bandwidth_m: float = DEFAULT_POINT_BANDWIDTH_M,
    metric_crs: CRS | str | int | None = None,
) -> dict[str, Any]:
    """Back-test: rank units on ``train``, count ``test`` reports caught at each coverage.

    Network mode (``segments`` given): units are street segments and coverage is a share
    of total street length. Methods: ``beatplan`` = prospective risk
    (:func:`geo.hotspots.segment_risk`) plus 30% of its network-smoothed spread
    (:func:`geo.hotspots.smooth_risk`), per metre;
    ``counts`` = train reports per metre of segment; ``kde`` = planar Gaussian KDE
    (``kde_bandwidth_m``) of the train reports at each segment's midpoint. Test reports
    without a ``segment_id`` are not counted.

    Point mode (``segments`` None): units are ``cell_m`` grid cells over the bounding box
    of train and test (clipped to ``area``) and coverage is a share of that area.
    Methods: ``beatplan`` = the Gaussian kernel mass (sigma ``point_bandwidth_m``, plus a
    30% near-repeat component of sigma 50 m) of the
    decayed harm-weighted train reports integrated exactly over each cell (expected
    weighted reports per cell); ``counts`` = train reports per cell; ``kde`` = planar
    Gaussian KDE (``kde_bandwidth_m``, unweighted) evaluated at the cell centres.

    Hit rate, PAI = hit rate / coverage, and PEI = PAI / the PAI of perfect hindsight
    on the test reports with the same units; ties are spread (see :func:`hit_rates`).

    Parameters
    ----------
    train, test
        Report tables (CONTRACTS).
    segments
        Street segments for network mode; None for point mode.
    settings
        Settings (harm weights, half-life, bandwidth).
    coverage
        Coverage levels, shares in (0, 1].
    categories
        Keep only these categories in both tables.
    area
        ``(min_lon, min_lat, max_lon, max_lat)``: keep reports (and grid) inside it.
    at
        Moment of the prospective risk (default: the day after the latest train report).
    half_life_days, bandwidth_m
        Override the ``[hotspots]`` settings for ``beatplan``.
    cell_m
        Grid cell size in point mode (metres).
    kde_bandwidth_m
        Bandwidth of the KDE baseline (metres).
    point_bandwidth_m
        Gaussian sigma of point-mode ``beatplan`` (metres).
    metric_crs
        CRS for distances (default: EPSG:27700 in Great Britain, else UTM).

    Returns
    -------
    dict
        ``{"methods": {name: {"hit_rate": {"0.05": ...}, "pai": {...}, "pei": {...}}},
        "coverage": [...], "n_train": int, "n_test": int}``.

    Raises
    ------
    ValueError
        When the train or test period holds no usable reports.
    """
    settings = _resolve_settings(settings)
    cov = [float(c) for c in coverage]
    train = _clip_area(_filter_reports(train, categories=categories), area)
    test = _clip_area(_filter_reports(test, categories=categories), area)
    if train.empty:
        msg = "No training reports in the chosen categories and area; choose a longer period."
        raise ValueError(msg)
    if test.empty:
        msg = "No test reports in the chosen categories and area; choose another test period."
        raise ValueError(msg)
    if at is None:
        at = _default_at(pd.to_datetime(train["occurred_at"]))
    if segments is not None:
        scores, counts, sizes, n_train, n_test = _network_units(
            segments,
            train,
            test,
            settings=settings,
            at=at,
            half_life_days=half_life_days,
            bandwidth_m=bandwidth_m,
            kde_bandwidth_m=kde_bandwidth_m,
            metric_crs=metric_crs,
        )
    else:
        scores, counts, sizes, n_train, n_test = _grid_units(
            train,
            test,
            settings=settings,
            at=at,
            half_life_days=half_life_days,
            area=area,
            cell_m=cell_m,
            kde_bandwidth_m=kde_bandwidth_m,
            point_bandwidth_m=point_bandwidth_m,
            metric_crs=metric_crs,
        )
    keys = [_coverage_key(c) for c in cov]
    best = max_hit_rates(counts, sizes, cov)
    methods: dict[str, dict[str, dict[str, float]]] = {}
    for name in METHODS:
        hr = hit_rates(scores[name], counts, sizes, cov)
        pai = hr / np.asarray(cov)
        with np.errstate(divide="ignore", invalid="ignore"):
            pei = np.where(best > 0, hr / best, np.nan)
        methods[name] = {
            "hit_rate": {k: float(v) for k, v in zip(keys, hr, strict=True)},
            "pai": {k: float(v) for k, v in zip(keys, pai, strict=True)},
            "pei": {k: float(v) for k, v in zip(keys, pei, strict=True)},
        }
    return {"methods": methods, "coverage": cov, "n_train": int(n_train), "n_test": int(n_test)}


def _network_score(risk: pd.Series, smoothed: pd.Series, segments: pd.DataFrame) -> np.ndarray:
    """A segment's own decayed risk plus a share of its network-smoothed risk (both normalised).

    On networks of short segments (footways, crossings: Helsinki's median is 12 m) the
    150 m kernel alone spreads a hot segment's risk over dozens of neighbours and blurs the
    exact place; the own term keeps it, the smoothed term adds the street around it.
    """
    ids = segments["segment_id"].to_numpy(dtype=np.int64)
    own = risk.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    spread = smoothed.reindex(ids).fillna(0.0).to_numpy(dtype=float)
    return own / max(own.sum(), 1e-12) + DEFAULT_NETWORK_SMOOTH_SHARE * spread / max(
        spread.sum(), 1e-12
    )


def _network_units(
    segments: pd.DataFrame,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    settings: Settings,
    at: Any,
    half_life_days: float | None,
    bandwidth_m: float | None,
    kde_bandwidth_m: float,
    metric_crs: CRS | str | int | None,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, int, int]:
    n = len(segments)
    sizes = np.maximum(segments["length_m"].to_numpy(dtype=float), 1.0)
    train_pos = _segment_positions(segments, train)
    test_pos = _segment_positions(segments, test)
    if not (train_pos >= 0).any():
        msg = "No training report is on the street network; snap the reports first."
        raise ValueError(msg)
    if not (test_pos >= 0).any():
        msg = "No test report is on the street network; snap the reports first."
        raise ValueError(msg)
    counts = np.bincount(test_pos[test_pos >= 0], minlength=n).astype(float)
    train_counts = np.bincount(train_pos[train_pos >= 0], minlength=n).astype(float)
    risk = segment_risk(segments, train, at=at, half_life_days=half_life_days, settings=settings)
    smoothed = smooth_risk(segments, risk, bandwidth_m=bandwidth_m, settings=settings)
    lon = pd.to_numeric(train["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(train["lat"], errors="coerce").to_numpy(dtype=float)
    crs = CRS.from_user_input(metric_crs) if metric_crs is not None else metric_crs_for(lon, lat)
    tx, ty = _project(lon, lat, crs)
    mids = shapely.line_interpolate_point(segments.geometry.to_numpy(), 0.5, normalized=True)
    mx, my = _project(shapely.get_x(mids), shapely.get_y(mids), crs)
    scores = {
        "beatplan": _network_score(risk, smoothed, segments) / sizes,
        "counts": train_counts / sizes,
        "kde": _kde_scores(np.c_[tx, ty], np.c_[mx, my], kde_bandwidth_m),
    }
    return scores, counts, sizes, int((train_pos >= 0).sum()), int(counts.sum())


def _grid_units(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    settings: Settings,
    at: Any,
    half_life_days: float | None,
    area: Sequence[float] | None,
    cell_m: float,
    kde_bandwidth_m: float,
    point_bandwidth_m: float,
    metric_crs: CRS | str | int | None,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, int, int]:
    if cell_m <= 0:
        msg = "cell_m must be a positive number of metres, e.g. 150."
        raise ValueError(msg)
    lon_tr = train["lon"].to_numpy(dtype=float)
    lat_tr = train["lat"].to_numpy(dtype=float)
    lon_te = test["lon"].to_numpy(dtype=float)
    lat_te = test["lat"].to_numpy(dtype=float)
    crs = (
        CRS.from_user_input(metric_crs)
        if metric_crs is not None
        else metric_crs_for(np.r_[lon_tr, lon_te], np.r_[lat_tr, lat_te])
    )
    tx, ty = _project(lon_tr, lat_tr, crs)
    ex, ey = _project(lon_te, lat_te, crs)
    ax, ay = np.r_[tx, ex], np.r_[ty, ey]
    bounds = (ax.min(), ay.min(), ax.max(), ay.max())
    if area is not None:
        west, south, east, north = (float(v) for v in area)
        bx, by = _project(
            np.array([west, east, west, east]), np.array([south, south, north, north]), crs
        )
        bounds = (
            max(bounds[0], bx.min()),
            max(bounds[1], by.min()),
            min(bounds[2], bx.max()),
            min(bounds[3], by.max()),
        )
    nx, ny, x0, y0 = _grid(ax, ay, cell_m, bounds)
    n_cells = nx * ny
    tr_cell = _cell_index(tx, ty, nx, ny, x0, y0, cell_m)
    te_cell = _cell_index(ex, ey, nx, ny, x0, y0, cell_m)
    counts = np.bincount(te_cell[te_cell >= 0], minlength=n_cells).astype(float)
    train_counts = np.bincount(tr_cell[tr_cell >= 0], minlength=n_cells).astype(float)
    half_life = float(_opt(half_life_days, settings, "half_life_days", 28))
    weight = _harm_weights(train["category"], settings) * _decay(
        pd.to_datetime(train["occurred_at"]), pd.Timestamp(at), half_life
    )
    ok = tr_cell >= 0
    wide = _cell_mass(tx, ty, weight, nx, ny, x0, y0, cell_m, point_bandwidth_m)
    narrow = _cell_mass(tx, ty, weight, nx, ny, x0, y0, cell_m, DEFAULT_POINT_NARROW_M)
    ours = wide / max(wide.sum(), 1e-12) + DEFAULT_POINT_NARROW_SHARE * narrow / max(
        narrow.sum(), 1e-12
    )
    cx = x0 + (np.arange(nx) + 0.5) * cell_m
    cy = y0 + (np.arange(ny) + 0.5) * cell_m
    gx, gy = np.meshgrid(cx, cy)
    scores = {
        "beatplan": ours,
        "counts": train_counts,
        "kde": _kde_scores(np.c_[tx, ty], np.c_[gx.ravel(), gy.ravel()], kde_bandwidth_m),
    }
    sizes = np.full(n_cells, cell_m * cell_m)
    return scores, counts, sizes, int(ok.sum()), int(counts.sum())
