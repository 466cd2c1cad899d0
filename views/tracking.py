"""Tracking page: GPX tracks or manual entries turned into patrol dosage per hotspot, against the plan."""

from __future__ import annotations

from datetime import date

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from planning.export import plan_from_json
from planning.tracking import (
    EFFECT_CAVEAT,
    clean_track,
    dosage_by_week,
    effect_estimate,
    hotspot_visits,
    log_patrol,
    match_plan,
    patrol_log,
    plan_stop_hotspots,
    read_tracks,
    save_visits,
    synthetic_track,
)
from ui.auth import patrol_team, require
from ui.escape import md_text
from ui.maps import add_outlines, add_street_network, base_map, text_tooltip, tile_options
from ui.plan_picker import pick_saved_plan
from ui.state import current_area, get_network, get_settings, get_store, synthetic_banner

TRACK_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e")
STATUS_LABELS = {"done": "Done", "short": "Short", "missed": "Missed"}


def _whole(minutes: pd.Series) -> pd.Series:
    """Minutes as whole numbers (missing stays missing)."""
    return pd.to_numeric(minutes, errors="coerce").round(0).astype("Int64")


def _lateness(delta: object) -> str:
    """Arrival against the plan in words: '3 min late', '2 min early', 'on time'."""
    value = pd.to_numeric(delta, errors="coerce")
    if pd.isna(value):
        return "not reached"
    mins = round(float(value))
    if mins == 0:
        return "on time"
    return f"{abs(mins)} min {'late' if mins > 0 else 'early'}"


user = require("tracking")
st.title("Tracking")
st.caption(
    "How long teams actually spent in each hotspot against the plan: a 10–15 minute stop "
    "deters; a walk or drive past barely does. Tracks are reduced to visits and never stored."
)
synthetic_banner()
settings = get_settings()
store = get_store()
area = current_area()
try:
    network = get_network(None if area is None else area.area_id)
except Exception:  # a broken network file must not break this page
    network = None


def _current_plan():  # -> (PatrolPlan | None, plan id | None): the area's saved plan picked
    picked = pick_saved_plan(area, user=user, key="track_plan")
    if picked is None:
        return None, None
    try:
        return plan_from_json(picked[1]), picked[0]
    except (ValueError, TypeError, KeyError) as exc:
        st.error(md_text(f"This saved patrol plan cannot be read. {exc}"))
        return None, None


plan, plan_id = _current_plan()
visits = pd.DataFrame()
hot = None
if plan is None:
    st.info(
        "No patrol plan yet: plan patrols on the Patrols page first, then upload the teams' "
        "GPX tracks here to compare what was done with what was planned. Teams without GPS "
        "can still record patrols by hand below."
    )
