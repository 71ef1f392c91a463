"""Isolation and restoration after a fault — "lights first" (亮灯第一).

Starting state: the normal state with one device upstream of the fault open:
the breaker reported tripped; with calls only, the switch right above the
located section, below which supply was lost (it is opened to isolate the
section and never reclosed before the repair: nobody reported a trip); else the
nearest breaker or fuse, assumed tripped (its closing says so). Then:

* **Stage 1 (remote, seconds).** Grow the dead region from the faulted section
  across closed *manual* switches until it is bounded by remote-controlled
  switches, open ties and the tripped device; open those remote switches; then
  close, one at a time, every remote switch (the breaker, stage-1 isolators,
  ties) that restores something safely.
* **Stage 2 (manual, a crew).** Open the nearest switches around the faulted
  section itself (what :meth:`gis.Grid.isolate` would open) and again close
  whatever restores something safely, manual or remote.

"Safely" is checked for every closing step on the whole resulting state:
the faulted section stays dead (``grid.dead_nodes``), no two substations are
paralleled and no feeder exceeds its capacity at ``now`` less the margin
(``grid.check_state``). When a closing would overload its feeder, the step is
retried with one more switch opened inside the area it would pick up (a
smaller transfer), and with a greedy set of cuts that fits the headroom;
the safe split restoring the most weight wins. Choice among safe closings:
the one restoring the most importance-weighted customers (ties broken by
fewer transfers onto other feeders, then by id).

What stays dead gets a repair task and, past the generator threshold,
generator trucks for important customers; every event gets customer messages
and reliability figures.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gis import Grid, InputError, NotFoundError
from planning.faults.back import return_to_normal
from planning.faults.flow import FlowChecker
from planning.faults.flow import reason as flow_reason
from planning.faults.locate import (
    BASIS_CALLS,
    BASIS_TRIPPED,
    PROTECTIVE_KINDS,
    Candidate,
    _check_now,
)
from planning.faults.messages import Message, build_messages
from planning.faults.network import CABINET_KINDS, SectionNet, section_net
from planning.faults.options import FaultOptions
from planning.faults.reasons import Reason
from planning.faults.trucks import TruckPlan, blocks, plan_trucks, travel_min
from planning.fleet import Generator

log = logging.getLogger(__name__)

# how the device open at the start of the study is known (Restoration.tripped_basis)
TRIP_REPORTED = "reported"  # the caller reported it tripped
TRIP_ASSUMED = "assumed"  # nobody reported a trip: the nearest breaker or fuse upstream is assumed open
SUPPLY_LOST = "calls"  # calls only: supply was lost right below it; it is opened to isolate, never reclosed

SINGLE_CUTS = 3  # single-switch splits of an overloading transfer that are validated, best estimates first
FLOW_HALVINGS = 5  # times the headroom of a split is halved when the power flow refuses every split


# -- result types -------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One switching operation. ``location`` is the crew access point ``(lon, lat)`` (EPSG:4326)
    of the cabinet ``node`` holding the switch; ``time`` is when it is expected done."""

    seq: int
    action: str  # "open" | "close"
    switch: str
    remote: bool
    node: str
    location: tuple[float, float]
    time: datetime
    reason: str
    restores: tuple[str, ...] = ()  # customer ids this step gives supply back to
    feeder: str | None = None  # the feeder that carries what the step restores
    power_flow: dict[str, Any] | None = None  # the resulting state's power flow (closings; FlowChecker.summary)
    why: Reason | None = None  # ``reason`` as a code with parameters and texts in every language

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "action": self.action,
            "switch": self.switch,
            "remote": self.remote,
            "node": self.node,
            "location": {"lon": self.location[0], "lat": self.location[1]},
            "time": self.time.isoformat(),
            "reason": self.reason,
            "restores": list(self.restores),
            "feeder": self.feeder,
            "power_flow": self.power_flow,
            "why": None if self.why is None else self.why.to_json(),
        }


@dataclass(frozen=True)
class FeederLoading:
    feeder: str
    load_kw: float
    capacity_kw: float | None
    limit_kw: float | None

    @property
    def loading_pct(self) -> float | None:
        return None if not self.capacity_kw else 100.0 * self.load_kw / self.capacity_kw

    def to_json(self) -> dict[str, Any]:
        pct = self.loading_pct
        return {
            "feeder": self.feeder,
            "load_kw": round(self.load_kw, 1),
            "capacity_kw": None if self.capacity_kw is None else round(self.capacity_kw, 1),
            "limit_kw": None if self.limit_kw is None else round(self.limit_kw, 1),
            "loading_pct": None if pct is None else round(pct, 1),
        }


@dataclass(frozen=True)
class Stage:
    """One restoration stage: ``kind`` is ``"remote"`` or ``"manual"``."""

    kind: str
    steps: tuple[Step, ...]
    start: datetime
    end: datetime
    restored_customers: tuple[str, ...]
    still_out: tuple[str, ...]
    feeder_loading: tuple[FeederLoading, ...]
    notes: tuple[str, ...] = ()
    power_flow: dict[str, Any] | None = None  # of the state at the end of the stage
    rejected: tuple[tuple[str, str], ...] = ()  # (switch, reason) of closings refused at the end of the stage

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "steps": [s.to_json() for s in self.steps],
            "restored_customers": list(self.restored_customers),
            "still_out": list(self.still_out),
            "feeder_loading": [f.to_json() for f in self.feeder_loading],
            "notes": list(self.notes),
            "power_flow": self.power_flow,
            "rejected": [{"switch": s, "reason": r} for s, r in self.rejected],
        }


@dataclass(frozen=True)
class DeadArea:
    """A part of the grid still without supply after stage 2, and why."""

    sections: tuple[str, ...]
    nodes: tuple[str, ...]
    customers: tuple[str, ...]
    faulted: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"sections": list(self.sections), "nodes": list(self.nodes), "customers": list(self.customers),
                "faulted": self.faulted, "reason": self.reason}


@dataclass(frozen=True)
class RepairTask:
    """The repair of the faulted section: where the crew goes, what it needs, how long (minutes)."""

    sections: tuple[str, ...]
    equipment: str | None
    equipment_kind: str
    node: str
    location: tuple[float, float]
    skills: tuple[str, ...]
    duration_min: float
    start: datetime
    end: datetime
    isolation_switches: tuple[str, ...]
    customers_out: tuple[str, ...]
    dead_areas: tuple[DeadArea, ...]
    return_to_normal: tuple[tuple[str, str], ...]  # (action, switch) after the repair

    def to_json(self) -> dict[str, Any]:
        return {
            "sections": list(self.sections),
            "equipment": self.equipment,
            "equipment_kind": self.equipment_kind,
            "node": self.node,
            "location": {"lon": self.location[0], "lat": self.location[1]},
            "skills": list(self.skills),
            "duration_min": round(self.duration_min, 1),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "isolation_switches": list(self.isolation_switches),
            "customers_out": list(self.customers_out),
            "dead_areas": [d.to_json() for d in self.dead_areas],
            "return_to_normal": [{"action": a, "switch": s} for a, s in self.return_to_normal],
        }


