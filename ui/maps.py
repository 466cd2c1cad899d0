"""Offline-first folium maps: local Leaflet assets, the street network as base layer, escaped text."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import branca.colormap
import folium
import folium.elements
import folium.plugins
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from folium.template import Template
from folium.utilities import JsCode

from geo.settings import check_tiles
from ui.assets import (
    MAP_CSS,
    MAP_JS,
    PLUGIN_ASSETS,
    PROJECT_ROOT,
    VENDOR_BASE_URL,
    VENDOR_DIR,
    configure_offline_assets,
    ensure_offline_assets,
    find_remote_assets,
    missing_vendor_files,
)
from ui.escape import escape_properties, escape_text, html_text, js_string

__all__ = [
    "MAP_CSS",
    "MAP_JS",
    "PLUGIN_ASSETS",
    "PROJECT_ROOT",
    "VENDOR_BASE_URL",
    "VENDOR_DIR",
    "configure_offline_assets",
    "escape_properties",
    "escape_text",
    "find_remote_assets",
    "missing_vendor_files",
    "text_tooltip",
]

# Yellow-orange-red without the palest yellows, which vanish on the light background.
RISK_COLORS: tuple[str, ...] = ("#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
STREET_STYLE: dict[str, Any] = {"color": "#8f8f8f", "weight": 2, "opacity": 0.9}
MAP_BACKGROUND = "#f4f3ef"


def tile_options(maps_settings: Mapping[str, Any]) -> dict[str, str | None]:
    """Read ``tiles`` and ``attribution`` from the ``[maps]`` settings for :func:`base_map`.

    Parameters
    ----------
    maps_settings
        ``load_settings().maps``.

    Returns
    -------
    dict
        ``{"tiles": str | None, "attribution": str}``; ``tiles`` is None for ``"none"``.

    Raises
    ------
    ValueError
        When ``tiles`` is not ``"none"`` or an https tile URL template.
    """
    return {
        "tiles": check_tiles(maps_settings.get("tiles")),
        "attribution": str(maps_settings.get("attribution") or ""),
    }


def _check_bounds(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in bounds)
    except (TypeError, ValueError) as exc:
        msg = "bounds must be four numbers: (min_lon, min_lat, max_lon, max_lat)."
        raise ValueError(msg) from exc
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        msg = "bounds must be finite numbers."
        raise ValueError(msg)
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        msg = f"bounds {bounds!r} are not (min_lon, min_lat, max_lon, max_lat) in WGS84."
        raise ValueError(msg)
    return west, south, east, north


def base_map(
    *,
    bounds: Sequence[float],
    tiles: str | None = None,
    attribution: str = "",
) -> folium.Map:
    """Make an empty map fitted to ``bounds`` that loads its scripts from this server.

    Without ``tiles`` the map has no background tiles and sends no request to any
    other host: draw the street network with :func:`add_street_network` instead.

    Parameters
    ----------
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS84.
    tiles
        ``None`` or ``"none"`` for no tiles (the default), or an https tile URL template
        such as ``https://tiles.example.org/{z}/{x}/{y}.png`` to opt in to a tile service.
    attribution
        The tile service's attribution (plain text from settings, shown escaped; character
        references such as ``&copy;`` are read first; required with ``tiles``).

    Returns
    -------
    folium.Map

    Raises
    ------
    ValueError
        For bad bounds, a ``tiles`` value that is not a URL template, or tiles without
        an attribution.
    """
    ensure_offline_assets()
    west, south, east, north = _check_bounds(bounds)
    tiles = check_tiles(tiles)
    if tiles is not None and not attribution.strip():
        msg = "maps.attribution must credit the tile service when maps.tiles is set."
        raise ValueError(msg)
    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=15,
        tiles=None,
        control_scale=True,
        max_zoom=19,
    )
    if tiles is not None:
        # Leaflet writes the attribution with innerHTML: show it as text, never as markup.
        attr = html_text(html.unescape(attribution))
        folium.TileLayer(tiles=tiles, attr=attr, name="Tiles", max_zoom=19).add_to(m)
    m.get_root().header.add_child(
        Element(f"<style>.leaflet-container {{ background: {MAP_BACKGROUND}; }}</style>"),
        name="beatplan_map_background",
    )
    if west == east or south == north:
        pad = 0.001
        west, east, south, north = west - pad, east + pad, south - pad, north + pad
    m.fit_bounds([[south, west], [north, east]])
    return m


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    return gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]


def _rounded_geometries(geoms: Iterable[Any], *, tolerance: float) -> list[dict[str, Any]]:
    """Simplify (degrees) and round coordinates to 6 decimal places (about 0.1 m)."""
    arr = np.asarray(list(geoms), dtype=object)
    if tolerance > 0:
        arr = shapely.simplify(arr, tolerance, preserve_topology=False)
    arr = shapely.transform(arr, lambda xy: np.round(xy, 6))
    return [shapely.geometry.mapping(g) for g in arr]


def add_street_network(
    m: folium.Map,
    segments_gdf: gpd.GeoDataFrame,
    *,
    name: str = "Streets",
    simplify_tolerance: float = 1e-5,
) -> folium.GeoJson:
    """Draw the street network as a light grey, non-interactive base layer.

    One GeoJson layer with no properties, popups or tooltips, so a map of a few
    thousand segments stays small and reads well with no tiles.

    Parameters
    ----------
    m
        The map from :func:`base_map`.
    segments_gdf
        Street segments (``StreetNetwork.segments``); any CRS, reprojected to WGS84.
    name
        The layer's name (escaped).
    simplify_tolerance
        Douglas–Peucker tolerance in degrees (1e-5 is about a metre); 0 keeps every vertex.

    Returns
    -------
    folium.GeoJson
        The layer, already added to ``m``.
    """
    gdf = _to_wgs84(segments_gdf)
    features = [
        {"type": "Feature", "properties": {}, "geometry": geom}
        for geom in _rounded_geometries(gdf.geometry, tolerance=simplify_tolerance)
    ]
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=escape_text(name),
        interactive=False,
        style=STREET_STYLE,
    )
    layer.add_to(m)
    return layer


def default_colormap(values: Iterable[float]) -> branca.colormap.LinearColormap:
    """Return a yellow-orange-red scale (:data:`RISK_COLORS`) spanning the finite ``values``.

    Parameters
    ----------
    values
        The numbers to colour.

    Returns
    -------
    branca.colormap.LinearColormap
    """
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    arr = arr[np.isfinite(arr)]
    vmin, vmax = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 1.0)
    if vmin == vmax:
        vmax = vmin + 1.0
    return branca.colormap.LinearColormap(list(RISK_COLORS), vmin=vmin, vmax=vmax)


def _fields_and_aliases(
    tooltip_fields: Sequence[str] | Mapping[str, str],
) -> tuple[list[str], list[str]]:
    if isinstance(tooltip_fields, Mapping):
        return list(tooltip_fields), [escape_text(a) for a in tooltip_fields.values()]
    fields = list(tooltip_fields)
    return fields, [escape_text(f) for f in fields]


def add_segments_by_value(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    column: str,
    tooltip_fields: Sequence[str] | Mapping[str, str],
    colormap: branca.colormap.ColorMap | None = None,
    name: str = "Segments",
    weight: float = 5,
    missing_color: str = "#bdbdbd",
    simplify_tolerance: float = 1e-5,
) -> folium.GeoJson:
    """Draw segments coloured by ``column`` with an escaped tooltip.

    The colormap is not added to the map (streamlit-folium would then load d3 from
    CDNs); use :func:`add_legend` for an offline legend.

    Parameters
    ----------
    m
        The map.
    gdf
        Segments with ``column`` and the tooltip columns; any CRS.
    column
        The numeric column that sets the colour; higher values are drawn on top.
    tooltip_fields
        Columns to show on hover, or a mapping column -> label. Text is HTML-escaped.
    colormap
        A branca colormap; by default :func:`default_colormap` over ``column``.
    name
        The layer's name (escaped).
    weight
        Line width in pixels.
    missing_color
        Colour of segments whose value is missing.
    simplify_tolerance
        Douglas–Peucker tolerance in degrees; 0 keeps every vertex.

    Returns
    -------
    folium.GeoJson
        The layer, already added to ``m``.

    Raises
    ------
    ValueError
        If ``column`` or a tooltip column is missing.
    """
    fields, aliases = _fields_and_aliases(tooltip_fields)
    missing = [c for c in [column, *fields] if c not in gdf.columns]
    if missing:
        msg = f"add_segments_by_value: no column(s) {', '.join(map(repr, missing))} in the data."
        raise ValueError(msg)
    gdf = _to_wgs84(gdf)
    gdf = gdf.iloc[np.argsort(gdf[column].to_numpy(dtype=float, na_value=-np.inf), kind="stable")]
    values = gdf[column].to_numpy(dtype=float, na_value=np.nan)
    cmap = colormap if colormap is not None else default_colormap(values)
    geoms = _rounded_geometries(gdf.geometry, tolerance=simplify_tolerance)
    records = gdf[fields].to_dict("records") if fields else [{} for _ in range(len(gdf))]
    features = []
    for i, (geom, value, props) in enumerate(zip(geoms, values, records, strict=True)):
        color = cmap.rgb_hex_str(value) if math.isfinite(value) else missing_color
        properties = escape_properties(props)
        properties["_stroke"] = escape_text(color)
        features.append({"type": "Feature", "id": i, "properties": properties, "geometry": geom})
    style = JsCode(
        "function(feature) { return {color: feature.properties._stroke, "
        f"weight: {float(weight)}, opacity: 0.95, lineCap: 'round'}}; }}"
    )
    escaped_fields = [escape_text(f) for f in fields]
    tooltip = (
        folium.GeoJsonTooltip(fields=escaped_fields, aliases=aliases, sticky=True)
        if fields
        else None
    )
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=escape_text(name),
        tooltip=tooltip,
        style=style,
    )
    layer.add_to(m)
    return layer


class Legend(MacroElement):
    """A static Leaflet control holding a colour scale; needs no d3."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create("div", "beatplan-legend");
            div.innerHTML = {{ this.html|tojson }};
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "Legend"
        self.html = html_text
        self.position = position


