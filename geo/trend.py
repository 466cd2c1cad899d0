"""Change over time per hotspot: Mann–Kendall trend on weekly counts, this period against the last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy import stats

__all__ = [
    "TRENDS",
    "TREND_HELP",
    "Periods",
    "assign_reports",
    "gone_hotspots",
    "hotspot_trends",
    "mann_kendall",
    "monthly_counts",
    "previous_period",
]

#: The trend words, in the order the legend lists them.
TRENDS: tuple[str, ...] = ("new", "growing", "steady", "fading", "gone")
TREND_HELP = (
    "Trend compares the selected period with the one of the same length before it. "
    "new: no report here in the period before; gone: none in the selected period; "
    "growing or fading: the Mann–Kendall test (the trend test of ArcGIS's Emerging Hot "
    "Spot Analysis) on the weekly counts of both periods finds a rising or falling trend "
    "at the 5% level; steady: no such trend."
)


@dataclass(frozen=True)
class Periods:
    """The selected period and the one of equal length just before it (inclusive dates)."""

    start: date
    end: date
    prev_start: date
    prev_end: date

    @property
    def days(self) -> int:
        """Length of each period in days."""
        return (self.end - self.start).days + 1


def previous_period(start: date, end: date) -> Periods:
    """Return the period of the same length that ends the day before ``start``.

    Parameters
    ----------
    start, end
        The selected period (inclusive).

    Returns
    -------
    Periods
    """
    if end < start:
        msg = "The period ends before it starts; choose an end date on or after the start."
        raise ValueError(msg)
    days = (end - start).days + 1
    return Periods(start, end, start - timedelta(days=days), start - timedelta(days=1))


def mann_kendall(x: Any) -> dict[str, np.ndarray]:
    """Mann–Kendall trend test on each row of ``x`` (ties corrected, continuity corrected).

    ``S = sum_{i<j} sign(x_j - x_i)``; ``Var(S) = [n(n-1)(2n+5) - sum_t t(t-1)(2t+5)] / 18``
    over the groups of ``t`` tied values; ``z = (S - sign(S)) / sqrt(Var(S))``; two-sided
    ``p = 2 (1 - Phi(|z|))``; Kendall's ``tau = S / (n(n-1)/2)``.

    Parameters
    ----------
    x
        A series (1-D) or one series per row (2-D), in time order.

    Returns
    -------
    dict
        ``{"s", "var", "z", "p", "tau"}``, arrays with one value per row (scalars' shape
        for 1-D input is ``(1,)``). A row with no variation has ``z = 0`` and ``p = 1``.
    """
    arr = np.atleast_2d(np.asarray(x, dtype=float))
    n = arr.shape[1]
    if n < 2:
        ones = np.ones(arr.shape[0])
        zeros = np.zeros(arr.shape[0])
        return {"s": zeros, "var": zeros, "z": zeros, "p": ones, "tau": zeros}
    diff = arr[:, None, :] - arr[:, :, None]  # [row, i, j] = x_j - x_i
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    s = np.sign(diff[:, upper]).sum(axis=1)
    # Each value in a tie group of size t adds (t-1)(2t+5); a group adds t(t-1)(2t+5).
    tie = (diff == 0).sum(axis=2)
    ties = ((tie - 1) * (2 * tie + 5)).sum(axis=1)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    tau = s / (n * (n - 1) / 2.0)
    return {"s": s, "var": var, "z": z, "p": p, "tau": tau}


def assign_reports(hotspots: pd.DataFrame, reports: pd.DataFrame) -> np.ndarray:
    """The row position of the hotspot each report falls in, or -1.

    Network mode (hotspots with ``segment_ids``): a report belongs to the hotspot holding
    its ``segment_id``. Point mode (empty ``segment_ids``): to the hotspot whose polygon
    covers its point.

    Parameters
    ----------
    hotspots
        The hotspot table (``segment_ids``, ``geometry`` in WGS84).
    reports
        Reports with ``segment_id``, ``lon``, ``lat``.

    Returns
    -------
    numpy.ndarray
        int64, one value per report.
    """
    out = np.full(len(reports), -1, dtype=np.int64)
    if not len(hotspots) or not len(reports):
        return out
    seg_lists = list(hotspots["segment_ids"]) if "segment_ids" in hotspots else []
    sizes = np.array([len(s) for s in seg_lists], dtype=np.int64)
    if sizes.sum() > 0:
        segs = np.concatenate([np.asarray(s, dtype=np.int64) for s in seg_lists])
        owner = np.repeat(np.arange(len(seg_lists)), sizes)
        lookup = pd.Series(owner, index=segs)
        lookup = lookup[~lookup.index.duplicated()]
        rep = pd.to_numeric(reports["segment_id"], errors="coerce").astype("Int64")
        got = lookup.reindex(rep.to_numpy(dtype=np.int64, na_value=-1)).to_numpy()
        return np.where(np.isnan(got.astype(float)), -1, got).astype(np.int64)
    geoms = np.asarray(hotspots.geometry.values)
    points = shapely.points(reports["lon"].to_numpy(float), reports["lat"].to_numpy(float))
    tree = shapely.STRtree(geoms)
    pt_idx, hot_idx = tree.query(points, predicate="intersects")
    # The first (highest-ranked) hotspot wins where polygons overlap.
    order = np.lexsort((hot_idx, pt_idx))
    pt_idx, hot_idx = pt_idx[order], hot_idx[order]
    first = np.r_[True, pt_idx[1:] != pt_idx[:-1]] if len(pt_idx) else np.zeros(0, bool)
    out[pt_idx[first]] = hot_idx[first]
    return out


def _day_index(reports: pd.DataFrame, origin: date) -> np.ndarray:
    when = pd.to_datetime(reports["occurred_at"]).to_numpy("datetime64[D]")
    return (when - np.datetime64(origin, "D")).astype(np.int64)


def hotspot_trends(
    hotspots: pd.DataFrame,
    reports: pd.DataFrame,
    *,
    periods: Periods,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Each hotspot's reports this period and last, weekly Mann–Kendall test and trend word.

    Parameters
    ----------
    hotspots
        The hotspot table of the selected period.
    reports
        Reports covering both periods (already filtered by category and source).
    periods
        From :func:`previous_period`.
    alpha
        Significance level of the trend test.

    Returns
    -------
    pandas.DataFrame
        One row per hotspot, in its order: ``hotspot_id``, ``this_period``,
        ``last_period``, ``change`` (this minus last), ``tau``, ``p``, ``trend`` (one of
        :data:`TRENDS`).
    """
    owner = assign_reports(hotspots, reports)
    day = _day_index(reports, periods.prev_start)
    n_days = 2 * periods.days
    keep = (owner >= 0) & (day >= 0) & (day < n_days)
    n_weeks = max(1, -(-n_days // 7))
    weekly = np.zeros((len(hotspots), n_weeks))
    np.add.at(weekly, (owner[keep], day[keep] // 7), 1)
    cur = keep & (day >= periods.days)
    this = np.bincount(owner[cur], minlength=len(hotspots))
    last = np.bincount(owner[keep & ~cur], minlength=len(hotspots))
    mk = mann_kendall(weekly)
    trend = np.where(
        (mk["p"] < alpha) & (mk["s"] > 0),
        "growing",
        np.where((mk["p"] < alpha) & (mk["s"] < 0), "fading", "steady"),
    ).astype(object)
    trend[(last == 0) & (this > 0)] = "new"
    trend[(this == 0) & (last > 0)] = "gone"
    return pd.DataFrame(
        {
            "hotspot_id": list(hotspots["hotspot_id"]),
            "this_period": this.astype(int),
            "last_period": last.astype(int),
            "change": (this - last).astype(int),
            "tau": mk["tau"],
            "p": mk["p"],
            "trend": trend,
        }
    )


def monthly_counts(
    hotspots: pd.DataFrame, reports: pd.DataFrame, *, end: date, months: int = 12
) -> list[list[int]]:
    """Reports per calendar month in each hotspot, for the ``months`` months up to ``end``.

    Parameters
    ----------
    hotspots
        The hotspot table.
    reports
        Reports covering those months.
    end
        The last day counted (its month is the last value).
    months
        How many months.

    Returns
    -------
    list of list of int
        One list per hotspot, oldest month first.
    """
    owner = assign_reports(hotspots, reports)
    when = pd.to_datetime(reports["occurred_at"])
    month_no = (when.dt.year * 12 + when.dt.month - 1).to_numpy(np.int64)
    idx = month_no - (end.year * 12 + end.month - 1) + months - 1
    keep = (owner >= 0) & (idx >= 0) & (idx < months)
    out = np.zeros((len(hotspots), months), dtype=np.int64)
    np.add.at(out, (owner[keep], idx[keep]), 1)
    return out.tolist()


def gone_hotspots(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """The hotspots of the period before that share no street (or ground) with a current one.

    Parameters
    ----------
    previous
        The hotspot table of the period before.
    current
        The hotspot table of the selected period.

    Returns
    -------
    pandas.DataFrame
        The rows of ``previous`` that are gone.
    """
    if not len(previous) or not len(current):
        return previous
    prev_segs = [set(map(int, s)) for s in previous["segment_ids"]]
    if any(prev_segs):
        now = set().union(*(set(map(int, s)) for s in current["segment_ids"]))
        keep = np.array([not (s & now) for s in prev_segs], dtype=bool)
    else:
        tree = shapely.STRtree(np.asarray(current.geometry.values))
        hit, _ = tree.query(np.asarray(previous.geometry.values), predicate="intersects")
        keep = ~np.isin(np.arange(len(previous)), hit)
    return previous[keep]
