"""Meeting page: the partner-meeting pack since the last meeting, and the problem-solving log."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta

import streamlit as st

from planning.meeting import meeting_facts, meeting_html
from planning.problems import (
    STATUSES,
    add_problem,
    add_response,
    agencies,
    list_problems,
    update_response,
)
from ui.auth import require
from ui.escape import md_text
from ui.state import (
    current_area,
    data_version,
    document_downloads,
    get_network,
    get_store,
    settings_of,
    synthetic_banner,
)

user = require("meeting")
st.title("Meeting")
st.write(
    "The pack for the bi-monthly partner meeting: what happened at each hotspot since the "
    "last meeting, the patrols planned and delivered, the problems the partnership agreed "
    "to tackle and their actions, and any sign that activity has moved to nearby streets. "
    "It is marked OFFICIAL-SENSITIVE: for the partners at the meeting only."
)
synthetic_banner()

store = get_store()
area = current_area()
if area is None:
    st.info("No area yet: create one on the Area page or import a file on the Data page.")
    st.stop()
period = store.period(area_id=area.area_id)
if period is None:
    st.info("No reports yet: import a file on the Data page.")
    st.stop()
newest = period[1].date()
since = st.date_input(
    "Date of the last meeting",
    value=max(period[0].date(), newest - timedelta(days=61)),
    min_value=period[0].date(),
    max_value=newest,
    format="DD/MM/YYYY",
    key="meeting_since",
)


def _log_key(area_id: str) -> str:
    """A key that changes with every change to the area's problem log."""
    return json.dumps([p.to_json() for p in list_problems(store, area_id=area_id)], default=str)


@st.cache_data(show_spinner="Gathering the pack…", max_entries=8)
def _pack(
    url: str, version: int, area_id: str, since_day: date, log_key: str, overrides: str
) -> tuple[str, list]:
    """The pack's HTML and its hotspots ``[(id, label)]``, per data version and problem log."""
    del url, version, log_key, overrides  # cache keys only
    network = get_network(area_id)
    facts = meeting_facts(store, area, since=since_day, network=network, settings=settings_of(area))
    return meeting_html(facts), [(h.hotspot_id, h.label) for h in facts.hotspots]


try:
    html, hotspots = _pack(
        store.url,
        data_version(store),
        area.area_id,
        since,
        _log_key(area.area_id),
        json.dumps(area.settings, sort_keys=True, default=str),
    )
except ValueError as exc:
    st.error(md_text(exc))
    st.stop()


def _change_log(change: Callable[..., object], *args: object, **options: object) -> None:
    """Make a change to the area's problem log as the signed-in user; a refusal says why."""
    try:
        change(store, *args, area_id=area.area_id, actor=user.email, role=user.role, **options)
    except (ValueError, PermissionError) as exc:
        st.error(md_text(exc))
        return
    st.rerun()


with st.expander("Problem-solving log: add a problem, an action or a status"):
    st.caption(
        "Short text only, about places and what agencies will do: never a name, phone "
        "number, e-mail, vehicle registration or address (such text is refused)."
    )
    labels = dict(hotspots)
    problems = list_problems(store, area_id=area.area_id)
    with st.form("meeting_add_problem", clear_on_submit=True):
        st.markdown("**New problem**")
        title = st.text_input("Title", max_chars=80)
        chosen = st.multiselect(
            "Hotspots", list(labels), format_func=lambda h: f"{h} {labels.get(h, '')}"
        )
        scanning = st.text_input("What was seen (optional)", max_chars=300)
        if st.form_submit_button("Add problem"):
            _change_log(
                add_problem,
                title=title,
                hotspot_ids=chosen,
                known_hotspots=set(labels) | {h for p in problems for h in p.hotspot_ids},
                scanning=scanning,
            )
    if problems:
        with st.form("meeting_add_response", clear_on_submit=True):
            st.markdown("**New action**")
            pid = st.selectbox(
                "Problem",
                [p.problem_id for p in problems],
                format_func=lambda i: f"{i} {next(p.title for p in problems if p.problem_id == i)}",
            )
            agency = st.selectbox("Agency", list(agencies()))
            action = st.text_input("Action", max_chars=200)
            due = st.date_input("Due", value=None, format="DD/MM/YYYY")
            started = st.date_input("Started", value=None, format="DD/MM/YYYY")
            if st.form_submit_button("Add action"):
                _change_log(
                    add_response, pid, agency=agency, action=action, due=due, started=started
                )
    actions = [(p, r) for p in problems for r in p.responses]
    if actions:
        with st.form("meeting_status"):
            st.markdown("**Change an action's status**")
            pick = st.selectbox(
                "Action",
                range(len(actions)),
                format_func=lambda k: f"{actions[k][0].problem_id}: {actions[k][1].action[:60]}",
            )
            status = st.radio("Status", STATUSES, horizontal=True)
            if st.form_submit_button("Save status"):
                _change_log(update_response, actions[pick][1].response_id, status=status)

document_downloads(
    html,
    user=user,
    export="meeting_pack",
    stem=f"meeting-pack-{since:%Y-%m-%d}",
    what=f"meeting pack since {since:%Y-%m-%d}",
    n_rows=len(hotspots),
    preview_height=1400,
)
