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
