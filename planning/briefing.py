"""Team patrol briefings: per-team HTML and PDF with route map, timetable, recent activity and debrief."""

from __future__ import annotations

import base64
import io
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup
from shapely.geometry import LineString

from geo.settings import Settings, load_settings
from planning.export import plan_from_json
from planning.routes import PatrolPlan, TeamRoute

#: Team colours on maps and headings (print-safe, distinguishable in greyscale order).
TEAM_COLOURS = (
    "#1f5fa8",
    "#c0392b",
    "#1e8449",
    "#7d3c98",
    "#d35400",
    "#117a8b",
    "#6e4b2a",
    "#b03a78",
)
MODE_LABELS = {"walk": "On foot", "cycle": "Cycle", "drive": "Vehicle"}
#: Protective marking printed in the page header of briefings.
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0
_MAJOR = {"motorway", "trunk", "primary", "secondary"}
_MEDIUM = {"tertiary", "unclassified", "residential", "living_street"}

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


def _as_plan(
    plan: PatrolPlan | Mapping[str, Any],
) -> tuple[PatrolPlan, dict[tuple[str, int], list[int]]]:
    """Return the plan object and any per-stop segment ids carried by a plan JSON."""
    if isinstance(plan, PatrolPlan):
        return plan, {}
    if isinstance(plan, Mapping):
        extra: dict[tuple[str, int], list[int]] = {}
        for t in plan.get("teams", []):
            for s in t.get("stops", []):
                if s.get("segment_ids") is not None:
                    extra[(str(t.get("name")), int(s.get("order", 0)))] = [
                        int(x) for x in s["segment_ids"]
                    ]
        return plan_from_json(dict(plan)), extra
    msg = f"Expected a PatrolPlan or its JSON dict, got {type(plan).__name__}."
    raise ValueError(msg)


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else load_settings()


def team_colour(index: int) -> str:
    """Return the colour used for the team at position ``index`` in the plan.

    Parameters
    ----------
    index
        The team's position in ``plan.routes``.

    Returns
    -------
    str
        A hex colour.
    """
    return TEAM_COLOURS[index % len(TEAM_COLOURS)]


def _route_of(plan: PatrolPlan, team_name: str) -> tuple[int, TeamRoute]:
    for k, route in enumerate(plan.routes):
        if route.team.name == team_name:
            return k, route
    names = ", ".join(r.team.name for r in plan.routes) or "none"
    msg = f"No team called {team_name!r} in this plan; the teams are: {names}."
    raise ValueError(msg)


def _roles(members: Sequence[str]) -> str:
    if not members:
        return "Roles not given"
    counts = Counter(m.strip() for m in members if m.strip())
    return ", ".join(f"{n} \u00d7 {role}" if n > 1 else role for role, n in counts.items())


def _hhmm(dt: datetime | None) -> str:
    return "" if dt is None else f"{dt:%H:%M}"


