"""Rendering of the partner-meeting pack: charts, the HTML document and PDF via WeasyPrint."""

from __future__ import annotations

from typing import Any

import jinja2
import numpy as np
from markupsafe import Markup

from planning.briefing_render import DEFAULT_MARKING, page_css
from planning.charts import chart_style, png_data_uri, pyplot

__all__ = ["MARKING", "pdf_with_pages", "render", "top_figure", "weekly_figure"]

#: The pack's protective marking, printed on every page (and at the top and foot of the HTML).
MARKING = DEFAULT_MARKING

_HOT = "#c0392b"
_ELSE = "#7f8c8d"
_PREV = "#b7c4d6"
_NOW = "#1f5fa8"

_EXTRA_CSS = """
.marking { font-weight: bold; letter-spacing: 0.05em; color: #8a1c1c; border: 1pt solid #8a1c1c;
           padding: 1mm 2mm; display: inline-block; margin-bottom: 3mm; }
.flag { border-left-color: #c0392b; background: #fdf2f1; }
.trend { font-weight: bold; }
.t-new, .t-growing { color: #a93226; } .t-fading, .t-gone { color: #1e8449; }
.hotspot { break-inside: avoid; margin-bottom: 3mm; }
.id { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; white-space: nowrap; }
table.small td, table.small th { padding: 1mm 1.2mm; }
.status-open { color: #a04000; font-weight: bold; } .status-done { color: #1e8449; }
.status-dropped { color: #666; text-decoration: line-through; }
"""

