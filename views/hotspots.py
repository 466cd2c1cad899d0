"""Hotspots page: a ranked table that zooms the map, layers to switch, trends and exports."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import altair as alt
import folium
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.hotspots import format_hour_windows
from geo.report_index import ReportIndex
from geo.store import default_db_url
from geo.trend import TREND_HELP, gone_hotspots, hotspot_trends, monthly_counts, previous_period
from planning.map_export import (
    hotspot_rows,
    hotspots_csv,
    hotspots_geojson,
    hotspots_kml,
    hotspots_map_pdf,
)
from ui import background
from ui.auth import require
from ui.escape import md_text
from ui.hotspot_map import (
    add_boundary,
    add_heat_layer,
    add_hotspot_outlines,
    add_report_points,
    add_risk_layer,
    hotspot_legend,
)
from ui.maps import (
    RISK_COLORS,
    base_map,
    default_colormap,
    tile_options,
)
from ui.state import (
    HOTSPOT_COLUMNS,
    area_reports,
    current_hotspots,
    data_version,
    get_network,
    get_settings,
    get_store,
    network_key,
    selected_reports,
    sidebar_selection,
    synthetic_banner,
)
from ui.static_layers import street_layer

MAP_HEIGHT = 620
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
SIGNIFICANT_HELP = (
    "Getis–Ord Gi* on the street network (each street against its neighbours within the "
    "network band), with false discovery rate control at 5%; a hotspot is a connected run "
    "of significant streets, ranked by their summed risk."
)
POINT_HELP = (
    "No street network is loaded (point mode): hotspots are dense groups of reports found "
    "by DBSCAN on their locations in metres, drawn as the outline around each group."
)
RISK_HELP = (
    "Street risk: each report counts its category's harm weight, halved every half-life "
    "(28 days by default) before the end of the period, then spread along the street "
    "network within the smoothing band (150 m by default). The number is in weighted reports."
)
FORECAST_HELP = (
    "The map as it stood at the start of the latest month (ours: empirical-Bayes rate per "
    "street with a kernel prior and month-based decay, settings chosen on the earlier months "
    "only) against the simplest alternative (last period's counts): the share of the latest "
    "month's reports that fell on each map's top 5% of street length (hit rate)."
)

_SETTING_WORDS = {
    "sigma_m": "spread {:g} m",
    "prior_weight": "prior weight {:g}",
    "half_life_months": "half-life {:g} months",
    "other_share": "weight of other categories {:g}",
}


def _last_month_check(
    index: ReportIndex, segments: pd.DataFrame | None, categories: tuple, area: tuple | None
) -> dict:
    """``geo.evaluate.last_month_check`` on the area's reports of the categories (pure)."""
    from geo.evaluate import last_month_check

    return last_month_check(
        index.select(categories=categories),
        segments=segments,
        categories=list(categories),
        area=area,
    )


def _forecast_job() -> tuple:
    """The forecast check as ``(key, function, *arguments)`` for :mod:`ui.background`.

    Kept per database, data version, area, street network, boundary and categories (the
    period does not change it).
    """
    path, mtime = network_key(sel.area_id)
    bbox = None if settings.area_bbox is None else tuple(float(v) for v in settings.area_bbox)
    key = ("last_month_check", url, version, sel.area_id, path, mtime, bbox, sel.categories)
    index = area_reports(url, version, sel.area_id)
    segments = network.segments if network is not None else None
    return key, _last_month_check, index, segments, sel.categories, bbox


user = require("hotspots")
st.title("Hotspots")
synthetic_banner()
settings = get_settings()
store = get_store()
sel = sidebar_selection()
if sel.start is None:
    st.info("No reports yet: import partner files on the Data page.")
    st.stop()
if not sel.categories:
    st.warning("Choose at least one category in the sidebar.")
    st.stop()

network = get_network(sel.area_id)
url, version = default_db_url(), data_version(store)
forecast_job = _forecast_job()
background.start(*forecast_job)  # 0.3-1 s on the worker thread while the page draws
try:
    hot, mode, seg_table = current_hotspots(sel)
except ValueError as exc:
    st.warning(md_text(exc))
    st.stop()
if hot is None:
    st.info("No reports match the selection in the sidebar; widen the period or categories.")
    st.stop()

