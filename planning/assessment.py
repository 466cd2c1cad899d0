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
    ratio, low, high
        The difference in differences as a rate ratio, ``(A_a/A_b) / (C_a/C_b)``, with its
        95% interval (``None`` when it cannot be estimated); below 1 = fewer reports at the
        hotspots than the comparison suggests.
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
    low: float | None = None
    high: float | None = None
    change_pct: float | None = None
    patrol_minutes: float = 0.0
    patrol_visits: int = 0
    located: int = 0
    reading: str = ""
    caveat: str = ASSESSMENT_CAVEAT

    def to_json(self) -> dict[str, Any]:
        """The assessment as a JSON-ready dict."""
        raise NotImplementedError


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
        ``None`` for each when a window is empty (no weeks) or both groups have no reports.
    """
    raise NotImplementedError


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
    raise NotImplementedError


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
    raise NotImplementedError


_ = stats
