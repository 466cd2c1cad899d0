"""Streamlit-side shared state: the cached store, the session's area and settings, the sidebar."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from geo.areas import Area, area_settings, list_areas, set_current_area, unmapped_categories
from geo.report_index import ReportIndex
from geo.reports import REPORT_COLUMNS
from geo.settings import Settings, load_settings
from geo.store import Store, default_db_url
from ui.escape import md_text

if TYPE_CHECKING:
    from ui.auth import User

SOURCES = ("police", "council", "outreach", "cctv", "public", "other")


@st.cache_resource(show_spinner=False)
def _store_for(url: str) -> Store:
    return Store(url)


def auto_demo_enabled() -> bool:
    """Whether an empty database gets the demo on first start (``BEATPLAN_AUTO_DEMO``, default on)."""
    import os

    return os.environ.get("BEATPLAN_AUTO_DEMO", "1").strip().lower() not in ("0", "false", "no")


def get_store() -> Store:
    """Return the store for the configured database (one per URL per server process)."""
    return _store_for(default_db_url())


@st.cache_resource(show_spinner=False)
def base_settings() -> Settings:
    """Return the project's default settings, ``data/settings.toml`` (read once per process)."""
    return load_settings()


AREA_KEY = "area_id"
# The sidebar's choices; they belong to one area and are reset when the area changes.
SELECTION_KEYS = ("sel_period", "sel_categories", "sel_sources")


def session_areas() -> list[Area]:
    """Return the store's areas, by name (one small query)."""
    return list_areas(get_store())


def current_area() -> Area | None:
    """Return the area this session works on, or ``None`` when the store has no area yet.

    The session's choice (the sidebar's switcher) when it still exists; else the store's
    current area; else the first real area holding reports, else the first area.
    """
    areas = session_areas()
    if not areas:
        return None
    by_id = {a.area_id: a for a in areas}
    chosen = st.session_state.get(AREA_KEY)
    if chosen not in by_id:
        from geo.store_areas import read_current_area_id

        with get_store().engine.connect() as conn:
            chosen = read_current_area_id(conn)
        if chosen not in by_id:
            real = [a for a in areas if not a.synthetic]
            chosen = (real or areas)[0].area_id
        st.session_state[AREA_KEY] = chosen
    return by_id[chosen]


def current_area_id() -> str | None:
    """Return the id of this session's area (``None`` when the store has no area)."""
    area = current_area()
    return None if area is None else area.area_id


def choose_area(area_id: str | None, *, remember: bool = True) -> None:
    """Make ``area_id`` this session's area and start its selection afresh.

    Parameters
    ----------
    area_id
        The area (``None``: forget the choice, so the store's current area is used).
    remember
        Also make it the store's current area (the one the command line and pages that
        read "the current area" use).
    """
    if area_id is None:
        st.session_state.pop(AREA_KEY, None)
    else:
        st.session_state[AREA_KEY] = area_id
        if remember:
            set_current_area(get_store(), area_id)
    reset_selection()


def reset_selection() -> None:
    """Forget the sidebar's period, categories and sources (their defaults apply again)."""
    for key in SELECTION_KEYS:
        st.session_state.pop(key, None)


@st.cache_resource(show_spinner=False, max_entries=16)
def _settings_for(area_id: str, overrides: str, _area: Area) -> Settings:
    """One area's settings, cached per area and settings overrides (``_area`` unhashed)."""
    del area_id, overrides  # cache keys only
    return area_settings(_area, base_settings())


def settings_of(area: Area | None) -> Settings:
    """Return the settings an area works with (the defaults when ``area`` is ``None``)."""
    if area is None:
        return base_settings()
    return _settings_for(area.area_id, json.dumps(area.settings, sort_keys=True), area)


def get_settings() -> Settings:
    """Return the settings of this session's area: ``data/settings.toml`` and its overrides."""
    return settings_of(current_area())


@dataclass(frozen=True)
class Selection:
    """The shared sidebar choices every page reads."""

    start: date | None
    end: date | None
    categories: tuple[str, ...]
    sources: tuple[str, ...]
    area_id: str | None = None

    @property
    def end_exclusive(self) -> date | None:
        """The day after ``end``, for half-open period filters."""
        return self.end + timedelta(days=1) if self.end else None


def data_version(store: Store) -> int:
    """A cheap key that changes whenever stored reports change (for cache keys).

    The store's change counter (:meth:`geo.store.Store.data_version`): one primary-key read,
    raised by every import that adds reports, purge, deleted import and network load.
    """
    return store.data_version()


@st.cache_data(show_spinner=False, max_entries=8)
def sidebar_facts(
    url: str, version: int, area_id: str | None = None
) -> tuple[tuple[pd.Timestamp, pd.Timestamp] | None, list[str], list[str]]:
    """An area's period, categories and sources, cached per database, data version and area."""
    store = _store_for(url)
    return (
        store.period(area_id=area_id),
        store.categories(area_id=area_id),
        store.sources(area_id=area_id),
    )