periods = previous_period(sel.start, sel.end)
history_start = min(periods.prev_start, sel.end - timedelta(days=365))
# The hotspot methods' columns are all the trends, the heat map and the points read.
history = selected_reports(url, version, replace(sel, start=history_start), HOTSPOT_COLUMNS)
# The period's own reports (heat map, points) are the tail of the history: no second read.
period_reports = history.loc[pd.to_datetime(history["occurred_at"]) >= pd.Timestamp(sel.start)]
trends = hotspot_trends(hot, history, periods=periods)
months = monthly_counts(hot, history, end=sel.end)
rows = hotspot_rows(hot, label=settings.label, trends=trends)
st.caption(
    f"{sel.start:%-d %b %Y} to {sel.end:%-d %b %Y} · "
    + (
        "significant hotspots: runs of streets with more reports than chance would give"
        if mode == "network"
        else "hotspots from report locations (no street network loaded): dense groups of reports"
    ),
    help=SIGNIFICANT_HELP if mode == "network" else POINT_HELP,
)


def _table() -> list[int]:
    """The ranked table; returns the selected row positions."""
    view = pd.DataFrame(
        {
            "Rank": rows["rank"],
            "Id": rows["hotspot_id"],
            "Where": rows["where"],
            "Reports": rows["reports"],
            "Main categories": rows["main_categories"],
            "Active hours": rows["active_hours"],
            "Who should go": rows["who_should_go"],
            "Trend": rows["trend"],
            "Last 12 months": months,
        }
    )
    cfg = st.column_config
    event = st.dataframe(
        view,
        hide_index=True,
        width="stretch",
        height=min(320, 35 * (len(view) + 1) + 3),
        on_select="rerun",
        selection_mode="single-row",
        key="hotspot_table",
        column_config={
            "Rank": cfg.NumberColumn(width=42, help="1 = highest risk"),
            "Id": cfg.TextColumn(width=92, help="Stable id; the map shows it in a badge"),
            "Where": cfg.TextColumn(width=200),
            "Reports": cfg.NumberColumn(width=62, help="Reports in the selected period"),
            "Main categories": cfg.TextColumn(width=190),
            "Active hours": cfg.TextColumn(
                width=130, help="The fewest hours that hold 80% of its timed reports"
            ),
            "Who should go": cfg.TextColumn(
                width=110, help="From the categories: outreach worker, sharps team or police"
            ),
            "Trend": cfg.TextColumn(width=64, help=TREND_HELP),
            "Last 12 months": cfg.LineChartColumn(
                width=90, help="Reports per calendar month, oldest first", y_min=0
            ),
        },
    )
    return list(event.selection.rows) if event is not None else []


def _bounds(chosen: list[int]) -> tuple[float, float, float, float]:
    if chosen:
        w, s, e, n = hot.iloc[[chosen[0]]].to_crs(4326).total_bounds
        pad = 0.0015
    elif len(hot):
        w, s, e, n = hot.to_crs(4326).total_bounds
        pad = 0.002
    elif network is not None:
        w, s, e, n = network.segments.total_bounds
        pad = 0.0
    else:
        reps = period_reports
        w, s, e, n = reps["lon"].min(), reps["lat"].min(), reps["lon"].max(), reps["lat"].max()
        pad = 0.002
    return w - pad, s - pad, e + pad, n + pad


def _view(chosen: list[int]) -> dict:
    """Centre and zoom that fit the chosen hotspot (st_folium moves the drawn map to them)."""
    w, s, e, n = _bounds(chosen)
    lat = (s + n) / 2
    dx = max(e - w, 1e-5)
    dy = max(n - s, 1e-5) / np.cos(np.radians(lat))  # Mercator stretches latitude
    # Web Mercator: 256 px show 360 degrees at zoom 0; assume a map about 900 px wide.
    zoom = np.floor(min(np.log2(900 * 360 / (256 * dx)), np.log2(MAP_HEIGHT * 360 / (256 * dy))))
    return {"center": (lat, (w + e) / 2), "zoom": int(np.clip(zoom, 3, 18))}


