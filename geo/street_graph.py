"""Graph views of street segments: node adjacency by length, segment adjacency, networkx graph."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
from scipy import sparse

__all__ = ["node_matrix", "segment_adjacency", "segments_to_networkx"]


def node_matrix(segments: gpd.GeoDataFrame, n_nodes: int) -> sparse.csr_matrix:
    """Build the symmetric node adjacency weighted by the shortest segment length (m).

    Self-loops are left out; lengths are clamped to at least 1 mm so every edge is stored.

    Parameters
    ----------
    segments
        Street segments with ``u``, ``v`` (node positions) and ``length_m``.
    n_nodes
        Number of nodes N.

    Returns
    -------
    scipy.sparse.csr_matrix
        N x N matrix.
    """
    u = segments["u"].to_numpy()
    v = segments["v"].to_numpy()
    w = np.maximum(segments["length_m"].to_numpy(), 1e-3)
    rows, cols, vals = np.r_[u, v], np.r_[v, u], np.r_[w, w]
    off = rows != cols
    rows, cols, vals = rows[off], cols[off], vals[off]
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return sparse.csr_matrix((vals[first], (rows[first], cols[first])), shape=(n_nodes, n_nodes))


def segment_adjacency(segments: gpd.GeoDataFrame, n_nodes: int) -> sparse.csr_matrix:
    """Build the segment adjacency: 1 where two segments share an end node.

    Parameters
    ----------
    segments
        Street segments with ``u``, ``v`` (node positions).
    n_nodes
        Number of nodes N.

    Returns
    -------
    scipy.sparse.csr_matrix
        n x n matrix over the segments.
    """
    k = len(segments)
    u = segments["u"].to_numpy()
    v = segments["v"].to_numpy()
    rows = np.r_[np.arange(k), np.arange(k)]
    incidence = sparse.csr_matrix((np.ones(2 * k), (rows, np.r_[u, v])), shape=(k, n_nodes))
    incidence.data[:] = 1.0  # a self-loop counts once
    adj = (incidence @ incidence.T).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    adj.data[:] = 1.0
    return adj


def segments_to_networkx(segments: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame) -> nx.MultiGraph:
    """Build an undirected MultiGraph of the segments.

    Parameters
    ----------
    segments
        Street segments (WGS84) as in :class:`geo.streets.StreetNetwork`.
    nodes
        Their end nodes with ``x``/``y`` (lon/lat).

    Returns
    -------
    networkx.MultiGraph
        Nodes 0..N-1 carry ``x``/``y``; one edge per segment (key = segment_id) carries
        ``segment_id``, ``length`` (m), ``name``, ``highway`` and ``geometry`` (WGS84).
    """
    G = nx.MultiGraph(crs="EPSG:4326")
    G.add_nodes_from(
        (i, {"x": x, "y": y})
        for i, x, y in zip(range(len(nodes)), nodes["x"], nodes["y"], strict=True)
    )
    seg = segments
    G.add_edges_from(
        (
            u,
            v,
            sid,
            {
                "segment_id": sid,
                "length": length,
                "name": name,
                "highway": hw,
                "geometry": geom,
            },
        )
        for u, v, sid, length, name, hw, geom in zip(
            seg["u"].tolist(),
            seg["v"].tolist(),
            seg["segment_id"].tolist(),
            seg["length_m"].tolist(),
            seg["name"].tolist(),
            seg["highway"].tolist(),
            seg.geometry.values,
            strict=True,
        )
    )
    return G