@dataclass(frozen=True)
class GeneratorProposal:
    """Generator truck(s) at a block left out during a long repair (kW, aware datetimes).

    ``customer`` is the most important customer served; ``block`` (``None`` for a
    per-customer fallback) is where the truck connects, ``customers`` all it supplies,
    ``demand_kw`` the block's peak over the repair window, ``start`` = ``arrival`` +
    set-up (supply back), ``travel_min`` from the depot.
    """

    customer: str
    name: str
    importance: str
    demand_kw: float
    generators: tuple[str, ...]
    depots: tuple[str, ...]
    kw: float
    shortfall_kw: float
    start: datetime
    end: datetime
    note: str
    block: str | None = None
    block_kind: str | None = None
    node: str | None = None
    customers: tuple[str, ...] = ()
    arrival: datetime | None = None
    travel_min: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "block_kind": self.block_kind,
            "node": self.node,
            "customers": list(self.customers),
            "arrival": None if self.arrival is None else self.arrival.isoformat(),
            "travel_min": round(self.travel_min, 1),
            "customer": self.customer,
            "name": self.name,
            "importance": self.importance,
            "demand_kw": round(self.demand_kw, 1),
            "generators": list(self.generators),
            "depots": list(self.depots),
            "kw": round(self.kw, 1),
            "shortfall_kw": round(self.shortfall_kw, 1),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "note": self.note,
        }


@dataclass(frozen=True)
class Restoration:
    """Result of :func:`restore`; ``to_json()`` gives the documented contract (docs/faults.md)."""

    faulted_sections: tuple[str, ...]
    faulted_nodes: tuple[str, ...]
    equipment: str | None
    tripped: str
    time: datetime
    customers_out: tuple[str, ...]  # lost supply when the device tripped
    stages: tuple[Stage, ...]
    repair: RepairTask
    generators: tuple[GeneratorProposal, ...]
    messages: tuple[Message, ...]
    metrics: dict[str, Any]
    final_open: tuple[str, ...]  # switches open (normally closed) after stage 2
    final_closed: tuple[str, ...]  # normally-open switches closed after stage 2
    warnings: tuple[str, ...] = ()
    restored_at: dict[str, datetime] = field(default_factory=dict)
    return_stage: Stage | None = None  # after the repair: back to the normal state
    power_flow: dict[str, Any] | None = None  # the check's settings: times, limits, states solved
    tripped_basis: str = TRIP_REPORTED  # how ``tripped`` is known: TRIP_REPORTED, TRIP_ASSUMED or SUPPLY_LOST

    def switching_states(self) -> Iterator[tuple[Step, tuple[str, ...], tuple[str, ...]]]:
        """``(step, open, closed)`` after every switching step, from the tripped state through both
        stages and the return to normal: switches opened (normally closed) and closed (normally
        open) against the normal state, e.g. to replay them in another power-flow tool."""
        opened, closed = [self.tripped], list[str]()
        for stage in (*self.stages, *((self.return_stage,) if self.return_stage else ())):
            for s in stage.steps:
                if s.action == "open":
                    if s.switch in closed:
                        closed.remove(s.switch)
                    elif s.switch not in opened:  # (a device below which supply was lost is open already)
                        opened.append(s.switch)
                elif s.action == "close":
                    if s.switch in opened:
                        opened.remove(s.switch)
                    else:
                        closed.append(s.switch)
                else:
                    continue
                yield s, tuple(opened), tuple(closed)

    def to_json(self) -> dict[str, Any]:
        return {
            "faulted": {
                "sections": list(self.faulted_sections),
                "nodes": list(self.faulted_nodes),
                "equipment": self.equipment,
                "tripped": self.tripped,
                "tripped_basis": self.tripped_basis,
                "time": self.time.isoformat(),
                "customers_out": list(self.customers_out),
            },
            "stages": [s.to_json() for s in self.stages],
            "return_to_normal": None if self.return_stage is None else self.return_stage.to_json(),
            "power_flow": self.power_flow,
            "final_state": {"open": list(self.final_open), "closed": list(self.final_closed)},
            "repair": self.repair.to_json(),
            "generators": [g.to_json() for g in self.generators],
            "messages": [m.to_json() for m in self.messages],
            "metrics": self.metrics,
            "warnings": list(self.warnings),
        }


# -- the study state ---------------------------------------------------------------------------


class _UnionFind:
    """Disjoint sets of section ids (path halving)."""

    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {x: x for x in items}

    def find(self, x: str) -> str:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


@dataclass
class _Eval:
    switch: str
    ok: bool
    restored_nodes: frozenset[str]
    customers: tuple[str, ...]
    value: float
    feeder: str | None
    reason: str  # why rejected ("" when ok)
    overload: bool = False  # too much load for the feeder head or (flow_failed) for the power flow
    split: tuple[str, ...] = ()  # switches opened first to make the transfer fit
    flow_failed: bool = False
    power_flow: dict[str, Any] | None = None  # FlowChecker.summary of the resulting state


