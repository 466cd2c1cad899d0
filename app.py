"""Beatplan's Streamlit entry point: page config, navigation and the shared sidebar."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo.demo import build_demo
from geo.workspace import network_path
from ui.state import auto_demo_enabled, get_store

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
    st.Page("views/patrols.py", title="Patrols", icon=":material/route:", url_path="patrols"),
    st.Page(
        "views/briefings.py", title="Briefings", icon=":material/description:", url_path="briefings"
    ),
    st.Page(
        "views/community.py",
        title="Community summary",
        icon=":material/groups:",
        url_path="community",
    ),
    st.Page("views/settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
]

store = get_store()
if auto_demo_enabled() and store.count_reports() == 0 and store.batches().empty:
    with st.spinner("First start: building the synthetic demo on real Helsinki streets…"):
        build_demo(store, data_dir=network_path().parent)
        store.audit("demo", "synthetic demo on first start", n_rows=store.count_reports())
    st.cache_data.clear()

nav = st.navigation(PAGES)
with st.sidebar:
    st.markdown("**Beatplan** · partnership patrol planning")
    st.caption("Single-user local mode: no sign-in is configured.")
nav.run()
