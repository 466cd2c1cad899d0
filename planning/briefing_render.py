"""Rendering of team briefings: the print stylesheet, HTML templates and PDF via WeasyPrint."""

from __future__ import annotations

import base64

import jinja2
import pandas as pd
from markupsafe import Markup

from planning.briefing_data import BriefingInputs, team_context
from planning.briefing_map import route_map_png
from planning.routes import PatrolPlan, TeamRoute

__all__ = [
    "BASE_CSS",
    "DEFAULT_MARKING",
    "css_string",
    "document",
    "html_to_pdf",
    "page_css",
    "team_section",
]

#: Protective marking printed in the page header of briefings.
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"

BASE_CSS = """
@page {
  size: A4;
  margin: 16mm 14mm 16mm 14mm;
  @top-left { content: __TITLE__; font: 8pt "Liberation Sans", Arial, sans-serif;
              color: #555; }
  @top-right { content: __MARKING__; font: bold 8pt "Liberation Sans", Arial, sans-serif;
               color: #555; }
  @bottom-center { content: "Page " counter(page) " of " counter(pages);
                   font: 8pt "Liberation Sans", Arial, sans-serif; color: #555; }
}
html { font-family: "Liberation Sans", Arial, Helvetica, "DejaVu Sans", sans-serif;
       font-size: 10pt; color: #1a1a1a; line-height: 1.35; }
body { margin: 0; }
@page landscape { size: A4 landscape; }
h1 { font-size: 19pt; margin: 0 0 2mm 0; line-height: 1.15; padding-left: 3mm;
     border-left: 6pt solid var(--accent, #1f5fa8); }
h2 { font-size: 12.5pt; margin: 6mm 0 2mm 0; padding-bottom: 1mm;
     border-bottom: 1.5pt solid var(--accent, #1f5fa8); break-after: avoid; }
h3 { font-size: 10.5pt; margin: 4mm 0 1.5mm 0; break-after: avoid; }
p { margin: 1mm 0 2mm 0; }
.sub { color: #444; font-size: 11pt; margin-bottom: 3mm; }
.muted { color: #555; }
.small { font-size: 8.5pt; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm 0; }
th, td { text-align: left; vertical-align: top; padding: 1.4mm 2mm; border-bottom: 0.5pt solid #bbb; }
th { background: #eef1f5; font-weight: bold; border-bottom: 1pt solid #777; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
.box { border: 1pt solid #888; border-left: 4pt solid var(--accent, #1f5fa8); padding: 2.5mm 3.5mm;
       margin: 3mm 0; background: #f7f8fa; break-inside: avoid; }
.box h3 { margin-top: 0; }
.facts { width: 100%; margin: 0 0 3mm 0; }
.facts td { border: none; padding: 0.6mm 2mm 0.6mm 0; }
.facts td.k { color: #555; width: 28mm; white-space: nowrap; }
figure { margin: 0 0 2mm 0; break-inside: avoid; }
figure img { width: 100%; border: 0.5pt solid #999; }
figcaption { font-size: 8.5pt; color: #555; margin-top: 1mm; }
.team { break-before: page; }
.team:first-of-type { break-before: auto; }
.pagebreak { break-before: page; }
.stopblock { break-inside: avoid; margin-bottom: 2mm; }
.badge { display: inline-block; min-width: 5mm; text-align: center; border-radius: 3mm;
         color: #fff; background: var(--accent, #1f5fa8); font-weight: bold; padding: 0 1.2mm; }
.tick { display: inline-block; width: 3.6mm; height: 3.6mm; border: 0.8pt solid #333; }
.landscape { page: landscape; }
table.fixed { table-layout: fixed; }
.debrief td { height: 12mm; }
.debrief th { font-size: 9pt; }
.footnote { font-size: 8.5pt; color: #444; margin-top: 2mm; }
"""