class _Study:
    """Switch state during restoration: ``open`` (normally closed, now open), ``close`` (ties closed)."""

    def __init__(self, grid: Grid, net: SectionNet, faulted_nodes: frozenset[str], now: datetime,
                 options: FaultOptions, flow: FlowChecker) -> None:
        self.grid = grid
        self.flow = flow
        self.net = net
        self.fn = faulted_nodes
        self.now = now
        self.options = options
        self.open: list[str] = []
        self.close: list[str] = []
        self.tripped: str | None = None  # the device open at the start (see _Fault)
        self.tripped_basis = TRIP_REPORTED
        self.node_customers = net.node_customers
        self.load_kw = grid.customer_load_kw(now).to_dict()
        caps = grid.feeders.set_index("id")["capacity_kw"]
        self.capacity_kw: dict[str, float | None] = {
            str(f): (None if v is None or v != v else float(v)) for f, v in caps.items()}

    def dead(self, open_: list[str] | None = None, close: list[str] | None = None) -> set[str]:
        return self.grid.dead_nodes(open_switches=self.open if open_ is None else open_,
                                    close_switches=self.close if close is None else close)

    def is_open(self, s: str) -> bool:
        info = self.net.switches[s]
        return s in self.open or (info.normally_open and s not in self.close)

    def closed_state(self, s: str, open_: list[str], close: list[str]) -> tuple[list[str], list[str]]:
        if s in open_:
            return [x for x in open_ if x != s], close
        return open_, close + [s]

    def customers_of_nodes(self, nodes: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(c for n in nodes for c in self.node_customers.get(n, ())))

    def value(self, customers: Iterable[str]) -> float:
        return sum(self.options.weight(self.net.customers[c].importance) for c in customers)

    def evaluate_close(self, s: str, dead_before: set[str], *, split: tuple[str, ...] = ()) -> _Eval:
        open_, close = list(self.open), list(self.close)
        open_.extend(split)
        open_, close = self.closed_state(s, open_, close)
        dead_after = self.dead(open_, close)
        restored = frozenset(dead_before - dead_after)
        if not restored:
            return _Eval(s, False, restored, (), 0.0, None, "restores nothing")
        if self.fn - dead_after:
            return _Eval(s, False, restored, (), 0.0, None, "would re-energise the faulted section")
        customers = self.customers_of_nodes(restored)
        some = next(iter(sorted(restored)))
        feeder = self.grid.feeder_of(some, open_switches=open_, close_switches=close)
        chk = self.grid.check_state(open_switches=open_, close_switches=close, at=self.now,
                                    margin=self.options.capacity_margin)
        if chk.paralleled:
            _, sa, sb = chk.paralleled[0]
            return _Eval(s, False, restored, customers, 0.0, feeder,
                         f"would parallel substations {sa} and {sb}")
        # a closing adds load to one feeder only: the one that picks up the restored area
        overloads = [o for o in chk.overloads if o[0] == feeder]
        if overloads:
            f, kw, limit = overloads[0]
            return _Eval(s, False, restored, customers, 0.0, feeder,
                         f"would overload feeder {f} ({kw:.0f} kW > limit {limit:.0f} kW at {self.now:%H:%M})",
                         overload=True)
        flow = self.flow.check(open_, close)
        if flow is not None and not flow.ok:
            return _Eval(s, False, restored, customers, 0.0, feeder, flow_reason(flow), overload=True,
                         flow_failed=True, split=split)
        return _Eval(s, True, restored, customers, self.value(customers), feeder, "", split=split,
                     power_flow=self.flow.summary(flow))

    def candidates(self, dead: set[str], allowed: Any) -> list[str]:
        """Open switches with one end live and the other dead (the only closings that can restore)."""
        out = []
        for s, info in self.net.switches.items():
            if not self.is_open(s) or not allowed(info):
                continue
            if (info.from_node in dead) != (info.to_node in dead):
                out.append(s)
        return sorted(out)

    def headroom_kw(self, ev: _Eval) -> float:
        """Capacity x (1 - margin) less the load at ``now`` (kW) of the feeder that would pick up the
        area; NaN when its capacity is unknown, and then the whole area when the power flow refused it."""
        cap = self.capacity_kw.get(ev.feeder) if ev.feeder is not None else None
        if cap is None:
            return sum(self.load_kw[c] for c in ev.customers) if ev.flow_failed else float("nan")
        load_now = self.grid.feeder_load_kw(self.now, open_switches=self.open, close_switches=self.close)
        return cap * (1 - self.options.capacity_margin) - float(load_now.get(ev.feeder, 0.0))

    def split_options(self, ev: _Eval, allowed: Any, *, headroom_kw: float | None = None) -> list[tuple[str, ...]]:
        """Ways to shrink a transfer that overloads its feeder, most promising first.

        The area the closing would pick up is split into *blocks* joined by the
        closed switches this stage may open. Candidates: each single cut whose
        remaining part (the blocks still joined to the closing switch) fits the
        feeder's headroom at ``now`` — the :data:`SINGLE_CUTS` restoring the most
        weight — plus a greedy multi-cut: from the block at the closing switch,
        add the adjacent block with the most weight per kW that still fits, until
        none fits. Estimates only; every option is validated by :meth:`evaluate_close`.
        ``headroom_kw`` replaces the feeder's headroom at ``now`` (kW), e.g. a share of
        the area's load when the power flow, not the feeder head, refused the closing.
        """
        headroom = self.headroom_kw(ev) if headroom_kw is None else headroom_kw
        if headroom != headroom:  # NaN: unknown capacity
            return []
        area = _Blocks(self, ev, allowed)
        if area.load.get(area.entry, 0.0) > headroom:
            return []
        out: list[tuple[str, ...]] = [(sw,) for sw in area.single_cuts(headroom)[:SINGLE_CUTS]]
        cuts = area.greedy_cuts(headroom)
        if cuts and cuts not in out:
            out.append(cuts)
        return out


class _Blocks:
    """The area a closing would pick up (:meth:`_Study.split_options`), as blocks of sections
    joined by the closed switches the stage may not open; ``edges``: the switches it may open
    between blocks; ``entry``: the block at the closing switch; ``load`` (kW at ``now``) and
    ``value`` (importance weight) per block."""

    def __init__(self, st: _Study, ev: _Eval, allowed: Any) -> None:
        net = st.net
        secs = {net.sec_of_node[n] for n in ev.restored_nodes}
        blocks = _UnionFind(secs)
        cut_edges: list[tuple[str, str, str]] = []
        for sw, info in net.switches.items():
            if info.sec_a in secs and info.sec_b in secs and info.sec_a != info.sec_b and not st.is_open(sw):
                if allowed(info):
                    cut_edges.append((sw, info.sec_a, info.sec_b))
                else:
                    blocks.union(info.sec_a, info.sec_b)
        info = net.switches[ev.switch]
        self.entry = blocks.find(info.sec_a if info.sec_a in secs else info.sec_b)
        self.load: dict[str, float] = {}
        self.value: dict[str, float] = {}
        for sec in secs:
            b = blocks.find(sec)
            cs = net.customers_of[sec]
            self.load[b] = self.load.get(b, 0.0) + sum(st.load_kw[c] for c in cs)
            self.value[b] = self.value.get(b, 0.0) + st.value(cs)
        self.edges = [(sw, blocks.find(a), blocks.find(b)) for sw, a, b in cut_edges]
        self.adj: dict[str, list[tuple[str, str]]] = {}
        for sw, a, b in self.edges:
            self.adj.setdefault(a, []).append((sw, b))
            self.adj.setdefault(b, []).append((sw, a))

    def part(self, without: set[str]) -> set[str]:
        """The blocks still joined to the entry when the switches ``without`` are open."""
        seen = {self.entry}
        todo = [self.entry]
        while todo:
            x = todo.pop()
            for sw, y in self.adj.get(x, ()):
                if sw not in without and y not in seen:
                    seen.add(y)
                    todo.append(y)
        return seen

    def single_cuts(self, headroom: float) -> list[str]:
        """Switches whose opening alone leaves a part within ``headroom`` (kW), most weight kept first."""
        singles = []
        for sw, _, _ in self.edges:
            kept = self.part({sw})
            if sum(self.load[b] for b in kept) <= headroom:
                singles.append((sum(self.value[b] for b in kept), sw))
        singles.sort(key=lambda x: (-x[0], x[1]))
        return [sw for _, sw in singles]

    def greedy_cuts(self, headroom: float) -> tuple[str, ...]:
        """From the entry, take the adjacent block with the most weight per kW that still fits
        ``headroom`` (kW) until none fits; the switches around what was taken."""
        taken = {self.entry}
        used = self.load.get(self.entry, 0.0)
        while True:
            frontier = [y for _, a, b in self.edges for y in (a, b)
                        if ((a in taken) != (b in taken)) and y not in taken and used + self.load[y] <= headroom]
            if not frontier:
                break
            nb = max(frontier, key=lambda x: (self.value[x] / max(self.load[x], 1e-6), x))
            taken.add(nb)
            used += self.load[nb]
        return tuple(sorted({sw for sw, a, b in self.edges if (a in taken) != (b in taken)}))


# -- the algorithm ----------------------------------------------------------------------------


