"""Community impact summary: period-on-period counts with small-count and secondary suppression.

The work is split by concern: :mod:`planning.impact_figures` (periods and counts),
:mod:`planning.impact_suppression` (disclosure control), :mod:`planning.impact_narrative`
(the plain-English text) and :mod:`planning.impact_render` (charts and HTML). This module keeps
the entry point :func:`summary_figures` and re-exports the public names of the others.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

import pandas as pd

from geo.settings import Settings, load_settings
from geo.store import Store
from planning.briefing_render import html_to_pdf
from planning.impact_disclosure import (
    FEWER,
    SHOWN,
    Key,
    Protection,
    PublishedCell,
    check_period,
    is_standard_period,
    protect_release,
)
from planning.impact_disclosure import WITHHELD as WITHHELD_STATUS
from planning.impact_figures import PERIOD_KEYS as PERIOD_KEYS
from planning.impact_figures import WITHHELD as WITHHELD
from planning.impact_figures import CountedFigures, SummaryFigures, count_figures
from planning.impact_ledger import custom_periods, published_cells, record_release, release_count
from planning.impact_narrative import narrative as narrative
from planning.impact_render import chart_values, summary_html, totals_figure, trend_figure
from planning.impact_suppression import TOTAL as TOTAL
from planning.impact_suppression import protect_cells, suppress_table

__all__ = [
    "SummaryFigures",
    "chart_values",
    "html_to_pdf",
    "protect_cells",
    "release_summary",
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
    threshold: int | None = None,
    area_name: str | None = None,
    published: Sequence[PublishedCell] = (),
    **counting: Any,
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
    threshold
        Suppression threshold; ``settings.general.suppression_threshold`` (10) by default.
    area_name
        Name of the area for the title; ``settings.area_name`` by default.
    published
        Every figure published before (:func:`planning.impact_ledger.published_cells`): the
        new figures are checked against them all, so none of the earlier small counts can be
        worked out by differencing. Public summaries go through :func:`release_summary`.
    **counting
        ``plans``, ``visits``, ``hotspots``, ``segments``, ``categories``, ``top_streets`` and
        ``radius_m``, passed on to :func:`planning.impact_figures.count_figures`.

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
        reports, start=start, end=end, settings=settings, threshold=t, **counting
    )
    name = area_name if area_name is not None else settings.area_name
    return _protected(counted, t, name, published)


def release_summary(
    store: Store,
    reports: pd.DataFrame,
    *,
    start: Any,
    end: Any,
    area: str = "",
    allow_custom: bool = False,
    **options: Any,
) -> SummaryFigures:
    """Release a public community summary: a fixed period, checked against every earlier release.

    The period must be a calendar month, a calendar quarter or a period a supervisor has
    published before (a supervisor, ``allow_custom``, may publish a new one once). The figures
    are suppressed against everything published so far for the area, then recorded in the
    published-figures ledger (keys, statuses and shown values only).

    Parameters
    ----------
    store
        The store holding the ledger.
    reports
        The report table: every report of the area (earlier figures are checked against it).
    start, end
        The period's first and last month (dates inside them are widened to whole months).
    area
        The area the figures belong to ("" when the store does not keep areas apart).
    allow_custom
        Whether the caller may publish a period that is not a month or a quarter.
    **options
        Passed on to :func:`summary_figures` (``settings``, ``plans``, ``visits``, ...).

    Returns
    -------
    SummaryFigures

    Raises
    ------
    ValueError
        When the period may not be published (the message says what may).
    """
    first, last = check_period(
        start,
        end,
        custom_periods=custom_periods(store, area=area),
        allow_custom=allow_custom,
    )
    for _attempt in range(5):
        seen = release_count(store, area=area)
        figs = summary_figures(
            reports,
            start=first.start_time,
            end=last.end_time,
            published=published_cells(store, area=area),
            **options,
        )
        done = record_release(
            store,
            figs.cells,
            first=first,
            last=last,
            custom=not is_standard_period(first, last),
            area=area,
            expect_releases=seen,
        )
        if done is not None:
            return figs
    msg = "Other summaries are being published at this moment; try again in a minute."
    raise ValueError(msg)


def _threshold(threshold: int | None, settings: Settings) -> int:
    """The suppression threshold: as given, else from the settings (10 by default)."""
    t = int(
        threshold if threshold is not None else settings.general.get("suppression_threshold", 10)
    )
    if t < 1:
        msg = "The suppression threshold must be at least 1."
        raise ValueError(msg)
    return t


# The counted figures a summary shows as they are: the fields the two share (suppression adds
# the rest).
_COUNTED = {f.name for f in fields(CountedFigures)}
_COUNTED_AS_IS = tuple(f.name for f in fields(SummaryFigures) if f.name in _COUNTED)


def _protected(
    c: CountedFigures, t: int, area_name: str, published: Sequence[PublishedCell]
) -> SummaryFigures:
    """Apply suppression to the counted figures and write the narrative from what is published.

    Suppression runs on canonical keys (:mod:`planning.impact_disclosure`), against every
    figure published before; the result is mapped back to the summary's own keys.
    """
    canon = c.canonical()
    values = {ck: int(c.values[k]) for k, ck in canon.items()}
    prot = protect_release(values, threshold=t, prior=published, truth=c.true_count)
    figs = SummaryFigures(
        **{name: getattr(c, name) for name in _COUNTED_AS_IS},
        threshold=t,
        area_name=area_name,
        **_suppression(canon, values, prot, c.free, t),
    )
    return replace(figs, narrative=tuple(narrative(figs)))


def _suppression(
    canon: Mapping[Hashable, Key],
    values: Mapping[Key, int],
    prot: Protection,
    free: Iterable[Hashable],
    t: int,
) -> dict[str, Any]:
    """What suppression ``prot`` hides, by the summary's keys, and the cells it publishes.

    ``canon`` maps the summary's keys to canonical ones, ``values`` holds the canonical
    counts and ``free`` the summary's keys never published.
    """
    cells = tuple(
        PublishedCell(
            key=ck,
            status=FEWER if ck in prot.primary else WITHHELD_STATUS if ck in prot.hidden else SHOWN,
            value=None if ck in prot.hidden else v,
            threshold=t,
        )
        for ck, v in sorted(values.items())
    )
    return {
        "hidden": frozenset(k for k, ck in canon.items() if ck in prot.hidden) | frozenset(free),
        "primary": frozenset(k for k, ck in canon.items() if ck in prot.primary),
        "cells": cells,
        "stale": prot.stale,
        "exposed": len(prot.exposed),
    }
