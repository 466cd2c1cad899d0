"""Displacement watch: the weighted displacement quotient (Bowers & Johnson 2003) around a hotspot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

__all__ = [
    "WDQ_NOTE",
    "WELFARE_PROMPT",
    "Displacement",
    "classify_reports",
    "displacement_watch",
    "network_ring",
    "point_ring",
    "weighted_displacement_quotient",
]

#: The welfare-first prompt shown with a displacement flag (meeting pack, CLI, pages).
WELFARE_PROMPT = "Check with outreach whether workers have moved to less safe streets."

#: How to read the quotient, in plain English.
WDQ_NOTE = (
    "The weighted displacement quotient (Bowers and Johnson 2003) compares the change in the "
    "buffer around a hotspot with the change at the hotspot, both measured against a "
    "comparison area. Below 0: reports rose in the buffer while they fell at the hotspot "
    "(possible displacement; below -1 the rise outweighs the fall). Above 0: the buffer fell "
    "too (a diffusion of benefit). It is a ratio of small numbers, not proof: reports measure "
    "reporting as well as activity, and it is unstable when the hotspot barely changed."
)

# Zones a report can fall in.
HOTSPOT, NEAR, BUFFER, COMPARISON, NOWHERE = 0, 1, 2, 3, -1


def weighted_displacement_quotient(
    hotspot_before: float,
    hotspot_after: float,
    buffer_before: float,
    buffer_after: float,
    comparison_before: float,
    comparison_after: float,
) -> tuple[float | None, float | None, float | None]:
    """The weighted displacement quotient of Bowers & Johnson (2003).

    ``WDQ = (B_a/C_a - B_b/C_b) / (A_a/C_a - A_b/C_b)`` with ``A`` the hotspot (target
    area), ``B`` the buffer, ``C`` the comparison (control) area, ``b`` before and ``a``
    after. The denominator is the success measure (negative when the hotspot fell relative
    to the comparison), the numerator the buffer (displacement) measure.

    Parameters
    ----------
    hotspot_before, hotspot_after, buffer_before, buffer_after, comparison_before, comparison_after
        Counts (or rates over equal periods) in each zone and period.

    Returns
    -------
    (wdq, success_measure, buffer_measure)
        Each ``None`` when undefined: both measures need reports in the comparison area in
        both periods, and the quotient needs a success measure other than 0.

    Examples
    --------
    The hotspot halves, the buffer rises by half, the comparison is steady: complete
    displacement.

    >>> weighted_displacement_quotient(100, 50, 100, 150, 100, 100)
    (-1.0, -0.5, 0.5)
    """
    if comparison_before <= 0 or comparison_after <= 0:
        return None, None, None
    success = hotspot_after / comparison_after - hotspot_before / comparison_before
    buffer = buffer_after / comparison_after - buffer_before / comparison_before
    wdq = None if abs(success) < 1e-12 else buffer / success
    return wdq, success, buffer


@dataclass(frozen=True)
class Displacement:
    """The displacement watch of one hotspot for a before and an after period.

    Attributes
    ----------
    hotspot_id
        The hotspot (stable id).
    mode
        ``"network"`` (ring along the streets) or ``"point"`` (planar ring).
    inner_m, outer_m
        The ring: from ``inner_m`` to ``outer_m`` metres from the hotspot.
    counts
        ``{"hotspot"|"buffer"|"comparison": {"before": n, "after": n}}``.
    wdq, success_measure, buffer_measure
        See :func:`weighted_displacement_quotient` (``None`` when undefined).
    flag
        True when the buffer rose while the hotspot fell, both against the comparison
        (``success_measure < 0`` and ``buffer_measure > 0``, so ``wdq < 0``).
    prompt
        :data:`WELFARE_PROMPT` when flagged, else ``None``.
    reading
        One plain sentence on what the figures say.
    unplaced
        Reports of the two periods that could not be placed (off the network in network
        mode), counted so nothing is lost silently.
    """

    hotspot_id: str
    mode: str
    inner_m: float
    outer_m: float
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    wdq: float | None = None
    success_measure: float | None = None
    buffer_measure: float | None = None
    flag: bool = False
    prompt: str | None = None
    reading: str = ""
    unplaced: int = 0

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON-ready dict (the CLI's line)."""

        def _r(x: float | None) -> float | None:
            return None if x is None else round(float(x), 4)

        return {
            "hotspot_id": self.hotspot_id,
            "mode": self.mode,
            "buffer_m": [self.inner_m, self.outer_m],
            "wdq": _r(self.wdq),
            "success_measure": _r(self.success_measure),
            "buffer_measure": _r(self.buffer_measure),
            "counts": self.counts,
            "flag": bool(self.flag),
            "prompt": self.prompt,
            "reading": self.reading,
            "unplaced": int(self.unplaced),
        }


