"""Mann–Kendall test on hand-computed cases; trend words and monthly counts per hotspot."""

from __future__ import annotations

import math
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiLineString, box

from geo.trend import (
    assign_reports,
    hotspot_trends,
    mann_kendall,
    monthly_counts,
    previous_period,
)


def test_mann_kendall_rising_series_by_hand():
    # 1..5: all 10 pairs rise, S = 10; Var = 5*4*15/18 = 16.667; z = (10-1)/sqrt(Var).
    out = mann_kendall([1, 2, 3, 4, 5])
    assert out["s"][0] == 10
    assert out["var"][0] == pytest.approx(50 / 3)
    assert out["z"][0] == pytest.approx(9 / math.sqrt(50 / 3))
    assert out["p"][0] == pytest.approx(0.02749, abs=1e-4)
    assert out["tau"][0] == pytest.approx(1.0)


def test_mann_kendall_ties_by_hand():
    # [1, 1, 2, 3]: one tied pair (0), five rising pairs: S = 5.
    # Var = (4*3*13 - 2*1*9) / 18 = 138 / 18; z = (5 - 1) / sqrt(Var) = 1.4446; p = 0.1486.
    out = mann_kendall([1, 1, 2, 3])
    assert out["s"][0] == 5
    assert out["var"][0] == pytest.approx(138 / 18)
    assert out["z"][0] == pytest.approx(4 / math.sqrt(138 / 18))
    assert out["p"][0] == pytest.approx(0.1486, abs=1e-3)


def test_mann_kendall_rows_falling_and_flat():
    out = mann_kendall([[5, 4, 3, 2, 1, 0], [2, 2, 2, 2, 2, 2]])
    assert out["s"][0] == -15 and out["z"][0] < 0 and out["p"][0] < 0.05
    assert out["s"][1] == 0 and out["z"][1] == 0 and out["p"][1] == 1.0


def test_previous_period_same_length():
    p = previous_period(date(2024, 2, 1), date(2024, 2, 29))
    assert (p.prev_start, p.prev_end, p.days) == (date(2024, 1, 3), date(2024, 1, 31), 29)
    with pytest.raises(ValueError, match="ends before"):
        previous_period(date(2024, 2, 2), date(2024, 2, 1))


def _hotspots() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "hotspot_id": ["H01", "H02", "H03", "H04"],
            "segment_ids": [[1, 2], [3], [4], [5]],
        },
        geometry=[MultiLineString([[(0, 0), (1, 1)]])] * 4,
        crs=4326,
    )


def _reports(rows: list[tuple[int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment_id": pd.array([s for s, _ in rows], dtype="Int64"),
            "occurred_at": pd.to_datetime([d for _, d in rows]),
            "lon": 0.0,
            "lat": 0.0,
        }
    )


def test_hotspot_trends_words():
    periods = previous_period(date(2024, 3, 1), date(2024, 4, 25))  # 8 weeks, 8 before
    weeks = pd.date_range("2024-01-05", periods=16, freq="7D")
    rows: list[tuple[int, str]] = []
    for k, day in enumerate(weeks):  # H01 rises week on week: 0, 1, ..., 15 reports
        rows += [(1 + k % 2, str(day.date()))] * k
    rows += [(3, "2024-03-10"), (3, "2024-04-10")]  # H02: only this period
    rows += [(4, "2024-01-10"), (4, "2024-03-10"), (4, "2024-02-10"), (4, "2024-04-10")]
    rows += [(5, "2024-01-20")]  # H04: only the period before
    rows += [(9, "2024-03-10"), (1, "2023-06-01")]  # elsewhere, and before both periods
    out = hotspot_trends(_hotspots(), _reports(rows), periods=periods)
    assert list(out["trend"]) == ["growing", "new", "steady", "gone"]
    assert list(out["this_period"]) == [sum(range(8, 16)), 2, 2, 0]
    assert list(out["last_period"]) == [sum(range(8)), 0, 2, 1]


def test_assign_reports_point_mode_first_hotspot_wins():
    hot = gpd.GeoDataFrame(
        {"hotspot_id": ["H01", "H02"], "segment_ids": [[], []]},
        geometry=[box(0, 0, 2, 2), box(1, 1, 3, 3)],
        crs=4326,
    )
    reps = pd.DataFrame({"segment_id": pd.array([None] * 3, dtype="Int64")})
    reps["lon"], reps["lat"] = [1.5, 2.5, 5.0], [1.5, 2.5, 5.0]
    assert assign_reports(hot, reps).tolist() == [0, 1, -1]


def test_monthly_counts_last_twelve_months():
    rows = [(1, "2024-04-02"), (2, "2024-04-20"), (3, "2023-05-01"), (3, "2023-04-30")]
    out = monthly_counts(_hotspots(), _reports(rows), end=date(2024, 4, 25), months=12)
    assert np.asarray(out).shape == (4, 12)
    assert out[0][-1] == 2 and sum(out[0]) == 2
    assert out[1][0] == 1 and sum(out[1]) == 1  # April 2023 is outside the 12 months


def test_gone_hotspots_share_no_street():
    from geo.trend import gone_hotspots

    prev = _hotspots()  # segments [1, 2], [3], [4], [5]
    cur = prev.iloc[:1].assign(segment_ids=[[2, 7]])
    assert list(gone_hotspots(prev, cur)["hotspot_id"]) == ["H02", "H03", "H04"]
    pts = gpd.GeoDataFrame(
        {"hotspot_id": ["H01", "H02"], "segment_ids": [[], []]},
        geometry=[box(0, 0, 1, 1), box(5, 5, 6, 6)],
        crs=4326,
    )
    now = pts.iloc[:1].set_geometry([box(0.5, 0.5, 2, 2)])
    assert list(gone_hotspots(pts, now)["hotspot_id"]) == ["H02"]
