"""Hotspots page: segments coloured by risk, hotspot outlines, a ranked table and when they are active."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.hotspots import format_hour_windows
from geo.store import default_db_url
from ui.auth import require
from ui.escape import md_text
from ui.maps import (
    add_legend,
    add_outlines,
    add_segments_by_value,
    add_street_network,
    base_map,
    default_colormap,
    tile_options,
)
from ui.state import (
    current_hotspots,
    data_version,
    get_network,
    get_settings,
    get_store,
    selected_reports,
    sidebar_selection,
    synthetic_banner,
)

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

require("hotspots")
st.title("Hotspots")
synthetic_banner()
settings = get_settings()
sel = sidebar_selection()
if sel.start is None:
    st.info("No reports yet: import partner files on the Data page.")
    st.stop()
if not sel.categories:
    st.warning("Choose at least one category in the sidebar.")
    st.stop()

try:
    hot, mode, seg_table = current_hotspots(sel)
except ValueError as exc:
    st.warning(md_text(exc))
    st.stop()
if hot is None:
    st.info("No reports match the selection in the sidebar; widen the period or categories.")
    st.stop()

network = get_network()
st.caption(
    f"{sel.start:%d %b %Y} to {sel.end:%d %b %Y} · "
    + (
        "street-level hotspots: significant runs of streets (Getis-Ord Gi*, false discovery "
        "rate controlled)"
        if mode == "network"
        else "point mode (no street network loaded): density clusters of reports"
    )
)


table = pd.DataFrame(
    {
        "Hotspot": hot["hotspot_id"],
        "Where": hot["label"],
        "Risk": hot["risk"].round(1),
        "Reports": hot["n_reports"],
        "Main categories": hot["counts"].map(
            lambda c: ", ".join(
                f"{settings.label(k)} {v}" for k, v in sorted(c.items(), key=lambda kv: -kv[1])[:3]
            )
        ),
        "Active hours": hot["active_hours"].map(format_hour_windows),
        "Team needs": hot["skill"]
        .map({"outreach": "outreach worker", "sharps": "sharps team", "police": "PCSO / police"})
        .fillna(hot["skill"]),
    }
)

left, right = st.columns([3, 2])
with left:
    if len(hot):
        w, s, e, n = hot.to_crs(4326).total_bounds
    elif network is not None:
        w, s, e, n = network.segments.total_bounds
    else:
        rep = selected_reports(default_db_url(), data_version(get_store()), sel)
        w, s, e, n = rep["lon"].min(), rep["lat"].min(), rep["lon"].max(), rep["lat"].max()
    pad = 0.002
    m = base_map(bounds=(w - pad, s - pad, e + pad, n + pad), **tile_options(settings.maps))
    if network is not None:
        add_street_network(m, network.segments)
    if seg_table is not None:
        col = "smoothed_risk"
        peak = float(seg_table[col].max()) if len(seg_table) else 0.0
        # Aggregate: only streets with at least 5% of the top risk, at most 3,000 of them.
        risky = seg_table[seg_table[col] >= 0.05 * peak] if peak > 0 else seg_table.iloc[:0]
        top = risky.nlargest(3000, col)
        if len(top):
            cmap = default_colormap(top[col])
            add_segments_by_value(
                m,
                top,
                column=col,
                tooltip_fields={"name": "Street", col: "Risk"},
                colormap=cmap,
                name="Risk by street",
            )
            add_legend(m, cmap, caption="Risk by street (harm-weighted, recent reports count more)")
    if len(hot):
        add_outlines(m, hot, tooltip_fields={"hotspot_id": "Id", "n_reports": "Reports"})
    st_folium(m, height=560, returned_objects=[], key="hotspot_map", use_container_width=True)
with right:
    if hot.empty:
        st.info(
            "No significant hotspot in this selection: reports are spread out, or too few. "
            "Widen the period or add categories."
        )
    else:
        st.markdown(f"**{len(hot)} hotspots**, ranked by risk")
        st.dataframe(
            table, hide_index=True, width="stretch", height=min(520, 35 * (len(table) + 1) + 3)
        )

if not hot.empty:
    st.subheader("When")
    choice = st.selectbox(
        "Hotspot",
        list(hot["hotspot_id"]),
        format_func=lambda h: f"{h} · {hot.set_index('hotspot_id').loc[h, 'label']}",
    )
    row = hot.set_index("hotspot_id").loc[choice]
    profile = np.asarray(row["profile"], dtype=int).reshape(7, 24)
    grid = pd.DataFrame(
        [(DAYS[d], h, int(profile[d, h])) for d in range(7) for h in range(24)],
        columns=["Day", "Hour", "Reports"],
    )
    if profile.sum() == 0:
        st.caption("No report here has a time of day (e.g. police.uk gives the month only).")
    else:
        chart = (
            alt.Chart(grid)
            .mark_rect()
            .encode(
                x=alt.X("Hour:O", title="Hour of day"),
                y=alt.Y("Day:O", sort=DAYS, title=None),
                color=alt.Color("Reports:Q", scale=alt.Scale(scheme="orangered")),
                tooltip=["Day", "Hour", "Reports"],
            )
            .properties(height=220)
        )
        st.altair_chart(chart, width="stretch")
        st.caption(
            f"Active hours (80% of timed reports): {format_hour_windows(list(row['active_hours']))}."
        )
