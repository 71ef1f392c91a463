"""Turn the network design into nodes, lines and switches (metric CRS).

Element model (one RMU, ring ways in and out, tee ways to rooms)::

    busbar --[breaker]-- head junction ~~cable~~ J_in --[SI]-- RMU --[SO]-- J_out ~~cable~~ ...
                                                                |
                                                              [ST1]-- J_tee ~~cable~~ room
                                                              [ST2]-- J_tee ~~overhead~~ pole -- pole

The two tail RMUs of a ring are joined by a tie cable; the switch on the
feeder-A side of it is normally open.  Switch ``from_node`` is the side that
is upstream in the normal state; lines run ``from_node`` -> ``to_node``
downstream.  Every cable follows the street centrelines.

Two layouts are made: a first one from load alone (rings of transformers,
RMUs along them) that numbers the equipment, and the designed one, whose
rings regroup the first layout's RMUs under the electrical rules
(:mod:`gis.city.electrical`). The designed network reuses every id whose
equipment it builds again (:class:`_Ids`): RMUs with the same tee ways, lines
between the same two nodes, breakers of the same substation.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from gis.city import electrical as el
from gis.city import network as nw
from gis.city.roads import StreetGraph

log = logging.getLogger(__name__)


@dataclass
class _Segment:
    id: str
    from_node: str
    to_node: str
    kind: str
    type_name: str | None  # trunk cable type; None: chosen from the kind and length (tees, spurs)
    src_tap: int
    dst_tap: int
    src_xy: np.ndarray
    dst_xy: np.ndarray


def _street_lines(segments: list[_Segment], streets: StreetGraph) -> dict[str, shapely.LineString]:
    """Geometry of every cable: end point -> street path -> end point."""
    out: dict[str, shapely.LineString] = {}
    by_src: dict[int, list[_Segment]] = {}
    for seg in segments:
        by_src.setdefault(seg.src_tap, []).append(seg)
    sources = sorted(by_src)
    for k in range(0, len(sources), 64):
        chunk = sources[k : k + 64]
        _dist, pred = streets.distances(np.array(chunk))
        for row, src in enumerate(chunk):
            for seg in by_src[src]:
                path = streets.path(pred[row], src, seg.dst_tap)
                coords = [seg.src_xy, *streets.xy[path], seg.dst_xy]
                out[seg.id] = _clean_line(coords)
    return out


def _clean_line(coords: list[np.ndarray]) -> shapely.LineString:
    pts: list[tuple[float, float]] = []
    for c in coords:
        p = (round(float(c[0]), 2), round(float(c[1]), 2))
        if not pts or p != pts[-1]:
            pts.append(p)
    if len(pts) == 1:
        pts.append((pts[0][0] + 1.0, pts[0][1]))
    return shapely.LineString(pts)


@dataclass
class _Ids:
    """Equipment ids: those of a first layout where the same equipment is built again, new
    numbers after the first layout's largest for the rest (so ids stay stable)."""

    rmu: dict[tuple, str] = dataclasses.field(default_factory=dict)  # tee ways (transformer ids) -> id
    line: dict[frozenset, str] = dataclasses.field(default_factory=dict)  # {from_node, to_node} -> id
    feeder: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)  # (substation, first RMU) -> id
    rmu_no: int = 0
    line_no: dict[str, int] = dataclasses.field(default_factory=lambda: {"cable": 0, "overhead": 0})
    feeder_no: dict[str, int] = dataclasses.field(default_factory=dict)
    used: set[str] = dataclasses.field(default_factory=set)

    @classmethod
    def following(cls, topo: _Topology) -> _Ids:
        """Ids to reuse from ``topo``; new numbers continue after its largest."""
        ids = cls()
        for r in topo.rmus:
            ids.rmu[r.key] = r.id
        for seg in topo.segments:
            ids.line[frozenset((seg.from_node, seg.to_node))] = seg.id
        for f in topo.feeders:
            ids.feeder[(f.substation_id, f.rmus[0].id)] = f.id
        ids.rmu_no = len(topo.rmus)
        ids.line_no = {k: sum(s.kind == k for s in topo.segments) for k in ("cable", "overhead")}
        for f in topo.feeders:
            ids.feeder_no[f.substation_id] = max(ids.feeder_no.get(f.substation_id, 0), int(f.id.rsplit("-F", 1)[1]))
        return ids

    def _take(self, known: str | None, make) -> str:
        if known is not None and known not in self.used:
            self.used.add(known)
            return known
        while True:
            new = make()
            if new not in self.used:
                self.used.add(new)
                return new

    def rmu_id(self, key: tuple) -> str:
        def make() -> str:
            self.rmu_no += 1
            return f"RMU{self.rmu_no:04d}"

        return self._take(self.rmu.get(key), make)

    def line_id(self, frm: str, to: str, kind: str) -> str:
        def make() -> str:
            self.line_no[kind] += 1
            return f"{'CB' if kind == 'cable' else 'OH'}{self.line_no[kind]:05d}"

        return self._take(self.line.get(frozenset((frm, to))), make)

    def feeder_ids(self, halves: list[tuple[str, list[str]]]) -> list[str]:
        """Breaker ids of feeders given as (substation id, RMU ids from the head).

        A feeder keeps the id of the earlier feeder with the same first RMU;
        failing that, of an earlier feeder of its substation whose first RMU
        it now supplies; failing that, of any earlier feeder of its substation
        still unused (the same breaker bay, re-cabled); else a new number.
        """
        out: list[str | None] = [None] * len(halves)
        for k, (sub, rmus) in enumerate(halves):
            known = self.feeder.get((sub, rmus[0]))
            if known is not None and known not in self.used:
                out[k] = self._take(known, lambda: "")
        for k, (sub, rmus) in enumerate(halves):
            free = self._free_feeder_at(sub, rmus) if out[k] is None else None
            if free is not None:
                out[k] = self._take(free, lambda: "")
        for k, (sub, _rmus) in enumerate(halves):
            if out[k] is None:
                out[k] = self._take(self._spare_feeder(sub), lambda sub=sub: self._next_feeder(sub))
        return [str(f) for f in out]

    def _free_feeder_at(self, substation_id: str, rmus: list[str]) -> str | None:
        """The first unused earlier feeder of the substation that started at one of ``rmus``."""
        near = [self.feeder[(substation_id, r)] for r in rmus if (substation_id, r) in self.feeder]
        return next((f for f in near if f not in self.used), None)

    def _spare_feeder(self, substation_id: str) -> str | None:
        """The lowest unused earlier feeder id of the substation (its breaker bay, re-cabled)."""
        spare = sorted(f for (s, _r), f in self.feeder.items() if s == substation_id and f not in self.used)
        return spare[0] if spare else None

    def _next_feeder(self, substation_id: str) -> str:
        self.feeder_no[substation_id] = self.feeder_no.get(substation_id, 0) + 1
        return f"{substation_id}-F{self.feeder_no[substation_id]:02d}"


