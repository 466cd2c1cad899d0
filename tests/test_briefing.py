"""Tests for planning.briefing: per-team HTML and PDF briefings."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planning.briefing import (
    briefing_html,
    briefings_html,
    css_string,
    hour_ranges,
    html_to_pdf,
    recent_reports,
    stop_activity,
)
from planning.export import plan_to_json
from planning.routes import PatrolPlan, Stop, Team, TeamRoute
from tests.test_routes import grid_network

DAY = date(2025, 3, 7)
EVIL = "<script>alert(1)</script>"
H_NAMES = ["Anlaby Road", "Park Street", "Argyle Street", "Walton Street", "Selby Street"]
V_NAMES = [
    "Coltman Street",
    "Bean Street",
    "Gordon Street",
    "Wellsted Street",
    "Boulevard",
    "Day Street",
]


def named_network():
    """A 6 x 5 grid whose rows and columns carry street names."""
    seg, nodes = grid_network(6, 5)
    names = []
    for geom, u in zip(seg.geometry, seg["u"], strict=True):
        (_, y0), (_, y1) = geom.coords
        names.append(H_NAMES[int(u) // 6] if abs(y0 - y1) < 1e-12 else V_NAMES[int(u) % 6])
    seg["name"] = names
    seg.loc[seg["name"] == "Anlaby Road", "highway"] = "primary"
    return seg, nodes


def _at(h: int, m: int) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, h, m)


def make_route(
    seg,
    name: str,
    seg_ids,
    *,
    start_h: int = 18,
    members=("PCSO", "PCSO", "Outreach worker"),
    labels=None,
):
    """A route visiting the middle of the given segments, 15 minutes each, 20 minutes apart."""
    base = seg.geometry.iloc[0].coords[0]
    stops, legs, prev, t = [], [], base, _at(start_h, 10)
    for k, s in enumerate(seg_ids, start=1):
        c = seg.geometry.iloc[s].interpolate(0.5, normalized=True)
        label = labels[k - 1] if labels else f"{seg['name'].iloc[s]} (stop {k})"
        stops.append(
            Stop(
                order=k,
                hotspot_id=f"H{s:02d}",
                label=label,
                arrive=t,
                leave=t + timedelta(minutes=15),
                lon=c.x,
                lat=c.y,
                skill="police",
            )
        )
        legs.append(((prev[0], prev[1]), (prev[0], c.y), (c.x, c.y)))
        prev, t = (c.x, c.y), t + timedelta(minutes=35)
    legs.append(((prev[0], prev[1]), (prev[0], base[1]), base))
    team = Team(
        name=name,
        skills=("police", "outreach"),
        base=base,
        shift_start=_at(start_h, 0),
        shift_end=_at(start_h + 4, 0),
        members=tuple(members),
    )
    return TeamRoute(
        team=team,
        stops=tuple(stops),
        legs=tuple(legs),
        distance_m=2400.0,
        depart=_at(start_h, 2),
        back=t,
    )


def make_plan(seg, routes=None) -> PatrolPlan:
    routes = routes or (
        make_route(seg, "Team A", [3, 20, 30]),
        make_route(seg, "Team B", [10, 40], start_h=19),
    )
    return PatrolPlan(
        date=DAY,
        routes=tuple(routes),
        dropped=(),
        risk_covered_share=0.6,
        dwell_minutes=15,
        generated_at=datetime(2025, 3, 6, 12, 0),
    )


def report_frame(rows) -> pd.DataFrame:
    """rows: (category, occurred_at, lon, lat, segment_id, time_known[, location_hint])."""
    out = []
    for k, r in enumerate(rows):
        cat, when, lon, lat, seg_id, known = r[:6]
        hint = r[6] if len(r) > 6 else None
        out.append(
            {
                "report_id": f"r{k:05d}",
                "occurred_at": pd.Timestamp(when),
                "time_known": known,
                "category": cat,
                "source": "police",
                "lon": lon,
                "lat": lat,
                "segment_id": seg_id,
                "location_hint": hint,
                "lsoa_code": None,
                "batch_id": "b1",
            }
        )
    frame = pd.DataFrame(out)
    frame["segment_id"] = frame["segment_id"].astype("Int64")
    frame["occurred_at"] = frame["occurred_at"].astype("datetime64[ns]")
    return frame


def reports_at(seg, seg_id: int, category: str, whens, *, known=True):
    c = seg.geometry.iloc[seg_id].interpolate(0.4, normalized=True)
    return [(category, w, c.x, c.y, seg_id, known) for w in whens]


@pytest.fixture(scope="module")
def net():
    return named_network()


@pytest.fixture(scope="module")
def reports(net):
    seg, _ = net
    rows = []
    rows += reports_at(
        seg, 3, "needles", [datetime(2025, 3, 1, 21, 30), datetime(2025, 3, 2, 22, 10)]
    )
    rows += reports_at(seg, 3, "welfare_concern", [datetime(2025, 2, 20, 23, 5)])
    rows += reports_at(seg, 20, "propositioning", [datetime(2025, 3, 5, 20, 15)])
    rows += reports_at(seg, 20, "propositioning", [datetime(2025, 3, 4)], known=False)
    # Too old (more than 28 days before the plan) and on the plan day itself: not counted.
    rows += reports_at(seg, 3, "asb", [datetime(2025, 1, 1, 21, 0), datetime(2025, 3, 7, 21, 0)])
    return report_frame(rows)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return out.stdout


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_hour_ranges():
    assert hour_ranges([]) == ""
    assert hour_ranges([21, 22, 23, 0, 2]) == "21:00\u201301:00, 02:00\u201303:00"
    assert hour_ranges([5]) == "05:00\u201306:00"
    assert hour_ranges(range(24)) == "all hours"


def test_stop_activity_counts_the_window_on_the_hotspot_segments(net, reports, settings):
    seg, _ = net
    recent = recent_reports(reports, plan_date=DAY)
    assert len(recent) == 5
    c = seg.geometry.iloc[3].interpolate(0.5, normalized=True)
    acts = stop_activity(recent, lon=c.x, lat=c.y, segment_ids=[3], settings=settings)
    by = {a["category"]: a for a in acts}
    assert set(by) == {"needles", "welfare_concern"}
    assert by["needles"]["count"] == 2
    assert by["needles"]["hours"] == "21:00\u201323:00"
    assert by["needles"]["action"] == settings.categories["needles"].action
    c20 = seg.geometry.iloc[20].interpolate(0.5, normalized=True)
    near = stop_activity(recent, lon=c20.x, lat=c20.y, radius_m=60, settings=settings)
    assert near[0]["category"] == "propositioning" and near[0]["count"] == 2
    assert "1 with no time" in near[0]["hours"]


def test_briefing_pdf_has_the_team_stops_times_and_signposting(net, reports, settings, tmp_path):
    seg, _ = net
    plan = make_plan(seg)
    html = briefing_html(plan, "Team A", segments=seg, reports=reports, settings=settings)
    assert "data:image/png;base64," in html
    assert "Team B" not in html
    text = squash(pdf_text(html_to_pdf(html), tmp_path))
    assert "Patrol briefing: Team A" in text
    assert "Friday 7 March 2025" in text and "18:00\u201322:00" in text
    assert "2 \u00d7 PCSO, Outreach worker" in text
    for stop in plan.routes[0].stops:
        assert stop.label in text
        assert f"{stop.arrive:%H:%M}" in text and f"{stop.leave:%H:%M}" in text
    assert "Discarded needles" in text
    assert squash(settings.signposting["text"]) in text
    assert "Debrief" in text and "Page 1 of" in text
    assert "OFFICIAL-SENSITIVE" in text


def test_all_teams_one_document_with_a_page_per_team(net, reports, settings, tmp_path):
    seg, _ = net
    plan = make_plan(seg)
    html = briefings_html(plan_to_json(plan), segments=seg, reports=reports, settings=settings)
    text = pdf_text(html_to_pdf(html), tmp_path)
    pages = text.split("\f")
    starts = [k for k, p in enumerate(pages) if "Patrol briefing: Team" in p]
    assert len(starts) == 2 and starts[0] == 0 and starts[1] > 1


def test_plan_json_segment_ids_are_used(net, reports, settings):
    seg, _ = net
    data = plan_to_json(make_plan(seg))
    data["teams"][0]["stops"][0]["segment_ids"] = [20]  # point stop 1 at the propositioning street
    html = briefing_html(data, "Team A", reports=reports, settings=settings, draw_map=False)
    first = html.split('class="stopblock"')[1]
    assert "Propositioning" in first and "Discarded needles" not in first


def test_hotspot_table_gives_segments(net, reports, settings):
    seg, _ = net
    hotspots = pd.DataFrame({"hotspot_id": ["H03"], "segment_ids": [[3]]})
    html = briefing_html(
        make_plan(seg),
        "Team A",
        reports=reports,
        hotspots=hotspots,
        settings=settings,
        draw_map=False,
    )
    first = html.split('class="stopblock"')[1]
    assert "Discarded needles" in first and "Welfare concern" in first


def test_data_text_is_escaped(net, settings, tmp_path):
    seg, _ = net
    seg = seg.copy()
    seg.loc[3, "name"] = EVIL
    route = make_route(
        seg, f"Team {EVIL}", [3, 20], members=(EVIL,), labels=[EVIL, "Park <b>Street</b>"]
    )
    plan = make_plan(seg, routes=[route])
    rows = reports_at(seg, 3, EVIL, [datetime(2025, 3, 1, 21, 0)])
    html = briefings_html(plan, segments=seg, reports=report_frame(rows), settings=settings)
    assert "<script>" not in html and "<b>Street" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = squash(pdf_text(html_to_pdf(html), tmp_path))
    assert EVIL in text  # shown literally, not run


def test_css_string_cannot_break_out():
    quoted = css_string('a"}</style><script>')
    assert quoted.startswith('"') and quoted.endswith('"')
    inner = quoted[1:-1]
    assert not re.search(r'["<>{}]', inner)


def test_unknown_team_is_a_plain_error(net):
    seg, _ = net
    with pytest.raises(ValueError, match="No team called 'Team Z'"):
        briefing_html(make_plan(seg), "Team Z", draw_map=False)


def test_no_network_still_renders(net, reports, settings):
    seg, _ = net
    html = briefing_html(make_plan(seg), "Team B", reports=reports, settings=settings)
    assert "data:image/png;base64," in html
    assert np.isfinite(len(html))


def _next_day_route(seg) -> TeamRoute:
    """A ``day = 1`` team: its shift (07:00-10:00) starts the morning after the plan date."""
    route = make_route(seg, "Sharps sweep", [5, 12], start_h=7)
    shift = timedelta(days=1)

    def moved(stop: Stop) -> Stop:
        return Stop(**{**stop.__dict__, "arrive": stop.arrive + shift, "leave": stop.leave + shift})

    team = Team(
        **{
            **route.team.__dict__,
            "shift_start": route.team.shift_start + shift,
            "shift_end": route.team.shift_end + shift,
        }
    )
    return TeamRoute(
        team=team,
        stops=tuple(moved(s) for s in route.stops),
        legs=route.legs,
        distance_m=route.distance_m,
        depart=route.depart + shift,
        back=route.back + shift,
    )


def test_a_next_day_team_is_briefed_and_debriefed_with_its_own_date(net, reports, settings):
    seg, _ = net
    plan = make_plan(seg, routes=(make_route(seg, "Team A", [3]), _next_day_route(seg)))
    html = briefing_html(plan, "Sharps sweep", reports=reports, settings=settings, draw_map=False)
    text = squash(re.sub(r"<[^>]+>", " ", html))
    assert "Saturday 8 March 2025" in text  # the plan date is Friday 7 March
    assert "Friday 7 March 2025" not in text
    assert "Debrief: Sharps sweep, Saturday 8 March 2025" in text
    assert "Patrol briefing 08/03/2025: Sharps sweep" in html
    same_day = briefing_html(plan, "Team A", reports=reports, settings=settings, draw_map=False)
    assert "Friday 7 March 2025" in same_day and "Saturday 8 March" not in same_day


def test_a_plan_without_streets_says_its_routes_are_approximate(net, reports, settings):
    seg, _ = net
    plan = make_plan(seg)
    street = briefing_html(plan, "Team A", reports=reports, settings=settings, draw_map=False)
    assert "straight-line" not in street
    body = plan_to_json(plan)
    body["travel"] = "straight-line"
    body["settings"] = {**body["settings"], "travel": "straight-line"}
    html = briefing_html(body, "Team A", reports=reports, settings=settings, draw_map=False)
    assert (
        "Routes are approximate: straight-line distances; load the area's streets for real routes."
        in squash(unescape(html))
    )
