"""Patrols page: edit the teams on shift, plan joint patrol routes, see and download them."""

from __future__ import annotations

import json
import tomllib
from datetime import date, timedelta

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.settings import DATA_DIR
from planning.export import plan_to_geojson, plan_to_gpx, plan_to_json
from planning.map_export import SKILL_WORDS
from planning.patrol_explain import team_reasons, top_for_revisits
from planning.routes import plan_patrols, teams_from_dict
from planning.travel_straight import APPROXIMATE_NOTE
from ui.auth import require
from ui.escape import html_text, md_text
from ui.maps import add_outlines, add_routes, base_map, tile_options
from ui.state import (
    current_area,
    current_hotspots,
    get_network,
    get_settings,
    get_store,
    sidebar_selection,
    synthetic_banner,
)
from ui.static_layers import street_layer

TEAMS_FILE = DATA_DIR / "demo" / "teams.toml"
COLUMNS = ["name", "members", "skills", "base", "shift", "day", "mode", "max_stops"]
DAY_WORDS = {-1: "day before", 0: "plan date", 1: "next day"}
DAY_WORDS.update({k: f"in {k} days" for k in range(2, 8)})
DAY_NUMBERS = {v: k for k, v in DAY_WORDS.items()}

user = require("patrols")
st.title("Patrols")
synthetic_banner()
settings = get_settings()
store = get_store()
sel = sidebar_selection()
area = current_area()
network = get_network(sel.area_id)
APPROXIMATE = APPROXIMATE_NOTE[:1].upper() + APPROXIMATE_NOTE[1:] + " (Area page)."
if network is None:
    st.info(APPROXIMATE)
if sel.start is None or not sel.categories:
    st.info("No reports selected: import data, or choose categories in the sidebar.")
    st.stop()


@st.cache_data(show_spinner=False)
def _teams_file(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}


# The area's saved teams and bases (Settings page); the demo's teams file only in the demo.
raw = _teams_file(str(TEAMS_FILE)) if area is not None and area.synthetic else {}
if area is not None and area.settings.get("teams"):
    raw = {**raw, "team": area.settings["teams"]}
bases: dict[str, list[float]] = {k: list(v) for k, v in settings.bases.items()}
if area is None or "bases" not in area.settings:
    bases.update({str(k): list(v) for k, v in (raw.get("bases") or {}).items()})
if not bases:
    w, s, e, n = network.segments.total_bounds if network is not None else settings.area_bbox
    bases = {"Centre": [(w + e) / 2, (s + n) / 2]}

if st.session_state.get("team_table_area") != sel.area_id:  # another area: its own teams
    st.session_state.pop("team_table", None)
    st.session_state.pop("plan", None)
    st.session_state.team_table_area = sel.area_id
if "team_table" not in st.session_state:
    rows = []
    for t in raw.get("team") or []:
        rows.append(
            {
                "name": t.get("name", ""),
                "members": ", ".join(t.get("members", [])),
                "skills": ", ".join(t.get("skills", [])),
                "base": t.get("base_name") if t.get("base_name") in bases else next(iter(bases)),
                "shift": t.get("shift", "18:00-22:00"),
                "day": DAY_WORDS.get(int(t.get("day", 0)), "plan date"),
                "mode": t.get("mode", "walk"),
                "max_stops": t.get("max_stops"),
            }
        )
    st.session_state.team_table = pd.DataFrame(
        rows
        or [
            {
                "name": "Foot patrol",
                "members": "PCSO, PCSO",
                "skills": "police",
                "base": next(iter(bases)),
                "shift": "18:00-22:00",
                "day": "plan date",
                "mode": "walk",
            }
        ],
        columns=COLUMNS,
    )

