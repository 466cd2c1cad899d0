"""Streamlit-side shared state: the cached store and settings, and the sidebar's common filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from geo.settings import Settings, load_settings
from geo.store import Store, default_db_url

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
def get_settings() -> Settings:
    """Return the project's settings (read once per server process)."""
    return load_settings()


@dataclass(frozen=True)
class Selection:
    """The shared sidebar choices every page reads."""

    start: date | None
    end: date | None
    categories: tuple[str, ...]
    sources: tuple[str, ...]

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
    url: str, version: int
) -> tuple[tuple[pd.Timestamp, pd.Timestamp] | None, list[str], list[str]]:
    """The sidebar's period, categories and sources, cached per database and data version."""
    store = _store_for(url)
    return store.period(), store.categories(), store.sources()


def sidebar_selection() -> Selection:
    """Draw the shared sidebar filters (period, categories, sources) and return the choice.

    The values live in ``st.session_state`` under ``sel_*`` keys so every page shows the
    same selection.
    """
    store = get_store()
    settings = get_settings()
    period, cats, srcs = sidebar_facts(default_db_url(), data_version(store))
    with st.sidebar:
        st.subheader("Selection")
        if period is None:
            st.caption("No reports yet: import a file on the Data page.")
            return Selection(None, None, (), ())
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
        if "sel_categories" not in st.session_state:
            st.session_state.sel_categories = [c for c in cats if c in settings.categories] or cats
        st.session_state.sel_categories = [c for c in st.session_state.sel_categories if c in cats]
        chosen_cats = st.multiselect(
            "Categories", cats, key="sel_categories", format_func=lambda c: labels.get(c, c)
        )
        if "sel_sources" not in st.session_state:
            st.session_state.sel_sources = srcs
        st.session_state.sel_sources = [s for s in st.session_state.sel_sources if s in srcs]
        chosen_srcs = st.multiselect("Sources", srcs, key="sel_sources")
    return Selection(start, end, tuple(chosen_cats), tuple(chosen_srcs))


def _valid_period(value: object, lo: date, hi: date) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, date) and lo <= v <= hi for v in value)
    )


# What the hotspot methods read of a report (geo.risk, geo.significance, geo.clustering).
HOTSPOT_COLUMNS = (
    "occurred_at",
    "time_known",
    "category",
    "source",
    "lon",
    "lat",
    "segment_id",
    "location_hint",
)


@st.cache_data(show_spinner=False, max_entries=16)
def selected_reports(
    url: str, version: int, sel: Selection, columns: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Stored reports for a selection (only ``columns`` when given), filtered in SQL.

    Cached by database, data version, selection and columns.
    """
    store = _store_for(url)
    return store.reports(
        start=sel.start,
        end=sel.end_exclusive,
        categories=list(sel.categories),
        sources=list(sel.sources),
        columns=list(columns) if columns else None,
    )


DEMO_FILE_PREFIX = "SYNTHETIC-DEMO"


def is_demo(store: Store) -> bool:
    """Whether any stored batch came from the synthetic demo (cached per data version)."""
    return _is_demo(store.url, data_version(store))


@st.cache_data(show_spinner=False, max_entries=8)
def _is_demo(url: str, version: int) -> bool:
    names = _store_for(url).batches()["file_name"].astype(str)
    return bool(names.str.startswith(DEMO_FILE_PREFIX).any())


def synthetic_banner() -> None:
    """Say plainly when the data on screen is the synthetic demo."""
    if is_demo(get_store()):
        st.info(
            "Demo data: these reports are synthetic, generated for demonstration on a real "
            "street network. They describe no real person or event.",
            icon="ℹ️",
        )


def _network_key() -> tuple[str, float]:
    from geo.workspace import network_path

    path = network_path()
    return str(path), (path.stat().st_mtime if path.is_file() else 0.0)


@st.cache_resource(show_spinner=False, max_entries=2)
def _network_for(path: str, mtime: float) -> object | None:
    from geo.streets import StreetNetwork

    return StreetNetwork.load(path) if mtime else None


def get_network():  # -> StreetNetwork | None
    """Return the current street network (cached until the file changes), or ``None``."""
    return _network_for(*_network_key())


@st.cache_data(show_spinner="Finding hotspots…", max_entries=16)
def cached_hotspots(url: str, version: int, network_key: tuple[str, float], sel: Selection):
    """Hotspots, mode and per-segment table, cached per (period, categories, data version).

    The key is the database, its data version, the street network file and the selection
    (period, categories, sources); reports are read with :data:`HOTSPOT_COLUMNS` only.
    """
    from geo.workspace import compute_hotspots

    reports = selected_reports(url, version, sel, HOTSPOT_COLUMNS)
    if reports.empty:
        return None, "none", None
    return compute_hotspots(
        reports,
        network=_network_for(*network_key),
        settings=get_settings(),
        return_segments=True,
    )


def current_hotspots(sel: Selection):
    """The hotspots for the sidebar selection: ``(hotspots, mode, segment_table)``."""
    store = get_store()
    return cached_hotspots(default_db_url(), data_version(store), _network_key(), sel)


def document_downloads(
    html: str,
    *,
    stem: str,
    what: str,
    key: str,
    allowed: bool,
    actor: str,
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
    stem
        File name without extension.
    what
        Description for the audit log, e.g. ``"briefing 2026-11-01 (all teams)"``.
    key
        Prefix for the widget keys.
    allowed
        Whether the user's role may export it (buttons are disabled otherwise).
    actor
        Who is downloading.
    n_rows
        Rows the export covers, for the audit log.
    preview_height
        Height of the preview frame in pixels.
    """
    from planning.briefing import html_to_pdf

    store = get_store()

    def _pdf() -> bytes:
        data = html_to_pdf(html)
        store.audit("export", f"{what} PDF", n_rows=n_rows, actor=actor)
        return data

    def _html() -> str:
        store.audit("export", f"{what} HTML", n_rows=n_rows, actor=actor)
        return html

    left, right = st.columns(2)
    left.download_button(
        "Download PDF",
        data=_pdf,
        disabled=not allowed,
        file_name=f"{stem}.pdf",
        mime="application/pdf",
        on_click="ignore",
        type="primary",
        key=f"{key}_pdf",
    )
    right.download_button(
        "Download HTML",
        data=_html,
        disabled=not allowed,
        file_name=f"{stem}.html",
        mime="text/html",
        on_click="ignore",
        key=f"{key}_html",
    )
    st.subheader("Preview")
    st.iframe(html, height=preview_height)
