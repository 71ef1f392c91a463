"""Switching plans: ordered steps for one outage, and a validator that replays them state by state.

Order (at the start of the outage): transfers (make-before-break: close the
tie, then open the block's isolating switch — only when both feeders come
from one substation; otherwise break-before-make: open, then close, and the
block's customers are dark for ``switching_break_min``), open the supply-side
isolating switches, open the other isolating switches, keep the ties that
touch the work zone open (tagged), verify dead, apply earths at every
boundary switch on the work-zone side, start work. At the end: stop work,
remove earths, close the isolating switches, hand every transferred block back
(the reverse of how it was taken) and return the ties to normally open.

:func:`validate_steps` fails closed: after every step it checks that the work
zone is dead while earthed or worked on, that no two substations are
paralleled, that no feeder head is loaded beyond its limit (capacity x (1 -
margin)) where the switching added load, that the AC power flow of the state
keeps every line, switch, transformer and busbar within its rating and every
voltage within the band at every slot the state holds (the working state at
every 15-minute slot of the work, transient states at their slot; DG on and
off), and that no customer outside the planned set loses supply. Any finding
makes the plan invalid. ``Validator.states`` reports each distinct state's
power flow (worst loading and voltage, where and when).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from planning.outages import step_notes
from planning.outages.timeline import Timeline
from planning.outages.zones import TransferOption, Zone


@dataclass
class Step:
    """One switching or work step; ``customers_off``/``customers_on`` change supply at this step."""

    seq: int
    phase: str  # transfer | isolate | earth | work | restore
    action: str  # close | open | keep_open | verify_dead | apply_earth | remove_earth | start_work | end_work
    device: str | None
    at: datetime
    note: str = ""
    customers_off: list[str] = field(default_factory=list)
    customers_on: list[str] = field(default_factory=list)
    note_code: str = ""  # planning.outages.step_notes: the note as a code with params, in every language
    note_params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "phase": self.phase,
            "action": self.action,
            "device": self.device,
            "at": self.at.isoformat(),
            "note": self.note,
            **({"why": step_notes.why(self.note_code, self.note_params)} if self.note_code else {}),
            "customers_off": len(self.customers_off),
            "customers_on": len(self.customers_on),
        }


def build_steps(zone: Zone, chosen: list[TransferOption | None], *, start: datetime, end: datetime) -> list[Step]:
    """The ordered steps for ``zone`` with block ``i`` re-fed through ``chosen[i]`` (None: stays dark)."""
    iso = zone.isolation
    steps: list[Step] = []

    def add(phase: str, action: str, device: str | None, at: datetime, code: str, **params: Any) -> None:
        note = step_notes.render(code, params, "en")
        steps.append(Step(len(steps) + 1, phase, action, device, at, note, note_code=code, note_params=params))

    opened: set[str] = set()
    # switches opened inside a block to split it: opened once, closed last (after every hand-back)
    splits = [s for s in dict.fromkeys(b.split_switch for b, o in zip(zone.blocks, chosen, strict=True) if o is not None) if s]
    for blk, opt in zip(zone.blocks, chosen, strict=True):
        if opt is None:
            continue
        what: dict[str, Any] = {"code": "block", "customers": len(blk.customers), "feeder": opt.feeder}
        if blk.split_switch:
            what = {"code": "split_block", "switch": blk.split_switch, "customers": len(blk.customers), "feeder": opt.feeder}
        if opt.make_before_break:
            add("transfer", "close", opt.tie, start, "mbb_close_tie", what=what, substation=opt.substation)
            for s in blk.isolating_switches:
                add("transfer", "open", s, start, "mbb_fed_through", what=what, tie=opt.tie)
        else:
            for s in blk.isolating_switches:
                if s not in opened:
                    add("transfer", "open", s, start, "bbm_open", what=what, tie=opt.tie)
                    opened.add(s)
            add("transfer", "close", opt.tie, start, "bbm_close_tie", what=what, substation=opt.substation)
        opened.update(blk.isolating_switches)
    for s in zone.upstream_switches:
        if s not in opened:
            add("isolate", "open", s, start, "supply_side")
            opened.add(s)
    for s in iso.switches:
        if s not in opened:
            add("isolate", "open", s, start, "far_side")
            opened.add(s)
    for t in iso.ties:
        add("isolate", "keep_open", t, start, "keep_tie_open")
    add("isolate", "verify_dead", None, start, "verify_dead", nodes=len(iso.work_nodes))
    for s in (*iso.switches, *iso.ties):
        add("earth", "apply_earth", s, start, "portable_earth")
    add("work", "start_work", None, start, "work_on", equipment=list(zone.equipment))
    add("work", "end_work", None, end, "work_finished")
    for s in (*iso.switches, *iso.ties):
        add("restore", "remove_earth", s, end, "remove_earth")
    transferred = {s for blk, opt in zip(zone.blocks, chosen, strict=True) if opt is not None for s in blk.isolating_switches}
    rest = [s for s in iso.switches if s not in transferred and s not in zone.upstream_switches]
    for s in rest:
        add("restore", "close", s, end, "far_side_still_dark")
    for s in zone.upstream_switches:
        if s not in transferred:
            add("restore", "close", s, end, "reenergise")
    for blk, opt in zip(zone.blocks, chosen, strict=True):
        if opt is None:
            continue
        if opt.make_before_break:
            for s in blk.isolating_switches:
                add("restore", "close", s, end, "mbb_back", feeder=blk.own_feeder)
            add("restore", "open", opt.tie, end, "tie_back_open")
        else:
            back = [s for s in blk.isolating_switches if s not in splits]
            add("restore", "open", opt.tie, end, "bbm_back_open_tie", switches=list(back or blk.isolating_switches))
            for s in back:
                add("restore", "close", s, end, "block_back", feeder=blk.own_feeder)
    for s in splits:
        add("restore", "close", s, end, "rejoin_split", switch=s)
    return steps


@dataclass
class StateResult:
    dark: np.ndarray  # customer mask
    work_live: bool
    paralleled: tuple[tuple[str, str | None, str | None], ...]
    feeder_of: np.ndarray  # feeder code per customer, -1 dark
    dead_nodes: frozenset[str] = frozenset()
    feeder_demand: np.ndarray | None = None  # (feeder, profile) kW, cached
    mesh_groups: tuple[tuple[int, ...], ...] = ()  # feeder codes joined by a closed loop (one substation)


class Validator:
    """Replays steps on the grid (see module doc); caches topological states."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self._cache: dict[tuple[frozenset[str], frozenset[str]], StateResult] = {}
        sw = tl.grid.switches
        self.normally_open = dict(zip(sw["id"], sw["normally_open"].astype(bool), strict=True))
        self._feeder_ix = pd.Index(tl.feeder_ids)
        self.states: list[dict[str, Any]] = []  # power flow of each distinct state of the last validate()

    def state(self, opened: frozenset[str], closed: frozenset[str], work_nodes: frozenset[str]) -> StateResult:
        key = (opened, closed)
        hit = self._cache.get(key)
        g, tl = self.tl.grid, self.tl
        if hit is None:
            st = g.study(open_switches=sorted(opened), close_switches=sorted(closed))
            feeders = g.customer_feeders(state=st).to_numpy(dtype=object)
            codes = self._feeder_ix.get_indexer(feeders).astype(np.int64)  # None (dark) -> -1
            chk = g.check_state(open_switches=sorted(opened), close_switches=sorted(closed))
            dead_nodes = g.dead_nodes(open_switches=sorted(opened), close_switches=sorted(closed))
            pairs = []
            for sw, fa, fb, _, _ in chk.meshes:
                # the loop's feeders as topology names them, and as they are normally
                ends = [tl.node_feeder.get(n) for n in tl.switch_ends[sw]]
                codes_m = [tl.feeder_index.get(f or "", -1) for f in (fa, fb, *ends)]
                pairs += [(codes_m[0], c) for c in codes_m[1:]]
            groups = _mesh_groups(pairs)
            hit = StateResult(codes < 0, False, chk.paralleled, codes, frozenset(dead_nodes), tl.feeder_demand(codes), groups)
            self._cache[key] = hit
        work_live = not work_nodes <= hit.dead_nodes
        return StateResult(hit.dark, work_live, hit.paralleled, hit.feeder_of, hit.dead_nodes, hit.feeder_demand, hit.mesh_groups)

    def validate(
        self,
        zone: Zone,
        steps: list[Step],
        *,
        allowed_dark: np.ndarray,
        start_slot: int,
        end_slot: int,
    ) -> list[str]:
        """Problems found replaying ``steps`` (empty list: safe). Fills each step's customers_off/on.

        ``allowed_dark``: customer indices that may lose supply at some step;
        loads are checked at ``start_slot`` for the opening states, every slot
        of ``[start_slot, end_slot)`` for the working state, the slot of their time after.
        """
        tl = self.tl
        problems: list[str] = []
        opened: set[str] = set()
        closed: set[str] = set()
        earthed: set[str] = set()
        working = False
        work_nodes = zone.isolation.work_nodes
        allowed = np.zeros(len(tl.cust_ids), dtype=bool)
        allowed[allowed_dark] = True
        prev = self.state(frozenset(), frozenset(), work_nodes)
        base_dark = prev.dark.copy() if prev.dark.any() else np.zeros(len(tl.cust_ids), dtype=bool)
        normal_load = tl.feeder_load
        seen: dict[tuple[frozenset[str], frozenset[str]], tuple[list[int], set[int], str]] = {}
        for i, st in enumerate(steps):
            dev = st.device
            if st.action in ("open", "close") and dev is not None:
                if dev not in self.normally_open:
                    problems.append(f"step {st.seq}: unknown switch {dev}")
                    continue
                nopen = self.normally_open[dev]
                if st.action == "open":
                    if nopen:
                        closed.discard(dev)
                    else:
                        opened.add(dev)
                else:
                    if nopen:
                        closed.add(dev)
                    else:
                        opened.discard(dev)
            elif st.action == "apply_earth":
                earthed.add(str(dev))
            elif st.action == "remove_earth":
                earthed.discard(str(dev))
            elif st.action == "start_work":
                working = True
            elif st.action == "end_work":
                working = False
            cur = self.state(frozenset(opened), frozenset(closed), work_nodes)
            if cur.work_live and (earthed or working or st.action == "verify_dead"):
                problems.append(f"step {st.seq} ({st.action} {dev or ''}): the work zone is energised while {'earthed' if earthed else 'worked on' if working else 'being proven dead'}")
            for sw, sa, sb in cur.paralleled:
                problems.append(f"step {st.seq} ({st.action} {dev}): switch {sw} parallels substations {sa} and {sb}")
            unplanned = cur.dark & ~allowed & ~base_dark
            if unplanned.any():
                ids = tl.cust_ids[unplanned][:5]
                problems.append(f"step {st.seq} ({st.action} {dev}): {int(unplanned.sum())} customer(s) lose supply unplanned (e.g. {', '.join(map(str, ids))})")
            off = cur.dark & ~prev.dark
            on = prev.dark & ~cur.dark
            st.customers_off = [str(x) for x in tl.cust_ids[off]]
            st.customers_on = [str(x) for x in tl.cust_ids[on]]
            if opened or closed:
                nxt = steps[i + 1] if i + 1 < len(steps) else None
                if working or (nxt is not None and nxt.action == "end_work"):
                    slots = np.arange(start_slot, max(end_slot, start_slot + 1))
                elif st.at > tl.time_of(start_slot) or st.phase == "restore":
                    slots = np.array([min(int(tl.slot_of(st.at)), tl.n_slots - 1)])  # the hand-back's slot
                else:
                    slots = np.array([start_slot])
                key = (frozenset(opened), frozenset(closed))
                seqs, slot_set, phase = seen.setdefault(key, ([], set(), st.phase))
                seqs.append(st.seq)
                slot_set.update(int(x) for x in slots)
                why = tl.flows.first_failure(opened, closed, slots)
                if why is not None:
                    problems.append(f"step {st.seq} ({st.action} {dev}): power flow: {why}")
                assert cur.feeder_demand is not None
                load = cur.feeder_demand @ tl.factor[:, slots]
                lim = np.repeat(tl.feeder_limit[:, None], len(slots), axis=1)
                base = normal_load[:, slots].copy()
                for grp in cur.mesh_groups:
                    # a loop inside one substation shares its load in a way topology cannot tell:
                    # check the looped feeders together against their summed limits
                    ix = list(grp)
                    load[ix] = load[ix].sum(axis=0)
                    lim[ix] = lim[ix].sum(axis=0)
                    base[ix] = base[ix].sum(axis=0)
                over = (load > lim + 1e-6) & (load > base + 1e-6) & np.isfinite(lim)
                for f in np.flatnonzero(over.any(axis=1)):
                    k = int(np.argmax(np.where(over[f], load[f] - lim[f], -np.inf)))
                    problems.append(
                        f"step {st.seq} ({st.action} {dev}): feeder {tl.feeder_ids[f]} carries {load[f, k]:.0f} kW at "
                        f"{tl.time_of(int(slots[k])).isoformat()}, above its limit {float(lim[f, k]):.0f} kW"
                    )
            prev = cur
        if opened or closed or earthed or working:
            problems.append(f"the plan does not end in the normal state (open {sorted(opened)}, closed {sorted(closed)}, earths {sorted(earthed)})")
        self.states = [
            {"steps": seqs, "phase": phase, "open": sorted(k[0]), "closed": sorted(k[1]),
             **tl.flows.report(k[0], k[1], np.array(sorted(slot_set), dtype=np.int64))}
            for k, (seqs, slot_set, phase) in seen.items()
        ]
        return problems


def _mesh_groups(pairs: list[tuple[int, int]]) -> tuple[tuple[int, ...], ...]:
    """Connected groups of feeder codes joined by meshes (union-find)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in pairs:
        if a >= 0 and b >= 0 and a != b:
            parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    return tuple(tuple(sorted(g)) for g in groups.values() if len(g) > 1)
