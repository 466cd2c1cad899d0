"""Grouping hot segments and report clusters into hotspots, and labelling them from street names."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import CRS
from scipy.sparse.csgraph import connected_components, dijkstra

from geo.risk import _MIN_EDGE_M, _incidence, _nodes
from geo.settings import Settings

__all__ = ["cluster_outlines"]


# --------------------------------------------------------------------------------------
# Network mode: connected runs of significant hot segments
# --------------------------------------------------------------------------------------


def _hot_components(
    adj: sp.csr_matrix, hot: np.ndarray, rep_pos: np.ndarray, settings: Settings
) -> tuple[np.ndarray, np.ndarray, int]:
    """Connected runs of hot segments with at least ``[hotspots] min_reports`` reports.

    Returns the hot segment rows kept, their component and the component count (0 when
    no run is kept).
    """
    n_segments = adj.shape[0]
    hot_idx = np.flatnonzero(hot)
    if len(hot_idx) == 0:
        return hot_idx, np.zeros(0, dtype=np.int64), 0
    sub = adj[hot_idx][:, hot_idx]
    n_comp, comp = connected_components(sub, directed=False)
    # A "hotspot" of one or two reports on a very short street is noise to a patrol planner.
    min_reports = int(settings.hotspots.get("min_reports", 5))
    seg_reports = np.bincount(rep_pos[rep_pos >= 0], minlength=n_segments)
    comp_reports = np.bincount(comp, weights=seg_reports[hot_idx], minlength=n_comp)
    big = comp_reports[comp] >= min_reports
    if not big.all():
        hot_idx = hot_idx[big]
        if len(hot_idx) == 0:
            return hot_idx, np.zeros(0, dtype=np.int64), 0
        sub = adj[hot_idx][:, hot_idx]
        n_comp, comp = connected_components(sub, directed=False)
    return hot_idx, comp, n_comp


def _rank_components(
    hot_idx: np.ndarray, comp: np.ndarray, n_comp: int, smoothed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank components by smoothed risk (ties: lowest segment row first).

    Returns ``rank`` (rank position -> component), ``group`` (per hot segment, 0 = the
    top-ranked hotspot) and the unranked component risks.
    """
    comp_risk = np.bincount(comp, weights=smoothed[hot_idx], minlength=n_comp)
    first_seg = np.full(n_comp, np.iinfo(np.int64).max)
    np.minimum.at(first_seg, comp, hot_idx)
    rank = np.lexsort((first_seg, -comp_risk))  # rank position -> component
    new_of_comp = np.empty(n_comp, dtype=np.int64)
    new_of_comp[rank] = np.arange(n_comp)
    group = new_of_comp[comp]  # per hot segment, 0 = top-ranked hotspot
    return rank, group, comp_risk


def _group_members(
    hot_idx: np.ndarray, group: np.ndarray, n_comp: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The stable order of hot segments by group, and each group's segment rows."""
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(n_comp + 1))
    members = [hot_idx[order[bounds[k] : bounds[k + 1]]] for k in range(n_comp)]
    return order, members


# --------------------------------------------------------------------------------------
# Point mode: DBSCAN clusters of reports, none wider than a patrol stop
# --------------------------------------------------------------------------------------


#: Default largest distance from a point hotspot's centre to any of its reports (metres).
MAX_RADIUS_M = 200.0


