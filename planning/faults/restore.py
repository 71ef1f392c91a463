"""Isolation and restoration after a fault — "lights first" (亮灯第一).

Starting state: the normal state with the protective device upstream of the
fault open (tripped). Then:

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gis import Grid, InputError, NotFoundError
from planning.faults.locate import PROTECTIVE_KINDS, Candidate, _check_now
from planning.faults.messages import Message, build_messages
from planning.faults.network import CABINET_KINDS, SectionNet, section_net
from planning.faults.options import FaultOptions, Generator

log = logging.getLogger(__name__)

SINGLE_CUTS = 3  # single-switch splits of an overloading transfer that are validated, best estimates first


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
    """Generator truck(s) for one important customer left out during a long repair (kW)."""

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

    def to_json(self) -> dict[str, Any]:
        return {
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

    def to_json(self) -> dict[str, Any]:
        return {
            "faulted": {
                "sections": list(self.faulted_sections),
                "nodes": list(self.faulted_nodes),
                "equipment": self.equipment,
                "tripped": self.tripped,
                "time": self.time.isoformat(),
                "customers_out": list(self.customers_out),
            },
            "stages": [s.to_json() for s in self.stages],
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
    overload: bool = False
    split: tuple[str, ...] = ()  # switches opened first to make the transfer fit


class _Study:
    """Switch state during restoration: ``open`` (normally closed, now open), ``close`` (ties closed)."""

    def __init__(self, grid: Grid, net: SectionNet, faulted_nodes: frozenset[str], now: datetime,
                 options: FaultOptions) -> None:
        self.grid = grid
        self.net = net
        self.fn = faulted_nodes
        self.now = now
        self.options = options
        self.open: list[str] = []
        self.close: list[str] = []
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
        return _Eval(s, True, restored, customers, self.value(customers), feeder, "", split=split)

    def candidates(self, dead: set[str], allowed: Any) -> list[str]:
        """Open switches with one end live and the other dead (the only closings that can restore)."""
        out = []
        for s, info in self.net.switches.items():
            if not self.is_open(s) or not allowed(info):
                continue
            if (info.from_node in dead) != (info.to_node in dead):
                out.append(s)
        return sorted(out)

    def split_options(self, ev: _Eval, allowed: Any) -> list[tuple[str, ...]]:
        """Ways to shrink a transfer that overloads its feeder, most promising first.

        The area the closing would pick up is split into *blocks* joined by the
        closed switches this stage may open. Candidates: each single cut whose
        remaining part (the blocks still joined to the closing switch) fits the
        feeder's headroom at ``now`` — the :data:`SINGLE_CUTS` restoring the most
        weight — plus a greedy multi-cut: from the block at the closing switch,
        add the adjacent block with the most weight per kW that still fits, until
        none fits. Estimates only; every option is validated by :meth:`evaluate_close`.
        """
        net = self.net
        cap = self.capacity_kw.get(ev.feeder) if ev.feeder is not None else None
        if cap is None:
            return []
        load_now = self.grid.feeder_load_kw(self.now, open_switches=self.open, close_switches=self.close)
        headroom = cap * (1 - self.options.capacity_margin) - float(load_now.get(ev.feeder, 0.0))
        secs = {net.sec_of_node[n] for n in ev.restored_nodes}
        blocks = _UnionFind(secs)
        find = blocks.find

        cut_edges: list[tuple[str, str, str]] = []
        for sw, info in net.switches.items():
            if info.sec_a in secs and info.sec_b in secs and info.sec_a != info.sec_b and not self.is_open(sw):
                if allowed(info):
                    cut_edges.append((sw, info.sec_a, info.sec_b))
                else:
                    blocks.union(info.sec_a, info.sec_b)
        info = net.switches[ev.switch]
        entry = find(info.sec_a if info.sec_a in secs else info.sec_b)
        load: dict[str, float] = {}
        value: dict[str, float] = {}
        for sec in secs:
            b = find(sec)
            cs = net.customers_of[sec]
            load[b] = load.get(b, 0.0) + sum(self.load_kw[c] for c in cs)
            value[b] = value.get(b, 0.0) + self.value(cs)
        edges = [(sw, find(a), find(b)) for sw, a, b in cut_edges]
        adj: dict[str, list[tuple[str, str]]] = {}
        for sw, a, b in edges:
            adj.setdefault(a, []).append((sw, b))
            adj.setdefault(b, []).append((sw, a))

        def part(without: set[str]) -> set[str]:
            seen = {entry}
            todo = [entry]
            while todo:
                x = todo.pop()
                for sw, y in adj.get(x, ()):
                    if sw not in without and y not in seen:
                        seen.add(y)
                        todo.append(y)
            return seen

        if load.get(entry, 0.0) > headroom:
            return []
        singles = []
        for sw, _, _ in edges:
            kept = part({sw})
            kw = sum(load[b] for b in kept)
            if kw <= headroom:
                singles.append((sum(value[b] for b in kept), sw))
        singles.sort(key=lambda x: (-x[0], x[1]))
        out: list[tuple[str, ...]] = [(sw,) for _, sw in singles[:SINGLE_CUTS]]
        taken = {entry}
        used = load.get(entry, 0.0)
        while True:
            frontier = [y for _, a, b in edges for y in (a, b)
                        if ((a in taken) != (b in taken)) and y not in taken and used + load[y] <= headroom]
            if not frontier:
                break
            nb = max(frontier, key=lambda x: (value[x] / max(load[x], 1e-6), x))
            taken.add(nb)
            used += load[nb]
        cuts = tuple(sorted({sw for sw, a, b in edges if (a in taken) != (b in taken)}))
        if cuts and cuts not in out:
            out.append(cuts)
        return out


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
            if sec in net.source:
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
        Timezone-aware fault time; loads for capacity checks are taken at this time.
    options
        :class:`FaultOptions` (durations in minutes, capacity margin, generator fleet ...).
    tripped_breaker
        The breaker (or fuse) that tripped; default: the nearest breaker or fuse
        upstream of the fault in the normal state.
    crew_eta
        When the first crew is expected on site (from routing); default
        ``now + remote stage + options.crew_arrival_min``.

    Returns
    -------
    Restoration
        Stages with switching steps, repair task, generator proposals, customer
        messages and reliability metrics.

    Raises
    ------
    gis.InputError
        A busbar fault, a naive time, equipment that is not grid equipment, a
        breaker that does not feed the faulted section.
    gis.NotFoundError
        Unknown equipment or breaker ids.
    """
    _check_now(now)
    if crew_eta is not None:
        _check_now(crew_eta)
    options = options or FaultOptions()
    net = section_net(grid)
    secs, equipment = _resolve_faulted(net, faulted_section)
    warnings: list[str] = []
    top = min(secs, key=lambda s: len(net.path_switches(s)))
    path = net.path_switches(top)
    if not path:
        raise InputError(f"{', '.join(secs)} has no supply in the normal state: nothing trips, nothing to restore",
                         code="not_energised")
    if tripped_breaker is None:
        prot = [s for s in path if net.switches[s].kind in PROTECTIVE_KINDS]
        tripped = prot[-1] if prot else path[0]
    else:
        if tripped_breaker not in net.switches:
            raise NotFoundError(f"unknown breaker id: {tripped_breaker}", code="unknown_breaker",
                                details={"id": tripped_breaker})
        if tripped_breaker not in path:
            raise InputError(f"breaker {tripped_breaker} does not feed the faulted section {top}",
                             code="breaker_not_upstream", details={"id": tripped_breaker, "section": top})
        tripped = tripped_breaker
    faulted_nodes = frozenset(net.nodes_of(secs))
    st = _Study(grid, net, faulted_nodes, now, options)
    st.open = [tripped]
    dead0 = st.dead()
    customers_out = st.customers_of_nodes(dead0)
    remote_s = timedelta(seconds=options.remote_switching_s)
    manual = timedelta(minutes=options.manual_switching_min)
    restored_at: dict[str, datetime] = {}
    step_no = [0]

    def make_step(action: str, s: str, t: datetime, reason: str, ev: _Eval | None = None) -> Step:
        info = net.switches[s]
        step_no[0] += 1
        return Step(step_no[0], action, s, info.remote, info.node, net.node_location(info.node), t, reason,
                    ev.customers if ev else (), ev.feeder if ev else None)

    # -- stage 1: remote --------------------------------------------------------------
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
            elif other not in net.source:
                region.add(other)
                frontier.append(other)
    depth = {s: len(net.path_switches(net.switches[s].sec_a)) for s in remote_open}
    remote_open.sort(key=lambda s: (depth[s], s))
    t = now
    steps1: list[Step] = []
    for s in remote_open:
        t += remote_s
        st.open.append(s)
        side = "upstream" if s in path else "downstream"
        steps1.append(make_step("open", s, t, f"isolate the fault ({side} remote switch nearest to it)"))
    is_remote = lambda info: info.remote  # noqa: E731
    t, closes1, rejected1 = _restore_loop(st, is_remote, t, remote_s, manual, make_step)
    steps1.extend(closes1)
    for st_ in closes1:
        for c in st_.restores:
            restored_at.setdefault(c, st_.time)
    dead1 = st.dead()
    notes1: list[str] = []
    if not remote_open and not closes1:
        notes1.append("no remote-controlled switch around the fault: nothing can be done before a crew arrives")
    elif not closes1:
        notes1.append("remote isolation done, but no remote closing restores anything safely")
    notes1.extend(r for r in rejected1)
    stage1 = Stage(
        "remote", tuple(steps1), now, t,
        tuple(c for c in customers_out if c in restored_at),
        st.customers_of_nodes(dead1),
        _loading(st, steps1, tripped), tuple(dict.fromkeys(notes1)),
    )

    # -- stage 2: manual ------------------------------------------------------------------
    crew_on_site = crew_eta if crew_eta is not None else t + timedelta(minutes=options.crew_arrival_min)
    crew_on_site = max(crew_on_site, t)
    iso = grid.isolate([net.sections[s].nodes[0] for s in secs])
    boundary = [s for s in iso.switches if not st.is_open(s)]
    depth2 = {s: len(net.path_switches(net.switches[s].sec_a)) for s in boundary}
    boundary.sort(key=lambda s: (depth2[s], s))
    t2 = crew_on_site
    steps2: list[Step] = []
    for s in boundary:
        t2 += remote_s if net.switches[s].remote else manual
        st.open.append(s)
        steps2.append(make_step("open", s, t2, "isolate the faulted section (nearest switch on this side)"))
    isolated_at = t2  # the repair crew may start: the faulted section is open on every side
    t2, closes2, rejected2 = _restore_loop(st, lambda info: True, t2, remote_s, manual, make_step)
    steps2.extend(closes2)
    for st_ in closes2:
        for c in st_.restores:
            restored_at.setdefault(c, st_.time)
    dead2 = st.dead()
    still_out = st.customers_of_nodes(dead2)
    notes2 = list(dict.fromkeys(rejected2))
    stage2_restored = tuple(c for c in customers_out if c in restored_at and c not in stage1.restored_customers)
    stage2 = Stage("manual", tuple(steps2), crew_on_site, t2 if steps2 else crew_on_site, stage2_restored,
                   still_out, _loading(st, steps1 + steps2, tripped), tuple(notes2))
    if dead2 & faulted_nodes != faulted_nodes:  # pragma: no cover - guarded by every step
        raise AssertionError("faulted section energised")

    # -- what remains: repair task ------------------------------------------------------------
    kind = _equipment_kind(net, secs, equipment)
    duration = options.repair_minutes(kind)
    # the repair starts once the fault is isolated; restoration switching goes on meanwhile
    repair_start = isolated_at
    repair_end = repair_start + timedelta(minutes=duration)
    final_time = max(repair_end, stage2.end) + manual  # switching back after the repair
    dead_areas = _dead_areas(st, dead2, set(secs), rejected2)
    cab = [n for n in net.nodes_of(secs) if net.node_kind[n] in CABINET_KINDS]
    repair_node = cab[0] if cab else (net.switches[iso.switches[0]].node if iso.switches else net.nodes_of(secs)[0])
    skills = ["switching"]
    if kind in ("cable", "junction"):
        skills.insert(0, "cable")
    elif kind in ("overhead", "pole_transformer"):
        skills.insert(0, "overhead")
    back = tuple([("open", s) for s in st.close] + [("close", s) for s in st.open])
    repair = RepairTask(
        sections=tuple(secs), equipment=equipment, equipment_kind=kind, node=repair_node,
        location=net.node_location(repair_node), skills=tuple(skills), duration_min=duration,
        start=repair_start, end=repair_end, isolation_switches=tuple(sorted(iso.switches)),
        customers_out=still_out, dead_areas=dead_areas, return_to_normal=back,
    )
    for c in still_out:
        restored_at[c] = final_time

    gens, gen_warn = _generators(net, still_out, duration, t, repair_end, options)
    warnings.extend(gen_warn)
    stages = (stage1, stage2)
    metrics = _metrics(net, st, customers_out, restored_at, stages, now, final_time, gens, options)
    messages = build_messages(net, now=now, customers_out=customers_out, stages=stages, crew_eta=crew_eta,
                              crew_dispatch=t, final_time=final_time, still_out=still_out)
    log.info("restore %s: %d out, %d after stage 1, %d after stage 2", ",".join(secs), len(customers_out),
             len(stage1.still_out), len(still_out))
    return Restoration(
        faulted_sections=tuple(secs), faulted_nodes=tuple(sorted(faulted_nodes)), equipment=equipment,
        tripped=tripped, time=now, customers_out=customers_out, stages=stages, repair=repair,
        generators=gens, messages=tuple(messages), metrics=metrics, final_open=tuple(st.open),
        final_closed=tuple(st.close), warnings=tuple(warnings), restored_at=restored_at,
    )


