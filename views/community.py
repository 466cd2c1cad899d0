"""Community page: the public impact summary for a period of whole months (PDF or HTML)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from geo.store import plans as plans_table
from planning.impact import summary_figures, summary_html
from planning.tracking import patrol_log
from ui.auth import require
from ui.state import (
    _network_key,
    data_version,
    document_downloads,
    get_network,
    get_settings,
    get_store,
    is_demo,
    synthetic_banner,
)

user = require("community")
st.title("Community summary")
st.write(
    "A summary for residents' meetings and partners: reports by category and month against "
    "the previous period, the streets with most reports, and the patrols delivered. Small "
    "counts are shown as \u201cfewer than 10\u201d and nothing finer than a street or a month "
    "is published."
)
synthetic_banner()

store = get_store()
settings = get_settings()
period = store.period()
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
default_end = months.index(last_full)
default_start = max(0, default_end - 1)
c1, c2 = st.columns(2)
with c1:
    start_m = st.selectbox(
        "From month", months, index=default_start, format_func=lambda p: f"{p:%B %Y}"
    )
with c2:
    end_m = st.selectbox("To month", months, index=default_end, format_func=lambda p: f"{p:%B %Y}")
if end_m < start_m:
    st.error("The end month is before the start month; choose a later end month.")
    st.stop()


def _stored_plan_bodies() -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(plans_table.c.body)).scalars().all()
    out = []
    for body in rows:
        try:
            out.append(json.loads(body))
        except ValueError:
            continue
    return out


@st.cache_data(show_spinner="Counting...", max_entries=16)
def _summary(
    start: str,
    end: str,
    version: tuple[int, str],
    n_plans: int,
    n_logged: int,
    demo: bool,
    net_key: tuple[str, float],
) -> str:
    try:
        net = get_network()
    except (OSError, ValueError):
        net = None
    segments = None if net is None else net.segments
    log = patrol_log(store)[["date", "minutes", "hotspot_id"]]
    a = pd.Period(start, freq="M")
    b = pd.Period(end, freq="M")
    n = (b - a).n + 1
    reports = store.reports(start=(a - max(n, 12)).start_time, end=(b + 1).start_time)
    figs = summary_figures(
        reports,
        start=a.start_time,
        end=b.end_time,
        settings=settings,
        plans=_stored_plan_bodies(),
        visits=log if len(log) else None,
        segments=segments,
    )
    note = (
        "Demo data: these reports are synthetic and describe no real person or event."
        if demo
        else ""
    )
    return summary_html(figs, settings=settings, note=note)


with store.engine.connect() as conn:
    n_plans = int(conn.execute(sa.select(sa.func.count()).select_from(plans_table)).scalar_one())
n_logged = len(patrol_log(store))
html = _summary(
    str(start_m),
    str(end_m),
    data_version(store),
    n_plans,
    n_logged,
    is_demo(store),
    _network_key(),
)
stem = f"community-summary-{start_m}-to-{end_m}"
what = f"community summary {start_m} to {end_m}"


document_downloads(
    html,
    stem=stem,
    what=what,
    key="summary",
    allowed=user.can_export("community_summary"),
    actor=user.email,
    n_rows=0,
)
