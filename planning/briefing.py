"""Team patrol briefings: per-team HTML and PDF with route map, timetable, recent activity and debrief.

The work is split by concern: :mod:`planning.briefing_map` (the route map),
:mod:`planning.briefing_data` (the page data) and :mod:`planning.briefing_render` (stylesheet,
templates and PDF). This module keeps the entry points :func:`briefings_html` and
:func:`briefing_html` and re-exports the public names of the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from geo.settings import Settings
from planning.briefing_data import MODE_LABELS as MODE_LABELS
from planning.briefing_data import (
    BriefingInputs,
    as_plan,
    resolve_settings,
    route_of,
    segment_lookup,
)
from planning.briefing_data import hour_ranges as hour_ranges
from planning.briefing_data import recent_reports as recent_reports
from planning.briefing_data import stop_activity as stop_activity
from planning.briefing_map import TEAM_COLOURS as TEAM_COLOURS
from planning.briefing_map import route_map_png as route_map_png
from planning.briefing_map import team_colour as team_colour
from planning.briefing_render import BASE_CSS as BASE_CSS
from planning.briefing_render import DEFAULT_MARKING, document, team_section
from planning.briefing_render import css_string as css_string
from planning.briefing_render import html_to_pdf as html_to_pdf
from planning.briefing_render import page_css as page_css
from planning.routes import PatrolPlan


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
    the_plan, stop_segments = as_plan(plan)
    settings = resolve_settings(settings)
    if not the_plan.routes:
        msg = "The plan has no teams, so there is nothing to brief."
        raise ValueError(msg)
    chosen = list(teams) if teams is not None else [r.team.name for r in the_plan.routes]
    picked = [route_of(the_plan, name) for name in chosen]
    recent = recent_reports(reports, plan_date=the_plan.date, window_days=window_days)
    shared = BriefingInputs(
        recent, segment_lookup(hotspots), stop_segments, settings, window_days, radius_m
    )
    body = "\n".join(
        team_section(the_plan, k, route, shared, segments=segments, draw_map=draw_map)
        for k, route in picked
    )
    who = chosen[0] if len(chosen) == 1 else "all teams"
    day = picked[0][1].team.shift_start.date() if len(picked) == 1 else the_plan.date
    title = f"Patrol briefing {day:%d/%m/%Y}: {who}"
    return document(title, body, marking=marking)


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
        The HTML document.

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
