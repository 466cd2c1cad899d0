"""Rendering of the community impact summary: charts and the HTML document (PDF via WeasyPrint)."""

from __future__ import annotations

import math
from collections.abc import Hashable
from datetime import date as Date
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from geo.settings import Settings
from planning.briefing_render import page_css
from planning.charts import chart_style, png_data_uri, pyplot
from planning.impact_figures import NO_DATA, PERIOD_KEYS, WITHHELD, SummaryFigures, month_label

__all__ = ["chart_values", "summary_html", "totals_figure", "trend_figure"]


# ------------------------------------------------------------------------------------------
# Charts
# ------------------------------------------------------------------------------------------


def chart_values(figs: SummaryFigures) -> pd.DataFrame:
    """The month-by-month values the trend chart plots: published counts, NaN where hidden.

    Parameters
    ----------
    figs
        The summary's figures (from :func:`planning.impact.summary_figures`).

    Returns
    -------
    pandas.DataFrame
        Categories (labels) x months (labels), float with NaN for hidden cells.
    """
    data = {
        month_label(m): [
            float(figs.published(("m", c, m)))
            if figs.published(("m", c, m)) is not None
            else np.nan
            for c in figs.categories
        ]
        for m in figs.months
    }
    return pd.DataFrame(data, index=[figs.labels[c] for c in figs.categories])


_HIDDEN_STYLE = {"facecolor": "white", "edgecolor": "#8a8a8a", "hatch": "////", "linewidth": 0.6}
_THIS_COLOUR = "#1f5fa8"
_PREV_COLOUR = "#9db7d5"
_LY_COLOUR = "#d5d5d5"


def trend_figure(figs: SummaryFigures) -> Any:
    """Small-multiple bar charts of monthly reports by category (hidden cells hatched).

    Hidden cells are drawn as hatched bars of the threshold's height, whatever their value, so
    the chart tells no more than "fewer than N".

    Parameters are as for :func:`chart_values`.

    Returns
    -------
    matplotlib.figure.Figure
        One small panel per category, months along the bottom.
    """
    plt = pyplot()
    from matplotlib.patches import Patch

    data = chart_values(figs)
    cats = list(data.index)
    ncols = 2 if len(cats) > 1 else 1
    nrows = max(1, math.ceil(len(cats) / ncols))
    this = set(month_label(m) for m in figs.periods["this"])
    no_data = {month_label(m) for m in figs.no_data}
    with chart_style():
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(7.2, 1.55 * nrows + 0.5), squeeze=False, sharex=True
        )
        xs = np.arange(len(data.columns))
        for k, ax in enumerate(axes.flat):
            if k >= len(cats):
                ax.set_visible(False)
                continue
            row = data.iloc[k]
            for x, (month, v) in zip(xs, row.items(), strict=True):
                colour = _THIS_COLOUR if month in this else _PREV_COLOUR
                if month in no_data:  # no imported data: no bar, the words
                    ax.text(x, 0, NO_DATA, ha="center", va="bottom", fontsize=6, color="#555")
                elif np.isnan(v):
                    ax.bar(x, figs.threshold, width=0.75, **_HIDDEN_STYLE)
                else:
                    ax.bar(x, v, width=0.75, color=colour)
            ax.set_title(cats[k], loc="left", fontsize=8.5, weight="bold")
            ax.spines[["top", "right"]].set_visible(False)
            ax.tick_params(axis="both", labelsize=7)
            ymax = max(
                float(np.nanmax(row.to_numpy())) if row.notna().any() else 0.0, figs.threshold
            )
            ax.set_ylim(0, ymax * 1.15)
            ax.yaxis.get_major_locator().set_params(integer=True, nbins=3)
            ax.set_xticks(xs, list(data.columns), rotation=0)
            ax.grid(axis="y", color="#e5e5e5", lw=0.6)
            ax.set_axisbelow(True)
        handles = [
            Patch(color=_PREV_COLOUR, label=figs.period_label("previous") or "earlier"),
            Patch(color=_THIS_COLOUR, label=figs.period_label("this")),
            Patch(**_HIDDEN_STYLE, label=f"hidden (fewer than {figs.threshold}, or {WITHHELD})"),
        ]
        if "previous" not in figs.periods:
            handles = handles[1:]
        fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=7.5)
        fig.tight_layout(rect=(0, 0.07 if nrows > 1 else 0.12, 1, 1))
    return fig


