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

__all__ = ["PreparedGeoJson", "render_as_text", "safe_json", "street_layer", "streets_geojson"]

#: The street network's look (:data:`ui.maps.STREET_STYLE`): light grey, not interactive.
STREET_OPTIONS = {"interactive": False, "style": dict(STREET_STYLE)}
_CACHE_KEY = "street_layer_geojson"


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
    gdf = segments
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if tolerance > 0:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=False)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, 6))
    parts = shapely.to_geojson(geoms)
    features = ",".join(f'{{"type":"Feature","properties":{{}},"geometry":{g}}}' for g in parts)
    text = '{"type":"FeatureCollection","features":[' + features + "]}"
    # to_geojson writes only numbers and keys; escape anyway so the text is script-safe.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if not len(geoms):
        return text, None
    w, s, e, n = shapely.total_bounds(geoms)
    return text, [[float(s), float(w)], [float(n), float(e)]]


def street_layer(
    m: folium.Map,
    network: Any,
    *,
    name: str = "Streets",
    tolerance: float = 1e-5,
) -> PreparedGeoJson:
    """Draw a street network's segments as a light grey base layer, prepared once per network.

    The JSON text is kept in the network's analysis cache (its lifetime is the network's),
    so a rerun draws the streets without rebuilding or recompiling them.

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
    PreparedGeoJson
        The layer, already added to ``m``.
    """
    getter = getattr(network, "analysis_cache", None)
    cache = getter() if callable(getter) else None
    segments = network.segments if cache is not None else network
    key = (_CACHE_KEY, float(tolerance), len(segments))
    if cache is not None and key in cache:
        text, bounds = cache[key]
    else:
        text, bounds = streets_geojson(segments, tolerance=tolerance)
        if cache is not None:
            cache[key] = (text, bounds)
    layer = PreparedGeoJson(text, options=STREET_OPTIONS, name=name, bounds=bounds)
    layer.add_to(m)
    return layer
