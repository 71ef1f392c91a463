"""``python -m routing matrix|dispatch|solve-vrplib|gpx ...``

With ``--json`` each command prints one JSON object (contracts in
``docs/routing.md``):

* ``matrix ROADS --points FILE [--to FILE] [--access FILE]`` ->
  ``{"origins": [point], "destinations": [point], "seconds": [[...]],
  "metres": [[...]], "time_s"}``
* ``dispatch ROADS --crews FILE --tasks FILE --now ISO [--access FILE]
  [--objective weighted_restoration|distance] [--time-limit S]
  [--compare-greedy] [--geojson FILE] [--gpx-dir DIR]`` -> the plan
  (``RoutePlan.to_dict()``), plus ``"greedy"`` with ``--compare-greedy``
* ``solve-vrplib INSTANCE --time-limit S [--engine auto|ortools|pyvrp]`` ->
  ``{"instance", "cost", "vehicles", "routes", "time_s", ...}``
* ``gpx PLAN.json [--crew ID] [--out DIR]`` -> ``{"files": [paths]}`` (GPX
  text on stdout without ``--out``)

Exit status: 0 on success, 1 when the input or request is invalid, 2 on usage
errors. Errors print ``{"error": {"code", "message", "details"}}`` with
``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from gis.errors import OutageError
from routing.errors import RoutingInputError


def _print(obj: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(obj, ensure_ascii=False, indent=1))
    else:
        print("\n".join(lines))


def _roads(args: argparse.Namespace) -> Any:
    from routing.io import read_access_points
    from routing.roads import load_roads

    points: dict[str, tuple[float, float]] = {}
    names: dict[str, str] = {}
    if getattr(args, "access", None):
        points, names = read_access_points(args.access)
    return load_roads(
        args.roads, access_points=points or None, names=names, max_snap_m=args.max_snap_m
    )


def _points(path: str) -> list[Any]:
    """Points from CSV/JSON rows: ``id`` alone (an access point) or ``lon, lat``."""
    from routing.io import read_rows

    out: list[Any] = []
    for n, row in enumerate(read_rows(Path(path)), start=1):
        if row.get("lon") not in (None, "") and row.get("lat") not in (None, ""):
            try:
                out.append((float(row["lon"]), float(row["lat"])))
            except (TypeError, ValueError):
                raise RoutingInputError(f"{path} row {n}: lon/lat are not numbers") from None
        elif row.get("id"):
            out.append(str(row["id"]))
        else:
            raise RoutingInputError(f"{path} row {n}: expected id or lon, lat")
    return out


def _located(roads: Any, path: str) -> list[Any]:
    """The points of ``path`` snapped to the roads; RoutingInputError (code ``off_network``)
    for one farther than ``max_snap_m`` from every drivable road (lon/lat swapped?)."""
    out = []
    for n, point in enumerate(_points(path), start=1):
        snapped = roads.locate(point)
        if not roads.on_network(snapped):
            raise RoutingInputError(
                f"{path} row {n}: ({snapped.lon}, {snapped.lat}) is {snapped.snap_distance_m:,.0f} m from the nearest "
                f"road, farther than --max-snap-m {roads.max_snap_m:g} m (lon and lat swapped?)",
                code="off_network", details={"row": n, "point": point if isinstance(point, str) else list(point),
                                             "snap_distance_m": round(snapped.snap_distance_m, 1)})
        out.append(snapped)
    return out


def _cmd_matrix(args: argparse.Namespace) -> int:
    roads = _roads(args)
    origins = _located(roads, args.points)
    dests = origins if not args.to else _located(roads, args.to)
    t0 = time.perf_counter()
    secs, metres = roads.matrix(origins, dests, with_length=True)
    elapsed = time.perf_counter() - t0
    out = {
        "origins": [p.to_dict() for p in origins],
        "destinations": [p.to_dict() for p in dests],
        "seconds": [[round(float(x), 2) for x in row] for row in secs],
        "metres": [[round(float(x), 1) for x in row] for row in metres],
        "time_s": round(elapsed, 4),
    }
    lines = [f"{len(origins)} x {len(dests)} travel times (s) in {elapsed * 1000:.1f} ms"]
    lines += ["  " + " ".join(f"{x:8.1f}" for x in row) for row in secs[:20]]
    _print(out, args.json, lines)
    return 0


def _cmd_dispatch(args: argparse.Namespace) -> int:
    from routing.dispatch import greedy_routes, plan_routes
    from routing.export import plan_geojson, write_gpx
    from routing.io import in_years, read_crews, read_tasks

    try:
        now = in_years(datetime.fromisoformat(args.now), "--now")
    except RoutingInputError:
        raise
    except ValueError:
        raise RoutingInputError(f"--now: not an ISO datetime: {args.now!r}") from None
    roads = _roads(args)
    crews, tasks = read_crews(args.crews), read_tasks(args.tasks)
    plan = plan_routes(
        roads, crews, tasks, now=now, objective=args.objective, time_limit_s=args.time_limit
    )
    out = plan.to_dict()
    lines = [
        f"status {plan.status}, {sum(len(r.stops) for r in plan.routes)} stops, "
        f"{len(plan.dropped)} dropped, weighted customer-minutes "
        f"{plan.weighted_customer_minutes:.0f}, {plan.distance_m / 1000:.1f} km"
    ]
    for r in plan.routes:
        stops = ", ".join(f"{s.task_id}@{s.arrival:%H:%M}" for s in r.stops) or "-"
        lines.append(f"  {r.crew_id}: {stops}")
    for d in plan.dropped:
        lines.append(f"  dropped {d.task_id}: {d.code} ({d.reason})")
    if args.compare_greedy:
        g = greedy_routes(roads, crews, tasks, now=now)
        out["greedy"] = {
            "weighted_customer_minutes": round(g.weighted_customer_minutes, 2),
            "distance_m": round(g.distance_m, 1),
            "dropped": len(g.dropped),
            "assignment": g.assignment(),
        }
        lines.append(
            f"greedy baseline: weighted customer-minutes {g.weighted_customer_minutes:.0f}"
        )
    if args.geojson:
        Path(args.geojson).write_text(json.dumps(plan_geojson(plan)), encoding="utf-8")
    if args.gpx_dir:
        out["gpx_files"] = [str(p) for p in write_gpx(plan, args.gpx_dir)]
    _print(out, args.json, lines)
    return 0 if plan.status != "no_solution" else 1


def _cmd_solve_vrplib(args: argparse.Namespace) -> int:
    from routing.vrptw import solve_vrplib

    out = solve_vrplib(
        args.instance, time_limit_s=args.time_limit, engine=args.engine, seed=args.seed
    )
    lines = [
        f"{out['instance']}: cost {out['cost']} with {out['vehicles']} vehicles in "
        f"{out['time_s']} s ({out['engine']}, {'feasible' if out['feasible'] else 'INFEASIBLE'})"
    ]
    lines += [f"Route #{k}: {' '.join(map(str, r))}" for k, r in enumerate(out["routes"], 1)]
    _print(out, args.json, lines)
    return 0 if out["feasible"] else 1


def _cmd_gpx(args: argparse.Namespace) -> int:
    from routing.export import plan_gpx, write_gpx

    path = Path(args.plan)
    if not path.exists():
        raise RoutingInputError(f"plan file not found: {path}")
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RoutingInputError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(plan, dict) or not isinstance(plan.get("routes"), list):
        raise RoutingInputError(f"{path} is not a plan (python -m routing dispatch --json)")
    if args.out:
        if args.crew:
            target = Path(args.out)
            target.mkdir(parents=True, exist_ok=True)
            file = target / f"{args.crew}.gpx"
            file.write_text(plan_gpx(plan, args.crew), encoding="utf-8")
            files = [file]
        else:
            files = write_gpx(plan, args.out)
        _print({"files": [str(f) for f in files]}, args.json, [str(f) for f in files])
    else:
        text = plan_gpx(plan, args.crew)
        if args.json:
            print(json.dumps({"gpx": text}))
        else:
            sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m routing", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def roads_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("roads", help="road network: .graphml (osmnx) or .osm.pbf")
        p.add_argument("--access", help="access points: CSV id,lon,lat[,name] or grid .gpkg")
        p.add_argument("--max-snap-m", type=float, default=250.0, help="off-road limit (m)")
        p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("matrix", help="travel-time matrix between points")
    roads_args(p)
    p.add_argument("--points", required=True, help="CSV/JSON rows with id or lon,lat")
    p.add_argument("--to", help="destinations (default: the same points)")
    p.set_defaults(func=_cmd_matrix)

    p = sub.add_parser("dispatch", help="plan crew routes")
    roads_args(p)
    p.add_argument("--crews", required=True, help="crews CSV/JSON")
    p.add_argument("--tasks", required=True, help="tasks JSON/CSV")
    p.add_argument("--now", required=True, help="ISO datetime with offset")
    p.add_argument(
        "--objective", default="weighted_restoration", choices=["weighted_restoration", "distance"]
    )
    p.add_argument("--time-limit", type=float, default=10.0, help="solver seconds")
    p.add_argument("--compare-greedy", action="store_true", help="also run the greedy baseline")
    p.add_argument("--geojson", help="write the routes as GeoJSON here")
    p.add_argument("--gpx-dir", help="write one GPX per crew into this folder")
    p.set_defaults(func=_cmd_dispatch)

    p = sub.add_parser("solve-vrplib", help="solve a VRPLIB VRPTW instance")
    p.add_argument("instance")
    p.add_argument("--time-limit", type=float, required=True, help="seconds")
    p.add_argument("--engine", default="auto", choices=["auto", "ortools", "pyvrp"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_solve_vrplib)

    p = sub.add_parser("gpx", help="GPX files from a dispatch plan JSON")
    p.add_argument("plan", help="output of `python -m routing dispatch --json`")
    p.add_argument("--crew", help="only this crew")
    p.add_argument("--out", help="folder for <crew>.gpx files (default: GPX on stdout)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_gpx)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except OutageError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": exc.to_dict()}, ensure_ascii=False, indent=1, default=str))
        else:
            print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
