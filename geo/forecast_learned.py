"""Our forecaster: a learned model and a choice among candidates, made inside training only.

``beatplan`` forecasts with whichever candidate validates best inside the training window
(the same folds as :func:`geo.forecast.calibrate`):

- ``eb``: the empirical-Bayes rate of :func:`geo.forecast.fit_scores` (its own family);
- ``learned``: a gradient-boosted Poisson regression (scikit-learn
  ``HistGradientBoostingRegressor``) on multi-scale lagged counts per unit: own count
  and Gaussian kernel mass at 50/100/200/400 m over the last 1, 3 and 12 months (one
  window for a single month), other categories, prospective-hotspotting score, street
  length. Every count feature is a share of its window's reports (so a half month and a
  whole month look alike) and the model is constrained to rise with each of them. It is
  fitted on earlier training months predicting the next training month (or, with one
  month, on one half predicting the other) and never sees the test period;
- ``blend``: the mean of the ``eb`` and ``learned`` rank percentiles;
- each baseline with its own calibrated setting (so ours is never much worse than the
  best of them on the training window).

The candidate with the best mean validation hit rate is kept; ``learned`` and ``blend``
must beat the best of the others by one binomial standard error to be chosen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import product
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from geo.forecast import (
    Events,
    Fold,
    Units,
    _Cache,
    calibrate,
    counts,
    density,
    fit_scores,
    folds,
    hit_rates,
    origin,
    prospective,
)

__all__ = ["CANDIDATES", "QUICK_FAMILY", "features", "forecast_ours", "learned_scores"]

SIMPLE = ("eb", "counts", "kde", "prospective", "counts_kernel")
CANDIDATES = (*SIMPLE, "learned", "blend")
LAG_MONTHS = (1.0, 3.0, 12.0)
RING_SIGMAS_M = (50.0, 100.0, 200.0, 400.0)
MAX_PAIRS = 6
# A small family for quick checks (the Hotspots page) of the empirical-Bayes rate: 16 settings instead of 480.
QUICK_FAMILY = [
    {"sigma_m": s, "prior_weight": f, "half_life_months": h, "other_share": g}
    for g, h, s, f in product((0.0, 0.25), (math.inf, 3.0), (400.0, 100.0), (4.0, 1.0))
]
MAX_ZERO_ROWS = 500
HGB_PARAMS: dict[str, Any] = {
    "loss": "poisson",
    "learning_rate": 0.1,
    "max_iter": 80,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}


def _windows(ev: Events) -> tuple[float, ...]:
    """Lag windows in months the data span allows (one window for a single month)."""
    span = float(ev.when.max() - ev.when.min()) if len(ev.when) else 0.0
    if ev.monthly:
        span = float(ev.month.max() - ev.month.min() + 1) if len(ev.month) else 0.0
    wins = (*(w for w in LAG_MONTHS if w < span), math.inf)
    return wins if len(wins) > 1 else (math.inf,)


def features(units: Units, ev: Events, t0: float, windows: Sequence[float]) -> np.ndarray:
    """Multi-scale lagged counts per unit, each a share of its window's reports.

    Parameters
    ----------
    units
        The study area's units.
    ev
        Events to describe (target and other categories).
    t0
        Forecast moment in months.
    windows
        Lag windows in months (``inf`` = every event).

    Returns
    -------
    numpy.ndarray
        ``(units.n, F)`` features; the last column (network mode) is log street length.
    """
    cols: list[np.ndarray] = []
    tgt = ev.target
    for w in windows:
        wt = (tgt & (ev.when >= t0 - w - 1e-9)).astype(float)
        tot = max(wt.sum(), 1.0)
        own = counts(units, ev, wt) / tot
        cols += [own, own * float(np.median(units.size)) / units.size]
        cols += [density(units, ev, wt, s) / tot for s in RING_SIGMAS_M]
    other = (~tgt).astype(float)
    tot = max(other.sum(), 1.0)
    cols += [counts(units, ev, other) / tot, density(units, ev, other, 200.0) / tot]
    tgt_ev = ev.subset(tgt)
    ph = prospective(units, tgt_ev, t0, 400.0, 12.0)
    cols.append(ph / max(ph.sum(), 1e-12))
    if units.grid is None:
        cols.append(np.log(units.size))
    return np.column_stack(cols)


def _monotone(units: Units, n_features: int) -> list[int]:
    return [1] * (n_features - 1) + ([0] if units.grid is None else [1])


def _thin_zeros(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows with all-zero features (far from every report) thinned to :data:`MAX_ZERO_ROWS`.

    They are identical to the model, so fewer of them, each with their mean count, only
    change the weight of that one corner of feature space (sample weights would make
    scikit-learn's binning very slow).
    """
    zero = ~x.any(axis=1)
    if zero.sum() <= MAX_ZERO_ROWS:
        return x, y
    keep = ~zero
    x2 = np.vstack([x[keep], np.zeros((MAX_ZERO_ROWS, x.shape[1]))])
    return x2, np.r_[y[keep], np.full(MAX_ZERO_ROWS, y[zero].mean())]