def _resolve_faulted(net: SectionNet, faulted: str | Candidate | Iterable[str]) -> tuple[list[str], str | None]:
    if isinstance(faulted, Candidate):
        return [faulted.section], None
    ids = [faulted] if isinstance(faulted, str) else list(faulted)
    if not ids:
        raise InputError("no faulted section given", code="no_equipment")
    secs: list[str] = []
    for e in ids:
        kind = net.grid.equipment_kind(e) if e not in net.sections else "section"
        if kind is None:
            raise NotFoundError(f"unknown equipment id: {e}", code="unknown_equipment", details={"id": e})
        if kind not in ("node", "line", "switch", "section"):
            raise InputError(f"{e} is a {kind}, not grid equipment (node, line, switch or section id)",
                             code="not_equipment", details={"id": e})
        for sec in net.section_of_equipment(e):
            if net.tree.is_source(sec):
                sub = net.grid.nodes.set_index("id")["substation_id"].get(net.sections[sec].nodes[0])
                raise InputError(
                    f"{e} is on the busbar of substation {sub}: a busbar fault is cleared inside the "
                    "substation and cannot be isolated by distribution switching; treat each feeder of "
                    "the busbar as lost and restore it through its ties (--section on its first section)",
                    code="busbar_fault", details={"id": e, "substation": sub},
                )
            if sec not in secs:
                secs.append(sec)
    equipment = ids[0] if len(ids) == 1 and ids[0] not in net.sections else None
    return secs, equipment


def _equipment_kind(net: SectionNet, secs: list[str], equipment: str | None) -> str:
    if equipment is not None:
        if equipment in net.line_kind:
            return net.line_kind[equipment]
        if equipment in net.node_kind:
            return net.node_kind[equipment]
        if equipment in net.switches:
            return "switch"
    kinds = [net.line_kind[ln] for s in secs for ln in net.sections[s].lines]
    if "cable" in kinds:
        return "cable"
    if "overhead" in kinds:
        return "overhead"
    nk = [net.node_kind[n] for s in secs for n in net.sections[s].nodes]
    for k in ("rmu", "distribution_room", "pole_transformer", "junction"):
        if k in nk:
            return k
    return "default"


def restore(
    grid: Grid,
    faulted_section: str | Candidate | Iterable[str],
    *,
    now: datetime,
    options: FaultOptions | None = None,
    tripped_breaker: str | None = None,
    crew_eta: datetime | None = None,
    outage_device: str | None = None,
) -> Restoration:
    """Isolate a faulted section and restore every healthy customer that can be restored.

    Parameters
    ----------
    grid
        The grid; its normal state is the state before the fault.
    faulted_section
        A :class:`~planning.faults.Candidate`, a section id (``section:...``) or an
        equipment id (node, line or switch; a switch faults the sections on both sides).
    now
        Timezone-aware fault time; feeder-head checks take loads at this time, the
        power flow every ``power_flow_step_min`` from now to the expected end of
        the repair and switching back.
    options
        :class:`FaultOptions` (durations in minutes, capacity margin, generator fleet ...).
    tripped_breaker
        The breaker (or fuse) reported tripped: it starts open and stage 1 may
        reclose it. Default: a :class:`Candidate`'s reported breaker or, for a
        calls-only candidate, its ``outage_device`` (see below); else the nearest
        breaker or fuse upstream of the fault is *assumed* open, and any step
        closing it says that no trip was reported.
    crew_eta
        When the first crew is expected on site (from routing); default
        ``now + remote stage + options.crew_arrival_min``.
    outage_device
        Calls only (no reported trip): the switch right above the faulted section
        below which supply was lost (default: a calls-only candidate's). Only what
        hangs below it is out; it is opened to isolate the section (remote in stage 1,
        else by the crew) and never reclosed before the repair.

    Returns
    -------
    Restoration
        Stages with switching steps, repair task, generator proposals, the
        return to the normal state, customer messages and reliability metrics.

    Raises
    ------
    gis.InputError
        A busbar fault, a naive time, equipment that is not grid equipment, a
        breaker that does not feed the faulted section, an ``outage_device`` that is
        not the switch right above it.
    gis.NotFoundError
        Unknown equipment or breaker ids.
    """
    _check_now(now)
    if crew_eta is not None:
        _check_now(crew_eta)
    options = options or FaultOptions()
    net = section_net(grid)
    fault = _resolve(grid, net, faulted_section, tripped_breaker, outage_device, options)
    flow = _flow_checker(grid, now=now, crew_eta=crew_eta, n_isolation=len(fault.isolation),
                         duration_min=fault.duration_min, options=options)
    st = _Study(grid, net, frozenset(net.nodes_of(fault.sections)), now, options, flow)
    st.open = [fault.tripped]
    st.tripped, st.tripped_basis = fault.tripped, fault.basis
    customers_out = st.customers_of_nodes(st.dead())
    clock = _Clock(net, timedelta(seconds=options.remote_switching_s), timedelta(minutes=options.manual_switching_min))
    restored_at: dict[str, datetime] = {}
    confirm = fault.to_confirm
    remote_confirm = confirm is not None and net.switches[confirm].remote
    stage1 = _stage_remote(st, fault.sections, fault.path, fault.tripped, now, clock, customers_out, restored_at,
                           confirm=confirm if remote_confirm else None)
    crew_on_site = max(crew_eta if crew_eta is not None else stage1.end + timedelta(minutes=options.crew_arrival_min),
                       stage1.end)
    stage2, isolated_at = _stage_manual(st, fault.sections, fault.isolation, fault.tripped, crew_on_site, clock,
                                        customers_out, stage1, restored_at,
                                        confirm=None if remote_confirm else confirm)
    if st.dead() & st.fn != st.fn:  # pragma: no cover - guarded by every step
        raise AssertionError("faulted section energised")
    return _after_isolation(st, fault, clock, (stage1, stage2), isolated_at=isolated_at, crew_eta=crew_eta,
                            customers_out=customers_out, restored_at=restored_at)


@dataclass(frozen=True)
class _Fault:
    """A restoration request resolved on the grid: the faulted sections, the equipment and its kind,
    the repair time (minutes), the device that tripped, the closed switches from the substation to
    the fault and the nearest switches isolating it."""

    sections: list[str]
    equipment: str | None
    kind: str
    duration_min: float
    tripped: str
    path: list[str]
    isolation: tuple[str, ...]
    basis: str = TRIP_REPORTED  # how ``tripped`` is known (TRIP_REPORTED, TRIP_ASSUMED, SUPPLY_LOST)

    @property
    def to_confirm(self) -> str | None:
        """The device below which supply was lost (calls only): open in the study from the start,
        but a crew (or telecontrol) still has to open it to isolate the section."""
        return self.tripped if self.basis == SUPPLY_LOST else None


def _resolve(grid: Grid, net: SectionNet, faulted_section: str | Candidate | Iterable[str], tripped_breaker: str | None,
             outage_device: str | None, options: FaultOptions) -> _Fault:
    secs, equipment = _resolve_faulted(net, faulted_section)
    if isinstance(faulted_section, Candidate) and tripped_breaker is None and outage_device is None:
        if faulted_section.outage_basis == BASIS_TRIPPED:
            tripped_breaker = faulted_section.outage_device
        elif faulted_section.outage_basis == BASIS_CALLS:
            outage_device = faulted_section.outage_device
    tripped, path, basis = _tripped_device(net, secs, tripped_breaker, outage_device)
    kind = _equipment_kind(net, secs, equipment)
    iso = grid.isolate([net.sections[s].nodes[0] for s in secs])
    return _Fault(secs, equipment, kind, options.repair_minutes(kind), tripped, path, iso.switches, basis)


