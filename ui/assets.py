"""Local copies of the map's JavaScript and CSS: folium points at static/vendor, never a CDN."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import branca.colormap
import folium
import folium.elements
import folium.plugins
from branca.element import Element

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENDOR_DIR = PROJECT_ROOT / "static" / "vendor"
VENDOR_BASE_URL = "/app/static/vendor"

# folium resource name -> file under static/vendor (fetched by scripts/fetch_vendor.py).
MAP_JS: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "jquery": "jquery/jquery.min.js",
    "bootstrap": "bootstrap/js/bootstrap.bundle.min.js",
    "awesome_markers": "awesome-markers/leaflet.awesome-markers.js",
}
MAP_CSS: dict[str, str] = {
    "leaflet_css": "leaflet/leaflet.css",
    "bootstrap_css": "bootstrap/css/bootstrap.min.css",
    "glyphicons_css": "bootstrap3-glyphicons/css/bootstrap-glyphicons.css",
    "awesome_markers_font_css": "fontawesome/css/all.min.css",
    "awesome_markers_css": "awesome-markers/leaflet.awesome-markers.css",
    "awesome_rotate_css": "folium/leaflet.awesome.rotate.min.css",
}
# Plugins we use: class -> (js, css) in the same name -> file form.
PLUGIN_ASSETS: dict[type, tuple[dict[str, str], dict[str, str]]] = {
    folium.plugins.Fullscreen: (
        {"Control.Fullscreen.js": "leaflet-fullscreen/Control.FullScreen.js"},
        {"Control.FullScreen.css": "leaflet-fullscreen/Control.FullScreen.css"},
    ),
    folium.plugins.Draw: (
        {"leaflet_draw_js": "leaflet-draw/leaflet.draw.js"},
        {"leaflet_draw_css": "leaflet-draw/leaflet.draw.css"},
    ),
    folium.plugins.HeatMap: ({"leaflet-heat.js": "leaflet-heat/leaflet-heat.js"}, {}),
    folium.plugins.MarkerCluster: (
        {"markerclusterjs": "markercluster/leaflet.markercluster.js"},
        {
            "markerclustercss": "markercluster/MarkerCluster.css",
            "markerclusterdefaultcss": "markercluster/MarkerCluster.Default.css",
        },
    ),
}
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_configured_base: str | None = None


def _relink(
    links: Sequence[tuple[str, str]], files: Mapping[str, str], base: str, owner: str
) -> list[tuple[str, str]]:
    out = []
    for name, url in links:
        if name not in files:
            msg = f"{owner} links {name!r} ({url}), which has no local copy; add it to ui.maps and scripts/fetch_vendor.py."
            raise ValueError(msg)
        out.append((name, f"{base}/{files[name]}"))
    return out


def configure_offline_assets(*, base_url: str = VENDOR_BASE_URL) -> None:
    """Point folium's script and stylesheet links at the copies under ``static/vendor``.

    Rewrites ``folium.Map.default_js``/``default_css`` and those of the plugins in
    :data:`PLUGIN_ASSETS`, so a rendered map asks nothing of a CDN. Calling it again
    (with the same or another ``base_url``) is safe.

    Parameters
    ----------
    base_url
        Where ``static/vendor`` is served; Streamlit serves ``static/`` at ``/app/static``.
        An absolute path resolves against the Streamlit server from inside the
        streamlit-folium component iframe.

    Raises
    ------
    ValueError
        If ``base_url`` is empty, or folium links a resource with no local copy.
    """
    global _configured_base
    base = base_url.rstrip("/")
    if not base:
        msg = "base_url must be a URL path such as '/app/static/vendor'."
        raise ValueError(msg)
    folium.Map.default_js = _relink(folium.Map.default_js, MAP_JS, base, "folium.Map")
    folium.Map.default_css = _relink(folium.Map.default_css, MAP_CSS, base, "folium.Map")
    for cls, (js, css) in PLUGIN_ASSETS.items():
        cls.default_js = _relink(cls.default_js, js, base, cls.__name__)
        cls.default_css = _relink(cls.default_css, css, base, cls.__name__)
    _configured_base = base


def missing_vendor_files(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """List the local asset files the maps need that are not in ``vendor_dir``.

    Parameters
    ----------
    vendor_dir
        The vendor directory, ``static/vendor`` by default.

    Returns
    -------
    list of str
        Relative paths that are missing; empty when ``scripts/fetch_vendor.py`` has run.
    """
    wanted = [*MAP_JS.values(), *MAP_CSS.values()]
    for js, css in PLUGIN_ASSETS.values():
        wanted += [*js.values(), *css.values()]
    return [rel for rel in wanted if not (vendor_dir / rel).is_file()]


def find_remote_assets(m: Element) -> list[str]:
    """List the scripts and stylesheets a map would fetch from another host.

    Walks the element tree the way streamlit-folium does, including its rule that any
    branca colormap on the map pulls in d3 from two CDNs.

    Parameters
    ----------
    m
        A folium map (or any branca element).

    Returns
    -------
    list of str
        The remote URLs, without duplicates; empty for an offline-safe map.
    """
    urls: list[str] = []
    stack = [m]
    while stack:
        elem = stack.pop()
        if isinstance(elem, branca.colormap.ColorMap):
            urls += [
                "https://d3js.org/d3.v4.min.js",
                "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js",
            ]
        if isinstance(elem, folium.elements.JSCSSMixin):
            links = [*elem.default_js, *elem.default_css]
            urls += [url for _, url in links if _REMOTE.match(url)]
        stack.extend(getattr(elem, "_children", {}).values())
    return list(dict.fromkeys(urls))


def ensure_offline_assets() -> None:
    """Point folium at the local assets unless :func:`configure_offline_assets` already ran."""
    if _configured_base is None:
        configure_offline_assets()