def _day(d: Date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def hour_ranges(hours: Iterable[int]) -> str:
    """Describe a set of clock hours as ranges, e.g. ``"21:00\u201300:00, 02:00\u201303:00"``.

    Runs of consecutive hours are joined, wrapping round midnight.

    Parameters
    ----------
    hours
        Hours 0..23 (repeats ignored).

    Returns
    -------
    str
        ``""`` when there are no hours.
    """
    hs = sorted({int(h) % 24 for h in hours})
    if not hs:
        return ""
    if len(hs) == 24:
        return "all hours"
    runs: list[list[int]] = []
    for h in hs:
        if runs and h == runs[-1][-1] + 1:
            runs[-1].append(h)
        else:
            runs.append([h])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 23:
        runs[0] = runs.pop() + runs[0]
    runs.sort(key=lambda r: r[0] if r[0] >= 12 else r[0] + 24)
    return ", ".join(f"{r[0]:02d}:00\u2013{(r[-1] + 1) % 24:02d}:00" for r in runs)


def _distance_m(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> np.ndarray:
    dx = (lon - lon0) * _M_PER_DEG_LON * math.cos(math.radians(lat0))
    dy = (lat - lat0) * _M_PER_DEG_LAT
    return np.hypot(dx, dy)


def recent_reports(
    reports: pd.DataFrame, *, plan_date: Date, window_days: int = 28
) -> pd.DataFrame:
    """Keep the reports of the ``window_days`` days before ``plan_date``.

    Parameters
    ----------
    reports
        The report table (CONTRACTS).
    plan_date
        The patrol date; reports on that day itself are left out.
    window_days
        Length of the look-back window.

    Returns
    -------
    pandas.DataFrame
    """
    if reports is None or len(reports) == 0:
        return pd.DataFrame(columns=["category", "occurred_at", "time_known", "lon", "lat"])
    end = pd.Timestamp(plan_date)
    start = end - pd.Timedelta(days=window_days)
    when = pd.to_datetime(reports["occurred_at"])
    return reports.loc[(when >= start) & (when < end)]


def stop_activity(
    recent: pd.DataFrame,
    *,
    lon: float,
    lat: float,
    segment_ids: Sequence[int] | None = None,
    radius_m: float = 100.0,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Summarise the reports at one stop by category: count, hours and suggested action.

    Parameters
    ----------
    recent
        Reports already limited to the look-back window (:func:`recent_reports`).
    lon, lat
        The stop.
    segment_ids
        The hotspot's street segments; reports on them are counted. When omitted, reports
        within ``radius_m`` of the stop are counted instead.
    radius_m
        Radius for the fallback.
    settings
        Category labels and actions.

    Returns
    -------
    list of dict
        ``{"category", "label", "count", "hours", "action"}``, most reported first.
    """
    settings = _settings(settings)
    if recent is None or len(recent) == 0:
        return []
    if segment_ids:
        seg = (
            pd.to_numeric(recent["segment_id"], errors="coerce") if "segment_id" in recent else None
        )
        mask = seg.isin([int(s) for s in segment_ids]).to_numpy() if seg is not None else None
    else:
        mask = None
    if mask is None:
        d = _distance_m(
            recent["lon"].to_numpy(dtype=float), recent["lat"].to_numpy(dtype=float), lon, lat
        )
        mask = d <= radius_m
    here = recent.loc[mask]
    out: list[dict[str, Any]] = []
    for cat, grp in here.groupby(here["category"].astype(str), sort=False):
        timed = grp.loc[grp["time_known"].astype(bool)] if "time_known" in grp else grp
        hours = hour_ranges(pd.to_datetime(timed["occurred_at"]).dt.hour.tolist())
        untimed = len(grp) - len(timed)
        if untimed:
            extra = f"{untimed} with no time"
            hours = f"{hours}; {extra}" if hours else extra
        cfg = settings.categories.get(str(cat))
        out.append(
            {
                "category": str(cat),
                "label": settings.label(str(cat)),
                "count": len(grp),
                "hours": hours,
                "action": cfg.action
                if cfg and cfg.action
                else "Record through the normal channel.",
            }
        )
    out.sort(key=lambda a: (-a["count"], a["label"]))
    return out


# ------------------------------------------------------------------------------------------
# Map
# ------------------------------------------------------------------------------------------


def _nice_scale(span_m: float) -> int:
    for step in (50, 100, 200, 250, 500, 1000, 2000, 5000):
        if step >= span_m / 6:
            return step
    return 10_000


def _base_marker(ax: Any, at: np.ndarray, letter: str, colour: str) -> None:
    """A square base marker with a letter (B for the base, E for a different end base)."""
    ax.scatter(
        [at[0]], [at[1]], marker="s", s=150, color=colour, edgecolor="white", lw=1.2, zorder=6
    )
    ax.text(
        at[0],
        at[1],
        letter,
        color="white",
        ha="center",
        va="center",
        fontsize=7.5,
        weight="bold",
        zorder=7,
    )


def route_map_png(
    route: TeamRoute,
    segments: pd.DataFrame | None,
    *,
    colour: str = TEAM_COLOURS[0],
    width_in: float = 7.2,
    height_in: float = 4.6,
    dpi: int = 200,
    max_labels: int = 10,
) -> bytes:
    """Draw one team's route on the street network as a PNG (no web tiles).

    Grey streets (wider for main roads), the route in the team colour, numbered stops, the base
    as ``B``, and the names of the main streets near the route.

    Parameters
    ----------
    route
        The team's route.
    segments
        Street segments (CONTRACTS ``net.segments``); ``None`` draws the route alone.
    colour
        The route colour.
    width_in, height_in, dpi
        Figure size.
    max_labels
        At most this many street names.

    Returns
    -------
    bytes
        The PNG image.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patheffects as pe
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    base = route.team.base
    finish = route.team.finish_base
    path = route.path or [base, *[(s.lon, s.lat) for s in route.stops], finish]
    pts = np.array([*path, base, finish, *[(s.lon, s.lat) for s in route.stops]], dtype=float)
    lon0, lat0 = float(np.mean(pts[:, 0])), float(np.mean(pts[:, 1]))
    kx = _M_PER_DEG_LON * math.cos(math.radians(lat0))
    ky = _M_PER_DEG_LAT

    def xy(arr: np.ndarray) -> np.ndarray:
        arr = np.asarray(arr, dtype=float).reshape(-1, 2)
        return np.column_stack([(arr[:, 0] - lon0) * kx, (arr[:, 1] - lat0) * ky])

    p = xy(pts)
    xmin, ymin = p.min(axis=0)
    xmax, ymax = p.max(axis=0)
    pad = max(120.0, 0.08 * max(xmax - xmin, ymax - ymin))
    xmin, xmax, ymin, ymax = xmin - pad, xmax + pad, ymin - pad, ymax + pad
    # Fit the figure's aspect ratio.
    want = width_in / height_in
    w, h = xmax - xmin, ymax - ymin
    if w / h < want:
        grow = (h * want - w) / 2
        xmin, xmax = xmin - grow, xmax + grow
    else:
        grow = (w / want - h) / 2
        ymin, ymax = ymin - grow, ymax + grow

    rc = {"font.family": ["Liberation Sans", "DejaVu Sans"], "font.size": 7}
    with matplotlib.rc_context(rc):
        fig = plt.figure(figsize=(width_in, height_in), dpi=dpi)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        ax.set_aspect("equal")
        ax.set_axis_off()
        fig.patch.set_facecolor("white")

        if segments is not None and len(segments):
            lo_lon, hi_lon = lon0 + xmin / kx, lon0 + xmax / kx
            lo_lat, hi_lat = lat0 + ymin / ky, lat0 + ymax / ky
            view = segments.cx[lo_lon:hi_lon, lo_lat:hi_lat]
            if len(view):
                geoms = np.asarray(view.geometry.values)
                coords, idx = shapely.get_coordinates(geoms, return_index=True)
                local = xy(coords)
                splits = np.flatnonzero(np.diff(idx)) + 1
                lines = np.split(local, splits)
                hw = view["highway"].astype(str).to_numpy() if "highway" in view else None
                widths = np.full(len(lines), 0.6)
                colours = np.full(len(lines), "#c8c8c8", dtype=object)
                if hw is not None:
                    present = np.unique(idx)
                    hw_lines = hw[present]
                    widths = np.where(
                        np.isin(hw_lines, list(_MAJOR)),
                        2.2,
                        np.where(np.isin(hw_lines, list(_MEDIUM)), 1.1, 0.6),
                    )
                    colours = np.where(np.isin(hw_lines, list(_MAJOR)), "#a9a9a9", "#c4c4c4")
                ax.add_collection(
                    LineCollection(lines, linewidths=widths, colors=list(colours), zorder=1)
                )
                _label_streets(ax, view, xy, path, max_labels=max_labels, pe=pe)

        route_xy = xy(np.array(path, dtype=float))
        ax.plot(
            route_xy[:, 0], route_xy[:, 1], color="white", lw=5.5, zorder=3, solid_capstyle="round"
        )
        ax.plot(
            route_xy[:, 0],
            route_xy[:, 1],
            color=colour,
            lw=2.8,
            zorder=4,
            solid_capstyle="round",
            solid_joinstyle="round",
        )
        # Direction arrows at the middle of each leg.
        for leg in route.legs:
            lx = xy(np.array(leg, dtype=float)) if len(leg) >= 2 else None
            if lx is None:
                continue
            seglen = np.hypot(*np.diff(lx, axis=0).T)
            if seglen.sum() < 60:
                continue
            cum = np.concatenate([[0], np.cumsum(seglen)])
            k = int(np.searchsorted(cum, cum[-1] / 2)) - 1
            k = min(max(k, 0), len(lx) - 2)
            a, b = lx[k], lx[k + 1]
            mid = (a + b) / 2
            ax.annotate(
                "",
                xy=mid + (b - a) * 0.01,
                xytext=mid - (b - a) * 0.01,
                arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 0, "mutation_scale": 16},
                zorder=5,
            )

        _base_marker(ax, xy(np.array([base]))[0], "B", "#222")
        if route.team.end_base is not None and route.team.end_base != base:
            _base_marker(ax, xy(np.array([route.team.end_base]))[0], "E", "#555")
        seen: dict[tuple[float, float], int] = {}
        for s in route.stops:
            sx = xy(np.array([(s.lon, s.lat)]))[0]
            key = (round(s.lon, 5), round(s.lat, 5))
            n = seen.get(key, 0)
            seen[key] = n + 1
            off = np.array([n * 0.018 * (xmax - xmin), 0.0])
            ax.scatter(
                [sx[0] + off[0]],
                [sx[1] + off[1]],
                s=230,
                color=colour,
                edgecolor="white",
                lw=1.5,
                zorder=8,
            )
            ax.text(
                sx[0] + off[0],
                sx[1] + off[1],
                str(s.order),
                color="white",
                ha="center",
                va="center",
                fontsize=8,
                weight="bold",
                zorder=9,
            )
        # Scale bar and north arrow.
        step = _nice_scale(xmax - xmin)
        x0, y0 = xmin + 0.03 * (xmax - xmin), ymin + 0.05 * (ymax - ymin)
        ax.plot([x0, x0 + step], [y0, y0], color="#222", lw=2, zorder=10, solid_capstyle="butt")
        label = f"{step} m" if step < 1000 else f"{step / 1000:g} km"
        ax.text(
            x0 + step / 2,
            y0 + 0.015 * (ymax - ymin),
            label,
            ha="center",
            va="bottom",
            fontsize=7,
            zorder=10,
            path_effects=[pe.withStroke(linewidth=2.5, foreground="white")],
        )
        nx_, ny_ = xmax - 0.04 * (xmax - xmin), ymax - 0.12 * (ymax - ymin)
        ax.annotate(
            "N",
            xy=(nx_, ny_ + 0.08 * (ymax - ymin)),
            xytext=(nx_, ny_),
            ha="center",
            va="top",
            fontsize=9,
            weight="bold",
            arrowprops={"arrowstyle": "-|>", "color": "#222", "lw": 1.2},
            zorder=10,
        )
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
        plt.close(fig)
    return buf.getvalue()


def _label_streets(
    ax: Any,
    view: pd.DataFrame,
    xy: Any,
    path: Sequence[tuple[float, float]],
    *,
    max_labels: int,
    pe: Any,
) -> None:
    """Write the names of the longest named streets within 80 m of the route."""
    if "name" not in view or len(path) < 2:
        return
    names = view["name"].fillna("").astype(str).str.strip()
    named = view.loc[names.ne("")]
    if named.empty:
        return
    route_line = LineString(xy(np.array(path, dtype=float)))
    geoms = np.asarray(named.geometry.values)
    local = shapely.transform(geoms, lambda c: xy(c))
    near = shapely.distance(local, route_line) <= 80.0
    if not near.any():
        return
    lengths = shapely.length(local)
    frame = pd.DataFrame(
        {
            "name": names.loc[named.index].to_numpy(),
            "len": lengths,
            "near": near,
            "k": np.arange(len(named)),
        }
    )
    near_len = frame.loc[frame["near"]].groupby("name")["len"].sum().sort_values(ascending=False)
    placed: list[tuple[float, float]] = []
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    span = max(xlim[1] - xlim[0], ylim[1] - ylim[0])
    for name in near_len.index[:max_labels]:
        rows = frame.loc[(frame["name"] == name) & frame["near"]].sort_values(
            "len", ascending=False
        )
        for k in rows["k"]:
            line = local[int(k)]
            if line.length < 0.04 * span:
                continue
            mid = line.interpolate(0.5, normalized=True)
            if not (xlim[0] < mid.x < xlim[1] and ylim[0] < mid.y < ylim[1]):
                continue
            if any(math.hypot(mid.x - px, mid.y - py) < 0.08 * span for px, py in placed):
                continue
            a = line.interpolate(max(0.0, 0.5 - 0.1), normalized=True)
            b = line.interpolate(min(1.0, 0.5 + 0.1), normalized=True)
            angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
            if angle > 90:
                angle -= 180
            elif angle < -90:
                angle += 180
            ax.text(
                mid.x,
                mid.y,
                name,
                rotation=angle,
                rotation_mode="anchor",
                ha="center",
                va="center",
                fontsize=6.8,
                color="#333",
                style="italic",
                zorder=2,
                path_effects=[pe.withStroke(linewidth=2.2, foreground="white")],
            )
            placed.append((mid.x, mid.y))
            break


# ------------------------------------------------------------------------------------------
# HTML and PDF
# ------------------------------------------------------------------------------------------


def _segment_lookup(hotspots: pd.DataFrame | None) -> dict[str, list[int]]:
    if hotspots is None or len(hotspots) == 0 or "segment_ids" not in hotspots:
        return {}
    out: dict[str, list[int]] = {}
    for hid, segs in zip(hotspots["hotspot_id"].astype(str), hotspots["segment_ids"], strict=True):
        if segs is None or (isinstance(segs, float) and math.isnan(segs)):
            continue
        vals = [int(x) for x in list(segs)]
        if vals:
            out[hid] = vals
    return out


def _team_section(
    plan: PatrolPlan,
    index: int,
    route: TeamRoute,
    *,
    segments: pd.DataFrame | None,
    recent: pd.DataFrame,
    seg_lookup: Mapping[str, list[int]],
    stop_segments: Mapping[tuple[str, int], list[int]],
    settings: Settings,
    window_days: int,
    radius_m: float,
    draw_map: bool,
) -> str:
    colour = team_colour(index)
    team = route.team
    stops_ctx = []
    for s in route.stops:
        segs = stop_segments.get((team.name, s.order)) or seg_lookup.get(s.hotspot_id)
        stops_ctx.append(
            {
                "order": s.order,
                "label": s.label,
                "visit": s.visit,
                "arrive": _hhmm(s.arrive),
                "leave": _hhmm(s.leave),
                "activity": stop_activity(
                    recent,
                    lon=s.lon,
                    lat=s.lat,
                    segment_ids=segs,
                    radius_m=radius_m,
                    settings=settings,
                ),
            }
        )
    map_uri = ""
    if draw_map and (route.stops or route.legs):
        png = route_map_png(route, segments, colour=colour)
        map_uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    window_to = plan.date - timedelta(days=1)
    window_from = plan.date - timedelta(days=window_days)
    return _template(_BRIEFING_TEMPLATE).render(
        colour=colour,
        team=team.name,
        day=_day(plan.date),
        shift=f"{_hhmm(team.shift_start)}\u2013{_hhmm(team.shift_end)}",
        mode=MODE_LABELS.get(team.mode, team.mode),
        roles=_roles(team.members),
        depart=_hhmm(route.depart),
        back=_hhmm(route.back),
        distance=f"{route.distance_m / 1000:.1f} km" if route.distance_m else "",
        break_start=_hhmm(route.break_start),
        break_minutes=team.break_minutes,
        dwell=plan.dwell_minutes,
        stops=stops_ctx,
        map_uri=map_uri,
        window_days=window_days,
        window_from=f"{window_from.day} {window_from:%b %Y}",
        window_to=f"{window_to.day} {window_to:%b %Y}",
        signposting=str((settings.signposting or {}).get("text", "")),
        generated=f"{plan.generated_at:%d/%m/%Y %H:%M}",
    )


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


def _document(title: str, body: str, *, marking: str) -> str:
    return _template(_DOC_TEMPLATE).render(
        title=title,
        css=Markup(page_css(title, marking=marking)),
        body=Markup(body),
    )


def briefings_html(
    plan: PatrolPlan | Mapping[str, Any],
    *,
    teams: Sequence[str] | None = None,
    segments: pd.DataFrame | None = None,
    reports: pd.DataFrame | None = None,
    hotspots: pd.DataFrame | None = None,
    settings: Settings | None = None,
    window_days: int = 28,
    radius_m: float = 100.0,
    marking: str = DEFAULT_MARKING,
    draw_map: bool = True,
) -> str:
    """Render the briefings of several teams as one self-contained HTML document.

    Each team starts on a new printed page.

    Parameters
    ----------
    plan
        The patrol plan, or its JSON dict (:func:`planning.export.plan_to_json`); stops in the
        JSON may carry ``segment_ids``.
    teams
        Team names to include, in plan order; all teams when omitted.
    segments
        Street segments (CONTRACTS) for the map; no map when omitted.
    reports
        The report table; stops show what was reported there in the look-back window.
    hotspots
        The hotspot table, used to find each stop's ``segment_ids``. Without it (and without
        ``segment_ids`` in the plan) reports within ``radius_m`` of the stop are used.
    settings
        Labels, actions and the signposting text; the project settings by default.
    window_days
        Look-back window before the plan date.
    radius_m
        Radius around a stop when its segments are unknown.
    marking
        Protective marking in the page header.
    draw_map
        Draw the route maps.

    Returns
    -------
    str
        The HTML document (images inlined as data URIs).

    Raises
    ------
    ValueError
        When a team name is not in the plan or the plan has no teams.
    """
    the_plan, stop_segments = _as_plan(plan)
    settings = _settings(settings)
    if not the_plan.routes:
        msg = "The plan has no teams, so there is nothing to brief."
        raise ValueError(msg)
    chosen = list(teams) if teams is not None else [r.team.name for r in the_plan.routes]
    picked = [_route_of(the_plan, name) for name in chosen]
    recent = recent_reports(reports, plan_date=the_plan.date, window_days=window_days)
    seg_lookup = _segment_lookup(hotspots)
    body = "\n".join(
        _team_section(
            the_plan,
            k,
            route,
            segments=segments,
            recent=recent,
            seg_lookup=seg_lookup,
            stop_segments=stop_segments,
            settings=settings,
            window_days=window_days,
            radius_m=radius_m,
            draw_map=draw_map,
        )
        for k, route in picked
    )
    who = chosen[0] if len(chosen) == 1 else "all teams"
    title = f"Patrol briefing {the_plan.date:%d/%m/%Y}: {who}"
    return _document(title, body, marking=marking)


def briefing_html(
    plan: PatrolPlan | Mapping[str, Any],
    team_name: str,
    *,
    segments: pd.DataFrame | None = None,
    reports: pd.DataFrame | None = None,
    hotspots: pd.DataFrame | None = None,
    settings: Settings | None = None,
    window_days: int = 28,
    radius_m: float = 100.0,
    marking: str = DEFAULT_MARKING,
    draw_map: bool = True,
) -> str:
    """Render one team's briefing as a self-contained HTML document.

    Parameters
    ----------
    plan
        The patrol plan or its JSON dict.
    team_name
        The team.
    segments, reports, hotspots, settings, window_days, radius_m, marking, draw_map
        As in :func:`briefings_html`.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        When the team is not in the plan.
    """
    return briefings_html(
        plan,
        teams=[team_name],
        segments=segments,
        reports=reports,
        hotspots=hotspots,
        settings=settings,
        window_days=window_days,
        radius_m=radius_m,
        marking=marking,
        draw_map=draw_map,
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
