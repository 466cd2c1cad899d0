"""Benchmark: network load, snapping, hotspots, planning and import on synthetic cities of 5k-300k segments."""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import resource
import sys
import tempfile
import time
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = (5_000, 10_000, 30_000, 100_000, 300_000)
REPORTS = (100_000, 1_000_000)
SPACING_M = 80.0
N_CLUSTERS = 20
CLUSTER_SHARE = 0.2
ORIGIN_BNG = (508_000.0, 428_000.0)  # central Hull, British National Grid
CATEGORIES = ("Propositioning", "Discarded needles", "Condoms", "Welfare", "ASB", "Drugs")
SLUGS = ("propositioning", "needles", "condoms", "welfare_concern", "asb", "drugs")
PLAN_DATE = date(2024, 4, 2)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def city_lines(segments: int, *, seed: int) -> Any:
    """A perturbed street grid of about ``segments`` streets (WGS84 line layer with names)."""
    import geopandas as gpd
    import shapely

    side = max(3, round(math.sqrt(segments / 1.8)))  # 2 s (s - 1) streets, a tenth removed
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    jitter = rng.normal(0, SPACING_M * 0.15, (side * side, 2))
    xy = np.c_[jj.ravel(), ii.ravel()] * SPACING_M + jitter + ORIGIN_BNG
    node = ii * side + jj
    u = np.r_[node[:, :-1].ravel(), node[:-1, :].ravel()]
    v = np.r_[node[:, 1:].ravel(), node[1:, :].ravel()]
    keep = rng.uniform(size=len(u)) > 0.1
    u, v = u[keep], v[keep]
    row = u // side == v // side
    names = np.where(row, np.char.add("Row Street ", (u // side).astype(str)), "")
    names = np.where(row, names, np.char.add("Column Road ", (u % side).astype(str)))
    lines = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    frame = gpd.GeoDataFrame({"name": names, "highway": "residential"}, geometry=lines, crs=27700)
    return frame.to_crs(4326)


def city_reports(net: Any, n: int, *, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Report points: 80% spread by street length, 20% in clusters around planted segments."""
    import shapely

    from geo.significance import segment_adjacency

    rng = np.random.default_rng(seed)
    seg = net.segments
    length = seg["length_m"].to_numpy(dtype=float)
    n_cl = int(n * CLUSTER_SHARE)
    picks = [rng.choice(len(seg), n - n_cl, p=length / length.sum())]
    centres = rng.choice(len(seg), N_CLUSTERS, replace=False)
    adj = segment_adjacency(seg)
    near = (adj @ adj + adj).tocsr()
    for c in centres:  # a loop over the planted clusters only
        around = np.r_[c, near.indices[near.indptr[c] : near.indptr[c + 1]]]
        picks.append(rng.choice(around, n_cl // N_CLUSTERS))
    rows = np.concatenate(picks)
    pts = shapely.line_interpolate_point(
        seg.geometry.to_numpy()[rows], rng.uniform(0.1, 0.9, len(rows)), normalized=True
    )
    cat = rng.integers(0, len(CATEGORIES), len(rows))
    minutes = rng.integers(0, 90 * 24 * 60, len(rows))
    frame = pd.DataFrame(
        {
            "Reference": np.char.add("R", np.arange(len(rows)).astype(str)),
            "Date": pd.Timestamp("2024-01-01") + pd.to_timedelta(minutes, unit="min"),
            "Incident type": np.asarray(CATEGORIES)[cat],
            "category": np.asarray(SLUGS)[cat],
            "Latitude": np.round(shapely.get_y(pts), 6),
            "Longitude": np.round(shapely.get_x(pts), 6),
            "Partner": "police",
        }
    )
    return frame, centres


def contract_reports(raw: pd.DataFrame, segment_id: np.ndarray) -> pd.DataFrame:
    """The CONTRACTS report table of the synthetic points after snapping."""
    return pd.DataFrame(
        {
            "report_id": raw["Reference"].to_numpy(),
            "occurred_at": raw["Date"].to_numpy(),
            "time_known": True,
            "category": raw["category"].to_numpy(),
            "source": "police",
            "lon": raw["Longitude"].to_numpy(),
            "lat": raw["Latitude"].to_numpy(),
            "segment_id": pd.array(np.where(segment_id >= 0, segment_id, None), dtype="Int64"),
            "location_hint": pd.NA,
            "lsoa_code": pd.NA,
            "batch_id": "bench",
        }
    )


def _teams(net: Any, count: int, *, breaks: bool) -> list[Any]:
    """``count`` walking teams at the city centre, 8-hour shifts; two with 30-minute breaks."""
    from planning.teams import Team

    west, south, east, north = net.segments.total_bounds
    base = ((west + east) / 2, (south + north) / 2)
    start = datetime.combine(PLAN_DATE, datetime.min.time()) + timedelta(hours=10)
    return [
        Team(
            name=f"Team {i + 1}",
            skills=("police", "outreach", "sharps"),
            base=base,
            shift_start=start,
            shift_end=start + timedelta(hours=8),
            mode="walk",
            break_minutes=30 if breaks and i < 2 else 0,
        )
        for i in range(count)
    ]


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def _found(hot: pd.DataFrame, centres: np.ndarray) -> int:
    segs = {s for ids in hot["segment_ids"] for s in ids}
    return sum(int(c) in segs for c in centres)


def _plans(net: Any, hot: pd.DataFrame, args: argparse.Namespace, out: dict[str, Any]) -> None:
    """Time plan_patrols for 3/10 teams, top 30/100 hotspots, with and without breaks."""
    from planning.routes import plan_patrols

    for teams in (3, 10):
        for top in (30, 100):
            for breaks in (False, True):
                key = f"plan_{teams}t_{top}h_{'breaks' if breaks else 'nobreak'}"
                crew = _teams(net, teams, breaks=breaks)
                try:
                    secs, plan = _timed(
                        plan_patrols,
                        net,
                        hot.head(top),
                        crew,
                        date=PLAN_DATE,
                        time_limit_s=args.time_limit,
                    )
                except Exception as exc:
                    out[key] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
                    continue
                stops = [len(r.stops) for r in plan.routes]
                out[key] = {
                    "s": secs,
                    "stops": sum(stops),
                    "teams_with_stops": sum(s > 0 for s in stops),
                }


def _import(raw: pd.DataFrame, net: Any, tmp: Path, out: dict[str, Any]) -> None:
    """The real import path (read, validate, snap, store) into a temporary SQLite store."""
    from geo.ingest import import_file
    from geo.store import Store

    path = tmp / "partner.csv"
    raw.drop(columns=["category"]).assign(Date=raw["Date"].dt.strftime("%d/%m/%Y %H:%M")).to_csv(
        path, index=False
    )
    store = Store(f"sqlite:///{tmp / 'bench.db'}")
    try:  # stores with areas need one to import into
        from geo.areas import create_area

        create_area(store, "Scale benchmark", bbox=tuple(net.segments.total_bounds))
    except ImportError:
        pass
    secs, summary = _timed(
        import_file, path, store=store, source="police", network=net, rejects_dir=tmp
    )
    out["import"] = {"s": secs, "rows": summary.rows_read, "accepted": summary.accepted}


def _warm_imports(settings: Any) -> None:
    """Run the hotspot and snapping code once on a tiny city, so no step pays for imports."""
    from geo.hotspots import find_hotspots
    from geo.streets import StreetNetwork

    net = StreetNetwork.from_lines(city_lines(200, seed=1))
    raw, _ = city_reports(net, 2_000, seed=1)
    sid, _ = net.snap(raw["Longitude"], raw["Latitude"])
    for inference in ("normal", "permutation"):
        find_hotspots(net, contract_reports(raw, sid), settings=settings, inference=inference)


def run_size(segments: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every step at one city size (run in a fresh process so its peak memory is its own)."""
    warnings.filterwarnings("ignore")
    from geo.hotspots import find_hotspots
    from geo.settings import load_settings
    from geo.streets import StreetNetwork

    settings = load_settings()
    _warm_imports(settings)
    out: dict[str, Any] = {"size": segments}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        gpkg = tmp / "streets.gpkg"
        city_lines(segments, seed=segments).to_file(gpkg, driver="GPKG")
        out["load_s"], net = _timed(StreetNetwork.from_file, gpkg)
        out["segments"] = len(net.segments)
        out["peak_mb_load"] = _peak_mb()
        hot_big = None
        for n in args.reports:
            raw, centres = city_reports(net, n, seed=n + segments)
            snap_s, (sid, _) = _timed(net.snap, raw["Longitude"], raw["Latitude"])
            reports = contract_reports(raw, sid)
            net.analysis_cache().clear()  # cold: the street searches run
            cold_s, hot = _timed(find_hotspots, net, reports, settings=settings)
            warm_s, hot = _timed(find_hotspots, net, reports, settings=settings)  # cached
            out[f"r{n}"] = {
                "snap_s": snap_s,
                "hotspots_s": cold_s,
                "hotspots_rerun_s": warm_s,
                "hotspots": len(hot),
                "planted_found": _found(hot, centres),
                "planted": N_CLUSTERS,
            }
            out["peak_mb_hotspots"] = _peak_mb()
            hot_big, raw_big = hot, raw
        if args.plan and hot_big is not None:
            _plans(net, hot_big, args, out)
            out["peak_mb_plan"] = _peak_mb()
        if args.import_rows and hot_big is not None:
            _import(raw_big.head(args.import_rows), net, tmp, out)
        out["peak_mb"] = _peak_mb()
    return out


def _child(segments: int, args: argparse.Namespace, queue: mp.Queue) -> None:
    try:
        queue.put(run_size(segments, args))
    except BaseException as exc:  # the parent must not wait for ever
        queue.put({"size": segments, "error": f"{type(exc).__name__}: {exc}"})
        raise


def _in_child(segments: int, args: argparse.Namespace) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(segments, args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def _exponent(sizes: list[float], secs: list[float]) -> float:
    """Slope of log(time) against log(size): 1 is linear, 2 quadratic."""
    ok = [(s, t) for s, t in zip(sizes, secs, strict=True) if t and t > 0]
    if len(ok) < 2:
        return float("nan")
    x, y = np.log([s for s, _ in ok]), np.log([t for _, t in ok])
    return float(np.polyfit(x, y, 1)[0])


def _print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, float]:
    """The table of seconds per step and size, with growth exponents; returns the exponents."""
    steps: list[tuple[str, Any]] = [("network load (GeoPackage)", lambda r: r["load_s"])]
    for n in args.reports:
        k = f"r{n}"
        steps += [
            (f"snap {n:,} reports", lambda r, k=k: r[k]["snap_s"]),
            (f"hotspots {n:,} reports", lambda r, k=k: r[k]["hotspots_s"]),
            ("  rerun (cached network)", lambda r, k=k: r[k]["hotspots_rerun_s"]),
        ]
    plan_keys = [k for k in rows[0] if k.startswith("plan_")]
    steps += [(k.replace("_", " "), lambda r, k=k: r.get(k, {}).get("s")) for k in plan_keys]
    if any("import" in r for r in rows):
        steps.append((f"import {args.import_rows:,} rows", lambda r: r["import"]["s"]))
    sizes = [r["segments"] for r in rows]
    head = f"{'step (seconds)':<34}" + "".join(f"{s:>10,}" for s in sizes) + f"{'growth':>9}"
    print(head)
    exps: dict[str, float] = {}
    for name, get in steps:
        secs = [get(r) for r in rows]
        exps[name] = _exponent(sizes, secs)
        cells = "".join(f"{t:>10.2f}" if t is not None else f"{'-':>10}" for t in secs)
        print(f"{name:<34}{cells}{exps[name]:>9.2f}")
    for n in args.reports:
        k = f"r{n}"
        found = "".join(f"{r[k]['planted_found']:>7}/{r[k]['planted']:<2}" for r in rows)
        print(f"{f'planted found ({n:,})':<34}{found}")
        print(f"{f'hotspots ({n:,})':<34}" + "".join(f"{r[k]['hotspots']:>10}" for r in rows))
    for k in plan_keys:
        cells = "".join(
            f"{r[k].get('teams_with_stops', 0):>4}t{r[k].get('stops', 0):>4}s " for r in rows
        )
        print(f"{k.replace('_', ' ') + ' (teams/stops)':<34}{cells}")
    print(f"{'peak MB':<34}" + "".join(f"{r['peak_mb']:>10.0f}" for r in rows))
    return exps


def _ratio(rows: list[dict[str, Any]], key: str, exp: float) -> tuple[float, float, bool]:
    """Hotspot seconds at 100k and 10k segments (or the growth exponent's ratio when not both run)."""
    by = {r["size"]: r[key]["hotspots_s"] for r in rows}
    if 100_000 in by and 10_000 in by:
        return by[100_000], by[10_000], False
    return 10.0**exp, 1.0, True


def main() -> None:
    """Run every size in its own process, print the table and DESIGN section 7's JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--reports", default=",".join(str(r) for r in REPORTS))
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--no-plan", dest="plan", action="store_false")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.reports = [int(r) for r in args.reports.split(",")]
    rows = []
    t0 = time.perf_counter()
    for size in args.sizes:
        row = _in_child(size, args)
        if "error" in row:
            print(f"... {size:,} segments failed: {row['error']}", flush=True)
            continue
        rows.append(row)
        print(f"... {size:,} segments done at {time.perf_counter() - t0:.0f} s", flush=True)
    print()
    exps = _print_table(rows, args)
    big = f"r{max(args.reports)}"
    exp = exps[f"hotspots {max(args.reports):,} reports"]
    ours, peer, estimated = _ratio(rows, big, exp)
    print(
        json.dumps(
            {
                "benchmark": "scale",
                "ours_s": round(ours, 3),  # hotspots at 100k segments
                "peer_s": round(peer, 3),  # hotspots at 10k segments
                "ratio": round(ours / peer, 2),
                "ratio_estimated": estimated,
                "hotspots_s": {r["segments"]: round(r[big]["hotspots_s"], 3) for r in rows},
                "hotspots_rerun_s": {
                    r["segments"]: round(r[big]["hotspots_rerun_s"], 3) for r in rows
                },
                "planted_found": {r["segments"]: r[big]["planted_found"] for r in rows},
                "growth_exponent_hotspots": round(
                    exps[f"hotspots {max(args.reports):,} reports"], 2
                ),
                "peak_mb": round(max(r["peak_mb"] for r in rows), 1),
                "segments": [r["segments"] for r in rows],
                "reports": args.reports,
            }
        )
    )


if __name__ == "__main__":
    main()