st.subheader("Teams on shift")
edited = st.data_editor(
    st.session_state.team_table,
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
    key="team_editor",
    column_config={
        "name": st.column_config.TextColumn("Team", required=True),
        "members": st.column_config.TextColumn(
            "Members (roles)", help="Roles, never names: PCSO, Outreach worker…"
        ),
        "skills": st.column_config.TextColumn("Skills", help="police, outreach, sharps"),
        "base": st.column_config.SelectboxColumn("Base", options=list(bases), required=True),
        "shift": st.column_config.TextColumn("Shift", help="HH:MM-HH:MM; past midnight is fine"),
        "day": st.column_config.SelectboxColumn(
            "Shift starts",
            options=list(DAY_WORDS.values()),
            help="The day the shift starts: the plan date, or the next day for a night shift",
        ),
        "mode": st.column_config.SelectboxColumn("Mode", options=["walk", "cycle", "drive"]),
        "max_stops": st.column_config.NumberColumn(
            "Max stops",
            help="Optional cap, e.g. to leave police-only stops to another team",
            min_value=0,
            max_value=20,
            step=1,
        ),
    },
)

c1, c2, c3, c4, c5 = st.columns([1, 1, 1, 1.3, 1])
default_day = (sel.end or date.today()) + timedelta(days=1)
plan_date = c1.date_input("Plan date", value=default_day, format="DD/MM/YYYY")
dwell = c2.number_input(
    "Minutes at each hotspot",
    5,
    60,
    int(settings.patrols.get("dwell_minutes", 15)),
    step=5,
    help="10–15 minute stops deter longest (the Koper curve).",
)
limit = c3.number_input(
    "Planning time (seconds)",
    1,
    60,
    int(settings.patrols.get("time_limit_s", 5)),
    help="How long the route search may run; longer can find slightly better routes.",
)
n_repeat = c4.number_input(
    "Repeat visits to the top hotspots",
    0,
    10,
    0,
    help="On a long shift, visit this many of the highest-risk hotspots twice, at least an "
    "hour apart, so the shift is not spent on a single pass.",
)
go = c5.button("Plan patrols", type="primary", width="stretch")


def _split(text: object) -> list[str]:
    return [p.strip() for p in str(text or "").split(",") if p.strip()]


if go:
    try:
        hot, mode, _ = current_hotspots(sel)
        if hot is None or hot.empty:
            st.warning("No hotspots in the selection to patrol; widen the period or categories.")
            st.stop()
        if mode != "network" and network is not None:
            st.warning(
                "Routes need street-level hotspots; load a street network that covers "
                "the reports on the Area page."
            )
            st.stop()
        teams_raw = {
            "bases": bases,
            "team": [
                {
                    "name": str(r["name"]),
                    "members": _split(r["members"]),
                    "skills": _split(r["skills"]),
                    "base_name": str(r["base"]),
                    "shift": str(r["shift"]),
                    "day": DAY_NUMBERS.get(str(r["day"]), 0),
                    "mode": str(r["mode"] or "walk"),
                    **({"max_stops": int(r["max_stops"])} if pd.notna(r["max_stops"]) else {}),
                }
                for _, r in edited.dropna(subset=["name"]).iterrows()
            ],
        }
        teams = teams_from_dict(teams_raw, date=plan_date)
        with st.spinner("Planning routes…"):
            plan = plan_patrols(
                network,
                hot,
                teams,
                date=plan_date,
                dwell_minutes=int(dwell),
                time_limit_s=float(limit),
                revisit=top_for_revisits(hot, n=int(n_repeat)),
                settings=settings,
            )
        body = plan_to_json(plan)
        plan_id = store.save_plan(
            plan_date.isoformat(), json.dumps(body), actor=user.email, area_id=sel.area_id
        )
        st.session_state.plan = plan
        st.session_state.plan_json = body
        st.session_state.plan_hotspots = hot
        st.session_state.plan_id = plan_id  # Briefings and Tracking open this saved plan
        st.session_state.plan_hotspots_for = plan_id
    except ValueError as exc:
        st.error(md_text(f"Could not plan patrols. {exc}"))

