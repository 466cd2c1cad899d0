"""Settings page: the area's bases, teams, categories, police.uk mapping and threshold; defaults."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import streamlit as st

from geo.privacy import safe_csv
from geo.settings import DEFAULT_SETTINGS_PATH, Settings
from geo.store import safe_url
from ui.area_settings_forms import (
    bases_editor,
    categories_editor,
    police_mapping_editor,
    teams_editor,
    threshold_editor,
)
from ui.auth import require
from ui.escape import md_text
from ui.state import current_area, get_settings, get_store, reset_selection, synthetic_banner

# (label, settings section, key, unit) of the defaults shown read-only.
DEFAULTS = (
    ("Snapping distance", "snapping", "max_distance_m", "m"),
    ("Recency half-life", "hotspots", "half_life_days", "days"),
    ("Kernel bandwidth", "hotspots", "bandwidth_m", "m"),
    ("Gi* neighbour band", "hotspots", "gi_band_m", "m"),
    ("False discovery rate", "hotspots", "fdr", ""),
    ("Permutations", "hotspots", "permutations", ""),
    ("Minimum reports per hotspot", "hotspots", "min_reports", ""),
    ("Dwell at each stop", "patrols", "dwell_minutes", "minutes"),
    ("Walking speed", "patrols", "walk_kmh", "km/h"),
    ("Route solver time limit", "patrols", "time_limit_s", "s"),
    ("Suppression threshold (public outputs)", "general", "suppression_threshold", "reports"),
    ("Retention period", "general", "retention_months", "months"),
    ("Upload limit", "general", "max_upload_mb", "MB"),
)


def settings_file() -> str:
    """Return the settings file in use (``$BEATPLAN_SETTINGS`` or ``data/settings.toml``).

    Returns
    -------
    str
    """
    return os.environ.get("BEATPLAN_SETTINGS") or str(DEFAULT_SETTINGS_PATH)


def taxonomy_table(settings: Settings) -> pd.DataFrame:
    """The category taxonomy as a table, one row a category.

    Parameters
    ----------
    settings
        The project's settings.

    Returns
    -------
    pandas.DataFrame
    """
    rows = [
        {
            "Category": c.slug,
            "Label": c.label,
            "Weight (how serious)": c.harm_weight,
            "Kind": c.kind,
            "Partner skill": c.skill,
            "Suggested action": c.action,
        }
        for c in settings.categories.values()
    ]
    cols = [
        "Category",
        "Label",
        "Weight (how serious)",
        "Kind",
        "Partner skill",
        "Suggested action",
    ]
    return pd.DataFrame(rows, columns=cols)


def defaults_table(settings: Settings) -> pd.DataFrame:
    """The analysis, patrol and privacy defaults as a table of text values.

    Parameters
    ----------
    settings
        The project's settings.

    Returns
    -------
    pandas.DataFrame
    """
    rows = []
    for label, section, key, unit in DEFAULTS:
        value: Any = getattr(settings, section).get(key)
        shown = "not set" if value is None else f"{value} {unit}".strip()
        rows.append({"Setting": label, "Value": shown, "In settings.toml": f"[{section}] {key}"})
    return pd.DataFrame(rows)


def _purge() -> None:
    """Button callback: purge old reports when the box is ticked, keep the result to show."""
    if not st.session_state.get("purge_confirm"):
        st.session_state.purge_result = {"error": "Tick the confirmation box first."}
        return
    months = int(st.session_state.get("purge_months") or 0)
    try:
        result = get_store().purge(
            older_than_months=months, actor=user.email, area_id=st.session_state.get("area_id")
        )
    except ValueError as exc:
        st.session_state.purge_result = {"error": str(exc)}
        return
    st.session_state.purge_result = {**result, "months": months}
    st.session_state.purge_confirm = False
    reset_selection()
    st.cache_data.clear()  # every cached analysis may hold purged reports


user = require("settings")
st.title("Settings")
synthetic_banner()
store = get_store()
settings = get_settings()
area = current_area()
st.write(
    md_text(
        f"The area's bases, saved teams, categories, police.uk mapping and small-count "
        f"threshold are kept in the database for {area.name if area else 'each area'}; every "
        f"change is checked and recorded in the audit log. A new area starts from the settings "
        f"file {settings_file()}, which also holds the defaults below."
    )
)
saved = st.session_state.pop("settings_saved", None)
if saved:
    st.success(md_text(saved))
if area is None:
    st.info("No area is set up yet: set one up on the Data page.")
    st.subheader("Report categories")
    st.dataframe(taxonomy_table(settings), hide_index=True, width="stretch")
else:
    for editor in (
        bases_editor,
        teams_editor,
        categories_editor,
        police_mapping_editor,
        threshold_editor,
    ):
        editor(store, area, settings, actor=user.email)

st.subheader("Defaults")
st.dataframe(defaults_table(settings), hide_index=True, width="stretch")

st.subheader("Map tiles")
tiles = str(settings.maps.get("tiles") or "none").strip()
if tiles.lower() == "none":
    st.success(
        "Map tiles: **none**. Maps draw the street network as their base layer and send no "
        "request to any third party.",
        icon=":material/shield:",
    )
else:
    st.warning(
        f"Map tiles: an online tile service is in use ({md_text(tiles)}). Every map view asks that "
        "service for tiles, which tells it the area being looked at.",
        icon=":material/public:",
    )
st.caption(
    "An online tile service is opt-in. To use one, set `tiles` under `[maps]` in "
    "`data/settings.toml` to a URL template, e.g. "
    '`tiles = "https://tile.example.org/{z}/{x}/{y}.png"` with its `attribution`; set '
    '`tiles = "none"` to go back to sending nothing.'
)

st.subheader("Database")
batches = store.batches()
c1, c2, c3 = st.columns([3, 1, 1])
c1.metric("Database in use", "SQLite file" if store.is_sqlite else "Server database")
c2.metric("Stored reports", f"{store.count_reports(all_areas=True):,}")
c3.metric("Import batches", f"{len(batches):,}")
st.code(safe_url(store.url), language=None)
st.caption("Set another database with the `BEATPLAN_DB` environment variable.")

st.subheader("Purge old reports")
st.write(
    md_text(
        f"Delete every report of {area.name if area else 'the area'} that occurred before the "
        "retention period; other areas are not touched. This cannot be undone; the purge is "
        "recorded in the audit log."
    )
)
retention = int(settings.general.get("retention_months", 13) or 13)
if "purge_months" not in st.session_state:
    st.session_state.purge_months = retention
st.number_input(
    "Purge reports older than N months", min_value=1, max_value=600, step=1, key="purge_months"
)
st.checkbox(
    f"I understand that reports older than {int(st.session_state.purge_months)} months will "
    "be deleted for good.",
    key="purge_confirm",
)
st.button(
    "Purge reports",
    type="primary",
    key="purge_button",
    on_click=_purge,
    disabled=not st.session_state.get("purge_confirm"),
)
outcome = st.session_state.get("purge_result")
if outcome:
    if "error" in outcome:
        st.error(md_text(outcome["error"]))
    else:
        st.success(
            f"Purged {outcome['purged']:,} reports that occurred before {outcome['cutoff']} "
            f"(older than {outcome['months']} months)."
        )

st.subheader("Audit log")
st.caption("Who imported, exported, purged or planned what, and when (never report content).")
log = store.audit_log()
if log.empty:
    st.info("The audit log is empty.")
else:
    shown = log.sort_values("id", ascending=False)
    st.dataframe(shown, hide_index=True, width="stretch")

    def _audit_csv() -> bytes:
        """Download callback: the audit log as a spreadsheet-safe CSV, and audit the export."""
        data = safe_csv(log, encoding="utf-8")
        store.audit("export", "audit log csv", n_rows=len(log), actor=user.email)
        return data

    st.download_button(
        "Download the audit log (CSV)",
        data=_audit_csv,
        file_name="beatplan-audit-log.csv",
        mime="text/csv",
        on_click="ignore",
        key="audit_csv",
    )