def _restore_loop(st: _Study, allowed: Any, t: datetime, remote_s: timedelta, manual: timedelta,
                  make_step: Any) -> tuple[datetime, list[Step], list[str]]:
    """Close safe switches one at a time until nothing more can be restored.

    Returns the time after the last step, the steps, and the reasons the
    remaining candidates were rejected.
    """
    steps: list[Step] = []
    while True:
        dead = st.dead()
        cands = st.candidates(dead, allowed)
        evals = [st.evaluate_close(s, dead) for s in cands]
        ok = [e for e in evals if e.ok]
        if not ok:
            for e in evals:
                if not e.overload:
                    continue
                for p in st.split_options(e, allowed):
                    sp = st.evaluate_close(e.switch, dead, split=p)
                    if sp.ok:
                        ok.append(sp)
        if not ok:
            reasons = [f"{e.switch}: {e.reason}" for e in evals if e.reason != "restores nothing"]
            return t, steps, reasons
        # most weight first; then reclosing our own switches before new transfers; then by id
        best = min(ok, key=lambda e: (-e.value, e.switch not in st.open, e.switch, len(e.split)))
        info = st.net.switches[best.switch]
        for cut in best.split:
            t += remote_s if st.net.switches[cut].remote else manual
            st.open.append(cut)
            steps.append(make_step("open", cut, t,
                                   f"split the transfer so that closing {best.switch} stays within capacity"))
        t += remote_s if info.remote else manual
        if best.switch in st.open:
            st.open.remove(best.switch)
            what = "reclose the tripped breaker" if st.net.switches[best.switch].kind in PROTECTIVE_KINDS \
                else "close again now that the fault is isolated"
        else:
            st.close.append(best.switch)
            what = "close the tie: transfer to another feeder"
        steps.append(make_step("close", best.switch, t,
                               f"{what}; restores {len(best.customers)} customer(s) from feeder {best.feeder}",
                               best))


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
        mset = set(members)
        nodes = tuple(sorted(net.nodes_of(members)))
        customers = tuple(sorted(net.customers_in(members)))
        is_faulted = bool(mset & faulted)
        if is_faulted:
            reason = "faulted section: out until repaired"
        else:
            touching = sorted(sw for sw, info in net.switches.items()
                              if (info.sec_a in mset) != (info.sec_b in mset))
            whys = [f"{sw} {by_switch[sw]}" for sw in touching if sw in by_switch]
            if whys:
                reason = "no safe supply: " + "; ".join(whys)
            elif any(net.switches[sw].normally_open for sw in touching):
                reason = "its ties lead to no live feeder"
            else:
                reason = "no tie switch to another feeder: out until the repair"
        out.append(DeadArea(tuple(members), nodes, customers, is_faulted, reason))
    out.sort(key=lambda d: (not d.faulted, d.sections))
    return tuple(out)


