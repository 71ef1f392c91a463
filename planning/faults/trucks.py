"""Generator trucks (发电车) for customers left out during a long repair.

The rule (seed): when the estimated repair exceeds ``generator_threshold_min``
and customers — of any grade — are still out after stage 2, trucks are sent.
A truck connects at a **block**:

* a dead healthy area (sections bounded by open switches; kind ``section``),
  through one of its cabinets (an RMU first, else a distribution room or pole
  transformer): it supplies every customer of the area;
* a distribution room, pole transformer or RMU with customers (its LV side),
  also inside the faulted section, except the faulted equipment itself.

Greedy: the block with important customers (any grade but ``normal``, without
own backup power unless ``generators_for_backup_power``) first, then the most
value per kW of truck — value = sum of importance weights of the customers
served (``normal`` weighs 1, so for ordinary customers it is their count) — with
the smallest truck left whose rating covers the block's peak demand over the
repair window (the profiles' loads every ``power_flow_step_min`` minutes).
A truck travels from its depot at ``generator_speed_kmh`` over the
straight-line distance (no road graph) and needs ``generator_setup_min`` on
site; a block whose truck could not supply it before the repair ends is
skipped. Important customers no block could cover keep the per-customer
proposal (the largest trucks left combined, with the shortfall stated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from planning.faults.network import CABINET_KINDS, SectionNet
from planning.faults.options import FaultOptions
from planning.fleet import Generator

CONNECT_PREFERENCE = ("rmu", "distribution_room", "pole_transformer")  # where a truck joins a dead area


@dataclass(frozen=True)
class Block:
    """Where a truck can connect: ``kind`` is ``section`` (a dead area) or a cabinet node kind."""

    id: str
    kind: str
    node: str  # the cabinet the truck connects at
    sections: tuple[str, ...]
    customers: tuple[str, ...]


@dataclass(frozen=True)
class TruckPlan:
    """One truck (or, for the fallback, several) at a block; times are aware datetimes, powers kW."""

    block: Block | None
    generators: tuple[Generator, ...]
    peak_kw: float
    travel_min: float
    arrival: datetime
    ready: datetime  # arrival + set-up: the block's customers have supply
    customers: tuple[str, ...]
    value: float


def blocks(net: SectionNet, dead_areas: list[tuple[tuple[str, ...], tuple[str, ...]]],
           faulted_area: tuple[str, ...], still_out: set[str], excluded_nodes: set[str]) -> list[Block]:
    """Candidate blocks: each healthy dead area ``(sections, customers)`` with a cabinet, and each
    cabinet node with customers out (in healthy dead areas or the faulted ones), but not ``excluded_nodes``."""
    out: list[Block] = []
    for secs, customers in dead_areas:
        nodes = net.nodes_of(list(secs))
        cabs = sorted((CONNECT_PREFERENCE.index(net.node_kind[n]), n) for n in nodes
                      if net.node_kind[n] in CONNECT_PREFERENCE and n not in excluded_nodes)
        cust = tuple(c for c in customers if c in still_out)
        if cabs and cust:
            out.append(Block(secs[0], "section", cabs[0][1], tuple(secs), cust))
    for secs in [s for s, _ in dead_areas] + [faulted_area]:
        for n in net.nodes_of(list(secs)):
            if net.node_kind[n] not in CABINET_KINDS or n in excluded_nodes:
                continue
            cust = tuple(c for c in net.node_customers.get(n, ()) if c in still_out)
            if cust:
                out.append(Block(n, net.node_kind[n], n, (net.sec_of_node[n],), cust))
    return out


def block_peak(loads: pd.DataFrame, customers: tuple[str, ...]) -> float:
    """The block's peak demand (kW): the largest sum of its customers' loads in one column of
    ``loads`` (customer x time, kW)."""
    if loads.empty or not customers:
        return 0.0
    return float(loads.loc[list(customers)].sum(axis=0).max())


def travel_min(grid: Any, depot: str | None, node: str, speed_kmh: float) -> float | None:
    """Whole minutes (rounded up) from the truck's depot to the node: great-circle distance / speed;
    None if the depot is unknown."""
    deps = grid.depots
    if depot is None or not len(deps) or depot not in set(deps["id"]):
        return None
    d = deps.set_index("id").geometry[depot]
    n = grid.nodes.set_index("id").geometry[node]
    return float(math.ceil(haversine_km(d.x, d.y, n.x, n.y) / speed_kmh * 60.0))


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (km) between two lon/lat points (degrees)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def plan_trucks(net: SectionNet, candidates: list[Block], *, times: list[datetime], dispatch: datetime,
                repair_end: datetime, options: FaultOptions) -> list[TruckPlan]:
    """Greedy choice of blocks and trucks (see the module docstring); one truck per block."""
    grid = net.grid
    pool = sorted(options.generators, key=lambda g: (g.kw, g.id))
    loads = pd.concat([grid.customer_load_kw(t) for t in times], axis=1) if times and candidates else pd.DataFrame()
    peaks = {b.id + "|" + b.kind: block_peak(loads, b.customers) for b in candidates}
    covered: set[str] = set()
    plans: list[TruckPlan] = []
    setup = timedelta(minutes=options.generator_setup_min)
    while pool:
        best: tuple[tuple[Any, ...], TruckPlan] | None = None
        for b in candidates:
            if covered.intersection(b.customers):
                continue
            served = [c for c in b.customers if options.generators_for_backup_power or not net.customers[c].backup_power]
            peak = peaks[b.id + "|" + b.kind]
            truck = next((g for g in pool if g.kw >= peak), None)
            if not served or truck is None:
                continue
            minutes = travel_min(grid, truck.depot_id, b.node, options.generator_speed_kmh) or 0.0
            arrival = dispatch + timedelta(minutes=minutes)
            if arrival + setup >= repair_end:
                continue
            value = sum(options.weight(net.customers[c].importance) for c in served)
            important = any(net.customers[c].importance != "normal" for c in served)
            key = (important, value / truck.kw, -truck.kw, b.id)
            if best is None or key > best[0]:
                best = (key, TruckPlan(b, (truck,), peak, minutes, arrival, arrival + setup, b.customers, value))
        if best is None:
            break
        plan = best[1]
        pool.remove(plan.generators[0])
        covered.update(plan.customers)
        plans.append(plan)
    return plans