def _dbscan_labels(
    x: np.ndarray,
    y: np.ndarray,
    *,
    eps: float,
    min_samples: int,
    max_radius_m: float | None = MAX_RADIUS_M,
) -> np.ndarray:
    """Density clusters of the projected points (-1 for noise), none wider than a patrol stop.

    scikit-learn DBSCAN finds where reports are dense (``min_samples`` within ``eps``), but
    it chains: police.uk puts reports on anonymous map points about 150 m apart, and in a
    city centre those points link into one cluster that no 15-minute stop can cover. A
    hotspot is a place one patrol stop can cover, so every cluster with a report farther
    than ``max_radius_m`` from its centre is bisected (:func:`_split_wide`) until each part
    fits; a part with fewer than ``min_samples`` reports is not dense enough and is noise.
    The bound is about size, not about this or that city, which HDBSCAN does not give:
    its clusters follow density alone, and on map points stacked at one spot they are
    either one point or a whole district.

    Parameters
    ----------
    x, y
        Projected positions in metres.
    eps, min_samples
        The DBSCAN radius (metres) and minimum reports.
    max_radius_m
        The largest distance from a cluster's centre to its reports (``None``: no bound).

    Returns
    -------
    numpy.ndarray
        Cluster of each point, 0..k-1, or -1 for noise.
    """
    from sklearn.cluster import DBSCAN

    labels = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(np.c_[x, y])
    if max_radius_m is None or not len(labels) or labels.max() < 0:
        return labels
    if not np.isfinite(max_radius_m) or max_radius_m <= 0:
        msg = f"The point hotspot radius must be a positive number of metres, not {max_radius_m}."
        raise ValueError(msg)
    return _split_wide(x, y, labels, max_radius_m=float(max_radius_m), min_samples=min_samples)


