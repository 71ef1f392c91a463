"""VRPTW benchmark: ``python -m routing solve-vrplib`` on Solomon / Gehring-Homberger instances.

    .venv/bin/python bench/bench_vrptw.py [--dir ../shared/bench/vrptw] [--limits 10 60]
        [--out bench/results/vrptw.jsonl]

Runs every ``*.vrp`` with a ``.sol`` in ``--dir`` through the CLI (a fresh
process per run, so the JSON contract is what is measured), one at a time,
checks each solution (every client once, capacity, time windows, DIMACS
cost recomputed from the routes) and prints the gap to the best-known cost
per instance and the mean per time limit. Cost convention: DIMACS (distances
truncated to one decimal). Targets: mean gap <= 1 % at 10 s, <= 0.5 % at 60 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from routing.vrptw import check_routes, dimacs_cost, read_bks, read_vrptw  # noqa: E402

REFERENCE_SET = ("C101", "R101", "RC101", "R201", "RC201", "R1_2_1", "R1_4_1")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=str(ROOT.parent / "shared" / "bench" / "vrptw"))
    ap.add_argument("--limits", type=float, nargs="+", default=[10.0, 60.0])
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--only", nargs="*", help="instance names")
    ap.add_argument("--out", help="append one JSON line per run here")
    args = ap.parse_args()

    files = sorted(p for p in Path(args.dir).glob("*.vrp") if p.with_suffix(".sol").exists())
    if args.only:
        files = [p for p in files if p.stem in args.only]
    results: dict[float, dict[str, float]] = {}
    for limit in args.limits:
        results[limit] = {}
        for path in files:
            cmd = [
                sys.executable,
                "-m",
                "routing",
                "solve-vrplib",
                str(path),
                "--time-limit",
                str(limit),
                "--engine",
                args.engine,
                "--json",
            ]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            out = json.loads(proc.stdout)
            inst = read_vrptw(path)
            bks = read_bks(path.with_suffix(".sol"))
            issues = check_routes(inst, out["routes"])
            cost = dimacs_cost(inst, out["routes"])
            assert abs(cost - out["cost"]) < 1e-6, (cost, out["cost"])
            gap = 100.0 * (cost - bks) / bks
            row = {
                "instance": out["instance"],
                "limit_s": limit,
                "cost": cost,
                "bks": bks,
                "gap_pct": round(gap, 3),
                "vehicles": out["vehicles"],
                "time_s": out["time_s"],
                "feasible": not issues,
                "engine": out["engine"],
            }
            if issues:
                gap = float("inf")
            results[limit][path.stem] = gap
            print(json.dumps(row), flush=True)
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
    for limit, gaps in results.items():
        ref = [g for k, g in gaps.items() if k in REFERENCE_SET]
        print(
            json.dumps(
                {
                    "limit_s": limit,
                    "mean_gap_pct_all": round(statistics.mean(gaps.values()), 3),
                    "mean_gap_pct_reference7": round(statistics.mean(ref), 3) if ref else None,
                    "instances": len(gaps),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
