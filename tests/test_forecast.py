"""Tests of geo.forecast: no test data reaches a forecast; time decay in months; folds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.evaluate import _prepare
from geo.forecast import METHODS, _decay, folds, forecast, make_events, origin
from tests.test_hotspots import grid_segments, reports_on

GRID = grid_segments(6, 6)


def _train(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for m in (1, 2, 3):
        seg = np.r_[rng.integers(0, len(GRID), 40), np.full(15, 7)]
        part = reports_on(GRID, seg, rng=rng, start=f"2024-{m:02d}-01", days=27)
        part["report_id"] = [f"{m}-{i}" for i in range(len(part))]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


TRAIN = _train()


def _predictions(test: pd.DataFrame, segments) -> dict[str, np.ndarray]:
    prep = _prepare(
        TRAIN, test, segments=segments, categories=None, area=None, cell_m=100.0, metric_crs=None
    )
    return {m: forecast(m, prep["units"], prep["events"], [0.05, 0.1])[0] for m in METHODS}


@pytest.fixture(scope="module")
def baseline_predictions():
    test = reports_on(GRID, np.arange(20), rng=np.random.default_rng(0), start="2024-04-01")
    return {mode: _predictions(test, seg) for mode, seg in (("network", GRID), ("point", None))}


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 60),
    shift=st.floats(-0.002, 0.002),
    network=st.booleans(),
)
def test_changing_the_test_data_changes_no_prediction(
    baseline_predictions, seed, n, shift, network
):
    rng = np.random.default_rng(seed)
    test = reports_on(GRID, rng.integers(0, len(GRID), n), rng=rng, start="2024-04-01")
    test["lon"] = test["lon"] + shift  # some may now fall outside the study area
    got = _predictions(test, GRID if network else None)
    want = baseline_predictions["network" if network else "point"]
    for m in METHODS:
        np.testing.assert_array_equal(got[m], want[m], err_msg=m)


def test_decay_is_in_months_so_month_only_data_keep_their_weight():
    when = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(["2022-01-01", "2023-01-01", "2023-12-01"]),
            "time_known": False,
            "report_id": ["a", "b", "c"],
        }
    )
    ev = make_events(when, np.zeros(3), np.zeros(3), np.zeros(3, dtype=np.int64), np.ones(3, bool))
    assert ev.monthly and origin(ev) == 2024 * 12  # January 2024 starts the forecast
    w = _decay(ev, origin(ev), 12.0)
    np.testing.assert_allclose(w, [2.0 ** (-24 / 12), 2.0 ** (-12 / 12), 2.0 ** (-1 / 12)])
    assert w.min() > 0.2  # a 28-day half-life in days would leave 2 ** (-731 / 28) ~ 1e-8
    assert (_decay(ev, origin(ev), math.inf) == 1).all()


def test_folds_roll_the_origin_inside_training_or_split_one_month_in_halves():
    prep = _prepare(
        TRAIN, TRAIN, segments=GRID, categories=None, area=None, cell_m=100.0, metric_crs=None
    )
    ev = prep["events"]
    fs, text = folds(ev)
    assert "rolling origin" in text and len(fs) == 2  # validate on months 2 and 3
    for f in fs:
        assert ev.month[f.fit].max() < ev.month[f.val].min()
    one = ev.subset(ev.month == ev.month.min())
    fs, text = folds(one)
    assert "halves" in text and len(fs) == 2
    assert not (fs[0].fit & fs[0].val).any()
    assert (fs[0].fit | fs[0].val).sum() == len(one.when)


def test_learned_features_are_shares_so_a_half_month_looks_like_a_whole():
    from geo.forecast_learned import _windows, features

    prep = _prepare(
        TRAIN, TRAIN, segments=GRID, categories=None, area=None, cell_m=100.0, metric_crs=None
    )
    units, ev = prep["units"], prep["events"]
    assert _windows(ev) == (1.0, math.inf)  # three months: last month and everything
    x = features(units, ev, origin(ev), _windows(ev))
    twice = np.r_[np.arange(len(ev.when)), np.arange(len(ev.when))]
    doubled = ev.subset(twice)  # every report twice: the same shares
    np.testing.assert_allclose(features(units, doubled, origin(ev), _windows(ev)), x)
    assert x.shape == (units.n, 2 * 6 + 3 + 1)  # 2 windows x 6, other x 2, prospective, length
    # own share of the last month sums to one over the units holding its reports
    last = (ev.month == ev.month.max()) & (ev.unit >= 0)
    assert x[:, 0].sum() == pytest.approx(last.sum() / (ev.month == ev.month.max()).sum())


def test_learned_model_is_kept_only_when_it_wins_by_one_standard_error():
    from geo.forecast_learned import _choose

    obj = {"eb": 0.50, "counts": 0.45, "kde": 0.40, "prospective": 0.40, "counts_kernel": 0.49}
    se = math.sqrt(0.5 * 0.5 / 400)  # 0.025 with 400 validation reports
    assert _choose(obj | {"learned": 0.52, "blend": 0.51}, 400) == "eb"
    assert _choose(obj | {"learned": 0.50 + 1.5 * se, "blend": 0.51}, 400) == "learned"
    assert _choose(obj | {"learned": 0.50 + 1.5 * se, "blend": 0.50 + 2 * se}, 400) == "blend"
    assert _choose(obj | {"counts": 0.6, "learned": 0.61, "blend": 0.6}, 400) == "counts"


def test_percentile_ranks_share_ties_and_zero_rows_are_thinned():
    from geo.forecast_learned import MAX_ZERO_ROWS, _pct_rank, _thin_zeros

    np.testing.assert_allclose(_pct_rank(np.array([5.0, 1.0, 5.0, 3.0])), [5 / 6, 0, 5 / 6, 1 / 3])
    x = np.zeros((MAX_ZERO_ROWS + 100, 3))
    x[:10, 0] = 1.0
    y = np.r_[np.ones(10), np.arange(MAX_ZERO_ROWS + 90) % 2]
    x2, y2 = _thin_zeros(x, y)
    assert len(x2) == 10 + MAX_ZERO_ROWS and (x2[10:] == 0).all()
    assert y2[10:] == pytest.approx(np.full(MAX_ZERO_ROWS, y[10:].mean()))


def test_our_forecast_reports_the_candidate_kept_and_every_validation_score():
    from geo.forecast_learned import CANDIDATES, forecast_ours

    prep = _prepare(
        TRAIN, TRAIN, segments=GRID, categories=None, area=None, cell_m=100.0, metric_crs=None
    )
    scores, cal = forecast_ours(prep["units"], prep["events"], [0.05, 0.1])
    assert scores.shape == (prep["units"].n,) and np.isfinite(scores).all()
    assert cal["setting"]["model"] in CANDIDATES
    assert set(cal["candidates"]) == set(CANDIDATES)
    kept = cal["candidates"][cal["setting"]["model"]]
    assert kept == pytest.approx(cal["score"], abs=1e-4)