def _after_isolation(st: _Study, fault: _Fault, clock: _Clock, stages: tuple[Stage, Stage], *, isolated_at: datetime,
                     crew_eta: datetime | None, customers_out: tuple[str, ...],
                     restored_at: dict[str, datetime]) -> Restoration:
    """The repair, generator trucks, the way back to normal, messages and metrics once the
    faulted section is isolated (``isolated_at``) and the healthy part restored (``stages``)."""
    net, options, now = st.net, st.options, st.now
    stage1, stage2 = stages
    repair_end = isolated_at + timedelta(minutes=fault.duration_min)  # the repair starts once the fault is isolated
    dead_areas = _dead_areas(st, st.dead(), set(fault.sections), [f"{s}: {r}" for s, r in stage2.rejected])
    still_out = stage2.still_out
    trucks, gens, warnings = _trucks(st, fault.sections, dead_areas, still_out, fault.duration_min, stage1.end,
                                     repair_end)
    final_open, final_closed, faulted_nodes = tuple(st.open), tuple(st.close), tuple(sorted(st.fn))
    back = _stage_return(st, clock, max(repair_end, stage2.end), trucks, customers_out, restored_at)
    final_time = max([restored_at[c] for c in customers_out], default=back.end)  # the last one back on the grid
    grid_restored_at = dict(restored_at)
    _truck_supply(gens, restored_at)
    node = _repair_node(net, fault.sections, fault.isolation)
    repair = RepairTask(
        sections=tuple(fault.sections), equipment=fault.equipment, equipment_kind=fault.kind, node=node,
        location=net.node_location(node), skills=_skills(fault.kind), duration_min=fault.duration_min,
        start=isolated_at, end=repair_end, isolation_switches=tuple(sorted(fault.isolation)),
        customers_out=still_out, dead_areas=dead_areas,
        return_to_normal=tuple((s.action, s.switch) for s in back.steps if s.action in ("open", "close")),
    )
    metrics = _metrics(net, st, customers_out, grid_restored_at, stages, now, final_time, restored_at, options)
    messages = build_messages(net, now=now, customers_out=customers_out, stages=stages, crew_eta=crew_eta,
                              crew_dispatch=stage1.end, final_time=final_time, still_out=still_out)
    log.info("restore %s: %d out, %d after stage 1, %d after stage 2; %d power flows", ",".join(fault.sections),
             len(customers_out), len(stage1.still_out), len(still_out), st.flow.solved)
    return Restoration(
        faulted_sections=tuple(fault.sections), faulted_nodes=faulted_nodes, equipment=fault.equipment,
        tripped=fault.tripped, time=now, customers_out=customers_out, stages=stages, repair=repair,
        generators=gens, messages=tuple(messages), metrics=metrics, final_open=final_open,
        final_closed=final_closed, warnings=tuple(warnings + list(back.notes)), restored_at=restored_at,
        return_stage=back, power_flow=_flow_settings(st.flow), tripped_basis=fault.basis,
    )


class _Clock:
    """Step numbering and durations of switching operations (remote / manual)."""

    def __init__(self, net: SectionNet, remote: timedelta, manual: timedelta) -> None:
        self.net, self.remote, self.manual, self.seq = net, remote, manual, 0

    def op(self, switch: str) -> timedelta:
        return self.remote if self.net.switches[switch].remote else self.manual

    def step(self, action: str, s: str, t: datetime, why: Reason, ev: _Eval | None = None) -> Step:
        info = self.net.switches[s]
        self.seq += 1
        return Step(self.seq, action, s, info.remote, info.node, self.net.node_location(info.node), t, why.text,
                    ev.customers if ev else (), ev.feeder if ev else None, ev.power_flow if ev else None, why)

    def truck(self, plan: TruckPlan, t: datetime) -> Step:
        """Disconnecting a truck at its block (``switch`` is the truck's id)."""
        node = plan.block.node if plan.block is not None else ""
        self.seq += 1
        why = Reason("step_disconnect_generator")
        return Step(self.seq, "disconnect_generator", ",".join(g.id for g in plan.generators), False, node,
                    self.net.node_location(node) if node else (0.0, 0.0), t, why.text, why=why)


def _tripped_device(net: SectionNet, secs: list[str], tripped_breaker: str | None,
                    outage_device: str | None = None) -> tuple[str, list[str], str]:
    """The device open at the start — reported tripped, the one below which calls say supply was lost,
    or (assumed) the nearest breaker/fuse upstream —, the path to the top section and the basis."""
    top = min(secs, key=lambda s: len(net.tree.path_switches(s)))
    path = net.tree.path_switches(top)
    if not path:
        raise InputError(f"{', '.join(secs)} has no supply in the normal state: nothing trips, nothing to restore",
                         code="not_energised")
    if tripped_breaker is None and outage_device is not None:
        if outage_device not in net.switches:
            raise NotFoundError(f"unknown switch id: {outage_device}", code="unknown_switch",
                                details={"id": outage_device})
        if outage_device != path[-1]:
            raise InputError(f"{outage_device} is not the switch right above the faulted section {top} "
                             f"(that is {path[-1]})", code="outage_device_not_above",
                             details={"id": outage_device, "section": top, "expected": path[-1]})
        return outage_device, path, SUPPLY_LOST
    if tripped_breaker is None:
        prot = [s for s in path if net.switches[s].kind in PROTECTIVE_KINDS]
        return (prot[-1] if prot else path[0]), path, TRIP_ASSUMED
    if tripped_breaker not in net.switches:
        raise NotFoundError(f"unknown breaker id: {tripped_breaker}", code="unknown_breaker",
                            details={"id": tripped_breaker})
    if tripped_breaker not in path:
        raise InputError(f"breaker {tripped_breaker} does not feed the faulted section {top}",
                         code="breaker_not_upstream", details={"id": tripped_breaker, "section": top})
    return tripped_breaker, path, TRIP_REPORTED


def _flow_checker(grid: Grid, *, now: datetime, crew_eta: datetime | None, n_isolation: int, duration_min: float,
                  options: FaultOptions) -> FlowChecker:
    """Power-flow check from ``now`` to the expected end of the switching back: crew arrival
    (``crew_eta`` or ``crew_arrival_min``), one manual operation per isolation switch, the repair,
    and three manual operations more (switching back)."""
    arrive = crew_eta if crew_eta is not None else now + timedelta(minutes=options.crew_arrival_min)
    end = max(arrive, now) + timedelta(minutes=options.manual_switching_min * (n_isolation + 3) + duration_min)
    return FlowChecker.window(grid, start=now, end=end, step_min=options.power_flow_step_min,
                              limits=options.power_flow_limits, enabled=options.power_flow)


def _flow_settings(flow: FlowChecker) -> dict[str, Any]:
    return {"enabled": flow.enabled, "from": flow.times[0].isoformat(), "to": flow.times[-1].isoformat(),
            "times": len(flow.times), "limits": flow.limits.to_dict(), "states_solved": flow.solved}


def _stage_summary(st: _Study) -> dict[str, Any] | None:
    return st.flow.summary(st.flow.check(st.open, st.close))


def _confirm_reason(switch: str) -> Reason:
    return Reason("step_isolate_located", {"switch": switch})


