"""Beatplan's Streamlit entry point: page config, navigation and the shared sidebar."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Beatplan", page_icon="🗺️", layout="wide")

PAGES = [
    st.Page("pages/data.py", title="Data", icon="📥"),
    st.Page("pages/area.py", title="Area", icon="🗺️"),
    st.Page("pages/hotspots.py", title="Hotspots", icon="🔥", default=True),
]

nav = st.navigation(PAGES)
with st.sidebar:
    st.markdown("**Beatplan** · partnership patrol planning")
    st.caption("Single-user local mode: no sign-in is configured.")
nav.run()