def add_legend(
    m: folium.Map,
    colormap: branca.colormap.ColorMap,
    *,
    caption: str,
    position: str = "bottomright",
) -> Legend:
    """Add a colour-scale legend drawn with CSS (no d3, no CDN).

    Parameters
    ----------
    m
        The map.
    colormap
        The colormap used for the layer.
    caption
        The legend's title (escaped).
    position
        A Leaflet control corner: ``topleft``, ``topright``, ``bottomleft``, ``bottomright``.

    Returns
    -------
    Legend
        The control, already added to ``m``.
    """
    if position not in {"topleft", "topright", "bottomleft", "bottomright"}:
        msg = f"position must be a Leaflet corner such as 'bottomright', not {position!r}."
        raise ValueError(msg)
    stops = np.linspace(colormap.vmin, colormap.vmax, 9)
    gradient = ", ".join(escape_text(colormap.rgb_hex_str(v)) for v in stops)
    body = (
        '<div style="background:rgba(255,255,255,.9);padding:6px 8px;border-radius:4px;'
        'font:12px/1.3 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)">'
        f"<div><b>{escape_text(caption)}</b></div>"
        f'<div style="width:160px;height:10px;background:linear-gradient(to right, {gradient})"></div>'
        '<div style="display:flex;justify-content:space-between">'
        f"<span>{escape_text(f'{colormap.vmin:.3g}')}</span>"
        f"<span>{escape_text(f'{colormap.vmax:.3g}')}</span></div></div>"
    )
    legend = Legend(body, position=position)
    legend.add_to(m)
    return legend


