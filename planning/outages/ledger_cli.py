"""``python -m planning ledger --grid PATH --ledger LEDGER.csv --year 2027 [--out jobs.csv] [--json]``.

The annual plan from a maintenance ledger (docs/planning.md, "The planning year").
Exit status: 0 when a proposal was made (bad ledger rows are listed in it), 1 when
the request itself is bad (grid, ledger file, monthly loads), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys

from gis.errors import OutageError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m planning ledger", description="Propose a year's jobs from a maintenance ledger.")
    p.add_argument("--grid", required=True, help="grid GeoPackage or GeoJSON folder")
    p.add_argument("--ledger", required=True, help="ledger CSV (id,equipment,kind,duration_min[,interval_months,last_done,due,skill,crew_size,description])")
    p.add_argument("--year", required=True, type=int)
    p.add_argument("--monthly-load", help="12 relative loads, January first, comma-separated (default: the grid's meta.monthly_load, else flat)")
    p.add_argument("--max-bundle-hours", type=float, default=16.0, help="crew-hours one bundle (one outage's work) may hold")
    p.add_argument("--out", help="write the proposed jobs here, in the jobs CSV format `planning plan` reads")
    p.add_argument("--json", action="store_true", help="print the proposal as JSON")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from gis import load_grid
    from planning.outages import write_jobs_csv
    from planning.outages.ledger import load_ledger_csv, propose_year

    try:
        grid = load_grid(args.grid)
        items, problems = load_ledger_csv(args.ledger)
        load = [float(x) for x in args.monthly_load.split(",")] if args.monthly_load else None
        proposal = propose_year(grid, items, year=args.year, monthly_load=load, max_bundle_hours=args.max_bundle_hours)
    except (OutageError, ValueError) as exc:
        message = exc.message if isinstance(exc, OutageError) else f"--monthly-load: {exc}"
        print(f"error: {message}", file=sys.stderr)
        return 1
    proposal.problems[:0] = problems
    if args.out:
        write_jobs_csv(proposal.jobs, args.out)
    doc = proposal.to_json()
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0
    print(f"{len(doc['jobs'])} job(s) in {len(doc['bundles'])} bundle(s) for {args.year}" + (f", written to {args.out}" if args.out else ""))
    print(f"{'month':8} {'load':>6} {'jobs':>5} {'crew-hours':>11}")
    for m in doc["months"]:
        print(f"{m['month']:8} {m['relative_load']:>6.2f} {m['jobs']:>5} {m['hours']:>11.1f}")
    overdue = sum(1 for o in doc["occurrences"] if o["overdue"])
    if overdue:
        print(f"{overdue} overdue item(s) placed in the first months")
    for e in doc["errors"]:
        print(f"  {e['id']}: {e['code']}: {e['message']}")
    return 0