plan = st.session_state.get("plan")
if plan is not None:
    hot = st.session_state.get("plan_hotspots")
    st.subheader(f"Plan for {plan.date:%A %-d %b %Y}")
    m1, m2, m3 = st.columns(3)
    m1.metric("Risk covered", f"{plan.risk_covered_share:.0%}")
    m2.metric("Stops", sum(len(r.stops) for r in plan.routes))
    m3.metric("Hotspots not visited", len(plan.dropped))
    if getattr(plan, "travel", "network") == "straight-line" or network is None:
        st.caption(APPROXIMATE)
    for w in plan.warnings:
        st.warning(md_text(w))
    w, s, e, n = network.segments.total_bounds if network is not None else settings.area_bbox
    pts = [p for r in plan.routes for p in r.path]
    if pts:
        xs, ys = zip(*pts, strict=True)
        w, s, e, n = min(xs) - 0.003, min(ys) - 0.002, max(xs) + 0.003, max(ys) + 0.002
    m = base_map(bounds=(w, s, e, n), **tile_options(settings.maps))
    if network is not None:
        street_layer(m, network)
    if hot is not None and len(hot):
        add_outlines(m, hot, tooltip_fields={"hotspot_id": "Id"}, color="#888888", weight=2)
    colors = add_routes(m, plan.routes)
    st_folium(m, height=560, returned_objects=[], key="patrol_map", use_container_width=True)
    reasons = team_reasons(plan, hot) if hot is not None else [""] * len(plan.routes)
    st.html(
        '<div style="display:flex;gap:18px;flex-wrap:wrap">'
        + "".join(
            f'<span><span style="display:inline-block;width:26px;height:6px;'
            f'background:{color};vertical-align:middle;margin-right:6px"></span>'
            f"{html_text(r.team.name)}</span>"
            for r, color in zip(plan.routes, colors, strict=True)
        )
        + "</div>"
    )
    for route, color, why in zip(plan.routes, colors, reasons, strict=True):
        st.html(
            f'<div style="font-weight:600;font-size:1.05rem;margin-top:.6rem">'
            f'<span style="color:{color}">&#9632;</span> {html_text(route.team.name)} · '
            f"{route.shift_date:%a %-d %b} {route.team.shift_start:%H:%M}–{route.team.shift_end:%H:%M} · "
            f"{route.distance_m / 1000:.1f} km</div>"
        )
        if why:
            st.caption(md_text(why))
        if not route.stops:
            st.caption("No stop fits this team's shift and skills.")
            continue
        st.dataframe(
            pd.DataFrame(
                {
                    "Stop": [s.order for s in route.stops],
                    "Hotspot": [s.label for s in route.stops],
                    "Arrive": [f"{s.arrive:%H:%M}" for s in route.stops],
                    "Leave": [f"{s.leave:%H:%M}" for s in route.stops],
                    "Who should go": [SKILL_WORDS.get(s.skill, s.skill) for s in route.stops],
                    "Visit": [s.visit for s in route.stops],
                }
            ),
            hide_index=True,
            width="stretch",
        )
    if plan.dropped:
        st.markdown("**Hotspots not visited**")
        st.dataframe(
            pd.DataFrame(plan.dropped, columns=["Hotspot", "Where", "Why"]),
            hide_index=True,
            width="stretch",
        )
    if not user.can_export("patrol_plan"):
        st.stop()
    d1, d2, d3 = st.columns(3)
    stem = f"patrol-plan-{plan.date:%Y-%m-%d}"

    def _audit(kind: str) -> None:
        store.audit("export", f"patrol plan {kind}", n_rows=len(plan.routes), actor=user.email)

    d1.download_button(
        "Plan (JSON)",
        json.dumps(plan_to_json(plan), indent=1),
        file_name=f"{stem}.json",
        mime="application/json",
        on_click=_audit,
        args=("json",),
    )
    d2.download_button(
        "Routes (GeoJSON)",
        json.dumps(plan_to_geojson(plan)),
        file_name=f"{stem}.geojson",
        mime="application/geo+json",
        on_click=_audit,
        args=("geojson",),
    )
    d3.download_button(
        "Routes (GPX)",
        plan_to_gpx(plan),
        file_name=f"{stem}.gpx",
        mime="application/gpx+xml",
        on_click=_audit,
        args=("gpx",),
    )