def area_caption(area: Area | None = None) -> None:
    """Write the area a page works on under its title (every page calls it)."""
    area = area if area is not None else current_area()
    if area is None:
        st.caption("No area set up yet: set one up on the Data page.")
        return
    st.caption(md_text(f"Area: {area.name}"))


def sidebar_area() -> Area | None:
    """Draw the sidebar's area header and switcher; return the session's area."""
    area = current_area()
    with st.sidebar:
        if area is None:
            st.markdown("**No area yet**")
            return None
        areas = session_areas()
        names = {a.area_id: a.name for a in areas}
        st.markdown(md_text(f"Area: {area.name}"))
        if len(areas) > 1:
            ids = list(names)
            choice = st.selectbox(
                "Switch area",
                ids,
                index=ids.index(area.area_id),
                format_func=lambda k: names.get(k, k),
                key="area_switcher",
                help="Every page works on this area only: its reports, hotspots, plans.",
            )
            if choice != area.area_id:
                choose_area(choice)
                st.rerun()
    return area


def sidebar_selection() -> Selection:
    """Draw the shared sidebar filters (period, categories, sources) and return the choice.

    The values live in ``st.session_state`` under ``sel_*`` keys so every page shows the
    same selection.
    """
    store = get_store()
    area = current_area()
    area_id = None if area is None else area.area_id
    settings = settings_of(area)
    period, cats, srcs = sidebar_facts(default_db_url(), data_version(store), area_id)
    if st.session_state.get("sel_area") != area_id:  # another area: its own defaults
        reset_selection()
        st.session_state.sel_area = area_id
    with st.sidebar:
        st.subheader("Selection")
        if period is None:
            st.caption("No reports in this area yet: import a file on the Data page.")
            return Selection(None, None, (), (), area_id)
        lo, hi = period[0].date(), period[1].date()
        default = (max(lo, hi - timedelta(days=90)), hi)
        if "sel_period" not in st.session_state or not _valid_period(
            st.session_state.sel_period, lo, hi
        ):
            st.session_state.sel_period = default
        chosen = st.date_input(
            "Period", key="sel_period", min_value=lo, max_value=hi, format="DD/MM/YYYY"
        )
        start, end = chosen if isinstance(chosen, tuple) and len(chosen) == 2 else default
        labels = {c: settings.label(c) for c in cats}
        if "sel_categories" not in st.session_state:  # the area's mapped categories
            unmapped = set(unmapped_categories(cats, settings))
            st.session_state.sel_categories = [c for c in cats if c not in unmapped] or cats
        st.session_state.sel_categories = [c for c in st.session_state.sel_categories if c in cats]
        chosen_cats = st.multiselect(
            "Categories", cats, key="sel_categories", format_func=lambda c: labels.get(c, c)
        )
        if "sel_sources" not in st.session_state:
            st.session_state.sel_sources = srcs
        st.session_state.sel_sources = [s for s in st.session_state.sel_sources if s in srcs]
        chosen_srcs = st.multiselect("Sources", srcs, key="sel_sources")
    return Selection(start, end, tuple(chosen_cats), tuple(chosen_srcs), area_id)


def _valid_period(value: object, lo: date, hi: date) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, date) and lo <= v <= hi for v in value)
    )


# What the hotspot methods read of a report (geo.risk, geo.significance, geo.clustering):
# all but its id, output area and import batch.
HOTSPOT_COLUMNS = tuple(
    c for c in REPORT_COLUMNS if c not in ("report_id", "lsoa_code", "batch_id")
)


# What the pages' shared read of an area holds: the hotspot methods' columns and the report
# id (the forecast check's tie-breaking key).
INDEX_COLUMNS = (*HOTSPOT_COLUMNS, "report_id")


@st.cache_resource(show_spinner="Reading reports…", max_entries=4)
def area_reports(url: str, version: int, area_id: str | None) -> ReportIndex:
    """An area's reports (:data:`INDEX_COLUMNS`), read once per database, data version and area.

    One SQL read serves every selection, page and session until the data version changes
    (an import, purge, deleted import or network load). The index is shared, not copied:
    take rows with :meth:`geo.report_index.ReportIndex.select`, which returns new frames.
    """
    store = _store_for(url)
    return ReportIndex.build(store.reports(columns=list(INDEX_COLUMNS), area_id=area_id))


