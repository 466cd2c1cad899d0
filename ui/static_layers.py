"""Map layers written as prepared script text: the street network once per network, no recompiling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import numpy as np
import shapely
from branca.element import Element, MacroElement
from folium.elements import ElementAddToElement
from folium.map import Layer
from folium.template import Template
from jinja2.utils import htmlsafe_json_dumps

from ui.escape import escape_text
from ui.maps import STREET_STYLE

__all__ = [
    "PreparedGeoJson",
    "PreparedLines",
    "render_as_text",
    "safe_json",
    "street_layer",
    "street_lines",
    "streets_geojson",
]

#: The street network's look (:data:`ui.maps.STREET_STYLE`): light grey, not interactive.
STREET_OPTIONS = {"interactive": False, "style": dict(STREET_STYLE)}
_CACHE_KEY = "street_layer_lines"


def safe_json(value: Any) -> str:
    """JSON text that is safe inside an HTML ``<script>`` (``<``, ``>``, ``&``, ``'`` escaped).

    Parameters
    ----------
    value
        Any JSON-serialisable value.

    Returns
    -------
    str
        The JSON text, as Jinja's ``tojson`` writes it.
    """
    return str(htmlsafe_json_dumps(value))


class _Text(Element):
    """Text put into the page as it is (branca would compile it as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        del kwargs
        return self._text


def render_as_text(element: MacroElement, **kwargs: Any) -> None:
    """Render a MacroElement as branca does, but add its script to the page as plain text.

    branca turns each rendered script into a new Jinja template and compiles it: for a
    layer holding thousands of features that lexes the whole JSON (0.2-0.5 s per map on the
    demo). The output is the same text.

    Parameters
    ----------
    element
        The element (a :class:`folium.map.Layer` is also added to its parent when shown).
    **kwargs
        Passed on to the children's ``render``.
    """
    if isinstance(element, Layer) and element.show:
        element.add_child(
            ElementAddToElement(
                element_name=element.get_name(),
                element_parent_name=element._parent.get_name(),
            ),
            name=element.get_name() + "_add",
        )
    figure = element.get_root()
    script = element._template.module.__dict__.get("script")
    if script is not None:
        figure.script.add_child(_Text(script(element, kwargs)), name=element.get_name())
    for child in element._children.values():
        child.render(**kwargs)


class PreparedGeoJson(Layer):
    """A Leaflet GeoJSON layer from prepared JSON text (no properties, popups or tooltips).

    Parameters
    ----------
    data_js
        The FeatureCollection as script-safe JSON text (see :func:`safe_json`).
    options
        Leaflet GeoJSON options (JSON-serialisable: ``style`` as an object).
    name
        The layer's name in the layer switcher (escaped here).
    show
        Whether the layer starts visible.
    bounds
        ``[[south, west], [north, east]]`` of the data, for the map's bounds.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = L.geoJson({{ this.data_js }}, {{ this.options_js }});"
        "{% endmacro %}"
    )

    def __init__(
        self,
        data_js: str,
        *,
        options: Mapping[str, Any],
        name: str,
        show: bool = True,
        bounds: list[list[float]] | None = None,
    ) -> None:
        super().__init__(name=escape_text(name), overlay=True, show=show)  # a checkbox
        self._name = "PreparedGeoJson"
        self.data_js = data_js
        self.options_js = safe_json(dict(options))
        self._bounds = bounds

    def _get_self_bounds(self) -> list[list[float | None]]:
        return self._bounds if self._bounds is not None else [[None, None], [None, None]]

    def render(self, **kwargs: Any) -> None:
        """Render without compiling the JSON as a template."""
        render_as_text(self, **kwargs)


def _wgs84_geometries(segments: Any, *, tolerance: float) -> np.ndarray:
    """Non-empty geometries in WGS84, simplified by ``tolerance`` and rounded to 6 decimals."""
    gdf = segments
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if tolerance > 0:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=False)
    return shapely.transform(geoms, lambda xy: np.round(xy, 6))


def streets_geojson(
    segments: Any, *, tolerance: float = 1e-5
) -> tuple[str, list[list[float]] | None]:
    """The street segments as one FeatureCollection in script-safe JSON text, and its bounds.

    Geometries in WGS84, simplified by ``tolerance`` degrees and rounded to 6 decimals
    (about 0.1 m), without properties: only coordinates reach the page.

    Parameters
    ----------
    segments
        Street segments (a GeoDataFrame in any CRS).
    tolerance
        Douglas-Peucker tolerance in degrees (1e-5 is about a metre); 0 keeps every vertex.

    Returns
    -------
    (str, list or None)
        The JSON text and ``[[south, west], [north, east]]`` (None when there is no segment).
    """
    geoms = _wgs84_geometries(segments, tolerance=tolerance)
    parts = shapely.to_geojson(geoms)
    features = ",".join(f'{{"type":"Feature","properties":{{}},"geometry":{g}}}' for g in parts)
    text = '{"type":"FeatureCollection","features":[' + features + "]}"
    # to_geojson writes only numbers and keys; escape anyway so the text is script-safe.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if not len(geoms):
        return text, None
    w, s, e, n = shapely.total_bounds(geoms)
    return text, [[float(s), float(w)], [float(n), float(e)]]


#: Leaflet GeoJSON features, one LineString per line, from :func:`street_lines` text.
_DECODE_LINES = (
    "(function (d) { var fs = [], o = d.o, l = d.l;"
    " for (var i = 0; i < l.length; i++) { var a = l[i], x = o[0], y = o[1], c = [];"
    " for (var k = 0; k < a.length; k += 2) { x += a[k]; y += a[k + 1];"
    " c.push([x / 1e6, y / 1e6]); }"
    ' fs.push({type: "Feature", properties: {}, geometry: {type: "LineString", coordinates: c}}); }'
    ' return {type: "FeatureCollection", features: fs}; })'
)


class PreparedLines(PreparedGeoJson):
    """A Leaflet GeoJSON layer of lines sent as :func:`street_lines` text, decoded in the page.

    Each line becomes one LineString feature, as :class:`PreparedGeoJson` draws them, from
    about a fifth of the bytes. Parameters are as for :class:`PreparedGeoJson`, with
    ``data_js`` from :func:`street_lines`.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = L.geoJson("
        + _DECODE_LINES
        + "({{ this.data_js }}), {{ this.options_js }});"
        "{% endmacro %}"
    )


def street_lines(segments: Any, *, tolerance: float = 1e-5) -> tuple[str, list[list[float]] | None]:
    """The street segments as compact script-safe JSON text for :class:`PreparedLines`, and bounds.

    The coordinates of :func:`streets_geojson` (WGS84, simplified, to 6 decimals) as
    integers of 1e-6 degree: ``{"o": [lon, lat], "l": [[dx, dy, dx, dy, ...], ...]}``, each
    line's first point from the origin ``o`` and each later point from the one before.
    Multi-part geometries go as one line per part. At 30,000 segments this is about a
    fifth of the GeoJSON text. Parameters and bounds are as for :func:`streets_geojson`.
    """
    geoms = _wgs84_geometries(segments, tolerance=tolerance)
    parts = shapely.get_parts(geoms)
    parts = parts[shapely.get_num_coordinates(parts) > 0]
    steps = np.rint(shapely.get_coordinates(parts) * 1e6).astype(np.int64)
    if not len(steps):
        return '{"o":[0,0],"l":[]}', None
    origin = steps.min(axis=0)
    sizes = shapely.get_num_coordinates(parts)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    delta = np.diff(steps, axis=0, prepend=origin[None, :])
    delta[starts] = steps[starts] - origin
    tokens = delta.ravel().astype(str).astype(object)
    seps = np.full(len(tokens), ",", dtype=object)
    seps[2 * (starts[1:]) - 1] = "],["
    body = "".join((tokens[:-1] + seps[:-1]).tolist()) + tokens[-1]
    text = f'{{"o":[{origin[0]},{origin[1]}],"l":[[{body}]]}}'
    w, s = origin / 1e6
    e, n = steps.max(axis=0) / 1e6
    return text, [[float(s), float(w)], [float(n), float(e)]]


def street_layer(
    m: folium.Map,
    network: Any,
    *,
    name: str = "Streets",
    tolerance: float = 1e-5,
) -> PreparedLines:
    """Draw a street network's segments as a light grey base layer, prepared once per network.

    The compact text of :func:`street_lines` is kept in the network's analysis cache (its
    lifetime is the network's), so a rerun draws the streets without rebuilding them.

    Parameters
    ----------
    m
        The map.
    network
        A :class:`geo.streets.StreetNetwork` (or a segments GeoDataFrame, prepared each call).
    name
        The layer's name in the layer switcher.
    tolerance
        Douglas-Peucker tolerance in degrees.

    Returns
    -------
    PreparedLines
        The layer, already added to ``m``.
    """
    getter = getattr(network, "analysis_cache", None)
    cache = getter() if callable(getter) else None
    segments = network.segments if cache is not None else network
    key = (_CACHE_KEY, float(tolerance), len(segments))
    if cache is not None and key in cache:
        text, bounds = cache[key]
    else:
        text, bounds = street_lines(segments, tolerance=tolerance)
        if cache is not None:
            cache[key] = (text, bounds)
    layer = PreparedLines(text, options=STREET_OPTIONS, name=name, bounds=bounds)
    layer.add_to(m)
    return layer
