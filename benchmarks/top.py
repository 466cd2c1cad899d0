"""Benchmark the patrol solver core on team orienteering (Chao) and TOPTW (KU Leuven) instances."""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from planning.routes import (  # noqa: E402
    OrienteeringInstance,
    OrienteeringSolution,
    check_solution,
    solve_orienteering,
)

DATA = ROOT.parent / "shared" / "data" / "top"
REFERENCE = DATA / "reference-scores.csv"


@dataclass
class Benchmark:
    """One parsed benchmark file."""

    name: str
    kind: str  # "chao" or "kul"
    set_name: str
    xy: np.ndarray
    scores: np.ndarray
    service: np.ndarray
    open_: np.ndarray
    close: np.ndarray
    teams: int
    tmax: float
    decimals: int | None  # distances rounded down to this many decimals (None = unrounded)
    start: int
    end: int

    @property
    def n(self) -> int:
        """Number of points including the depot(s)."""
        return len(self.scores)

    def distances(self) -> np.ndarray:
        """Euclidean distances with the instance's rounding."""
        diff = self.xy[:, None, :] - self.xy[None, :, :]
        d = np.sqrt((diff**2).sum(axis=2))
        if self.decimals is not None:
            f = 10.0**self.decimals
            d = np.floor(np.round(d * f, 6)) / f
        return d

    def instance(self, *, teams: int | None = None) -> OrienteeringInstance:
        """The generic orienteering instance (with integer scaling exact for rounded files)."""
        m = self.teams if teams is None else teams
        windows = [[(float(a), float(b))] for a, b in zip(self.open_, self.close, strict=True)]
        scale = 10.0**self.decimals if self.decimals is not None else 10_000.0
        return OrienteeringInstance(
            travel=self.distances(),
            scores=self.scores.astype(np.float64),
            service=self.service.astype(np.float64),
            starts=[self.start] * m,
            ends=[self.end] * m,
            vehicle_windows=[(float(self.open_[self.start]), float(self.tmax))] * m,
            windows=windows,
            scale=scale,
            score_scale=1.0,
        )


def read_chao(path: str | Path) -> Benchmark:
    """Read a Chao-format TOP file (``n``, ``m``, ``tmax`` then ``x y score`` rows).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    Benchmark
    """
    path = Path(path)
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    head = {ln[0]: ln[1] for ln in lines[:3]}
    n, m, tmax = int(head["n"]), int(head["m"]), float(head["tmax"])
    rows = np.array([[float(x) for x in ln[:3]] for ln in lines[3 : 3 + n]])
    if len(rows) != n:
        msg = f"{path} declares {n} points but lists {len(rows)}."
        raise ValueError(msg)
    set_no = re.match(r"p(\d+)\.", path.name)
    return Benchmark(
        name=path.name.removesuffix(".txt"),
        kind="chao",
        set_name=f"TOP_Chao_set{set_no.group(1)}" if set_no else "TOP_Chao",
        xy=rows[:, :2],
        scores=rows[:, 2],
        service=np.zeros(n),
        open_=np.zeros(n),
        close=np.full(n, tmax),
        teams=m,
        tmax=tmax,
        decimals=None,
        start=0,
        end=n - 1,
    )


def read_kul(path: str | Path, *, teams: int = 1) -> Benchmark:
    """Read a KU Leuven TOPTW file (Solomon or Cordeau instances).

    Vertex 0 is the start and end; its closing time is the route time limit. Each vertex row
    is ``i x y d S f a [list] O C``: the window is the last two numbers. Distances are rounded
    down to one decimal for Solomon files and two for Cordeau (``pr``) files.

    Parameters
    ----------
    path
        The file.
    teams
        Number of routes (not in the file; the literature uses 1 to 4).

    Returns
    -------
    Benchmark
    """
    path = Path(path)
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    # The header is six numbers "k v N t" and "D Q"; one published file (c204) wraps them
    # over lines differently, so read tokens until there are six, then the vertex rows.
    header: list[str] = []
    start = 0
    while len(header) < 6 and start < len(lines):
        header += lines[start]
        start += 1
    if len(header) < 6:
        msg = f"{path} has no KU Leuven header (k v N t / D Q)."
        raise ValueError(msg)
    n_customers = int(header[2])
    rows = lines[start : start + n_customers + 1]
    if len(rows) != n_customers + 1:
        msg = f"{path} declares {n_customers} vertices but lists {len(rows) - 1}."
        raise ValueError(msg)
    xy = np.array([[float(r[1]), float(r[2])] for r in rows])
    service = np.array([float(r[3]) for r in rows])
    scores = np.array([float(r[4]) for r in rows])
    open_ = np.array([float(r[-2]) for r in rows])
    close = np.array([float(r[-1]) for r in rows])
    name = path.name.removesuffix(".txt")
    cordeau = name.startswith("pr")
    if cordeau:
        set_name = "TOPTW_Cordeau"
    elif re.match(r"(c|r|rc)1\d\d$", name):
        set_name = "TOPTW_Solomon1_n100"
    else:
        set_name = "TOPTW_Solomon2_n100"
    return Benchmark(
        name=name,
        kind="kul",
        set_name=set_name,
        xy=xy,
        scores=scores,
        service=service,
        open_=open_,
        close=close,
        teams=teams,
        tmax=float(close[0]),
        decimals=2 if cordeau else 1,
        start=0,
        end=0,
    )


