"""Research export for an evaluation partner: suppressed monthly counts, geography, dictionary, notes."""

from __future__ import annotations

import io
import math
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.privacy import safe_csv
from geo.settings import Settings

__all__ = [
    "CELL_M",
    "DICTIONARY",
    "RESEARCH_FILES",
    "SUPPRESSION_RULE",
    "ResearchCounts",
    "group_pinned",
    "monthly_unit_counts",
    "research_counts",
    "research_units",
    "suppress_monthly",
    "write_research_export",
]

#: Side in metres of the grid cells used in point mode (and for reports off the network).
CELL_M = 150.0

RESEARCH_FILES = (
    "counts.csv",
    "monthly_totals.csv",
    "geography.gpkg",
    "data_dictionary.csv",
    "method_notes.md",
)

SUPPRESSION_RULE = (
    "Counts from 1 to {t1} (below the threshold of {t}) are withheld. The monthly totals "
    "per category are published, so withheld counts could be worked out from them; within "
    "each month and category, more counts are withheld (the smallest published ones first) "
    "until no withheld count can be narrowed to one value by someone who knows the total, "
    "every published count and that a small count lies between 1 and {t1}; where no count "
    "is left to withhold, the total is withheld instead. No other totals are published, so "
    "each withheld count appears in exactly one published sum. A unit, month and category "
    "with no report has no row."
)

#: Every column of every file, one a line: file | column | type | meaning.
_DICTIONARY_TABLE = """
counts.csv | unit_id | text | Street segment ('S' and its segment_id in geography.gpkg street_segments) or 150 m grid cell ('C' and its column_row)
counts.csv | unit_type | text | 'segment' or 'cell'
counts.csv | month | text | Calendar month, YYYY-MM (Europe/London)
counts.csv | category | text | Category slug (see method_notes.md)
counts.csv | count | integer or empty | Reports in the unit, month and category; empty when withheld
counts.csv | withheld | yes/no | Whether the count is withheld (see the rule)
monthly_totals.csv | month | text | Calendar month, YYYY-MM
monthly_totals.csv | category | text | Category slug
monthly_totals.csv | total | integer or empty | Reports in the whole area in the month and category (the sum of its rows in counts.csv); empty when withheld
monthly_totals.csv | withheld | yes/no | Whether the total is withheld
geography.gpkg:boundary | name | text | The area's name
geography.gpkg:boundary | geometry | polygon (EPSG:4326) | The area's boundary
geography.gpkg:street_segments | segment_id | integer | Segment number (unit S<id>)
geography.gpkg:street_segments | name | text | Street name from OpenStreetMap (as given; treat as text)
geography.gpkg:street_segments | highway | text | OpenStreetMap highway type
geography.gpkg:street_segments | length_m | number | Length in metres
geography.gpkg:street_segments | geometry | line (EPSG:4326) | The segment
geography.gpkg:cells | unit_id | text | Cell id, 'C' and column_row
geography.gpkg:cells | geometry | polygon (EPSG:4326) | The 150 m cell (square in the metric CRS named in method_notes.md)
data_dictionary.csv | file, column, type, meaning | text | This table
"""
#: Every column of every file: (file, column, type, meaning).
DICTIONARY: tuple[tuple[str, str, str, str], ...] = tuple(
    tuple(part.strip() for part in line.split("|"))
    for line in _DICTIONARY_TABLE.strip().splitlines()
)

_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _md(value: Any) -> str:
    """Text as inert markdown: one line, controls gone, ASCII punctuation escaped."""
    return _MD_PUNCT.sub(r"\\\1", _CONTROL.sub(" ", str(value)))


def research_units(
    reports: pd.DataFrame, *, network: Any = None, metric_crs: Any = None
) -> tuple[np.ndarray, np.ndarray, Any]:
    """The unit of each report: its street segment, else its 150 m grid cell.

    Parameters
    ----------
    reports
        Reports (``segment_id``, ``lon``, ``lat``).
    network
        The area's street network (segments are units), or ``None`` (point mode: cells).
    metric_crs
        CRS of the grid (default: the network's, else the local one of the reports).

    Returns
    -------
    (unit_id, unit_type, crs)
        Arrays of text, one per report, and the grid's CRS.
    """
    from geo.streets import metric_crs_for

    n = len(reports)
    seg = pd.to_numeric(reports["segment_id"], errors="coerce").to_numpy("float64", na_value=np.nan)
    on_net = np.isfinite(seg) if network is not None else np.zeros(n, dtype=bool)
    if metric_crs is None:
        metric_crs = (
            network.metric_crs
            if network is not None
            else metric_crs_for(float(reports["lon"].median()), float(reports["lat"].median()))
        )
    unit = np.empty(n, dtype=object)
    kind = np.where(on_net, "segment", "cell").astype(object)
    unit[on_net] = "S" + pd.Series(seg[on_net].astype(np.int64)).astype(str).to_numpy()
    off = ~on_net
    if off.any():
        pts = gpd.GeoSeries(
            gpd.points_from_xy(reports["lon"].to_numpy()[off], reports["lat"].to_numpy()[off]),
            crs="EPSG:4326",
        ).to_crs(metric_crs)
        col = np.floor(pts.x.to_numpy() / CELL_M).astype(np.int64).astype(str)
        row = np.floor(pts.y.to_numpy() / CELL_M).astype(np.int64).astype(str)
        unit[off] = np.char.add(np.char.add(np.char.add("C", col), "_"), row).astype(object)
    return unit, kind, metric_crs


