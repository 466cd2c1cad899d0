"""Benchmark: import of a 1,000,000-row partner CSV against a naive read_csv + to_sql of it."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CATEGORIES = ("Propositioning", "Discarded needles", "Condoms", "Welfare", "ASB", "Drugs")
SOURCES = ("outreach", "council", "police", "public")


def make_csv(path: Path, rows: int, *, seed: int = 7) -> None:
    """Write a synthetic partner CSV with the usual columns and a free-text notes column."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00")
    minutes = rng.integers(0, 365 * 24 * 60, rows)
    when = pd.Series(start + minutes.astype("timedelta64[m]")).dt.strftime("%d/%m/%Y %H:%M")
    frame = pd.DataFrame(
        {
            "Reference": np.char.add("R", np.arange(rows).astype(str)),
            "Date": when,
            "Incident type": np.asarray(CATEGORIES)[rng.integers(0, len(CATEGORIES), rows)],
            "Latitude": np.round(53.70 + rng.random(rows) * 0.1, 6),
            "Longitude": np.round(-0.45 + rng.random(rows) * 0.2, 6),
            "Partner": np.asarray(SOURCES)[rng.integers(0, len(SOURCES), rows)],
            "Location": np.asarray(
                ["On or near Anlaby Road", "Spring Bank", "Hessle Road", "Beverley Road"]
            )[rng.integers(0, 4, rows)],
            "Notes": np.asarray(
                [
                    "seen near the corner with two others, left when approached",
                    "reported by a resident walking the dog past the bus stop",
                    "",
                    "outreach van stopped and offered support and water",
                ]
            )[rng.integers(0, 4, rows)],
        }
    )
    frame.to_csv(path, index=False)


def _peak_mb() -> float:
    """This process's peak resident memory in MB.

    ``VmHWM`` belongs to the process's own memory map, made new by ``exec``; ``ru_maxrss``
    carries the parent's high-water mark over an exec (spawned children all showed the
    generator's 929 MB at 1M rows), so it is only the fallback.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_read_csv(path: str, queue: mp.Queue) -> None:
    t0 = time.perf_counter()
    frame = pd.read_csv(path)
    queue.put({"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb(), "rows": len(frame)})


def _run_naive(path: str, db: str, queue: mp.Queue) -> None:
    """The naive peer: ``pandas.read_csv`` + ``DataFrame.to_sql`` into a fresh SQLite file."""
    import sqlite3

    t0 = time.perf_counter()
    frame = pd.read_csv(path)
    with sqlite3.connect(db) as conn:
        frame.to_sql("reports", conn, index=False)
    queue.put({"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb(), "rows": len(frame)})


def _settings_for(path: Path):
    """The project's settings with the file-size and row limits raised to fit ``path``."""
    from dataclasses import replace

    from geo.settings import load_settings

    settings = load_settings()
    general = dict(settings.general)
    size_mb = path.stat().st_size / 2**20 + 1
    general["max_upload_mb"] = max(float(general.get("max_upload_mb", 200)), size_mb)
    lines = sum(chunk.count(b"\n") for chunk in _chunks(path))
    general["max_rows"] = max(int(general.get("max_rows", 2_000_000)), lines + 1)
    return replace(settings, general=general)


def _chunks(path: Path):
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            yield chunk


def _run_ingest(path: str, db: str, queue: mp.Queue) -> None:
    from geo.ingest import import_file
    from geo.reports import read_reports
    from geo.store import Store

    settings = _settings_for(Path(path))
    t0 = time.perf_counter()
    read_reports(path, source="outreach", settings=settings)
    read_s = time.perf_counter() - t0
    store = Store(f"sqlite:///{db}")
    t0 = time.perf_counter()
    summary = import_file(
        path, store=store, source="outreach", rejects_dir=Path(db).parent, settings=settings
    )
    seconds = time.perf_counter() - t0
    queue.put(
        {
            "seconds": seconds,
            "read_s": read_s,
            "peak_mb": _peak_mb(),
            "rows": summary.rows_read,
            "accepted": summary.accepted,
            "rejected": summary.rejected,
            "dropped": [d.column for d in summary.dropped_columns],
        }
    )


