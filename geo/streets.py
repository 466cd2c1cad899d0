"""Street networks for Beatplan: the StreetNetwork class; its parts live in geo.street_* modules."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy import sparse

from geo.street_cache import CACHE_FORMAT_VERSION as CACHE_FORMAT_VERSION
from geo.street_cache import (
    DEFAULT_CACHE_DIR,
    _cache_path,
    _is_saved_network,
    _write_cache,
    read_network,
    write_network,
)
from geo.street_crs import BRITISH_NATIONAL_GRID as BRITISH_NATIONAL_GRID
from geo.street_crs import WGS84 as WGS84
from geo.street_crs import _transformer, metric_crs_for
from geo.street_graph import node_matrix, segment_adjacency, segments_to_networkx
from geo.street_loaders import OFFLINE_MESSAGE as OFFLINE_MESSAGE
from geo.street_loaders import (
    NetworkUnavailableError,
    _area,
    _existing,
    _file_kind,
    download_edges,
    graph_edges,
    line_edges,
    osm_xml_edges,
    pbf_edges,
)
from geo.street_segments import NODE_SNAP_M as NODE_SNAP_M
from geo.street_segments import _build_segments, _edges_frame, _network_tables
from geo.street_snap import SNAP_CHUNK as SNAP_CHUNK
from geo.street_snap import SNAP_PIECE_M as SNAP_PIECE_M
from geo.street_snap import _PieceIndex, snap_points
from geo.street_tags import NETWORK_TYPES, _check_network_type
from geo.street_tags import _network_mask as _network_mask

__all__ = [
    "DEFAULT_CACHE_DIR",
    "NETWORK_TYPES",
    "NetworkUnavailableError",
    "StreetNetwork",
    "metric_crs_for",
]


class StreetNetwork:
    """Street segments between junctions, their end nodes and graph helpers.

    Parameters
    ----------
    segments
        GeoDataFrame with ``segment_id``, ``name``, ``highway``, ``length_m``, ``u``, ``v`` and
        LineString geometry (any CRS; stored in EPSG:4326). See docs/CONTRACTS.md.
    nodes
        GeoDataFrame of the end nodes, index = node position (any CRS; stored in EPSG:4326).
    metric_crs
        CRS for analysis; chosen with :func:`metric_crs_for` from the centre when omitted.
    dropped_components
        How many disconnected pieces were left out when only the largest one was kept.
    source
        A short description of where the network came from.
    """

    def __init__(
        self,
        segments: gpd.GeoDataFrame,
        nodes: gpd.GeoDataFrame,
        *,
        metric_crs: CRS | str | int | None = None,
        dropped_components: int = 0,
        source: str = "",
    ) -> None:
        segments, nodes = _network_tables(segments, nodes)
        self.segments: gpd.GeoDataFrame = segments
        self.nodes: gpd.GeoDataFrame = nodes
        if metric_crs is None:
            if len(self.nodes):
                west, south, east, north = self.nodes.total_bounds
                metric_crs = metric_crs_for((west + east) / 2, (south + north) / 2)
            else:
                metric_crs = BRITISH_NATIONAL_GRID
        self.metric_crs: CRS = CRS.from_user_input(metric_crs)
        self.dropped_components = int(dropped_components)
        self.source = source
        self._segments_metric: gpd.GeoDataFrame | None = None
        self._tree: shapely.STRtree | None = None
        self._pieces: _PieceIndex | None = None
        self._to_metric: Transformer | None = None
        self._node_matrix: sparse.csr_matrix | None = None
        self._adjacency: sparse.csr_matrix | None = None
        self._analysis: dict[Any, Any] = {}  # network-only matrices of geo.hotspots

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"StreetNetwork({s['segments']} segments, {s['nodes']} nodes, "
            f"{s['length_km']} km, metric CRS EPSG:{self.metric_crs.to_epsg()})"
        )

    def __len__(self) -> int:
        return len(self.segments)

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def _from_edges(cls, edges: pd.DataFrame, *, source: str) -> StreetNetwork:
        segments, nodes, dropped = _build_segments(edges)
        return cls(segments, nodes, dropped_components=dropped, source=source)

    @classmethod
    def from_pbf(
        cls,
        path: str | os.PathLike[str],
        *,
        bbox: tuple[float, float, float, float] | None = None,
        polygon: shapely.Geometry | None = None,
        network_type: str = "walk",
    ) -> StreetNetwork:
        """Load streets from an OpenStreetMap ``.osm.pbf`` extract with pyrosm.

        Parameters
        ----------
        path
            The ``.osm.pbf`` file, e.g. a Geofabrik extract.
        bbox
            Optional ``(min_lon, min_lat, max_lon, max_lat)`` to clip to.
        polygon
            Optional WGS84 polygon to clip to (instead of or as well as ``bbox``).
        network_type
            ``"walk"`` (default), ``"drive"`` or ``"all"``.

        Returns
        -------
        StreetNetwork
        """
        edges, source = pbf_edges(path, bbox=bbox, polygon=polygon, network_type=network_type)
        return cls._from_edges(edges, source=source)

    @classmethod
    def from_osm_xml(
        cls, path: str | os.PathLike[str], *, network_type: str = "walk"
    ) -> StreetNetwork:
        """Load streets from an OpenStreetMap XML (``.osm``) file with osmnx.

        Parameters
        ----------
        path
            The ``.osm`` / ``.xml`` file (e.g. exported from openstreetmap.org or JOSM).
        network_type
            ``"walk"`` (default), ``"drive"`` or ``"all"``.

        Returns
        -------
        StreetNetwork
        """
        edges, source = osm_xml_edges(path, network_type=network_type)
        return cls._from_edges(edges, source=source)

    @classmethod
    def from_graph(cls, G: nx.Graph) -> StreetNetwork:
        """Build the network from an osmnx/networkx graph (nodes with ``x``/``y``).

        Directed graphs are made undirected and reciprocal edges with the same geometry
        are kept once. Edge ``geometry`` is used when present, else a straight line.

        Parameters
        ----------
        G
            A (Multi)(Di)Graph; ``G.graph["crs"]`` gives its CRS (EPSG:4326 when absent).

        Returns
        -------
        StreetNetwork
        """
        return cls._from_edges(graph_edges(G), source="graph")

    @classmethod
    def from_lines(
        cls,
        gdf_or_path: gpd.GeoDataFrame | str | os.PathLike[str],
        *,
        name_column: str | None = None,
        highway_column: str | None = None,
    ) -> StreetNetwork:
        """Build the network from a line layer (e.g. OS Open Roads, a council's street file).

        Lines are noded: end points and shared vertices closer than 0.5 m are joined, and
        lines are split where they share a vertex or where a line ends on another line.

        Parameters
        ----------
        gdf_or_path
            A GeoDataFrame of (Multi)LineStrings in any CRS, or a GeoPackage / GeoJSON /
            Shapefile path (the first line layer is read).
        name_column
            Column with the street name; guessed (``name``, ``name1``, ``road_name``, ...)
            when omitted; names are "" when there is none.
        highway_column
            Column with the road class; guessed (``highway``, ``fclass``, ``function``, ...)
            when omitted.

        Returns
        -------
        StreetNetwork
        """
        frame, label, metric = line_edges(
            gdf_or_path, name_column=name_column, highway_column=highway_column
        )
        net = cls._from_edges(frame, source=label)
        net.metric_crs = metric
        return net

    @classmethod
    def download(
        cls,
        place_or_bbox: str | tuple[float, float, float, float],
        *,
        network_type: str = "walk",
        timeout_s: float = 10.0,
    ) -> StreetNetwork:
        """Download the street network from OpenStreetMap (Overpass) with osmnx.

        Parameters
        ----------
        place_or_bbox
            A place name (``"Kingston upon Hull, UK"``) or ``(min_lon, min_lat, max_lon, max_lat)``.
        network_type
            ``"walk"`` (default), ``"drive"`` or ``"all"``.
        timeout_s
            Seconds to wait for the servers.

        Returns
        -------
        StreetNetwork

        Raises
        ------
        NetworkUnavailableError
            When the machine is offline or the server cannot be reached.
        """
        edges, source = download_edges(
            place_or_bbox, network_type=network_type, timeout_s=timeout_s
        )
        return cls._from_edges(edges, source=source)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        bbox: tuple[float, float, float, float] | None = None,
        network_type: str = "walk",
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> StreetNetwork:
        """Load a street file, choosing the reader by its extension.

        Parameters
        ----------
        path
            ``.osm.pbf``/``.pbf`` (pyrosm), ``.osm``/``.xml`` (osmnx), or a line layer
            ``.gpkg``/``.geojson``/``.json``/``.shp``. A GeoPackage written by
            :meth:`save` is read back directly.
        bbox
            Optional ``(min_lon, min_lat, max_lon, max_lat)`` to clip to.
        network_type
            ``"walk"`` (default), ``"drive"`` or ``"all"`` (OSM files only).
        cache_dir
            When given (e.g. :data:`DEFAULT_CACHE_DIR`, ``data/cache``), the built network is
            cached there as a GeoPackage keyed by the file, its modification time and these
            options, so the next load of the same file is fast.

        Returns
        -------
        StreetNetwork
        """
        network_type = _check_network_type(network_type)
        path = _existing(path)
        kind = _file_kind(path)
        cache_path: Path | None = None
        if cache_dir is not None:
            cache_path = _cache_path(path, bbox, network_type, cache_dir)
            if cache_path.is_file():
                try:
                    return cls.load(cache_path)
                except Exception:  # a broken cache file is rebuilt
                    cache_path.unlink(missing_ok=True)
        if kind == "pbf":
            net = cls.from_pbf(path, bbox=bbox, network_type=network_type)
        elif kind == "xml":
            net = cls.from_osm_xml(path, network_type=network_type)
        elif kind == "gpkg" and _is_saved_network(path):
            net = cls.load(path)
        else:
            net = cls.from_lines(path)
        if bbox is not None and kind != "pbf":
            net = net.clip(bbox)
        if cache_path is not None:
            _write_cache(cache_path, net.save)
        return net

    def clip(self, bbox: tuple[float, float, float, float]) -> StreetNetwork:
        """Keep the segments that intersect ``bbox`` (largest connected part).

        Parameters
        ----------
        bbox
            ``(min_lon, min_lat, max_lon, max_lat)``.

        Returns
        -------
        StreetNetwork
        """
        area = _area(bbox, None)
        seg = self.segments.loc[shapely.intersects(area, self.segments.geometry.values)]
        frame = _edges_frame(seg["u"], seg["v"], seg.geometry.values, seg["name"], seg["highway"])
        return type(self)._from_edges(frame, source=self.source)

    # -- persistence ----------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the network to a GeoPackage (layers ``segments`` and ``nodes``).

        The metric CRS, dropped component count and source are stored as layer metadata.

        Parameters
        ----------
        path
            The ``.gpkg`` file to (over)write.

        Returns
        -------
        Path
        """
        return write_network(
            path,
            self.segments,
            self.nodes,
            metric_crs=self.metric_crs,
            dropped_components=self.dropped_components,
            source=self.source,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StreetNetwork:
        """Read a network written by :meth:`save`.

        Parameters
        ----------
        path
            The GeoPackage.

        Returns
        -------
        StreetNetwork
        """
        seg, nodes, options = read_network(_existing(path))
        return cls(seg, nodes, **options)

    # -- graph helpers --------------------------------------------------------------------

    def segments_metric(self) -> gpd.GeoDataFrame:
        """Return the segments in :attr:`metric_crs` (computed once, then cached).

        Returns
        -------
        geopandas.GeoDataFrame
        """
        if self._segments_metric is None:
            self._segments_metric = self.segments.to_crs(self.metric_crs)
        return self._segments_metric

    def node_matrix(self) -> sparse.csr_matrix:
        """Return the N x N symmetric node adjacency weighted by the shortest segment length (m).

        Self-loops are left out; lengths are clamped to at least 1 mm so every edge is stored.

        Returns
        -------
        scipy.sparse.csr_matrix
        """
        if self._node_matrix is None:
            self._node_matrix = node_matrix(self.segments, len(self.nodes))
        return self._node_matrix

    def segment_adjacency(self) -> sparse.csr_matrix:
        """Return the n x n segment adjacency: 1 where two segments share an end node.

        Returns
        -------
        scipy.sparse.csr_matrix
        """
        if self._adjacency is None:
            self._adjacency = segment_adjacency(self.segments, len(self.nodes))
        return self._adjacency

    def analysis_cache(self) -> dict[Any, Any]:
        """Return the cache of network-only analysis matrices (kept while the network lives).

        :func:`geo.hotspots.find_hotspots` keeps the smoothing kernel, the Gi* band weights
        and the distance search behind them here, keyed by kind and bandwidth, so a rerun
        with new reports does not rebuild them.

        Returns
        -------
        dict
        """
        return self._analysis

    def to_networkx(self) -> nx.MultiGraph:
        """Return an undirected MultiGraph of the segments.

        Nodes 0..N-1 carry ``x``/``y`` (lon/lat); one edge per segment (key = segment_id)
        carries ``segment_id``, ``length`` (m), ``name``, ``highway`` and ``geometry`` (WGS84).

        Returns
        -------
        networkx.MultiGraph
        """
        return segments_to_networkx(self.segments, self.nodes)

    def summary(self) -> dict[str, Any]:
        """Return ``{"segments": int, "nodes": int, "length_km": float}``.

        Returns
        -------
        dict
        """
        return {
            "segments": len(self.segments),
            "nodes": len(self.nodes),
            "length_km": round(float(self.segments["length_m"].sum()) / 1000.0, 3),
        }

    # -- snapping -------------------------------------------------------------------------

    def _snap_tree(self) -> shapely.STRtree:
        """STRtree of the metric segments (exact fallback of :meth:`snap`), built once."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.segments_metric().geometry.values)
        return self._tree

    def _snap_index(self) -> _PieceIndex:
        """KD-tree over short straight pieces of the metric segments, built once."""
        if self._pieces is None:
            self._pieces = _PieceIndex(self.segments_metric().geometry.values)
        return self._pieces

    def to_metric(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """Project WGS84 lon/lat arrays to :attr:`metric_crs` (NaN stays NaN).

        Parameters
        ----------
        lon, lat
            Array-likes of degrees.

        Returns
        -------
        tuple of numpy.ndarray
        """
        if self._to_metric is None:
            self._to_metric = _transformer(WGS84, self.metric_crs)
        x, y = self._to_metric.transform(
            np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        )
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def snap(
        self, lon: Any, lat: Any, *, max_distance_m: float = 50.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Snap WGS84 points to their nearest street segment.

        Points are projected to :attr:`metric_crs`; an exact, vectorised nearest-line search
        (a KD-tree over short straight pieces of the segments with a proven distance bound,
        see ``_PieceIndex``) answers almost every point, and the few it cannot decide go to
        ``shapely.STRtree.query_nearest(max_distance=...)``. Both indexes are built once and
        cached on the instance. No Python loop over points.

        Parameters
        ----------
        lon, lat
            Scalars or 1-D array-likes of WGS84 degrees; NaN/invalid gives -1.
        max_distance_m
            Points farther than this (metres) from every segment get -1.

        Returns
        -------
        segment_id : numpy.ndarray of int64
            Nearest segment, -1 where none is within ``max_distance_m``.
        distance_m : numpy.ndarray of float64
            Distance in metres to that segment, NaN where ``segment_id`` is -1.
        """
        return snap_points(
            lon,
            lat,
            max_distance_m,
            line_ids=self.segments["segment_id"].to_numpy(),
            to_metric=self.to_metric,
            index=self._snap_index,
            tree=self._snap_tree,
        )
