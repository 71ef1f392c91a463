"""``python -m planning fault`` — locate a fault, isolate it and plan the restoration.

    python -m planning fault --grid outage_demo/monaco.gpkg --breaker F1 --now 2026-03-02T08:15+01:00 --json
    python -m planning fault --grid GRID --fi S1=1,S2=0 --now ISO --json
    python -m planning fault --grid GRID --calls calls.csv --now ISO --json
    python -m planning fault --grid GRID --section L4 --now ISO --json

``--breaker``, ``--fi`` and ``--calls`` may be combined; ``--section`` skips
location. Output contract: docs/faults.md. Exit status 0 on success, 1 on a
domain error (printed as ``{"error": {...}}`` with ``--json``), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from gis import InputError, OutageError, load_grid
from gis.records import parse_aware_datetime, parse_bool
from planning.faults import FaultOptions, FaultReport, load_generators_csv, locate_fault, restore


def _parse_fi(text: str) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, val = part.partition("=")
        try:
            if not sep or not key.strip():
                raise InputError("no '='")
            out[key.strip()] = parse_bool(val)
        except InputError:
            raise InputError(f"--fi: expected SWITCH=1 or SWITCH=0, got {part!r}", code="bad_reading") from None
    if not out:
        raise InputError("--fi: no readings given", code="bad_reading")
    return out


def read_calls(path: str | Path) -> list[str]:
    """Customer ids from a calls file: CSV with a ``customer_id`` (or ``customer``/``id``) column,
    a JSON list (of ids or objects with ``customer``), or one id per line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read calls file {p}: {exc.strerror or exc}", code="unreadable_file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"calls file {p} is not UTF-8 text (byte {exc.start}); save it as UTF-8", code="bad_calls") from None
    stripped = text.strip()
    if not stripped:
        raise InputError(f"calls file {p} is empty", code="no_calls")
    if stripped[0] in "[{":
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InputError(f"calls file {p}: invalid JSON ({exc.msg}, line {exc.lineno})", code="bad_calls") from None
        if isinstance(data, dict):
            data = data.get("calls", [])
        out = []
        for item in data if isinstance(data, list) else []:
            cid = item.get("customer") or item.get("customer_id") or item.get("id") if isinstance(item, dict) else item
            if cid is not None:
                out.append(str(cid))
        return out
    lines = stripped.splitlines()
    header = [h.strip().lower() for h in lines[0].split(",")]
    for col in ("customer_id", "customer", "id"):
        if col in header:
            return [r[lines[0].split(",")[header.index(col)]].strip() for r in csv.DictReader(lines)
                    if (r.get(lines[0].split(",")[header.index(col)]) or "").strip()]
    return [ln.split(",")[0].strip() for ln in lines if ln.strip()]


def _parse_time(text: str, what: str) -> datetime:
    """:func:`gis.records.parse_aware_datetime` with the option named (codes ``bad_time``, ``naive_datetime``)."""
    try:
        return parse_aware_datetime(text)
    except InputError as exc:
        raise InputError(f"{what}: {exc.message}", code="bad_time" if exc.code == "bad_datetime" else exc.code) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m planning fault", description=__doc__.split("\n\n")[0])
    p.add_argument("--grid", required=True, help="grid GeoPackage or GeoJSON folder")
    p.add_argument("--breaker", help="id of the breaker (or fuse) that tripped")
    p.add_argument("--fi", help="fault indicator readings: S1=1,S2=0 (1 = fault current seen)")
    p.add_argument("--calls", help="trouble calls file (CSV with customer_id, JSON list, or one id per line)")
    p.add_argument("--section", help="skip location: the faulted equipment (node, line, switch or section id)")
    p.add_argument("--now", required=True, help="fault time, ISO 8601 with offset")
    p.add_argument("--crew-eta", help="expected crew arrival, ISO 8601 with offset")
    p.add_argument("--generators", help="generator fleet CSV (id,name,kw,depot_id); default: generators.csv "
                   "next to the grid when present")
    p.add_argument("--options", help="JSON file with FaultOptions fields (e.g. repair_min, capacity_margin)")
    p.add_argument("--candidate", type=int, default=0, help="restore around this candidate (0 = best)")
    p.add_argument("--json", action="store_true", help="print the JSON contract (docs/faults.md)")
    return p


