"""The Data page's area parts: 'Set up your area' (first run) and the area's imports with delete."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from geo.areas import Area
from geo.ingest import delete_import
from geo.store import Store
from ui.area_forms import (
    BOX_EXAMPLE,
    STREET_TYPES,
    drawn_bbox,
    parse_bases,
    parse_bbox,
    set_up_area,
)
from ui.escape import md_text
from ui.state import choose_area, get_settings, reset_selection, session_areas

HOW = ("Type a box", "Upload a boundary file", "Draw a rectangle on the map")
#: Great Britain, for the drawing map when no area gives a better view.
GB_BOX = (-8.2, 49.9, 1.8, 58.7)
MAX_DELETE_ROWS = 50
IMPORT_HEADERS = {
    "imported_at": "Imported",
    "file_name": "File",
    "source": "Source",
    "format": "Format",
    "rows_read": "Rows read",
    "accepted": "Accepted",
    "duplicates": "Duplicates",
    "rejected": "Rejected",
    "off_network": "Off the street network",
    "purged": "Deleted by purges since",
}


def _draw_map() -> tuple[float, float, float, float] | None:
    """A map to draw the area's rectangle on; return the last rectangle drawn (or kept)."""
    import folium.plugins
    from streamlit_folium import st_folium

    from ui.area_forms import add_area_boundary
    from ui.maps import base_map, tile_options

    areas = session_areas()
    settings = get_settings()
    bounds = settings.area_bbox if not areas else None
    if areas:
        boxes = [a.bbox for a in areas]
        bounds = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
    m = base_map(bounds=bounds or GB_BOX, **tile_options(settings.maps))
    for area in areas:
        add_area_boundary(m, area, name="Existing area")
    folium.plugins.Draw(
        draw_options={
            "polyline": False,
            "polygon": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
        },
        edit_options={"edit": False},
    ).add_to(m)
    result = st_folium(
        m,
        height=420,
        returned_objects=["last_active_drawing", "all_drawings"],
        key="setup_draw",
        use_container_width=True,
    )
    box = drawn_bbox(result)
    if box is not None:
        st.session_state.setup_drawn = box
    box = st.session_state.get("setup_drawn")
    if box is None:
        st.caption("Draw a rectangle with the square button on the map's left.")
    else:
        st.caption("Drawn box: " + ",".join(f"{v:.5f}" for v in box))
    return box


def _boundary_inputs(how: str) -> dict[str, Any]:
    """The boundary widgets for the chosen way; return ``bbox``/``boundary`` (unchecked)."""
    if how == HOW[0]:
        text = st.text_input(
            "Box: min_lon, min_lat, max_lon, max_lat",
            key="setup_bbox",
            placeholder=BOX_EXAMPLE,
            help="Longitudes and latitudes in degrees, west, south, east, north.",
        )
        return {"bbox_text": text}
    if how == HOW[1]:
        up = st.file_uploader(
            "Boundary file (GeoJSON or GeoPackage)",
            type=["geojson", "json", "gpkg"],
            key="setup_boundary",
            help="A polygon of the area, e.g. a ward or beat boundary exported from a GIS.",
        )
        return {"boundary": None if up is None else up.getvalue(), "missing": up is None}
    return {"drawn": _draw_map()}


def _set_up(store: Store, user: Any, inputs: dict[str, Any]) -> None:
    """Check the form and create the area; a plain error on the page otherwise."""
    try:
        bbox = boundary = None
        if "bbox_text" in inputs:
            bbox = parse_bbox(inputs["bbox_text"])
        elif "drawn" in inputs:
            bbox = inputs["drawn"]
            if bbox is None:
                msg = "Draw the area's rectangle on the map first (or type its box)."
                raise ValueError(msg)
        elif inputs.get("missing"):
            msg = "Choose the boundary file first (GeoJSON or GeoPackage)."
            raise ValueError(msg)
        else:
            boundary = inputs["boundary"]
        bases = parse_bases(st.session_state.get("setup_bases", ""))
        street = st.session_state.get("setup_streets")
        with st.spinner("Setting up the area…"):
            area, net = set_up_area(
                store,
                st.session_state.get("setup_name", ""),
                bbox=bbox,
                boundary=boundary,
                bases=bases or None,
                street_file=None if street is None else (street.name, street.getvalue()),
                actor=user.email,
            )
    except ValueError as exc:
        st.error(md_text(f"The area was not set up. {exc}"))
        return
    choose_area(area.area_id)
    st.session_state.pop("setup_drawn", None)
    st.cache_data.clear()
    done = f"{area.name} is set up and is now the current area."
    if net is not None:
        done += f" Its street network has {net['segments']:,} street segments."
    st.session_state.setup_done = done
    st.rerun()