else:
    hot = st.session_state.get("plan_hotspots")
    if hot is None or len(hot) == 0 or st.session_state.get("plan_hotspots_for") != plan_id:
        hot = plan_stop_hotspots(plan)  # the Patrols page's hotspots belong to another plan
    teams = [r.team.name for r in plan.routes]
    if user.role == "team":  # a team records only its own patrols
        teams = [t for t in teams if t == user.team]
        if not teams:
            st.info("This plan has no route for your team.")
            st.stop()
    st.subheader(f"Plan for {plan.date:%A %-d %b %Y}")
    c1, c2 = st.columns([2, 1])
    team = c1.selectbox("Team whose tracks these are", teams, key="track_team")
    files = c1.file_uploader(
        "GPX tracks from the patrol", type=["gpx"], accept_multiple_files=True, key="track_files"
    )
    c2.write("")
    if c2.button("Use a demo track", help="A synthetic walk along this team's planned route"):
        try:
            gpx = synthetic_track(plan, team, seed=7)
            st.session_state.tracking_demo = (f"demo-{team}.gpx", gpx.encode("utf-8"), team)
        except ValueError as exc:
            st.error(md_text(exc))
    items = [(f.name, f.getvalue()) for f in files or []]
    demo = st.session_state.get("tracking_demo")
    if demo is not None and demo[2] == team:
        items.append((demo[0], demo[1]))
        st.caption("Using a synthetic demo track: it describes no real patrol.")
    fixes = pd.DataFrame()
    track_read = False
    if items:
        route = next(r for r in plan.routes if r.team.name == team)
        try:
            fixes = read_tracks(items, plan=plan)
            for warning in fixes.attrs.get("warnings", []):
                st.warning(md_text(warning))
            fixes = clean_track(fixes, mode=route.team.mode)
            segments = network.segments if network is not None else None
            visits = hotspot_visits(fixes, hot, segments)
            visits["team"] = team
            track_read = True
        except (ValueError, FileNotFoundError) as exc:
            st.error(md_text(f"Could not read the track. {exc}"))
            fixes = pd.DataFrame()
            visits = pd.DataFrame()
        except Exception:  # never show a traceback for a bad upload
            st.error("Could not read the track; check it is a GPX file recorded by the device.")
            fixes = pd.DataFrame()
            visits = pd.DataFrame()

    if not fixes.empty:
        w, s, e, n = (
            fixes["lon"].min() - 0.002,
            fixes["lat"].min() - 0.001,
            fixes["lon"].max() + 0.002,
            fixes["lat"].max() + 0.001,
        )
        m = base_map(bounds=(w, s, e, n), **tile_options(settings.maps))
        if network is not None:
            add_street_network(m, network.segments)
        add_outlines(m, hot, tooltip_fields={"hotspot_id": "Id"}, color="#888888", weight=2)
        if not visits.empty:
            seen = hot[hot["hotspot_id"].isin(visits["hotspot_id"])]
            add_outlines(
                m,
                seen,
                tooltip_fields={"hotspot_id": "Id"},
                name="Visited hotspots",
                color="#2ca02c",
                weight=6,
            )
        for k, (name, grp) in enumerate(fixes.groupby(["track", "segment"], sort=False)):
            folium.PolyLine(
                list(zip(grp["lat"], grp["lon"], strict=True)),
                color=TRACK_COLORS[k % len(TRACK_COLORS)],
                weight=3,
                opacity=0.8,
                tooltip=text_tooltip(f"{team}: {name[0]}"),
            ).add_to(m)
        st_folium(m, height=480, returned_objects=[], key="track_map", use_container_width=True)

    if items and not track_read:
        st.info(
            "No stop is marked delivered or missed: the track could not be read. Upload the "
            "GPX file the device recorded, or record the patrol by hand below."
        )
    if items and track_read:
        table = match_plan(visits, plan)
        table = table[table["team"] == team]
        st.subheader("Planned and delivered minutes")
        st.dataframe(
            pd.DataFrame(
                {
                    "Team": table["team"],
                    "Stop": table["order"],
                    "Hotspot": table["label"],
                    "Planned arrival": table["planned_arrive"].dt.strftime("%H:%M"),
                    "Planned (min)": _whole(table["planned_minutes"]),
                    "Delivered (min)": _whole(table["delivered_minutes"]),
                    "Status": table["status"].map(STATUS_LABELS),
                    "Arrival": table["arrival_delta_min"].map(_lateness),
                }
            ),
            hide_index=True,
            width="stretch",
            key="dosage_table",
        )
        done = int((table["status"] == "done").sum())
        st.caption(
            f"{done} of {len(table)} planned stops delivered in full (at least 80% of the "
            "planned dwell). Visits under 2 minutes count as passing by."
        )
        if not visits.empty:
            extra = visits[~visits["hotspot_id"].isin(table["hotspot_id"])]
            if len(extra):
                st.caption(f"Also {len(extra)} visit(s) to hotspots outside this team's plan.")
            if st.button("Save these visits to the patrol log", type="primary"):
                try:
                    n_saved = 0
                    for name, grp in visits.groupby("track", sort=False):
                        n_saved += save_visits(
                            store,
                            grp,
                            team=patrol_team(user, team),
                            source_file=str(name),
                            actor=user.email,
                        )
                    st.success(f"Saved {n_saved} visit(s); the track itself is not kept.")
                except ValueError as exc:
                    st.error(md_text(exc))
                except Exception:
                    st.error("Could not save the visits to the database; try again.")

