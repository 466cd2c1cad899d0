"""Tests of geo.evaluate: hit rate, PAI, PEI, tie handling, and the real Hull back-test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.evaluate import METHODS, evaluate, hit_rates, max_hit_rates
from tests.conftest import HULL_BBOX
from tests.test_hotspots import grid_segments, reports_on

KEYS = ["0.01", "0.05", "0.10"]


def test_hit_rate_takes_units_in_order_and_the_last_one_in_part():
    scores = np.array([3.0, 2.0, 1.0, 0.0])
    counts = np.array([5.0, 3.0, 2.0, 0.0])
    sizes = np.array([1.0, 1.0, 2.0, 6.0])  # total 10
    hr = hit_rates(scores, counts, sizes, [0.1, 0.15, 0.2, 0.4, 1.0])
    np.testing.assert_allclose(hr, [0.5, 0.65, 0.8, 1.0, 1.0])
    np.testing.assert_allclose(max_hit_rates(counts, sizes, [0.1]), [0.5])


def test_ties_are_spread_not_ordered_in_our_favour():
    counts = np.array([10.0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    sizes = np.ones(10)
    # all tied: the expected result of a random order, i.e. the coverage itself
    np.testing.assert_allclose(hit_rates(np.zeros(10), counts, sizes, [0.1, 0.5]), [0.1, 0.5])
    # the right unit tied with 4 others: one fifth of its reports per unit taken
    scores = np.array([1.0, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(hit_rates(scores, counts, sizes, [0.1]), [0.2])


def test_coverage_must_be_a_share():
    with pytest.raises(ValueError, match="coverage"):
        hit_rates(np.ones(3), np.ones(3), np.ones(3), [5])


@pytest.fixture(scope="module")
def grid():
    return grid_segments(8, 8)


def _reports(grid, seed, n=150):
    rng = np.random.default_rng(seed)
    hot = np.flatnonzero(grid["name"].to_numpy() == "Grid Row 3")[2:5]
    seg = np.r_[rng.integers(0, len(grid), n), rng.choice(hot, n // 3)]
    return reports_on(grid, seg, rng=rng)


def _check_shape(res):
    assert set(res) == {"methods", "coverage", "n_train", "n_test"}
    assert set(res["methods"]) == set(METHODS)
    assert res["coverage"] == [0.01, 0.05, 0.10]
    for m in res["methods"].values():
        assert set(m) == {"hit_rate", "pai", "pei"}
        for part in m.values():
            assert list(part) == KEYS
            assert all(isinstance(v, float) for v in part.values())
        for k, c in zip(KEYS, res["coverage"], strict=True):
            assert m["pai"][k] == pytest.approx(m["hit_rate"][k] / c)
            assert 0 <= m["pei"][k] <= 1 + 1e-9


def test_network_evaluate_contract_and_perfect_predictor(grid, settings):
    train, test = _reports(grid, 1), _reports(grid, 2)
    res = evaluate(train, test, segments=grid, settings=settings)
    _check_shape(res)
    assert res["n_train"] == len(train) and res["n_test"] == len(test)
    # the planted street is found again: every method beats chance clearly at 10%
    for m in res["methods"].values():
        assert m["pai"]["0.10"] > 2
    # train == test: last-period counts are the hindsight ranking, PEI = 1
    perfect = evaluate(test, test, segments=grid, settings=settings)
    for k in KEYS:
        assert perfect["methods"]["counts"]["pei"][k] == pytest.approx(1.0)


def test_point_evaluate_contract_and_perfect_predictor(grid, settings):
    train, test = _reports(grid, 3), _reports(grid, 4)
    res = evaluate(train, test, settings=settings)
    _check_shape(res)
    perfect = evaluate(test, test, settings=settings)
    for k in KEYS:
        assert perfect["methods"]["counts"]["pei"][k] == pytest.approx(1.0)


def test_evaluate_refuses_empty_periods(grid, settings):
    train = _reports(grid, 1)
    with pytest.raises(ValueError, match="No test reports"):
        evaluate(train, train.iloc[:0], settings=settings)
    with pytest.raises(ValueError, match="No training reports"):
        evaluate(train, train, categories=["needles"], settings=settings)


def _police(path) -> pd.DataFrame:
    from geo.reports import read_reports

    return read_reports(path, source="police").reports


def test_real_hull_backtest_beats_baselines(police_2022, police_2024, settings):
    """Hull, Jan 2022 -> Jan 2024, ASB + drugs + public order, point mode on 150 m cells."""
    res = evaluate(
        _police(police_2022),
        _police(police_2024),
        settings=settings,
        categories=["asb", "drugs", "public_order"],
        area=HULL_BBOX,
    )
    _check_shape(res)
    assert res["n_train"] > 500 and res["n_test"] > 300
    pai = {m: v["pai"]["0.05"] for m, v in res["methods"].items()}
    assert pai["beatplan"] >= pai["counts"] - 1e-9
    assert pai["beatplan"] >= pai["kde"] - 1e-9
    assert pai["beatplan"] > 4  # far better than chance (PAI 1)