@dataclass
class _Topology:
    nodes: list[dict]
    switches: list[dict]
    segments: list[_Segment]
    feeders: list[nw.Feeder]
    ties: list[tuple[str, str, str, str]]
    rmus: list[nw.Rmu]
    tails: list[tuple[nw.Rmu, nw.Rmu, str]]


def _spur_or_tee_type(kind: str, span_m: float) -> str:
    return el.spur_type(span_m) if kind == "overhead" else el.TEE_CABLE_TYPE


class _Builder:
    """Collects the nodes, switches and line segments of rings as they are laid out."""

    def __init__(self, transformers: list[nw.Transformer], streets: StreetGraph, street_name: Callable[[np.ndarray], str],
                 ids: _Ids) -> None:
        self.transformers, self.streets, self.street_name, self.ids = transformers, streets, street_name, ids
        self.nodes: list[dict] = []
        self.switches: list[dict] = []
        self.segments: list[_Segment] = []
        self.feeders: list[nw.Feeder] = []
        self.ties: list[tuple[str, str, str, str]] = []
        self.rmus: list[nw.Rmu] = []
        self.tails: list[tuple[nw.Rmu, nw.Rmu, str]] = []

    def node(self, nid: str, kind: str, xy: np.ndarray, tap: int, name: str, **extra: object) -> None:
        self.nodes.append({"id": nid, "kind": kind, "xy": xy, "tap": tap, "name": name, **extra})

    def line(self, frm: str, to: str, kind: str, type_name: str | None, src: tuple[int, np.ndarray],
             dst: tuple[int, np.ndarray]) -> None:
        """A segment from ``frm`` to ``to``; ``src``/``dst`` are the ends' (street tap, point)."""
        lid = self.ids.line_id(frm, to, kind)
        self.segments.append(_Segment(lid, frm, to, kind, type_name, src[0], dst[0], src[1], dst[1]))

    def feeder(self, fid: str, sub: nw.Substation, sub_index: int, ring: nw.Ring,
               rmus_planned: tuple[list, list[tuple], list[str]]) -> nw.Rmu:
        """A feeder breaker, its cable head and its RMUs along the trunk; returns the tail RMU."""
        head = f"{fid}-HJ"
        self.node(head, "junction", sub.xy, sub.tap, f"{fid} cable head")
        self.switches.append({"id": fid, "from_node": f"{sub.id}-BB", "to_node": head, "kind": "breaker",
                              "normally_open": False, "remote": True, "fault_indicator": False,
                              "rating_a": ring.rating_a, "xy": sub.xy})
        rmus: list[nw.Rmu] = []
        prev, prev_end = head, (sub.tap, sub.xy)
        for ways, key, rid in zip(*rmus_planned, strict=True):
            rmu = self.rmu(rid, ways, key, prev, prev_end, ring.cable or None)
            rmus.append(rmu)
            prev, prev_end = f"{rid}-JO", (rmu.tap, rmu.xy)
        self.rmus.extend(rmus)
        self.feeders.append(nw.Feeder(fid, sub_index, rmus, ring.rating_a, substation_id=sub.id))
        return rmus[-1]

    def rmu(self, rid: str, ways: list, key: tuple, prev: str, prev_end: tuple[int, np.ndarray], trunk: str | None) -> nw.Rmu:
        """An RMU with its ring switches (in, out), the trunk cable from ``prev`` and its tee ways."""
        rxy, rtap = nw.rmu_site(ways, self.transformers, self.streets)
        self.node(rid, "rmu", rxy, rtap, f"RMU {self.street_name(rxy)}")
        self.node(f"{rid}-JI", "junction", rxy, rtap, f"{rid} ring in")
        self.node(f"{rid}-JO", "junction", rxy, rtap, f"{rid} ring out")
        self.switches.append(_sw(f"{rid}-SI", f"{rid}-JI", rid, "ring", rxy, rmu=rid))
        self.switches.append(_sw(f"{rid}-SO", rid, f"{rid}-JO", "ring", rxy, rmu=rid))
        self.line(prev, f"{rid}-JI", "cable", trunk, prev_end, (rtap, rxy))
        for w, way in enumerate(ways, start=1):
            jt = f"{rid}-JT{w}"
            self.node(jt, "junction", rxy, rtap, f"{rid} tee {w}")
            spur = self.transformers[way[0]].kind == "pole_transformer"
            self.switches.append(_sw(f"{rid}-ST{w}", rid, jt, "fuse" if spur else "tee", rxy, rmu=rid))
            up, up_end = jt, (rtap, rxy)
            for i in way:
                t = self.transformers[i]
                self.line(up, t.id, "overhead" if t.kind == "pole_transformer" else "cable", None, up_end, (t.tap, t.xy))
                up, up_end = t.id, (t.tap, t.xy)
        return nw.Rmu(rid, rxy, rtap, ways, key=key)

    def tie(self, ring: nw.Ring, a: nw.Rmu, b: nw.Rmu) -> None:
        """The cable from feeder B's tail (live) to feeder A's tail, open at A's ring-out switch."""
        self.line(f"{b.id}-JO", f"{a.id}-JO", "cable", ring.cable or None, (b.tap, b.xy), (a.tap, a.xy))
        tie_kind = "between substations" if ring.start != ring.end else "within substation"
        self.tails.append((a, b, tie_kind))
        for sw in self.switches:
            if sw["id"] == f"{a.id}-SO":
                sw["normally_open"] = True
        self.ties.append((f"{a.id}-SO", a.id, b.id, tie_kind))


