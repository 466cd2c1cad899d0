"""Beatplan's Streamlit entry point: page config, navigation and the shared sidebar."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo.areas import list_areas
from geo.demo import build_demo
from geo.workspace import data_folder
from ui.auth import (
    no_role_page,
    sidebar_account,
    sign_in_page,
    signed_in_user,
    startup_problem,
    visible_pages,
)
from ui.escape import md_text
from ui.state import auto_demo_enabled, choose_area, get_store, sidebar_area

st.set_page_config(
    page_title="Beatplan",
    page_icon=str(Path(__file__).parent / "static" / "beatplan-icon.png"),
    layout="wide",
)

VIEWS = Path(__file__).parent / "views"
PAGE_SPECS: dict[str, dict[str, object]] = {
    "data": {"title": "Data", "icon": ":material/upload_file:"},
    "area": {"title": "Area", "icon": ":material/map:"},
    "hotspots": {"title": "Hotspots", "icon": ":material/local_fire_department:"},
    "patrols": {"title": "Patrols", "icon": ":material/route:"},
    "briefings": {"title": "Briefings", "icon": ":material/description:"},
    "tracking": {"title": "Tracking", "icon": ":material/fact_check:"},
    "community": {"title": "Community summary", "icon": ":material/groups:"},
    "meeting": {"title": "Meeting", "icon": ":material/diversity_3:"},
    "settings": {"title": "Settings", "icon": ":material/settings:"},
    "audit": {"title": "Audit log", "icon": ":material/policy:"},
    "access": {"title": "Access", "icon": ":material/manage_accounts:"},
}
# The first of these the user may open is the landing page.
DEFAULT_ORDER = ("hotspots", "briefings", "community", "audit", "data")


def build_pages(keys: list[str]) -> list:
    """Build the st.Page objects for the pages a role may open (only those whose file exists).

    Parameters
    ----------
    keys
        Page keys of :data:`ui.auth.PAGE_ACCESS`, in menu order.

    Returns
    -------
    list of StreamlitPage
    """
    keys = [k for k in keys if (VIEWS / f"{k}.py").is_file()]
    default = next((k for k in DEFAULT_ORDER if k in keys), keys[0] if keys else None)
    return [
        st.Page(
            f"views/{k}.py",
            url_path=k,
            default=k == default,
            **PAGE_SPECS[k],  # type: ignore[arg-type]
        )
        for k in keys
    ]


# Fail closed: broken sign-in settings, or no sign-in while reachable from the network,
# stop the app here with a plain message and no data.
problem = startup_problem()
if problem:
    st.error(md_text(problem))
    st.stop()
user = signed_in_user()
if user is None:
    # Sign-in is configured and nobody is signed in: a sign-in prompt and no data at all.
    st.navigation([st.Page(sign_in_page, title="Sign in", url_path="sign-in")]).run()
    st.stop()
pages = build_pages(visible_pages(user))
if not pages:
    sidebar_account(user)
    st.navigation([st.Page(no_role_page, title="No access", url_path="no-access")]).run()
    st.stop()

store = get_store()
# Only a store with no area at all gets the demo: once someone sets up an area (or deletes
# the demo area) it never comes back by itself.
if (
    user.role == "supervisor"
    and auto_demo_enabled()
    and not list_areas(store)
    and store.count_reports(all_areas=True) == 0
):
    with st.spinner("First start: building the synthetic demo on real Helsinki streets…"):
        demo = build_demo(store, data_dir=data_folder(), actor=user.email)
        store.audit(
            "demo", "synthetic demo on first start", n_rows=demo["reports"], actor=user.email
        )
    choose_area(str(demo["area_id"]), remember=False)
    st.cache_data.clear()

nav = st.navigation(pages)
with st.sidebar:
    st.markdown("**Beatplan** · partnership patrol planning")
sidebar_area()
sidebar_account(user)
nav.run()