_BRIEFING_TEMPLATE = """
<section class="team" style="--accent: {{ colour }}">
  <h1>Patrol briefing: {{ team }}</h1>
  <div class="sub">{{ day }} &middot; shift {{ shift }} &middot; {{ mode }}</div>
  {% if travel_note %}<p class="small muted">Routes are {{ travel_note }}.</p>{% endif %}
  <table class="facts">
    <tr><td class="k">Team</td><td>{{ roles }}</td></tr>
    <tr><td class="k">Leave base</td><td>{{ depart }}; back by {{ back }}{% if distance %} &middot; {{ distance }} on the route{% endif %}</td></tr>
    {% if break_start %}<tr><td class="k">Break</td><td>{{ break_start }} ({{ break_minutes }} min)</td></tr>{% endif %}
    <tr><td class="k">Stops</td><td>{{ stops|length }} &middot; about {{ dwell }} minutes at each</td></tr>
  </table>
  {% if map_uri %}
  <figure>
    <img src="{{ map_uri }}" alt="Route map for {{ team }}">
    <figcaption>Route from base (B) through the numbered stops. Street network &copy; OpenStreetMap contributors where loaded from OSM.</figcaption>
  </figure>
  {% elif not stops %}
  <p class="muted">No stop in this plan for this team, so there is no route map.</p>
  {% else %}
  <p class="muted">No street network is loaded, so there is no map; use the stop list below.</p>
  {% endif %}

  <h2>Timetable</h2>
  {% if stops %}
  <table>
    <thead><tr><th class="num">Stop</th><th>Hotspot</th><th class="num">Arrive</th><th class="num">Leave</th></tr></thead>
    <tbody>
    <tr class="muted"><td class="num">B</td><td>Leave base</td><td class="num"></td><td class="num">{{ depart }}</td></tr>
    {% for s in stops %}
    <tr><td class="num"><b>{{ s.order }}</b></td><td>{{ s.label }}{% if s.visit > 1 %} <span class="muted">(visit {{ s.visit }})</span>{% endif %}</td>
        <td class="num">{{ s.arrive }}</td><td class="num">{{ s.leave }}</td></tr>
    {% endfor %}
    <tr class="muted"><td class="num">B</td><td>Back at base</td><td class="num">{{ back }}</td><td class="num"></td></tr>
    </tbody>
  </table>
  {% else %}
  <p>This team has no stops in the plan.</p>
  {% endif %}

  {% if stops %}
  <h2>At each stop: reported in the last {{ window_days }} days</h2>
  <p class="small muted">Reports on the hotspot's streets from {{ window_from }} to {{ window_to }}, by category and the hours they were reported at, with the suggested action.</p>
  {% for s in stops %}
  <div class="stopblock">
    <h3><span class="badge" style="background: {{ colour }}">{{ s.order }}</span> {{ s.label }} <span class="muted">&middot; {{ s.arrive }}&ndash;{{ s.leave }}</span></h3>
    {% if s.activity %}
    <table class="fixed">
      <colgroup><col style="width: 27%"><col style="width: 11%"><col style="width: 24%"><col style="width: 38%"></colgroup>
      <thead><tr><th>Category</th><th class="num">Reports</th><th>Hours</th><th>Suggested action</th></tr></thead>
      <tbody>
      {% for a in s.activity %}
      <tr><td>{{ a.label }}</td><td class="num">{{ a.count }}</td><td>{{ a.hours }}</td><td>{{ a.action }}</td></tr>
      {% endfor %}
      </tbody>
    </table>
    {% else %}
    <p class="muted">Nothing reported here in the last {{ window_days }} days.</p>
    {% endif %}
  </div>
  {% endfor %}
  {% endif %}

  <div class="box">
    <h3>Safeguarding and signposting</h3>
    <p>People selling sex are often victims of exploitation and violence. Treat everyone as a potential victim first: be respectful, offer support, and pass welfare concerns to the outreach worker or through the safeguarding process.</p>
    {% if signposting %}<p><b>{{ signposting }}</b></p>{% endif %}
  </div>

  <div class="landscape">
  <h2>Debrief: {{ team }}, {{ day }}</h2>
  <p class="small">Tick what happened at each stop and write the minutes spent there. <b>Write no names, no descriptions of people and no vehicle registrations on this sheet</b>; record those through the normal police channel.</p>
  <table class="debrief fixed">
    <colgroup><col style="width: 5%"><col style="width: 25%"><col style="width: 7%"><col style="width: 7%"><col style="width: 7%"><col style="width: 8%"><col style="width: 8%"><col style="width: 7%"><col style="width: 26%"></colgroup>
    <thead><tr><th class="num">Stop</th><th>Hotspot</th><th>Arrived</th><th>Minutes</th><th>Engaged</th><th>Signposted</th><th>Clean-up asked</th><th>Nothing seen</th><th class="notes">Notes (no personal details)</th></tr></thead>
    <tbody>
    {% for s in stops %}
    <tr><td class="num"><b>{{ s.order }}</b></td><td>{{ s.label }}</td><td></td><td></td>
        <td><span class="tick"></span></td><td><span class="tick"></span></td><td><span class="tick"></span></td><td><span class="tick"></span></td><td class="notes"></td></tr>
    {% endfor %}
    <tr><td class="num"></td><td>Other place</td><td></td><td></td><td><span class="tick"></span></td><td><span class="tick"></span></td><td><span class="tick"></span></td><td><span class="tick"></span></td><td class="notes"></td></tr>
    </tbody>
  </table>
  <p class="footnote">Plan generated {{ generated }}. Hand this sheet back to the shift supervisor at the end of the shift.</p>
  </div>
</section>
"""

