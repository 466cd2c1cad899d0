"""The street network as the patrol planner reads it: stop nodes and travel times per mode."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planning import travel
from planning.teams import Team

__all__ = ["PatrolNetwork", "TravelTables", "as_patrol_network", "hotspot_nodes", "travel_tables"]


@dataclass
class PatrolNetwork:
    """A street network as the planner reads it: segments, nodes and the node matrix."""

    segments: pd.DataFrame
    nodes: pd.DataFrame
    node_matrix: sp.csr_matrix


def as_patrol_network(network: Any) -> PatrolNetwork:
    """Read a ``StreetNetwork`` or a ``(segments, nodes)`` pair.

    Parameters
    ----------
    network
        A ``StreetNetwork`` (``.segments``, ``.nodes``, ``.node_matrix()``) or a
        ``(segments, nodes)`` pair.

    Returns
    -------
    PatrolNetwork
    """
    if isinstance(network, tuple) and len(network) == 2:
        segments, nodes = network
        nm = travel.node_matrix_from_segments(segments, len(nodes))
        return PatrolNetwork(segments, nodes, nm)
    try:
        segments, nodes = network.segments, network.nodes
    except AttributeError:
        msg = (
            "network must be a StreetNetwork (with .segments, .nodes, .node_matrix()) or a "
            "(segments, nodes) pair; load a street network first."
        )
        raise TypeError(msg) from None
    nm_fn = getattr(network, "node_matrix", None)
    nm = nm_fn() if callable(nm_fn) else travel.node_matrix_from_segments(segments, len(nodes))
    return PatrolNetwork(segments, nodes, sp.csr_matrix(nm))


def hotspot_nodes(network: Any, hotspots: pd.DataFrame) -> np.ndarray:
    """Choose the network node where a team stands for each hotspot.

    In network mode it is the end node of the hotspot's segments nearest to the centre of
    its geometry; in point mode (no ``segment_ids``) the network node nearest to that centre.

    Parameters
    ----------
    network
        A ``StreetNetwork`` or ``(segments, nodes)``.
    hotspots
        The hotspot table (CONTRACTS).

    Returns
    -------
    numpy.ndarray
        Node position per hotspot row.
    """
    net = as_patrol_network(network) if not isinstance(network, PatrolNetwork) else network
    xs = net.nodes["x"].to_numpy(np.float64)
    ys = net.nodes["y"].to_numpy(np.float64)
    u = net.segments["u"].to_numpy(np.int64)
    v = net.segments["v"].to_numpy(np.int64)
    out = np.empty(len(hotspots), dtype=np.int64)
    geoms = hotspots.geometry if "geometry" in hotspots else [None] * len(hotspots)
    seg_lists = hotspots["segment_ids"] if "segment_ids" in hotspots else [None] * len(hotspots)
    n_seg = len(net.segments)
    for k, (geom, segs) in enumerate(zip(geoms, seg_lists, strict=True)):
        segs = [int(x) for x in (segs if segs is not None else []) if 0 <= int(x) < n_seg]
        if geom is not None and not geom.is_empty:
            c = geom.centroid
            cx, cy = c.x, c.y
        elif segs:
            cand = np.unique(np.concatenate([u[segs], v[segs]]))
            cx, cy = xs[cand].mean(), ys[cand].mean()
        else:
            msg = f"Hotspot row {k} has neither geometry nor segment_ids; rebuild the hotspots."
            raise ValueError(msg)
        if segs:
            cand = np.unique(np.concatenate([u[segs], v[segs]]))
            dx = (xs[cand] - cx) * math.cos(math.radians(cy))
            out[k] = int(cand[np.argmin(dx * dx + (ys[cand] - cy) ** 2)])
        else:
            out[k] = travel.nearest_node(net.nodes, cx, cy)
    return out


@dataclass
class TravelTables:
    """Street travel minutes per mode between the nodes that matter (stops, bases, end bases).

    ``dist[mode]`` is a ``len(key_nodes)`` square matrix of minutes (``inf`` where no street
    path exists within the longest shift); ``pred[mode]`` holds the Dijkstra predecessors from
    each key node over the whole network (modes with one flat speed share one array);
    ``pos`` maps a key node to its row.
    """

    stop_nodes: np.ndarray
    base_nodes: list[int]
    end_nodes: list[int]
    key_nodes: np.ndarray
    modes: list[str]
    dist: dict[str, np.ndarray]
    pred: dict[str, np.ndarray]
    pos: dict[int, int]
    searched_m: float = 0.0

    def tt(self, mode: str, a: int, b: int) -> float:
        """Travel minutes by ``mode`` between key nodes ``a`` and ``b``."""
        return float(self.dist[mode][self.pos[a], self.pos[b]])


def travel_tables(
    net: PatrolNetwork, hs: pd.DataFrame, teams: Sequence[Team], settings: Any
) -> TravelTables:
    """Snap hotspots and bases to nodes and compute the travel between them per travel mode.

    The searches are bounded: a leg longer than a whole shift is never driven or walked, so
    no search goes past the longest shift at the mode's speed, nor past the distance at which
    every other stop and base is known (:func:`planning.travel.paths_among`). Modes with one
    flat speed (walking, cycling, driving with ``[patrols] drive_kmh``) share one search on
    metres, their minutes being metres over speed; driving by street type searches its own
    minutes.

    Parameters
    ----------
    net
        The street network.
    hs
        The hotspot table (index reset).
    teams
        The teams on shift.
    settings
        Settings (travel speeds).

    Returns
    -------
    TravelTables
    """
    stop_nodes = hotspot_nodes(net, hs) if len(hs) else np.zeros(0, dtype=np.int64)
    base_nodes = [travel.nearest_node(net.nodes, *t.base) for t in teams]
    end_nodes = [travel.nearest_node(net.nodes, *t.finish_base) for t in teams]
    key_nodes = np.unique(np.concatenate([stop_nodes, base_nodes, end_nodes]).astype(np.int64))
    modes = sorted({t.mode for t in teams})
    shift_min = {
        mode: max(
            (t.shift_end - t.shift_start).total_seconds() / 60.0 for t in teams if t.mode == mode
        )
        for mode in modes
    }
    flat = {m: _flat_kmh(m, net.segments, settings) for m in modes}
    centre = _middle(net, key_nodes)
    dist: dict[str, np.ndarray] = {}
    pred: dict[str, np.ndarray] = {}
    searched = 0.0
    flat_modes = [m for m in modes if flat[m] is not None]
    if flat_modes:
        m_per_min = {m: float(flat[m]) * 1000.0 / 60.0 for m in flat_modes}
        limit_m = max(shift_min[m] * m_per_min[m] for m in flat_modes)
        metres, shared, bounds = travel.paths_among(
            net.node_matrix, key_nodes, limit=limit_m, symmetric=True, centre=centre
        )
        searched = float(bounds.max(initial=0.0))
        for m in flat_modes:
            dist[m] = metres / m_per_min[m]
            pred[m] = shared
    for m in modes:
        if flat[m] is None:
            minutes = travel.edge_minutes(net.segments, len(net.nodes), mode=m, settings=settings)
            dist[m], pred[m], _ = travel.paths_among(
                minutes, key_nodes, limit=shift_min[m], symmetric=True, centre=centre
            )
    pos = {int(nd): k for k, nd in enumerate(key_nodes)}
    return TravelTables(
        stop_nodes, base_nodes, end_nodes, key_nodes, modes, dist, pred, pos, searched
    )


def _flat_kmh(mode: str, segments: pd.DataFrame, settings: Any) -> float | None:
    """The one speed of ``mode`` on every street, or ``None`` when driving by street type."""
    patrols = travel._patrols(settings)
    if mode == "drive" and "drive_kmh" not in patrols and "highway" in segments:
        return None
    return travel.mode_speed_kmh(mode, settings=settings)


def _middle(net: PatrolNetwork, key_nodes: np.ndarray) -> int | None:
    """Index of the key node nearest the median position of them all (``None`` for none)."""
    if key_nodes.size == 0:
        return None
    x = net.nodes["x"].to_numpy(np.float64)[key_nodes]
    y = net.nodes["y"].to_numpy(np.float64)[key_nodes]
    dx = (x - np.median(x)) * math.cos(math.radians(float(np.median(y))))
    return int(np.argmin(dx * dx + (y - np.median(y)) ** 2))