_TEMPLATE = """
<div class="marking">{{ marking }}</div>
<h1>Partner meeting pack: {{ f.area_name }}</h1>
<div class="sub">Since the last meeting: {{ since }} to {{ until }} &middot; compared with {{ prev_start }} to {{ prev_end }}</div>
{% if f.synthetic %}<p class="box">Demo data: these reports are synthetic and describe no real person or event.</p>{% endif %}
<div class="box">
  <h3>Before you read</h3>
  <p>For the partners at the meeting only; do not forward. It describes places, never people. Counts in this pack leave out safeguarding reports, which are counted only in the safeguarding section, with counts below {{ f.threshold }} shown as &ldquo;fewer than {{ f.threshold }}&rdquo;. Reports measure reporting as well as activity.</p>
</div>
<table class="facts">
  <tr><td class="k">Hotspots now</td><td>{{ f.hotspots|length }}{% if f.new or f.fading %} ({% if f.new %}{{ f.new|length }} new{% endif %}{% if f.new and f.fading %}, {% endif %}{% if f.fading %}{{ f.fading|length }} fading{% endif %}){% endif %}{% if f.gone %}; {{ f.gone|length }} gone since the period before{% endif %}</td></tr>
  <tr><td class="k">Problems</td><td>{{ f.problems|length }} in the log &middot; {{ open_actions }} actions open, {{ done_actions }} done</td></tr>
  <tr><td class="k">Patrols</td><td>{{ planned }} stops planned, {{ delivered }} visits logged at hotspots</td></tr>
  <tr><td class="k">Displacement</td><td>{% if flags %}<b>{{ flags|length }} hotspot(s) flagged</b>{% else %}no flag{% endif %}</td></tr>
</table>
{% for h in flags %}
<div class="box flag"><h3>Possible displacement: <span class="id">{{ h.hotspot_id }}</span> {{ h.label }}</h3>
<p>{{ h.displacement.reading|replace(prompt, "") }}</p><p><b>{{ prompt }}</b></p></div>
{% endfor %}
{% if weekly_uri %}<figure><img src="{{ weekly_uri }}" alt="Weekly reports at the hotspots and elsewhere"><figcaption>Reports per week at today's hotspots and elsewhere in the area (safeguarding reports left out). The shaded weeks are since the last meeting.</figcaption></figure>{% endif %}

<h2>Hotspots since the last meeting</h2>
{% if f.hotspots %}
<table class="fixed small">
<colgroup><col style="width: 15%"><col style="width: 27%"><col style="width: 9%"><col style="width: 8%"><col style="width: 8%"><col style="width: 11%"><col style="width: 11%"><col style="width: 11%"></colgroup>
<thead><tr><th>Id</th><th>Where</th><th>Trend</th><th class="num">Since</th><th class="num">Before</th><th class="num">Planned</th><th class="num">Delivered</th><th>Problems</th></tr></thead>
<tbody>{% for h in f.hotspots %}
<tr><td class="id">{{ h.hotspot_id }}</td><td>{{ h.label }}</td><td class="trend t-{{ h.trend }}">{{ h.trend }}</td>
<td class="num">{{ h.this_period }}</td><td class="num">{{ h.last_period }}</td>
<td class="num">{{ h.planned_visits }}{% if h.planned_visits %} ({{ h.planned_minutes|round|int }} min){% endif %}</td>
<td class="num">{{ h.delivered_visits }}{% if h.delivered_visits %} ({{ h.delivered_minutes|round|int }} min){% endif %}</td>
<td>{% for p in h.problems %}<span class="id">{{ p }}</span>{% if not loop.last %}, {% endif %}{% endfor %}</td></tr>
{% endfor %}</tbody></table>
<p class="small muted">Since: reports since the last meeting; before: in the period of equal length before it. Planned: stops in saved patrol plans; delivered: visits in the patrol log (minutes in brackets). {{ trend_help }}</p>
{% else %}<p>No hotspot since the last meeting.</p>{% endif %}
{% if top_uri %}<figure><img src="{{ top_uri }}" alt="Reports at the top hotspots, this period and the one before"><figcaption>Reports at the top hotspots since the last meeting and in the period of equal length before it.</figcaption></figure>{% endif %}

<h2>New, fading and gone</h2>
<table class="facts">
<tr><td class="k">New</td><td>{% for i, l in f.new %}<span class="id">{{ i }}</span> {{ l }}{% if not loop.last %}; {% endif %}{% else %}none{% endfor %}</td></tr>
<tr><td class="k">Fading</td><td>{% for i, l in f.fading %}<span class="id">{{ i }}</span> {{ l }}{% if not loop.last %}; {% endif %}{% else %}none{% endfor %}</td></tr>
<tr><td class="k">Gone</td><td>{% for i, l in f.gone %}<span class="id">{{ i }}</span> {{ l }}{% if not loop.last %}; {% endif %}{% else %}none{% endfor %}</td></tr>
</table>

<h2>Each hotspot</h2>
{% for h in detail %}
<div class="hotspot"><h3><span class="id">{{ h.hotspot_id }}</span> {{ h.label }} <span class="muted">&middot; rank {{ h.rank }} &middot; <span class="t-{{ h.trend }}">{{ h.trend }}</span></span></h3>
<p>{% if h.by_category %}Reports since the meeting: {% for lab, n in h.by_category %}{{ lab }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}.{% else %}No report since the meeting (safeguarding reports aside).{% endif %}
Patrols: {{ h.planned_visits }} planned, {{ h.delivered_visits }} delivered{% if h.delivered_visits %} ({{ h.delivered_minutes|round|int }} minutes){% endif %}.</p>
{% for p in problems_of[h.hotspot_id] %}<p><b>Problem <span class="id">{{ p.problem_id }}</span>: {{ p.title }}</b></p>
{% if p.responses %}<ul>{% for r in p.responses %}<li>{{ agency(r.agency) }}: {{ r.action }} &middot; <span class="status-{{ r.status }}">{{ r.status }}</span>{% if r.due %} (due {{ r.due }}){% endif %}</li>{% endfor %}</ul>{% else %}<p class="muted">No action agreed yet.</p>{% endif %}{% endfor %}
{% if h.displacement %}<p class="small">{% if h.displacement.flag %}<b>Displacement flag.</b> {% endif %}{{ h.displacement.reading }}</p>{% endif %}
</div>
{% endfor %}
{% if more %}<p class="muted">{{ more }} more hotspots with no problem, patrol or flag are listed in the table above only.</p>{% endif %}

<h2>Problems and agreed actions</h2>
{% for p in f.problems %}
<div class="hotspot"><h3><span class="id">{{ p.problem_id }}</span> {{ p.title }}</h3>
<p class="small">Hotspots: {% for h in p.hotspot_ids %}<span class="id">{{ h }}</span> {{ label(h) }}{% if not loop.last %}; {% endif %}{% endfor %}{% if p.began %} &middot; responses began {{ p.began }}{% endif %}</p>
{% if p.responses %}<table><thead><tr><th>Agency</th><th>Action</th><th>Due</th><th>Status</th></tr></thead><tbody>
{% for r in p.responses %}<tr><td>{{ agency(r.agency) }}</td><td>{{ r.action }}</td><td>{{ r.due or "" }}</td><td class="status-{{ r.status }}">{{ r.status }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p class="muted">No action agreed yet.</p>{% endif %}
{% if p.problem_id in f.assessments %}<p class="small">{{ f.assessments[p.problem_id].reading }}</p>{% endif %}
</div>
{% else %}<p>No problem in the log yet: agree one at the meeting and add it on the Meeting page or with <code>beatplan problems add</code>.</p>{% endfor %}

<h2>Safeguarding reports since the last meeting</h2>
{% if f.safeguarding %}
<table><thead><tr><th>Category</th><th class="num">At the hotspots</th><th class="num">Elsewhere</th><th class="num">Total</th></tr></thead><tbody>
{% for r in f.safeguarding %}<tr><td>{{ r.label }}</td><td class="num">{{ r.hotspots }}</td><td class="num">{{ r.elsewhere }}</td><td class="num">{{ r.total }}</td></tr>{% endfor %}
</tbody></table>
<p class="small muted">Counts only, never a person or a single report. Counts below {{ f.threshold }} read &ldquo;fewer than {{ f.threshold }}&rdquo;; a count that would let one be worked out reads &ldquo;not shown&rdquo;.</p>
{% else %}<p>The area's categories include no safeguarding category.</p>{% endif %}
<div class="box"><h3>Welfare first</h3><p>People selling sex are often victims of exploitation and violence. Where enforcement moves activity, check with outreach whether workers have moved to less safe streets before planning more of it.</p></div>
<div class="marking">{{ marking }}</div>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_DOC = jinja2.Environment(autoescape=True).from_string(
    '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8"><title>{{ title }}</title>'
    "<style>{{ css }}</style></head><body>{{ body }}</body></html>\n"
)


def weekly_figure(facts: Any) -> Any:
    """Weekly reports at the hotspots and elsewhere, the weeks since the meeting shaded.

    Parameters
    ----------
    facts
        :class:`planning.meeting.MeetingFacts`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    w = facts.weekly
    with chart_style():
        fig, ax = plt.subplots(figsize=(7.2, 2.3))
        x = np.arange(len(w))
        ax.plot(x, w["hotspots"], color=_HOT, lw=1.8, marker="o", ms=2.5, label="at the hotspots")
        ax.plot(x, w["elsewhere"], color=_ELSE, lw=1.4, label="elsewhere in the area")
        first = int(np.searchsorted(w.index.date, facts.since))
        ax.axvspan(first - 0.5, len(w) - 0.5, color="#eef1f5", zorder=0)
        ticks = x[:: max(1, len(x) // 8)]
        ax.set_xticks(ticks, [f"{w.index[i]:%d %b}" for i in ticks])
        ax.set_ylabel("reports a week")
        ax.set_ylim(bottom=0)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, loc="upper left", fontsize=7.5)
        fig.tight_layout()
    return fig


def top_figure(facts: Any, *, top: int = 12) -> Any:
    """Reports at the top hotspots since the meeting and in the period before (bars).

    Parameters
    ----------
    facts
        :class:`planning.meeting.MeetingFacts`.
    top
        How many hotspots.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    rows = facts.hotspots[:top]
    with chart_style():
        fig, ax = plt.subplots(figsize=(7.2, 0.28 * len(rows) + 0.8))
        y = np.arange(len(rows))
        ax.barh(y - 0.2, [h.last_period for h in rows], 0.4, color=_PREV, label="period before")
        ax.barh(y + 0.2, [h.this_period for h in rows], 0.4, color=_NOW, label="since the meeting")
        ax.set_yticks(y, [f"{h.hotspot_id}  {h.label[:38]}" for h in rows])
        ax.invert_yaxis()
        ax.set_xlabel("reports")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, loc="lower right", fontsize=7.5)
        fig.tight_layout()
    return fig


def render(facts: Any) -> str:
    """The meeting pack as one self-contained HTML document (every value escaped).

    Parameters are as for :func:`weekly_figure`.

    Returns
    -------
    str
        The HTML document.
    """
    from geo.trend import TREND_HELP
    from planning.displacement import WELFARE_PROMPT

    hs = facts.hotspots
    responses = [r for p in facts.problems for r in p.responses]
    problems_of = {
        h.hotspot_id: [p for p in facts.problems if h.hotspot_id in p.hotspot_ids] for h in hs
    }
    detail = [h for h in hs if h.rank <= 8 or h.problems or h.delivered_visits or h.planned_visits]
    detail += [h for h in hs if h.displacement and h.displacement.flag and h not in detail]
    ctx = {
        "f": facts,
        "marking": MARKING,
        "since": f"{facts.since:%d %B %Y}",
        "until": f"{facts.until:%d %B %Y}",
        "prev_start": f"{facts.prev_start:%d %B %Y}",
        "prev_end": f"{facts.prev_end:%d %B %Y}",
        "open_actions": sum(r.status == "open" for r in responses),
        "done_actions": sum(r.status == "done" for r in responses),
        "planned": sum(h.planned_visits for h in hs),
        "delivered": sum(h.delivered_visits for h in hs),
        "flags": [h for h in hs if h.displacement is not None and h.displacement.flag],
        "prompt": WELFARE_PROMPT,
        "trend_help": TREND_HELP,
        "detail": detail,
        "more": len(hs) - len(detail),
        "problems_of": problems_of,
        "agency": lambda a: facts.agency_labels.get(a, str(a)),
        "label": lambda h: facts.labels.get(h, "(not a hotspot now)"),
        "weekly_uri": png_data_uri(weekly_figure(facts), dpi=150) if len(facts.weekly) > 1 else "",
        "top_uri": png_data_uri(top_figure(facts), dpi=150) if hs else "",
    }
    body = _ENV.from_string(_TEMPLATE).render(**ctx)
    title = f"Partner meeting pack: {facts.area_name}"
    css = page_css(title[:80], marking=MARKING) + _EXTRA_CSS
    return _DOC.render(title=title, css=Markup(css), body=Markup(body))


def pdf_with_pages(html: str) -> tuple[bytes, int]:
    """Render the pack to PDF with WeasyPrint (no URL fetched); also return its page count.

    Parameters
    ----------
    html
        The document from :func:`render`.

    Returns
    -------
    (bytes, int)
    """
    import weasyprint
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))
    doc = weasyprint.HTML(string=html, url_fetcher=fetcher).render()
    return doc.write_pdf(), len(doc.pages)