def _stage_remote(st: _Study, secs: list[str], path: list[str], tripped: str, now: datetime, clock: _Clock,
                  customers_out: tuple[str, ...], restored_at: dict[str, datetime], *,
                  confirm: str | None = None) -> Stage:
    """Stage 1: open the remote switches bounding the dead region around the fault (``confirm`` first:
    the remote switch below which calls say supply was lost), then close every remote switch that
    restores something safely."""
    remote_open = _remote_boundary(st, secs)
    t = now
    steps: list[Step] = []
    if confirm is not None:
        t += clock.remote
        steps.append(clock.step("open", confirm, t, _confirm_reason(confirm)))
    for s in remote_open:
        t += clock.remote
        st.open.append(s)
        side = "upstream" if s in path else "downstream"
        steps.append(clock.step("open", s, t, Reason(f"step_isolate_remote_{side}")))
    t, closes, rejected = _restore_loop(st, lambda info: info.remote, t, clock)
    steps.extend(closes)
    _mark_restored(closes, restored_at)
    notes: list[str] = []
    if not remote_open and not closes and confirm is None:
        notes.append("no remote-controlled switch around the fault: nothing can be done before a crew arrives")
    elif not closes:
        notes.append("remote isolation done, but no remote closing restores anything safely")
    notes.extend(f"{s}: {r}" for s, r in rejected)
    return Stage("remote", tuple(steps), now, t, tuple(c for c in customers_out if c in restored_at),
                 st.customers_of_nodes(st.dead()), _loading(st, steps, tripped), tuple(dict.fromkeys(notes)),
                 _stage_summary(st), tuple(rejected))


def _remote_boundary(st: _Study, secs: list[str]) -> list[str]:
    """The closed remote-controlled switches around the region grown from the faulted sections
    across closed manual switches (never into a substation), upstream first."""
    net = st.net
    region = set(secs)
    frontier = list(secs)
    remote_open: list[str] = []
    while frontier:
        sec = frontier.pop()
        for s in sorted(net.switches_of[sec]):
            info = net.switches[s]
            other = info.other(sec)
            if other in region or st.is_open(s):
                continue
            if info.remote:
                if s not in remote_open:
                    remote_open.append(s)
            elif not net.tree.is_source(other):
                region.add(other)
                frontier.append(other)
    depth = {s: len(net.tree.path_switches(net.switches[s].sec_a)) for s in remote_open}
    return sorted(remote_open, key=lambda s: (depth[s], s))


def _stage_manual(st: _Study, secs: list[str], isolation: Iterable[str], tripped: str, crew_on_site: datetime,
                  clock: _Clock, customers_out: tuple[str, ...], stage1: Stage,
                  restored_at: dict[str, datetime], *, confirm: str | None = None) -> tuple[Stage, datetime]:
    """Stage 2: the crew opens the nearest switches around the faulted section (upstream first;
    ``confirm``, the manual switch below which calls say supply was lost, is open in the study
    already but not yet on site), then any switch whose closing restores something safely closes.
    Returns the stage and when the faulted section was isolated (the repair may start)."""
    net = st.net
    boundary = [s for s in isolation if not st.is_open(s) or s == confirm]
    depth = {s: len(net.tree.path_switches(net.switches[s].sec_a)) for s in boundary}
    boundary.sort(key=lambda s: (depth[s], s))
    t = crew_on_site
    steps: list[Step] = []
    for s in boundary:
        t += clock.op(s)
        if s == confirm:
            steps.append(clock.step("open", s, t, _confirm_reason(s)))
            continue
        st.open.append(s)
        steps.append(clock.step("open", s, t, Reason("step_isolate_section")))
    isolated_at = t
    t, closes, rejected = _restore_loop(st, lambda info: True, t, clock)
    steps.extend(closes)
    _mark_restored(closes, restored_at)
    restored = tuple(c for c in customers_out if c in restored_at and c not in stage1.restored_customers)
    stage = Stage("manual", tuple(steps), crew_on_site, t if steps else crew_on_site, restored,
                  st.customers_of_nodes(st.dead()), _loading(st, list(stage1.steps) + steps, tripped),
                  tuple(dict.fromkeys(f"{s}: {r}" for s, r in rejected)), _stage_summary(st), tuple(rejected))
    return stage, isolated_at


def _mark_restored(steps: Iterable[Step], restored_at: dict[str, datetime]) -> None:
    for s in steps:
        for c in s.restores:
            restored_at.setdefault(c, s.time)


def _repair_node(net: SectionNet, secs: list[str], isolation: tuple[str, ...] | list[str]) -> str:
    cab = [n for n in net.nodes_of(secs) if net.node_kind[n] in CABINET_KINDS]
    return cab[0] if cab else (net.switches[isolation[0]].node if isolation else net.nodes_of(secs)[0])


def _skills(kind: str) -> tuple[str, ...]:
    if kind in ("cable", "junction"):
        return ("cable", "switching")
    if kind in ("overhead", "pole_transformer"):
        return ("overhead", "switching")
    return ("switching",)


def _stage_return(st: _Study, clock: _Clock, start: datetime, trucks: list[TruckPlan],
                  customers_out: tuple[str, ...], restored_at: dict[str, datetime]) -> Stage:
    """After the repair: back to the normal state (:func:`planning.faults.back.return_to_normal`)."""
    steps, notes, end = return_to_normal(st, start=start, remote=clock.remote, manual=clock.manual,
                                         make_step=clock.step, trucks=trucks, truck_step=clock.truck)
    first = {c for c in customers_out if c not in restored_at}
    _mark_restored(steps, restored_at)
    dead = st.customers_of_nodes(st.dead())
    for c in customers_out:  # a customer still dark in the normal state (no supply path at all)
        restored_at.setdefault(c, end)
    return Stage("return", tuple(steps), start, end, tuple(c for c in customers_out if c in first),
                 dead, _loading(st, steps, steps[0].feeder or "" if steps else ""), tuple(notes),
                 _stage_summary(st), ())


def _truck_supply(gens: tuple[GeneratorProposal, ...], restored_at: dict[str, datetime]) -> None:
    """Customers a truck supplies in full have supply from its ``start`` (arrival + set-up) when earlier."""
    for g in gens:
        if g.generators and g.shortfall_kw == 0:
            for c in g.customers or (g.customer,):
                if c in restored_at:
                    restored_at[c] = min(restored_at[c], g.start)


def _trucks(st: _Study, secs: list[str], dead_areas: tuple[DeadArea, ...],
            still_out: tuple[str, ...], duration: float, dispatch: datetime,
            repair_end: datetime) -> tuple[list[TruckPlan], tuple[GeneratorProposal, ...], list[str]]:
    """The generator rule: trucks at blocks for customers out during a repair longer than the threshold."""
    net, options = st.net, st.options
    if duration <= options.generator_threshold_min or not still_out:
        return [], (), []
    # the grid model is medium voltage: a faulted cabinet's LV side can still take a truck
    excluded: set[str] = set()
    healthy = [(d.sections, d.customers) for d in dead_areas if not d.faulted]
    faulted_secs = tuple(s for d in dead_areas if d.faulted for s in d.sections)
    cands = blocks(net, healthy, faulted_secs, set(still_out), excluded)
    times = [t for t in st.flow.times if dispatch <= t <= repair_end] or [dispatch]
    plans = plan_trucks(net, cands, times=times, dispatch=dispatch, repair_end=repair_end, options=options)
    fallback, warnings = _uncovered(net, plans, still_out, duration, dispatch, repair_end, options)
    proposals = [_proposal(net, p, duration, repair_end, options) for p in plans]
    return plans, tuple(proposals) + fallback, warnings


