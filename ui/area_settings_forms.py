"""Settings page editors of an area: bases, saved teams, categories, police.uk mapping, threshold."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from geo.area_settings import POLICE_UK_CRIME_TYPES, SKILLS
from geo.areas import Area, set_area_setting
from geo.settings import KINDS, Settings, slugify
from geo.store import Store
from ui.area_forms import parse_point
from ui.escape import md_text

DAY_WORDS = {-1: "day before", 0: "plan date", 1: "next day"}
TEAM_COLUMNS = ["name", "members", "skills", "base_name", "shift", "day", "mode", "max_stops"]
CATEGORY_HEADERS = {
    "slug": "Category",
    "label": "Label",
    "harm_weight": "Weight (how serious)",
    "kind": "Kind",
    "skill": "Partner skill",
    "suggested_action": "Suggested action",
}


def save_setting(store: Store, area: Area, key: str, value: Any, *, actor: str, what: str) -> bool:
    """Store one area setting (validated, audited); say so on the page. Return success."""
    try:
        set_area_setting(store, area, key, value, actor=actor)
    except ValueError as exc:
        st.error(md_text(f"{what} not saved. {exc}"))
        return False
    st.cache_data.clear()
    st.session_state.settings_saved = f"{what} saved for {area.name}."
    st.rerun()
    return True  # not reached: the page runs again and shows the message


def _split(text: Any) -> list[str]:
    return [p.strip() for p in str(text or "").split(",") if p.strip()]


def _empty(key: str) -> dict[str, Any]:
    """``value=None`` for a number input not yet set (a map click sets it via its key)."""
    return {} if key in st.session_state else {"value": None}


def bases_editor(store: Store, area: Area, settings: Settings, *, actor: str) -> None:
    """Bases: a table to edit, a map to click and a typed point to add one."""
    import folium
    from streamlit_folium import st_folium

    from ui.area_forms import add_area_boundary
    from ui.maps import base_map, text_tooltip, tile_options

    st.subheader("Bases")
    st.caption("Where patrols start and end. Click the map to fill in a new base's position.")
    m = base_map(bounds=area.bbox, **tile_options(settings.maps))
    add_area_boundary(m, area)
    for name, (lon, lat) in settings.bases.items():
        folium.CircleMarker(
            [lat, lon], radius=6, color="#1f4e79", tooltip=text_tooltip(name)
        ).add_to(m)
    clicked = st_folium(
        m, height=360, returned_objects=["last_clicked"], key="bases_map", use_container_width=True
    )
    point = (clicked or {}).get("last_clicked") if isinstance(clicked, dict) else None
    if isinstance(point, dict) and point.get("lng") is not None:
        st.session_state.base_lon = round(float(point["lng"]), 6)
        st.session_state.base_lat = round(float(point["lat"]), 6)
    with st.form("add_base"):
        c1, c2, c3 = st.columns([2, 1, 1])
        name = c1.text_input("New base", key="base_name", placeholder="Central police station")
        lon = c2.number_input("Longitude", key="base_lon", format="%.6f", **_empty("base_lon"))
        lat = c3.number_input("Latitude", key="base_lat", format="%.6f", **_empty("base_lat"))
        add = st.form_submit_button("Add base")
    if add:
        try:
            point_ = parse_point(lon, lat, what="The new base")
            if not area.contains([point_[0]], [point_[1]])[0]:
                msg = f"That point lies outside {area.name}; click inside the dashed boundary."
                raise ValueError(msg)
        except ValueError as exc:
            st.error(md_text(exc))
        else:
            bases = {k: list(v) for k, v in settings.bases.items()}
            bases[str(name)] = point_
            save_setting(store, area, "bases", bases, actor=actor, what="Bases")
    table = pd.DataFrame(
        [{"name": k, "lon": v[0], "lat": v[1]} for k, v in settings.bases.items()],
        columns=["name", "lon", "lat"],
    )
    edited = st.data_editor(
        table,
        num_rows="dynamic",
        hide_index=True,
        key="bases_editor",
        column_config={
            "name": st.column_config.TextColumn("Base", required=True),
            "lon": st.column_config.NumberColumn("Longitude", format="%.6f"),
            "lat": st.column_config.NumberColumn("Latitude", format="%.6f"),
        },
    )
    if st.button("Save bases", key="save_bases"):
        rows = edited.dropna(how="all")
        value = {str(r["name"]): [r["lon"], r["lat"]] for _, r in rows.iterrows()}
        if len(value) != len(rows):
            st.error("Bases not saved. Two bases have the same name; give each its own.")
        else:
            save_setting(store, area, "bases", value, actor=actor, what="Bases")


def _team_rows(area: Area) -> pd.DataFrame:
    rows = []
    for t in area.settings.get("teams") or []:
        rows.append(
            {
                "name": t.get("name", ""),
                "members": ", ".join(map(str, t.get("members") or [])),
                "skills": ", ".join(map(str, t.get("skills") or [])),
                "base_name": t.get("base_name"),
                "shift": t.get("shift", "18:00-22:00"),
                "day": DAY_WORDS.get(int(t.get("day") or 0), "plan date"),
                "mode": t.get("mode", "walk"),
                "max_stops": t.get("max_stops"),
            }
        )
    return pd.DataFrame(rows, columns=TEAM_COLUMNS)


TEAM_KEYS = ("name", "members", "skills", "base_name", "shift", "day", "mode", "max_stops")


def read_teams_file(data: bytes, bases: dict[str, Any]) -> tuple[list[dict], dict[str, list]]:
    """Read a teams file (``beatplan plan --teams``): its teams and any bases it names.

    Parameters
    ----------
    data
        The TOML file's bytes: ``[[team]]`` tables and an optional ``[bases]`` table.
    bases
        The area's bases (a team may name one of them).

    Returns
    -------
    (list of dict, dict)
        The teams in the saved form and the bases to keep (the area's and the file's).

    Raises
    ------
    ValueError
        With a plain message when the file is not a teams file the planner accepts.
    """
    import tomllib
    from datetime import date

    from planning.routes import teams_from_dict

    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = "The teams file is not readable TOML; save it as UTF-8 text like data/examples/hull-teams.toml."
        raise ValueError(msg) from exc
    merged = {str(k): list(v) for k, v in bases.items()}
    merged.update({str(k): list(v) for k, v in (raw.get("bases") or {}).items()})
    teams = []
    for t in raw.get("team") or []:
        t = dict(t) if isinstance(t, dict) else {}
        if "base" in t and "base_name" not in t:  # a base given as [lon, lat]: name it
            merged[f"{t.get('name', 'Team')} base"] = list(t.pop("base"))
            t["base_name"] = f"{t.get('name', 'Team')} base"
        teams.append({k: t[k] for k in (*TEAM_KEYS, "break_minutes") if k in t})
    if not teams:
        msg = "The teams file has no [[team]] table; see data/examples/hull-teams.toml."
        raise ValueError(msg)
    try:
        teams_from_dict({"bases": merged, "team": teams}, date=date.today())
    except (ValueError, TypeError, KeyError) as exc:
        msg = f"The teams file cannot be used: {exc}"
        raise ValueError(msg) from exc
    return teams, merged


def _teams_file(store: Store, area: Area, settings: Settings, *, actor: str) -> None:
    """Load the saved teams (and their bases) from a teams file."""
    up = st.file_uploader(
        "Or load a teams file (TOML)",
        type=["toml"],
        key="teams_file",
        help="The file `beatplan plan --teams` reads: [[team]] tables and optional [bases].",
    )
    if up is None or not st.button("Use this teams file", key="load_teams_file"):
        return
    try:
        teams, bases = read_teams_file(up.getvalue(), dict(settings.bases))
        if bases != {k: list(v) for k, v in settings.bases.items()}:
            area = set_area_setting(store, area, "bases", bases, actor=actor)
    except ValueError as exc:
        st.error(md_text(f"Teams not saved. {exc}"))
        return
    save_setting(store, area, "teams", teams, actor=actor, what="Teams")


def teams_editor(store: Store, area: Area, settings: Settings, *, actor: str) -> None:
    """Saved teams of the area (stored in the database; the Patrols page starts from them)."""
    st.subheader("Saved teams")
    st.caption(
        "The teams the Patrols page starts from in this area. Members are roles, never names."
    )
    bases = list(settings.bases)
    edited = st.data_editor(
        _team_rows(area),
        num_rows="dynamic",
        hide_index=True,
        key="teams_editor",
        column_config={
            "name": st.column_config.TextColumn("Team", required=True),
            "members": st.column_config.TextColumn("Members (roles)"),
            "skills": st.column_config.TextColumn("Skills", help=", ".join(SKILLS)),
            "base_name": st.column_config.SelectboxColumn("Base", options=bases),
            "shift": st.column_config.TextColumn("Shift", help="HH:MM-HH:MM"),
            "day": st.column_config.SelectboxColumn(
                "Shift starts", options=list(DAY_WORDS.values())
            ),
            "mode": st.column_config.SelectboxColumn("Mode", options=["walk", "cycle", "drive"]),
            "max_stops": st.column_config.NumberColumn("Max stops", min_value=0, max_value=20),
        },
    )
    if st.button("Save teams", key="save_teams"):
        days = {v: k for k, v in DAY_WORDS.items()}
        teams = []
        for _, r in edited.dropna(subset=["name"]).iterrows():
            team = {
                "name": str(r["name"]),
                "members": _split(r["members"]),
                "skills": _split(r["skills"]),
                "base_name": None if pd.isna(r["base_name"]) else str(r["base_name"]),
                "shift": str(r["shift"] or "18:00-22:00"),
                "day": days.get(str(r["day"]), 0),
                "mode": str(r["mode"] or "walk"),
            }
            if pd.notna(r["max_stops"]):
                team["max_stops"] = int(r["max_stops"])
            bad = [s for s in team["skills"] if s not in SKILLS]
            if bad:
                st.error(md_text(f"Teams not saved. Skill {bad[0]!r}: use {', '.join(SKILLS)}."))
                return
            teams.append(team)
        save_setting(store, area, "teams", teams, actor=actor, what="Teams")
    _teams_file(store, area, settings, actor=actor)


def categories_editor(store: Store, area: Area, settings: Settings, *, actor: str) -> None:
    """Categories with their weights, kinds, partner skills and suggested actions."""
    st.subheader("Report categories")
    st.caption(
        "The weight says how much each report counts in the hotspot analysis; the partner "
        "skill and suggested action go into briefings.",
        help="The weight is the category's harm weight in the risk score.",
    )
    table = pd.DataFrame(
        [
            {k: getattr(c, "action" if k == "suggested_action" else k) for k in CATEGORY_HEADERS}
            for c in settings.categories.values()
        ],
        columns=list(CATEGORY_HEADERS),
    )
    edited = st.data_editor(
        table,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        key="categories_editor",
        column_config={
            "slug": st.column_config.TextColumn(CATEGORY_HEADERS["slug"], required=True),
            "label": st.column_config.TextColumn(CATEGORY_HEADERS["label"]),
            "harm_weight": st.column_config.NumberColumn(
                CATEGORY_HEADERS["harm_weight"], min_value=0.1, max_value=100.0
            ),
            "kind": st.column_config.SelectboxColumn(CATEGORY_HEADERS["kind"], options=list(KINDS)),
            "skill": st.column_config.SelectboxColumn(
                CATEGORY_HEADERS["skill"], options=list(SKILLS)
            ),
            "suggested_action": st.column_config.TextColumn(CATEGORY_HEADERS["suggested_action"]),
        },
    )
    if st.button("Save categories", key="save_categories"):
        value = {}
        for _, r in edited.dropna(subset=["slug"]).iterrows():
            spec = {k: r[k] for k in CATEGORY_HEADERS if k != "slug" and pd.notna(r[k])}
            spec["action"] = spec.pop("suggested_action", "")
            value[str(r["slug"]).strip()] = spec
        save_setting(store, area, "categories", value, actor=actor, what="Categories")


def police_mapping_editor(store: Store, area: Area, settings: Settings, *, actor: str) -> None:
    """Which of the area's categories each data.police.uk crime type is imported as."""
    st.subheader("data.police.uk crime types")
    st.caption(
        "Each police.uk crime type is imported as one of the area's categories, or kept under "
        "its own name (then left out of the default selection and the public summary)."
    )
    own = {t: slugify(t) for t in POLICE_UK_CRIME_TYPES}
    current = {t: settings.police_crime_types.get(t, own[t]) for t in POLICE_UK_CRIME_TYPES}
    options = sorted(set(settings.categories) | set(own.values()) | set(current.values()))
    table = pd.DataFrame({"crime_type": list(current), "category": list(current.values())})
    edited = st.data_editor(
        table,
        hide_index=True,
        width="stretch",
        key="police_editor",
        disabled=["crime_type"],
        column_config={
            "crime_type": st.column_config.TextColumn("police.uk crime type"),
            "category": st.column_config.SelectboxColumn(
                "Imported as", options=options, required=True
            ),
        },
    )
    if st.button("Save the police.uk mapping", key="save_police"):
        value = dict(zip(edited["crime_type"], edited["category"].astype(str), strict=True))
        save_setting(
            store, area, "police_crime_types", value, actor=actor, what="The police.uk mapping"
        )


def threshold_editor(store: Store, area: Area, settings: Settings, *, actor: str) -> None:
    """The public summary's suppression threshold for the area."""
    st.subheader("Small counts in public summaries")
    current = int(settings.general.get("suppression_threshold", 10) or 10)
    value = st.number_input(
        "Show counts below this as 'fewer than N'",
        min_value=2,
        max_value=100,
        value=current,
        step=1,
        key="threshold_input",
    )
    if st.button("Save the threshold", key="save_threshold"):
        save_setting(
            store, area, "suppression_threshold", int(value), actor=actor, what="The threshold"
        )
