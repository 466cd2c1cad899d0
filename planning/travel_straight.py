"""Straight-line travel for an area without streets: distance times a detour factor, labelled approximate."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from planning import travel
from planning.patrol_network import PatrolNetwork
from planning.teams import Team

__all__ = [
    "APPROXIMATE_NOTE",
    "DEFAULT_DETOUR",
    "TRAVEL_NETWORK",
    "TRAVEL_STRAIGHT",
    "detour_factor",
    "straight_line_network",
    "travel_kind",
]

TRAVEL_NETWORK = "network"
TRAVEL_STRAIGHT = "straight-line"

#: What every plan, page and briefing planned without streets says about its distances.
APPROXIMATE_NOTE = "approximate: straight-line distances; load the area's streets for real routes"

#: Street distance over straight-line distance when no setting says otherwise (urban walking
#: routes run about 1.2-1.4 times the straight line).
DEFAULT_DETOUR = 1.3

_EARTH_M = 6_371_008.8
_MIN_LEG_M = 0.1  # distinct places are never 0 m apart (a 0 would be no edge in a sparse matrix)


def detour_factor(settings: Any | None = None) -> float:
    """The detour factor: ``[patrols] straight_line_detour`` (default 1.3).

    Parameters
    ----------
    settings
        :class:`geo.settings.Settings` or its ``patrols`` dict.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When the setting is not a number from 1 to 3.
    """
    raw = travel._patrols(settings).get("straight_line_detour", DEFAULT_DETOUR)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = float("nan")
    if not 1.0 <= value <= 3.0:
        msg = (
            "[patrols] straight_line_detour must be a number from 1 to 3 (street distance over "
            f"straight-line distance; 1.3 is typical), not {str(raw)[:20]!r}; fix data/settings.toml."
        )
        raise ValueError(msg)
    return value


def travel_kind(network: Any) -> str:
    """``"network"`` when a street ``network`` is given, else ``"straight-line"``."""
    return TRAVEL_NETWORK if network is not None else TRAVEL_STRAIGHT


def _stand_points(hotspots: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Where a team stands at each hotspot: the centre of its outline (as ``hotspot_nodes``)."""
    if "geometry" not in hotspots or not len(hotspots):
        if len(hotspots):
            msg = "The hotspots have no geometry; rebuild them before planning without streets."
            raise ValueError(msg)
        return np.zeros(0), np.zeros(0)
    geoms = np.asarray(hotspots.geometry.values, dtype=object)
    if shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
        msg = "A hotspot has no outline; rebuild the hotspots before planning without streets."
        raise ValueError(msg)
    centre = shapely.centroid(geoms)
    return shapely.get_x(centre), shapely.get_y(centre)


def _pairwise_m(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Great-circle distances in metres between every pair of points (haversine)."""
    lam, phi = np.radians(lon), np.radians(lat)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi[:, None]) * np.cos(phi[None, :]) * np.sin(dlam / 2) ** 2
    return 2 * _EARTH_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def straight_line_network(
    hotspots: pd.DataFrame,
    teams: Sequence[Team],
    *,
    settings: Any | None = None,
    detour: float | None = None,
) -> PatrolNetwork:
    """A stand-in network for planning without streets: every place joined to every other.

    The nodes are the places that matter (each hotspot's centre, each team's base and end
    base, repeats merged); every pair is joined by an edge of the straight-line distance
    times the detour factor, so shortest paths are the direct legs and the planner's
    travel tables, time windows and breaks work unchanged, at each team's own speed. A leg
    is drawn as a straight line (no street geometry).

    Parameters
    ----------
    hotspots
        The hotspot table (point mode: ``geometry`` outlines).
    teams
        The teams on shift (their bases become nodes).
    settings
        Settings (``[patrols] straight_line_detour``).
    detour
        The detour factor, overriding the setting.

    Returns
    -------
    PatrolNetwork
        Nodes ``x``, ``y``; no segments; the complete node matrix in metres.
    """
    factor = detour_factor(settings) if detour is None else float(detour)
    if not math.isfinite(factor) or factor < 1.0:
        msg = "The detour factor must be at least 1 (a route is never shorter than the line)."
        raise ValueError(msg)
    hx, hy = _stand_points(hotspots)
    bases = [t.base for t in teams] + [t.finish_base for t in teams]
    bx = np.array([float(b[0]) for b in bases])
    by = np.array([float(b[1]) for b in bases])
    pts = np.round(np.c_[np.r_[hx, bx], np.r_[hy, by]], 7)  # about 1 cm
    pts = np.unique(pts, axis=0) if len(pts) else np.zeros((0, 2))
    lon, lat = pts[:, 0], pts[:, 1]
    metres = np.maximum(_pairwise_m(lon, lat) * factor, _MIN_LEG_M)
    np.fill_diagonal(metres, 0.0)
    nodes = pd.DataFrame({"x": lon, "y": lat})
    segments = pd.DataFrame(
        {
            "segment_id": pd.Series(dtype="int64"),
            "name": pd.Series(dtype=object),
            "length_m": pd.Series(dtype="float64"),
            "u": pd.Series(dtype="int64"),
            "v": pd.Series(dtype="int64"),
        }
    )
    return PatrolNetwork(segments, nodes, sp.csr_matrix(metres))