def monthly_unit_counts(reports: pd.DataFrame, unit: np.ndarray, kind: np.ndarray) -> pd.DataFrame:
    """Reports per unit, calendar month and category (only combinations with a report).

    Parameters
    ----------
    reports
        Reports (``occurred_at``, ``category``).
    unit, kind
        From :func:`research_units`.

    Returns
    -------
    pandas.DataFrame
        ``unit_id, unit_type, month, category, count``.
    """
    frame = pd.DataFrame(
        {
            "unit_id": unit,
            "unit_type": kind,
            "month": pd.to_datetime(reports["occurred_at"]).dt.strftime("%Y-%m").to_numpy(),
            "category": reports["category"].astype(str).to_numpy(),
        }
    )
    keys = ["unit_id", "unit_type", "month", "category"]
    out = frame.groupby(keys, sort=True).size().rename("count").reset_index()
    out["count"] = out["count"].astype(np.int64)
    return out


def group_pinned(total_hidden: int, n_small: int, n_other: int, threshold: int) -> bool:
    """Whether a withheld small count of one published sum can be narrowed to one value.

    The intruder knows ``total_hidden`` (the published total minus the published counts),
    that each of the ``n_small`` small counts lies in ``1..threshold-1`` and that each of
    the ``n_other`` other withheld counts is at least ``threshold``. The small counts are
    interchangeable, so one range covers them all.

    Parameters
    ----------
    total_hidden
        Sum of the withheld counts.
    n_small, n_other
        How many withheld counts are small, and how many are not.
    threshold
        The suppression threshold.

    Returns
    -------
    bool
    """
    if n_small == 0:
        return False
    others_min = (n_small - 1) + n_other * threshold
    others_max = math.inf if n_other else (n_small - 1) * (threshold - 1)
    lo = max(1.0, total_hidden - others_max)
    hi = min(float(threshold - 1), float(total_hidden - others_min))
    return hi - lo < 1


