"""Synthetic inputs for tests and benchmarks: open-ring grids and months of maintenance jobs.

:func:`ring_grid` builds a small-to-city-sized 10 kV grid in the interchange
format: substations, feeders in pairs joined by a normally-open tie (some
pairs across two substations), RMUs on the trunks, distribution rooms on
branches, customers with importance grades and load profiles, feeder ratings
set so that the peak load is 40-85 % of capacity. :func:`synthetic_jobs`
draws jobs on any grid (the demo city included), with overlaps on purpose.
Deterministic for a given seed.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point

from gis import Grid
from planning.outages.jobs import Job
from planning.outages.ledger import LedgerItem

LON0, LAT0, STEP = 7.40, 43.72, 0.0015

IMPORTANCE_MIX = (("normal", 0.94), ("second", 0.03), ("first", 0.008), ("special", 0.002), ("temporary", 0.02))


def _profiles() -> pd.DataFrame:
    rows = []
    for day in ("weekday", "saturday", "sunday"):
        for m in range(0, 1440, 15):
            h = m / 60
            res = 0.35 + 0.25 * (7 <= h < 17) + 0.65 * (17 <= h < 22)
            com = (1.0 if 8 <= h < 18 else 0.25) * (1.0 if day == "weekday" else 0.5 if day == "saturday" else 0.3)
            hosp = 1.0 if (10 <= h < 12 or 14 <= h < 17) else 0.85 if 8 <= h < 20 else 0.7
            school = (1.0 if 8 <= h < 16 else 0.1) if day == "weekday" else 0.1
            ind = (1.0 if 6 <= h < 22 else 0.5) if day != "sunday" else 0.4
            for name, f in (("residential", res / 1.25), ("commercial", com), ("hospital", hosp), ("school", school), ("industrial", ind), ("flat", 1.0)):
                rows.append((name, day, m, round(f, 4)))
    return pd.DataFrame(rows, columns=["profile", "day_type", "minute_of_day", "factor"])


def ring_layers(
    *,
    substations: int = 3,
    rings: int = 12,
    rmus_per_feeder: int = 6,
    rooms_per_rmu: int = 2,
    customers_per_room: int = 8,
    cross_share: float = 0.4,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """Layers of a synthetic open-ring grid (see module doc); ``rings`` feeder pairs."""
    rng = np.random.default_rng(seed)
    crs = "EPSG:4326"
    subs: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    sws: list[dict[str, Any]] = []
    custs: list[dict[str, Any]] = []
    pos: dict[str, tuple[float, float]] = {}

    def node(nid: str, kind: str, x: float, y: float, sub: str | None = None, kva: float | None = None) -> None:
        pos[nid] = (LON0 + x * STEP, LAT0 + y * STEP)
        nodes.append({"id": nid, "kind": kind, "name": nid, "substation_id": sub, "kva": kva})

    def line(a: str, b: str) -> None:
        lines.append({"id": f"L{len(lines) + 1}", "from_node": a, "to_node": b, "kind": "cable", "rating_a": 600.0})

    def switch(a: str, b: str, kind: str = "load_break", nopen: bool = False, rating: float | None = None) -> str:
        sid = f"S{len(sws) + 1}" if kind != "breaker" else f"F{sum(1 for x in sws if x['kind'] == 'breaker') + 1}"
        sws.append({"id": sid, "from_node": a, "to_node": b, "kind": kind, "normally_open": nopen,
                    "remote": bool(rng.random() < 0.35), "fault_indicator": True, "rating_a": rating})
        return sid

    for s in range(substations):
        sid = f"SUB{s + 1}"
        subs.append({"id": sid, "name": f"Substation {s + 1}", "capacity_kva": 40000.0, "x": s * 30.0, "y": 0.0})
        node(f"B{s + 1}", "busbar", s * 30.0, 0.0, sid)
    importance = [g for g, _ in IMPORTANCE_MIX]
    probs = np.array([p for _, p in IMPORTANCE_MIX])
    probs = probs / probs.sum()
    feeder_breakers: list[tuple[str, list[str]]] = []
    cid = 0
    for r in range(rings):
        sa = r % substations
        sb = (sa + 1) % substations if (substations > 1 and rng.random() < cross_share) else sa
        ends = []
        for side, sub in enumerate((sa, sb)):
            fx = sub * 30.0 + (r // substations) * 4.0 + side * 2.0
            fy = (r + 1) * 3.0 * (1 if side == 0 else -1)
            first = f"R{r}_{side}_j"
            node(first, "junction", fx, fy * 0.2)
            fb = switch(f"B{sub + 1}", first, "breaker")
            breaker_customers: list[str] = []
            prev = first
            for k in range(rmus_per_feeder):
                rmu = f"R{r}_{side}_{k}"
                node(rmu, "rmu", fx + k * 0.8, fy + k * 0.5)
                line(prev, rmu)
                for q in range(rooms_per_rmu):
                    room = f"D{r}_{side}_{k}_{q}"
                    node(room, "distribution_room", fx + k * 0.8 + 0.3, fy + k * 0.5 + 0.3 * (q + 1), kva=630.0)
                    if q == 0:
                        line(rmu, room)
                    else:
                        tap = f"{room}_t"
                        node(tap, "junction", fx + k * 0.8 + 0.15, fy + k * 0.5 + 0.3 * (q + 1))
                        switch(rmu, tap)
                        line(tap, room)
                    for _ in range(customers_per_room):
                        cid += 1
                        imp = str(rng.choice(importance, p=probs))
                        prof = {"first": "hospital", "special": "flat", "second": "school"}.get(imp) or str(rng.choice(["residential", "commercial", "industrial"], p=[0.7, 0.25, 0.05]))
                        demand = float(np.round(rng.uniform(5, 40) if imp == "normal" else rng.uniform(50, 300), 1))
                        custs.append({
                            "id": f"C{cid}", "name": f"Customer {cid}", "node_id": room,
                            "category": {"hospital": "public", "school": "public", "flat": "public"}.get(prof, "residential" if prof == "residential" else "commercial"),
                            "importance": imp, "demand_kw": demand, "profile": prof,
                            "phone": f"+377 9{cid:07d}", "address": f"{cid} Rue Synthétique",
                            "backup_power": bool(imp in ("special", "first") and rng.random() < 0.4),
                            "dual_supply": False,
                            "x": fx + k * 0.8 + 0.35, "y": fy + k * 0.5 + 0.3 * (q + 1) + 0.05,
                        })
                        breaker_customers.append(f"C{cid}")
                if k < rmus_per_feeder - 1:
                    j = f"R{r}_{side}_{k}_o"
                    node(j, "junction", fx + k * 0.8 + 0.4, fy + k * 0.5 + 0.25)
                    switch(rmu, j)
                    prev = j
            ends.append(f"R{r}_{side}_{rmus_per_feeder - 1}")
            feeder_breakers.append((fb, breaker_customers))
        switch(ends[0], ends[1], "load_break", nopen=True)
    # ratings: peak load 40-85 % of capacity at 10 kV, pf 0.9
    prof = _profiles()
    peak_factor: dict[str, float] = prof.groupby("profile")["factor"].max().to_dict()
    peak_kw = {str(c["id"]): float(c["demand_kw"]) * peak_factor[str(c["profile"])] for c in custs}
    for fb, cs in feeder_breakers:
        load = sum(peak_kw[c] for c in cs)
        u = rng.uniform(0.4, 0.85)
        amps = max(load / u / (math.sqrt(3) * 10.0 * 0.9), 50.0)
        for sw in sws:
            if sw["id"] == fb:
                sw["rating_a"] = float(round(amps, 1))

    def gdf(rows: list[dict[str, Any]], geoms: list[Any]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=crs)

    sub_df = gdf([{k: v for k, v in s.items() if k not in ("x", "y")} for s in subs], [Point(LON0 + s["x"] * STEP, LAT0 - 2 * STEP) for s in subs])
    node_df = gdf(nodes, [Point(*pos[n["id"]]) for n in nodes])
    line_df = gdf(lines, [LineString([pos[ln["from_node"]], pos[ln["to_node"]]]) for ln in lines])
    sw_df = gdf(sws, [Point(*pos[s["from_node"]]) for s in sws])
    cust_df = gdf([{k: v for k, v in c.items() if k not in ("x", "y")} for c in custs], [Point(LON0 + c["x"] * STEP, LAT0 + c["y"] * STEP) for c in custs])
    meta = pd.DataFrame({"key": ["name", "timezone", "nominal_kv", "metric_crs", "power_factor"],
                         "value": [f"Synthetic rings (seed {seed})", "Europe/Monaco", "10", "32632", "0.9"]})
    depots = gdf([{"id": "DEPOT1", "name": "Depot"}], [Point(LON0, LAT0 - 3 * STEP)])
    return {"substations": sub_df, "nodes": node_df, "lines": line_df, "switches": sw_df,
            "customers": cust_df, "depots": depots, "meta": meta, "profiles": prof}


def ring_grid(**kwargs: float) -> Grid:
    """A validated :class:`gis.Grid` from :func:`ring_layers` (same keywords)."""
    return Grid.from_layers(ring_layers(**kwargs))  # type: ignore[arg-type]


def _equipment_pool(g: Grid) -> dict[str, list[str]]:
    """Maintainable equipment outside the substations and their first nodes, by kind: ``rmu``,
    ``distribution_room``/``pole_transformer`` nodes, ``line`` ids and closed load-break ``switch`` ids."""
    busbar_nodes = set(g.nodes.loc[g.nodes["kind"] == "busbar", "id"])
    breakers = set(g.switches.loc[g.switches["from_node"].isin(busbar_nodes) | g.switches["to_node"].isin(busbar_nodes), "id"])
    first_nodes = set(g.switches.loc[g.switches["id"].isin(breakers), "to_node"]) | set(g.switches.loc[g.switches["id"].isin(breakers), "from_node"])
    out: dict[str, list[str]] = {"rmu": [], "distribution_room": [], "pole_transformer": []}
    for x, k in zip(g.nodes["id"], g.nodes["kind"], strict=True):
        if k in out and x not in first_nodes:
            out[k].append(str(x))
    out["line"] = [str(x) for x, a, b in zip(g.lines["id"], g.lines["from_node"], g.lines["to_node"], strict=True)
                   if a not in busbar_nodes and b not in busbar_nodes and a not in first_nodes and b not in first_nodes]
    out["switch"] = [str(x) for x, k, o in zip(g.switches["id"], g.switches["kind"], g.switches["normally_open"], strict=True)
                     if k == "load_break" and not o and x not in breakers]
    return out


# kind of equipment -> (ledger kind, interval in months, duration range in minutes)
LEDGER_KINDS = {
    "rmu": ("rmu_inspection", 36, (120, 240)),
    "distribution_room": ("transformer_test", 48, (120, 180)),
    "pole_transformer": ("transformer_test", 48, (60, 120)),
    "line": ("cable_test", 60, (180, 300)),
    "switch": ("switch_maintenance", 24, (60, 120)),
}


def synthetic_ledger(grid: Grid, *, year: int, seed: int = 0, overdue_share: float = 0.05, defect_share: float = 0.03) -> list[LedgerItem]:
    """A maintenance ledger for every maintainable piece of equipment (see :data:`LEDGER_KINDS`):
    last done uniformly within its interval before ``year`` (``overdue_share`` of them one more
    interval back), plus ``defect_share`` one-off defects due on a random day of the year."""
    rng = np.random.default_rng(seed)
    items: list[LedgerItem] = []
    jan1 = date(year, 1, 1)
    for kind, equipment in _equipment_pool(grid).items():
        name, months, (lo, hi) = LEDGER_KINDS[kind]
        for eq in equipment:
            back = int(rng.integers(1, months * 30)) + (months * 30 if rng.random() < overdue_share else 0)
            minutes = int(rng.integers(lo // 30, hi // 30 + 1)) * 30
            items.append(LedgerItem(f"L{len(items) + 1:05d}", eq, name, minutes, months, jan1 - timedelta(days=back)))
            if rng.random() < defect_share:
                due = jan1 + timedelta(days=int(rng.integers(0, 365)))
                items.append(LedgerItem(f"L{len(items) + 1:05d}", eq, "defect", int(rng.integers(2, 7)) * 30, due=due))
    return items


def synthetic_jobs(
    grid: Grid,
    n: int,
    *,
    start: datetime,
    days: int = 30,
    seed: int = 0,
    crews: int = 8,
    overlap_share: float = 0.3,
    night_share: float = 0.1,
) -> list[Job]:
    """``n`` jobs on ``grid`` spread over ``days`` from ``start`` (aware, local time of the grid).

    Equipment is drawn from RMUs, distribution rooms, lines and load-break
    switches outside substations; ``overlap_share`` of the jobs reuse the
    neighbourhood of an earlier job so that merging has something to find.
    Windows are 1-10 days inside working hours; durations 1-6 hours.
    """
    rng = np.random.default_rng(seed)
    g = grid
    pool = [x for kind in _equipment_pool(g).values() for x in kind]
    tz = g.timezone
    base = start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    jobs: list[Job] = []
    kinds = ["RMU maintenance", "cable test", "switch overhaul", "transformer service", "line repair"]
    for i in range(n):
        if jobs and rng.random() < overlap_share:
            ref = jobs[int(rng.integers(len(jobs)))]
            eq = ref.equipment[0]
            first_day = (ref.earliest - base).days + int(rng.integers(-2, 3))
        else:
            eq = str(pool[int(rng.integers(len(pool)))])
            first_day = int(rng.integers(0, max(1, days - 3)))
        first_day = min(max(first_day, 0), days - 1)
        span = int(rng.integers(1, 11))
        dur = int(rng.integers(2, 13)) * 30
        earliest = base + timedelta(days=first_day, hours=7)
        latest = base + timedelta(days=min(first_day + span, days), hours=19)
        crew = f"CREW{int(rng.integers(1, crews + 1))}" if rng.random() < 0.7 else None
        jobs.append(Job(f"J{i + 1:04d}", (eq,), dur, earliest, latest, crew, f"{kinds[i % len(kinds)]} at {eq}", "synthetic", bool(rng.random() < night_share)))
    return jobs