def _risk_layer(m: folium.Map) -> tuple[float, float] | None:
    if seg_table is None:
        return None
    col = "smoothed_risk"
    peak = float(seg_table[col].max()) if len(seg_table) else 0.0
    # Only streets with at least 5% of the top risk, at most 3,000 of them.
    risky = seg_table[seg_table[col] >= 0.05 * peak] if peak > 0 else seg_table.iloc[:0]
    top = risky.nlargest(3000, col)
    if not len(top):
        return None
    cmap = default_colormap(top[col])
    add_risk_layer(
        m,
        top,
        column=col,
        labels={"name": "Street", col: "Risk (weighted reports)"},
        colormap=cmap,
        name="Risk by street",
    )
    return float(cmap.vmin), float(cmap.vmax)


def _map(chosen: list[int]) -> None:
    m = base_map(bounds=_bounds(chosen), **tile_options(settings.maps))
    if network is not None:
        street_layer(m, network)
    risk_range = _risk_layer(m)
    tips = {"hotspot_id": "Id", "label": "Where", "n_reports": "Reports"}
    add_hotspot_outlines(
        m,
        hot,
        trends=dict(zip(rows["hotspot_id"], rows["trend"], strict=True)),
        tooltip_fields=tips,
    )
    reports = period_reports
    add_heat_layer(m, reports)
    cats = None
    if user.sees_report_level:
        cats = add_report_points(m, reports, labels={c: settings.label(c) for c in sel.categories})
    if settings.area_bbox is not None:
        add_boundary(m, settings.area_bbox)
    hotspot_legend(
        m,
        risk_range=risk_range,
        risk_colours=RISK_COLORS,
        trends=[t for t in ("new", "growing", "steady", "fading") if t in set(rows["trend"])],
        categories=cats,
    )
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    view = _view(chosen) if chosen else {}
    st_folium(
        m,
        height=MAP_HEIGHT,
        returned_objects=[],
        key="hotspot_map",
        use_container_width=True,
        **view,
    )
    st.caption(
        "Switch layers at the top right: risk by street, hotspot outlines, heat map, "
        + ("report points, " if cats is not None else "")
        + "area boundary.",
        help=RISK_HELP,
    )


def _forecast_line() -> None:
    try:
        with st.spinner("Checking last month's map…", show_time=True):
            check = background.result(*forecast_job)
    except ValueError as exc:
        st.caption(md_text(f"No forecast check: {exc}"), help=FORECAST_HELP)
        return
    text = str(check.get("text", ""))
    chosen = check.get("settings") or {}
    if chosen:
        text += " Settings the calibration chose: " + ", ".join(
            _SETTING_WORDS.get(k, f"{k.replace('_', ' ')} {{:g}}").format(float(v))
            for k, v in chosen.items()
            if isinstance(v, int | float)
        )
        text += "."
    st.caption(md_text(text), help=FORECAST_HELP)


if hot.empty:
    st.info(
        "No significant hotspot in this selection: reports are spread out, or too few. "
        "Widen the period or add categories."
    )
    chosen: list[int] = []
else:
    st.markdown(f"**{len(hot)} hotspots**, ranked by risk. Click a row to zoom the map to it.")
    chosen = _table()
_map(chosen)
_forecast_line()


def _compare() -> None:
    """This period against the one before: two maps side by side and the change in words."""
    prev_sel = replace(sel, start=periods.prev_start, end=periods.prev_end)
    try:
        prev, _, _ = current_hotspots(prev_sel)
    except ValueError as exc:
        st.warning(md_text(exc))
        return
    prev = prev if prev is not None else hot.iloc[:0]
    gone = gone_hotspots(prev, hot)
    counts = rows["trend"].value_counts()
    st.markdown(
        md_text(
            f"{periods.prev_start:%-d %b %Y} to {periods.prev_end:%-d %b %Y}: "
            f"{len(prev)} hotspots, {int(trends['last_period'].sum())} reports in today's "
            f"hotspots; this period: {len(hot)} hotspots, "
            f"{int(trends['this_period'].sum())} reports. New {counts.get('new', 0)}, "
            f"growing {counts.get('growing', 0)}, steady {counts.get('steady', 0)}, "
            f"fading {counts.get('fading', 0)}; gone since then {len(gone)}."
        ),
        help=TREND_HELP,
    )
    both = pd.concat([hot.geometry, prev.geometry]) if len(prev) else hot.geometry
    w, s, e, n = both.to_crs(4326).total_bounds if len(both) else _bounds([])
    left, right = st.columns(2)
    for col, frame, title, words in (
        (left, prev, "Period before", dict.fromkeys(gone["hotspot_id"], "gone")),
        (right, hot, "This period", dict(zip(rows["hotspot_id"], rows["trend"], strict=True))),
    ):
        with col:
            st.markdown(f"**{title}**")
            m = base_map(
                bounds=(w - 0.002, s - 0.002, e + 0.002, n + 0.002), **tile_options(settings.maps)
            )
            if network is not None:
                street_layer(m, network)
            if len(frame):
                add_hotspot_outlines(m, frame, trends=words, tooltip_fields={"label": "Where"})
            st_folium(
                m, height=420, returned_objects=[], key=f"compare_{title}", use_container_width=True
            )
    if len(gone):
        st.caption(
            md_text(
                "Gone: "
                + "; ".join(
                    f"{h} {lab}" for h, lab in zip(gone["hotspot_id"], gone["label"], strict=True)
                )
            )
        )


