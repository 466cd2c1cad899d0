"""Data page: set up an area, import partner files into it, see and delete its imports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.errors import BeatplanError
from geo.ingest import ImportSummary, import_file, rejects_csv
from geo.settings import Settings
from ui.auth import require
from ui.data_imports import imports_section, setup_section
from ui.escape import md_text
from ui.state import (
    SOURCES,
    choose_area,
    current_area,
    get_network,
    get_settings,
    get_store,
    reset_selection,
    session_areas,
    synthetic_banner,
)

FIELD_LABELS = {
    "datetime": "Date / time",
    "time": "Time of day",
    "category": "Category",
    "lat": "Latitude",
    "lon": "Longitude",
    "easting": "Easting",
    "northing": "Northing",
    "source": "Source",
    "reference": "Reference",
    "location": "Street hint",
    "lsoa_code": "LSOA code",
}

user = require("data")
st.title("Data")
st.write(
    "Import anonymised reports from partners: CSV, Excel (.xlsx), GeoJSON points or a "
    "data.police.uk street-level CSV. Personal data (names, dates of birth, phone numbers, "
    "e-mail, addresses, vehicle registrations, free-text notes) is dropped before anything "
    "is stored."
)
synthetic_banner()

store = get_store()
settings = get_settings()
area = current_area()
if user.role == "supervisor":
    setup_section(store, user=user, has_real_area=any(not a.synthetic for a in session_areas()))
if area is None:  # an import with no area set up goes into a new "Default area"
    st.subheader("Import")
else:
    st.subheader(md_text(f"Import into {area.name}"))


def upload_limit_mb(chosen: Settings) -> int:
    """The upload limit in MB: the smaller of the settings' and Streamlit's own (both 1024²)."""
    ours = float(chosen.general.get("max_upload_mb", 200))
    return int(min(ours, float(st.get_option("server.maxUploadSize"))))


with st.form("import_form", clear_on_submit=False):
    upload = st.file_uploader(
        "Partner file",
        type=["csv", "txt", "tsv", "xlsx", "geojson", "json"],
        help=f"Up to {upload_limit_mb(settings)} MB.",
    )
    source = st.selectbox(
        "Supplied by",
        SOURCES,
        index=0,
        help="Used when the file has no source column; police.uk files are police.",
    )
    mapping_text = st.text_input(
        "Column mapping (optional)",
        placeholder="category=Issue, datetime=Found at",
        help="Only needed when Beatplan cannot recognise a column: FIELD=COLUMN pairs, comma-separated. "
        "Fields: " + ", ".join(FIELD_LABELS),
    )
    submitted = st.form_submit_button("Import", type="primary")


def _parse_mapping(text: str) -> dict[str, str] | None:
    pairs = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in pairs if "=" not in p]
    if bad:
        msg = f"Column mapping: {bad[0]!r} is not FIELD=COLUMN."
        raise BeatplanError(msg)
    halves = (pair.split("=", 1) for pair in pairs)
    return {fld.strip(): col.strip() for fld, col in halves} or None


if submitted:
    if upload is None:
        st.warning("Choose a file to import first.")
    else:
        try:
            with st.spinner(f"Importing {md_text(upload.name)}…"):
                summary = import_file(
                    upload.getvalue(),
                    file_name=upload.name,
                    store=store,
                    source=source,
                    mapping=_parse_mapping(mapping_text),
                    settings=settings,
                    network=get_network(None if area is None else area.area_id),
                    rejects_dir=None,
                    actor=user.email,
                    area=area,
                )
            st.session_state.last_import = summary
            names = st.session_state.setdefault("import_names", {})
            names[summary.batch_id] = upload.name  # shown beside the stored (hashed) name
            reset_selection()  # the default period: the area's newest data
            if area is None:
                choose_area(summary.area_id)
            st.cache_data.clear()
        except BeatplanError as exc:
            st.session_state.pop("last_import", None)
            st.error(md_text(f"{upload.name} was not imported. {exc}"))

summary: ImportSummary | None = st.session_state.get("last_import")
if summary is not None:
    st.subheader(f"Imported {md_text(summary.file_name)}")
    cols = st.columns(5)
    cols[0].metric("Rows read", f"{summary.rows_read:,}")
    cols[1].metric("Accepted", f"{summary.accepted:,}")
    cols[2].metric("Duplicates merged", f"{summary.duplicates:,}")
    cols[3].metric("Rejected", f"{summary.rejected:,}")
    cols[4].metric("Off the street network", f"{summary.off_network:,}")
    st.caption(md_text(f"Format: {summary.format}. " + " ".join(summary.notes)))
    if summary.unmapped:
        kinds = ", ".join(f"{k} ({v:,})" for k, v in sorted(summary.unmapped.items()))
        st.caption(
            md_text(
                f"{sum(summary.unmapped.values()):,} rows are police.uk types that "
                f"{summary.area_name} does not map to its categories, kept under "
                f"their own name and left out of the default selection and the public "
                f"summary: {kinds}. Map them on the Settings page."
            )
        )
    outside = f"outside {summary.area_name}"
    if summary.rejected_rows is not None and "reason" in summary.rejected_rows:
        n_out = int(summary.rejected_rows["reason"].astype(str).eq(outside).sum())
        if n_out:
            st.caption(md_text(f"{n_out:,} rows rejected as {outside}."))

    left, right = st.columns(2)
    with left:
        st.markdown("**Columns used**")
        st.dataframe(
            pd.DataFrame(
                {
                    "Field": [FIELD_LABELS.get(f, f) for f in summary.mapping],
                    "Column in the file": list(summary.mapping.values()),
                }
            ),
            hide_index=True,
            width="stretch",
        )
    with right:
        st.markdown("**Columns dropped**")
        dropped = pd.DataFrame(
            {
                "Column": [d.column for d in summary.dropped_columns],
                "Why": [d.reason for d in summary.dropped_columns],
            }
        )
        if dropped.empty:
            st.caption("None.")
        else:
            st.dataframe(dropped, hide_index=True, width="stretch")

    if summary.rejected and summary.rejected_rows is not None and user.sees_report_level:
        shown = summary.rejected_rows.head(1000)
        st.markdown(f"**Rejected rows** ({summary.rejected:,}), each with its reason")
        st.dataframe(shown, hide_index=True, width="stretch")
        # Report-level data: record the first view of each import's rejected rows.
        viewed = st.session_state.setdefault("_viewed_rejects", set())
        view_key = (summary.file_name, summary.rows_read, summary.rejected)
        if view_key not in viewed:
            store.audit(
                "view", f"rejected rows of {summary.file_name}", n_rows=len(shown), actor=user.email
            )
            viewed.add(view_key)
        if user.can_export("rejected_rows"):
            st.download_button(
                "Download rejected rows (CSV)",
                rejects_csv(summary.rejected_rows),
                file_name=f"{summary.file_name}-rejected.csv",
                mime="text/csv",
                on_click=lambda: store.audit(
                    "export",
                    f"rejected rows of {summary.file_name} CSV",
                    n_rows=len(summary.rejected_rows),
                    actor=user.email,
                ),
            )
    elif summary.rejected:
        st.caption(
            f"{summary.rejected:,} rows were rejected. Rejected rows are report-level data, so "
            "only a supervisor can see or download them."
        )

if area is None:
    st.subheader("Imports so far")
    st.caption("Nothing imported yet.")
else:
    imports_section(store, area, user=user)