def totals_figure(figs: SummaryFigures) -> Any:
    """Horizontal bars of each category's total in each period (hidden cells hatched).

    Parameters are as for :func:`chart_values`.

    Returns
    -------
    matplotlib.figure.Figure
        One group of bars per category, a bar per period.
    """
    plt = pyplot()
    from matplotlib.patches import Patch

    order = [p for p in PERIOD_KEYS if p in figs.periods]
    colours = {"last_year": _LY_COLOUR, "previous": _PREV_COLOUR, "this": _THIS_COLOUR}
    cats = list(figs.categories)
    with chart_style():
        fig, ax = plt.subplots(figsize=(7.2, 0.14 * max(len(cats), 1) * len(order) + 0.9))
        h = 0.8 / len(order)
        for j, p in enumerate(order):
            for i, c in enumerate(cats):
                y = i + (j - (len(order) - 1) / 2) * h
                v = figs.published(("p", c, p))
                if figs.lacks_data(("p", c, p)):
                    continue
                if v is None:
                    ax.barh(y, figs.threshold, height=h * 0.95, **_HIDDEN_STYLE)
                else:
                    ax.barh(y, v, height=h * 0.95, color=colours[p])
        ax.set_yticks(range(len(cats)), [figs.labels[c] for c in cats])
        ax.invert_yaxis()
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="x", color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel("reports")
        handles = [Patch(color=colours[p], label=figs.period_label(p)) for p in order]
        handles.append(Patch(**_HIDDEN_STYLE, label="hidden"))
        ax.legend(handles=handles, loc="lower right", frameon=False, fontsize=7.5)
        fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------

_SUMMARY_CSS = """
.lead { font-size: 11.5pt; }
.glance { border: 1pt solid #888; border-left: 4pt solid #1f5fa8; background: #f7f8fa;
          padding: 2mm 4mm; margin: 3mm 0 4mm 0; break-inside: avoid; }
.glance ul { margin: 1mm 0; padding-left: 5mm; }
.glance li { margin: 1mm 0; font-size: 10.5pt; }
td.hid { color: #555; font-style: italic; }
tr.all td { font-weight: bold; border-top: 1pt solid #777; }
.notes { font-size: 8.5pt; color: #333; }
.notes li { margin: 0.8mm 0; }
"""

_SUMMARY_TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>{{ css }}</style></head><body>
<h1>{{ title }}</h1>
<div class="sub">{{ area }}{{ this_label }}{% if prev_label %}, compared with {{ prev_label }}{% endif %}</div>
{% if note %}<p class="muted">{{ note }}</p>{% endif %}
<div class="glance"><h3>At a glance</h3><ul>{% for s in narrative %}<li>{{ s }}</li>{% endfor %}</ul></div>

<h2>Reports by category</h2>
<table>
<thead><tr><th>Category</th>{% for p in period_heads %}<th class="num">{{ p }}</th>{% endfor %}{% if has_prev %}<th class="num">Change</th>{% endif %}</tr></thead>
<tbody>
{% for r in total_rows %}<tr class="{{ r.cls }}"><td>{{ r.label }}</td>{% for c in r.cells %}<td class="num{% if c.hid %} hid{% endif %}">{{ c.text }}</td>{% endfor %}{% if has_prev %}<td class="num">{{ r.change }}</td>{% endif %}</tr>
{% endfor %}
</tbody></table>
<figure><img src="{{ totals_chart }}" alt="Reports by category and period"></figure>

<h2>Month by month</h2>
<figure><img src="{{ trend_chart }}" alt="Monthly reports by category"></figure>
<table>
<thead><tr><th>Category</th>{% for m in month_heads %}<th class="num">{{ m }}</th>{% endfor %}</tr></thead>
<tbody>
{% for r in month_rows %}<tr class="{{ r.cls }}"><td>{{ r.label }}</td>{% for c in r.cells %}<td class="num{% if c.hid %} hid{% endif %}">{{ c.text }}</td>{% endfor %}</tr>
{% endfor %}
</tbody></table>

