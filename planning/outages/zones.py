"""Outage zones: what must be dead for some equipment, and which dead blocks ties could re-feed.

The zone of a set of equipment is ``grid.isolate(equipment)``: the *work zone*
(sections holding the equipment) is cut out by opening the nearest switches;
everything fed through it goes dark too. Each dark part downstream that holds
no work is a *block*; a normally-open tie with one end in a block and the
other on a live feeder is a :class:`TransferOption` for that block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gis import Isolation
from planning.outages.timeline import Timeline


@dataclass(frozen=True)
class TransferOption:
    """Closing ``tie`` re-feeds a block from ``feeder`` (of ``substation``).

    ``make_before_break`` when the block's own feeder comes from the same
    substation (closing first makes a short loop inside one substation) and a
    single switch parts the block from the work zone; otherwise
    break-before-make: the block is dark for a moment at each end.
    """

    tie: str
    feeder: str
    feeder_code: int
    substation: str | None
    make_before_break: bool


@dataclass
class Block:
    """A dark part downstream of the work zone; ``isolating_switches`` part it from the work zone."""

    nodes: frozenset[str]
    customers: np.ndarray  # customer indices (Timeline order)
    isolating_switches: tuple[str, ...]
    own_feeder: str | None
    own_substation: str | None
    options: list[TransferOption] = field(default_factory=list)
    load: np.ndarray = field(default_factory=lambda: np.zeros(0))  # kW per slot
    weighted_demand: float = 0.0
    split_switch: str | None = None  # a part of a split block: the switch opened inside the block


@dataclass(frozen=True)
class Split:
    """Opening ``switch`` inside a block parts it: ``parts`` are the pieces a tie reaches (each a
    :class:`Block` whose options are break-before-make), ``rest`` the customers no tie reaches."""

    switch: str
    parts: tuple[Block, ...]
    rest: np.ndarray


@dataclass
class Zone:
    """The outage zone of some equipment (see module doc)."""

    equipment: tuple[str, ...]
    isolation: Isolation
    work_customers: np.ndarray
    fixed_dead: np.ndarray  # customers dark whatever is transferred (work zone + blocks without ties)
    blocks: list[Block]
    own_feeders: frozenset[str]
    all_customers: np.ndarray
    upstream_switches: tuple[str, ...]  # isolating switches whose far end stays live (supply side)
    splits: dict[int, list[Split]] = field(default_factory=dict)  # per block index, filled on demand



def build_zone(tl: Timeline, equipment: Sequence[str]) -> Zone:
    """The :class:`Zone` of ``equipment``; raises the grid's errors for unknown/unisolable equipment."""
    g = tl.grid
    iso = g.isolate(list(equipment))
    ends = {s: tl.switch_ends[s] for s in iso.switches}
    upstream = tuple(s for s, (a, b) in ends.items() if a not in iso.nodes or b not in iso.nodes)
    own_feeders: set[str] = set()
    for s in iso.switches:
        for n in ends[s]:
            f = tl.node_feeder.get(n)
            if f is not None:
                own_feeders.add(f)
    all_idx = tl.customer_idx(iso.customers)
    work_idx = tl.customer_idx(iso.work_customers)
    downstream = iso.nodes - iso.work_nodes
    blocks: dict[frozenset[str], Block] = {}
    if downstream:
        opts = g.tie_options(sorted(downstream), open_switches=iso.switches)
        for opt in opts:
            if opt.feeder is None or opt.switch in iso.ties or not opt.customers:
                continue  # a block without customers is left dark: switching it gains nothing
            key = frozenset(opt.nodes)
            blk = blocks.get(key)
            if blk is None:
                iso_sw = tuple(s for s in iso.switches if ends[s][0] in key or ends[s][1] in key)
                own = None
                for s in iso_sw:
                    for n in ends[s]:
                        if n in key:
                            own = tl.node_feeder.get(n)
                            break
                    if own:
                        break
                cidx = tl.customer_idx(opt.customers)
                blk = Block(
                    nodes=key,
                    customers=cidx,
                    isolating_switches=iso_sw,
                    own_feeder=own,
                    own_substation=tl.feeder_substation.get(own) if own else None,
                    load=tl.load(cidx),
                    weighted_demand=float((tl.demand[cidx] * tl.weight[cidx]).sum()),
                )
                blocks[key] = blk
            code = tl.feeder_index.get(opt.feeder, -1)
            sub = tl.feeder_substation.get(opt.feeder)
            # make-before-break only inside one substation, and only when one switch parts the block
            # from the work zone: with several, the short loop would pull part of the work zone along
            mbb = sub is not None and sub == blk.own_substation and len(blk.isolating_switches) == 1
            blk.options.append(TransferOption(opt.switch, opt.feeder, code, sub, mbb))
    block_list = sorted(blocks.values(), key=lambda b: (-b.weighted_demand, sorted(b.nodes)[0]))
    for b in block_list:
        _order_options(tl, b.options)
    in_blocks = np.concatenate([b.customers for b in block_list]) if block_list else np.zeros(0, dtype=np.int64)
    fixed = np.setdiff1d(all_idx, in_blocks)
    z = Zone(
        equipment=tuple(equipment),
        isolation=iso,
        work_customers=work_idx,
        fixed_dead=fixed,
        blocks=block_list,
        own_feeders=frozenset(own_feeders),
        all_customers=all_idx,
        upstream_switches=upstream,
    )
    return z


