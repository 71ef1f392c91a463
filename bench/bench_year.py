"""Benchmark: the planning year on the demo city, rolling plans against planning each month from scratch.

    .venv/bin/python bench/bench_year.py                  # 12 months of 2027, seed 1
    .venv/bin/python bench/bench_year.py --months 3 --time-limit 5

A synthetic maintenance ledger of every RMU, room, cable and load-break switch
(planning.outages.synthetic.synthetic_ledger) becomes the year's jobs
(propose_year, seasonal loads). Then, month by month:

* **rolling**: the monthly plan (made 7 days before the month, with the
  executed outages so far as history for the repeated-interruption rule),
  then four weekly re-plans, each with new urgent jobs and with the published
  outages fixed; 10 % of the published outages are cancelled before their week
  (their jobs, and jobs left unplanned, carry over to the next month); what was
  not cancelled is executed and joins the history;
* **from scratch**: one plan per month of the same jobs (ledger, urgent,
  carried over), no history, nothing fixed, nothing cancelled.

Prints one JSON object: outages, jobs planned, CI, CMI, customers over the
repeated-interruption limit (any 60 days, 2 or 1 for graded customers, counted
over the executed year) for both, and the wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis import load_grid  # noqa: E402
from planning.outages import (  # noqa: E402
    FixedOutage,
    Job,
    PlanOptions,
    load_generators_csv,
    plan_outages,
    propose_year,
)
from planning.outages.synthetic import synthetic_jobs, synthetic_ledger  # noqa: E402
from planning.reliability import Interruption  # noqa: E402

DEMO = ROOT / "outage_demo" / "monaco.gpkg"
MONACO_LOAD = [1.0, 0.95, 0.85, 0.75, 0.75, 0.85, 1.0, 1.0, 0.85, 0.75, 0.8, 0.95]  # relative, January first


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", default=str(DEMO))
    ap.add_argument("--year", type=int, default=2027)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--urgent-per-week", type=int, default=3)
    ap.add_argument("--cancel-share", type=float, default=0.1)
    ap.add_argument("--time-limit", type=float, default=10.0, help="CP-SAT limit per plan (s)")
    args = ap.parse_args()
    grid = load_grid(args.grid)
    gens = Path(args.grid).with_name("generators.csv")
    opts = PlanOptions(solver_time_limit_s=args.time_limit, solver_workers=2)
    if gens.exists():
        opts = opts.with_fleet(tuple(load_generators_csv(gens)))
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    proposal = propose_year(grid, synthetic_ledger(grid, year=args.year, seed=args.seed), year=args.year, monthly_load=MONACO_LOAD)
    rolling = Tally(grid)
    scratch = Tally(grid)
    carry: list[Job] = []
    for m in range(1, args.months + 1):
        first = datetime(args.year, m, 1, tzinfo=grid.timezone)
        month_jobs = [j for j in proposal.jobs if j.earliest.month == m] + [_rewindow(j, first) for j in carry]
        urgent = [_urgent(grid, first + timedelta(days=7 * w), rng, args.urgent_per_week, f"U{m:02d}{w}") for w in range(4)]
        carry = _rolling_month(grid, opts, first, month_jobs, urgent, rolling, rng, args.cancel_share)
        plan = plan_outages(grid, [*month_jobs, *(j for week in urgent for j in week)], now=first - timedelta(days=7), options=opts)
        scratch.execute(plan.outages, planned=len({x for o in plan.outages for x in o.jobs}))
    print(json.dumps({
        "grid": str(Path(args.grid).name), "year": args.year, "months": args.months,
        "ledger_jobs": len(proposal.jobs), "urgent_per_week": args.urgent_per_week, "cancel_share": args.cancel_share,
        "rolling": rolling.summary(), "from_scratch": scratch.summary(), "wall_s": round(time.perf_counter() - t0, 1),
    }, indent=1))
    return 0


def _rolling_month(grid, opts, first, month_jobs, urgent, tally, rng, cancel_share) -> list[Job]:
    """The monthly plan, four weekly re-plans around the published outages; returns the carry-over."""
    plan = plan_outages(grid, month_jobs, now=first - timedelta(days=7), options=opts, history=tally.history)
    published = {o.id: (o, FixedOutage.from_json(o.to_json())) for o in plan.outages}
    jobs = {j.id: j for j in month_jobs}
    left = [jobs[e.job] for e in plan.errors if e.job in jobs]
    joined = 0
    for w, new in enumerate(urgent):
        now = first + timedelta(days=7 * w) - timedelta(days=7)
        week_end = first + timedelta(days=7 * (w + 1))
        for oid, (o, _) in list(published.items()):
            if first + timedelta(days=7 * w) <= o.start < week_end and rng.random() < cancel_share:
                del published[oid]
                left += [jobs[x] for x in o.jobs if x in jobs]
        jobs.update({j.id: j for j in new})
        fixed = [f for _, f in published.values() if f.end > now]
        re = plan_outages(grid, new, now=now, options=opts, history=tally.history, fixed=fixed)
        published.update({f"W{w}{o.id}": (o, FixedOutage.from_json(o.to_json())) for o in re.outages})
        left += [jobs[e.job] for e in re.errors if e.job in jobs]
        joined += sum(len(f["joined_jobs"]) for f in re.fixed)
    tally.execute([o for o, _ in published.values()], planned=joined + sum(len(o.jobs) for o, _ in published.values()))
    return left


def _urgent(grid, monday, rng, n, prefix) -> list[Job]:
    jobs = synthetic_jobs(grid, n, start=monday, days=7, seed=int(rng.integers(1 << 30)), overlap_share=0.0)
    return [Job(f"{prefix}-{k}", j.equipment, j.duration_min, j.earliest, j.latest, j.crew, j.description, "urgent", j.night_work)
            for k, j in enumerate(jobs)]


def _rewindow(job: Job, first: datetime) -> Job:
    """A carried-over job: the whole next month."""
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(minutes=1)
    return Job(job.id, job.equipment, job.duration_min, first, last, job.crew, job.description, job.requested_by, job.night_work)


class Tally:
    """Executed outages of one way of planning: totals and the interruption history."""

    def __init__(self, grid) -> None:
        self.grid = grid
        self.ids = grid.customers["id"].to_numpy(dtype=object)
        self.graded = (grid.customers["importance"] != "normal").to_numpy()
        self.history: list[Interruption] = []
        self.outages = self.planned = self.ci = 0
        self.cmi = 0.0

    def execute(self, outages, *, planned: int) -> None:
        self.planned += planned
        for o in outages:
            out = np.setdiff1d(o.dark, o.on_generator)
            self.outages += 1
            self.ci += int(o.impact["ci"])
            self.cmi += float(o.impact["cmi"])
            if len(out):
                self.history.append(Interruption(f"{o.id}@{o.start.isoformat()}", "planned", o.start, o.end, tuple(self.ids[out])))

    def over_limit(self) -> int:
        times: dict[str, list[float]] = {}
        for r in self.history:
            for c in r.customers:
                times.setdefault(c, []).append(r.start.timestamp())
        pos = {c: i for i, c in enumerate(self.ids)}
        window = 60 * 86400
        over = 0
        for c, ts in times.items():
            t = np.sort(np.asarray(ts))
            most = int((np.searchsorted(t, t, side="right") - np.searchsorted(t, t - window, side="right")).max())
            over += most > (1 if self.graded[pos[c]] else 2)
        return over

    def summary(self) -> dict[str, float]:
        return {"outages": self.outages, "jobs_planned": self.planned, "ci": self.ci, "cmi": round(self.cmi, 1),
                "customers_over_repeat_limit": self.over_limit()}


if __name__ == "__main__":
    sys.exit(main())
