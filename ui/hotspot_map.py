"""Hotspots page map layers: ids, trend-styled outlines, heat, report points, boundary, legend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import folium.plugins
import numpy as np
import pandas as pd
import shapely
from branca.element import CssLink, JavascriptLink, MacroElement
from folium.map import Layer
from folium.template import Template

from planning.map_export import OUTLINE_COLOUR
from ui.escape import escape_properties, escape_text, html_text
from ui.maps import Legend, _rounded_geometries, _to_wgs84
from ui.static_layers import render_as_text, safe_json

__all__ = [
    "CATEGORY_COLOURS",
    "TREND_STYLE",
    "add_boundary",
    "add_heat_layer",
    "add_hotspot_outlines",
    "add_report_points",
    "add_risk_layer",
    "colormap_hex",
    "heat_points",
    "hotspot_legend",
]

#: Badge colour and outline dash per trend word.
TREND_STYLE: dict[str, tuple[str, str | None]] = {
    "new": ("#6a1b9a", None),
    "growing": ("#c62828", None),
    "steady": (OUTLINE_COLOUR, None),
    "fading": ("#546e7a", "8 6"),
    "gone": ("#757575", "2 6"),
}
CATEGORY_COLOURS = (
    "#1b9e77",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#1f78b4",
    "#666666",
)
MAX_POINTS = 5000
#: At most this many places go to the heat layer (:func:`heat_points`).
MAX_HEAT_POINTS = 20_000


def add_hotspot_outlines(
    m: folium.Map,
    hotspots: pd.DataFrame,
    *,
    trends: Mapping[str, str] | None = None,
    name: str = "Hotspot outlines and ids",
    tooltip_fields: Mapping[str, str] | None = None,
    show: bool = True,
) -> folium.FeatureGroup:
    """Draw hotspot outlines in :data:`OUTLINE_COLOUR` with an id badge styled by trend.

    All outlines are one GeoJSON layer (dashes by trend) and all badges one script, so a
    map of many hotspots stays a handful of elements.

    Parameters
    ----------
    m
        The map.
    hotspots
        The hotspot table (``hotspot_id``, ``geometry``; tooltip columns).
    trends
        hotspot id -> trend word (:data:`TREND_STYLE`); outline dashes and badge colours follow it.
    name
        The layer's name in the layer switcher.
    tooltip_fields
        column -> label shown on hover (escaped).
    show
        Whether the layer starts visible.

    Returns
    -------
    folium.FeatureGroup
    """
    group = folium.FeatureGroup(name=escape_text(name), show=show)
    data = _to_wgs84(hotspots)
    fields = dict(tooltip_fields or {})
    trends = dict(trends or {})
    ids = [str(h) for h in data["hotspot_id"]]
    if ids:
        geoms = _rounded_geometries(data.geometry, tolerance=1e-5)
        records = data[list(fields)].to_dict("records") if fields else [{}] * len(data)
        styles = [TREND_STYLE.get(trends.get(h, "steady"), TREND_STYLE["steady"]) for h in ids]
        dashes = {str(k): dash for k, (_, dash) in enumerate(styles)}
        features = [
            {"type": "Feature", "id": str(k), "properties": escape_properties(rec), "geometry": g}
            for k, (rec, g) in enumerate(zip(records, geoms, strict=True))
        ]
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            style_function=lambda f: _outline_style(dashes.get(str(f.get("id")))),
            tooltip=folium.GeoJsonTooltip(
                fields=[escape_text(f) for f in fields],
                aliases=[escape_text(a) for a in fields.values()],
                sticky=True,
            )
            if fields
            else None,
        ).add_to(group)
        anchors = shapely.point_on_surface(np.asarray(data.geometry.values))
        badges = [
            [round(float(a.y), 6), round(float(a.x), 6), _badge_html(hid, colour)]
            for hid, a, (colour, _) in zip(ids, anchors, styles, strict=True)
        ]
        group.add_child(_Badges(badges))
    group.add_to(m)
    return group


def _outline_style(dash: str | None) -> dict[str, Any]:
    return {
        "color": OUTLINE_COLOUR,
        "weight": 4,
        "opacity": 0.95,
        "fillColor": OUTLINE_COLOUR,
        "fillOpacity": 0.12,
        "dashArray": dash,
    }


def _badge_html(hotspot_id: str, colour: str) -> str:
    return (
        f'<div class="hotspot-id" style="background:{colour};color:#fff;border-radius:10px;'
        "padding:1px 6px;font:bold 12px sans-serif;border:2px solid #fff;white-space:nowrap;"
        f'box-shadow:0 0 3px #0008;display:inline-block">{html_text(hotspot_id)}</div>'
    )


class _Badges(MacroElement):
    """Id badges (Leaflet div icons) from a JSON array, added to the parent layer in one script."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var badges = {{ this.badges|tojson }};
            for (var i = 0; i < badges.length; i++) {
                L.marker([badges[i][0], badges[i][1]], {icon: L.divIcon({
                    className: "empty", html: badges[i][2], iconSize: [44, 20], iconAnchor: [14, 10]
                })}).addTo({{ this._parent.get_name() }});
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, badges: list[list[Any]]) -> None:
        super().__init__()
        self._name = "Badges"
        self.badges = badges

    def render(self, **kwargs: Any) -> None:
        """Render without compiling the output as a template."""
        render_as_text(self, **kwargs)


