"""``python -m planning reliability --grid PATH --interruptions FILE.csv --from ISO --to ISO``.

Reliability indices of executed interruptions (docs/planning.md, "Reliability of
executed interruptions"). Exit status: 0 with a report (bad rows are listed), 1
when the request is bad (grid, file, window), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys

from gis.errors import OutageError

COLUMNS = ["kind", "customers_served", "events", "ci", "cmi", "saifi", "saidi_min", "caidi_min", "maifi", "asai", "ens_kwh", "rs1_pct"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m planning reliability", description="SAIFI, SAIDI, CAIDI, ENS and RS-1 of executed interruptions.")
    p.add_argument("--grid", required=True)
    p.add_argument("--interruptions", required=True, help="CSV: event,kind,start,end,customers (customers ';'-separated)")
    p.add_argument("--from", dest="start", required=True, help="period start, ISO 8601 with offset")
    p.add_argument("--to", dest="end", required=True, help="period end (exclusive), ISO 8601 with offset")
    p.add_argument("--med-threshold", type=float, help="T_MED in minutes per customer per day: also report without major event days")
    p.add_argument("--sustained-min", type=float, default=5.0, help="longer than this is sustained (IEEE 1366: 5; DL/T 836: 3)")
    p.add_argument("--csv", help="write every line (scope x period x kind x major event days) to this CSV")
    p.add_argument("--json", action="store_true")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from gis import load_grid
    from gis.records import parse_aware_datetime
    from planning.reliability import load_interruptions_csv, reliability_report

    try:
        grid = load_grid(args.grid)
        rows, problems = load_interruptions_csv(args.interruptions)
        report, unusable = reliability_report(grid, rows, start=parse_aware_datetime(args.start), end=parse_aware_datetime(args.end),
                                              med_threshold_min=args.med_threshold, sustained_min=args.sustained_min)
    except OutageError as exc:
        print(f"error ({exc.code}): {exc.message}", file=sys.stderr)
        return 1
    errors = [p.to_dict() for p in [*problems, *unusable]]
    if args.csv:
        report.to_csv(args.csv, index=False)
    if args.json:
        print(json.dumps({"lines": report.to_dict(orient="records"), "errors": errors}, ensure_ascii=False, indent=1))
        return 0
    whole = report[(report["scope"] == "all") & (report["period"] == "all") & (report["major_event_days"] == "included")]
    print(whole[COLUMNS].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for e in errors:
        print(f"  {e['id']}: {e['code']}: {e['message']}")
    return 0
