"""Honest back-tests of hotspot forecasts: hit rate, PAI and PEI with bootstrap intervals.

Protocol (DESIGN section 4, issue 13):

- The **study area** is the area's boundary when given, else the training reports'
  extent after dropping far-off outliers (outside Tukey's far fences, 3 x IQR beyond the
  quartiles of either metric coordinate; their number is reported). Test reports never
  shape it; test reports outside it are counted and left out.
- **Units** are grid cells (point mode, coverage = share of area) or street segments
  (network mode, coverage = share of street length).
- Every method, ours and the baselines (:data:`geo.forecast.METHODS`), picks its
  settings by validation inside the training window (:func:`geo.forecast.calibrate`);
  nothing of the test period reaches it.
- **Ties** are spread, not ordered: a block of tied units counts as one unit whose
  reports are caught pro rata to the share of its size taken (the expected result of a
  random order), so ties never flatter a method.
- **Intervals**: 95% percentile intervals from a Poisson bootstrap over the test units
  (each unit's size and test reports weighted by a Poisson(1) draw).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS

from geo.forecast import (
    METHODS,
    calibrate,
    fit_scores,
    forecast,
    make_events,
    origin,
)
from geo.forecast import hit_rates as _hit_rates
from geo.forecast_learned import QUICK_FAMILY
from geo.hotspots import _filter_reports, _project, _segment_positions, metric_crs_for
from geo.settings import Settings
from geo.study_area import area_bounds, cells, grid_units, network_units, study_area

__all__ = [
    "METHODS",
    "TIE_RULE",
    "backtest",
    "evaluate",
    "hit_rates",
    "last_month_check",
    "max_hit_rates",
    "study_area",
]

DEFAULT_COVERAGE = (0.01, 0.05, 0.10)
DEFAULT_CELL_M = 150.0
N_BOOT = 200
TIE_RULE = "tied units are taken together, their test reports pro rata to the share taken"


def _coverage_key(c: float) -> str:
    key = f"{c:.2f}"
    return key if abs(float(key) - c) < 1e-12 else repr(float(c))


def hit_rates(
    scores: np.ndarray, counts: np.ndarray, sizes: np.ndarray, coverage: Sequence[float]
) -> np.ndarray:
    """Share of test reports caught by the top-scored units covering each share of size.

    Units are taken in decreasing score; the last unit is taken in part (its reports pro
    rata). Tied scores are spread (see :data:`TIE_RULE`), so ties can never inflate a score.

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
    cov = np.asarray(coverage, dtype=float)
    if np.any((cov <= 0) | (cov > 1)):
        msg = "coverage levels must be shares in (0, 1], e.g. 0.05 for 5%."
        raise ValueError(msg)
    return _hit_rates(
        np.asarray(scores, dtype=float),
        np.asarray(counts, dtype=float),
        np.asarray(sizes, dtype=float),
        cov,
    )


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