def network_ring(
    network: Any, hotspot_segments: Iterable[int], *, inner_m: float, outer_m: float
) -> np.ndarray:
    """Zone of every street segment around a hotspot, by network distance.

    A segment's distance is that of its midpoint along the streets from the nearest end of
    a hotspot segment (``min(d(u), d(v)) + length / 2``), from one bounded multi-source
    search (:func:`scipy.sparse.csgraph.dijkstra` with ``limit``).

    Parameters
    ----------
    network
        The :class:`geo.streets.StreetNetwork`.
    hotspot_segments
        The hotspot's segment ids.
    inner_m, outer_m
        The buffer ring: segments from ``inner_m`` to ``outer_m`` metres away.

    Returns
    -------
    numpy.ndarray of int8, one per segment
        :data:`HOTSPOT` (0), :data:`NEAR` (1, closer than ``inner_m``: in neither the buffer
        nor the comparison), :data:`BUFFER` (2) or :data:`COMPARISON` (3, farther).
    """
    seg = network.segments
    n = len(seg)
    hot = np.unique(np.asarray(list(hotspot_segments), dtype=np.int64))
    hot = hot[(hot >= 0) & (hot < n)]
    zone = np.full(n, COMPARISON, dtype=np.int8)
    if hot.size == 0:
        msg = "The hotspot has no street segments on this network; use point mode."
        raise ValueError(msg)
    u = seg["u"].to_numpy(dtype=np.int64)
    v = seg["v"].to_numpy(dtype=np.int64)
    length = seg["length_m"].to_numpy(dtype=np.float64)
    sources = np.unique(np.concatenate([u[hot], v[hot]]))
    dist = dijkstra(
        network.node_matrix(), directed=False, indices=sources, min_only=True, limit=outer_m
    )
    mid = np.minimum(dist[u], dist[v]) + length / 2.0
    zone[mid <= outer_m] = BUFFER
    zone[mid < inner_m] = NEAR
    zone[hot] = HOTSPOT
    return zone


def point_ring(outline: Any, *, inner_m: float, outer_m: float) -> tuple[Any, Any, Any]:
    """The planar zones around a hotspot outline (point mode), in its metric CRS.

    Parameters
    ----------
    outline
        The hotspot's outline (shapely geometry in metres).
    inner_m, outer_m
        The buffer ring.

    Returns
    -------
    (hotspot, near, ring)
        The outline, the band closer than ``inner_m`` and the ring from ``inner_m`` to
        ``outer_m`` (shapely geometries).
    """
    inner = shapely.buffer(outline, inner_m)
    ring = shapely.difference(shapely.buffer(outline, outer_m), inner)
    near = shapely.difference(inner, outline)
    return outline, near, ring