_DOC_TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>{{ css }}</style></head>
<body>
{{ body }}
</body></html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def _template(text: str) -> jinja2.Template:
    return _ENV.from_string(text)


def team_section(
    plan: PatrolPlan,
    index: int,
    route: TeamRoute,
    shared: BriefingInputs,
    *,
    segments: pd.DataFrame | None,
    draw_map: bool,
) -> str:
    """Render one team's briefing section (a new printed page).

    Parameters
    ----------
    plan, index, route, shared
        As in :func:`planning.briefing_data.team_context`.
    segments
        Street segments for the map; no map when ``None``.
    draw_map
        Draw the route map.

    Returns
    -------
    str
        An HTML fragment.
    """
    ctx = team_context(plan, index, route, shared)
    if draw_map and (route.stops or route.legs):
        png = route_map_png(route, segments, colour=ctx["colour"])
        ctx["map_uri"] = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return _template(_BRIEFING_TEMPLATE).render(**ctx)


def css_string(text: str) -> str:
    """Quote ``text`` as a CSS string literal, escaping everything but letters, digits and spaces.

    Parameters
    ----------
    text
        Any text, e.g. a team name.

    Returns
    -------
    str
        A double-quoted CSS string that cannot close the string or the ``<style>`` element.
    """
    out = "".join(
        c if (c.isalnum() and c.isascii()) or c == " " else f"\\{ord(c):06x} " for c in text
    )
    return f'"{out}"'


def page_css(title: str, *, marking: str = "") -> str:
    """Return the print stylesheet with ``title`` and ``marking`` in the page header.

    Parameters
    ----------
    title
        Printed at the top left of every page.
    marking
        Printed at the top right (e.g. a protective marking).

    Returns
    -------
    str
    """
    return BASE_CSS.replace("__TITLE__", css_string(title)).replace(
        "__MARKING__", css_string(marking)
    )


def document(title: str, body: str, *, marking: str) -> str:
    """Wrap HTML ``body`` in a complete document with the print stylesheet.

    Parameters
    ----------
    title
        The document title (also printed in the page header).
    body
        The HTML body (trusted: rendered by this package's templates).
    marking
        Protective marking in the page header.

    Returns
    -------
    str
    """
    return _template(_DOC_TEMPLATE).render(
        title=title,
        css=Markup(page_css(title, marking=marking)),
        body=Markup(body),
    )


def html_to_pdf(html: str) -> bytes:
    """Render an HTML document to PDF with WeasyPrint (A4, as its CSS says).

    Parameters
    ----------
    html
        A self-contained HTML document (images as data URIs); no URL is fetched.

    Returns
    -------
    bytes
        The PDF.
    """
    import weasyprint
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