def _boot_rates(
    scores: np.ndarray, counts: np.ndarray, sizes: np.ndarray, cov: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Hit rates under each row of bootstrap unit weights, shape ``(B, len(cov))``."""
    scores = np.where(np.isfinite(scores), scores, -np.inf)
    uniq, group = np.unique(-scores, return_inverse=True)
    out = np.empty((len(weights), len(cov)))
    for b, w in enumerate(weights):  # one pass per replicate, vectorised over units
        g_size = np.bincount(group, weights=sizes * w, minlength=len(uniq))
        g_count = np.bincount(group, weights=counts * w, minlength=len(uniq))
        total = g_count.sum()
        cum_size = np.r_[0.0, np.cumsum(g_size)]
        cum_count = np.r_[0.0, np.cumsum(g_count)]
        budget = cov * cum_size[-1]
        k = np.clip(np.searchsorted(cum_size, budget, side="left") - 1, 0, len(uniq) - 1)
        part = np.clip((budget - cum_size[k]) / np.where(g_size[k] > 0, g_size[k], 1.0), 0, 1)
        out[b] = (cum_count[k] + part * g_count[k]) / total if total > 0 else np.nan
    return out


def _prepare(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    segments: pd.DataFrame | None,
    categories: list[str] | None,
    area: Sequence[float] | None,
    cell_m: float,
    metric_crs: CRS | str | int | None,
) -> dict[str, Any]:
    """Units, training events and test counts of one split (the test never shapes the area)."""
    train = _valid_xy(train)
    test = _valid_xy(_filter_reports(test, categories=categories))
    target = (
        np.ones(len(train), dtype=bool)
        if categories is None
        else train["category"].isin(categories).to_numpy()
    )
    if not target.any():
        msg = "No training reports in the chosen categories and area; choose a longer period."
        raise ValueError(msg)
    if test.empty:
        msg = "No test reports in the chosen categories and area; choose another test period."
        raise ValueError(msg)
    lon, lat = train["lon"].to_numpy(dtype=float), train["lat"].to_numpy(dtype=float)
    crs = CRS.from_user_input(metric_crs) if metric_crs is not None else metric_crs_for(lon, lat)
    tx, ty = _project(lon, lat, crs)
    ex, ey = _project(test["lon"].to_numpy(dtype=float), test["lat"].to_numpy(dtype=float), crs)
    if segments is not None:
        units, pos = network_units(segments, crs, area)
        lookup = np.full(len(segments), -1, dtype=np.int64)
        lookup[pos] = np.arange(len(pos))
        sp_tr, sp_te = _segment_positions(segments, train), _segment_positions(segments, test)
        tr_unit = np.where(sp_tr >= 0, lookup[np.maximum(sp_tr, 0)], -1)
        te_unit = np.where(sp_te >= 0, lookup[np.maximum(sp_te, 0)], -1)
        outliers = 0
        extent = {
            "km_street": float(units.size.sum() / 1000.0),
            "source": "network" if area is None else "boundary",
        }
    else:
        if cell_m <= 0:
            msg = "cell_m must be a positive number of metres, e.g. 150."
            raise ValueError(msg)
        box = area_bounds(area, crs) if area is not None else None
        bounds, far = study_area(tx[target], ty[target], bounds=box)
        units = grid_units(bounds, cell_m)
        tr_unit, te_unit = cells(units, tx, ty), cells(units, ex, ey)
        outliers = int(far.sum())
        extent = {
            "km2": float(units.size.sum() / 1e6),
            "source": "boundary" if area is not None else "training extent",
        }
    if not (tr_unit[target] >= 0).any():
        msg = "No training report is in the study area (or on the street network); snap the reports first."
        raise ValueError(msg)
    val = te_unit >= 0
    if not val.any():
        msg = "No test report is in the study area (or on the street network); check the area."
        raise ValueError(msg)
    ev = make_events(train, tx, ty, tr_unit, target)
    test_counts = np.bincount(te_unit[val], minlength=units.n).astype(float)
    extent |= {"train_outliers_dropped": outliers, "units": units.n}
    return {
        "units": units,
        "events": ev,
        "test_counts": test_counts,
        "n_train": int((target & (tr_unit >= 0)).sum()),
        "n_test": int(val.sum()),
        "n_test_outside": int((~val).sum()),
        "study_area": extent,
    }


def _valid_xy(reports: pd.DataFrame) -> pd.DataFrame:
    lon = pd.to_numeric(reports["lon"], errors="coerce")
    lat = pd.to_numeric(reports["lat"], errors="coerce")
    return reports.loc[(lon.notna() & lat.notna()).to_numpy()]


def _run(
    prep: dict[str, Any], cov: list[float], methods: Sequence[str], n_boot: int, seed: int
) -> dict[str, Any]:
    """Forecast with every method; point estimates and bootstrap replicates of the metrics."""
    units, ev, counts = prep["units"], prep["events"], prep["test_counts"]
    c = np.asarray(cov)
    weights = np.random.default_rng(seed).poisson(1.0, size=(n_boot, units.n)).astype(float)
    best = max_hit_rates(counts, units.size, cov)
    best_b = _boot_rates(counts / units.size, counts, units.size, c, weights)
    out: dict[str, Any] = {}
    cals: dict[str, dict[str, Any]] = {}
    for name in sorted(methods, key=lambda m: m == "beatplan"):  # ours last: it reuses cals
        scores, cal = forecast(name, units, ev, cov, calibrations=cals)
        cals[name] = cal
        hr = hit_rates(scores, counts, units.size, cov)
        hr_b = _boot_rates(scores, counts, units.size, c, weights)
        with np.errstate(divide="ignore", invalid="ignore"):
            pei, pei_b = hr / best, hr_b / best_b
        out[name] = {"hr": hr, "hr_b": hr_b, "pei": pei, "pei_b": pei_b, "cal": cal}
    return {name: out[name] for name in methods}


def _interval(reps: np.ndarray) -> np.ndarray:
    """95% percentile interval per coverage, shape ``(C, 2)`` (NaN without replicates)."""
    if reps.shape[0] == 0 or np.isnan(reps).all():
        return np.full((reps.shape[1], 2), np.nan)
    return np.nanpercentile(reps, [2.5, 97.5], axis=0).T


def _method_summary(r: dict[str, Any], cov: list[float]) -> dict[str, Any]:
    keys = [_coverage_key(c) for c in cov]
    c = np.asarray(cov)
    parts = {
        "hit_rate": (r["hr"], _interval(r["hr_b"])),
        "pai": (r["hr"] / c, _interval(r["hr_b"] / c)),
        "pei": (r["pei"], _interval(r["pei_b"])),
    }
    out: dict[str, Any] = {}
    for name, (point, ci) in parts.items():
        out[name] = {k: float(v) for k, v in zip(keys, point, strict=True)}
        out[f"{name}_ci"] = {
            k: [float(lo), float(hi)] for k, (lo, hi) in zip(keys, ci, strict=True)
        }
    out["settings"] = r["cal"]["setting"]
    if "candidates" in r["cal"]:  # ours: every candidate's validation objective
        out["candidates"] = r["cal"]["candidates"]
    return out


def evaluate(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    settings: Settings | None = None,
    coverage: Sequence[float] = DEFAULT_COVERAGE,
    categories: Iterable[str] | None = None,
    area: Sequence[float] | None = None,
    cell_m: float = DEFAULT_CELL_M,
    metric_crs: CRS | str | int | None = None,
    methods: Sequence[str] = METHODS,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> dict[str, Any]:
    """Back-test: every method forecasts from ``train`` alone; score the ``test`` reports.

    Network mode (``segments`` given): units are the street segments of the study area and
    coverage is a share of their length; reports without a ``segment_id`` are not
    counted. Point mode: units are ``cell_m`` grid cells over the study area (module
    docstring) and coverage is a share of its area. Hit rate, PAI = hit rate / coverage
    and PEI = hit rate / the hit rate of perfect hindsight on the same units, each with a
    95% bootstrap interval over the units.

    Parameters
    ----------
    train, test
        Report tables (CONTRACTS). ``train`` may hold other categories: they are used by
        ``beatplan`` as a covariate only when validation inside training says they help.
    segments
        Street segments for network mode; None for point mode.
    settings
        Accepted for compatibility; the forecasts count reports (no harm weights).
    coverage
        Coverage levels, shares in (0, 1].
    categories
        The categories forecast and scored.
    area
        ``(min_lon, min_lat, max_lon, max_lat)``: the area's boundary (the study area).
    cell_m
        Grid cell size in point mode (metres).
    metric_crs
        CRS for distances (default: EPSG:27700 in Great Britain, else UTM).
    methods
        Methods to run (default all of :data:`METHODS`).
    n_boot
        Bootstrap replicates for the intervals.
    seed
        Seed of the bootstrap.

    Returns
    -------
    dict
        ``{"methods": {name: {"hit_rate", "pai", "pei": {"0.05": ...}, "hit_rate_ci",
        "pai_ci", "pei_ci": {"0.05": [lo, hi]}, "settings": {...}}}, "coverage",
        "n_train", "n_test", "n_test_outside", "study_area", "validation", "ties"}``.

    Raises
    ------
    ValueError
        When the train or test period holds no usable reports.
    """
    del settings
    cov = [float(c) for c in coverage]
    hit_rates(np.zeros(1), np.zeros(1), np.ones(1), cov)  # validates the coverage levels
    cats = (
        None
        if categories is None
        else ([categories] if isinstance(categories, str) else list(categories))
    )
    prep = _prepare(
        train,
        test,
        segments=segments,
        categories=cats,
        area=area,
        cell_m=cell_m,
        metric_crs=metric_crs,
    )
    runs = _run(prep, cov, methods, n_boot, seed)
    return {
        "methods": {name: _method_summary(r, cov) for name, r in runs.items()},
        "coverage": cov,
        "n_train": prep["n_train"],
        "n_test": prep["n_test"],
        "n_test_outside": prep["n_test_outside"],
        "study_area": prep["study_area"],
        "validation": next(iter(runs.values()))["cal"]["validation"],
        "ties": TIE_RULE,
    }


def _months(reports: pd.DataFrame) -> np.ndarray:
    when = pd.to_datetime(reports["occurred_at"])
    return (when.dt.year * 12 + when.dt.month - 1).to_numpy(dtype=np.int64)


def _month_label(m: int) -> str:
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def backtest(
    reports: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    categories: Iterable[str] | None = None,
    area: Sequence[float] | None = None,
    min_train_months: int = 3,
    coverage: Sequence[float] = DEFAULT_COVERAGE,
    methods: Sequence[str] = METHODS,
    cell_m: float = DEFAULT_CELL_M,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> dict[str, Any]:
    """Rolling-origin back-test: train on months ``1..k``, test on month ``k + 1``, each ``k``.

    Parameters
    ----------
    reports
        Report table covering several calendar months.
    segments, categories, area, coverage, methods, cell_m, n_boot, seed
        As for :func:`evaluate`.
    min_train_months
        Months in the first training window.

    Returns
    -------
    dict
        ``{"splits": [{"train", "test", "n_train", "n_test", "hit_rate": {method: {...}},
        "settings": {method: {...}}}], "summary": {method: {"hit_rate", "pai", "pei"`` and
        their ``_ci``, means over splits, intervals from the bootstrap replicates averaged
        over splits``}}, "coverage", "study_area"}``.
    """
    cov = [float(c) for c in coverage]
    keys = [_coverage_key(c) for c in cov]
    month = _months(reports)
    months = np.unique(month)
    splits, pooled = [], {m: {"hr": [], "hr_b": [], "pei": [], "pei_b": []} for m in methods}
    area_info: dict[str, Any] = {}
    cats = None if categories is None else list(categories)
    prepare = partial(_prepare, segments=segments, categories=cats, area=area, cell_m=cell_m)
    for k in range(int(min_train_months), len(months)):
        train, test = reports.loc[month < months[k]], reports.loc[month == months[k]]
        try:
            prep = prepare(train, test, metric_crs=None)
        except ValueError:
            continue  # a month with no usable test reports
        runs = _run(prep, cov, methods, n_boot, seed + k)
        area_info = prep["study_area"]
        splits.append(
            {
                "train": f"{_month_label(months[0])}..{_month_label(months[k - 1])}",
                "test": _month_label(months[k]),
                "n_train": prep["n_train"],
                "n_test": prep["n_test"],
                "hit_rate": {
                    m: dict(zip(keys, map(float, r["hr"]), strict=True)) for m, r in runs.items()
                },
                "settings": {m: r["cal"]["setting"] for m, r in runs.items()},
            }
        )
        for m, r in runs.items():
            for part in pooled[m]:
                pooled[m][part].append(r[part])
    if not splits:
        msg = "No month could be tested; the back-test needs more months than min_train_months."
        raise ValueError(msg)
    summary = {}
    for m, p in pooled.items():
        mean = {
            "hr": np.mean(p["hr"], axis=0),
            "hr_b": np.mean(p["hr_b"], axis=0),
            "pei": np.mean(p["pei"], axis=0),
            "pei_b": np.mean(p["pei_b"], axis=0),
            "cal": {"setting": splits[-1]["settings"][m]},
        }
        summary[m] = _method_summary(mean, cov)
        del summary[m]["settings"]
    return {"splits": splits, "summary": summary, "coverage": cov, "study_area": area_info}


def last_month_check(
    reports: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    settings: Settings | None = None,
    categories: Iterable[str] | None = None,
    area: Sequence[float] | None = None,
    coverage: float = 0.05,
) -> dict[str, Any]:
    """How well last month's map predicted this month, in plain words.

    "This month" is the latest calendar month in ``reports``; the map is ours as it
    stood at its start (the empirical-Bayes rate calibrated on the earlier months only,
    over the small :data:`geo.forecast_learned.QUICK_FAMILY` so the page answers in under a
    second) and the simplest alternative is last period's counts. Pure function of its
    inputs.

    Parameters
    ----------
    reports
        Report table with at least two calendar months.
    segments
        Street segments (network mode: units are streets) or None (150 m cells).
    settings
        Accepted for symmetry with the other domain functions; not used.
    categories
        Categories forecast and scored (default all).
    area
        The area's boundary box ``(min_lon, min_lat, max_lon, max_lat)``.
    coverage
        Share of street length (or area) of the map's top.

    Returns
    -------
    dict
        ``{"month", "coverage", "ours", "alternative", "n_train", "n_test", "unit",
        "settings", "validation", "text"}``; ``ours``/``alternative`` are shares of this
        month's reports (None with ``text`` saying why when there is too little data).
    """
    del settings
    month = _months(reports) if len(reports) else np.zeros(0, dtype=np.int64)
    unit = "streets" if segments is not None else "map cells"
    out: dict[str, Any] = {
        "coverage": float(coverage),
        "unit": unit,
        "ours": None,
        "alternative": None,
    }
    if len(np.unique(month)) < 2:
        return out | {
            "month": None,
            "text": "Not enough history yet: the check needs two months of reports.",
        }
    last = int(month.max())
    out["month"] = _month_label(last)
    cats = None if categories is None else list(categories)
    try:
        prep = _prepare(
            reports.loc[month < last],
            reports.loc[month == last],
            segments=segments,
            categories=cats,
            area=area,
            cell_m=DEFAULT_CELL_M,
            metric_crs=None,
        )
    except ValueError as err:
        return out | {"text": f"No check for {out['month']}: {err}"}
    units, ev, test = prep["units"], prep["events"], prep["test_counts"]
    cal = calibrate("beatplan", units, ev, [coverage], family=QUICK_FAMILY)
    t0 = origin(ev)
    ours = float(
        hit_rates(
            fit_scores("beatplan", units, ev, t0, cal["setting"]), test, units.size, [coverage]
        )[0]
    )
    alt_scores = fit_scores("counts", units, ev, t0, {})
    alt = float(hit_rates(alt_scores, test, units.size, [coverage])[0])
    text = (
        f"Last month's top {coverage:.0%} of {unit} held {ours:.0%} of this month's reports; "
        f"the simplest alternative (last period's counts) held {alt:.0%}."
    )
    return out | {
        "ours": ours,
        "alternative": alt,
        "n_train": prep["n_train"],
        "n_test": prep["n_test"],
        "settings": cal["setting"],
        "validation": cal["validation"],
        "text": text,
    }
