"""Reading street data into edge tables: OSM PBF/XML files, GIS line layers, graphs, Overpass download."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.street_crs import WGS84, _transform_geoms, metric_crs_for
from geo.street_segments import _edges_frame, _node_lines
from geo.street_tags import _TAG_KEYS, _check_network_type, _clean_text, _network_mask

__all__ = [
    "OFFLINE_MESSAGE",
    "NetworkUnavailableError",
    "download_edges",
    "graph_edges",
    "line_edges",
    "osm_xml_edges",
    "pbf_edges",
]

OFFLINE_MESSAGE = (
    "Could not download the street network: this machine appears to be offline. "
    "Load a street file (.osm.pbf, .osm, GeoPackage) instead."
)
_NAME_COLUMNS = ("name", "name1", "road_name", "roadname", "street", "street_name", "nom", "NAME")
_HIGHWAY_COLUMNS = ("highway", "fclass", "function", "road_classification", "class", "type")


class NetworkUnavailableError(RuntimeError):
    """The street network could not be downloaded (no internet connection or server down)."""


# ----------------------------------------------------------------------------------------
# Readers: each returns an edge table (see geo.street_segments._edges_frame)
# ----------------------------------------------------------------------------------------


def pbf_edges(
    path: str | os.PathLike[str],
    *,
    bbox: tuple[float, float, float, float] | None = None,
    polygon: shapely.Geometry | None = None,
    network_type: str = "walk",
) -> tuple[pd.DataFrame, str]:
    """Read the street edges of an OpenStreetMap ``.osm.pbf`` extract with pyrosm.

    The parameters are those of :meth:`geo.streets.StreetNetwork.from_pbf`.

    Returns
    -------
    edges : pandas.DataFrame
        The edge table.
    source : str
        ``"pbf:<file name>"``.
    """
    import pyrosm

    network_type = _check_network_type(network_type)
    path = _existing(path)
    area = _area(bbox, polygon)
    osm = pyrosm.OSM(str(path), bounding_box=area)
    extra = [k for k in _TAG_KEYS if k not in ("highway", "name")]
    try:
        result = osm.get_network(network_type="all", extra_attributes=extra, nodes=True)
    except Exception as exc:  # pyrosm raises a bare error on empty areas / broken files
        msg = f"Could not read streets from {path.name}: {exc}. Check that it is an OSM PBF file."
        raise ValueError(msg) from exc
    raw = result[1] if isinstance(result, tuple) else result
    if raw is None or len(raw) == 0:
        msg = f"{path.name} holds no streets in the chosen area; check the file or the area."
        raise ValueError(msg)
    raw = raw.loc[_network_mask(raw, network_type)]
    if area is not None:
        raw = raw.loc[shapely.intersects(area, raw.geometry.values)]
    edges = _edges_frame(raw["u"], raw["v"], raw.geometry.values, raw["name"], raw["highway"])
    return edges, f"pbf:{path.name}"


def osm_xml_edges(
    path: str | os.PathLike[str], *, network_type: str = "walk"
) -> tuple[pd.DataFrame, str]:
    """Read the street edges of an OpenStreetMap XML (``.osm``) file with osmnx.

    The parameters are those of :meth:`geo.streets.StreetNetwork.from_osm_xml`.

    Returns
    -------
    edges, source
        As for :func:`pbf_edges`, the source being ``"osm:<file name>"``.
    """
    import osmnx as ox

    network_type = _check_network_type(network_type)
    path = _existing(path)
    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted(set(saved) | set(_TAG_KEYS))
    try:
        G = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except Exception as exc:
        msg = f"Could not read streets from {path.name}: {exc}. Check that it is an OSM XML file."
        raise ValueError(msg) from exc
    finally:
        ox.settings.useful_tags_way = saved
    edges = _graph_edges(G)
    edges = edges.loc[_network_mask(edges, network_type)]
    return _frame_of(edges), f"osm:{path.name}"


def graph_edges(G: nx.Graph) -> pd.DataFrame:
    """Read the edges of an osmnx/networkx graph (nodes with ``x``/``y``).

    Parameters
    ----------
    G
        A (Multi)(Di)Graph; ``G.graph["crs"]`` gives its CRS (EPSG:4326 when absent).
        Edge ``geometry`` is used when present, else a straight line.

    Returns
    -------
    pandas.DataFrame
        The edge table.
    """
    return _frame_of(_graph_edges(G))


def line_edges(
    gdf_or_path: gpd.GeoDataFrame | str | os.PathLike[str],
    *,
    name_column: str | None = None,
    highway_column: str | None = None,
) -> tuple[pd.DataFrame, str, CRS]:
    """Node a line layer (e.g. OS Open Roads, a council's street file) into street edges.

    The parameters and the noding are those of :meth:`geo.streets.StreetNetwork.from_lines`.

    Returns
    -------
    edges : pandas.DataFrame
        The edge table.
    source : str
        ``"lines"`` or ``"lines:<file name>"``.
    metric_crs : pyproj.CRS
        The metric CRS the lines were noded in.
    """
    if isinstance(gdf_or_path, gpd.GeoDataFrame):
        gdf, label = gdf_or_path, "lines"
    else:
        path = _existing(gdf_or_path)
        gdf, label = _read_line_layer(path), f"lines:{path.name}"
    gdf = _street_lines(gdf)
    name_column, highway_column = _line_columns(gdf, name_column, highway_column)
    gdf = gdf.explode(index_parts=False).reset_index(drop=True)
    lonlat = gdf.to_crs(WGS84)
    west, south, east, north = lonlat.total_bounds
    metric = metric_crs_for((west + east) / 2, (south + north) / 2)
    lines = _transform_geoms(gdf.geometry.values, CRS.from_user_input(gdf.crs), metric)
    lines = shapely.force_2d(np.asarray(lines))
    pieces, src, uc, vc = _node_lines(lines)
    pieces = _transform_geoms(pieces, metric, WGS84)
    names = gdf[name_column].to_numpy()[src] if name_column else ""
    highways = gdf[highway_column].to_numpy()[src] if highway_column else ""
    return _edges_frame(uc, vc, pieces, names, highways), label, metric


def download_edges(
    place_or_bbox: str | tuple[float, float, float, float],
    *,
    network_type: str = "walk",
    timeout_s: float = 10.0,
) -> tuple[pd.DataFrame, str]:
    """Download the street edges from OpenStreetMap (Overpass) with osmnx.

    The parameters are those of :meth:`geo.streets.StreetNetwork.download`.

    Returns
    -------
    edges, source
        The edge table (as for :func:`pbf_edges`) and ``"download:<place or bbox>"``.

    Raises
    ------
    NetworkUnavailableError
        When the machine is offline or the server cannot be reached.
    """
    import osmnx as ox

    network_type = _check_network_type(network_type)
    if not _online(ox.settings.overpass_url, timeout_s=min(timeout_s, 3.0)):
        raise NetworkUnavailableError(OFFLINE_MESSAGE)
    G = _download_graph(place_or_bbox, network_type, timeout_s)
    edges = _graph_edges(G)
    if network_type == "walk":  # osmnx's walk filter drops cycleways; keep our own rules
        edges = edges.loc[_network_mask(edges, network_type)]
    return _frame_of(edges), f"download:{place_or_bbox}"


def _download_graph(
    place_or_bbox: str | tuple[float, float, float, float], network_type: str, timeout_s: float
) -> nx.MultiDiGraph:
    """Fetch the unsimplified osmnx graph, with our tags and timeout set for the request only."""
    import osmnx as ox
    import requests

    saved_timeout = ox.settings.requests_timeout
    saved_tags = list(ox.settings.useful_tags_way)
    ox.settings.requests_timeout = timeout_s
    ox.settings.useful_tags_way = sorted(set(saved_tags) | set(_TAG_KEYS))
    osmnx_type = {"walk": "walk", "drive": "drive", "all": "all"}[network_type]
    try:
        if isinstance(place_or_bbox, str):
            G = ox.graph_from_place(place_or_bbox, network_type=osmnx_type, simplify=False)
        else:
            west, south, east, north = (float(c) for c in place_or_bbox)
            G = ox.graph_from_bbox(
                (west, south, east, north), network_type=osmnx_type, simplify=False
            )
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, OSError) as exc:
        raise NetworkUnavailableError(OFFLINE_MESSAGE) from exc
    except ox._errors.InsufficientResponseError as exc:
        msg = f"OpenStreetMap returned no streets for {place_or_bbox!r}; check the place name or area."
        raise ValueError(msg) from exc
    finally:
        ox.settings.requests_timeout = saved_timeout
        ox.settings.useful_tags_way = saved_tags
    return G


# ----------------------------------------------------------------------------------------
# I/O helpers
# ----------------------------------------------------------------------------------------


def _frame_of(edges: gpd.GeoDataFrame) -> pd.DataFrame:
    """The edge table of a graph edge table (``u``, ``v``, geometry, ``name``, ``highway``)."""
    return _edges_frame(
        edges["u"], edges["v"], edges.geometry.values, edges["name"], edges["highway"]
    )


def _street_lines(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The non-empty (Multi)LineStrings of a layer, in WGS84 when it has no CRS but degrees."""
    if gdf.crs is None:
        west, south, east, north = gdf.total_bounds if len(gdf) else (0, 0, 0, 0)
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            msg = "The street lines have no coordinate reference system; save them with one (e.g. EPSG:27700)."
            raise ValueError(msg)
        gdf = gdf.set_crs(WGS84)
    gdf = gdf.loc[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    gdf = gdf.loc[gdf.geom_type.isin(["LineString", "MultiLineString"])]
    if gdf.empty:
        msg = "The file holds no street lines (LineString features); choose a street layer."
        raise ValueError(msg)
    return gdf


def _line_columns(
    gdf: gpd.GeoDataFrame, name_column: str | None, highway_column: str | None
) -> tuple[str | None, str | None]:
    """The name and highway columns: given (and checked) or guessed from common names."""
    name_column = name_column or _guess_column(gdf, _NAME_COLUMNS)
    highway_column = highway_column or _guess_column(gdf, _HIGHWAY_COLUMNS)
    for col in (name_column, highway_column):
        if col is not None and col not in gdf.columns:
            msg = f"Column {col!r} is not in the street layer; columns are: {', '.join(map(str, gdf.columns))}."
            raise ValueError(msg)
    return name_column, highway_column


def _existing(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        msg = f"Street file {p} not found; check the path."
        raise FileNotFoundError(msg)
    return p


def _file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".osm.pbf", ".pbf")):
        return "pbf"
    if name.endswith((".osm", ".xml")):
        return "xml"
    if name.endswith(".gpkg"):
        return "gpkg"
    if name.endswith((".geojson", ".json", ".shp")):
        return "lines"
    msg = (
        f"Cannot read street file {path.name}: use an OpenStreetMap extract (.osm.pbf or .osm) "
        "or a line layer (.gpkg, .geojson, .shp)."
    )
    raise ValueError(msg)


def _read_line_layer(path: Path) -> gpd.GeoDataFrame:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        msg = f"Could not open {path.name} as a map layer: {exc}."
        raise ValueError(msg) from exc
    layer = None
    for name, geom_type in layers:
        if geom_type and "line" in str(geom_type).lower():
            layer = name
            break
    if layer is None:
        msg = f"{path.name} holds no street lines (LineString features); choose a street layer."
        raise ValueError(msg)
    return pyogrio.read_dataframe(path, layer=layer)


def _guess_column(gdf: pd.DataFrame, candidates: Iterable[str]) -> str | None:
    lower = {str(c).lower(): c for c in gdf.columns}
    for cand in candidates:
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None


def _area(
    bbox: tuple[float, float, float, float] | None, polygon: shapely.Geometry | None
) -> shapely.Geometry | None:
    area = None
    if bbox is not None:
        west, south, east, north = (float(c) for c in bbox)
        if not (west < east and south < north):
            msg = "The bbox must be (min_lon, min_lat, max_lon, max_lat) with min < max."
            raise ValueError(msg)
        area = shapely.box(west, south, east, north)
    if polygon is not None:
        area = polygon if area is None else shapely.intersection(area, polygon)
    return area


def _graph_edges(G: nx.Graph) -> gpd.GeoDataFrame:
    """Edge table (WGS84, geometry from u to v) with tags from a networkx/osmnx graph."""
    crs = CRS.from_user_input(G.graph.get("crs", "EPSG:4326"))
    node_ids = list(G.nodes)
    if not node_ids:
        msg = "The street graph has no nodes."
        raise ValueError(msg)
    xy = {n: (float(d["x"]), float(d["y"])) for n, d in G.nodes(data=True)}
    rows = (
        G.edges(keys=True, data=True)
        if G.is_multigraph()
        else ((a, b, 0, d) for a, b, d in G.edges(data=True))
    )
    us, vs, geoms, records = [], [], [], []
    for a, b, _, data in rows:
        us.append(a)
        vs.append(b)
        geom = data.get("geometry")
        if geom is None:
            geom = shapely.LineString([xy[a], xy[b]])
        else:
            start = shapely.get_coordinates(geom)[0]
            if not np.allclose(start, xy[a], rtol=0, atol=1e-9):
                geom = shapely.reverse(geom)
        geoms.append(geom)
        records.append({k: data.get(k) for k in _TAG_KEYS})
    table = pd.DataFrame.from_records(records, columns=list(_TAG_KEYS))
    table.insert(0, "v", vs)
    table.insert(0, "u", us)
    geometry = _transform_geoms(np.asarray(geoms, dtype=object), crs, WGS84)
    for key in ("highway", "name"):
        table[key] = _clean_text(table[key].to_numpy(), table.index)
    return gpd.GeoDataFrame(table, geometry=geometry, crs=WGS84)


def _online(url: str, *, timeout_s: float = 3.0) -> bool:
    """Whether ``url``'s host answers a TCP connection within ``timeout_s`` (DNS included)."""
    parsed = urlparse(url)
    host = parsed.hostname or url
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    result: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout_s + 0.5)
    return bool(result and result[0])