def add_outlines(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    label_column: str = "label",
    tooltip_fields: Sequence[str] | Mapping[str, str] = (),
    name: str = "Hotspots",
    color: str = "#1f4e79",
    weight: float = 3,
) -> folium.GeoJson:
    """Draw hotspot outlines (lines or polygons) with an escaped tooltip.

    Parameters
    ----------
    m
        The map.
    gdf
        Hotspots with a geometry column; any CRS.
    label_column
        Column used as the first tooltip line.
    tooltip_fields
        Further columns (or a mapping column -> label) to show on hover.
    name
        The layer's name (escaped).
    color
        Outline colour.
    weight
        Line width in pixels.

    Returns
    -------
    folium.GeoJson
    """
    data = _to_wgs84(gdf)
    fields, aliases = _fields_and_aliases(
        {
            label_column: "Hotspot",
            **(
                dict(tooltip_fields)
                if isinstance(tooltip_fields, Mapping)
                else {f: f for f in tooltip_fields}
            ),
        }
    )
    features = []
    for geom, (_, row) in zip(
        _rounded_geometries(data.geometry, tolerance=1e-5), data.iterrows(), strict=True
    ):
        props = escape_properties({f: row.get(f) for f in fields})
        features.append({"type": "Feature", "geometry": geom, "properties": props})
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=escape_text(name),
        style_function=lambda _f: {
            "color": color,
            "weight": weight,
            "opacity": 0.9,
            "fillOpacity": 0.3,
            "dashArray": "6 4",
        },
        tooltip=folium.GeoJsonTooltip(
            fields=[escape_text(f) for f in fields], aliases=aliases, sticky=True
        )
        if fields
        else None,
    )
    layer.add_to(m)
    return layer


