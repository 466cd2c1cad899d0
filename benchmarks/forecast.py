"""Benchmark: hotspot forecasts against strong baselines on splits no setting was chosen on.

Runs ``geo.evaluate`` on every real police.uk train -> test pair in ``../shared/data/police-uk``
(Humberside; anti-social behaviour + drugs + public order, and all crime) with the Hull box
as the area and with none (the training extent, far-off records dropped), and the
rolling-origin splits of the synthetic demo (train on months 1..k, test on k+1, on the
Helsinki street network). Every method picks its settings inside the training window.
Prints a table with 95% bootstrap intervals and, as the last line, one JSON object whose
``ratio`` is the best baseline's hit rate at 5% divided by ours, worst case over the runs
(<= 1: we are at or above every baseline everywhere).

Run from the project root: ``.venv/bin/python benchmarks/forecast.py``.
"""

from __future__ import annotations

import itertools
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.evaluate import backtest, evaluate
from geo.forecast import METHODS

ROOT = Path(__file__).resolve().parents[1]
POLICE = ROOT.parent / "shared" / "data" / "police-uk"
HULL_BOX = (-0.43, 53.71, -0.24, 53.82)
GROUPS = {"asb+drugs+public_order": ["asb", "drugs", "public_order"], "all crime": None}
KEYS = ("0.01", "0.05", "0.10")
N_BOOT = 200
DEMO_END = "2025-12-31"
CELLS_M = (50.0, 100.0, 150.0)
CACHE = Path(tempfile.gettempdir()) / "beatplan-bench-forecast"


def police_pairs() -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """Consecutive police.uk files of the same force as (name, train, test)."""
    from geo.reports import read_reports

    files = sorted(POLICE.glob("*-street.csv"))
    by_force: dict[str, list[Path]] = {}
    for f in files:
        by_force.setdefault(f.name.split("-", 2)[2], []).append(f)
    pairs = []
    for group in by_force.values():
        for a, b in itertools.pairwise(group):
            train = read_reports(a, source="police").reports
            test = read_reports(b, source="police").reports
            pairs.append((f"{a.name[:7]}->{b.name[:7]}", train, test))
    return pairs


def demo_reports() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo's 12 months of synthetic reports snapped to the Helsinki network (cached)."""
    from geo.demo import demo_network, generate_demo_reports
    from geo.ingest import snap_reports
    from geo.reports import read_reports

    CACHE.mkdir(parents=True, exist_ok=True)
    net = demo_network(cache_dir=CACHE)
    path = CACHE / "SYNTHETIC-DEMO-reports.csv"
    if not path.exists():
        generate_demo_reports(net, seed=7, end=DEMO_END).to_csv(path, index=False)
    reports = snap_reports(read_reports(path).reports, net, max_distance_m=50.0)
    return reports, net.segments


def _cell(m: dict[str, Any], key: str) -> str:
    lo, hi = m["hit_rate_ci"][key]
    return f"{m['hit_rate'][key]:.3f} [{lo:.3f},{hi:.3f}]"


def print_table(title: str, methods: dict[str, Any], info: str) -> None:
    """One block of the table: hit rate [95% CI] at 1/5/10%, PEI@1%, settings."""
    print(f"\n{title}\n  {info}")
    print(
        f"  {'method':14s} {'hit@1%':>20s} {'hit@5%':>20s} {'hit@10%':>20s} {'PEI@1%':>18s}  settings"
    )
    for name, m in methods.items():
        cells = " ".join(f"{_cell(m, k):>20s}" for k in KEYS)
        lo, hi = m["pei_ci"]["0.01"]
        pei = f"{m['pei']['0.01']:.3f} [{lo:.2f},{hi:.2f}]"
        print(f"  {name:14s} {cells} {pei:>18s}  {m.get('settings', '')}")


def cell_sizes(train: pd.DataFrame, test: pd.DataFrame, cats: list[str] | None) -> None:
    """Hit rate and PEI at 1% on the Hull box for several grid cells, every method alike.

    police.uk places reports on anonymous map points, so a cell size changes what the
    hindsight ranking (PEI's denominator) can reach; the same cells for every method.
    """
    print("\n  cell size (Hull box): hit@1% / PEI@1% per method, same protocol for all")
    for cell in CELLS_M:
        res = evaluate(train, test, categories=cats, area=HULL_BOX, cell_m=cell, n_boot=N_BOOT)
        row = "  ".join(
            f"{n} {m['hit_rate']['0.01']:.3f}/{m['pei']['0.01']:.3f}"
            for n, m in res["methods"].items()
        )
        print(f"  {cell:4.0f} m ({res['study_area']['units']} cells): {row}")