def _topology(
    rings: list[nw.Ring],
    transformers: list[nw.Transformer],
    substations: list[nw.Substation],
    streets: StreetGraph,
    street_name: Callable[[np.ndarray], str],
    ids: _Ids,
    groups_of: Callable[[list[int]], list[list[list[int]]]],
) -> _Topology:
    """Nodes, switches and line segments of the rings (element model in the module docstring).

    ``groups_of(chain)`` gives the RMUs along one feeder's chain of ring
    points, each as its tee ways (lists of transformer indices).
    """
    build = _Builder(transformers, streets, street_name, ids)
    for s in substations:
        build.node(f"{s.id}-BB", "busbar", s.xy, s.tap, f"{s.name} 10 kV busbar", substation_id=s.id)
    # RMU ids first (feeder ids depend on them), in ring order
    plan: list[tuple[nw.Ring, list[tuple[int, list, list[tuple], list[str]]]]] = []
    for ring in rings:
        halves = []
        for sub_index, chain in ((ring.start, ring.transformers[: ring.cut]), (ring.end, ring.transformers[ring.cut :][::-1])):
            groups = groups_of(chain)
            keys = [tuple(tuple(transformers[i].id for i in way) for way in ways) for ways in groups]
            halves.append((sub_index, groups, keys, [ids.rmu_id(k) for k in keys]))
        plan.append((ring, halves))
    fids = iter(ids.feeder_ids([(substations[h[0]].id, h[3]) for _r, hs in plan for h in hs]))
    for ring, halves in plan:
        tails = [build.feeder(next(fids), substations[sub_index], sub_index, ring, (groups, keys, rmu_ids))
                 for sub_index, groups, keys, rmu_ids in halves]
        build.tie(ring, *tails)
    return _Topology(build.nodes, build.switches, build.segments, build.feeders, build.ties, build.rmus, build.tails)


