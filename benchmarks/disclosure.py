"""Benchmark: community summaries released month by month against the ledger vs checked alone."""

from __future__ import annotations

import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.settings import load_settings  # noqa: E402
from geo.store import Store  # noqa: E402
from planning.impact import release_summary, summary_figures  # noqa: E402

CATEGORIES = ["needles", "condoms", "propositioning", "welfare_concern", "asb", "drugs"]
STREETS = [f"Street {i}" for i in range(12)]


def _reports(months: int, seed: int = 7) -> pd.DataFrame:
    """Reports over ``months`` months: big and small counts by category and street."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in pd.period_range("2024-01", periods=months, freq="M"):
        for c, cat in enumerate(CATEGORIES):
            for s, street in enumerate(STREETS):
                n = int(rng.poisson(1.5 + 3.0 * ((c + s) % 4 == 0)))
                for i in range(n):
                    rows.append((cat, m.start_time + pd.Timedelta(days=i % 27, hours=21), street))
    frame = pd.DataFrame(rows, columns=["category", "occurred_at", "location_hint"])
    frame["report_id"] = [f"r{k:07d}" for k in range(len(frame))]
    frame["lon"], frame["lat"], frame["segment_id"] = -0.35, 53.74, pd.NA
    return frame


def main() -> None:
    settings = load_settings()
    months = 24
    reports = _reports(months)
    store = Store(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    ours, alone = [], []
    periods = []
    for m in pd.period_range("2024-02", periods=months - 1, freq="M"):
        periods.append((m, m))
        if m.month % 3 == 0:
            periods.append((m - 2, m))
    for a, b in periods:
        t0 = time.perf_counter()
        release_summary(store, reports, start=a.start_time, end=b.end_time, settings=settings)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        summary_figures(reports, start=a.start_time, end=b.end_time, settings=settings)
        alone.append(time.perf_counter() - t0)
    print(f"{'release':>8} {'period':>18} {'ledger s':>9} {'alone s':>8}")
    for i, ((a, b), x, y) in enumerate(zip(periods, ours, alone, strict=True)):
        print(f"{i + 1:>8} {f'{a}..{b}':>18} {x:9.2f} {y:8.2f}")
    last = slice(-6, None)
    med_ours, med_alone = statistics.median(ours[last]), statistics.median(alone[last])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "ours_s": round(med_ours, 3),
                "peer_s": round(med_alone, 3),
                "ratio": round(med_ours / med_alone, 2),
                "peak_mb": round(peak, 1),
                "reports": len(reports),
                "releases": len(periods),
                "categories": len(CATEGORIES),
                "streets": len(STREETS),
            }
        )
    )
    store.dispose()


if __name__ == "__main__":
    main()
