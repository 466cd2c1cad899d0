"""Scale tests of the hotspot steps: tiled street searches equal full ones; planted clusters found."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from geo.hotspots import find_hotspots, segment_adjacency, segment_band_adjacency, smooth_risk
from geo.network_distance import midpoint_distances
from geo.significance import NORMAL_ABOVE_SEGMENTS

ORIGIN = (508000.0, 428000.0)  # British National Grid, central Hull


def network_from(
    xy: np.ndarray, u: np.ndarray, v: np.ndarray, length: np.ndarray
) -> gpd.GeoDataFrame:
    """Straight segments between nodes at ``xy`` (metres from ORIGIN) in EPSG:27700."""
    start = xy[u] + ORIGIN
    end = xy[v] + ORIGIN
    lines = shapely.linestrings(np.stack([start, end], axis=1))
    return gpd.GeoDataFrame(
        {
            "segment_id": np.arange(len(u), dtype=np.int64),
            "name": "",
            "highway": "residential",
            "length_m": np.asarray(length, dtype=float),
            "u": u.astype(np.int64),
            "v": v.astype(np.int64),
        },
        geometry=lines,
        crs=27700,
    )


def full_search(segments: gpd.GeoDataFrame, radius: float) -> dict[tuple[int, int], float]:
    """Reference: unbounded-graph Dijkstra from every midpoint (the pre-tiling method)."""
    u = segments["u"].to_numpy()
    v = segments["v"].to_numpy()
    n = len(u)
    n_nodes = int(max(u.max(), v.max())) + 1
    half = np.maximum(segments["length_m"].to_numpy(dtype=float), 2e-3) / 2
    mid = n_nodes + np.arange(n)
    graph = sp.csr_matrix(
        (np.r_[half, half], (np.r_[mid, mid], np.r_[u, v])), shape=(n_nodes + n,) * 2
    )
    dist = dijkstra(graph, directed=False, indices=mid)[:, n_nodes:]
    rows, cols = np.nonzero(dist <= radius)
    return {(int(r), int(c)): float(dist[r, c]) for r, c in zip(rows, cols, strict=True)}


@st.composite
def small_networks(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, float, float]:
    """Random street graphs (self-loops, parallel edges, lengths shorter than the lines)."""
    n_nodes = draw(st.integers(2, 25))
    coords = draw(
        st.lists(
            st.tuples(st.integers(0, 800), st.integers(0, 800)),
            min_size=n_nodes,
            max_size=n_nodes,
        )
    )
    edges = draw(
        st.lists(
            st.tuples(st.integers(0, n_nodes - 1), st.integers(0, n_nodes - 1)),
            min_size=1,
            max_size=45,
        )
    )
    xy = np.asarray(coords, dtype=float)
    u = np.array([e[0] for e in edges])
    v = np.array([e[1] for e in edges])
    chord = np.hypot(*(xy[u] - xy[v]).T)
    if draw(st.booleans()):  # lengths at least the drawn line, in whole metres
        extra = draw(st.lists(st.integers(0, 60), min_size=len(u), max_size=len(u)))
        length = np.ceil(chord) + np.asarray(extra)
    else:  # lengths unrelated to the geometry: the tiles must notice and fall back
        length = np.asarray(
            draw(st.lists(st.integers(0, 300), min_size=len(u), max_size=len(u))), dtype=float
        )
    radius = float(draw(st.integers(0, 400)))
    tile = float(draw(st.integers(1, 500)))
    return network_from(xy, u, v, length), radius, tile


@hyp_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_networks())
def test_tiled_bounded_search_equals_the_full_search(case):
    segments, radius, tile = case
    md = midpoint_distances(segments, radius_m=radius, tile_m=tile)
    got = {(int(r), int(c)): float(d) for r, c, d in zip(md.rows, md.cols, md.dist, strict=True)}
    assert len(got) == len(md.rows)  # every pair once
    want = full_search(segments, radius)
    assert got.keys() == want.keys()
    for key, d in want.items():
        assert got[key] == d  # half-metre lengths: sums are exact


@hyp_settings(max_examples=60, deadline=None)
@given(small_networks(), st.integers(0, 2**32 - 1))
def test_smoothing_and_band_equal_the_full_search(case, seed):
    segments, radius, _ = case
    radius = max(radius, 1.0)
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 3, len(segments)).astype(float)
    ref = full_search(segments, radius)
    n = len(segments)
    kern = np.zeros((n, n))
    band = np.zeros((n, n))
    for (r, c), d in ref.items():
        kern[r, c] = max(1.0 - d / radius, 0.0)
        band[r, c] = float(r != c)
    want = (kern / kern.sum(axis=1, keepdims=True)).T @ values
    got = smooth_risk(segments, values, bandwidth_m=radius).to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    cached = smooth_risk(segments, values, bandwidth_m=radius, cache={}).to_numpy()
    np.testing.assert_allclose(cached, want, rtol=1e-12, atol=1e-12)
    adj = segment_band_adjacency(segments, band_m=radius).toarray()
    np.testing.assert_array_equal(adj, band)


def perturbed_grid(side: int, *, spacing: float = 80.0, seed: int = 0) -> gpd.GeoDataFrame:
    """A side x side street grid, nodes jittered and a tenth of the streets removed."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.c_[jj.ravel(), ii.ravel()] * spacing + rng.normal(0, spacing * 0.15, (side * side, 2))
    node = ii * side + jj
    u = np.r_[node[:, :-1].ravel(), node[:-1, :].ravel()]
    v = np.r_[node[:, 1:].ravel(), node[1:, :].ravel()]
    keep = rng.uniform(size=len(u)) > 0.1
    u, v = u[keep], v[keep]
    grid = network_from(xy, u, v, np.hypot(*(xy[u] - xy[v]).T))
    grid["name"] = np.where(u // side == v // side, "Row " + (u // side).astype(str), "")
    return grid.to_crs(4326)


def clustered_reports(
    grid: gpd.GeoDataFrame, n: int, centres: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """80% of reports spread over the grid, 20% on the streets around ``centres``."""
    adj = segment_adjacency(grid)
    near = (adj @ adj + adj).tocsr()
    picks = [rng.integers(0, len(grid), n - n // 5)]
    for c in centres:  # a loop over the planted clusters only
        around = np.r_[c, near.indices[near.indptr[c] : near.indptr[c + 1]]]
        picks.append(rng.choice(around, n // 5 // len(centres)))
    seg = np.concatenate(picks)
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 90, len(seg)), unit="D")
    return pd.DataFrame(
        {
            "report_id": np.arange(len(seg)).astype(str),
            "occurred_at": when,
            "time_known": True,
            "category": "asb",
            "source": "police",
            "lon": 0.0,
            "lat": 0.0,
            "segment_id": pd.array(seg, dtype="Int64"),
            "location_hint": pd.NA,
        }
    )


def _network(segments: gpd.GeoDataFrame) -> SimpleNamespace:
    """The two StreetNetwork members find_hotspots uses (segments and the analysis cache)."""
    cache: dict = {}
    return SimpleNamespace(segments=segments, analysis_cache=lambda: cache)


def test_planted_clusters_are_found_on_a_large_network(settings, monkeypatch):
    grid = perturbed_grid(125)  # about 28,000 segments
    assert len(grid) > NORMAL_ABOVE_SEGMENTS  # the default inference is the normal one
    rng = np.random.default_rng(7)
    centres = rng.choice(len(grid), 12, replace=False)
    reports = clustered_reports(grid, 60_000, centres, rng)
    net = _network(grid)
    hot = find_hotspots(net, reports, settings=settings)
    hot_segments = {s for ids in hot["segment_ids"] for s in ids}
    assert all(int(c) in hot_segments for c in centres)
    assert len(hot) < 3 * len(centres)  # the clusters, not a scatter of noise
    assert (hot["p_adj"] <= float(settings.hotspots.get("fdr", 0.05))).all()

    # A rerun with new reports reuses the network-only matrices: no new street search.
    import geo.network_distance as nd

    def no_search(*args, **kwargs):
        raise AssertionError("the street search ran again")

    monkeypatch.setattr(nd, "midpoint_distances", no_search)
    again = find_hotspots(net, reports.iloc[::2], settings=settings)
    assert len(again) >= 1
    with_cache = {k[0] for k in net.analysis_cache()}
    assert {"smoothing_kernel", "gi_weights", "segment_adjacency"} <= with_cache