def _uncovered(net: SectionNet, plans: list[TruckPlan], still_out: tuple[str, ...], duration: float,
               dispatch: datetime, repair_end: datetime,
               options: FaultOptions) -> tuple[tuple[GeneratorProposal, ...], list[str]]:
    """:func:`_generators` for the customers no truck at a block covers, from the trucks left."""
    used = {g.id for p in plans for g in p.generators}
    covered = {c for p in plans for c in p.customers}
    left = tuple(c for c in still_out if c not in covered)
    rest = options.with_(generators=tuple(g for g in options.generators if g.id not in used))
    return _generators(net, left, duration, dispatch, repair_end, rest)


def _proposal(net: SectionNet, plan: TruckPlan, duration: float, repair_end: datetime,
              options: FaultOptions) -> GeneratorProposal:
    block = plan.block
    assert block is not None
    top = min(plan.customers, key=lambda c: (-options.weight(net.customers[c].importance),
                                             -net.customers[c].demand_kw, c))
    info = net.customers[top]
    g = plan.generators
    note = (f"repair estimated {duration:.0f} min > {options.generator_threshold_min:.0f} min: "
            f"{len(plan.customers)} customer(s) at {block.kind} {block.id}, peak {plan.peak_kw:.0f} kW")
    return GeneratorProposal(
        top, info.name, info.importance, plan.peak_kw, tuple(x.id for x in g),
        tuple(sorted({x.depot_id for x in g if x.depot_id})), sum(x.kw for x in g), 0.0, plan.ready, repair_end,
        note, block=block.id, block_kind=block.kind, node=block.node, customers=plan.customers,
        arrival=plan.arrival, travel_min=plan.travel_min)


def _restore_loop(st: _Study, allowed: Any, t: datetime,
                  clock: _Clock) -> tuple[datetime, list[Step], list[tuple[str, str]]]:
    """Close safe switches one at a time until nothing more can be restored.

    Returns the time after the last step, the steps, and ``(switch, reason)`` for
    every closing refused on the way and not made later (the last reason).
    """
    steps: list[Step] = []
    refused: dict[str, str] = {}  # every refusal met on the way (the last reason), until the switch closes
    while True:
        dead = st.dead()
        cands = st.candidates(dead, allowed)
        evals = [st.evaluate_close(s, dead) for s in cands]
        refused.update((e.switch, e.reason) for e in evals if not e.ok and e.reason != "restores nothing")
        ok = [e for e in evals if e.ok] or _split_closings(st, evals, dead, allowed)
        if not ok:
            return t, steps, sorted(refused.items())
        # most weight first; then reclosing our own switches before new transfers; then by id
        best = min(ok, key=lambda e: (-e.value, e.switch not in st.open, e.switch, len(e.split)))
        refused.pop(best.switch, None)
        for cut in best.split:
            t += clock.op(cut)
            st.open.append(cut)
            steps.append(clock.step("open", cut, t, Reason("step_split", {"switch": best.switch})))
        t += clock.op(best.switch)
        if best.switch in st.open:
            st.open.remove(best.switch)
            code = _reclose_code(st, best.switch)
        else:
            st.close.append(best.switch)
            code = "step_close_tie"
        params = {"switch": best.switch, "restored": len(best.customers), "feeder": best.feeder}
        steps.append(clock.step("close", best.switch, t, Reason(code, params), best))


def _reclose_code(st: _Study, switch: str) -> str:
    """Why a switch open in the study closes again: only a reported trip is "the tripped breaker"."""
    if switch == st.tripped and st.net.switches[switch].kind in PROTECTIVE_KINDS:
        return "step_reclose_tripped" if st.tripped_basis == TRIP_REPORTED else "step_close_assumed"
    return "step_close_again"


def _split_closings(st: _Study, evals: list[_Eval], dead: set[str], allowed: Any) -> list[_Eval]:
    """Safe smaller versions of refused closings: the area is split (see :meth:`_Study.split_options`)
    to fit the feeder head's headroom; when the power flow refuses every split (a thin cable, a far
    end's voltage), the headroom is halved, :data:`FLOW_HALVINGS` times at most."""
    ok: list[_Eval] = []
    for e in evals:
        if not e.overload:
            continue
        tried: set[tuple[str, ...]] = set()
        headroom: float | None = sum(st.load_kw[c] for c in e.customers) if e.flow_failed else None
        for _ in range(FLOW_HALVINGS + 1):
            found = False
            for p in st.split_options(e, allowed, headroom_kw=headroom):
                if p in tried:
                    continue
                tried.add(p)
                sp = st.evaluate_close(e.switch, dead, split=p)
                if sp.ok:
                    ok.append(sp)
                    found = True
            if found or not st.flow.enabled:
                break
            headroom = 0.5 * (headroom if headroom is not None else st.headroom_kw(e))
    return ok

def _loading(st: _Study, steps: list[Step], tripped: str) -> tuple[FeederLoading, ...]:
    grid = st.grid
    feeders = {tripped} | {s.feeder for s in steps if s.feeder}
    fd = grid.feeders.set_index("id")
    feeders = {f for f in feeders if f in fd.index}
    load = grid.feeder_load_kw(st.now, open_switches=st.open, close_switches=st.close)
    out = []
    for f in sorted(feeders):
        cap = fd.at[f, "capacity_kw"]
        cap_f = None if cap is None or cap != cap else float(cap)
        out.append(FeederLoading(f, float(load.get(f, 0.0)), cap_f,
                                 None if cap_f is None else cap_f * (1 - st.options.capacity_margin)))
    return tuple(out)


def _dead_areas(st: _Study, dead: set[str], faulted: set[str], rejected: list[str]) -> tuple[DeadArea, ...]:
    net = st.net
    dead_secs = sorted({net.sec_of_node[n] for n in dead})
    areas = _UnionFind(dead_secs)
    for s, info in net.switches.items():
        if not st.is_open(s) and info.sec_a in areas.parent and info.sec_b in areas.parent:
            areas.union(info.sec_a, info.sec_b)
    groups: dict[str, list[str]] = {}
    for s in dead_secs:
        groups.setdefault(areas.find(s), []).append(s)
    by_switch = {}
    for r in rejected:
        sw, _, why = r.partition(": ")
        by_switch[sw] = why
    out = []
    for members in groups.values():
        is_faulted = bool(set(members) & faulted)
        reason = "faulted section: out until repaired" if is_faulted else _why_dead(net, set(members), by_switch)
        out.append(DeadArea(tuple(members), tuple(sorted(net.nodes_of(members))),
                            tuple(sorted(net.customers_in(members))), is_faulted, reason))
    out.sort(key=lambda d: (not d.faulted, d.sections))
    return tuple(out)


def _why_dead(net: SectionNet, area: set[str], refused: dict[str, str]) -> str:
    """Why a healthy dead area stays dead: the refusals (``refused``: switch -> reason) of the
    switches around it, else whether it has ties at all."""
    touching = sorted(sw for sw, info in net.switches.items() if (info.sec_a in area) != (info.sec_b in area))
    whys = [f"{sw} {refused[sw]}" for sw in touching if sw in refused]
    if whys:
        return "no safe supply: " + "; ".join(whys)
    if any(net.switches[sw].normally_open for sw in touching):
        return "its ties lead to no live feeder"
    return "no tie switch to another feeder: out until the repair"


