"""Hotspots out of the app: a plain table, GeoJSON, KML, CSV and a printable A4 map (PDF)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import pandas as pd
import shapely

from geo.hotspots import format_hour_windows
from geo.privacy import safe_csv
from planning.charts import chart_style, pyplot

__all__ = [
    "MARKING",
    "OUTLINE_COLOUR",
    "SKILL_WORDS",
    "hotspot_rows",
    "hotspots_csv",
    "hotspots_geojson",
    "hotspots_kml",
    "hotspots_map_pdf",
]

MARKING = "OFFICIAL-SENSITIVE"
#: Hotspot outlines: a strong blue that stands out on grey streets and yellow-red risk.
OUTLINE_COLOUR = "#0b61d8"
SKILL_WORDS = {"outreach": "outreach worker", "sharps": "sharps team", "police": "PCSO / police"}
# XML 1.0 forbids most control characters; the bidi overrides can disguise text.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_RISK_COLOURS = ("#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


def _clean(value: Any) -> str:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return _UNSAFE.sub("", text)


def hotspot_rows(
    hotspots: pd.DataFrame,
    *,
    label: Callable[[str], str] = str,
    trends: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The hotspot table in plain words, one row per hotspot (for pages and exports).

    Parameters
    ----------
    hotspots
        The hotspot table (docs/CONTRACTS.md); a ``rank`` column is used when present.
    label
        Category slug -> its display name (``settings.label``).
    trends
        :func:`geo.trend.hotspot_trends` output, joined by ``hotspot_id``.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``hotspot_id``, ``where``, ``reports``, ``risk``, ``main_categories``,
        ``active_hours``, ``who_should_go`` and, with ``trends``, ``trend``,
        ``this_period``, ``last_period``.
    """
    n = len(hotspots)
    rank = hotspots["rank"] if "rank" in hotspots else pd.Series(range(1, n + 1))
    out = pd.DataFrame(
        {
            "rank": np.asarray(rank, dtype=int),
            "hotspot_id": [_clean(h) for h in hotspots["hotspot_id"]],
            "where": [_clean(w) for w in hotspots["label"]],
            "reports": np.asarray(hotspots["n_reports"], dtype=int),
            "risk": np.round(np.asarray(hotspots["risk"], dtype=float), 1),
            "main_categories": [
                ", ".join(
                    f"{_clean(label(k))} {int(v)}"
                    for k, v in sorted(dict(c).items(), key=lambda kv: -kv[1])[:3]
                )
                for c in hotspots["counts"]
            ],
            "active_hours": [format_hour_windows(list(h)) for h in hotspots["active_hours"]],
            "who_should_go": [SKILL_WORDS.get(str(s), _clean(s)) for s in hotspots["skill"]],
        }
    )
    if trends is not None:
        t = trends.set_index("hotspot_id").reindex(out["hotspot_id"])
        out["trend"] = t["trend"].fillna("steady").to_numpy()
        out["this_period"] = t["this_period"].fillna(0).astype(int).to_numpy()
        out["last_period"] = t["last_period"].fillna(0).astype(int).to_numpy()
    return out


def _geometries(hotspots: pd.DataFrame) -> np.ndarray:
    geo = hotspots.geometry
    if getattr(geo, "crs", None) is not None and not geo.crs.equals("EPSG:4326"):
        geo = geo.to_crs(4326)
    return shapely.transform(np.asarray(geo.values), lambda xy: np.round(xy, 6))


def hotspots_geojson(rows: pd.DataFrame, hotspots: pd.DataFrame) -> str:
    """A GeoJSON FeatureCollection of the hotspots with their plain-word properties.

    ``<``, ``>`` and ``&`` are written as ``\\u`` escapes, so the text stays inert even
    when a viewer drops it into a web page.

    Parameters
    ----------
    rows
        :func:`hotspot_rows` output, aligned with ``hotspots``.
    hotspots
        The hotspot table (for the geometry).

    Returns
    -------
    str
    """
    features = [
        {
            "type": "Feature",
            "properties": {k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items()},
            "geometry": shapely.geometry.mapping(geom),
        }
        for rec, geom in zip(rows.to_dict("records"), _geometries(hotspots), strict=True)
    ]
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _kml_coords(coords: np.ndarray) -> str:
    return " ".join(f"{x:.6f},{y:.6f}" for x, y in coords[:, :2])