st.subheader("Record a patrol by hand")
with st.form("manual_log", clear_on_submit=True):
    f1, f2, f3, f4 = st.columns(4)
    team_names = [r.team.name for r in plan.routes] if plan is not None else []
    if user.role == "team":  # a team records patrols only for its own team
        m_team = f1.text_input("Team", value=user.team or "", disabled=True)
    else:
        m_team = f1.text_input("Team", value=team_names[0] if team_names else "")
    m_date = f2.date_input(
        "Date", value=plan.date if plan is not None else date.today(), format="DD/MM/YYYY"
    )
    has_hot = hot is not None and len(hot)  # only the area's hotspots are offered
    hot_ids = hot["hotspot_id"].astype(str) if has_hot else pd.Series([], dtype=str)
    options = dict(zip(hot_ids, hot["label"].astype(str) if has_hot else [], strict=True))
    m_hot = f3.selectbox(
        "Hotspot", list(options), format_func=lambda h: f"{h}: {options.get(h, '')}"
    )
    m_min = f4.number_input("Minutes", min_value=1, max_value=720, value=15, step=5)
    if st.form_submit_button("Save patrol"):
        try:
            log_patrol(
                store,
                team=patrol_team(user, m_team),
                date=m_date,
                hotspot_id=m_hot or "",
                minutes=m_min,
                actor=user.email,
                hotspot_ids=list(options),
            )
            st.success("Patrol recorded.")
        except ValueError as exc:
            st.error(md_text(exc))
        except Exception:
            st.error("Could not save the patrol to the database; try again.")

st.subheader(
    "Time in hotspots over the weeks",
    help="Patrol dosage: minutes spent inside each hotspot, summed by week.",
)
try:
    log = patrol_log(store)
except Exception:
    log = pd.DataFrame()
    st.error("Could not read the patrol log from the database.")
if log.empty:
    st.caption("No patrols recorded yet: save a track's visits or record a patrol by hand.")
else:
    weekly = dosage_by_week(log)
    chart = weekly.pivot_table(
        index="week", columns="hotspot_id", values="minutes", aggfunc="sum", fill_value=0
    )
    chart.index = chart.index.strftime("%-d %b %Y")
    st.bar_chart(chart, y_label="Minutes in hotspot", x_label="Week starting")
    shown = log[["date", "team", "hotspot_id", "minutes", "source_file"]].sort_values(
        "date", ascending=False
    )
    shown["date"] = pd.to_datetime(shown["date"]).dt.strftime("%-d %b %Y")
    shown["minutes"] = _whole(shown["minutes"])
    st.dataframe(
        shown.rename(
            columns={
                "date": "Date",
                "team": "Team",
                "hotspot_id": "Hotspot",
                "minutes": "Minutes",
                "source_file": "From",
            }
        ),
        hide_index=True,
        width="stretch",
    )

    st.subheader("Effect on reports")
    effect_hot = st.session_state.get("plan_hotspots")
    if effect_hot is None or len(effect_hot) == 0:
        st.caption("Plan patrols first: the effect compares the plan's hotspots with each other.")
    else:
        starts = log.dropna(subset=["hotspot_id"]).groupby("hotspot_id")["date"].min().to_dict()
        period = store.period()
        first_start = min(pd.Timestamp(v) for v in starts.values()) if starts else None
        try:
            if period is None or first_start is None or period[1] < first_start:
                msg = (
                    "Too early to tell: no reports have been imported yet for the weeks after "
                    "patrols began. Import the partners' next files, then look again."
                )
                raise ValueError(msg)
            effect = effect_estimate(store.reports(), effect_hot, starts, weeks=8)
        except ValueError as exc:
            st.caption(md_text(exc))
        else:
            st.dataframe(
                effect.rename(
                    columns={
                        "group": "Hotspots",
                        "hotspots": "How many",
                        "before_per_week": "Reports a week before",
                        "after_per_week": "Reports a week after",
                        "change": "Change",
                    }
                ).round(2),
                hide_index=True,
                width="stretch",
            )
            st.caption(EFFECT_CAVEAT)
