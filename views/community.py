"""Community page: the public impact summary for a period of whole months (PDF or HTML)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from geo.area_data import default_categories
from geo.store import plans as plans_table
from planning.impact import release_summary, summary_html
from planning.impact_disclosure import period_text
from planning.impact_ledger import custom_periods
from planning.tracking import patrol_log
from ui.auth import require
from ui.escape import md_text
from ui.state import (
    current_area,
    data_version,
    document_downloads,
    get_network,
    get_settings,
    get_store,
    is_demo,
    network_key,
    synthetic_banner,
)

user = require("community")
st.title("Community summary")
st.write(
    "A summary for residents' meetings and partners: reports by category and month against "
    "the previous period, the streets with most reports, and the patrols delivered. Small "
    "counts are shown as \u201cfewer than 10\u201d and nothing finer than a street or a month "
    "is published. Summaries cover a calendar month or a quarter, and each is checked "
    "against every summary published before, so a hidden count cannot be worked out by "
    "comparing two of them."
)
synthetic_banner()

store = get_store()
settings = get_settings()
area = current_area()
# This page works on the session's area only, and files its releases under that area's ledger
# (the same ledger the command line uses), never under another area's or the blank one.
area_id = area.area_id if area is not None else None
ledger = area_id or ""
period = store.period(area_id=area_id)
if period is None:
    st.info("No reports yet: import a file on the Data page.")
    st.stop()

lo, hi = period
first = pd.Period(lo, freq="M")
last_full = pd.Period(hi, freq="M")
if hi.normalize() < last_full.end_time.normalize():
    last_full -= 1
if last_full < first:
    last_full = first
months = list(pd.period_range(first, pd.Period(hi, freq="M"), freq="M"))
quarters = sorted({(pd.Period(f"{m.year}-{3 * m.quarter - 2:02d}", freq="M")) for m in months})
choices: dict[str, list[tuple[pd.Period, pd.Period]]] = {
    "Month": [(m, m) for m in months],
    "Quarter": [(q, q + 2) for q in quarters],
}
published_custom = [
    (pd.Period(a, freq="M"), pd.Period(b, freq="M")) for a, b in custom_periods(store, area=ledger)
]
if published_custom:
    choices["Published period"] = sorted(published_custom)
c1, c2 = st.columns([1, 2])
with c1:
    kind = st.radio("Summary of a", list(choices), horizontal=True, key="community_kind")
options = choices[kind]
default = next((i for i, (a, b) in enumerate(options) if a <= last_full <= b), len(options) - 1)
with c2:
    start_m, end_m = st.selectbox(
        "Period",
        options,
        index=default,
        format_func=lambda ab: period_text(*ab),
        key=f"community_period_{kind}",
    )
new_period = False
if user.role == "supervisor":
    with st.expander("Publish another period (supervisors)"):
        st.caption(
            "A period that is not a calendar month or quarter can be published once, when it "
            "overlaps no other such period. It is then offered to everyone."
        )
        n1, n2 = st.columns(2)
        own_a = n1.selectbox(
            "From month", months, format_func=lambda p: f"{p:%B %Y}", key="community_own_a"
        )
        own_b = n2.selectbox(
            "To month",
            months,
            index=len(months) - 1,
            format_func=lambda p: f"{p:%B %Y}",
            key="community_own_b",
        )
        if st.button("Publish this period", key="community_publish"):
            st.session_state["community_own"] = (str(own_a), str(own_b))
    own = st.session_state.pop("community_own", None)
    if own is not None:
        start_m, end_m = pd.Period(own[0], freq="M"), pd.Period(own[1], freq="M")
        new_period = True


def _stored_plan_bodies() -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        query = sa.select(plans_table.c.body)
        if area_id is not None:
            query = query.where(plans_table.c.area_id == area_id)
        rows = conn.execute(query).scalars().all()
    out = []
    for body in rows:
        try:
            out.append(json.loads(body))
        except ValueError:
            continue
    return out


@st.cache_data(show_spinner="Counting and checking against earlier summaries...", max_entries=16)
def _summary(
    start: str,
    end: str,
    new_period: bool,
    version: tuple[int, str],
    n_plans: int,
    n_logged: int,
    demo: bool,
    net_key: tuple[str, float],
    area_key: str,
) -> tuple[str, int]:
    """The released summary's HTML and how many earlier figures the data no longer matches.

    Every report is read: the figures published before are checked against today's data.
    """
    try:
        net = get_network()
    except (OSError, ValueError):
        net = None
    segments = None if net is None else net.segments
    del area_key  # cache key only
    log = patrol_log(store, area_id=area_id)[["date", "minutes", "hotspot_id"]]
    figs = release_summary(
        store,
        store.reports(area_id=area_id),
        start=pd.Period(start, freq="M").start_time,
        end=pd.Period(end, freq="M").end_time,
        allow_custom=new_period,
        settings=settings,
        plans=_stored_plan_bodies(),
        visits=log if len(log) else None,
        segments=segments,
        area=ledger,
        categories=default_categories(store, area, settings=settings) if area else None,
    )
    note = (
        "Demo data: these reports are synthetic and describe no real person or event."
        if demo
        else ""
    )
    return summary_html(figs, settings=settings, note=note), figs.stale


with store.engine.connect() as conn:
    n_plans = int(conn.execute(sa.select(sa.func.count()).select_from(plans_table)).scalar_one())
n_logged = len(patrol_log(store, area_id=area_id))
try:
    html, stale = _summary(
        str(start_m),
        str(end_m),
        new_period,
        data_version(store),
        n_plans,
        n_logged,
        is_demo(store),
        network_key(),
        ledger,
    )
except ValueError as exc:
    st.error(md_text(exc))
    st.stop()
if stale and user.role == "supervisor":
    st.caption(
        f"{stale:,} figures published before no longer match the data (reports were imported "
        "late or purged since); they were left out of the check against earlier summaries."
    )
stem = f"community-summary-{start_m}-to-{end_m}"
what = f"community summary {start_m} to {end_m}"


document_downloads(
    html,
    user=user,
    export="community_summary",
    stem=stem,
    what=what,
    n_rows=0,
    # Tall enough for the whole summary (glance, tables, both charts) without a cut-off frame.
    preview_height=2600,
)
