"""Next-period report forecasts per grid cell or street segment, calibrated on training data only.

Every method here (ours and the baselines) scores *units* (grid cells in point mode,
street segments in network mode) from training reports alone and picks its settings by
validation inside the training window:

- several training months: rolling origin inside training (fit on months before ``k``,
  validate on month ``k``, for the latest :data:`N_FOLDS` months ``k``);
- one training month (police.uk's month-only files): *data thinning*, i.e. two halves of
  the month split by a hash of each report's id, each half predicting the other. Under a
  Poisson model the halves are independent draws of the same intensity.

The objective is the mean hit rate at the reported coverage levels, averaged over folds.
Time is measured in months (float; month-only data are whole months) so decay matches the
data's resolution: a half-life is at least one month and a year-old month keeps weight
``2 ** (-12 / h)``, never ``2 ** (-366 / 28)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.special import ndtr

__all__ = [
    "FAMILIES",
    "METHODS",
    "Events",
    "Units",
    "calibrate",
    "fit_scores",
    "folds",
    "forecast",
    "make_events",
]

METHODS = ("beatplan", "counts", "kde", "prospective", "counts_kernel")
N_FOLDS = 3
SIGMAS_M = (50.0, 100.0, 200.0, 400.0)
KERNEL_WEIGHTS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
HALF_LIVES_MONTHS = (1.0, 3.0, 6.0, 12.0, math.inf)
OTHER_SHARES = (0.0, 0.25, 0.5, 1.0)
PH_RADII_M = (200.0, 400.0, 800.0)
PH_WINDOWS_MONTHS = (1, 2, 3, 6, 12)
PH_CELL_M = 50.0  # Bowers, Johnson & Pease (2004): 50 m cells, weeks, 1/(1+d), 1/(1+t)
TIEBREAK_SIGMA_M = 100.0
WEEKS_PER_MONTH = 30.4375 / 7.0

# The settings family of each method: a list of settings dicts in order of simplicity
# (smoother and with fewer extras first). Calibration keeps the first setting whose
# validation objective is within one standard error of the best (the one-SE rule).
FAMILIES: dict[str, list[dict[str, float]]] = {
    "counts": [{}],
    "kde": [{"sigma_m": s} for s in SIGMAS_M[::-1]],
    "prospective": [
        {"radius_m": r, "window_months": float(w)}
        for w, r in product(PH_WINDOWS_MONTHS[::-1], PH_RADII_M[::-1])
    ],
    "counts_kernel": [
        {"sigma_m": s, "kernel_weight": f} for s, f in product(SIGMAS_M[::-1], KERNEL_WEIGHTS[::-1])
    ],
    "beatplan": [
        {"sigma_m": s, "prior_weight": f, "half_life_months": h, "other_share": g}
        for g, h, s, f in product(
            OTHER_SHARES, HALF_LIVES_MONTHS[::-1], SIGMAS_M[::-1], KERNEL_WEIGHTS[::-1]
        )
    ],
}
DEFAULTS: dict[str, dict[str, float]] = {
    "counts": {},
    "kde": {"sigma_m": 200.0},
    "prospective": {"radius_m": 400.0, "window_months": 2.0},
    "counts_kernel": {"sigma_m": 200.0, "kernel_weight": 1.0},
    "beatplan": {
        "sigma_m": 200.0,
        "prior_weight": 1.0,
        "half_life_months": 12.0,
        "other_share": 0.0,
    },
}


@dataclass(frozen=True)
class Lattice:
    """A fine raster under a street network: street length per pixel, midpoint pixels."""

    x0: float
    y0: float
    res: float
    nx: int
    ny: int
    length: np.ndarray  # (ny, nx) metres of street per pixel
    mid_pix: np.ndarray  # flat pixel of each unit's midpoint

    def pixels(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat pixel index of each point (-1 outside)."""
        ix = np.floor((x - self.x0) / self.res).astype(np.int64)
        iy = np.floor((y - self.y0) / self.res).astype(np.int64)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        return np.where(ok, iy * self.nx + ix, -1)

    def raster(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Weights summed per pixel, shape ``(ny, nx)``."""
        pix = self.pixels(x, y)
        ok = pix >= 0
        flat = np.bincount(pix[ok], weights=w[ok], minlength=self.nx * self.ny)
        return flat.reshape(self.ny, self.nx)


@dataclass(frozen=True)
class Units:
    """The units a forecast ranks: grid cells (point mode) or street segments (network).

    ``size`` is the cell area (m2) or street length (m); ``x``, ``y`` metric centres or
    midpoints; ``grid`` = ``(nx, ny, x0, y0, cell_m)`` in point mode; ``lattice`` the
    street raster in network mode.
    """

    mode: str
    size: np.ndarray
    x: np.ndarray
    y: np.ndarray
    grid: tuple[int, int, float, float, float] | None = None
    lattice: Lattice | None = None

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.size)


@dataclass(frozen=True)
class Events:
    """Training reports in metric space: unit, time in months, target flag, split key."""

    x: np.ndarray
    y: np.ndarray
    unit: np.ndarray
    when: np.ndarray  # months since year 0 (float; whole months for month-only data)
    month: np.ndarray  # calendar month index (int)
    target: np.ndarray  # in the chosen categories (others are a covariate of ours)
    key: np.ndarray  # uint64 hash of the report id (for the thinning split)
    monthly: bool  # month-only dates

    def subset(self, mask: np.ndarray) -> Events:
        """The events where ``mask`` holds."""
        return Events(
            self.x[mask],
            self.y[mask],
            self.unit[mask],
            self.when[mask],
            self.month[mask],
            self.target[mask],
            self.key[mask],
            self.monthly,
        )


def make_events(
    reports: pd.DataFrame, x: np.ndarray, y: np.ndarray, unit: np.ndarray, target: np.ndarray
) -> Events:
    """Build :class:`Events` from a report table and its metric coordinates and units.

    Parameters
    ----------
    reports
        Report table (CONTRACTS); ``occurred_at`` and ``report_id`` are read.
    x, y
        Metric coordinates per report.
    unit
        Unit index per report (-1 outside the study area).
    target
        True for reports in the categories being forecast.

    Returns
    -------
    Events
    """
    when = pd.to_datetime(reports["occurred_at"])
    month = (when.dt.year * 12 + when.dt.month - 1).to_numpy(dtype=np.int64)
    frac = (
        (when.dt.day - 1) + (when - when.dt.normalize()).dt.total_seconds() / 86400.0
    ) / when.dt.days_in_month
    known = reports["time_known"] if "time_known" in reports.columns else pd.Series(True)
    monthly = bool(len(when)) and bool((frac == 0).all()) and not bool(known.astype(bool).any())
    if "report_id" in reports.columns:
        key = pd.util.hash_pandas_object(reports["report_id"].astype(str), index=False)
    else:
        key = pd.util.hash_pandas_object(reports[["lon", "lat", "occurred_at"]], index=False)
    return Events(
        np.asarray(x, dtype=float),
        np.asarray(y, dtype=float),
        np.asarray(unit, dtype=np.int64),
        month + frac.to_numpy(dtype=float),
        month,
        np.asarray(target, dtype=bool),
        key.to_numpy(dtype=np.uint64),
        monthly,
    )


def origin(ev: Events) -> float:
    """The forecast moment in months: the next month's start (month-only) or the next day."""
    if not len(ev.when):
        return 0.0
    if ev.monthly:
        return float(ev.month.max() + 1)
    return float(ev.when.max() + 1.0 / 30.4375)


# --------------------------------------------------------------------------------------
# Fields: counts and kernels per unit (linear in the event weights)
# --------------------------------------------------------------------------------------


def _cell_mass(
    units: Units, x: np.ndarray, y: np.ndarray, w: np.ndarray, sigma: float
) -> np.ndarray:
    """Weighted Gaussian kernel mass falling in each grid cell (exact separable integrals)."""
    nx, ny, x0, y0, cell = units.grid  # type: ignore[misc]
    r = int(np.ceil(4.0 * sigma / cell)) + 1
    offs = np.arange(-r, r + 1)
    cols = np.floor((x - x0) / cell).astype(np.int64)[:, None] + offs[None, :]
    rows = np.floor((y - y0) / cell).astype(np.int64)[:, None] + offs[None, :]
    left = x0 + cols * cell
    bottom = y0 + rows * cell
    mx = ndtr((left + cell - x[:, None]) / sigma) - ndtr((left - x[:, None]) / sigma)
    my = ndtr((bottom + cell - y[:, None]) / sigma) - ndtr((bottom - y[:, None]) / sigma)
    mx *= (cols >= 0) & (cols < nx)
    my *= (rows >= 0) & (rows < ny)
    mass = w[:, None, None] * my[:, :, None] * mx[:, None, :]
    flat = np.clip(rows, 0, ny - 1)[:, :, None] * nx + np.clip(cols, 0, nx - 1)[:, None, :]
    return np.bincount(flat.ravel(), weights=mass.ravel(), minlength=nx * ny)


def _blocks(img: np.ndarray, q: int) -> np.ndarray:
    """Sum a raster over blocks of ``q x q`` pixels (zero-padded at the far edges)."""
    if q <= 1:
        return img
    ny, nx = img.shape
    pad = np.zeros((-(-ny // q) * q, -(-nx // q) * q))
    pad[:ny, :nx] = img
    return pad.reshape(pad.shape[0] // q, q, pad.shape[1] // q, q).sum(axis=(1, 3))


def _blur_at(lat: Lattice, img: np.ndarray, sigma: float, pix: np.ndarray) -> np.ndarray:
    """Gaussian blur of a raster read at flat pixels ``pix``, per pixel of the base raster.

    Wide kernels run on a coarser raster (blocks of ``q x q`` pixels, about five coarse
    pixels per sigma), which keeps every blur cheap without changing its scale.
    """
    q = max(1, int(sigma // (5.0 * lat.res)))
    img = _blocks(img, q) / q**2
    out = ndimage.gaussian_filter(img, sigma / (lat.res * q), mode="constant", truncate=4.0)
    row, col = np.divmod(pix, lat.nx)
    return out[row // q, col // q]


def counts(units: Units, ev: Events, w: np.ndarray) -> np.ndarray:
    """Weighted reports per unit."""
    ok = ev.unit >= 0
    return np.bincount(ev.unit[ok], weights=w[ok], minlength=units.n)


def density(units: Units, ev: Events, w: np.ndarray, sigma: float) -> np.ndarray:
    """Planar Gaussian KDE per unit: the mass per cell (point) or density at the midpoint."""
    if units.grid is not None:
        return _cell_mass(units, ev.x, ev.y, w, sigma)
    lat = units.lattice
    return _blur_at(lat, lat.raster(ev.x, ev.y, w), sigma, lat.mid_pix) / lat.res**2


def rate(units: Units, ev: Events, w: np.ndarray, sigma: float) -> np.ndarray:
    """Kernel-smoothed reports per unit size (Nadaraya-Watson rate per metre of street)."""
    if units.grid is not None:
        return _cell_mass(units, ev.x, ev.y, w, sigma) / units.size
    lat = units.lattice
    num = _blur_at(lat, lat.raster(ev.x, ev.y, w), sigma, lat.mid_pix)
    den = _blur_at(lat, lat.length, sigma, lat.mid_pix)
    return num / np.maximum(den, 1e-9)


def _ph_kernel(radius: float, cell: float, res: float) -> np.ndarray:
    r = int(np.floor(radius / res))
    off = np.arange(-r, r + 1) * res
    d = np.hypot(off[None, :], off[:, None])
    return np.where(d <= radius + 1e-9, 1.0 / (1.0 + d / cell), 0.0)


def prospective(units: Units, ev: Events, t0: float, radius: float, window: float) -> np.ndarray:
    """Prospective hotspotting: sum of 1/(1 + cells away) x 1/(1 + weeks ago) over recent events."""
    age = t0 - ev.when
    w = np.where(age < window + 0.5, 1.0 / (1.0 + np.maximum(age, 0.0) * WEEKS_PER_MONTH), 0.0)
    if units.grid is not None:
        nx, ny, _, _, cell = units.grid
        img = counts(units, ev, w).reshape(ny, nx)
        kern = _ph_kernel(radius, max(cell, PH_CELL_M), cell)
        return ndimage.convolve(img, kern, mode="constant").ravel()
    lat = units.lattice  # on a network: the street raster in blocks of about 50 m cells
    q = max(1, round(PH_CELL_M / lat.res))
    img = _blocks(lat.raster(ev.x, ev.y, w), q)
    out = ndimage.convolve(img, _ph_kernel(radius, PH_CELL_M, lat.res * q), mode="constant")
    row, col = np.divmod(lat.mid_pix, lat.nx)
    return out[row // q, col // q]


# --------------------------------------------------------------------------------------
# Scores per method
# --------------------------------------------------------------------------------------


@dataclass
class _Cache:
    fields: dict[tuple, np.ndarray] = field(default_factory=dict)

    def get(self, key: tuple, make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self.fields:
            self.fields[key] = make()
        return self.fields[key]


def _decay(ev: Events, t0: float, half_life: float) -> np.ndarray:
    if not math.isfinite(half_life):
        return np.ones(len(ev.when))
    return np.exp2(-np.maximum(t0 - ev.when, 0.0) / half_life)


def _dense_rank(values: np.ndarray) -> np.ndarray:
    return np.unique(values, return_inverse=True)[1].astype(float)


def fit_scores(
    method: str,
    units: Units,
    ev: Events,
    t0: float,
    setting: dict[str, float],
    cache: _Cache | None = None,
) -> np.ndarray:
    """Score every unit with one method and one setting (higher = more reports per size).

    Parameters
    ----------
    method
        One of :data:`METHODS`.
    units
        The study area's units.
    ev
        The events to fit on (target and, for ``beatplan``, other categories).
    t0
        The forecast moment in months (see :func:`origin`).
    setting
        One member of ``FAMILIES[method]``.
    cache
        Optional field cache shared by calls on the same ``ev`` and ``t0``.

    Returns
    -------
    numpy.ndarray
        One score per unit.
    """
    cache = cache if cache is not None else _Cache()
    tgt = ev.target.astype(float)
    if method == "counts":
        c = cache.get(("c",), lambda: counts(units, ev, tgt))
        tb = cache.get(("d", TIEBREAK_SIGMA_M), lambda: density(units, ev, tgt, TIEBREAK_SIGMA_M))
        return _dense_rank(c / units.size) + tb / max(tb.max() * (1 + 1e-9), 1e-300)
    if method == "kde":
        s = setting["sigma_m"]
        d = cache.get(("d", s), lambda: density(units, ev, tgt, s))
        return d / units.size if units.grid is not None else d
    if method == "prospective":
        r, win = setting["radius_m"], setting["window_months"]
        return cache.get(
            ("ph", r, win), lambda: prospective(units, ev.subset(ev.target), t0, r, win)
        )
    if method == "counts_kernel":
        s, f = setting["sigma_m"], setting["kernel_weight"]
        c = cache.get(("c",), lambda: counts(units, ev, tgt))
        d = cache.get(("d", s), lambda: density(units, ev, tgt, s))
        mass = (
            d
            if units.grid is not None
            else d * units.size * c.sum() / max((d * units.size).sum(), 1e-300)
        )
        return (c + f * mass) / units.size
    if method == "beatplan":
        return _ours(units, ev, t0, setting, cache)
    msg = f"unknown method {method!r}; choose from {', '.join(METHODS)}."
    raise ValueError(msg)


def _ours(
    units: Units, ev: Events, t0: float, setting: dict[str, float], cache: _Cache
) -> np.ndarray:
    """Empirical-Bayes rate: ``(c + k * r) / (size + k)``, ``k = prior_weight * median size``.

    ``c`` = decayed reports on the unit (other categories at ``other_share``), ``r`` = their
    kernel-smoothed rate per unit size around it (sigma ``sigma_m``; on a network the
    Nadaraya-Watson rate per metre of street), i.e. the posterior mean of a Poisson rate
    with a gamma prior centred on the neighbourhood's rate.
    """
    s, f = setting["sigma_m"], setting["prior_weight"]
    h, g = setting["half_life_months"], setting["other_share"]
    parts = []
    for is_target, share in ((True, 1.0), (False, g)):
        if share == 0:
            continue
        w_key = ("w", h, is_target)
        w = cache.get(w_key, lambda t=is_target: _decay(ev, t0, h) * (ev.target == t))
        c = cache.get(("c", h, is_target), lambda w=w: counts(units, ev, w))
        r = cache.get(("r", s, h, is_target), lambda w=w: rate(units, ev, w, s))
        parts.append((share * c, share * r))
    c = sum(p[0] for p in parts)
    r = sum(p[1] for p in parts)
    k = f * float(np.median(units.size))
    return (c + k * r) / (units.size + k)


# --------------------------------------------------------------------------------------
# Validation inside the training window
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fold:
    """Fit on ``fit``, count the target reports of ``val`` per unit, forecast moment ``t0``."""

    fit: np.ndarray
    val: np.ndarray
    t0: float


def folds(ev: Events, *, n_folds: int = N_FOLDS) -> tuple[list[Fold], str]:
    """Validation folds inside the training events, and a plain description.

    Parameters
    ----------
    ev
        Training events.
    n_folds
        Most rolling-origin folds (the latest months).

    Returns
    -------
    tuple
        ``(folds, description)``; folds whose validation month has no target report in
        the study area are left out.
    """
    months = np.unique(ev.month)
    inside = ev.target & (ev.unit >= 0)
    out: list[Fold] = []
    if len(months) >= 2:
        for k in months[1:][-n_folds:]:
            fit, val = ev.month < k, (ev.month == k) & inside
            if val.any() and (fit & ev.target).any():
                out.append(Fold(fit, val, float(k)))
        text = f"rolling origin inside training: fit on the months before each of the last {len(out)} training months, validate on it"
        return out, text
    half = (ev.key % np.uint64(2)).astype(bool)
    t0 = origin(ev)
    for a in (half, ~half):
        if (a & ev.target).any() and (~a & inside).any():
            out.append(Fold(a, ~a & inside, t0))
    text = "one training month: two halves split by a hash of the report id, each predicting the other (data thinning)"
    return out, text


def hit_rates(
    scores: np.ndarray, counts_: np.ndarray, sizes: np.ndarray, coverage: Sequence[float]
) -> np.ndarray:
    """Share of reports caught by the top-scored units covering each share of size (ties spread)."""
    total = counts_.sum()
    if total <= 0:
        return np.full(len(coverage), np.nan)
    scores = np.where(np.isfinite(scores), scores, -np.inf)
    uniq, group = np.unique(-scores, return_inverse=True)
    g_size = np.bincount(group, weights=sizes, minlength=len(uniq))
    g_count = np.bincount(group, weights=counts_, minlength=len(uniq))
    cum_size = np.r_[0.0, np.cumsum(g_size)]
    cum_count = np.r_[0.0, np.cumsum(g_count)]
    budget = np.asarray(coverage, dtype=float) * sizes.sum()
    k = np.clip(np.searchsorted(cum_size, budget, side="left") - 1, 0, len(uniq) - 1)
    part = np.clip((budget - cum_size[k]) / np.where(g_size[k] > 0, g_size[k], 1.0), 0, 1)
    return (cum_count[k] + part * g_count[k]) / total


def calibrate(
    method: str,
    units: Units,
    ev: Events,
    coverage: Sequence[float],
    *,
    n_folds: int = N_FOLDS,
    family: list[dict[str, float]] | None = None,
) -> dict[str, Any]:
    """Choose a method's setting by validation inside the training events.

    The one-standard-error rule: of the settings whose objective is within one binomial
    standard error (``sqrt(h (1 - h) / n)``, ``h`` the best objective, ``n`` the validation
    reports) of the best, the first in family order (the simplest, smoothest) is kept, so
    extras such as time decay or other categories stay only when they clearly help.

    Parameters
    ----------
    method
        One of :data:`METHODS`.
    units, ev
        Study-area units and training events.
    coverage
        Coverage levels of the objective (mean hit rate).
    n_folds
        Most rolling-origin folds.
    family
        Settings to choose among, simplest first (default ``FAMILIES[method]``).

    Returns
    -------
    dict
        ``{"setting", "score" (validation objective or None), "validation" (text)}``.
    """
    fs, text = folds(ev, n_folds=n_folds)
    family = FAMILIES[method] if family is None else family
    if len(np.unique(ev.month)) < 2:  # one month: decay and time windows change nothing
        family = [
            s
            for s in family
            if not math.isfinite(s.get("half_life_months", math.inf))
            and s.get("window_months", 1.0) == 1.0
        ]
    if not (ev.target == 0).any():  # no other categories to borrow from
        family = [s for s in family if s.get("other_share", 0.0) == 0.0]
    if not fs or len(family) == 1:
        setting = dict(family[0]) if len(family) == 1 else dict(DEFAULTS[method])
        return {
            "setting": setting,
            "score": None,
            "validation": text if fs else "no validation data: prior defaults",
        }
    objective = np.zeros(len(family))
    n_val = 0.0
    for fold in fs:
        fit_ev = ev.subset(fold.fit)
        val = np.bincount(ev.unit[fold.val], minlength=units.n).astype(float)
        n_val += val.sum()
        cache = _Cache()
        for i, setting in enumerate(family):
            sc = fit_scores(method, units, fit_ev, fold.t0, setting, cache)
            objective[i] += np.mean(hit_rates(sc, val, units.size, coverage)) / len(fs)
    top = float(objective.max())
    hr = min(max(top, 1e-6), 1 - 1e-6)
    se = math.sqrt(hr * (1 - hr) / max(n_val, 1.0))
    best = int(np.flatnonzero(objective >= top - se)[0])  # the simplest within one SE
    return {"setting": dict(family[best]), "score": float(objective[best]), "validation": text}


def forecast(
    method: str,
    units: Units,
    ev: Events,
    coverage: Sequence[float],
    *,
    t0: float | None = None,
    calibrations: dict[str, dict[str, Any]] | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Calibrate ``method`` on the training events, then score every unit from all of them.

    ``beatplan`` is :func:`geo.forecast_learned.forecast_ours`.

    Parameters
    ----------
    method, units, ev, coverage
        As for :func:`calibrate`.
    t0, calibrations
        Forecast moment in months (default :func:`origin`); for ``beatplan``, the
        baselines' calibrations already made on the same data.

    Returns
    -------
    tuple
        ``(scores, calibration)`` with the chosen setting in ``calibration["setting"]``.
    """
    if method == "beatplan":
        from geo.forecast_learned import forecast_ours

        return forecast_ours(units, ev, coverage, t0=t0, calibrations=calibrations)
    cal = calibrate(method, units, ev, coverage)
    t0 = origin(ev) if t0 is None else t0
    return fit_scores(method, units, ev, t0, cal["setting"]), cal
