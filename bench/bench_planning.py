"""Benchmark: plan a month of synthetic maintenance jobs on the demo city (or a synthetic grid).

    .venv/bin/python bench/bench_planning.py                      # 500 jobs, outage_demo/monaco.gpkg
    .venv/bin/python bench/bench_planning.py --jobs 500 --grid synthetic --seed 1
    .venv/bin/python bench/bench_planning.py --write-jobs bench/out/jobs500.csv

Prints one JSON object: grid size, stage timings (s), solver status, plan vs
baseline metrics. Target (issue 4): 500 jobs over a month < 60 s wall.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gis import load_grid  # noqa: E402
from planning.outages import PlanOptions, load_generators_csv, plan_outages, write_jobs_csv  # noqa: E402
from planning.outages.options import Generator  # noqa: E402
from planning.outages.synthetic import ring_grid, synthetic_jobs  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "outage_demo" / "monaco.gpkg"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", default=str(DEMO) if DEMO.exists() else "synthetic", help="grid path or 'synthetic'")
    ap.add_argument("--jobs", type=int, default=500)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--start", default="2026-12-01", help="first day of the month planned (local date)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=20.0, help="CP-SAT time limit (s)")
    ap.add_argument("--plan-limit", type=float, help="the whole plan's time limit (s), PlanOptions.time_limit_s")
    ap.add_argument("--write-jobs", help="also write the generated jobs to this CSV")
    args = ap.parse_args()

    t0 = time.perf_counter()
    if args.grid == "synthetic":
        grid = ring_grid(substations=3, rings=12, rmus_per_feeder=8, rooms_per_rmu=3, customers_per_room=30, seed=args.seed)
        fleet: tuple[Generator, ...] = (Generator("GEN-250", "", 250.0), Generator("GEN-500", "", 500.0), Generator("GEN-800", "", 800.0))
    else:
        grid = load_grid(args.grid)
        gen_csv = Path(args.grid).parent / "generators.csv"
        fleet = load_generators_csv(gen_csv) if gen_csv.exists() else ()
    t_grid = time.perf_counter() - t0
    tz = grid.timezone
    y, m, d = map(int, args.start.split("-"))
    start = datetime(y, m, d, tzinfo=tz)
    now = start - timedelta(days=7)
    jobs = synthetic_jobs(grid, args.jobs, start=start, days=args.days, seed=args.seed)
    if args.write_jobs:
        write_jobs_csv(jobs, args.write_jobs)
    options = PlanOptions(solver_time_limit_s=args.time_limit, time_limit_s=args.plan_limit, generator_fleet=fleet)
    t1 = time.perf_counter()
    c1 = time.process_time()
    plan = plan_outages(grid, jobs, now=now, options=options)
    t_plan = time.perf_counter() - t1
    cpu_plan = time.process_time() - c1
    doc = plan.to_json()
    t2 = time.perf_counter()
    text = json.dumps(doc, ensure_ascii=False)
    t_json = time.perf_counter() - t2
    codes: dict[str, int] = {}
    for e in doc["errors"]:
        codes[e["code"]] = codes.get(e["code"], 0) + 1
    print(json.dumps({
        "grid": args.grid if args.grid == "synthetic" else os.path.relpath(args.grid),
        "customers": len(grid.customers),
        "nodes": len(grid.nodes),
        "feeders": len(grid.feeders),
        "jobs": args.jobs,
        "cpu_count": os.cpu_count(),
        "load_grid_s": round(t_grid, 2),
        "plan_s": round(t_plan, 2),
        "plan_cpu_s": round(cpu_plan, 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "to_json_s": round(t_json, 2),
        "json_mb": round(len(text.encode()) / 1e6, 2),
        "stages_s": doc["timings_s"],
        "solver": doc["solver"],
        "errors_by_code": codes,
        "metrics": {k: {x: doc["metrics"][k][x] for x in ("outages", "jobs", "ci", "cmi", "ens_kwh", "peak_hits", "generator_hours")}
                    for k in ("plan", "baseline", "baseline_planned_jobs")},
        "repeat_interruptions": {k: v for k, v in doc["metrics"]["repeat_interruptions"].items() if k != "over_limit_customers"},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