<h2>Streets with the most reports</h2>
{% if street_rows %}
<table>
<thead><tr><th>Street</th>{% for p in street_heads %}<th class="num">{{ p }}</th>{% endfor %}</tr></thead>
<tbody>
{% for r in street_rows %}<tr><td>{{ r.label }}</td>{% for c in r.cells %}<td class="num{% if c.hid %} hid{% endif %}">{{ c.text }}</td>{% endfor %}</tr>
{% endfor %}
</tbody></table>
<p class="small muted">Only streets with at least {{ threshold }} reports in {{ this_label }} are listed. Streets are named from the reports; no address or exact place is given.</p>
{% else %}
<p class="muted">No street had {{ threshold }} or more reports in {{ this_label }}.</p>
{% endif %}

<h2>Patrols</h2>
{% if effort %}
<table class="facts"><tr><td class="k">{{ effort.label }}</td><td>{{ effort.visits }}</td></tr>
<tr><td class="k">Time on scene</td><td>{{ effort.time }}</td></tr>
<tr><td class="k">Patrol days</td><td>{{ effort.days }}</td></tr>
{% if effort.hotspots %}<tr><td class="k">Hotspots visited</td><td>{{ effort.hotspots }}</td></tr>{% endif %}</table>
{% else %}
<p class="muted">No patrol plans were recorded for this period.</p>
{% endif %}
{% if inside_rows %}
<h3>Patrolled hotspots and the rest of the area</h3>
<table>
<thead><tr><th></th>{% for p in inside_heads %}<th class="num">{{ p }}</th>{% endfor %}<th class="num">Change</th></tr></thead>
<tbody>
{% for r in inside_rows %}<tr class="{{ r.cls }}"><td>{{ r.label }}</td>{% for c in r.cells %}<td class="num{% if c.hid %} hid{% endif %}">{{ c.text }}</td>{% endfor %}<td class="num">{{ r.change }}</td></tr>
{% endfor %}
</tbody></table>
{% endif %}

<h2>About these figures</h2>
<ul class="notes">
<li>The figures count reports made by partners (police, council, outreach and others). They show what was reported, not everything that happened: more reports can mean more reporting.</li>
<li>Counts from 1 to {{ threshold - 1 }} are shown as &ldquo;fewer than {{ threshold }}&rdquo;. A few other figures are &ldquo;{{ withheld }}&rdquo; so that a small number cannot be worked out from the totals. Percentages are given only where the earlier figure is at least {{ threshold }}.</li>
{% if no_data %}<li>&ldquo;No data&rdquo; marks a month for which no reports were imported for this area: it is not a count of zero.</li>{% endif %}
<li>Figures are by month only. No exact place, address or person appears in this summary.</li>
<li>Produced {{ produced }} with Beatplan.</li>
</ul>
</body></html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def _cell(figs: SummaryFigures, key: Hashable) -> dict[str, Any]:
    return {"text": figs.text(key), "hid": key in figs.hidden or figs.lacks_data(key)}


def _total_rows(figs: SummaryFigures, order: list[str]) -> list[dict[str, Any]]:
    """Each category's total in each period, then all reports, with the change."""
    has_prev = "previous" in figs.periods
    total_rows = []
    for c in figs.categories:
        total_rows.append(
            {
                "label": figs.labels[c],
                "cls": "",
                "cells": [_cell(figs, ("p", c, p)) for p in order],
                "change": figs.change(("p", c, "previous"), ("p", c, "this")) if has_prev else "",
            }
        )
    total_rows.append(
        {
            "label": "All reports",
            "cls": "all",
            "cells": [_cell(figs, ("pt", p)) for p in order],
            "change": figs.change(("pt", "previous"), ("pt", "this")) if has_prev else "",
        }
    )
    return total_rows