def suppress_monthly(counts: pd.DataFrame, *, threshold: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Withhold small counts, with secondary suppression against the monthly totals.

    See :data:`SUPPRESSION_RULE`.

    Parameters
    ----------
    counts
        From :func:`monthly_unit_counts`.
    threshold
        The smallest count that may be published (at least 2).

    Returns
    -------
    (counts, totals)
        ``counts`` with ``withheld`` (bool); ``totals``: ``month, category, total,
        withheld`` per month and category.
    """
    if threshold < 2:
        msg = "The suppression threshold must be at least 2; set [general] suppression_threshold."
        raise ValueError(msg)
    out = counts.reset_index(drop=True).copy()
    values = out["count"].to_numpy(np.int64)
    hidden = values < threshold
    totals = []
    # one loop step per month and category (a few hundred), never per report or unit
    for (month, cat), idx in out.groupby(["month", "category"], sort=True).indices.items():
        idx = idx[np.argsort(values[idx], kind="stable")]
        v, h = values[idx], hidden[idx]
        n_small, n_other, withheld_total = int(h.sum()), 0, False
        while group_pinned(int(v[h].sum()), n_small, n_other, threshold):
            free = np.flatnonzero(~h)
            if not free.size:
                withheld_total = True
                break
            h[free[0]] = True  # the smallest published count
            n_other += 1
        hidden[idx] = h
        totals.append((month, cat, int(v.sum()), withheld_total))
    out["withheld"] = hidden
    frame = pd.DataFrame(totals, columns=["month", "category", "total", "withheld"])
    return out, frame


@dataclass(frozen=True)
class ResearchCounts:
    """The counts of a research export before they are written."""

    counts: pd.DataFrame
    totals: pd.DataFrame
    crs: Any
    mode: str
    threshold: int
    n_reports: int


def research_counts(
    reports: pd.DataFrame, *, network: Any = None, threshold: int = 10
) -> ResearchCounts:
    """Suppressed monthly counts per unit and category of an area's reports.

    Parameters
    ----------
    reports
        The reports of the export window (already filtered to the area and categories).
    network
        The area's street network, or ``None`` (point mode).
    threshold
        The suppression threshold.

    Returns
    -------
    ResearchCounts
    """
    if reports.empty:
        msg = "No reports in this period: choose dates that hold reports."
        raise ValueError(msg)
    unit, kind, crs = research_units(reports, network=network)
    counts, totals = suppress_monthly(monthly_unit_counts(reports, unit, kind), threshold=threshold)
    mode = "network" if network is not None else "point"
    return ResearchCounts(counts, totals, crs, mode, int(threshold), len(reports))


def _published(counts: ResearchCounts) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two CSV tables as written: withheld values blank, ``withheld`` as yes/no."""
    c = counts.counts
    table = c[["unit_id", "unit_type", "month", "category"]].copy()
    table["count"] = c["count"].astype("Int64").mask(c["withheld"])
    table["withheld"] = np.where(c["withheld"], "yes", "no")
    t = counts.totals
    totals = t[["month", "category"]].copy()
    totals["total"] = t["total"].astype("Int64").mask(t["withheld"])
    totals["withheld"] = np.where(t["withheld"], "yes", "no")
    return table, totals


def _cells_layer(unit_ids: pd.Series, crs: Any) -> gpd.GeoDataFrame:
    cells = pd.Series(sorted(set(unit_ids[unit_ids.str.startswith("C")])), dtype=object)
    parts = cells.str[1:].str.split("_", expand=True) if len(cells) else None
    if parts is None:
        return gpd.GeoDataFrame({"unit_id": []}, geometry=[], crs="EPSG:4326")
    x0 = parts[0].astype(np.int64).to_numpy() * CELL_M
    y0 = parts[1].astype(np.int64).to_numpy() * CELL_M
    boxes = shapely.box(x0, y0, x0 + CELL_M, y0 + CELL_M)
    layer = gpd.GeoDataFrame({"unit_id": cells.to_numpy()}, geometry=boxes, crs=crs)
    return layer.to_crs("EPSG:4326")


def _geopackage(area: Any, network: Any, counts: ResearchCounts) -> bytes:
    """The boundary, the street network and the cells used, as one GeoPackage."""
    boundary = area.boundary if area.boundary is not None else shapely.box(*area.bbox)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "geography.gpkg"
        gpd.GeoDataFrame({"name": [str(area.name)]}, geometry=[boundary], crs="EPSG:4326").to_file(
            path, layer="boundary", driver="GPKG"
        )
        if network is not None:
            seg = network.segments[["segment_id", "name", "highway", "length_m", "geometry"]]
            seg.to_file(path, layer="street_segments", driver="GPKG")
        _cells_layer(counts.counts["unit_id"], counts.crs).to_file(
            path, layer="cells", driver="GPKG"
        )
        return path.read_bytes()


def _method_notes(
    area: Any,
    settings: Settings,
    counts: ResearchCounts,
    *,
    start: Any,
    end: Any,
    calibration: dict[str, Any] | None,
) -> str:
    """The generated method notes (markdown; every value from data escaped)."""
    t = counts.threshold
    cats = sorted(set(counts.counts["category"]))
    cat_lines = [
        f"- `{_md(c)}`: {_md(settings.label(c))}"
        + (f" ({_md(settings.categories[c].kind)})" if c in settings.categories else "")
        for c in cats
    ]
    hot = "\n".join(f"- {_md(k)}: {_md(v)}" for k, v in sorted(settings.hotspots.items()))
    snap = "\n".join(f"- {_md(k)}: {_md(v)}" for k, v in sorted(settings.snapping.items()))
    if calibration and calibration.get("settings"):
        chosen = ", ".join(f"{_md(k)} {_md(v)}" for k, v in calibration["settings"].items())
        cal = (
            f"The forecaster calibrates itself on training data only. On this export's data "
            f"(trained before {_md(calibration.get('month'))}) it chose: {chosen}. "
            f"{_md(calibration.get('text', ''))}"
        )
    else:
        why = (calibration or {}).get("text") or "too little data to calibrate"
        cal = f"No forecast calibration on this export's data: {_md(why)}"
    unit = (
        "street segments of the area's network (reports farther than the snapping distance "
        f"from any street: {CELL_M:.0f} m grid cells)"
        if counts.mode == "network"
        else f"{CELL_M:.0f} m grid cells (no street network: point mode)"
    )
    return "\n".join(
        [
            f"# Research export: {_md(area.name)}",
            "",
            f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by Beatplan.",
            f"Period: {pd.Timestamp(start):%Y-%m-%d} to {pd.Timestamp(end):%Y-%m-%d} "
            "(months at either end may be part months).",
            f"Reports counted: aggregated from {counts.n_reports:,} reports; no row describes "
            "a single report and no person is described.",
            f"Units: {unit}. Grid and analysis CRS: {_md(counts.crs.to_string())}.",
            "" if not area.synthetic else "**These data are synthetic (the demo area).**",
            "",
            "## Small counts",
            "",
            SUPPRESSION_RULE.format(t=t, t1=t - 1),
            "",
            "## Categories",
            "",
            *cat_lines,
            "",
            "## Hotspot method (settings in force)",
            "",
            "Risk per segment: harm-weighted reports decayed with a half-life, smoothed along "
            "the network within a bandwidth; significance by Getis-Ord Gi* with false-"
            "discovery-rate control; hotspots are connected runs of significant segments "
            "(point mode: DBSCAN clusters).",
            "",
            hot,
            "",
            "## Snapping",
            "",
            snap,
            "",
            "## Forecast calibration",
            "",
            cal,
            "",
            "## Caveats",
            "",
            "Reports measure reporting as well as activity: a change in counts may be a change "
            "in who reports, not in what happens. Police.uk locations are snapped to anonymous "
            "map points by the police before release.",
            "",
        ]
    )


def _calibration(reports: pd.DataFrame, network: Any, area: Any) -> dict[str, Any]:
    from geo.evaluate import last_month_check

    segments = network.segments if network is not None else None
    try:
        return last_month_check(reports, segments=segments, area=tuple(area.bbox))
    except ValueError as err:
        return {"text": str(err)}


def write_research_export(
    store: Any,
    area: Any,
    *,
    start: Any,
    end: Any,
    out: str | os.PathLike[str],
    network: Any = None,
    settings: Settings,
    categories: list[str] | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Write an area's research export (a zip of :data:`RESEARCH_FILES`); audited.

    Parameters
    ----------
    store
        The store.
    area
        The area whose reports are exported (:class:`geo.areas.Area`).
    start, end
        First and last day (inclusive).
    out
        The ``.zip`` to write.
    network
        The area's street network, or ``None`` (point mode).
    settings
        The area's settings (threshold, hotspot and snapping settings).
    categories
        Categories to count (default: the area's default categories).
    actor
        Who exported it (default: the local operator).

    Returns
    -------
    dict
        ``{"out", "bytes", "files", "rows", "withheld", "totals_withheld", "units",
        "months", "categories", "threshold", "mode", "reports"}``.
    """
    from geo.area_data import default_categories

    out = Path(out)
    if out.suffix.lower() != ".zip":
        msg = f"Cannot write {out.name}: use a .zip file name."
        raise ValueError(msg)
    lo, hi = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if hi < lo:
        msg = "--to is before --from: choose an end date on or after the start."
        raise ValueError(msg)
    cats = categories or default_categories(store, area, settings=settings)
    reports = store.reports(
        start=lo, end=hi + pd.Timedelta(days=1), categories=cats, area_id=area.area_id
    )
    threshold = int(settings.general.get("suppression_threshold", 10))
    counts = research_counts(reports, network=network, threshold=threshold)
    table, totals = _published(counts)
    notes = _method_notes(
        area, settings, counts, start=lo, end=hi, calibration=_calibration(reports, network, area)
    )
    dictionary = pd.DataFrame(list(DICTIONARY), columns=["file", "column", "type", "meaning"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("counts.csv", safe_csv(table))
        zf.writestr("monthly_totals.csv", safe_csv(totals))
        zf.writestr("geography.gpkg", _geopackage(area, network, counts))
        zf.writestr("data_dictionary.csv", safe_csv(dictionary))
        zf.writestr("method_notes.md", notes.encode("utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())
    withheld = int(counts.counts["withheld"].sum())
    store.audit(
        "export",
        f"research export {lo:%Y-%m-%d} to {hi:%Y-%m-%d}: {len(table)} rows, {withheld} withheld",
        n_rows=len(table),
        actor=actor,
    )
    return {
        "out": str(out),
        "bytes": out.stat().st_size,
        "files": list(RESEARCH_FILES),
        "rows": len(table),
        "withheld": withheld,
        "totals_withheld": int(counts.totals["withheld"].sum()),
        "units": int(table["unit_id"].nunique()),
        "months": int(table["month"].nunique()),
        "categories": sorted(set(table["category"])),
        "threshold": threshold,
        "mode": counts.mode,
        "reports": counts.n_reports,
    }