def _html_tooltip(markup: str, *, sticky: bool = True) -> folium.Tooltip:
    """A tooltip for HTML built here (its data parts already :func:`html_text`-escaped).

    folium writes tooltip text inside a JavaScript template literal, so the markup is
    escaped once more for that context: ``${...}``, backticks and ``</script>`` stay text.
    """
    return folium.Tooltip(js_string(markup), sticky=sticky)


def text_tooltip(text: Any, *, sticky: bool = True) -> folium.Tooltip:
    """Make a folium tooltip that shows ``text`` literally (escaped for HTML and JavaScript).

    Pass the result as ``tooltip=`` to any folium layer instead of a string: folium puts
    a string tooltip into a JavaScript template literal unescaped, where ``${...}`` runs.

    Parameters
    ----------
    text
        Plain text from data (team, street, file names...).
    sticky
        Whether the tooltip follows the mouse.

    Returns
    -------
    folium.Tooltip
    """
    return _html_tooltip(html_text(text), sticky=sticky)


TEAM_COLORS: tuple[str, ...] = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")


def add_routes(m: folium.Map, routes: Sequence[Any]) -> list[str]:
    """Draw each team's route in its own colour with numbered stops (escaped tooltips).

    Parameters
    ----------
    m
        The map.
    routes
        ``planning.routes.TeamRoute`` objects (``team.name``, ``path``, ``stops``).

    Returns
    -------
    list of str
        The colour given to each route, in order.
    """
    colors: list[str] = []
    for k, route in enumerate(routes):  # a handful of teams
        color = TEAM_COLORS[k % len(TEAM_COLORS)]
        colors.append(color)
        group = folium.FeatureGroup(name=escape_text(route.team.name))
        path = [(lat, lon) for lon, lat in route.path]
        if len(path) >= 2:
            folium.PolyLine(
                path, color=color, weight=5, opacity=0.85, tooltip=text_tooltip(route.team.name)
            ).add_to(group)
        lon0, lat0 = route.team.base
        folium.CircleMarker(
            (lat0, lon0),
            radius=7,
            color=color,
            fill=True,
            fill_opacity=1,
            tooltip=text_tooltip(f"{route.team.name}: base"),
        ).add_to(group)
        for stop in route.stops:
            badge = (
                f'<div style="background:{color};color:#fff;border-radius:50%;width:24px;'
                f"height:24px;line-height:24px;text-align:center;font:bold 13px sans-serif;"
                f'border:2px solid #fff;box-shadow:0 0 3px #0006">{int(stop.order)}</div>'
            )
            tip = (
                f"{escape_text(route.team.name)} · stop {int(stop.order)}<br>"
                f"{escape_text(stop.label)}<br>{stop.arrive:%H:%M}–{stop.leave:%H:%M}"
            )
            folium.Marker(
                (stop.lat, stop.lon),
                icon=folium.DivIcon(html=badge, icon_size=(24, 24), icon_anchor=(12, 12)),
                tooltip=_html_tooltip(tip),
            ).add_to(group)
        group.add_to(m)
    return colors
