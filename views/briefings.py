"""Briefings page: printable per-team patrol briefings (PDF or HTML) from a patrol plan."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from planning.briefing import briefings_html
from planning.export import plan_from_json
from ui.auth import require
from ui.escape import md_text
from ui.plan_picker import pick_saved_plan
from ui.state import (
    current_area,
    data_version,
    document_downloads,
    get_network,
    get_settings,
    get_store,
    network_key,
    synthetic_banner,
)

ALL_TEAMS = "All teams"

user = require("briefings")
st.title("Briefings")
st.write(
    "A printable briefing for each patrol team: route map, timetable, what was reported at "
    "each stop in the last 28 days with the suggested action, safeguarding and signposting, "
    "and a debrief sheet. Briefings show streets and hours, never a person."
)
synthetic_banner()

store = get_store()
settings = get_settings()
area = current_area()


def _network_segments() -> Any:
    try:
        net = get_network(None if area is None else area.area_id)
    except (OSError, ValueError) as exc:
        st.warning(
            md_text(f"The saved street network could not be read ({exc}); briefings have no map.")
        )
        return None
    return None if net is None else net.segments


picked = pick_saved_plan(area, user=user, key="brief_plan")
if picked is None:
    st.stop()
plan_id, plan_dict = picked
try:
    plan = plan_from_json(plan_dict)
except (ValueError, TypeError, KeyError) as exc:
    st.error(md_text(f"This plan cannot be read: {exc}"))
    st.stop()
if not plan.routes:
    st.info("This plan has no teams; plan patrols on the Patrols page first.")
    st.stop()

team_names = [r.team.name for r in plan.routes]
if user.role == "team":
    # A team sees its own briefing only.
    if not user.team:
        st.info("Your account is not linked to a patrol team yet; ask a supervisor.")
        st.stop()
    if user.team not in team_names:
        st.info(md_text(f"This plan has no route for your team ({user.team})."))
        st.stop()
    who = st.selectbox("Team", [user.team])
else:
    who = st.selectbox("Team", [ALL_TEAMS, *team_names])
teams = team_names if who == ALL_TEAMS else [who]


@st.cache_data(show_spinner="Drawing the briefing...", max_entries=16)
def _briefing(
    body: str,
    teams: tuple[str, ...],
    version: int,
    net_key: tuple[str, float],
    area_key: tuple[str, str],
    plan_key: str,
) -> str:
    del version  # a cache key only
    the_plan = plan_from_json(json.loads(body))
    reports = store.reports(
        start=pd.Timestamp(the_plan.date) - timedelta(days=28),
        end=pd.Timestamp(the_plan.date),
        area_id=area_key[0] or None,
    )
    # The Patrols page's hotspots, only when they are this very plan's.
    hotspots = st.session_state.get("plan_hotspots")
    same = st.session_state.get("plan_hotspots_for") == plan_key
    hotspots = hotspots if same and isinstance(hotspots, pd.DataFrame) else None
    return briefings_html(
        json.loads(body),
        teams=list(teams),
        segments=_network_segments(),
        reports=reports,
        hotspots=hotspots,
        settings=settings,
    )


net_key = network_key(None if area is None else area.area_id)
html = _briefing(
    json.dumps(plan_dict, sort_keys=True),
    tuple(teams),
    data_version(store),
    net_key,
    ("", "{}") if area is None else (area.area_id, json.dumps(area.settings, sort_keys=True)),
    plan_id,
)
n_stops = sum(len(r.stops) for r in plan.routes if r.team.name in teams)
stem = f"briefing-{plan.date:%Y-%m-%d}-" + (
    "all-teams" if who == ALL_TEAMS else "".join(c if c.isalnum() else "-" for c in who).strip("-")
)
what = f"briefing {plan.date:%Y-%m-%d} ({'all teams' if who == ALL_TEAMS else 'one team'})"


if not net_key[1]:
    st.caption(
        "No street network is saved for this area: briefing maps show straight lines between "
        "the stops, without streets."
    )
document_downloads(
    html,
    user=user,
    export="briefing",
    stem=stem,
    what=what,
    n_rows=n_stops,
)