def classify_reports(
    reports: pd.DataFrame,
    hotspot: Mapping[str, Any],
    *,
    network: Any = None,
    inner_m: float = 100.0,
    outer_m: float = 400.0,
    comparison: Any = None,
) -> np.ndarray:
    """Zone of each report around one hotspot (hotspot, near, buffer, comparison or nowhere).

    Network mode (a network and a hotspot with ``segment_ids``): by the report's
    ``segment_id`` (:func:`network_ring`); unsnapped reports are :data:`NOWHERE`. Point
    mode: by position against :func:`point_ring` of the hotspot's ``geometry``.

    Parameters
    ----------
    reports
        The area's reports (``lon``, ``lat``, ``segment_id``).
    hotspot
        A hotspot row (``hotspot_id``, ``segment_ids``, ``geometry`` in WGS84).
    network
        The street network, or ``None`` for point mode.
    inner_m, outer_m
        The buffer ring.
    comparison
        The comparison area: ``None`` for the rest of the area beyond the ring; else
        segment ids (network mode) or a WGS84 polygon (point mode). Reports outside it and
        outside the hotspot and buffer are :data:`NOWHERE`.

    Returns
    -------
    numpy.ndarray of int8
    """
    seg_ids = hotspot.get("segment_ids")
    seg_ids = [] if seg_ids is None else list(seg_ids)
    if network is not None and len(seg_ids):
        return _classify_network(reports, network, seg_ids, inner_m, outer_m, comparison)
    return _classify_point(reports, hotspot, inner_m, outer_m, comparison)


def _classify_network(
    reports: pd.DataFrame,
    network: Any,
    seg_ids: list[int],
    inner_m: float,
    outer_m: float,
    comparison: Any,
) -> np.ndarray:
    zone = network_ring(network, seg_ids, inner_m=inner_m, outer_m=outer_m)
    if comparison is not None:
        keep = np.zeros(len(zone), dtype=bool)
        ids = np.asarray(list(comparison), dtype=np.int64)
        keep[ids[(ids >= 0) & (ids < len(zone))]] = True
        zone = np.where((zone == COMPARISON) & ~keep, NOWHERE, zone).astype(np.int8)
    seg = pd.to_numeric(reports.get("segment_id"), errors="coerce")
    seg = seg.to_numpy(dtype="float64", na_value=np.nan) if seg is not None else None
    out = np.full(len(reports), NOWHERE, dtype=np.int8)
    if seg is None:
        return out
    ok = np.isfinite(seg) & (seg >= 0) & (seg < len(zone))
    out[ok] = zone[seg[ok].astype(np.int64)]
    return out


def _classify_point(
    reports: pd.DataFrame,
    hotspot: Mapping[str, Any],
    inner_m: float,
    outer_m: float,
    comparison: Any,
) -> np.ndarray:
    from geo.streets import metric_crs_for

    geom = hotspot.get("geometry")
    if geom is None or shapely.is_empty(geom):
        msg = "The hotspot has no outline to draw a buffer around."
        raise ValueError(msg)
    c = shapely.centroid(geom)
    crs = metric_crs_for(float(c.x), float(c.y))
    shapes = gpd.GeoSeries([geom] + ([comparison] if comparison is not None else []))
    shapes = shapes.set_crs("EPSG:4326").to_crs(crs).to_numpy()
    hot, near, ring = point_ring(shapes[0], inner_m=inner_m, outer_m=outer_m)
    pts = gpd.GeoSeries(gpd.points_from_xy(reports["lon"], reports["lat"]), crs="EPSG:4326")
    xy = shapely.get_coordinates(pts.to_crs(crs).to_numpy())
    x, y = xy[:, 0], xy[:, 1]
    out = np.full(len(reports), COMPARISON, dtype=np.int8)
    if comparison is not None:
        out[~shapely.contains_xy(shapes[1], x, y)] = NOWHERE
    out[shapely.contains_xy(ring, x, y)] = BUFFER
    out[shapely.contains_xy(near, x, y)] = NEAR
    out[shapely.intersects_xy(hot, x, y)] = HOTSPOT
    return out