def _order_options(tl: Timeline, options: list[TransferOption]) -> None:
    """Make-before-break first (no interruption), then the receiving feeder with most headroom."""

    def headroom(o: TransferOption) -> float:
        lim = tl.feeder_limit[o.feeder_code] if o.feeder_code >= 0 else np.nan
        return float(lim - tl.feeder_load[o.feeder_code].max()) if np.isfinite(lim) else -np.inf

    options.sort(key=lambda o: (not o.make_before_break, -headroom(o), o.tie))


def block_splits(tl: Timeline, zone: Zone, b: int, *, limit: int = 6) -> list[Split]:
    """Ways to part block ``b`` by opening one closed switch inside it so that ties can re-feed the
    pieces one by one (a block too heavy for any one tie, or for the only tie, is split): at most
    ``limit`` splits, those leaving the most weighted demand on pieces with a tie first. Cached."""
    if b in zone.splits:
        return zone.splits[b]
    blk = zone.blocks[b]
    sw = tl.grid.switches
    inside = sw["from_node"].isin(blk.nodes) & sw["to_node"].isin(blk.nodes) & ~sw["normally_open"].astype(bool)
    out: list[tuple[float, Split]] = []
    for s in sorted(sw.loc[inside, "id"]):
        split = _split_at(tl, zone, blk, str(s))
        if split is not None:
            out.append((-sum(p.weighted_demand for p in split.parts), split))
    out.sort(key=lambda x: (x[0], x[1].switch))
    zone.splits[b] = [x[1] for x in out[:limit]]
    return zone.splits[b]


def _split_at(tl: Timeline, zone: Zone, blk: Block, s: str) -> Split | None:
    ends = {x: tl.switch_ends[x] for x in blk.isolating_switches}
    parts: dict[frozenset[str], Block] = {}
    for opt in tl.grid.tie_options(sorted(blk.nodes), open_switches=[*zone.isolation.switches, s]):
        if opt.feeder is None or not opt.customers or opt.switch in zone.isolation.ties:
            continue
        key = frozenset(opt.nodes)
        part = parts.get(key)
        if part is None:
            if key == blk.nodes:
                return None  # the switch parts nothing a tie could use
            cidx = tl.customer_idx(opt.customers)
            iso = tuple(x for x, (a, c) in ends.items() if a in key or c in key) + (s,)
            part = Block(nodes=key, customers=cidx, isolating_switches=iso, own_feeder=blk.own_feeder,
                         own_substation=blk.own_substation, load=tl.load(cidx),
                         weighted_demand=float((tl.demand[cidx] * tl.weight[cidx]).sum()), split_switch=s)
            parts[key] = part
        code = tl.feeder_index.get(opt.feeder, -1)
        part.options.append(TransferOption(opt.switch, opt.feeder, code, tl.feeder_substation.get(opt.feeder), False))
    if not parts:
        return None
    for part in parts.values():
        _order_options(tl, part.options)
    covered = np.concatenate([p.customers for p in parts.values()])
    return Split(s, tuple(sorted(parts.values(), key=lambda p: -p.weighted_demand)), np.setdiff1d(blk.customers, covered))

