"""Tests of geo.evaluate: metrics on hand-computed cases and the back-test protocol.

No test here asserts that one method outranks another: ranking claims live in
benchmarks/forecast.py, on splits whose test data no setting was chosen on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.evaluate import (
    METHODS,
    _boot_rates,
    backtest,
    evaluate,
    hit_rates,
    last_month_check,
    max_hit_rates,
    study_area,
)
from geo.forecast import FAMILIES
from geo.forecast_learned import CANDIDATES, QUICK_FAMILY
from tests.test_hotspots import grid_segments, reports_on

KEYS = ["0.01", "0.05", "0.10"]
HULL_BOX = (-0.43, 53.71, -0.24, 53.82)


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


def test_hindsight_ranks_by_reports_per_metre_not_per_unit():
    # a 10 m street with 2 reports beats a 100 m street with 10 at 10% of 110 m... in part
    counts = np.array([2.0, 10.0])
    sizes = np.array([10.0, 100.0])
    # 11 m of 110: the 10 m street whole (2) + 1 m of the long one (0.1)
    np.testing.assert_allclose(max_hit_rates(counts, sizes, [0.1]), [2.1 / 12])


def test_coverage_must_be_a_share():
    with pytest.raises(ValueError, match="coverage"):
        hit_rates(np.ones(3), np.ones(3), np.ones(3), [5])


def test_bootstrap_with_unit_weights_is_the_point_estimate():
    rng = np.random.default_rng(0)
    scores, counts, sizes = rng.random(50), rng.poisson(2, 50).astype(float), rng.random(50) + 0.5
    cov = np.array([0.01, 0.05, 0.1, 0.5])
    boot = _boot_rates(scores, counts, sizes, cov, np.ones((3, 50)))
    for row in boot:
        np.testing.assert_allclose(row, hit_rates(scores, counts, sizes, cov))
    # dropping a unit (weight 0) is the same as leaving it out
    w = np.ones(50)
    w[7] = 0
    keep = np.arange(50) != 7
    np.testing.assert_allclose(
        _boot_rates(scores, counts, sizes, cov, w[None, :])[0],
        hit_rates(scores[keep], counts[keep], sizes[keep], cov),
    )


def test_study_area_drops_far_off_training_points_and_counts_them():
    rng = np.random.default_rng(1)
    x = np.r_[rng.uniform(0, 1000, 200), 150_000.0]  # one report 150 km away
    y = np.r_[rng.uniform(0, 1000, 200), 20.0]
    bounds, far = study_area(x, y)
    assert far.sum() == 1 and far[-1]
    assert bounds[2] < 1001 and bounds[0] >= 0
    # the area's boundary, when given, is the study area as it is
    box, far = study_area(x, y, bounds=(0.0, 0.0, 5.0, 5.0))
    assert box == (0.0, 0.0, 5.0, 5.0) and not far.any()


@pytest.fixture(scope="module")
def grid():
    return grid_segments(8, 8)


def _reports(grid, seed, n=150, start="2024-01-01", days=28.0):
    rng = np.random.default_rng(seed)
    hot = np.flatnonzero(grid["name"].to_numpy() == "Grid Row 3")[2:5]
    seg = np.r_[rng.integers(0, len(grid), n), rng.choice(hot, n // 3)]
    out = reports_on(grid, seg, rng=rng, start=start, days=days)
    out["report_id"] = [f"{seed}-{i}" for i in range(len(out))]
    return out


def _check_shape(res):
    assert {"methods", "coverage", "n_train", "n_test", "study_area", "validation"} <= set(res)
    assert set(res["methods"]) == set(METHODS)
    assert res["coverage"] == [0.01, 0.05, 0.10]
    for name, m in res["methods"].items():
        assert {"hit_rate", "pai", "pei", "hit_rate_ci", "pai_ci", "pei_ci", "settings"} <= set(m)
        if name == "beatplan":  # the candidate kept and its setting
            setting = dict(m["settings"])
            model = setting.pop("model")
            assert model in CANDIDATES
            family = FAMILIES["beatplan" if model in ("eb", "learned", "blend") else model]
            assert setting in family
        else:
            assert m["settings"] in FAMILIES[name]
        for k, c in zip(KEYS, res["coverage"], strict=True):
            assert m["pai"][k] == pytest.approx(m["hit_rate"][k] / c)
            assert 0 <= m["pei"][k] <= 1 + 1e-9
            lo, hi = m["hit_rate_ci"][k]
            assert 0 <= lo <= hi <= 1
            assert m["pai_ci"][k] == pytest.approx([lo / c, hi / c])


def test_network_evaluate_contract_and_perfect_predictor(grid):
    train, test = _reports(grid, 1), _reports(grid, 2)
    res = evaluate(train, test, segments=grid, n_boot=50)
    _check_shape(res)
    assert res["n_train"] == len(train) and res["n_test"] == len(test)
    assert res["study_area"]["km_street"] == pytest.approx(grid["length_m"].sum() / 1000)
    # train == test: last-period counts are the hindsight ranking, PEI = 1
    perfect = evaluate(test, test, segments=grid, methods=("counts",), n_boot=10)
    for k in KEYS:
        assert perfect["methods"]["counts"]["pei"][k] == pytest.approx(1.0)


def test_point_evaluate_contract_and_study_area_from_training(grid):
    train, test = _reports(grid, 3), _reports(grid, 4)
    res = evaluate(train, test, n_boot=50)
    _check_shape(res)
    assert res["study_area"]["source"] == "training extent"
    # test reports far away neither move the study area nor count as caught or missed
    far = test.iloc[:5].assign(lon=test["lon"].iloc[:5] + 0.05)
    moved = evaluate(train, pd.concat([test, far]), n_boot=50)
    assert moved["study_area"] == res["study_area"]
    assert moved["n_test_outside"] == res["n_test_outside"] + 5
    assert moved["methods"] == res["methods"]


def test_evaluate_refuses_empty_periods(grid):
    train = _reports(grid, 1)
    with pytest.raises(ValueError, match="No test reports"):
        evaluate(train, train.iloc[:0])
    with pytest.raises(ValueError, match="No training reports"):
        evaluate(train, train, categories=["needles"])


def test_backtest_rolls_the_origin_month_by_month(grid):
    months = [_reports(grid, 10 + m, n=60, start=f"2024-{m:02d}-01", days=27) for m in range(1, 6)]
    res = backtest(pd.concat(months), segments=grid, min_train_months=3, n_boot=20)
    assert [s["test"] for s in res["splits"]] == ["2024-04", "2024-05"]
    assert [s["train"] for s in res["splits"]] == ["2024-01..2024-03", "2024-01..2024-04"]
    assert res["splits"][0]["n_train"] == 3 * 80 and res["splits"][0]["n_test"] == 80
    assert set(res["summary"]) == set(METHODS)
    for name, m in res["summary"].items():
        per_split = [s["hit_rate"][name]["0.05"] for s in res["splits"]]
        assert m["hit_rate"]["0.05"] == pytest.approx(np.mean(per_split))
        lo, hi = m["hit_rate_ci"]["0.05"]
        assert lo <= hi


def test_last_month_check_in_plain_words(grid):
    two = pd.concat(
        [
            _reports(grid, 20, start="2024-01-01", days=27),
            _reports(grid, 21, start="2024-02-01", days=27),
        ]
    )
    out = last_month_check(two, segments=grid)
    assert out["month"] == "2024-02" and out["unit"] == "streets"
    assert 0 <= out["ours"] <= 1 and 0 <= out["alternative"] <= 1
    assert out["settings"] in QUICK_FAMILY and QUICK_FAMILY[0] in FAMILIES["beatplan"]
    assert f"held {out['ours']:.0%}" in out["text"] and "top 5% of streets" in out["text"]
    one = last_month_check(two.iloc[:10], segments=grid)
    assert one["ours"] is None and "two months" in one["text"]


def _police(path) -> pd.DataFrame:
    from geo.reports import read_reports

    return read_reports(path, source="police").reports


def test_real_humberside_extent_drops_the_far_off_records(police_2022):
    """Humberside 2022-01 holds rows far outside the force (Birmingham, Calderdale)."""
    from geo.hotspots import _project, metric_crs_for

    rep = _police(police_2022)
    lon, lat = rep["lon"].to_numpy(dtype=float), rep["lat"].to_numpy(dtype=float)
    x, y = _project(lon, lat, metric_crs_for(lon, lat))
    bounds, far = study_area(x, y)
    assert 1 <= far.sum() < 50
    km2 = (bounds[2] - bounds[0]) * (bounds[3] - bounds[1]) / 1e6
    assert km2 < 10_000  # the force area, not a box reaching the Midlands


def test_real_hull_split_protocol(police_2022, police_2024):
    """Hull box, Jan 2022 -> Jan 2024: counts and shape only; rankings are in the benchmark."""
    res = evaluate(
        _police(police_2022),
        _police(police_2024),
        categories=["asb", "drugs", "public_order"],
        area=HULL_BOX,
        n_boot=50,
    )
    _check_shape(res)
    assert res["study_area"]["source"] == "boundary"
    assert 150 < res["study_area"]["km2"] < 175
    assert res["n_train"] > 500 and res["n_test"] > 300
    assert "halves" in res["validation"]