def setup_section(store: Store, *, user: Any, has_real_area: bool) -> None:
    """'Set up your area' for supervisors: prominent until the store has a real area.

    Parameters
    ----------
    store
        The store.
    user
        The signed-in supervisor.
    has_real_area
        Whether the store holds an area that is not the demo (then the form is folded).
    """
    done = st.session_state.pop("setup_done", None)
    if done:
        st.success(md_text(done))
    if has_real_area:
        box = st.expander("Set up another area")
    else:
        box = st.container(border=True)
        with box:
            st.subheader("Set up your area")
            st.write(
                "Beatplan shows a synthetic demo until your own area is set up: give it a "
                "name and a boundary, then import your partners' files into it. The street "
                "network and bases are optional and can be added later."
            )
    with box:
        st.text_input("Area name", key="setup_name", placeholder="Kingston upon Hull")
        how = st.radio("Boundary", HOW, key="setup_how", horizontal=True)
        inputs = _boundary_inputs(how)
        st.file_uploader(
            "Street network file (optional)",
            type=list(STREET_TYPES),
            key="setup_streets",
            help="An OpenStreetMap extract (.osm.pbf, e.g. from Geofabrik) or a line layer "
            "such as OS Open Roads (GeoPackage/GeoJSON); clipped to the area.",
        )
        st.text_area(
            "Bases (optional)",
            key="setup_bases",
            placeholder="Police station: -0.3367, 53.7446",
            help="Where patrols start and end, one a line: Name: longitude, latitude.",
        )
        if st.button("Set up area", type="primary", key="setup_go"):
            _set_up(store, user, inputs)


def _file_label(row: Any, names: dict[str, str]) -> str:
    shown = names.get(row.batch_id)
    return f"{shown} ({row.file_name})" if shown else str(row.file_name)


def _delete(store: Store, batch_id: str, area_id: str, actor: str, label: str) -> None:
    """Button callback: delete one import of the area (audited), keep the outcome to show."""
    st.session_state.pop("delete_import", None)
    try:
        out = delete_import(store, batch_id, actor=actor, area_id=area_id)
    except ValueError as exc:
        st.session_state.delete_done = ("error", str(exc))
        return
    reset_selection()
    st.cache_data.clear()
    text = f"Deleted the import {label} and its {out['reports']:,} reports."
    st.session_state.delete_done = ("success", text)


def imports_section(store: Store, area: Area, *, user: Any) -> None:
    """The area's imports (file, source, when, accepted/duplicates/rejected), each deletable.

    Parameters
    ----------
    store
        The store.
    area
        The session's area.
    user
        The signed-in user; only a supervisor deletes.
    """
    st.subheader(md_text(f"Imports in {area.name}"))
    outcome = st.session_state.pop("delete_done", None)
    if outcome:
        (st.success if outcome[0] == "success" else st.error)(md_text(outcome[1]))
    batches = store.batches(area_id=area.area_id)
    if batches.empty:
        st.caption("Nothing imported yet into this area.")
        return
    names = st.session_state.get("import_names", {})
    show = batches.assign(
        file_name=[_file_label(r, names) for r in batches.itertuples(index=False)],
        imported_at=pd.to_datetime(batches["imported_at"]).dt.strftime("%d/%m/%Y %H:%M"),
        purged=batches["purged"].fillna(0).astype(int),
    )[list(IMPORT_HEADERS)].rename(columns=IMPORT_HEADERS)
    st.dataframe(show, hide_index=True, width="stretch", key="imports_table")
    st.caption(
        md_text(f"{store.count_reports(area_id=area.area_id):,} reports stored in {area.name}.")
    )
    if user.role != "supervisor":
        return
    with st.expander("Delete an import"):
        st.caption(
            "Deleting an import removes every report it added. It cannot be undone and is "
            "recorded in the audit log."
        )
        rows = list(batches.head(MAX_DELETE_ROWS).itertuples(index=False))
        labels = {r.batch_id: _file_label(r, names) for r in rows}
        for r in rows:
            left, right = st.columns([5, 1])
            left.markdown(
                md_text(
                    f"{labels[r.batch_id]} · {r.source} · "
                    f"{pd.Timestamp(r.imported_at):%d/%m/%Y %H:%M} · {int(r.accepted):,} accepted"
                )
            )
            if right.button("Delete", key=f"delete_{r.batch_id}"):
                st.session_state.delete_import = r.batch_id
        pending = st.session_state.get("delete_import")
        if pending in labels:
            accepted = int(batches.loc[batches["batch_id"] == pending, "accepted"].iloc[0])
            st.warning(
                md_text(
                    f"Delete the import {labels[pending]} and its {accepted:,} reports for good?"
                )
            )
            yes, no = st.columns(2)
            yes.button(
                "Yes, delete it",
                type="primary",
                key="delete_yes",
                on_click=_delete,
                args=(store, pending, area.area_id, user.email, labels[pending]),
            )
            no.button(
                "Cancel",
                key="delete_no",
                on_click=lambda: st.session_state.pop("delete_import", None),
            )