def map_points(train: pd.DataFrame, test: pd.DataFrame, cats: list[str] | None) -> str:
    """Distinct training map points in the Hull box and the share of test reports on them."""
    w, s, e, n = HULL_BOX

    def inside(df: pd.DataFrame) -> pd.DataFrame:
        return df[df["lon"].between(w, e) & df["lat"].between(s, n)]

    tr, te = inside(train), inside(test)
    if cats is not None:
        te = te[te["category"].isin(cats)]
    pts = set(zip(tr["lon"].round(6), tr["lat"].round(6), strict=True))
    on = [p in pts for p in zip(te["lon"].round(6), te["lat"].round(6), strict=True)]
    return (
        f"{len(pts)} distinct training map points (any category) in the Hull box; "
        f"{sum(on) / max(len(on), 1):.0%} of the test reports sit on one of them"
    )


def ratios(methods: dict[str, Any]) -> dict[str, float]:
    """Best baseline's hit rate / ours at each coverage."""
    out = {}
    for k in KEYS:
        best = max(m["hit_rate"][k] for name, m in methods.items() if name != "beatplan")
        out[k] = best / max(methods["beatplan"]["hit_rate"][k], 1e-12)
    return out


def main() -> None:
    """Run every split, print the table and the JSON line."""
    t0 = time.perf_counter()
    runs: dict[str, dict[str, Any]] = {}
    for pair, train, test in police_pairs():
        for group, cats in GROUPS.items():
            for area_name, area in (("Hull box", HULL_BOX), ("no area", None)):
                if cats is None and area is None:
                    continue  # all crime over the whole force: slow and adds nothing
                res = evaluate(train, test, categories=cats, area=area, n_boot=N_BOOT)
                name = f"police.uk Humberside {pair}, {group}, {area_name}"
                sa = res["study_area"]
                info = (
                    f"train {res['n_train']}, test {res['n_test']} (outside {res['n_test_outside']}), "
                    f"{sa['km2']:.0f} km2 ({sa['source']}, {sa['train_outliers_dropped']} far-off "
                    f"training records dropped); validation: {res['validation']}"
                )
                print_table(name, res["methods"], info)
                print(
                    f"  ours' validation objective per candidate: {res['methods']['beatplan'].get('candidates')}"
                )
                if area is not None and cats is not None:
                    print(f"  {map_points(train, test, cats)}")
                    cell_sizes(train, test, cats)
                runs[name] = {
                    "ratio": ratios(res["methods"]),
                    "n_train": res["n_train"],
                    "n_test": res["n_test"],
                }
    reports, segments = demo_reports()
    bt = backtest(reports, segments=segments, min_train_months=3, n_boot=N_BOOT)
    for s in bt["splits"]:
        hr = "  ".join(f"{m} {v['0.05']:.3f}" for m, v in s["hit_rate"].items())
        print(f"  demo {s['train']} -> {s['test']}: hit@5% {hr}; ours {s['settings']['beatplan']}")
    kept = [s["settings"]["beatplan"].get("model") for s in bt["splits"]]
    print(f"  ours kept per split: {kept}")
    info = (
        f"{len(bt['splits'])} rolling splits, {bt['study_area']['km_street']:.1f} km of street; "
        "mean over splits, intervals from the unit bootstrap averaged over splits"
    )
    print_table(
        "synthetic demo (Helsinki network), rolling origin, all categories", bt["summary"], info
    )
    runs["demo rolling"] = {"ratio": ratios(bt["summary"]), "splits": len(bt["splits"])}
    wall = time.perf_counter() - t0
    worst = max(r["ratio"]["0.05"] for r in runs.values())
    print(f"\nworst best-baseline/ours at 5%: {worst:.3f}   wall {wall:.1f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    summary = {
        "benchmark": "forecast",
        "ratio": round(worst, 4),
        "ratios": {n: {k: round(v, 4) for k, v in r["ratio"].items()} for n, r in runs.items()},
        "seconds": round(wall, 2),
        "peak_mb": round(peak, 1),
        "methods": list(METHODS),
        "sizes": {n: {k: v for k, v in r.items() if k != "ratio"} for n, r in runs.items()},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
