"""Assessment of a problem (the A of SARA): a difference in differences of reports at its hotspots."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from planning.problems import Problem
from planning.tracking_effect import _report_hotspots

__all__ = [
    "ASSESSMENT_CAVEAT",
    "COMPARISONS",
    "Assessment",
    "assess_problem",
    "assess_problems",
    "did_rate_ratio",
]

COMPARISONS = ("area", "unresponded")

#: What an assessment can and cannot show, in plain English.
ASSESSMENT_CAVEAT = (
    "This compares reports at the problem's hotspots in the weeks before and after its "
    "responses began with the same change elsewhere (a difference in differences). It is not "
    "a trial: the hotspots were chosen because they were busy, so some fall is expected "
    "anyway, and other things changed at the same time. A fall may mean activity moved to "
    "nearby streets (see the displacement watch) or that fewer reports were made, not less "
    "harm. An interval that spans 0% means the data cannot tell a change from chance."
)


@dataclass(frozen=True)
class Assessment:
    """The assessment of one problem.

    Attributes
    ----------
    problem_id
        The problem.
    hotspot_ids
        Its hotspots; ``located`` of them were found in the hotspot table.
    began
        When its responses began (``None``: no response has started, nothing to assess).
    weeks
        Length of the before and the after window.
    comparison
        ``"area"`` (the rest of the area) or ``"unresponded"`` (hotspots of no problem with
        responses).
    counts
        ``{"hotspots"|"comparison": {"before": n, "after": n}}``.
    ratio, interval
        The difference in differences as a rate ratio, ``(A_a/A_b) / (C_a/C_b)``, and its
        95% interval ``(low, high)`` (``None`` when they cannot be estimated); below 1 = fewer
        reports at the hotspots than the comparison suggests.
    change_pct
        ``(ratio - 1) * 100``.
    patrol_minutes, patrol_visits
        Patrol delivered at its hotspots since the responses began (patrol log), over the
        after window.
    located
        How many of its hotspots were found.
    reading
        One plain sentence.
    caveat
        :data:`ASSESSMENT_CAVEAT`.
    """

    problem_id: str
    hotspot_ids: tuple[str, ...]
    began: date | None
    weeks: int
    comparison: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    ratio: float | None = None
    interval: tuple[float, float] | None = None
    change_pct: float | None = None
    patrol_minutes: float = 0.0
    patrol_visits: int = 0
    located: int = 0
    reading: str = ""
    caveat: str = ASSESSMENT_CAVEAT

    def to_json(self) -> dict[str, Any]:
        """The assessment as a JSON-ready dict."""

        def _r(x: float | None, nd: int = 3) -> float | None:
            return None if x is None else round(float(x), nd)

        return {
            "problem_id": self.problem_id,
            "hotspot_ids": list(self.hotspot_ids),
            "located": self.located,
            "began": self.began.isoformat() if self.began else None,
            "weeks": self.weeks,
            "comparison": self.comparison,
            "counts": self.counts,
            "ratio": _r(self.ratio),
            "low": _r(self.interval[0]) if self.interval else None,
            "high": _r(self.interval[1]) if self.interval else None,
            "change_pct": _r(self.change_pct, 1),
            "patrol_minutes": round(float(self.patrol_minutes), 1),
            "patrol_visits": int(self.patrol_visits),
            "reading": self.reading,
            "caveat": self.caveat,
        }


def did_rate_ratio(
    a_before: np.ndarray | Sequence[float],
    a_after: np.ndarray | Sequence[float],
    c_before: np.ndarray | Sequence[float],
    c_after: np.ndarray | Sequence[float],
    *,
    level: float = 0.95,
) -> tuple[float | None, float | None, float | None]:
    """Difference in differences of weekly counts as a rate ratio with its interval.

    The log rate ratio ``log(A_a/A_b) - log(C_a/C_b)`` of the summed counts, with the
    Poisson standard error ``sqrt(1/A_b + 1/A_a + 1/C_b + 1/C_a)`` inflated by the
    overdispersion of the weekly counts (quasi-Poisson: the Pearson dispersion of each
    group's weekly counts around its window mean, at least 1). Zero totals get 0.5
    (Haldane's correction).

    Parameters
    ----------
    a_before, a_after
        Weekly counts at the problem's hotspots before and after.
    c_before, c_after
        Weekly counts in the comparison area before and after.
    level
        Confidence level of the interval.

    Returns
    -------
    (ratio, low, high)
        ``None`` for each when a window is empty (no weeks) or a group has no reports.
    """
    groups = [np.asarray(g, dtype="float64") for g in (a_before, a_after, c_before, c_after)]
    if any(g.size == 0 for g in groups):
        return None, None, None
    a_b, a_a, c_b, c_a = (float(g.sum()) for g in groups)
    if a_b + a_a == 0 or c_b + c_a == 0:
        return None, None, None
    a_b, a_a, c_b, c_a = (x if x > 0 else 0.5 for x in (a_b, a_a, c_b, c_a))
    log_ratio = np.log(a_a / a_b) - np.log(c_a / c_b)
    se = np.sqrt(1 / a_b + 1 / a_a + 1 / c_b + 1 / c_a) * np.sqrt(_dispersion(groups))
    z = float(stats.norm.ppf(0.5 + level / 2))
    return (
        float(np.exp(log_ratio)),
        float(np.exp(log_ratio - z * se)),
        float(np.exp(log_ratio + z * se)),
    )


def _dispersion(groups: list[np.ndarray]) -> float:
    """Pearson dispersion of weekly counts around each group's mean (at least 1)."""
    chi2, df = 0.0, 0
    for g in groups:
        mean = g.mean()
        if g.size > 1 and mean > 0:
            chi2 += float(((g - mean) ** 2).sum() / mean)
            df += g.size - 1
    return max(1.0, chi2 / df) if df else 1.0


def assess_problem(
    problem: Problem,
    reports: pd.DataFrame,
    hotspots: gpd.GeoDataFrame,
    *,
    weeks: int = 8,
    comparison: str = "area",
    responded_hotspots: Iterable[str] = (),
    patrol_log: pd.DataFrame | None = None,
    buffer_m: float = 25.0,
) -> Assessment:
    """Assess one problem: reports at its hotspots before and after its responses began.

    Parameters
    ----------
    problem
        The problem (:func:`planning.problems.get_problem`); its ``began`` date splits the
        windows.
    reports
        The area's reports covering ``weeks`` weeks either side of ``began``.
    hotspots
        The area's hotspot table (``hotspot_id``, ``segment_ids``, ``geometry``).
    weeks
        Length of each window.
    comparison
        ``"area"``: every report of the area not at the problem's hotspots;
        ``"unresponded"``: reports at hotspots outside ``responded_hotspots``.
    responded_hotspots
        Hotspots of any problem with responses (left out of an ``"unresponded"``
        comparison).
    patrol_log
        The area's patrol log (:func:`planning.tracking_store.patrol_log`), or ``None``.
    buffer_m
        Reports within this distance of a hotspot's outline count for it when not matched
        by segment (as in :func:`planning.tracking_effect.effect_estimate`).

    Returns
    -------
    Assessment
    """
    if comparison not in COMPARISONS:
        msg = f"The comparison must be one of {', '.join(COMPARISONS)}."
        raise ValueError(msg)
    ids = hotspots["hotspot_id"].astype(str).to_numpy() if len(hotspots) else np.array([])
    mine = np.isin(ids, list(problem.hotspot_ids))
    base = {
        "problem_id": problem.problem_id,
        "hotspot_ids": tuple(problem.hotspot_ids),
        "weeks": int(weeks),
        "comparison": comparison,
        "located": int(mine.sum()),
    }
    began = problem.began
    if began is None:
        reading = "No response has started yet: nothing to assess."
        return Assessment(began=None, reading=reading, **base)
    start = pd.Timestamp(began)
    span = pd.Timedelta(days=7 * int(weeks))
    idx = _report_hotspots(reports, hotspots, buffer_m) if len(reports) else np.array([], int)
    safe = np.where(idx >= 0, idx, 0)
    at_mine = (idx >= 0) & mine[safe] if mine.size else np.zeros(len(idx), bool)
    if comparison == "area":
        at_comp = ~at_mine
    else:
        responded = np.isin(ids, list(responded_hotspots)) | mine
        at_comp = (idx >= 0) & ~responded[safe] if ids.size else np.zeros(len(idx), bool)
    t = pd.to_datetime(reports["occurred_at"]).to_numpy(dtype="datetime64[ns]")
    week = np.floor((t - (start - span).to_datetime64()) / np.timedelta64(7, "D")).astype(int)
    inside = (week >= 0) & (week < 2 * int(weeks))
    weekly = {
        name: np.bincount(week[inside & sel], minlength=2 * int(weeks))
        for name, sel in (("hotspots", at_mine), ("comparison", at_comp))
    }
    w = int(weeks)
    ratio, low, high = did_rate_ratio(
        weekly["hotspots"][:w], weekly["hotspots"][w:], weekly["comparison"][:w],
        weekly["comparison"][w:],
    )  # fmt: skip
    counts = {k: {"before": int(v[:w].sum()), "after": int(v[w:].sum())} for k, v in weekly.items()}
    interval = None if low is None or high is None else (low, high)
    minutes, visits = _patrols(patrol_log, problem.hotspot_ids, start, start + span)
    return Assessment(
        began=began,
        counts=counts,
        ratio=ratio,
        interval=interval,
        change_pct=None if ratio is None else (ratio - 1) * 100,
        patrol_minutes=minutes,
        patrol_visits=visits,
        reading=_reading(ratio, interval, comparison, base["located"]),
        **base,
    )


def _patrols(
    log: pd.DataFrame | None, hotspot_ids: Sequence[str], start: pd.Timestamp, end: pd.Timestamp
) -> tuple[float, int]:
    """Patrol minutes and visits logged at these hotspots in ``[start, end)``."""
    if log is None or log.empty:
        return 0.0, 0
    day = pd.to_datetime(log["date"])
    sel = log["hotspot_id"].astype(str).isin(list(hotspot_ids)) & (day >= start) & (day < end)
    return float(log.loc[sel, "minutes"].sum()), int(sel.sum())


def _reading(
    ratio: float | None, interval: tuple[float, float] | None, comparison: str, located: int
) -> str:
    """One plain sentence on the estimate."""
    against = "the rest of the area" if comparison == "area" else "hotspots with no responses"
    if located == 0:
        return "None of its hotspots is among the area's hotspots now: nothing to compare."
    if ratio is None or interval is None:
        return f"Too few reports at its hotspots or in {against} to estimate a change."
    pct, lo, hi = ((x - 1) * 100 for x in (ratio, *interval))
    verdict = (
        "fewer reports than the comparison suggests"
        if hi < 0
        else "more reports than the comparison suggests"
        if lo > 0
        else "no change the data can tell from chance"
    )
    return (
        f"Reports at its hotspots changed by {pct:+.0f}% against {against} (95% interval "
        f"{lo:+.0f}% to {hi:+.0f}%): {verdict}."
    )


def assess_problems(
    problems: Iterable[Problem],
    reports: pd.DataFrame,
    hotspots: gpd.GeoDataFrame,
    *,
    weeks: int = 8,
    comparison: str = "area",
    patrol_log: pd.DataFrame | None = None,
) -> list[Assessment]:
    """Assess every problem of an area (see :func:`assess_problem`).

    Parameters
    ----------
    problems
        The area's problems.
    reports, hotspots, weeks, comparison, patrol_log
        As for :func:`assess_problem`; the hotspots of problems with a started response
        are the ``responded_hotspots``.

    Returns
    -------
    list of Assessment
    """
    items = list(problems)
    responded = {h for p in items if p.began is not None for h in p.hotspot_ids}
    return [
        assess_problem(
            p,
            reports,
            hotspots,
            weeks=weeks,
            comparison=comparison,
            responded_hotspots=responded,
            patrol_log=patrol_log,
        )
        for p in items
    ]
