"""Briefings page: printable per-team patrol briefings (PDF or HTML) from a patrol plan."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from geo.store import plans as plans_table
from planning.briefing import briefings_html
from planning.export import plan_from_json
from ui.auth import require
from ui.escape import md_text
from ui.state import (
    _network_key,
    data_version,
    document_downloads,
    get_network,
    get_settings,
    get_store,
    synthetic_banner,
)

ALL_TEAMS = "All teams"
SESSION_PLAN = "session"

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


def _stored_plans() -> pd.DataFrame:
    q = sa.select(
        plans_table.c.plan_id, plans_table.c.created_at, plans_table.c.plan_date, plans_table.c.body
    ).order_by(plans_table.c.created_at.desc(), plans_table.c.plan_date.desc())
    with store.engine.connect() as conn:
        rows = conn.execute(q).fetchall()
    return pd.DataFrame(rows, columns=["plan_id", "created_at", "plan_date", "body"])


def _as_dict(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def _network_segments() -> Any:
    try:
        net = get_network()
    except (OSError, ValueError) as exc:
        st.warning(
            md_text(f"The saved street network could not be read ({exc}); briefings have no map.")
        )
        return None
    return None if net is None else net.segments


options: dict[str, dict[str, Any]] = {}
labels: dict[str, str] = {}
session_plan = _as_dict(st.session_state.get("plan_json"))
if session_plan is not None:
    options[SESSION_PLAN] = session_plan
    labels[SESSION_PLAN] = f"Plan on the Patrols page ({session_plan.get('date', '?')})"
stored = _stored_plans()
same = json.dumps(session_plan, sort_keys=True) if session_plan is not None else None
for row in stored.itertuples(index=False):
    body = _as_dict(row.body)
    if body is None or json.dumps(body, sort_keys=True) == same:
        continue
    options[row.plan_id] = body
    labels[row.plan_id] = f"{row.plan_date} (saved {pd.Timestamp(row.created_at):%d/%m/%Y %H:%M})"

if not options:
    st.info("No patrol plan yet: plan patrols on the Patrols page first.")
    st.stop()

choice = st.selectbox("Patrol plan", list(options), format_func=lambda k: labels[k])
plan_dict = options[choice]
try:
    plan = plan_from_json(plan_dict)
except (ValueError, TypeError) as exc:
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
    body: str, teams: tuple[str, ...], version: tuple[int, str], net_key: tuple[str, float]
) -> str:
    the_plan = plan_from_json(json.loads(body))
    reports = store.reports(
        start=pd.Timestamp(the_plan.date) - timedelta(days=28), end=pd.Timestamp(the_plan.date)
    )
    hotspots = st.session_state.get("plan_hotspots")
    hotspots = hotspots if isinstance(hotspots, pd.DataFrame) else None
    return briefings_html(
        json.loads(body),
        teams=list(teams),
        segments=_network_segments(),
        reports=reports,
        hotspots=hotspots,
        settings=settings,
    )


net_key = _network_key()
html = _briefing(json.dumps(plan_dict, sort_keys=True), tuple(teams), data_version(store), net_key)
n_stops = sum(len(r.stops) for r in plan.routes if r.team.name in teams)
stem = f"briefing-{plan.date:%Y-%m-%d}-" + (
    "all-teams" if who == ALL_TEAMS else "".join(c if c.isalnum() else "-" for c in who).strip("-")
)
what = f"briefing {plan.date:%Y-%m-%d} ({'all teams' if who == ALL_TEAMS else 'one team'})"


if not net_key[1]:
    st.caption("No street network is saved, so the briefing has no map.")
document_downloads(
    html,
    stem=stem,
    what=what,
    key="brief",
    allowed=user.can_export("briefing"),
    actor=user.email,
    n_rows=n_stops,
)