def _fit_model(units: Units, pairs: list[tuple[np.ndarray, np.ndarray]]) -> Any:
    """A monotone Poisson boosting model on ``(features, next counts)`` pairs."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    xs, ys = [], []
    for x, y in pairs:
        tot = y.sum()
        if tot <= 0:
            continue
        x2, y2 = _thin_zeros(x, y * units.n / tot)  # every pair weighs the same
        xs.append(x2)
        ys.append(y2)
    if not xs:
        return None
    x = np.vstack(xs)
    model = HistGradientBoostingRegressor(**HGB_PARAMS, monotonic_cst=_monotone(units, x.shape[1]))
    with threadpool_limits(1):  # many small fits: threads only contend on a busy machine
        return model.fit(x, np.concatenate(ys))


def _predict(model: Any, units: Units, x: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Predicted reports per unit size, ties (trees give steps) broken by ``tiebreak``."""
    with threadpool_limits(1):
        pred = model.predict(x) / units.size
    uniq = np.unique(pred)
    gap = float(np.diff(uniq).min()) if len(uniq) > 1 else 1.0
    return pred + 0.5 * gap * _pct_rank(tiebreak)


def _pairs(
    units: Units, ev: Events, windows: Sequence[float]
) -> tuple[list[tuple[float, np.ndarray, np.ndarray]], bool]:
    """``(month, features, next counts)`` training pairs inside the events, and halves flag.

    Several months: features at the start of each month ``k`` from the months before it,
    counts of month ``k`` (the latest :data:`MAX_PAIRS` + 2 months). One month: each half
    (by a hash of the report id) predicting the other.
    """
    months = np.unique(ev.month)
    inside = ev.target & (ev.unit >= 0)
    out = []
    if len(months) >= 2:
        for k in months[1:][-(MAX_PAIRS + 2) :]:
            fit = ev.month < k
            val = (ev.month == k) & inside
            if val.any() and (fit & ev.target).any():
                y = np.bincount(ev.unit[val], minlength=units.n).astype(float)
                out.append((float(k), features(units, ev.subset(fit), float(k), windows), y))
        return out, False
    half = (ev.key % np.uint64(2)).astype(bool)
    t0 = origin(ev)
    for a in (half, ~half):  # a predicts ~a, in the same order as geo.forecast.folds
        if (a & ev.target).any() and (~a & inside).any():
            y = np.bincount(ev.unit[~a & inside], minlength=units.n).astype(float)
            out.append((t0, features(units, ev.subset(a), t0, windows), y))
    return out, True


def learned_scores(
    units: Units, ev: Events, t0: float, *, tiebreak: np.ndarray | None = None
) -> np.ndarray | None:
    """The learned model fitted on every training pair inside ``ev``, scoring units at ``t0``.

    Parameters
    ----------
    units, ev
        Study-area units and training events.
    t0
        Forecast moment in months.
    tiebreak
        Scores that order units the model ties (default: their training counts).

    Returns
    -------
    numpy.ndarray or None
        Expected reports per unit (None when the events hold no training pair).
    """
    windows = _windows(ev)
    pairs, _ = _pairs(units, ev, windows)
    return _learned_final(units, ev, t0, windows, pairs, tiebreak)


def _learned_final(
    units: Units,
    ev: Events,
    t0: float,
    windows: Sequence[float],
    pairs: list[tuple[float, np.ndarray, np.ndarray]],
    tiebreak: np.ndarray | None,
) -> np.ndarray | None:
    model = _fit_model(units, [(x, y) for _, x, y in pairs[-MAX_PAIRS:]])
    if model is None:
        return None
    if tiebreak is None:
        tiebreak = counts(units, ev, ev.target.astype(float))
    return _predict(model, units, features(units, ev, t0, windows), tiebreak)


def _learned_folds(
    units: Units,
    ev: Events,
    fs: list[Fold],
    windows: Sequence[float],
    pairs: list[tuple[float, np.ndarray, np.ndarray]],
    halves: bool,
    tiebreaks: list[np.ndarray],
) -> list[np.ndarray | None]:
    """The learned model's scores on each validation fold, fitted only on data before it."""
    out: list[np.ndarray | None] = []
    for i, fold in enumerate(fs):
        if halves:  # fold i validates half ~a_i: fit on the other half's pair only
            train = [(x, y) for j, (_, x, y) in enumerate(pairs) if j != i]
        else:
            train = [(x, y) for k, x, y in pairs if k < fold.t0][-MAX_PAIRS:]
        model = _fit_model(units, train)
        if model is None:
            out.append(None)
            continue
        x = features(units, ev.subset(fold.fit), fold.t0, windows)
        out.append(_predict(model, units, x, tiebreaks[i]))
    return out


