"""``python -m planning plan --grid PATH --jobs JOBS.csv --now ISO [--json]`` — see docs/planning.md.

Exit status: 0 when a plan was made (even if some jobs have errors: they are
in ``errors``), 1 when the request itself is bad (grid, jobs file, options),
2 for bad command-line usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from gis.errors import OutageError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m planning plan", description="Plan outages for maintenance jobs on a grid.")
    p.add_argument("--grid", required=True, help="grid GeoPackage or GeoJSON folder")
    p.add_argument("--jobs", required=True, help="jobs CSV (id,equipment,duration_min,earliest,latest,crew,description[,requested_by,night_work])")
    p.add_argument("--now", required=True, help="planning time, ISO 8601 with UTC offset (e.g. 2026-12-01T08:00:00+01:00)")
    p.add_argument("--options", help="options JSON file or inline JSON object (see PlanOptions)")
    p.add_argument("--generators", help="generator fleet CSV (id,name,kw,depot_id); default: generators.csv next to the grid, if any")
    p.add_argument("--time-limit", type=float, help="seconds for the whole plan (options.time_limit_s): merging, the solver "
                   "and repairs stop early to keep within it; the solver alone never runs longer than solver_time_limit_s")
    p.add_argument("--history", help="executed interruptions CSV (event,kind,start,end,customers) for the repeated-interruption rule")
    p.add_argument("--fixed", help="an earlier plan's JSON (`--json` output): its outages are published and stay where they are")
    p.add_argument("--json", action="store_true", help="print the plan as JSON (the stable contract)")
    p.add_argument("--full", action="store_true", help="with --json: keep per-customer notice lists (large)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        out = _run(args)
    except OutageError as exc:
        doc = {"error": exc.to_dict()}
        if args.json:
            print(json.dumps(doc, ensure_ascii=False, indent=2))
        else:
            print(f"error ({exc.code}): {exc.message}", file=sys.stderr)
        return 1
    try:
        if args.json:
            print(json.dumps(out, ensure_ascii=False, indent=1))
        else:
            _print_table(out)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _run(args: argparse.Namespace) -> dict[str, Any]:
    from dataclasses import replace

    from gis import load_grid
    from gis.records import parse_aware_datetime
    from planning.outages import (
        JobError,
        PlanOptions,
        load_generators_csv,
        load_jobs_csv,
        plan_outages,
    )
    from planning.reliability import load_interruptions_csv

    now = parse_aware_datetime(args.now)
    options = PlanOptions.from_json(args.options) if args.options else PlanOptions()
    if args.generators:
        options = options.with_fleet(load_generators_csv(args.generators))
    elif not options.generator_fleet:
        default = Path(args.grid).parent / "generators.csv"
        if default.is_file():
            options = options.with_fleet(load_generators_csv(default))
    if args.time_limit:
        options = replace(options, time_limit_s=args.time_limit)
    grid = load_grid(args.grid)
    jobs, errors = load_jobs_csv(args.jobs)
    history, bad_rows = load_interruptions_csv(args.history) if args.history else ([], [])
    errors += [JobError(None, p.code, f"history line {p.row}: {p.message}") for p in bad_rows]
    fixed = _fixed_outages(args.fixed, jobs) if args.fixed else []
    plan = plan_outages(grid, jobs, now=now, options=options, input_errors=errors, history=history, fixed=fixed)
    doc = plan.to_json()
    if not args.full:
        for o in doc["outages"]:
            o["notices"]["customers"] = o["notices"]["customers"][:20]
    return doc


def _fixed_outages(path: str, jobs: list[Any]) -> list[Any]:
    """The outages of an earlier plan's JSON as published (fixed) outages."""
    from gis.errors import InputError
    from planning.outages import FixedOutage

    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        raise InputError(f"--fixed: cannot read the plan JSON {path}: {exc}", code="bad_fixed_outage") from None
    crews = {j.id: j.crew for j in jobs}
    return [FixedOutage.from_json(o, crews=crews) for o in (doc.get("outages") or [])]


def _print_table(doc: dict[str, Any]) -> None:
    m = doc["metrics"]
    keys = ["outages", "jobs", "ci", "cmi", "ens_kwh", "peak_hits", "generator_hours", "short_interruptions", "unmet_generator_needs"]
    print(f"{'metric':24} {'plan':>12} {'baseline':>12} {'baseline, planned jobs':>24}")
    for k in keys:
        print(f"{k:24} {m['plan'][k]!s:>12} {m['baseline'][k]!s:>12} {m['baseline_planned_jobs'][k]!s:>24}")
    s = doc["solver"]
    print(f"\nsolver: {s['status']}, objective {s['objective_weighted_kwh']} weighted kWh, gap {s['gap']}, {s['wall_s']} s")
    print(f"\n{len(doc['outages'])} outage(s):")
    for o in doc["outages"]:
        flag = "" if o["valid"] else "  INVALID"
        pf = o.get("power_flow") or {}
        if pf.get("max_line_loading_pct") is not None:
            flag = f"  power flow: line <= {pf['max_line_loading_pct']:.0f} %, {pf['min_vm_pu']:.3f}..{pf['max_vm_pu']:.3f} pu{flag}"
        split = sum(1 for t in o["transfers"] if t.get("split_at"))
        print(f"  {o['id']} {o['start']} -> {o['end']}  jobs {','.join(o['jobs'])}  customers {len(o['customers'])}  "
              f"transfers {len(o['transfers'])}{f' ({split} split)' if split else ''}  generators {len(o['generators'])}{flag}")
    if doc["errors"]:
        print(f"\n{len(doc['errors'])} error(s):")
        for e in doc["errors"]:
            print(f"  {e['job']}: {e['code']}: {e['message']}")
