"""Beatplan's Streamlit entry point: page config, navigation and the shared sidebar."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

st.set_page_config(
    page_title="Beatplan",
    page_icon=str(Path(__file__).parent / "static" / "beatplan-icon.png"),
    layout="wide",
)

PAGES = [
    st.Page("views/data.py", title="Data", icon=":material/upload_file:", url_path="data"),
    st.Page("views/area.py", title="Area", icon=":material/map:", url_path="area"),
    st.Page(
        "views/hotspots.py", title="Hotspots", icon=":material/local_fire_department:", default=True
    ),
]

nav = st.navigation(PAGES)
with st.sidebar:
    st.markdown("**Beatplan** · partnership patrol planning")
    st.caption("Single-user local mode: no sign-in is configured.")
nav.run()
