"""Dispatch benchmark: 20 simultaneous faults, 8 crews, on the Monaco demo city.

    .venv/bin/python bench/bench_dispatch.py [--seeds 5] [--time-limit 10]

For each seed, 20 fault locations are drawn from the grid's equipment
(RMUs and distribution rooms need a ``cable`` crew, pole transformers an
``overhead`` crew). A fault's weight is the interruption weight of the
customers it leaves dark (``gis`` isolation of that equipment): sum over those
customers of the importance weight (special 100, first 50, second 10,
temporary 5, normal 1 -- the defaults of ``planning.faults.options``). Repair
times are 30-150 min. The 8 crews of ``outage_demo/crews.csv`` (depots, skills)
are all put on shift from ``now`` for 10 hours so that all 8 take part.

Compared: ``plan_routes(objective="weighted_restoration")`` against the
nearest-available-crew greedy (``greedy_routes``), by weighted customer-minutes
(sum of weight x minutes from ``now`` to the end of the repair). Target: >= 30 %
fewer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from routing import Crew, Task, greedy_routes, load_roads, plan_routes  # noqa: E402
from routing.io import read_access_points, read_crews  # noqa: E402

GRID = ROOT / "outage_demo"
IMPORTANCE_WEIGHTS = {
    "special": 100.0,
    "first": 50.0,
    "second": 10.0,
    "temporary": 5.0,
    "normal": 1.0,
}


def fault_weights(candidates: list[str]) -> dict[str, float]:
    """Interruption weight of isolating each candidate equipment (via the gis public API)."""
    from gis import load_grid

    grid = load_grid(GRID / "monaco.gpkg")
    cust = grid.customers.set_index("id")
    out = {}
    for eq in candidates:
        try:
            dead = grid.isolate(eq).customers
        except Exception:  # equipment in a source section etc.: skip it
            continue
        grades = cust.loc[list(dead), "importance"] if dead else []
        out[eq] = float(sum(IMPORTANCE_WEIGHTS.get(g, 1.0) for g in grades))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--faults", type=int, default=20)
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--now", default="2026-12-02T10:00:00+01:00")
    ap.add_argument("--out", help="write the JSON result here too")
    args = ap.parse_args()

    now = datetime.fromisoformat(args.now).astimezone(ZoneInfo("Europe/Monaco"))
    points, names = read_access_points(GRID / "monaco.gpkg")
    roads = load_roads(GRID / "monaco_roads.graphml", access_points=points, names=names)
    import geopandas as gpd

    nodes = gpd.read_file(GRID / "monaco.gpkg", layer="nodes")
    nodes = nodes[nodes["id"].isin([k for k, p in roads.access.items() if roads.on_network(p)])]
    kinds = dict(zip(nodes["id"], nodes["kind"], strict=True))
    pool = [i for i, k in kinds.items() if k in ("rmu", "distribution_room", "pole_transformer")]
    rng = np.random.default_rng(12345)
    sample = list(rng.choice(pool, min(len(pool), 200), replace=False))
    weights = {k: w for k, w in fault_weights(sample).items() if w > 0}

    base_crews = read_crews(GRID / "crews.csv")
    crews = [
        Crew(
            c.id,
            c.start,
            shift_start=now,
            shift_end=now + timedelta(hours=10),
            skills=c.skills,
            name=c.name,
        )
        for c in base_crews
    ]
    rows = []
    for seed in range(args.seeds):
        r = np.random.default_rng(seed)
        chosen = list(r.choice(sorted(weights), args.faults, replace=False))
        tasks = [
            Task(
                f"F{k + 1:02d}",
                eq,
                service_min=float(r.integers(30, 151)),
                skills={"overhead" if kinds[eq] == "pole_transformer" else "cable"},
                weight=weights[eq],
                name=names.get(eq, eq),
            )
            for k, eq in enumerate(chosen)
        ]
        opt = plan_routes(roads, crews, tasks, now=now, time_limit_s=args.time_limit)
        greedy = greedy_routes(roads, crews, tasks, now=now)
        gain = 1.0 - opt.weighted_customer_minutes / greedy.weighted_customer_minutes
        rows.append(
            {
                "seed": seed,
                "weighted_restoration": round(opt.weighted_customer_minutes),
                "greedy": round(greedy.weighted_customer_minutes),
                "reduction_pct": round(100 * gain, 1),
                "served_opt": sum(len(x.stops) for x in opt.routes),
                "served_greedy": sum(len(x.stops) for x in greedy.routes),
                "km_opt": round(opt.distance_m / 1000, 1),
                "km_greedy": round(greedy.distance_m / 1000, 1),
                "solve_s": round(opt.solve_time_s, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    total_opt = sum(x["weighted_restoration"] for x in rows)
    total_greedy = sum(x["greedy"] for x in rows)
    summary = {
        "faults": args.faults,
        "crews": len(crews),
        "time_limit_s": args.time_limit,
        "mean_reduction_pct": round(statistics.mean(x["reduction_pct"] for x in rows), 1),
        "min_reduction_pct": min(x["reduction_pct"] for x in rows),
        "total_reduction_pct": round(100 * (1 - total_opt / total_greedy), 1),
        "runs": rows,
    }
    print(json.dumps(summary, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
