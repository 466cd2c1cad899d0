"""Community impact summary: period-on-period counts with small-count and secondary suppression.

The work is split by concern: :mod:`planning.impact_figures` (periods and counts),
:mod:`planning.impact_suppression` (disclosure control), :mod:`planning.impact_narrative`
(the plain-English text) and :mod:`planning.impact_render` (charts and HTML). This module keeps
the entry point :func:`summary_figures` and re-exports the public names of the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from geo.settings import Settings, load_settings
from planning.briefing_render import html_to_pdf
from planning.impact_figures import PERIOD_KEYS as PERIOD_KEYS
from planning.impact_figures import WITHHELD as WITHHELD
from planning.impact_figures import CountedFigures, SummaryFigures, count_figures
from planning.impact_narrative import narrative as narrative
from planning.impact_render import chart_values, summary_html, totals_figure, trend_figure
from planning.impact_suppression import TOTAL as TOTAL
from planning.impact_suppression import protect_cells, suppress_table
from planning.routes import PatrolPlan

__all__ = [
    "SummaryFigures",
    "chart_values",
    "html_to_pdf",
    "protect_cells",
    "summary_figures",
    "summary_html",
    "suppress_table",
    "totals_figure",
    "trend_figure",
]


def summary_figures(
    reports: pd.DataFrame,
    *,
    start: Any,
    end: Any,
    settings: Settings | None = None,
    plans: Iterable[PatrolPlan | Mapping[str, Any]] | None = None,
    visits: pd.DataFrame | None = None,
    hotspots: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    categories: Sequence[str] | None = None,
    threshold: int | None = None,
    top_streets: int = 8,
    radius_m: float = 100.0,
    area_name: str | None = None,
) -> SummaryFigures:
    """Compute the community summary's figures for whole months, with suppression applied.

    The chosen period is widened to whole months; it is compared with the same number of
    months just before it and, when the data reaches back that far, with the same months a
    year earlier.

    Parameters
    ----------
    reports
        The report table (CONTRACTS); may hold more than the periods needed.
    start, end
        The period (dates; the months containing them are used in full).
    settings
        Labels and the suppression threshold; the project settings by default.
    plans
        Patrol plans (objects or JSON dicts); those dated inside the period count as effort,
        and their stops mark the patrolled hotspots.
    visits
        Delivered patrol visits (the patrol log: ``date``, ``minutes`` and optionally
        ``hotspot_id``, ``lon``, ``lat``). When any fall in the period they replace the
        planned visits as the effort figure ("visits delivered").
    hotspots
        The hotspot table: reports on the ``segment_ids`` of patrolled hotspots count as
        inside them. Without it, reports within ``radius_m`` of a patrolled stop do.
    segments
        Street segments, to name the street of reports without a ``location_hint``.
    categories
        Only these categories; by default every category in the data.
    threshold
        Suppression threshold; ``settings.general.suppression_threshold`` (10) by default.
    top_streets
        How many streets to list (only streets with at least ``threshold`` reports).
    radius_m
        Radius around patrolled stops when hotspot segments are unknown.
    area_name
        Name of the area for the title; ``settings.area_name`` by default.

    Returns
    -------
    SummaryFigures

    Raises
    ------
    ValueError
        When the period is inverted or the threshold is below 1.
    """
    settings = settings if settings is not None else load_settings()
    t = _threshold(threshold, settings)
    counted = count_figures(
        reports,
        start=start,
        end=end,
        settings=settings,
        threshold=t,
        plans=plans,
        visits=visits,
        hotspots=hotspots,
        segments=segments,
        categories=categories,
        top_streets=top_streets,
        radius_m=radius_m,
    )
    return _protected(counted, t, area_name if area_name is not None else settings.area_name)


def _threshold(threshold: int | None, settings: Settings) -> int:
    """The suppression threshold: as given, else from the settings (10 by default)."""
    t = int(
        threshold if threshold is not None else settings.general.get("suppression_threshold", 10)
    )
    if t < 1:
        msg = "The suppression threshold must be at least 1."
        raise ValueError(msg)
    return t


def _protected(c: CountedFigures, t: int, area_name: str) -> SummaryFigures:
    """Apply suppression to the counted figures and write the narrative from what is published."""
    hidden, primary = protect_cells(
        c.values, c.equations, threshold=t, totals=c.totals, free=c.free
    )
    figs = SummaryFigures(
        months=c.months,
        periods=c.periods,
        threshold=t,
        categories=c.categories,
        labels=c.labels,
        values=c.values,
        hidden=hidden,
        primary=primary,
        streets=c.streets,
        effort=c.effort,
        has_inside=c.has_inside,
        area_name=area_name,
    )
    return SummaryFigures(**{**figs.__dict__, "narrative": tuple(narrative(figs))})