def _radii(x: np.ndarray, y: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """The largest distance from each cluster's centre (mean) to one of its points."""
    inside = labels >= 0
    lab = labels[inside]
    size = np.maximum(np.bincount(lab, minlength=n), 1)
    cx = np.bincount(lab, weights=x[inside], minlength=n) / size
    cy = np.bincount(lab, weights=y[inside], minlength=n) / size
    dist = np.hypot(x[inside] - cx[lab], y[inside] - cy[lab])
    radius = np.zeros(n)
    np.maximum.at(radius, lab, dist)
    return radius


def _bisect(px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Two-means split of points (0/1 each), on their distinct positions weighted by count."""
    from sklearn.cluster import KMeans

    spots, inverse, counts = np.unique(
        np.c_[px, py], axis=0, return_inverse=True, return_counts=True
    )
    if len(spots) < 2:
        return np.zeros(len(px), dtype=np.int64)
    km = KMeans(n_clusters=2, n_init=4, random_state=0).fit(spots, sample_weight=counts)
    return km.labels_.astype(np.int64)[inverse.ravel()]


def _split_wide(
    x: np.ndarray, y: np.ndarray, labels: np.ndarray, *, max_radius_m: float, min_samples: int
) -> np.ndarray:
    """Bisect every cluster wider than ``max_radius_m`` until each part fits; renumber 0..k-1.

    Parts with fewer than ``min_samples`` points become noise (-1). The loop runs over the
    few wide clusters and their halves, never over points.
    """
    out = labels.astype(np.int64).copy()
    n = int(out.max()) + 1
    wide = list(np.flatnonzero(_radii(x, y, out, n) > max_radius_m))
    next_label = n
    while wide:
        k = int(wide.pop())
        idx = np.flatnonzero(out == k)
        half = _bisect(x[idx], y[idx])
        if half.min() == half.max():  # one position: cannot be split further
            continue
        for part in (idx[half == 0], idx[half == 1]):
            if len(part) < min_samples:
                out[part] = -1
                continue
            out[part] = next_label
            sub = np.zeros(len(x), dtype=np.int64) - 1
            sub[part] = 0
            if _radii(x, y, sub, 1)[0] > max_radius_m:
                wide.append(next_label)
            next_label += 1
    kept = np.unique(out[out >= 0])
    renumber = np.full(next_label, -1, dtype=np.int64)
    renumber[kept] = np.arange(len(kept))
    return np.where(out >= 0, renumber[np.clip(out, 0, None)], -1)


def _rank_clusters(
    labels: np.ndarray, weight: np.ndarray, n_clusters: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rank clusters by score, then size, both descending.

    Returns the clustered mask, the ranked scores and sizes, and each report's ranked
    group (0 = top-ranked, -1 = noise).
    """
    inside = labels >= 0
    score = np.bincount(labels[inside], weights=weight[inside], minlength=n_clusters)
    size = np.bincount(labels[inside], minlength=n_clusters)
    rank = np.lexsort((-size, -score))
    new = np.empty(n_clusters, dtype=np.int64)
    new[rank] = np.arange(n_clusters)
    group = np.where(inside, new[np.clip(labels, 0, None)], -1)
    return inside, score[rank], size[rank], group


def cluster_outlines(
    x: np.ndarray,
    y: np.ndarray,
    inside: np.ndarray,
    group: np.ndarray,
    *,
    cell_m: float,
    crs: CRS,
) -> gpd.GeoSeries:
    """Each cluster's outline: the grid squares holding its reports, never a hull of them.

    The squares are ``cell_m`` wide on the metric CRS's own grid (in Great Britain the
    National Grid's 100 m squares), so every corner of an outline is a grid corner and says
    no more about where a report lies than which square it is in. Gaps of one square between
    a cluster's squares are filled, so most clusters are one polygon.

    Parameters
    ----------
    x, y
        Report positions in ``crs`` (metres).
    inside
        Which reports belong to a cluster.
    group
        Each report's ranked cluster (0, 1, ...; -1 for noise).
    cell_m
        The grid square's side in metres.
    crs
        The metric CRS of ``x`` and ``y``.

    Returns
    -------
    geopandas.GeoSeries
        One (Multi)Polygon per cluster in EPSG:4326, in ranked order.

    Raises
    ------
    ValueError
        When ``cell_m`` is not a positive number of metres.
    """
    if not np.isfinite(cell_m) or cell_m <= 0:
        msg = f"The point-mode grid square must be a positive number of metres, not {cell_m}."
        raise ValueError(msg)
    g = group[inside]
    cells = np.unique(
        np.c_[g, np.floor(x[inside] / cell_m), np.floor(y[inside] / cell_m)].astype(np.int64),
        axis=0,
    )
    boxes = shapely.box(
        cells[:, 1] * cell_m,
        cells[:, 2] * cell_m,
        (cells[:, 1] + 1) * cell_m,
        (cells[:, 2] + 1) * cell_m,
    )
    n = int(g.max()) + 1 if len(g) else 0
    starts = np.searchsorted(cells[:, 0], np.arange(n + 1))
    outlines = np.empty(n, dtype=object)
    for k in range(n):  # one union per cluster (a handful), not per report
        union = shapely.union_all(boxes[starts[k] : starts[k + 1]])
        grown = shapely.buffer(union, cell_m / 2, join_style="mitre")
        closed = shapely.buffer(grown, -cell_m / 2, join_style="mitre")
        outlines[k] = shapely.set_precision(closed, grid_size=cell_m)
    return gpd.GeoSeries(outlines, crs=crs).to_crs(4326)


def _hint_label(hints: pd.Series, lon: float, lat: float) -> str:
    vals = hints.dropna().astype(str).str.strip()
    vals = vals[vals != ""]
    if vals.empty:
        return f"area near {lat:.4f}, {lon:.4f}"
    counts = vals.value_counts()
    top = sorted(counts.index, key=lambda h: (-counts[h], h))[:2]
    return top[0] if len(top) == 1 else f"{top[0]} and {top[1]}"


def _cluster_labels(
    reports: pd.DataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    inside: np.ndarray,
    group: np.ndarray,
    size: np.ndarray,
) -> list[str]:
    """Label each ranked cluster from its reports' location hints (else its centre)."""
    n_clusters = len(size)
    cx = np.bincount(group[inside], weights=lon[inside], minlength=n_clusters) / size
    cy = np.bincount(group[inside], weights=lat[inside], minlength=n_clusters) / size
    hints = (
        reports["location_hint"]
        if "location_hint" in reports.columns
        else pd.Series(pd.NA, index=reports.index, dtype=object)
    )
    hint_groups = hints.loc[inside].groupby(group[inside])
    return [
        _hint_label(
            hint_groups.get_group(k) if k in hint_groups.groups else pd.Series(dtype=object),
            cx[k],
            cy[k],
        )
        for k in range(n_clusters)
    ]


# --------------------------------------------------------------------------------------
# Labels from street names
# --------------------------------------------------------------------------------------


class _Labeller:
    """Human labels for runs of segments from street names."""

    def __init__(self, segments: pd.DataFrame) -> None:
        names = (
            segments["name"] if "name" in segments.columns else pd.Series("", index=segments.index)
        )
        self.names = names.fillna("").astype(str).str.strip().to_numpy(dtype=object)
        self.length = segments["length_m"].to_numpy(dtype=float)
        self.u, self.v, _ = _nodes(segments)
        self.node_seg = _incidence(segments).T.tocsr()  # node -> incident segments
        highway = (
            segments["highway"]
            if "highway" in segments.columns
            else pd.Series("", index=segments.index)
        )
        self.highway = highway.fillna("").astype(str).to_numpy(dtype=object)
        self.geoms = segments.geometry.to_numpy() if "geometry" in segments.columns else None
        named = np.flatnonzero(self.names != "")
        self.named_idx = named
        self.named_tree = (
            shapely.STRtree(self.geoms[named]) if self.geoms is not None and len(named) else None
        )

    def _nearest_name(self, segs: np.ndarray) -> str | None:
        """The named street nearest the middle of an unnamed run (within about 250 m)."""
        if self.named_tree is None:
            return None
        centre = shapely.centroid(shapely.union_all(self.geoms[segs]))
        hit = self.named_tree.query_nearest(centre, max_distance=0.004)  # ~250 m in degrees
        if len(hit) == 0:
            return None
        return str(self.names[self.named_idx[int(hit[0])]]).split(" / ")[0]

    def _noun(self, segs: np.ndarray) -> str:
        kinds = set(self.highway[segs])
        if kinds and kinds <= {"footway", "path", "pedestrian", "steps", "cycleway", "track"}:
            return "footpath"
        if kinds and kinds <= {"service"}:
            return "service road"
        return "unnamed street"

    def _names_at(self, node: int, exclude: str) -> list[str]:
        """Street names at a junction other than ``exclude`` (merged "A / B" names split)."""
        segs = self.node_seg.indices[self.node_seg.indptr[node] : self.node_seg.indptr[node + 1]]
        own = {p.strip() for p in exclude.split(" / ")}
        parts = {p.strip() for nm in self.names[segs] if nm for p in str(nm).split(" / ")}
        return sorted(p for p in parts if p and p not in own)

    def _ends(self, segs: np.ndarray) -> tuple[int, int] | None:
        """The two nodes of a run of segments farthest apart along it (None for a loop)."""
        nodes, inv = np.unique(np.r_[self.u[segs], self.v[segs]], return_inverse=True)
        k = len(segs)
        graph = sp.csr_matrix(
            (np.maximum(self.length[segs], _MIN_EDGE_M), (inv[:k], inv[k:])),
            shape=(len(nodes), len(nodes)),
        )
        deg = np.bincount(inv, minlength=len(nodes))
        cand = np.flatnonzero(deg == 1)
        if len(cand) < 2:
            return None
        dist = dijkstra(graph, directed=False, indices=cand)[:, cand]
        dist[~np.isfinite(dist)] = -1
        a, b = np.unravel_index(int(np.argmax(dist)), dist.shape)
        return int(nodes[cand[a]]), int(nodes[cand[b]])

    def label(self, segs: np.ndarray) -> str:
        segs = np.asarray(segs, dtype=np.int64)
        names = self.names[segs]
        named = names != ""
        if not named.any():
            around = sorted(
                {
                    nm
                    for node in np.r_[self.u[segs], self.v[segs]]
                    for nm in self._names_at(int(node), "")
                }
            )
            noun = self._noun(segs)
            near = around[0] if around else self._nearest_name(segs)
            return f"{noun} near {near}" if near else noun
        by_len = pd.Series(self.length[segs][named]).groupby(names[named].astype(str)).sum()
        dominant = sorted(by_len.index, key=lambda nm: (-round(by_len[nm], 6), nm))[0]
        ends = self._ends(segs[names == dominant])
        if ends is None:
            return dominant
        crossing = [c[0] for c in (self._names_at(e, dominant) for e in ends) if c]
        crossing = sorted(set(crossing))
        if len(crossing) == 2:
            return f"{dominant} ({crossing[0]} to {crossing[1]})"
        if len(crossing) == 1:
            return f"{dominant} (near {crossing[0]})"
        return dominant