def _in_child(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main() -> None:
    """Generate the file, time both sides in fresh processes, print a table and a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--ours-only",
        action="store_true",
        help="time and measure only our import (for memory at 5M rows; no ratio)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "partner.csv"
        t0 = time.perf_counter()
        make_csv(path, args.rows)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        ours, peer, naive = [], [], []
        for i in range(args.repeat):
            if not args.ours_only:
                peer.append(_in_child(_run_read_csv, str(path)))
                naive.append(_in_child(_run_naive, str(path), str(Path(tmp) / f"naive{i}.db")))
            ours.append(_in_child(_run_ingest, str(path), str(Path(tmp) / f"bench{i}.db")))
    _report(args, ours, peer, naive)


def _median(runs: list[dict], key: str) -> float | None:
    return statistics.median(r[key] for r in runs) if runs else None


def _report(
    args: argparse.Namespace, ours: list[dict], peer: list[dict], naive: list[dict]
) -> None:
    """Print the table and the JSON line (ratios only when the peers ran)."""
    ours_s = _median(ours, "seconds")
    read_s = _median(ours, "read_s")
    peak = max(r["peak_mb"] for r in ours)
    print()
    print(f"{'step':<44}{'median s':>10}{'rows/s':>14}{'peak MB':>10}")
    rows = [
        ("beatplan read+validate+anonymise+store", ours_s, peak),
        ("  of which read+validate+anonymise", read_s, None),
        ("  of which store (the rest)", ours_s - read_s, None),
    ]
    if peer:
        rows.append(("pandas.read_csv", _median(peer, "seconds"), max(r["peak_mb"] for r in peer)))
        rows.append(
            (
                "pandas.read_csv + to_sql (naive, no checks)",
                _median(naive, "seconds"),
                max(r["peak_mb"] for r in naive),
            )
        )
    for name, sec, mb in rows:
        shown = f"{mb:>10.0f}" if mb is not None else f"{'':>10}"
        print(f"{name:<44}{sec:>10.2f}{args.rows / sec:>14,.0f}{shown}")
    print(
        f"accepted {ours[0]['accepted']:,}, rejected {ours[0]['rejected']:,}, "
        f"dropped columns {ours[0]['dropped']}"
    )
    naive_s = _median(naive, "seconds")
    peer_s = _median(peer, "seconds")
    if naive_s and peer_s:
        print(
            f"ratio ours/naive = {ours_s / naive_s:.2f} (goal <= 1), ours/read_csv = "
            f"{ours_s / peer_s:.2f}, peak {peak:.0f} MB (goal < 2048)"
        )
    else:
        print(f"peak {peak:.0f} MB (goal < 2048); peers not run (--ours-only)")
    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "ours_s": round(ours_s, 3),
                "peer_s": round(naive_s, 3) if naive_s else None,
                "ratio": round(ours_s / naive_s, 3) if naive_s else None,
                "read_csv_s": round(peer_s, 3) if peer_s else None,
                "read_csv_ratio": round(ours_s / peer_s, 3) if peer_s else None,
                "read_validate_s": round(read_s, 3),
                "read_validate_ratio": round(read_s / peer_s, 3) if peer_s else None,
                "peak_mb": round(peak, 1),
                "peer_peak_mb": round(max(r["peak_mb"] for r in naive), 1) if naive else None,
                "read_csv_peak_mb": round(max(r["peak_mb"] for r in peer), 1) if peer else None,
                "rows": args.rows,
                "repeat": args.repeat,
                "rows_per_s": round(args.rows / ours_s),
            }
        )
    )


if __name__ == "__main__":
    main()