def _cell_keys(cells: np.ndarray) -> np.ndarray:
    """One sortable integer per (lat, lon) grid cell (lat first, as a row sort)."""
    return (cells[:, 0] + 2**27) * 2**30 + (cells[:, 1] + 2**28)


def heat_points(lat: Any, lon: Any, *, max_points: int = MAX_HEAT_POINTS) -> np.ndarray:
    """Report places for Leaflet.heat: ``[lat, lon]`` rows, or ``[lat, lon, count]`` rows.

    Places are rounded to 1e-5 degree (about a metre) and the reports at one place go
    once with their count (Leaflet.heat adds a point's weight as it adds repeats, so the
    map is the same). Where more than ``max_points`` places remain, they are pooled into
    the finest grid of 2, 3, 4, 6, 8, 12, ... such steps with at most ``max_points`` cells, each
    sent once at its reports' mean place with their count: every report keeps its weight
    and the page stays small at a million reports.

    Parameters
    ----------
    lat, lon
        Report coordinates (missing ones are dropped).
    max_points
        At most this many places are sent.

    Returns
    -------
    numpy.ndarray
        Rows sorted by (lat, lon); a third column of counts when any count exceeds 1.

    Raises
    ------
    ValueError
        When ``max_points`` is below 1.
    """
    if max_points < 1:
        msg = f"max_points must be at least 1 (got {max_points}); the heat layer needs a place."
        raise ValueError(msg)
    xy = np.c_[np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)]
    xy = xy[np.isfinite(xy).all(axis=1)]
    steps = np.rint(xy * 1e5).astype(np.int64)  # as numpy rounds to 5 decimals
    keys, first, counts = np.unique(_cell_keys(steps), return_index=True, return_counts=True)
    places = steps[first]
    pts = places / 1e5
    sizes = iter(sorted({2**k for k in range(1, 32)} | {3 * 2**k for k in range(31)}))
    size = 1
    while len(keys) > max_points:
        size = next(sizes)
        keys, cell = np.unique(_cell_keys(places // size), return_inverse=True)
    if size > 1:
        weight = np.bincount(cell, weights=counts)
        pts = np.c_[
            np.bincount(cell, weights=counts * places[:, 0]) / weight,
            np.bincount(cell, weights=counts * places[:, 1]) / weight,
        ]
        pts, counts = np.round(pts / 1e5, 5), weight
    return np.c_[pts, counts] if len(counts) and counts.max() > 1 else pts


def add_heat_layer(
    m: folium.Map, reports: pd.DataFrame, *, name: str = "Heat map (report density)"
) -> folium.FeatureGroup:
    """A kernel-density heat layer of the report points (Leaflet.heat, served locally).

    Parameters
    ----------
    m
        The map.
    reports
        Reports with ``lon``, ``lat`` (sent as :func:`heat_points`).
    name
        The layer's name; the layer starts hidden.

    Returns
    -------
    folium.FeatureGroup
    """
    group = folium.FeatureGroup(name=escape_text(name), show=False)
    pts = heat_points(reports["lat"].to_numpy(float), reports["lon"].to_numpy(float))
    _Heat(pts, radius=18, blur=22, min_opacity=0.3).add_to(group)
    group.add_to(m)
    return group


class _Heat(folium.plugins.HeatMap):
    """Leaflet.heat from finite numpy points: no per-point check, bounds by numpy, added as text.

    folium validates each point in Python and compiles the rendered script (every point)
    as a template: 0.75 s for 80,000 reports.
    """

    def __init__(self, points: np.ndarray, **options: Any) -> None:
        super().__init__([[0.0, 0.0]], **options)
        self.data = points.tolist()
        self._bounds = (
            [points[:, :2].min(axis=0).tolist(), points[:, :2].max(axis=0).tolist()]
            if len(points)
            else [[None, None], [None, None]]
        )

    def _get_self_bounds(self) -> list[list[float | None]]:
        return self._bounds

    def render(self, **kwargs: Any) -> None:
        """Link leaflet-heat as folium does, then add the script as text."""
        figure = self.get_root()
        for name, url in self.default_js:
            figure.header.add_child(JavascriptLink(url), name=name)
        for name, url in self.default_css:
            figure.header.add_child(CssLink(url), name=name)
        render_as_text(self, **kwargs)


class _ClusterPoints(MacroElement):
    """Circle markers added to a marker cluster in one script, from compact JSON arrays.

    Each point is ``[lat, lon, category index, day index]``; ``kinds`` holds each
    category's colour and escaped tooltip start, ``days`` the escaped dates.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var pts = {{ this.points|tojson }}, kinds = {{ this.kinds|tojson }};
            var days = {{ this.days|tojson }};
            var cluster = {{ this.cluster.get_name() }};
            for (var i = 0; i < pts.length; i++) {
                var p = pts[i], k = kinds[p[2]];
                cluster.addLayer(L.circleMarker([p[0], p[1]], {
                    radius: 5, color: "#ffffff", weight: 1, fillColor: k[0], fillOpacity: 0.95
                }).bindTooltip(k[1] + days[p[3]]));
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, cluster: Any, points: list[list[Any]], kinds: list[list[str]], days: list[str]
    ) -> None:
        super().__init__()
        self._name = "ClusterPoints"
        self.cluster = cluster
        self.points = points
        self.kinds = kinds
        self.days = days

    def render(self, **kwargs: Any) -> None:
        """Render without compiling the output (thousands of points) as a template."""
        render_as_text(self, **kwargs)


def add_report_points(
    m: folium.Map,
    reports: pd.DataFrame,
    *,
    labels: Mapping[str, str],
    name: str = "Reports by category",
    max_points: int = MAX_POINTS,
) -> dict[str, str]:
    """Report points coloured by category, clustered when many (leaflet.markercluster).

    Tooltips read "category · day", HTML-escaped; the data reach the page as JSON
    literals, each category and day written once.

    Parameters
    ----------
    m
        The map.
    reports
        Reports with ``lon``, ``lat``, ``category``, ``occurred_at``.
    labels
        category slug -> display name.
    name
        The layer's name; the layer starts hidden.
    max_points
        At most this many (the latest) are drawn.

    Returns
    -------
    dict
        display name -> colour, for the legend.
    """
    reps = reports.dropna(subset=["lon", "lat"])
    if len(reps) > max_points:
        reps = reps.nlargest(max_points, "occurred_at")
    cat_codes, cats = pd.factorize(reps["category"].astype(str), sort=True)
    day_codes, days = pd.factorize(pd.to_datetime(reps["occurred_at"]).dt.normalize(), sort=True)
    colours = {c: CATEGORY_COLOURS[k % len(CATEGORY_COLOURS)] for k, c in enumerate(cats)}
    kinds = [[colours[c], f"{html_text(labels.get(c, c))} · "] for c in cats]
    day_text = [html_text(f"{d:%-d %b %Y}") for d in days]
    xy = np.round(reps[["lat", "lon"]].to_numpy(dtype=float), 5).tolist()
    points = [
        [la, lo, int(c), int(d)]
        for (la, lo), c, d in zip(xy, cat_codes.tolist(), day_codes.tolist(), strict=True)
    ]
    group = folium.FeatureGroup(name=escape_text(name), show=False)
    cluster = folium.plugins.MarkerCluster(disable_clustering_at_zoom=18).add_to(group)
    group.add_child(_ClusterPoints(cluster, points, kinds, day_text))
    group.add_to(m)
    return {labels.get(c, c): colours[c] for c in cats}


def add_boundary(
    m: folium.Map, bbox: Sequence[float], *, name: str = "Area boundary"
) -> folium.GeoJson:
    """The area's boundary box as a dark dashed line.

    Parameters
    ----------
    m
        The map.
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)``.
    name
        The layer's name.

    Returns
    -------
    folium.GeoJson
    """
    geom = shapely.geometry.mapping(shapely.box(*(float(v) for v in bbox)))
    layer = folium.GeoJson(
        {"type": "Feature", "properties": {}, "geometry": geom},
        name=escape_text(name),
        interactive=False,
        style_function=lambda _f: {
            "color": "#222222",
            "weight": 2,
            "fill": False,
            "dashArray": "10 6",
        },
    )
    layer.add_to(m)
    return layer


def _swatch(colour: str, text: str, *, line: str | None = None) -> str:
    shape = (
        f'<span style="display:inline-block;width:22px;height:0;border-top:4px {line} {colour};'
        'vertical-align:middle;margin-right:6px"></span>'
        if line
        else f'<span style="display:inline-block;width:12px;height:12px;background:{colour};'
        'border-radius:6px;vertical-align:middle;margin-right:6px"></span>'
    )
    return f"<div>{shape}{html_text(text)}</div>"


def hotspot_legend(
    m: folium.Map,
    *,
    risk_range: tuple[float, float] | None,
    risk_colours: Sequence[str],
    trends: Sequence[str] = (),
    categories: Mapping[str, str] | None = None,
) -> Legend:
    """One legend in words: street risk, hotspot outline, trend badges and report categories.

    Parameters
    ----------
    m
        The map.
    risk_range
        Lowest and highest street risk drawn, or None when no risk layer.
    risk_colours
        The risk colour ramp.
    trends
        Trend words present (their badge colours are listed).
    categories
        display name -> colour of the report points.

    Returns
    -------
    Legend
    """
    parts = [
        '<div style="background:rgba(255,255,255,.93);padding:6px 9px;border-radius:4px;'
        'font:12px/1.4 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:230px">'
    ]
    if risk_range is not None:
        lo, hi = risk_range
        gradient = ", ".join(escape_text(c) for c in risk_colours)
        parts.append(
            "<div><b>Street risk</b><br>reports weighted by harm; recent ones count more</div>"
            f'<div style="height:10px;background:linear-gradient(to right, {gradient})"></div>'
            '<div style="display:flex;justify-content:space-between">'
            f"<span>lower ({lo:.1f})</span><span>higher ({hi:.1f})</span></div>"
        )
    parts.append(_swatch(OUTLINE_COLOUR, "Hotspot outline", line="solid"))
    for word in trends:
        colour, _ = TREND_STYLE.get(word, TREND_STYLE["steady"])
        parts.append(_swatch(colour, f"Id badge: {word}"))
    for text, colour in (categories or {}).items():
        parts.append(_swatch(colour, text))
    parts.append(_swatch("#222222", "Area boundary", line="dashed"))
    parts.append("</div>")
    legend = Legend("".join(parts), position="bottomright")
    legend.add_to(m)
    return legend


class _RiskLayer(Layer):
    """Street segments coloured per feature, with a text tooltip each, from prepared JSON text."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = L.geoJson({{ this.data_js }}, {"
        "style: function (f) { return {color: f.properties.c, weight: {{ this.weight }}, "
        "opacity: 0.95, lineCap: 'round'}; }, "
        "onEachFeature: function (f, l) { var h = {{ this.heads_js }}, t = '<table>';"
        " for (var k = 0; k < h.length; k++) {"
        " t += '<tr><th>' + h[k] + '</th><td>' + f.properties.t[k] + '</td></tr>'; }"
        " l.bindTooltip(t + '</table>', {sticky: true}); }"
        "});"
        "{% endmacro %}"
    )

    def __init__(self, data_js: str, *, heads: list[str], name: str, weight: float) -> None:
        super().__init__(name=escape_text(name), overlay=True, show=True)
        self._name = "RiskLayer"
        self.data_js = data_js
        self.heads_js = safe_json(heads)  # escaped HTML, as the cells
        self.weight = float(weight)

    def render(self, **kwargs: Any) -> None:
        """Render without compiling the JSON as a template."""
        render_as_text(self, **kwargs)