def _kml_geometry(geom: Any) -> str:
    parts = shapely.get_parts(geom)
    out = []
    for part in parts:
        if part.geom_type == "LineString":
            out.append(
                f"<LineString><coordinates>{_kml_coords(shapely.get_coordinates(part))}"
                "</coordinates></LineString>"
            )
        elif part.geom_type == "Polygon":
            ring = _kml_coords(shapely.get_coordinates(part.exterior))
            out.append(
                "<Polygon><outerBoundaryIs><LinearRing><coordinates>"
                f"{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
            )
        elif part.geom_type == "Point":
            out.append(f"<Point><coordinates>{part.x:.6f},{part.y:.6f}</coordinates></Point>")
    return f"<MultiGeometry>{''.join(out)}</MultiGeometry>"


def hotspots_kml(rows: pd.DataFrame, hotspots: pd.DataFrame, *, title: str) -> str:
    """A KML document (Google Earth, QGIS, ArcGIS) with one placemark per hotspot.

    Every text is XML-escaped and control characters are removed; the description is
    plain text (no HTML), so a viewer shows it as written.

    Parameters
    ----------
    rows, hotspots
        As for :func:`hotspots_geojson`.
    title
        The document's name.

    Returns
    -------
    str
        The KML text.
    """
    colour = "ff" + OUTLINE_COLOUR[5:7] + OUTLINE_COLOUR[3:5] + OUTLINE_COLOUR[1:3]  # aabbggrr
    marks = []
    for rec, geom in zip(rows.to_dict("records"), _geometries(hotspots), strict=True):
        data = "".join(
            f'<Data name="{xml_escape(str(k), {chr(34): "&quot;"})}"><value>'
            f"{xml_escape(_clean(v))}</value></Data>"
            for k, v in rec.items()
        )
        desc = (
            f"{rec['reports']} reports; {rec['main_categories']}; "
            f"active {rec['active_hours']}; who should go: {rec['who_should_go']}"
        )
        marks.append(
            f"<Placemark><name>{xml_escape(_clean(rec['hotspot_id']))} "
            f"{xml_escape(_clean(rec['where']))}</name>"
            f"<description>{xml_escape(_clean(desc))}</description>"
            f"<styleUrl>#hotspot</styleUrl><ExtendedData>{data}</ExtendedData>"
            f"{_kml_geometry(geom)}</Placemark>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<name>{xml_escape(_clean(title))}</name>"
        f'<Style id="hotspot"><LineStyle><color>{colour}</color><width>4</width></LineStyle>'
        f"<PolyStyle><color>4d{colour[2:]}</color></PolyStyle></Style>"
        f"{''.join(marks)}</Document></kml>\n"
    )


def hotspots_csv(rows: pd.DataFrame, hotspots: pd.DataFrame) -> bytes:
    """The hotspot table as CSV with a representative point, safe to open in a spreadsheet.

    Parameters
    ----------
    rows, hotspots
        As for :func:`hotspots_geojson` (the point is a point on each hotspot's geometry).

    Returns
    -------
    bytes
        UTF-8 with a BOM; cells starting ``= + - @``, tab or CR neutralised.
    """
    out = rows.copy()
    pts = shapely.point_on_surface(_geometries(hotspots)) if len(rows) else np.zeros(0)
    out["lon"] = np.round(shapely.get_x(pts), 5) if len(rows) else []
    out["lat"] = np.round(shapely.get_y(pts), 5) if len(rows) else []
    return safe_csv(out)


def _risk_cmap() -> Any:
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("risk", list(_RISK_COLOURS))


#: How a hotspot's id is written on the map: white bold text on a box of the outline colour.
_ID_LABEL = {"ha": "center", "va": "center", "fontsize": 7.5, "weight": "bold", "color": "white"}
_ID_LABEL |= {
    "zorder": 5,
    "bbox": {"boxstyle": "round,pad=0.25", "fc": OUTLINE_COLOUR, "ec": "white", "lw": 0.8},
}