def displacement_watch(
    reports: pd.DataFrame,
    hotspot: Mapping[str, Any],
    *,
    before: tuple[Any, Any],
    after: tuple[Any, Any],
    network: Any = None,
    inner_m: float = 100.0,
    outer_m: float = 400.0,
    comparison: Any = None,
) -> Displacement:
    """Watch one hotspot for displacement between a before and an after period.

    Parameters
    ----------
    reports
        The area's reports (all categories wanted), covering both periods.
    hotspot
        The hotspot row (``hotspot_id``, ``segment_ids``, ``geometry``).
    before, after
        ``(start, end)`` of each period, ``start <= occurred_at < end``.
    network
        The area's street network, or ``None`` for point mode.
    inner_m, outer_m
        The buffer ring (default 100 to 400 m, ``[partnership]`` in the settings).
    comparison
        The comparison area (see :func:`classify_reports`).

    Returns
    -------
    Displacement
    """
    hotspot_id = str(hotspot.get("hotspot_id", ""))
    if not 0 <= inner_m < outer_m:
        msg = "The buffer ring needs 0 <= inner < outer metres, e.g. 100 to 400."
        raise ValueError(msg)
    (b0, b1), (a0, a1) = (_period(*before, "before"), _period(*after, "after"))
    t = pd.to_datetime(reports["occurred_at"]).to_numpy(dtype="datetime64[ns]")
    in_b = (t >= b0) & (t < b1)
    in_a = (t >= a0) & (t < a1)
    used = reports.loc[in_b | in_a]
    mode = "network" if network is not None and _has_segments(hotspot) else "point"
    zone = classify_reports(
        used,
        hotspot,
        network=network if mode == "network" else None,
        inner_m=inner_m,
        outer_m=outer_m,
        comparison=comparison,
    )
    period = np.where(in_b[in_b | in_a], 0, 1)
    counts = {
        name: {
            "before": int(((zone == z) & (period == 0)).sum()),
            "after": int(((zone == z) & (period == 1)).sum()),
        }
        for name, z in (("hotspot", HOTSPOT), ("buffer", BUFFER), ("comparison", COMPARISON))
    }
    unplaced = int((zone == NOWHERE).sum()) if comparison is None else 0
    wdq, success, buf = weighted_displacement_quotient(
        counts["hotspot"]["before"],
        counts["hotspot"]["after"],
        counts["buffer"]["before"],
        counts["buffer"]["after"],
        counts["comparison"]["before"],
        counts["comparison"]["after"],
    )
    flag = success is not None and buf is not None and success < 0 and buf > 0
    return Displacement(
        hotspot_id=hotspot_id,
        mode=mode,
        inner_m=float(inner_m),
        outer_m=float(outer_m),
        counts=counts,
        wdq=wdq,
        success_measure=success,
        buffer_measure=buf,
        flag=bool(flag),
        prompt=WELFARE_PROMPT if flag else None,
        reading=_reading(wdq, success, buf, flag),
        unplaced=unplaced,
    )


def _has_segments(hotspot: Mapping[str, Any]) -> bool:
    seg = hotspot.get("segment_ids")
    return seg is not None and len(list(seg)) > 0


def _period(start: Any, end: Any, what: str) -> tuple[np.datetime64, np.datetime64]:
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    if not lo < hi:
        msg = f"The {what} period must end after it starts."
        raise ValueError(msg)
    return lo.to_datetime64(), hi.to_datetime64()


def _reading(wdq: float | None, success: float | None, buf: float | None, flag: bool) -> str:
    """One plain sentence on the quotient."""
    if success is None:
        return "No reports in the comparison area in one of the periods: no quotient."
    if wdq is None:
        return "The hotspot did not change against the comparison area: no quotient."
    if flag:
        more = " more than" if wdq < -1 else " part of"
        return (
            f"Reports rose in the buffer while they fell at the hotspot (WDQ {wdq:.2f}): "
            f"the rise nearby offsets{more} the fall. " + WELFARE_PROMPT
        )
    if success > 0:
        return "Reports did not fall at the hotspot against the comparison area."
    if buf is not None and buf <= 0:
        return f"Reports fell in the buffer too (WDQ {wdq:.2f}): no sign of displacement."
    return f"WDQ {wdq:.2f}."
