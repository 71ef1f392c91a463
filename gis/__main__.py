"""``python -m gis validate|summary|affected|isolate|powerflow|import-pandapower|import-dss|import-cgmes ...``

The JSON shapes printed with ``--json`` are a contract (docs/grid-format.md):

* ``affected PATH --open S1,S2 [--close T1] --json`` ->
  ``{"customers": [ids], "nodes": [ids], "count": N}``
* ``isolate PATH ID --json`` -> ``{"switches": [ids], "nodes": [ids], "customers": [ids]}``
* ``summary PATH --json`` -> counts by layer and kind, customers by importance,
  feeders, ties, km of line
* ``validate PATH --json`` -> ``{"valid": bool, "problems": [{code, severity, layer, ids, message}]}``
* ``powerflow PATH --at ISO [--hours H] [--open ..] [--close ..] [--all-feeders] --json`` ->
  :meth:`gis.powerflow.StateFlow.summary` plus ``"ok"`` (exit 1 when a limit is broken)
* ``import-pandapower SOURCE OUT [--json]`` -> ``{"written": OUT, "summary": ...}``; SOURCE is a
  pandapower JSON file, a ``pandapower.networks`` name or ``simbench:<code>``
* ``import-dss MASTER.dss OUT [--buscoords F] [--origin LON,LAT] --json`` and
  ``import-cgmes SRC... OUT [--origin LON,LAT] --json`` -> ``{"written": OUT, "summary": ..., "notes": [...]}``
  (notes: what the import approximated); OUT is written only when the grid validates

* ``import-mapped MAPPING.toml OUT.gpkg [--report BASE] [--json]`` -> the quality report plus
  ``"written"`` (exit 1 and no grid when it has errors); ``import-mapped --suggest SOURCE [MAPPING.toml]``
  writes a template mapping
* ``quality PATH [--report BASE] [--tolerance-m M] [--json]`` -> the quality report of a grid

Exit status: 0 on success, 1 when the grid or the request is invalid, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from gis.errors import GridValidationError, OutageError


def _ids(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _print(obj: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(obj, ensure_ascii=False, indent=1))
    else:
        print("\n".join(lines))


def _cmd_validate(args: argparse.Namespace) -> int:
    from gis.grid import validate_grid

    problems = validate_grid(args.path, join_distance_m=args.join_distance_m)
    errors = [p for p in problems if p.severity == "error"]
    lines = [f"{args.path}: {'INVALID' if errors else 'valid'} ({len(errors)} error(s), {len(problems) - len(errors)} warning(s))"]
    for p in problems:
        ids = f" [{', '.join(p.ids[:8])}{', ...' if len(p.ids) > 8 else ''}]" if p.ids else ""
        lines.append(f"  {p.severity.upper():7} {p.code}: {p.message}{ids}")
    _print({"valid": not errors, "problems": [p.to_dict() for p in problems]}, args.json, lines)
    return 1 if errors else 0


def _summary_lines(s: dict[str, Any]) -> list[str]:
    lines = [f"Grid: {s['name']} ({s['timezone']})", "", "| what | count |", "|---|---:|"]
    lines.append(f"| substations | {s['substations']} |")
    lines.append(f"| feeders | {s['feeders']} |")
    for k, v in s["nodes_by_kind"].items():
        lines.append(f"| nodes: {k} | {v} |")
    for k, v in s["switches_by_kind"].items():
        lines.append(f"| switches: {k} | {v} |")
    lines.append(f"| normally-open ties | {s['ties']} |")
    lines.append(f"| remote-controlled switches | {s['remote_switches']} |")
    lines.append(f"| switches with fault indicator | {s['fault_indicators']} |")
    lines.append(f"| sections | {s['sections']} |")
    for k, v in s["km_of_line"].items():
        lines.append(f"| km of {k} | {v:.1f} |")
    lines.append(f"| customers | {s['layers'].get('customers', 0)} |")
    for k, v in s["customers_by_importance"].items():
        lines.append(f"| customers: {k} | {v} |")
    lines.append(f"| depots | {s['layers'].get('depots', 0)} |")
    lines.append(f"| total demand (MW) | {s['demand_kw'] / 1000:.1f} |")
    return lines


def _cmd_summary(args: argparse.Namespace) -> int:
    from gis.grid import load_grid

    s = load_grid(args.path).summary()
    _print(s, args.json, _summary_lines(s))
    return 0


def _cmd_affected(args: argparse.Namespace) -> int:
    from gis.grid import load_grid

    grid = load_grid(args.path)
    opened, closed = _ids(args.open), _ids(args.close)
    cust = grid.affected_customers(open_switches=opened, close_switches=closed)
    nodes = sorted(grid.dead_nodes(open_switches=opened, close_switches=closed))
    ids = sorted(map(str, cust["id"]))
    lines = [f"{len(ids)} customer(s) and {len(nodes)} node(s) without supply"]
    lines += [f"  {r.id}  {r.name}  ({r.importance}, {r.demand_kw:g} kW, feeder {r.feeder})" for r in cust.itertuples()]
    _print({"customers": ids, "nodes": nodes, "count": len(ids)}, args.json, lines)
    return 0


def _cmd_isolate(args: argparse.Namespace) -> int:
    from gis.grid import load_grid

    grid = load_grid(args.path)
    iso = grid.isolate(args.equipment)
    out = {"switches": list(iso.switches), "nodes": sorted(iso.nodes), "customers": sorted(iso.customers)}
    lines = [
        f"isolate {', '.join(iso.equipment)}: open {', '.join(iso.switches) or '(nothing)'}",
        f"  keep open (ties at the work zone): {', '.join(iso.ties) or '-'}",
        f"  work zone: {len(iso.work_nodes)} node(s); de-energised: {len(iso.nodes)} node(s), {len(iso.customers)} customer(s)",
    ]
    _print(out, args.json, lines)
    return 0


def _cmd_powerflow(args: argparse.Namespace) -> int:
    from datetime import datetime, timedelta

    from gis.errors import InputError
    from gis.grid import load_grid
    from gis.powerflow import Limits, check_state_flow

    grid = load_grid(args.path)
    try:
        start = datetime.fromisoformat(args.at)
    except ValueError as exc:
        raise InputError(f"--at must be an ISO 8601 time with offset, got {args.at!r}", code="bad_time") from exc
    if start.tzinfo is None:
        raise InputError("--at needs a UTC offset (e.g. 2026-12-08T19:00+01:00)", code="naive_datetime")
    if not (0 < args.hours <= 24 * 7):
        raise InputError("--hours must be within (0, 168]", code="bad_hours")
    times = [start + timedelta(minutes=15 * k) for k in range(max(1, int(args.hours * 4)))]
    limits = Limits(v_min_pu=1 - args.voltage_band, v_max_pu=1 + args.voltage_band)
    flow = check_state_flow(grid, open_switches=_ids(args.open), close_switches=_ids(args.close), times=times,
                            feeders="all" if args.all_feeders else None, dg=args.dg, limits=limits)
    out = flow.summary()
    out["ok"] = flow.ok
    lines = [f"{len(times)} time(s) x DG {args.dg}, feeders {', '.join(out['feeders']) or '(none touched)'}: "
             f"{'OK' if flow.ok else 'VIOLATIONS'}"]
    if out.get("min_vm_pu") is not None:
        lines.append(f"  max line loading {out['max_line_loading_pct']} % ({out.get('max_line')}), "
                     f"voltage {out['min_vm_pu']}..{out['max_vm_pu']} pu")
    lines += [f"  {'(normal state too) ' if v.pre_existing else ''}{v.message()}" for v in flow.violations[:40]]
    _print(out, args.json, lines)
    return 0 if flow.ok else 1


def _source_name(source: str | list[str]) -> str:
    """A grid name from the import source: the source itself, or the common stem of several files
    (``radial_EQ.xml radial_TP.xml ...`` -> ``radial``)."""
    if isinstance(source, str):
        return source
    if len(source) == 1:
        return Path(source[0]).stem
    return os.path.commonprefix([Path(x).stem for x in source]).rstrip("_- ") or Path(source[0]).stem


def _write_imported(args: argparse.Namespace, net: Any, notes: list[str] | None = None) -> int:
    """Convert an imported pandapower net, validate it and only then write OUT."""
    from gis.format import write_grid
    from gis.pandapower_io import from_pandapower

    grid = from_pandapower(net, name=args.name or _source_name(args.source), timezone=args.timezone)
    write_grid(grid.layers(), args.out)
    s = grid.summary()
    out: dict[str, Any] = {"written": args.out, "summary": s}
    if notes is not None:
        out["notes"] = notes
    _print(out, args.json, [f"wrote {args.out}", *(f"  note: {n}" for n in notes or []), *_summary_lines(s)])
    return 0


def _cmd_import_pandapower(args: argparse.Namespace) -> int:
    from gis.pandapower_io import load_pandapower_net

    return _write_imported(args, load_pandapower_net(args.source))


def _origin(text: str) -> tuple[float, float]:
    from gis.errors import InputError

    try:
        lon, lat = (float(x) for x in text.split(","))
    except ValueError as exc:
        raise InputError(f"--origin must be LON,LAT in degrees, got {text!r}", code="bad_origin") from exc
    return lon, lat


def _cmd_import_dss(args: argparse.Namespace) -> int:
    from gis.dss_io import load_dss_net

    net, notes = load_dss_net(args.source, buscoords=args.buscoords, origin=_origin(args.origin), spacing_m=args.spacing_m)
    return _write_imported(args, net, notes)


def _cmd_import_cgmes(args: argparse.Namespace) -> int:
    from gis.cim_io import load_cgmes_net

    net, notes = load_cgmes_net(args.source, origin=_origin(args.origin), spacing_m=args.spacing_m)
    return _write_imported(args, net, notes)
def _report_lines(doc: dict[str, Any]) -> list[str]:
    lines = [f"{len(doc['items'])} finding(s): " + (", ".join(f"{k} {v}" for k, v in doc["counts"].items()) or "none")]
    lines += [f"  {i['severity'].upper():7} {i['code']}: {i['layer'] or '-'} {i['id'] or '-'}: {i['message']}" for i in doc["items"]]
    return lines


def _cmd_import_mapped(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gis.errors import InputError
    from gis.mapped_import import import_mapped, suggest_mapping

    if args.suggest:
        text = suggest_mapping(args.suggest)
        if args.mapping is None:
            print(text, end="")
        elif Path(args.mapping).exists():
            raise InputError(f"{args.mapping} exists: choose another file for the suggested mapping", code="exists")
        else:
            Path(args.mapping).write_text(text, encoding="utf-8")
            print(f"wrote {args.mapping}", file=sys.stderr)
        return 0
    if args.mapping is None or args.out is None:
        raise InputError("give MAPPING.toml and OUT.gpkg (or --suggest SOURCE)", code="usage")
    result = import_mapped(args.mapping, args.out, report_base=args.report)
    doc = {"written": str(result.written) if result.written else None,
           "report": {k: str(v) for k, v in result.report_files.items()}, **result.report.to_dict()}
    head = (f"wrote {result.written}" if result.written else f"error: {args.out} not written: the source has errors")
    _print(doc, args.json, [head, *_report_lines(doc), f"{len(doc['snaps'])} connection(s) guessed from geometry; "
                            f"report: {', '.join(map(str, result.report_files.values()))}"])
    return 0 if result.written else 1


def _cmd_quality(args: argparse.Namespace) -> int:
    from gis.format import read_layers
    from gis.quality import quality_of_layers, write_report

    report = quality_of_layers(read_layers(args.path), tolerance_m=args.tolerance_m, join_distance_m=args.join_distance_m,
                               source=args.path)
    files = write_report(report, args.report) if args.report else {}
    doc = {"report": {k: str(v) for k, v in files.items()}, **report.to_dict()}
    doc.pop("snaps")
    _print(doc, args.json, _report_lines(doc))
    return 0 if report.valid else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gis", description="Grid model tools")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="print the validation report (exit 1 on errors)")
    v.add_argument("path")
    v.add_argument("--join-distance-m", type=float, default=500.0)
    v.set_defaults(func=_cmd_validate)

    s = sub.add_parser("summary", help="counts by layer and kind, feeders, ties, km of line")
    s.add_argument("path")
    s.set_defaults(func=_cmd_summary)

    a = sub.add_parser("affected", help="customers and nodes without supply in a switching state")
    a.add_argument("path")
    a.add_argument("--open", default="", help="comma-separated switch ids to open")
    a.add_argument("--close", default="", help="comma-separated switch ids to close")
    a.set_defaults(func=_cmd_affected)

    i = sub.add_parser("isolate", help="the nearest switches that de-energise a piece of equipment")
    i.add_argument("path")
    i.add_argument("equipment", help="node, line or switch id")
    i.set_defaults(func=_cmd_isolate)

    m = sub.add_parser("import-pandapower", help="convert a pandapower net (JSON file, pandapower.networks name or simbench:<code>)")
    m.add_argument("source", help="a pandapower JSON file, a network name such as mv_oberrhein, or simbench:1-MV-comm--0-sw")
    m.add_argument("out", help="output .gpkg file or folder")
    m.add_argument("--name", default=None)
    m.add_argument("--timezone", default="Europe/Berlin")
    m.set_defaults(func=_cmd_import_pandapower)

    from gis.schematic import DEFAULT_ORIGIN

    d = sub.add_parser("import-dss", help="convert an OpenDSS feeder (master .dss file) through pandapower")
    d.add_argument("source", help="the OpenDSS master file (what you would Compile or Redirect)")
    d.add_argument("--buscoords", default=None, help="a BusCoords file (bus, x, y) the master does not load itself")
    c = sub.add_parser("import-cgmes", help="convert a CGMES set (zip, folder or .xml files) through pandapower's cim2pp")
    c.add_argument("source", nargs="+", help="a CGMES zip, a folder of CGMES .xml files, or the .xml files themselves")
    c.set_defaults(func=_cmd_import_cgmes)
    d.set_defaults(func=_cmd_import_dss)
    for sp in (d, c):
        sp.add_argument("out", help="output .gpkg file or folder")
        sp.add_argument("--name", default=None)
        sp.add_argument("--timezone", default="Europe/Helsinki")
        sp.add_argument("--origin", default=f"{DEFAULT_ORIGIN[0]},{DEFAULT_ORIGIN[1]}",
                        help="LON,LAT where the source is placed when the file has no geographic coordinates")
        sp.add_argument("--spacing-m", type=float, default=100.0, help="row spacing (m) of the schematic drawn without coordinates")

    f = sub.add_parser("powerflow", help="AC power flow of a switching state: loading, voltages, violations")
    f.add_argument("path")
    f.add_argument("--at", required=True, help="ISO 8601 time with offset; the first time checked")
    f.add_argument("--hours", type=float, default=0.25, help="check every 15 minutes over this many hours")
    f.add_argument("--open", default="", help="comma-separated switch ids to open")
    f.add_argument("--close", default="", help="comma-separated switch ids to close")
    f.add_argument("--all-feeders", action="store_true", help="solve every feeder, not only those the state changes")
    f.add_argument("--dg", choices=("on", "off", "both"), default="both")
    f.add_argument("--voltage-band", type=float, default=0.07, help="allowed deviation from nominal voltage (0.07 = +-7 %%)")
    f.set_defaults(func=_cmd_powerflow)

    g = sub.add_parser("import-mapped", help="import a GIS export through a field mapping (TOML); --suggest writes a template")
    g.add_argument("mapping", nargs="?", help="the mapping file (with --suggest: where to write the template; default stdout)")
    g.add_argument("out", nargs="?", help="the grid file to write (.gpkg), only when the source is valid")
    g.add_argument("--suggest", metavar="SOURCE", help="write a template mapping from this source's layers and fields")
    g.add_argument("--report", default=None, help="report files' path without extension (default OUT.quality)")
    g.set_defaults(func=_cmd_import_mapped)

    q = sub.add_parser("quality", help="data-quality report of a grid (exit 1 on errors)")
    q.add_argument("path")
    q.add_argument("--report", default=None, help="also write BASE.json, BASE.csv, BASE.geojson")
    q.add_argument("--tolerance-m", type=float, default=1.0, help="how near a crossing may be to a line end (metres)")
    q.add_argument("--join-distance-m", type=float, default=500.0)
    q.set_defaults(func=_cmd_quality)

    for sp in (v, s, a, i, m, d, c, f, g, q):
        sp.add_argument("--json", action="store_true", help="print JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except GridValidationError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": exc.to_dict()}, ensure_ascii=False, indent=1))
        else:
            print(f"error: {exc.message}", file=sys.stderr)
            for p in exc.problems:
                if p.severity == "error":
                    print(f"  {p.code}: {p.message} {list(p.ids[:8])}", file=sys.stderr)
        return 1
    except OutageError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": exc.to_dict()}, ensure_ascii=False, indent=1))
        else:
            print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