def colormap_hex(cmap: Any, values: np.ndarray) -> np.ndarray:
    """``cmap.rgb_hex_str`` of every value at once (a branca LinearColormap, vectorised).

    Parameters
    ----------
    cmap
        A :class:`branca.colormap.LinearColormap`.
    values
        Finite numbers.

    Returns
    -------
    numpy.ndarray
        ``"#rrggbb"`` strings, equal to ``cmap.rgb_hex_str(v)`` for each value.
    """
    index = np.asarray(cmap.index, dtype=float)
    colours = np.asarray(cmap.colors, dtype=float)[:, :3]
    x = np.asarray(values, dtype=float)
    i = np.clip(np.searchsorted(index, x, side="left"), 1, len(index) - 1)
    gap = index[i] - index[i - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(gap > 0, (x - index[i - 1]) / gap, 1.0)
    rgb = (1.0 - p)[:, None] * colours[i - 1] + p[:, None] * colours[i]
    rgb = np.where((x <= index[0])[:, None], colours[0], rgb)
    rgb = np.where((x >= index[-1])[:, None], colours[-1], rgb)
    ints = (rgb * 255.9999).astype(np.int64)
    return np.array([f"#{r:02x}{g:02x}{b:02x}" for r, g, b in ints], dtype=object)


def add_risk_layer(
    m: folium.Map,
    segments: pd.DataFrame,
    *,
    column: str,
    colormap: Any,
    labels: Mapping[str, str],
    name: str = "Risk by street",
    weight: float = 5,
) -> _RiskLayer:
    """Street segments coloured by ``column`` (highest on top), with an escaped tooltip each.

    The same drawing as :func:`ui.maps.add_segments_by_value`, written as one prepared
    script: colours computed at once, tooltip cells HTML-escaped here (Leaflet shows them
    as text in a small table), no per-feature style mapping and no template compiling.

    Parameters
    ----------
    m
        The map.
    segments
        Segments (GeoDataFrame) with ``column`` and the ``labels`` columns.
    column
        The numeric column that sets the colour.
    colormap
        A branca LinearColormap.
    labels
        column -> label of the tooltip rows (``column`` is written with two decimals).
    name
        The layer's name in the layer switcher.
    weight
        Line width in pixels.

    Returns
    -------
    _RiskLayer
        The layer, already added to ``m``.
    """
    data = _to_wgs84(segments)
    order = np.nan_to_num(data[column].to_numpy(dtype=float), nan=-np.inf)  # missing first
    data = data.iloc[np.argsort(order, kind="stable")]
    values = data[column].to_numpy(dtype=float)
    geoms = shapely.simplify(np.asarray(data.geometry.values), 1e-5, preserve_topology=False)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, 6))
    finite = np.isfinite(values)
    colours = np.where(finite, colormap_hex(colormap, np.where(finite, values, 0.0)), "#bdbdbd")
    cells = {
        c: [f"{v:.2f}" for v in values] if c == column else [html_text(v) for v in data[c]]
        for c in labels
    }
    rows = list(zip(*cells.values(), strict=True)) if cells else [()] * len(values)
    props = [safe_json({"c": c, "t": list(r)}) for c, r in zip(colours, rows, strict=True)]
    features = ",".join(
        f'{{"type":"Feature","properties":{p},"geometry":{g}}}'
        for p, g in zip(props, shapely.to_geojson(geoms), strict=True)
    )
    text = '{"type":"FeatureCollection","features":[' + features + "]}"
    heads = [html_text(a) for a in labels.values()]
    layer = _RiskLayer(text, heads=heads, name=name, weight=weight)
    layer.add_to(m)
    return layer
