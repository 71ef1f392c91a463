"""Benchmark of fault restoration: every cable section of a grid faulted in turn.

    .venv/bin/python bench/bench_faults.py [--grid data/grid/monaco.gpkg] [--now ISO] [--limit N] [--json OUT]

For each section holding at least one cable, :func:`planning.faults.restore` is
run with default options (and the fleet in ``generators.csv`` next to the grid).
*Healthy* customers are those that lost supply when the breaker tripped but are
not in the faulted section. Reported: the share of healthy customers restored
by stage 1 (remote) and by the end of stage 2 (manual), pooled over all faults
and as the mean per fault; the share of faults where stage 1 restores anyone;
CMI against doing nothing; run time per fault (seconds, wall clock).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gis import load_grid  # noqa: E402
from planning.faults import FaultOptions, load_generators, restore  # noqa: E402
from planning.faults.network import section_net  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--grid", default="data/grid/monaco.gpkg")
    p.add_argument("--now", default="2026-03-02T19:00:00+01:00", help="fault time (loads for capacity checks)")
    p.add_argument("--limit", type=int, default=0, help="only the first N cable sections (0 = all)")
    p.add_argument("--json", help="write per-fault results to this JSON file")
    args = p.parse_args()
    now = datetime.fromisoformat(args.now)
    t0 = time.perf_counter()
    grid = load_grid(args.grid)
    load_s = time.perf_counter() - t0
    gens = Path(args.grid).parent / "generators.csv"
    options = FaultOptions(generators=load_generators(gens) if gens.is_file() else ())
    net = section_net(grid)
    cable_secs = [s.id for s in grid.sections()
                  if not s.source and any(net.line_kind[ln] == "cable" for ln in s.lines)]
    if args.limit:
        cable_secs = cable_secs[: args.limit]
    rows = []
    unrestored: dict[str, int] = {}
    times = []
    errors = []
    for sec in cable_secs:
        t = time.perf_counter()
        try:
            r = restore(grid, sec, now=now, options=options)
        except Exception as exc:  # a benchmark reports every failure and goes on
            errors.append((sec, f"{type(exc).__name__}: {exc}"))
            continue
        times.append(time.perf_counter() - t)
        faulted_customers = set(net.customers_in(list(r.faulted_sections)))
        healthy = [c for c in r.customers_out if c not in faulted_customers]
        s1 = sum(1 for c in r.stages[0].restored_customers if c not in faulted_customers)
        s2 = s1 + sum(1 for c in r.stages[1].restored_customers if c not in faulted_customers)
        for d in r.repair.dead_areas:
            if d.faulted:
                continue
            why = ("overload" if "overload" in d.reason else "parallel" if "parallel" in d.reason
                   else "no tie" if "no tie switch" in d.reason else "other")
            unrestored[why] = unrestored.get(why, 0) + len(d.customers)
        rows.append({
            "section": sec, "out": len(r.customers_out), "healthy": len(healthy), "stage1": s1, "stage2": s2,
            "steps1": len(r.stages[0].steps), "steps2": len(r.stages[1].steps),
            "cmi": r.metrics["cmi"], "cmi_do_nothing": r.metrics["cmi_do_nothing"],
            "generators": sum(len(g.generators) for g in r.generators), "seconds": round(times[-1], 4),
        })
    healthy = sum(r["healthy"] for r in rows)
    with_healthy = [r for r in rows if r["healthy"]]
    pooled1 = sum(r["stage1"] for r in rows) / healthy if healthy else 0.0
    pooled2 = sum(r["stage2"] for r in rows) / healthy if healthy else 0.0
    mean1 = statistics.fmean(r["stage1"] / r["healthy"] for r in with_healthy) if with_healthy else 0.0
    mean2 = statistics.fmean(r["stage2"] / r["healthy"] for r in with_healthy) if with_healthy else 0.0
    cmi = sum(r["cmi"] for r in rows)
    cmi0 = sum(r["cmi_do_nothing"] for r in rows)
    summary = {
        "grid": args.grid,
        "now": args.now,
        "faults": len(rows),
        "errors": len(errors),
        "healthy_customers_out": healthy,
        "restored_stage1_pooled": round(pooled1, 4),
        "restored_by_stage2_pooled": round(pooled2, 4),
        "restored_stage1_mean_per_fault": round(mean1, 4),
        "restored_by_stage2_mean_per_fault": round(mean2, 4),
        "faults_with_stage1_restoration": sum(1 for r in with_healthy if r["stage1"]),
        "faults_with_healthy_customers_out": len(with_healthy),
        "faults_fully_restored_by_stage2": sum(1 for r in with_healthy if r["stage2"] == r["healthy"]),
        "unrestored_healthy_by_reason": dict(sorted(unrestored.items())),
        "cmi_vs_do_nothing": round(cmi / cmi0, 4) if cmi0 else None,
        "load_grid_s": round(load_s, 2),
        "seconds_per_fault_median": round(statistics.median(times), 4) if times else None,
        "seconds_per_fault_p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 4) if times else None,
        "seconds_total": round(sum(times), 1),
    }
    print(json.dumps(summary, indent=2))
    for sec, err in errors[:20]:
        print(f"error: {sec}: {err}", file=sys.stderr)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"summary": summary, "faults": rows, "errors": errors}, indent=1))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