def selected_reports(
    url: str, version: int, sel: Selection, columns: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """An area's stored reports for a selection (only ``columns`` when given).

    Columns that :func:`area_reports` holds are taken from it in memory (no SQL after the
    first read of a data version); other columns are read with the filters in SQL, cached
    by database, data version, selection (its area included) and columns.
    """
    if columns and set(columns) <= set(INDEX_COLUMNS):
        return area_reports(url, version, sel.area_id).select(
            start=sel.start,
            end=sel.end_exclusive,
            categories=sel.categories,
            sources=sel.sources,
            columns=columns,
        )
    return _sql_reports(url, version, sel, columns)


@st.cache_data(show_spinner=False, max_entries=16)
def _sql_reports(
    url: str, version: int, sel: Selection, columns: tuple[str, ...] | None
) -> pd.DataFrame:
    """:func:`selected_reports` read with SQL filters (columns the shared read lacks)."""
    del version  # cache key only
    return _store_for(url).reports(
        start=sel.start,
        end=sel.end_exclusive,
        categories=list(sel.categories),
        sources=list(sel.sources),
        columns=list(columns) if columns else None,
        area_id=sel.area_id,
    )


DEMO_FILE_PREFIX = "SYNTHETIC-DEMO"


def is_demo(store: Store | None = None) -> bool:
    """Whether this session's area is synthetic (the demo); a real area never is.

    Parameters
    ----------
    store
        Unused (kept for callers that pass the store).
    """
    del store
    area = current_area()
    return bool(area is not None and area.synthetic)


def synthetic_banner() -> None:
    """Say plainly when the data on screen is the synthetic demo (only in the demo area)."""
    area_caption()
    if is_demo():
        st.info(
            "Demo data: these reports are synthetic, generated for demonstration on a real "
            "street network. They describe no real person or event.",
            icon="ℹ️",
        )


def network_key(area_id: str | None = None) -> tuple[str, float]:
    """The path of an area's network file (default: this session's area) and its mtime."""
    from geo.workspace import network_path

    area_id = area_id or current_area_id()
    path = network_path(area_id, store=get_store())
    return str(path), (path.stat().st_mtime if path.is_file() else 0.0)


@st.cache_resource(show_spinner=False, max_entries=2)
def _network_for(path: str, mtime: float) -> object | None:
    from geo.streets import StreetNetwork

    return StreetNetwork.load(path) if mtime else None


def get_network(area_id: str | None = None):  # -> StreetNetwork | None
    """Return an area's street network (default: this session's area), or ``None``.

    Cached until its file changes; another area's network is never returned.
    """
    return _network_for(*network_key(area_id))


@st.cache_data(show_spinner="Finding hotspots…", max_entries=16)
def cached_hotspots(
    url: str,
    version: int,
    network_key: tuple[str, float],
    sel: Selection,
    settings_key: str = "",
    _settings: Settings | None = None,
):
    """Hotspots, mode and per-segment table, cached per (area, period, categories, data version).

    The key is the database, its data version, the area's street network file, the selection
    (area, period, categories, sources) and the area's settings overrides (``settings_key``;
    ``_settings`` is the matching Settings, unhashed); reports are read with
    :data:`HOTSPOT_COLUMNS` only.
    """
    from geo.workspace import compute_hotspots

    del settings_key  # cache key only
    reports = selected_reports(url, version, sel, HOTSPOT_COLUMNS)
    if reports.empty:
        return None, "none", None
    return compute_hotspots(
        reports,
        network=_network_for(*network_key),
        settings=_settings if _settings is not None else base_settings(),
        return_segments=True,
    )


def current_hotspots(sel: Selection):
    """The hotspots for the sidebar selection (its area): ``(hotspots, mode, segment_table)``."""
    store = get_store()
    area = current_area()
    key = "" if area is None else json.dumps(area.settings, sort_keys=True)
    return cached_hotspots(
        default_db_url(),
        data_version(store),
        network_key(sel.area_id),
        sel,
        key,
        settings_of(area),
    )


def document_downloads(
    html: str,
    *,
    user: User,
    export: str,
    stem: str,
    what: str,
    n_rows: int = 0,
    preview_height: int = 900,
) -> None:
    """PDF and HTML download buttons for a rendered document, each audited, then a preview.

    The PDF is rendered only when its button is clicked; every download writes an
    ``export`` event (what, who, how many rows; never the content) to the audit log.

    Parameters
    ----------
    html
        The self-contained HTML document.
    user
        The signed-in :class:`ui.auth.User`: the buttons are disabled unless their role may
        export ``export``, and the audit log names them.
    export
        The kind of export (``"briefing"``, ``"community_summary"``, ``"meeting_pack"``);
        also the prefix of the widget keys.
    stem
        File name without extension.
    what
        Description for the audit log, e.g. ``"briefing 2026-11-01 (all teams)"``.
    n_rows
        Rows the export covers, for the audit log.
    preview_height
        Height of the preview frame in pixels.
    """
    from planning.briefing import html_to_pdf

    store = get_store()

    def _pdf() -> bytes:
        data = html_to_pdf(html)
        store.audit("export", f"{what} PDF", n_rows=n_rows, actor=user.email)
        return data

    def _html() -> str:
        store.audit("export", f"{what} HTML", n_rows=n_rows, actor=user.email)
        return html

    left, right = st.columns(2)
    left.download_button(
        "Download PDF",
        data=_pdf,
        disabled=not user.can_export(export),
        file_name=f"{stem}.pdf",
        mime="application/pdf",
        on_click="ignore",
        type="primary",
        key=f"{export}_pdf",
    )
    right.download_button(
        "Download HTML",
        data=_html,
        disabled=not user.can_export(export),
        file_name=f"{stem}.html",
        mime="text/html",
        on_click="ignore",
        key=f"{export}_html",
    )
    st.subheader("Preview")
    st.iframe(html, height=preview_height)
