"""Audit log page: who did what and when (imports, exports, views, plans, purges, roles), as CSV."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from ui.auth import audit_csv, require
from ui.state import get_store

ACTION_LABELS = {
    "import": "Import",
    "export": "Export",
    "view": "View of report-level data",
    "plan": "Patrol plan created",
    "purge": "Retention purge",
    "delete": "Deletion",
    "role": "Role change",
    "network": "Street network loaded",
    "demo": "Demo data built",
}
COLUMNS = {"at": "When (UTC)", "actor": "Who", "action": "Action", "what": "What", "n_rows": "Rows"}

user = require("audit")
st.title("Audit log")
st.write(
    "Every import, export, view of report-level data, patrol plan, purge and role change: "
    "who, when, what and how many rows. The log is append-only and never holds report content."
)

store = get_store()
log = store.audit_log()
if log.empty:
    st.info("The audit log is empty.")
    st.stop()

log["at"] = pd.to_datetime(log["at"])
first, last = log["at"].min().date(), log["at"].max().date()
c1, c2, c3 = st.columns([2, 2, 1])
with c1:
    order = list(ACTION_LABELS)
    actions = sorted(
        log["action"].unique(), key=lambda a: (order.index(a) if a in order else len(order), a)
    )
    chosen = st.multiselect(
        "Actions", actions, default=actions, format_func=lambda a: ACTION_LABELS.get(a, a)
    )
with c2:
    period = st.date_input(
        "Period", value=(first, last), min_value=first, max_value=last, format="DD/MM/YYYY"
    )
with c3:
    who = st.text_input("Who contains", placeholder="name@force.police.uk")

start, end = period if isinstance(period, tuple) and len(period) == 2 else (first, last)
shown = log[
    log["action"].isin(chosen)
    & (log["at"] >= pd.Timestamp(start))
    & (log["at"] < pd.Timestamp(end + timedelta(days=1)))
]
if who.strip():
    shown = shown[shown["actor"].str.contains(who.strip(), case=False, regex=False)]

counts = shown["action"].value_counts()
cols = st.columns(4)
for col, action in zip(cols, ("import", "export", "view", "role"), strict=True):
    col.metric(ACTION_LABELS[action], f"{int(counts.get(action, 0)):,}")

table = (
    shown.sort_values("id", ascending=False)[list(COLUMNS)]
    .assign(action=lambda f: f["action"].map(lambda a: ACTION_LABELS.get(a, a)))
    .rename(columns=COLUMNS)
)
st.caption(f"{len(table):,} of {len(log):,} events, newest first.")
st.dataframe(table, hide_index=True, width="stretch")


if user.can_export("audit_log"):
    st.download_button(
        "Download these events (CSV)",
        data=lambda: audit_csv(store, table, actor=user.email),
        file_name=f"beatplan-audit-log-{start:%Y%m%d}-{end:%Y%m%d}.csv",
        mime="text/csv",
        on_click="ignore",
        type="primary",
        key="audit_log_csv",
    )