def _when(chosen: list[int]) -> None:
    k = chosen[0] if chosen else 0
    row = hot.iloc[k]
    st.subheader(md_text(f"When: {row['hotspot_id']} · {row['label']}"))
    profile = np.asarray(row["profile"], dtype=int).reshape(7, 24)
    if profile.sum() == 0:
        st.caption("No report here has a time of day (e.g. police.uk gives the month only).")
        return
    grid = pd.DataFrame(
        [(DAYS[d], h, int(profile[d, h])) for d in range(7) for h in range(24)],
        columns=["Day", "Hour", "Reports"],
    )
    chart = (
        alt.Chart(grid)
        .mark_rect()
        .encode(
            x=alt.X("Hour:O", title="Hour of day"),
            y=alt.Y("Day:O", sort=DAYS, title=None),
            color=alt.Color("Reports:Q", scale=alt.Scale(scheme="orangered")),
            tooltip=["Day", "Hour", "Reports"],
        )
        .properties(height=220)
    )
    st.altair_chart(chart, width="stretch")
    st.caption(
        f"Active hours (80% of timed reports): {format_hour_windows(list(row['active_hours']))}."
    )


def _exports() -> None:
    """GeoJSON, KML, CSV and the A4 map PDF; each download is audited."""
    if not user.can_export("hotspots"):
        st.caption("Your role cannot download hotspots.")
        return
    stem = f"hotspots-{sel.start:%Y-%m-%d}-to-{sel.end:%Y-%m-%d}"
    what = f"hotspots {sel.start:%Y-%m-%d} to {sel.end:%Y-%m-%d}"
    area = settings.area_name or "area"

    def _audited(kind: str, make):
        def run():
            data = make()
            store.audit("export", f"{what} {kind}", n_rows=len(hot), actor=user.email)
            return data

        return run

    def _pdf() -> bytes:
        return hotspots_map_pdf(
            hot,
            streets=network.segments if network is not None else None,
            risk=seg_table.nlargest(3000, "smoothed_risk") if seg_table is not None else None,
            area=area,
            start=sel.start,
            end=sel.end,
            notes={"Categories": ", ".join(settings.label(c) for c in sel.categories)},
        )

    c1, c2, c3, c4 = st.columns(4)
    for col, kind, make, ext, mime in (
        (c1, "GeoJSON", lambda: hotspots_geojson(rows, hot), "geojson", "application/geo+json"),
        (
            c2,
            "KML",
            lambda: hotspots_kml(rows, hot, title=f"Hotspots {area}"),
            "kml",
            "application/vnd.google-earth.kml+xml",
        ),
        (c3, "CSV", lambda: hotspots_csv(rows, hot), "csv", "text/csv"),
        (c4, "Map (PDF, A4)", _pdf, "pdf", "application/pdf"),
    ):
        col.download_button(
            f"Download {kind}",
            data=_audited(kind, make),
            file_name=f"{stem}.{ext}",
            mime=mime,
            on_click="ignore",
            key=f"hotspots_{ext}",
            width="stretch",
        )


if not hot.empty:
    _when(chosen)
    st.subheader("Change since the period before", help=TREND_HELP)
    if st.toggle("Compare with the period before", key="hotspots_compare"):
        _compare()
    st.subheader("Download")
    _exports()
