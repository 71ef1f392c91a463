"""Benchmark of fault restoration: every cable section of a grid faulted in turn.

    .venv/bin/python bench/bench_faults.py [--grid outage_demo/monaco.gpkg] [--now ISO] [--limit N] [--json OUT]
                                           [--sample N --seed S] [--no-power-flow] [--replay K]

For each section holding at least one cable, :func:`planning.faults.restore` is
run with default options (and the fleet in ``generators.csv`` next to the grid).
*Healthy* customers are those that lost supply when the breaker tripped but are
not in the faulted section. Reported: the share of healthy customers restored
by stage 1 (remote) and by the end of stage 2 (manual), pooled over all faults
and as the mean per fault; the share of faults where stage 1 restores anyone;
CMI against doing nothing; run time per fault (seconds, wall clock).

The share of healthy customers **restored before the repair ends** counts a
customer whose supply is back (by switching or by a generator truck) before
``repair.end``; ``--sample N --seed S`` faults N cable sections drawn at random
(numpy ``default_rng(S)``) instead of all. ``--no-power-flow`` turns the AC
power-flow check of closings off (the feeder-head check alone). ``--replay K``
replays every switching state of the first K faults in pandapower at the fault
time and every 2 h of the checked window and counts lines above 100 % and buses
outside the voltage band that the normal state does not already have.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from gis import load_grid  # noqa: E402
from gis.powerflow import Limits  # noqa: E402
from planning.faults import FaultOptions, load_generators, restore  # noqa: E402
from planning.faults.network import section_net  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--grid", default="outage_demo/monaco.gpkg")
    p.add_argument("--now", default="2026-03-02T19:00:00+01:00", help="fault time (loads for capacity checks)")
    p.add_argument("--limit", type=int, default=0, help="only the first N cable sections (0 = all)")
    p.add_argument("--json", help="write per-fault results to this JSON file")
    p.add_argument("--sample", type=int, default=0, help="fault N random cable sections (0 = all)")
    p.add_argument("--seed", type=int, default=1, help="seed of --sample")
    p.add_argument("--no-power-flow", action="store_true", help="feeder-head check only (no AC power flow)")
    p.add_argument("--replay", type=int, default=0, help="replay the states of the first K faults in pandapower")
    args = p.parse_args()
    now = datetime.fromisoformat(args.now)
    t0 = time.perf_counter()
    grid = load_grid(args.grid)
    load_s = time.perf_counter() - t0
    gens = Path(args.grid).parent / "generators.csv"
    options = FaultOptions(generators=load_generators(gens) if gens.is_file() else (),
                           power_flow=not args.no_power_flow)
    net = section_net(grid)
    cable_secs = [s.id for s in grid.sections()
                  if not s.source and any(net.line_kind[ln] == "cable" for ln in s.lines)]
    if args.sample:
        pick = np.random.default_rng(args.seed).choice(len(cable_secs), size=min(args.sample, len(cable_secs)),
                                                       replace=False)
        cable_secs = [cable_secs[int(i)] for i in sorted(pick)]
    if args.limit:
        cable_secs = cable_secs[: args.limit]
    oracle = Replay(grid) if args.replay else None
    replay_found: list[str] = []
    replayed = 0
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
        before = sum(1 for c in healthy if r.restored_at[c] < r.repair.end)
        by_truck = sum(1 for c in healthy if any(c in g.customers for g in r.generators if g.generators))
        if oracle is not None and replayed < args.replay:
            replay_found += [f"{sec}: {v}" for v in oracle.states(r)]
            replayed += 1
        for d in r.repair.dead_areas:
            if d.faulted:
                continue
            why = ("power flow" if "power flow" in d.reason else "overload" if "overload" in d.reason
                   else "parallel" if "parallel" in d.reason
                   else "no tie" if "no tie switch" in d.reason else "other")
            unrestored[why] = unrestored.get(why, 0) + len(d.customers)
        rows.append({
            "section": sec, "out": len(r.customers_out), "healthy": len(healthy), "stage1": s1, "stage2": s2,
            "before_repair": before, "by_truck": by_truck,
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
    pooled_before = sum(r["before_repair"] for r in rows) / healthy if healthy else 0.0
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
        "restored_before_repair_pooled": round(pooled_before, 4),
        "restored_before_repair_mean_per_fault": round(
            statistics.fmean(r["before_repair"] / r["healthy"] for r in with_healthy), 4) if with_healthy else 0.0,
        "healthy_supplied_by_trucks": sum(r["by_truck"] for r in rows),
        "power_flow": not args.no_power_flow,
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
    if oracle is not None:
        summary["replayed_faults"] = replayed
        summary["replay_new_violations"] = len(replay_found)
        summary["replay_examples"] = replay_found[:5]
    print(" ".join(["$", ".venv/bin/python", *sys.argv]))
    print(json.dumps(summary, indent=2))
    for sec, err in errors[:20]:
        print(f"error: {sec}: {err}", file=sys.stderr)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"summary": summary, "faults": rows, "errors": errors}, indent=1))
    return 1 if errors else 0



class Replay:
    """pandapower oracle: new violations (vs the normal state) of every switching state of a restoration."""

    def __init__(self, grid: Any) -> None:
        from gis.pandapower_io import to_pandapower

        self.grid, self.net = grid, to_pandapower(grid)
        self.index = {str(n): int(i) for i, n in self.net.switch["name"].items()}
        self.limits = Limits()

    def run(self, opened: Any, closed: Any, at: datetime) -> tuple[Any, Any] | None:
        from gis.pandapower_io import replay_in_pandapower

        grid, net = self.grid, self.net
        kw = grid.customer_load_kw(at).to_numpy()
        net.load["p_mw"] = kw / 1000.0
        net.load["q_mvar"] = kw / 1000.0 * math.tan(math.acos(grid.power_factor))
        if len(net.sgen):
            dg = grid.dg[grid.dg["in_service"].astype(bool)]
            net.sgen["p_mw"] = (dg["p_kw"].to_numpy(dtype=float)
                                * grid.profile_factors([at])[grid.profile_index(dg["profile"]), 0] / 1000.0)
        if not replay_in_pandapower(grid, [(opened, closed, [at])], net=net, switch_index=self.index)[0][0]["converged"]:
            return None
        vm = net.res_bus["vm_pu"]
        vm = vm[vm.notna() & ~vm.index.isin(list(net.ext_grid["bus"]))]
        vm.index = net.bus.loc[vm.index, "name"].to_numpy()
        ld = net.res_line["loading_percent"].dropna()
        ld.index = net.line.loc[ld.index, "name"].to_numpy()
        return ld, vm

    def states(self, r: Any) -> list[str]:
        pf = r.power_flow
        start = datetime.fromisoformat(pf["from"])
        end = datetime.fromisoformat(pf["to"])
        times = [start]
        while times[-1] + timedelta(hours=2) <= end:
            times.append(times[-1] + timedelta(hours=2))
        lim = self.limits
        line: dict[str, float] = {}
        low: dict[str, float] = {}
        for at in times:  # the normal state's worst values: violations it has already are not counted
            res = self.run((), (), at)
            assert res is not None
            ld, vm = res
            for k, v in ld[ld > lim.line_loading_pct].items():
                line[k] = max(line.get(k, 0.0), float(v))
            for k, v in vm[vm < lim.v_min_pu].items():
                low[k] = min(low.get(k, 9.0), float(v))
        out = []
        states = list(dict.fromkeys((o, c) for _, o, c in r.switching_states()))
        for at in times:
            for o, c in states:
                res = self.run(o, c, at)
                if res is None:
                    out.append(f"no solution at {at:%H:%M}")
                    continue
                ld, vm = res
                out += [f"line {k} {v:.0f} % at {at:%H:%M}" for k, v in ld.items()
                        if v > lim.line_loading_pct + 1e-3 and v > line.get(k, -1.0) + lim.tolerance_pct + 1e-3]
                out += [f"bus {k} {v:.3f} pu at {at:%H:%M}" for k, v in vm.items()
                        if (v < lim.v_min_pu - 1e-3 and v < low.get(k, 9.0) - lim.tolerance_pct / 100 - 1e-3)
                        or v > lim.v_max_pu + 1e-3]
        return out


if __name__ == "__main__":
    sys.exit(main())