def _pct_rank(s: np.ndarray) -> np.ndarray:
    """Percentile rank with ties sharing their mean rank."""
    _, inv, cnt = np.unique(s, return_inverse=True, return_counts=True)
    mid = np.cumsum(cnt) - (cnt + 1) / 2.0
    return mid[inv] / max(len(s) - 1, 1)


def _objective(
    scores: list[np.ndarray | None], vals: list[np.ndarray], size: np.ndarray, cov: Sequence[float]
) -> float:
    if not scores or any(s is None for s in scores):
        return -math.inf
    return float(
        np.mean([np.mean(hit_rates(s, v, size, cov)) for s, v in zip(scores, vals, strict=True)])
    )


def _blend(eb: np.ndarray | None, learned: np.ndarray | None) -> np.ndarray | None:
    return None if eb is None or learned is None else _pct_rank(eb) + _pct_rank(learned)


def forecast_ours(
    units: Units,
    ev: Events,
    coverage: Sequence[float],
    *,
    calibrations: dict[str, dict[str, Any]] | None = None,
    t0: float | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Our forecast: the candidate (module docstring) that validates best inside training.

    Parameters
    ----------
    units, ev, coverage
        As for :func:`geo.forecast.calibrate`.
    calibrations
        Baselines' calibrations already made on the same ``units``, ``ev`` and
        ``coverage`` (``{method: calibrate(...)}``); the missing ones are made here.
    t0
        Forecast moment in months (default :func:`geo.forecast.origin`).

    Returns
    -------
    tuple
        ``(scores, calibration)``; ``calibration["setting"]`` holds ``model`` (the
        candidate kept) and its setting, ``calibration["candidates"]`` every candidate's
        validation objective.
    """
    t0 = origin(ev) if t0 is None else t0
    fs, text = folds(ev)
    cals = {"eb": calibrate("beatplan", units, ev, coverage)}
    for m in SIMPLE[1:]:
        given = (calibrations or {}).get(m)
        cals[m] = given if given is not None else calibrate(m, units, ev, coverage)
    if not fs:
        scores = fit_scores("beatplan", units, ev, t0, cals["eb"]["setting"])
        return scores, cals["eb"] | {"setting": {"model": "eb"} | cals["eb"]["setting"]}
    vals = [np.bincount(ev.unit[f.val], minlength=units.n).astype(float) for f in fs]
    fold_scores: dict[str, list[np.ndarray | None]] = {}
    for name in SIMPLE:
        method = "beatplan" if name == "eb" else name
        fold_scores[name] = [
            fit_scores(method, units, ev.subset(f.fit), f.t0, cals[name]["setting"]) for f in fs
        ]
    windows = _windows(ev)
    pairs, halves = _pairs(units, ev, windows)
    eb_folds = [s for s in fold_scores["eb"] if s is not None]
    fold_scores["learned"] = _learned_folds(units, ev, fs, windows, pairs, halves, eb_folds)
    fold_scores["blend"] = [
        _blend(a, b) for a, b in zip(fold_scores["eb"], fold_scores["learned"], strict=True)
    ]
    obj = {n: _objective(s, vals, units.size, coverage) for n, s in fold_scores.items()}
    best = _choose(obj, sum(float(v.sum()) for v in vals))
    eb = fit_scores("beatplan", units, ev, t0, cals["eb"]["setting"], _Cache())
    scores = None
    if best in ("learned", "blend"):
        learned = _learned_final(units, ev, t0, windows, pairs, eb)
        scores = learned if best == "learned" else _blend(eb, learned)
    if scores is None:
        best = best if best in cals else max(SIMPLE, key=lambda n: obj[n])
        method = "beatplan" if best == "eb" else best
        scores = eb if best == "eb" else fit_scores(method, units, ev, t0, cals[best]["setting"])
    setting = {"model": best} | cals[best if best in cals else "eb"]["setting"]
    cand = {n: (round(v, 4) if math.isfinite(v) else None) for n, v in obj.items()}
    return scores, {"setting": setting, "score": obj[best], "validation": text, "candidates": cand}


def _choose(obj: dict[str, float], n_val: float) -> str:
    """The best simple candidate, unless ``learned``/``blend`` beat it by one standard error."""
    simple = max(SIMPLE, key=lambda n: obj[n])
    hr = min(max(obj[simple], 1e-6), 1 - 1e-6)
    se = math.sqrt(hr * (1 - hr) / max(n_val, 1.0))
    best = simple
    for extra in ("learned", "blend"):
        if obj[extra] > obj[simple] + se and obj[extra] > obj[best]:
            best = extra
    return best