def _draw_layers(ax: Any, frame: Any, streets: Any, risk: Any, hotspots: Any, pe: Any) -> Any:
    """Grey streets, risk-coloured streets and hotspot outlines with their ids."""
    from matplotlib.collections import LineCollection

    def lines(gdf: Any) -> tuple[list[np.ndarray], np.ndarray]:
        coords, idx = shapely.get_coordinates(np.asarray(gdf.geometry.values), return_index=True)
        return np.split(frame.xy(coords), np.flatnonzero(np.diff(idx)) + 1), np.unique(idx)

    if streets is not None and len(streets):
        segs, _ = lines(streets)
        ax.add_collection(LineCollection(segs, linewidths=0.6, colors="#c4c4c4", zorder=1))
    mappable = None
    if risk is not None and len(risk):
        segs, present = lines(risk)
        values = np.asarray(risk["smoothed_risk"], dtype=float)[present]
        lc = LineCollection(segs, linewidths=2.2, cmap=_risk_cmap(), zorder=2)
        lc.set_array(values)
        mappable = ax.add_collection(lc)
    geoms = _geometries(hotspots)
    for hid, geom in zip(hotspots["hotspot_id"], geoms, strict=True):
        for part in shapely.get_parts(geom):
            ring = part.exterior if part.geom_type == "Polygon" else part
            xy = frame.xy(shapely.get_coordinates(ring))
            ax.plot(xy[:, 0], xy[:, 1], color=OUTLINE_COLOUR, lw=2.4, zorder=3, alpha=0.9)
        at = frame.xy(shapely.get_coordinates(shapely.point_on_surface(geom)))[0]
        ax.text(at[0], at[1], _clean(hid), **_ID_LABEL)
    return mappable


def hotspots_map_pdf(
    hotspots: pd.DataFrame,
    *,
    streets: pd.DataFrame | None,
    risk: pd.DataFrame | None,
    area: str,
    start: date,
    end: date,
    bounds: Sequence[float] | None = None,
    marking: str = MARKING,
    notes: Mapping[str, str] | None = None,
) -> bytes:
    """A printable A4 landscape map: title, area, period, legend, scale bar, north arrow, marking.

    Parameters
    ----------
    hotspots
        The hotspot table (WGS84 geometry).
    streets
        Street segments to draw in grey, or None.
    risk
        Segments with ``smoothed_risk`` to colour, or None.
    area
        The area's name (plain text).
    start, end
        The period shown.
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` to show; default the hotspots' extent.
    marking
        The protective marking printed top and bottom.
    notes
        Extra legend lines, label -> text.

    Returns
    -------
    bytes
        The PDF.
    """
    plt = pyplot()
    import matplotlib.patheffects as pe
    from matplotlib.lines import Line2D

    from planning.briefing_map import _draw_scale_and_north, _map_frame

    if bounds is None:
        if not len(hotspots):
            msg = "There are no hotspots to print; widen the period or categories."
            raise ValueError(msg)
        bounds = tuple(shapely.total_bounds(_geometries(hotspots)))
    w, s, e, n = (float(v) for v in bounds)
    width_in, height_in = 8.0, 6.2
    frame = _map_frame(np.array([[w, s], [e, n]]), width_in, height_in)
    with chart_style():
        fig = plt.figure(figsize=(11.69, 8.27))
        fig.text(0.5, 0.975, marking, ha="center", va="top", weight="bold", color="#b00020")
        fig.text(0.5, 0.02, marking, ha="center", va="bottom", weight="bold", color="#b00020")
        fig.text(0.04, 0.93, f"Hotspots: {_clean(area) or 'area'}", fontsize=16, weight="bold")
        period = f"{start:%-d %b %Y} to {end:%-d %b %Y}"
        fig.text(0.04, 0.895, f"Period {period} · {len(hotspots)} hotspots", fontsize=10)
        ax = fig.add_axes((0.04, 0.07, 8.0 / 11.69, 6.2 / 8.27))
        ax.set_xlim(frame.xmin, frame.xmax)
        ax.set_ylim(frame.ymin, frame.ymax)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        mappable = _draw_layers(ax, frame, streets, risk, hotspots, pe)
        _draw_scale_and_north(ax, frame, pe)
        handles = [
            Line2D([], [], color=OUTLINE_COLOUR, lw=2.4, label="Hotspot outline and id"),
            Line2D([], [], color="#c4c4c4", lw=1.2, label="Street"),
        ]
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.75, 0.8), frameon=False)
        if mappable is not None:
            cax = fig.add_axes((0.76, 0.52, 0.2, 0.02))
            bar = fig.colorbar(mappable, cax=cax, orientation="horizontal")
            bar.set_ticks([bar.vmin, bar.vmax], labels=["lower", "higher"])
            cax.set_title(
                "Street risk: reports weighted by harm,\nrecent ones count more", loc="left"
            )
        lines = [f"{k}: {v}" for k, v in (notes or {}).items()]
        lines.append(f"Printed {date.today():%-d %b %Y}. Street data © OpenStreetMap contributors.")
        fig.text(0.76, 0.45, "\n".join(_clean(t) for t in lines), va="top", wrap=True)
        buf = io.BytesIO()
        fig.savefig(buf, format="pdf")
        plt.close(fig)
    return buf.getvalue()