def _generators(net: SectionNet, still_out: tuple[str, ...], duration_min: float, dispatch: datetime,
                repair_end: datetime, options: FaultOptions) -> tuple[tuple[GeneratorProposal, ...], list[str]]:
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
        chosen: list[Generator] = []
        fit = next((g for g in pool if g.kw >= c.demand_kw), None)
        if fit is not None:
            chosen = [fit]
        else:
            need = c.demand_kw
            for g in sorted(pool, key=lambda g: (-g.kw, g.id)):
                if need <= 0:
                    break
                chosen.append(g)
                need -= g.kw
        for g in chosen:
            pool.remove(g)
        kw = sum(g.kw for g in chosen)
        short = max(0.0, c.demand_kw - kw)
        if not options.generators:
            note = "no generator fleet given: a truck of this size is needed"
        elif not chosen:
            note = "fleet exhausted: no truck left"
        elif short > 0:
            note = "the trucks left cannot cover the whole demand"
        else:
            note = f"repair estimated {duration_min:.0f} min > {options.generator_threshold_min:.0f} min"
        if short > 0:
            warnings.append(f"generator shortfall for {c.id}: {short:.0f} kW")
        out.append(GeneratorProposal(c.id, c.name, c.importance, c.demand_kw, tuple(g.id for g in chosen),
                                     tuple(sorted({g.depot_id for g in chosen if g.depot_id})), kw, short,
                                     start, repair_end, note))
    return tuple(out), warnings


def _metrics(net: SectionNet, st: _Study, customers_out: tuple[str, ...], restored_at: dict[str, datetime],
             stages: tuple[Stage, ...], now: datetime, final_time: datetime,
             gens: tuple[GeneratorProposal, ...], options: FaultOptions) -> dict[str, Any]:
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
    gen_cover = {g.customer: g.start for g in gens if g.generators and g.shortfall_kw == 0}
    cmi_gen = sum(minutes(min(restored_at[c], gen_cover.get(c, restored_at[c]))) for c in customers_out)
    by_grade: dict[str, list[dict[str, Any]]] = {}
    for c in customers_out:
        grade = net.customers[c].importance
        when = restored_at[c]
        stage = next((s.kind for s in stages if c in s.restored_customers), "repair")
        rows = by_grade.setdefault(grade, [])
        row = next((r for r in rows if r["stage"] == stage), None)
        if row is None:
            rows.append({"stage": stage, "time": when.isoformat(), "customers": 1, "ids": [c]})
        else:
            row["customers"] += 1
            row["ids"].append(c)
            row["time"] = max(row["time"], when.isoformat())
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