def _generators(net: SectionNet, still_out: tuple[str, ...], duration_min: float, dispatch: datetime,
                repair_end: datetime, options: FaultOptions) -> tuple[tuple[GeneratorProposal, ...], list[str]]:
    """Fallback per important customer no block could cover (the trucks left, largest combined when
    none is large enough, with the shortfall stated)."""
    warnings: list[str] = []
    if duration_min <= options.generator_threshold_min:
        return (), warnings
    important = [net.customers[c] for c in still_out if net.customers[c].importance != "normal"]
    if not important:
        return (), warnings
    important.sort(key=lambda c: (-options.weight(c.importance), -c.demand_kw, c.id))
    pool: list[Generator] = sorted(options.generators, key=lambda g: (g.kw, g.id))
    start = dispatch + timedelta(minutes=options.generator_setup_min)
    out = []
    for c in important:
        if c.backup_power and not options.generators_for_backup_power:
            out.append(GeneratorProposal(c.id, c.name, c.importance, c.demand_kw, (), (), 0.0, 0.0, start,
                                         repair_end, "has its own backup power: no truck sent"))
            continue
        proposal = _truck_proposal(net, c.id, pool, start, repair_end, duration_min, options)
        if proposal.shortfall_kw > 0:
            warnings.append(f"generator shortfall for {c.id}: {proposal.shortfall_kw:.0f} kW")
        out.append(proposal)
    return tuple(out), warnings


def _truck_proposal(net: SectionNet, customer: str, pool: list[Generator], start: datetime, repair_end: datetime,
                    duration_min: float, options: FaultOptions) -> GeneratorProposal:
    """Trucks from ``pool`` (taken out of it) for one important customer; none when they could not
    arrive and be set up (from ``start``, set-up included) before the repair ends."""
    c = net.customers[customer]
    chosen = _trucks_for(pool, c.demand_kw)
    travel = max([travel_min(net.grid, g.depot_id, c.node, options.generator_speed_kmh) or 0.0 for g in chosen],
                 default=0.0)
    late = bool(chosen) and start + timedelta(minutes=travel) >= repair_end
    chosen = [] if late else chosen
    for g in chosen:
        pool.remove(g)
    kw = sum(g.kw for g in chosen)
    short = max(0.0, c.demand_kw - kw) if not late else 0.0
    note = _truck_note(options, late=late, chosen=bool(chosen), short_kw=short, duration_min=duration_min)
    return GeneratorProposal(c.id, c.name, c.importance, c.demand_kw, tuple(g.id for g in chosen),
                             tuple(sorted({g.depot_id for g in chosen if g.depot_id})), kw, short,
                             start + timedelta(minutes=travel), repair_end, note, node=c.node,
                             customers=(c.id,), arrival=start + timedelta(minutes=travel - options.generator_setup_min),
                             travel_min=travel)


def _trucks_for(pool: list[Generator], demand_kw: float) -> list[Generator]:
    """The smallest truck of ``pool`` (sorted by size) that covers ``demand_kw``, else the largest
    ones together until they do or none is left."""
    fit = next((g for g in pool if g.kw >= demand_kw), None)
    if fit is not None:
        return [fit]
    chosen: list[Generator] = []
    need = demand_kw
    for g in sorted(pool, key=lambda g: (-g.kw, g.id)):
        if need <= 0:
            break
        chosen.append(g)
        need -= g.kw
    return chosen


def _truck_note(options: FaultOptions, *, late: bool, chosen: bool, short_kw: float, duration_min: float) -> str:
    if not options.generators:
        return "no generator fleet given: a truck of this size is needed"
    if late:
        return "no truck can arrive and be set up before the repair ends"
    if not chosen:
        return "fleet exhausted: no truck left"
    if short_kw > 0:
        return "the trucks left cannot cover the whole demand"
    return f"repair estimated {duration_min:.0f} min > {options.generator_threshold_min:.0f} min"


def _metrics(net: SectionNet, st: _Study, customers_out: tuple[str, ...], restored_at: dict[str, datetime],
             stages: tuple[Stage, ...], now: datetime, final_time: datetime,
             with_trucks: dict[str, datetime], options: FaultOptions) -> dict[str, Any]:
    """Reliability figures; ``restored_at``: back on the grid, ``with_trucks``: supplied (grid or truck)."""
    load = st.grid.customer_load_kw(now)

    def minutes(t: datetime) -> float:
        return (t - now).total_seconds() / 60.0

    ci = len(customers_out)
    full = minutes(final_time)
    cmi = sum(minutes(restored_at[c]) for c in customers_out)
    ens = sum(float(load[c]) * minutes(restored_at[c]) / 60.0 for c in customers_out)
    ens_nothing = sum(float(load[c]) for c in customers_out) * full / 60.0
    per_stage = []
    remaining = ci
    for s in stages:
        n = len(s.restored_customers)
        remaining -= n
        per_stage.append({
            "kind": s.kind,
            "end": s.end.isoformat(),
            "customers_restored": n,
            "customers_still_out": remaining,
            "cmi": round(sum(minutes(restored_at[c]) for c in s.restored_customers), 1),
        })
    cmi_gen = sum(minutes(with_trucks[c]) for c in customers_out)
    by_grade = _by_importance(net, customers_out, restored_at, stages)
    total_customers = len(net.customers)
    weighted = sum(options.weight(net.customers[c].importance) * minutes(restored_at[c]) for c in customers_out)
    return {
        "ci": ci,
        "cmi": round(cmi, 1),
        "cmi_do_nothing": round(ci * full, 1),
        "cmi_saved": round(ci * full - cmi, 1),
        "cmi_with_generators": round(cmi_gen, 1),
        "weighted_cmi": round(weighted, 1),
        "ens_kwh": round(ens, 1),
        "ens_kwh_do_nothing": round(ens_nothing, 1),
        "saidi_min": round(cmi / total_customers, 4) if total_customers else 0.0,
        "saifi": round(ci / total_customers, 6) if total_customers else 0.0,
        "final_restoration": final_time.isoformat(),
        "stages": per_stage,
        "by_importance": {g: by_grade[g] for g in sorted(by_grade, key=lambda g: -options.weight(g))},
    }


def _by_importance(net: SectionNet, customers_out: tuple[str, ...], restored_at: dict[str, datetime],
                   stages: tuple[Stage, ...]) -> dict[str, list[dict[str, Any]]]:
    """Per importance grade: one row per stage (or ``repair``) that restored its customers, with
    when the last of them was back, how many and which."""
    by_grade: dict[str, list[dict[str, Any]]] = {}
    for c in customers_out:
        when = restored_at[c]
        stage = next((s.kind for s in stages if c in s.restored_customers), "repair")
        rows = by_grade.setdefault(net.customers[c].importance, [])
        row = next((r for r in rows if r["stage"] == stage), None)
        if row is None:
            rows.append({"stage": stage, "time": when.isoformat(), "customers": 1, "ids": [c]})
        else:
            row["customers"] += 1
            row["ids"].append(c)
            row["time"] = max(row["time"], when.isoformat())
    return by_grade