def _options(args: argparse.Namespace) -> FaultOptions:
    fields: dict[str, Any] = {}
    if args.options:
        try:
            fields = json.loads(Path(args.options).read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read options file: {exc.strerror or exc}", code="unreadable_file") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"options file is not UTF-8 text (byte {exc.start})", code="bad_options") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"options file: invalid JSON ({exc.msg})", code="bad_options") from None
        if not isinstance(fields, dict):
            raise InputError("options file must hold a JSON object", code="bad_options")
        fields.pop("generators", None)
        known = set(FaultOptions.__dataclass_fields__)
        unknown = sorted(set(fields) - known)
        if unknown:
            raise InputError(f"unknown option(s): {', '.join(unknown)}", code="bad_options")
    gen_path = Path(args.generators) if args.generators else Path(args.grid).parent / "generators.csv"
    if args.generators or gen_path.is_file():
        fields["generators"] = load_generators_csv(gen_path)
    try:
        return FaultOptions(**fields)
    except TypeError as exc:
        raise InputError(f"bad options: {exc}", code="bad_options") from None


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.section and (args.breaker or args.fi or args.calls):
        raise InputError("--section skips location: do not combine it with --breaker, --fi or --calls",
                         code="bad_usage")
    if not (args.section or args.breaker or args.fi or args.calls):
        raise InputError("give one of --breaker, --fi, --calls or --section", code="bad_usage")
    now = _parse_time(args.now, "--now")
    eta = _parse_time(args.crew_eta, "--crew-eta") if args.crew_eta else None
    options = _options(args)
    grid = load_grid(args.grid)
    location = None
    if args.section:
        target: Any = args.section
    else:
        location = locate_fault(
            grid,
            tripped_breaker=args.breaker,
            fault_indicators=_parse_fi(args.fi) if args.fi else None,
            calls=read_calls(args.calls) if args.calls else None,
            now=now,
            options=options,
        )
        if not 0 <= args.candidate < len(location.candidates):
            raise InputError(f"--candidate {args.candidate}: only {len(location.candidates)} candidate(s)",
                             code="bad_usage")
        target = location.candidates[args.candidate]
    restoration = restore(grid, target, now=now, options=options, crew_eta=eta,
                          tripped_breaker=args.breaker)
    return FaultReport(location, restoration).to_json()


def _print_text(report: dict[str, Any]) -> None:
    for i, c in enumerate(report["candidates"][:5]):
        print(f"candidate {i}: {c['summary']['text']}")
        print(f"    {c['section']} score {c['score']:.3f} — {c['reason']}")
    f = report["faulted"]
    how = {"reported": "tripped", "assumed": "assumed tripped", "calls": "supply lost below"}[f["tripped_basis"]]
    print(f"faulted: {', '.join(f['sections'])} ({how} {f['tripped']}); {len(f['customers_out'])} customer(s) out")
    stages = report["stages"] + ([report["return_to_normal"]] if report.get("return_to_normal") else [])
    for s in stages:
        print(f"stage {s['kind']}: {len(s['steps'])} step(s), {len(s['restored_customers'])} restored, "
              f"{len(s['still_out'])} still out")
        for st in s["steps"]:
            loc = st["location"]
            print(f"  {st['seq']:>3} {st['time'][11:16]} {st['action']:<5} {st['switch']:<12} "
                  f"{'remote' if st['remote'] else 'manual'} at {st['node']} ({loc['lon']:.5f}, {loc['lat']:.5f})"
                  f" — {st['reason']}")
        for n in s["notes"]:
            print(f"      note: {n}")
        pf = s.get("power_flow")
        if pf and pf.get("max_line_loading_pct") is not None:
            print(f"      power flow: max line {pf['max_line_loading_pct']:.0f} % ({pf['max_line']}), "
                  f"voltage {pf['min_vm_pu']:.3f}..{pf['max_vm_pu']:.3f} pu over {pf['checked']['count']} time(s)"
                  f"{'' if pf['ok'] else ' — NOT OK'}")
    r = report["repair"]
    print(f"repair: {r['equipment_kind']} at {r['node']}, {r['duration_min']:.0f} min, skills {', '.join(r['skills'])}")
    for d in r["dead_areas"]:
        print(f"  dead: {len(d['customers'])} customer(s) in {', '.join(d['sections'])} — {d['reason']}")
    for g in report["generators"]:
        where = f" at {g['block_kind']} {g['block']}" if g.get("block") else ""
        print(f"generator: {g['customer']} ({g['importance']}, {g['demand_kw']:.0f} kW){where} <- "
              f"{', '.join(g['generators']) or '-'}: {g['note']}")
    m = report["metrics"]
    print(f"CI {m['ci']}, CMI {m['cmi']:.0f} (do nothing: {m['cmi_do_nothing']:.0f}), {len(report['messages'])} message(s)")
    for w in report["warnings"]:
        print(f"warning: {w}")


def main(argv: list[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        report = run(args)
    except OutageError as exc:
        if args.json:
            print(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        _print_text(report)
    return 0