def read_any(path: str | Path, *, teams: int = 1) -> Benchmark:
    """Read a file in whichever of the two formats it is in."""
    first = Path(path).read_text().lstrip()[:2]
    return read_chao(path) if first.startswith("n ") else read_kul(path, teams=teams)


def load_references(path: Path = REFERENCE) -> dict[tuple[str, int], tuple[float, str]]:
    """Reference scores by (instance, teams): (score, kind)."""
    out: dict[tuple[str, int], tuple[float, str]] = {}
    if not path.is_file():
        return out
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            out[(row["instance"], int(row["teams"]))] = (float(row["reference_score"]), row["kind"])
    return out


def solve(
    bench: Benchmark, *, time_limit_s: float, teams: int | None = None, **kwargs: object
) -> tuple[OrienteeringSolution, list[str]]:
    """Solve one benchmark with the patrol solver core and check the routes unscaled."""
    inst = bench.instance(teams=teams)
    sol = solve_orienteering(inst, time_limit_s=time_limit_s, **kwargs)  # type: ignore[arg-type]
    return sol, check_solution(inst, sol)


def _files(args: list[str]) -> list[Path]:
    out: list[Path] = []
    for a in args:
        p = Path(a)
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.suffix == ".txt"))
        elif p.is_file():
            out.append(p)
        else:
            msg = f"{a} is neither a file nor a folder."
            raise SystemExit(msg)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="+", help="instance files or folders")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per instance")
    parser.add_argument("--teams", type=int, default=1, help="routes for KU Leuven files")
    parser.add_argument("--every", type=int, default=1, help="run every k-th file of each folder")
    parser.add_argument("--first-solution", default="PATH_CHEAPEST_ARC")
    parser.add_argument("--metaheuristic", default="GUIDED_LOCAL_SEARCH")
    args = parser.parse_args(argv)
    files = _files(args.paths)
    if args.every > 1:
        files = files[:: args.every]
    refs = load_references()
    results: list[dict[str, object]] = []
    for f in files:
        bench = read_any(f, teams=args.teams)
        t = time.perf_counter()
        sol, problems = solve(
            bench,
            time_limit_s=args.time_limit,
            first_solution=args.first_solution,
            metaheuristic=args.metaheuristic,
        )
        seconds = time.perf_counter() - t
        row: dict[str, object] = {
            "instance": bench.name,
            "set": bench.set_name,
            "teams": bench.teams,
            "score": round(sol.score, 6),
            "seconds": round(seconds, 2),
            "feasible": not problems,
        }
        ref = refs.get((bench.name, bench.teams))
        if ref is not None:
            row["reference"] = ref[0]
            row["reference_kind"] = ref[1]
            row["gap_pct"] = round(100.0 * (ref[0] - sol.score) / ref[0], 3) if ref[0] else 0.0
        if problems:
            row["problems"] = problems[:3]
        results.append(row)
        print(json.dumps(row), flush=True)
    if len(results) > 1:
        summary = _table(results)
        # DESIGN section 7: the last line is one JSON object with the run's figures.
        print(
            json.dumps(
                {
                    "benchmark": "top",
                    "instances": len(results),
                    "time_limit_s": args.time_limit,
                    "seconds": round(sum(float(r["seconds"]) for r in results), 1),  # type: ignore[arg-type]
                    "all_feasible": all(r["feasible"] for r in results),
                    "sets": summary,
                }
            )
        )
    return 0 if all(r["feasible"] for r in results) else 1


def _table(results: list[dict[str, object]]) -> dict[str, dict[str, float]]:
    """Print mean and worst gap per set and reference kind; return them."""
    by_set: dict[tuple[str, str], list[dict[str, object]]] = {}
    for r in results:
        if "gap_pct" in r:
            kind = str(r["reference_kind"]).split(" (")[0]
            by_set.setdefault((str(r["set"]), kind), []).append(r)
    summary: dict[str, dict[str, float]] = {}
    print()
    print(
        f"{'set':<22} {'reference':<36} {'runs':>4} {'mean gap %':>10} {'worst gap %':>11} {'above ref':>9}"
    )
    for (name, kind), rows in sorted(by_set.items()):
        gaps = [float(r["gap_pct"]) for r in rows]  # type: ignore[arg-type]
        above = sum(g < 0 for g in gaps)
        summary[f"{name} ({kind})"] = {
            "runs": len(rows),
            "mean_gap_pct": round(float(np.mean(gaps)), 3),
            "worst_gap_pct": round(max(gaps), 3),
            "above_reference": above,
        }
        print(
            f"{name:<22} {kind[:36]:<36} {len(rows):>4} {np.mean(gaps):>10.2f} {max(gaps):>11.2f} {above:>9}"
        )
    print("(gap = (reference - score) / reference; negative = above the reference)")
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