def design_network(
    cust_xy: np.ndarray,
    load: np.ndarray,
    demand_kw: np.ndarray,
    footprint_m2: np.ndarray,
    importance: np.ndarray,
    streets: StreetGraph,
    *,
    params: nw.Params,
    rng: np.random.Generator,
    street_name: Callable[[np.ndarray], str],
    place_name: Callable[[np.ndarray], str],
) -> nw.Network:
    """Design the grid for these customers.

    Parameters
    ----------
    cust_xy
        ``(n, 2)`` customer points in the metric CRS.
    load
        ``(n, T)`` load (kW) of each customer over the profile time steps.
    demand_kw, footprint_m2, importance
        Per-customer peak (kW), building footprint (m²) and importance grade.
    streets
        Street graph in the same metric CRS.
    street_name, place_name
        Name lookups for a metric point (for human-readable element names).

    Lines carry ``type`` (catalogue name) and ``rating_a``; busbar nodes
    ``vm_pu`` and ``rating_a``; substations their coincident ``peak_kw``.
    """
    transformers = nw.make_transformers(cust_xy, load, demand_kw, streets, params)
    if len(transformers) < 2:
        raise ValueError(
            "the extract is too small for a ring: its load fits one transformer "
            f"({len(cust_xy)} building(s))"
        )
    tload = {t.index: load[t.members].sum(axis=0) for t in transformers}
    for t in transformers:
        t.peak_kw = float(tload[t.index].max())
    total_peak = float(np.sum(list(tload.values()), axis=0).max())
    substations, dist, params = _substations(transformers, total_peak, cust_xy, footprint_m2, importance, streets, params, rng)
    diversity = total_peak / sum(t.peak_kw for t in transformers)
    rings = _load_rings(transformers, substations, dist, tload, diversity, streets, params)
    counters = _number(substations, rings, transformers, place_name)

    def by_distance(chain: list[int]) -> list[list[list[int]]]:
        return nw.group_rmus(chain, transformers, streets, params)

    first = _topology(rings, transformers, substations, streets, street_name, _Ids(), by_distance)
    designed = _designed_rings(first, transformers, substations, dist, tload, diversity, streets, params)

    def as_before(chain: list[int]) -> list[list[list[int]]]:
        return [first.rmus[u].ways for u in chain]

    topo = _topology(designed, transformers, substations, streets, street_name, _Ids.following(first), as_before)
    net = nw.Network(substations, transformers, designed, topo.feeders, topo.ties)
    for t in transformers:
        name = ("Room " if t.kind == "distribution_room" else "Pole ") + street_name(t.xy)
        topo.nodes.append({"id": t.id, "kind": t.kind, "xy": t.xy, "tap": t.tap, "name": name, "kva": t.kva})
    _remote_and_indicators(topo, params, rng)
    supply = np.empty(len(cust_xy), dtype=object)
    for t in transformers:
        supply[t.members] = t.id
    net.nodes, net.lines, net.switches, net.supply_node = topo.nodes, _line_rows(topo.segments, streets), topo.switches, supply
    _peaks(net, tload, load.shape[1])
    log.info(
        "network: %d substations, %d feeders, %d RMUs, %d rooms, %d pole transformers, %d ties",
        len(substations),
        len(net.feeders),
        len(topo.rmus),
        counters["distribution_room"],
        counters["pole_transformer"],
        len(net.ties),
    )
    return net


