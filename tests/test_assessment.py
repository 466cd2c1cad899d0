"""Assessment of a problem: the difference in differences recovers a planted shift, honestly."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from planning.assessment import ASSESSMENT_CAVEAT, assess_problem, assess_problems, did_rate_ratio
from planning.problems import Problem, Response

LAT0, LON0 = 53.74, -0.34
D = 100.0 / 111_320.0  # ~100 m in latitude
DLON = D / np.cos(np.radians(LAT0))
BEGAN = date(2024, 3, 4)


def _coverage(kind: str, *, reps: int = 400, seed: int = 1) -> float:
    rng = np.random.default_rng(seed)

    def draw(mu: float) -> np.ndarray:
        if kind == "poisson":
            return rng.poisson(mu, 8)
        k = 3.0  # negative binomial: variance mu + mu^2 / 3
        return rng.negative_binomial(k, k / (k + mu), 8)

    hits = 0
    for _ in range(reps):
        _, low, high = did_rate_ratio(draw(10), draw(10 * 0.6 * 1.2), draw(50), draw(60))
        hits += low <= 0.6 <= high
    return hits / reps


def test_interval_covers_the_planted_ratio_at_its_level() -> None:
    # A planted ratio of 0.6 (a 40% fall net of a 20% rise in the comparison): the 95%
    # interval covers it about 95% of the time with Poisson weeks, and the overdispersion
    # correction keeps it covering with negative-binomial weeks.
    assert 0.92 <= _coverage("poisson") <= 0.99
    assert _coverage("negative binomial") >= 0.92


def test_did_rate_ratio_point_estimate_and_degenerate_cases() -> None:
    ratio, low, high = did_rate_ratio([10] * 8, [5] * 8, [40] * 8, [40] * 8)
    assert ratio == pytest.approx(0.5)
    assert low < 0.5 < high < 1  # steady weeks: Poisson interval, excludes no change
    assert did_rate_ratio([], [1], [1], [1]) == (None, None, None)
    assert did_rate_ratio([0] * 4, [0] * 4, [3] * 4, [3] * 4) == (None, None, None)


def _square(i: int, j: int) -> object:
    x, y = LON0 + i * 5 * DLON, LAT0 + j * 5 * D
    return box(x, y, x + DLON, y + D)


@pytest.fixture(scope="module")
def hotspots() -> gpd.GeoDataFrame:
    """Six 100 m square hotspots 500 m apart (point mode: no segments)."""
    cells = [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]
    return gpd.GeoDataFrame(
        {"hotspot_id": [f"H-{k}" for k in range(6)], "segment_ids": [[] for _ in cells]},
        geometry=[_square(*c) for c in cells],
        crs="EPSG:4326",
    )


def planted(hotspots: gpd.GeoDataFrame, *, effect: float, seed: int = 5) -> pd.DataFrame:
    """Weekly Poisson reports: every hotspot and a background area at 30/week before BEGAN;
    after it, everything rises by 20% and hotspots H-0, H-1 (the problem's) also by ``effect``.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(BEGAN) - pd.Timedelta(weeks=8)
    rows = []
    places = [*((h, hotspots.geometry.iloc[k]) for k, h in enumerate(hotspots["hotspot_id"]))]
    places.append(
        ("background", box(LON0 + 20 * DLON, LAT0 + 20 * D, LON0 + 40 * DLON, LAT0 + 40 * D))
    )
    for week in range(16):
        after = week >= 8
        for name, shape in places:
            mu = 30.0 * (1.2 if after else 1.0)
            if after and name in ("H-0", "H-1"):
                mu *= effect
            n = rng.poisson(mu)
            w, s, e, nn = shape.bounds
            days = rng.uniform(0, 7, n)
            rows.append(
                pd.DataFrame(
                    {
                        "lon": rng.uniform(w + 1e-6, e - 1e-6, n),
                        "lat": rng.uniform(s + 1e-6, nn - 1e-6, n),
                        "occurred_at": start + pd.to_timedelta(week * 7 + days, unit="D"),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def _problem(*, started: date | None = BEGAN, status: str = "done") -> Problem:
    resp = Response(1, "P-TEST01", "outreach", "Joint patrol", status=status, started=started)
    return Problem("P-TEST01", "a1", "Needles", ("H-0", "H-1"), responses=(resp,))


@pytest.mark.parametrize("comparison", ["area", "unresponded"])
def test_assessment_recovers_a_planted_fall(hotspots: gpd.GeoDataFrame, comparison: str) -> None:
    reports = planted(hotspots, effect=0.5)
    log = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-03-05", "2024-03-12", "2024-02-01", "2024-03-06"]),
            "hotspot_id": ["H-0", "H-1", "H-0", "H-4"],
            "minutes": [15.0, 20.0, 60.0, 45.0],
        }
    )
    got = assess_problem(_problem(), reports, hotspots, comparison=comparison, patrol_log=log)
    assert got.located == 2 and got.began == BEGAN
    assert got.ratio == pytest.approx(0.5, rel=0.15)
    low, high = got.interval
    assert low < 0.5 < high < 1.0
    assert got.to_json()["low"] == pytest.approx(low, abs=1e-3)
    assert got.counts["hotspots"]["before"] > got.counts["hotspots"]["after"]
    assert "fewer reports" in got.reading
    # patrols at its hotspots after the start only (not before, not at H-4)
    assert (got.patrol_minutes, got.patrol_visits) == (35.0, 2)
    assert got.caveat == ASSESSMENT_CAVEAT
    assert got.to_json()["change_pct"] == pytest.approx((got.ratio - 1) * 100, abs=0.1)


def test_no_effect_gives_an_interval_spanning_one(hotspots: gpd.GeoDataFrame) -> None:
    got = assess_problem(_problem(), planted(hotspots, effect=1.0, seed=8), hotspots)
    low, high = got.interval
    assert low < 1.0 < high
    assert "chance" in got.reading


def test_nothing_to_assess_before_a_response_starts(hotspots: gpd.GeoDataFrame) -> None:
    reports = planted(hotspots, effect=0.5)
    dropped = _problem(status="dropped")
    not_started = _problem(started=None, status="open")
    for problem in (dropped, not_started):
        got = assess_problem(problem, reports, hotspots)
        assert got.began is None and got.ratio is None
        assert "nothing to assess" in got.reading
    both = assess_problems([_problem(), not_started], reports, hotspots)
    assert [a.ratio is None for a in both] == [False, True]