def _month_rows(figs: SummaryFigures) -> list[dict[str, Any]]:
    """Each category month by month, then all reports."""
    month_rows = [
        {
            "label": figs.labels[c],
            "cls": "",
            "cells": [_cell(figs, ("m", c, m)) for m in figs.months],
        }
        for c in figs.categories
    ]
    month_rows.append(
        {
            "label": "All reports",
            "cls": "all",
            "cells": [_cell(figs, ("mt", m)) for m in figs.months],
        }
    )
    return month_rows


def _inside_rows(figs: SummaryFigures, comp: list[str]) -> list[dict[str, Any]]:
    """Reports inside the patrolled hotspots and in the rest of the area."""
    has_prev = "previous" in figs.periods
    inside_rows = []
    if figs.has_inside:
        for key, label in (("in", "Patrolled hotspots"), ("out", "Rest of the area")):
            inside_rows.append(
                {
                    "label": label,
                    "cls": "",
                    "cells": [_cell(figs, (key, p)) for p in comp],
                    "change": figs.change((key, "previous"), (key, "this")) if has_prev else "",
                }
            )
    return inside_rows


def _effort_context(e: dict[str, Any] | None) -> dict[str, str] | None:
    """The patrol effort as printed, or ``None`` without patrols."""
    if not e:
        return None
    hours = e["minutes"] / 60.0
    return {
        "label": "Visits delivered" if e.get("source") == "delivered" else "Planned visits",
        "visits": f"{e['visits']:,}",
        "time": f"about {hours:.0f} hours" if hours >= 2 else f"{e['minutes']:.0f} minutes",
        "days": f"{e['days']:,}",
        "hotspots": f"{e['hotspots']:,}" if e.get("hotspots") else "",
    }


def summary_html(
    figs: SummaryFigures,
    *,
    settings: Settings | None = None,
    title: str = "Community impact summary",
    note: str = "",
    produced: Date | None = None,
) -> str:
    """Render the community summary as a self-contained HTML document (A4 when printed).

    Only published figures appear: suppressed counts read "fewer than N" or "not shown", and
    charts draw hidden cells as hatched bars of the threshold's height.

    Parameters
    ----------
    figs
        From :func:`summary_figures`.
    settings
        Unused except for future labels; accepted for symmetry with the briefing.
    title
        The heading (followed by "for <area>" when the figures name an area).
    note
        An extra line under the heading (e.g. that the data is synthetic).
    produced
        The date printed as the production date (today by default).

    Returns
    -------
    str
    """
    del settings
    order = [p for p in PERIOD_KEYS if p in figs.periods]
    comp = [p for p in ("previous", "this") if p in figs.periods]
    heads = {p: figs.period_label(p) for p in order}
    produced = produced or Date.today()
    if figs.area_name:  # the area named in the heading, the page title and the sub-heading
        title = f"{title} for {figs.area_name}"
    doc_title = f"{title}: {figs.period_label('this')}"
    css = page_css(doc_title, marking="") + _SUMMARY_CSS
    area = f"{figs.area_name} \u00b7 " if figs.area_name else ""
    return _ENV.from_string(_SUMMARY_TEMPLATE).render(
        title=title,
        css=Markup(css),
        area=area,
        this_label=figs.period_label("this"),
        prev_label=figs.period_label("previous"),
        note=note,
        narrative=list(figs.narrative),
        period_heads=[heads[p] for p in order],
        has_prev="previous" in figs.periods,
        total_rows=_total_rows(figs, order),
        totals_chart=png_data_uri(totals_figure(figs), dpi=170),
        trend_chart=png_data_uri(trend_figure(figs), dpi=170),
        month_heads=[month_label(m) for m in figs.months],
        month_rows=_month_rows(figs),
        street_heads=[heads[p] for p in comp],
        street_rows=[
            {"label": s, "cells": [_cell(figs, ("s", s, p)) for p in comp]} for s in figs.streets
        ],
        threshold=figs.threshold,
        effort=_effort_context(figs.effort),
        inside_heads=[heads[p] for p in comp],
        inside_rows=_inside_rows(figs, comp),
        withheld=WITHHELD,
        no_data=bool(figs.no_data),
        produced=f"{produced.day} {produced:%B %Y}",
    )