def _substations(transformers: list[nw.Transformer], total_peak: float, cust_xy: np.ndarray, footprint_m2: np.ndarray,
                 importance: np.ndarray, streets: StreetGraph, params: nw.Params,
                 rng: np.random.Generator) -> tuple[list[nw.Substation], np.ndarray, nw.Params]:
    """The substations (fewer than ``params.n_substations`` for a small town: each should have at
    least one decently loaded ring), the street distances (m) from each of them to every node of
    the street graph, and the parameters with the number of substations made."""
    n_sub = int(min(params.n_substations, max(1, total_peak // nw.MIN_SUBSTATION_KW)))
    if n_sub != params.n_substations:
        log.info("%.1f MW of load: %d substation(s) instead of %d", total_peak / 1e3, n_sub, params.n_substations)
        params = dataclasses.replace(params, n_substations=n_sub)
    substations = nw.place_substations(
        transformers, cust_xy, footprint_m2, importance, streets, params, rng
    )
    dist, _ = streets.distances(np.array([s.tap for s in substations]))
    if not np.all(np.isfinite(dist[:, [t.tap for t in transformers]])):
        raise ValueError("some transformers cannot be reached along streets")
    return substations, dist, params


def _load_rings(transformers: list[nw.Transformer], substations: list[nw.Substation], dist: np.ndarray,
                tload: dict[int, np.ndarray], diversity: float, streets: StreetGraph, params: nw.Params) -> list[nw.Ring]:
    """The first layout's rings, from load alone: grouped, ordered along the streets, cut into two
    feeders, and split while one is overloaded (four rounds at most)."""
    target_kw = nw.TARGET_LOADING_AT_500A * nw.p_max_kw(500) / diversity
    rings = nw.group_rings(transformers, substations, dist[:, [t.tap for t in transformers]], target_kw, params)
    xy = {t.index: t.xy for t in transformers}
    for _ in range(4):
        for ring in rings:
            nw.order_ring(ring, transformers, substations, streets)
            nw.cut_ring(ring, tload)
        split = nw.split_overloaded(rings, tload, xy)
        if len(split) == len(rings):
            break
        rings = split
    return rings


def _number(substations: list[nw.Substation], rings: list[nw.Ring], transformers: list[nw.Transformer],
            place_name: Callable[[np.ndarray], str]) -> dict[str, int]:
    """Ids fixed by the load-only grouping, kept by the designed network: substations, then rooms and
    pole transformers in ring order. Returns how many of each transformer kind."""
    for s in substations:
        s.id = f"SUB{s.index + 1}"
        s.name = f"{place_name(s.xy)} 110/10 kV"
    counters = {"distribution_room": 0, "pole_transformer": 0}
    prefix = {"distribution_room": "DR", "pole_transformer": "PT"}
    for ring in rings:
        for i in ring.transformers:
            t = transformers[i]
            counters[t.kind] += 1
            t.id = f"{prefix[t.kind]}{counters[t.kind]:04d}"
    return counters


def _designed_rings(first: _Topology, transformers: list[nw.Transformer], substations: list[nw.Substation],
                    dist: np.ndarray, tload: dict[int, np.ndarray], diversity: float, streets: StreetGraph,
                    params: nw.Params) -> list[nw.Ring]:
    """The electrical design: the first layout's RMUs (kiosks and their tee ways) stay; they are
    regrouped into rings sized for N-1 and re-cabled (:mod:`gis.city.electrical`)."""
    units, unit_load = nw.rmu_units(first.rmus, transformers, tload)
    unit_dist = dist[:, [u.tap for u in units]]
    unit_target_kw = el.RING_DESIGN_LOADING * nw.p_max_kw(el.ampacity_a(el.TRUNK_TYPES[-1])) / 2.0 / diversity
    designed = nw.group_rings(units, substations, unit_dist, unit_target_kw, params)
    for ring in designed:
        nw.order_ring(ring, units, substations, streets)
    return nw.design_rings(designed, units, substations, streets, unit_dist, unit_load)


def _remote_and_indicators(topo: _Topology, params: nw.Params, rng: np.random.Generator) -> None:
    """Remote control (favouring the tie RMUs) and fault indicators, per RMU, onto its switches;
    fuses are never remote-controlled."""
    tie_rmus = {a.id for a, _b, _k in topo.tails} | {b.id for _a, b, _k in topo.tails}
    favoured = np.array([r.id in tie_rmus for r in topo.rmus])
    remote = nw.choose_remote(len(topo.rmus), favoured, params.remote_share, rng)
    fi_ring = rng.random(len(topo.rmus)) < params.fault_indicator_share
    fi_tee = rng.random(len(topo.rmus)) < 0.5
    by_rmu = {r.id: k for k, r in enumerate(topo.rmus)}
    for r, flag in zip(topo.rmus, remote, strict=True):
        r.remote = bool(flag)
    for sw in topo.switches:
        owner: str | None = sw.pop("rmu", None)
        role: str | None = sw.pop("role", None)
        if owner is None:
            continue
        k = by_rmu[owner]
        sw["remote"] = bool(remote[k]) and role != "fuse"
        sw["fault_indicator"] = bool(fi_ring[k]) if role == "ring" else (
            bool(fi_tee[k]) if role == "tee" else False
        )


def _line_rows(segments: list[_Segment], streets: StreetGraph) -> list[dict]:
    """A line per segment along the streets, with its length (m), conductor type and rating."""
    geoms = _street_lines(segments, streets)
    lines = []
    for seg in segments:
        geom = geoms[seg.id]
        length_m = round(float(geom.length), 1)
        type_name = seg.type_name or _spur_or_tee_type(seg.kind, length_m)
        lines.append(
            {
                "id": seg.id,
                "from_node": seg.from_node,
                "to_node": seg.to_node,
                "kind": seg.kind,
                "type": type_name,
                "rating_a": el.ampacity_a(type_name),
                "length_m": length_m,
                "geometry": geom,
            }
        )
    return lines


def _peaks(net: nw.Network, tload: dict[int, np.ndarray], n_steps: int) -> None:
    """Coincident peaks (kW) of every feeder and substation over the ``n_steps`` profile steps, and
    each busbar's set-point and rating from its substation's peak."""
    sub_series = {s.index: np.zeros(n_steps) for s in net.substations}
    for f in net.feeders:
        members = [i for r in f.rmus for way in r.ways for i in way]
        series = np.sum([tload[i] for i in members], axis=0)
        f.peak_kw = float(series.max())
        sub_series[f.substation] += series
    for s in net.substations:
        s.peak_kw = float(sub_series[s.index].max())
    for node in net.nodes:
        if node["kind"] == "busbar":
            peak = next(s.peak_kw for s in net.substations if s.id == node["substation_id"])
            node.update(vm_pu=el.SOURCE_VM_PU, rating_a=float(el.busbar_rating_a(peak)))


def _sw(sid: str, frm: str, to: str, role: str, xy: np.ndarray, *, rmu: str) -> dict:
    return {
        "id": sid,
        "from_node": frm,
        "to_node": to,
        "kind": "fuse" if role == "fuse" else "load_break",
        "normally_open": False,
        "remote": False,
        "fault_indicator": False,
        "rating_a": nw.RMU_SWITCH_RATING_A if role != "fuse" else 100,
        "xy": xy,
        "rmu": rmu,
        "role": role,
    }
