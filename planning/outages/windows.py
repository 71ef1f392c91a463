"""Candidate windows of one outage (能小必小) with transfers (能转必转) decided per start.

For every start on the time step inside the job window, working hours and
notice lead, :func:`evaluate` decides which blocks can be transferred (the
receiving feeder's load plus the block's load must stay within its limit at
every 15-minute slot of the window), drops starts that overlap the peak hours
of a ``peak_grades`` customer who would lose supply, and prices the rest:

    cost = Σ weight(importance) x kWh not supplied  +  interruption_cost_kwh x Σ weight of customers interrupted

(weighted kWh). Customers a generator truck would cover (eligible grade, no
backup, a truck of the fleet large enough for their peak in the window) are
not counted as losing supply in the cost; whether a truck is free is decided
after scheduling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from planning.outages.timeline import SLOT_MIN, Timeline
from planning.outages.zones import Block, Split, Zone, block_splits

DEAD, MBB, BBM, SPLIT = 0, 1, 2, 3


@dataclass
class Candidates:
    """Feasible starts of one outage and what each would do (arrays aligned with ``starts``)."""

    starts: np.ndarray  # slot indices
    cost: np.ndarray  # weighted kWh
    customer_minutes: np.ndarray
    assign: np.ndarray  # (n_blocks, n_starts): option index or -1
    generators_needed: np.ndarray  # trucks needed at each start
    receiving_feeders: frozenset[str]
    duration_min: int
    mbb_ok: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))  # (n_blocks, n_starts): loop passes
    split_of: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))  # index into zone.splits[b], -1 none
    part_assign: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=object))  # per split: option per part (-1 dark)
    dropped: dict[str, int] = field(default_factory=dict)  # starts removed, by reason
    window: tuple[int, int] = (0, -1)  # first and last start slot considered

    def __len__(self) -> int:
        return len(self.starts)

    def subset(self, keep: np.ndarray, *, reason: str) -> Candidates:
        """The candidates at ``keep`` (a mask over the starts); the others counted as dropped for ``reason``."""
        dropped = dict(self.dropped)
        if (~keep).any():
            dropped[reason] = dropped.get(reason, 0) + int((~keep).sum())
        return Candidates(
            starts=self.starts[keep], cost=self.cost[keep], customer_minutes=self.customer_minutes[keep],
            assign=self.assign[:, keep], generators_needed=self.generators_needed[keep],
            receiving_feeders=self.receiving_feeders, duration_min=self.duration_min, mbb_ok=self.mbb_ok[:, keep],
            split_of=self.split_of[:, keep], part_assign=self.part_assign[:, keep], dropped=dropped, window=self.window,
        )

    def best(self) -> int:
        """Index of the cheapest start (earliest on ties)."""
        return int(np.lexsort((self.starts, self.cost))[0])


def start_range(tl: Timeline, *, earliest: datetime, latest: datetime, duration_min: int, now: datetime) -> tuple[int, int]:
    """First and last candidate start slot (aligned to the time step) for a job window."""
    o = tl.options
    step = tl.step_slots
    first = max(earliest, now + timedelta(days=o.notice_lead_days))
    lo = math.ceil(tl.slot_of(first) - 1e-9)
    lo = -(-lo // step) * step
    last = min(latest - timedelta(minutes=duration_min), now + timedelta(days=o.horizon_days))
    hi = math.floor(tl.slot_of(last) + 1e-9)
    hi = min(hi, tl.n_slots - tl.touched(duration_min) - 2)
    return lo, hi


def hours_mask(tl: Timeline, starts: np.ndarray, duration_min: int, night_work: bool) -> np.ndarray:
    """Starts on working days whose whole interval lies in working hours of one local day (unless night work)."""
    o = tl.options
    ok = np.isin(tl.iso_weekday[starts], list(o.working_days))
    if night_work:
        return ok
    n = tl.touched(duration_min)
    last = starts + n - 1
    ws = o.working_hours[0].hour * 60 + o.working_hours[0].minute
    we = o.working_hours[1].hour * 60 + o.working_hours[1].minute
    end_min = tl.minute_of_day[last] + (duration_min - (n - 1) * SLOT_MIN)
    return ok & (tl.minute_of_day[starts] >= ws) & (end_min <= we) & (tl.local_day[last] == tl.local_day[starts])


def evaluate(
    tl: Timeline,
    zone: Zone,
    *,
    duration_min: int,
    earliest: datetime,
    latest: datetime,
    night_work: bool,
    now: datetime,
    respect_peaks: bool = True,
    transfers: bool = True,
    flows: bool = True,
) -> Candidates:
    """All feasible starts of an outage of ``zone`` lasting ``duration_min`` (see module doc).

    ``flows=False`` judges transfers by the receiving feeder's head only (no power flow, no splits,
    every make-before-break allowed): an optimistic screen, e.g. to compare merges cheaply."""
    o = tl.options
    lo, hi = start_range(tl, earliest=earliest, latest=latest, duration_min=duration_min, now=now)
    dropped: dict[str, int] = {}
    starts = np.arange(lo, hi + 1, tl.step_slots, dtype=np.int64) if hi >= lo else np.zeros(0, dtype=np.int64)
    hm = hours_mask(tl, starts, duration_min, night_work)
    if (~hm).any():
        dropped["outside_working_hours"] = int((~hm).sum())
    starts = starts[hm]
    n = tl.touched(duration_min)
    blocks = zone.blocks if transfers else []
    nb, ns = len(blocks), len(starts)
    assign = np.full((nb, ns), -1, dtype=np.int64)
    mbb_ok = np.ones((nb, ns), dtype=bool)
    split_of = np.full((nb, ns), -1, dtype=np.int64)
    part_assign = np.full((nb, ns), None, dtype=object)
    if ns and nb:
        _assign_transfers(tl, zone, blocks, starts, n, assign, flows=flows)
        if flows:
            _check_combined(tl, zone, blocks, starts, n, assign)
            _split_blocks(tl, zone, starts, n, assign, split_of, part_assign)
            mbb_ok = _loops_ok(tl, blocks, starts, tl.end_offset(duration_min), assign)
    receiving = {blocks[b].options[a].feeder for b in range(nb) for a in set(assign[b].tolist()) if a >= 0}
    receiving |= {p.options[a].feeder for (b, j) in zip(*np.nonzero(split_of >= 0), strict=True)
                  for p, a in zip(zone.splits[b][split_of[b, j]].parts, part_assign[b, j], strict=True) if a >= 0}
    state = np.full((nb, ns), DEAD, dtype=np.int64)
    for b, blk in enumerate(blocks):
        a = assign[b]
        mbb = np.array([blk.options[i].make_before_break if i >= 0 else False for i in a], dtype=bool) & mbb_ok[b]
        state[b] = np.where(a < 0, np.where(split_of[b] >= 0, SPLIT, DEAD), np.where(mbb, MBB, BBM))
    fixed = zone.fixed_dead if transfers else zone.all_customers
    ok = np.ones(ns, dtype=bool)
    if respect_peaks and ns:
        ok &= ~_peak_hit(tl, fixed, starts, duration_min)
        for b, blk in enumerate(blocks):
            full = _peak_hit(tl, blk.customers, starts, duration_min)
            short = _peak_short(tl, blk.customers, starts, tl.end_offset(duration_min))
            ok &= ~np.where(state[b] == DEAD, full, np.where(state[b] == BBM, short, False))
            for j in np.flatnonzero(state[b] == SPLIT):
                dark, brk_idx = split_customers(zone.splits[b][split_of[b, j]], part_assign[b, j])
                one = starts[j:j + 1]
                ok[j] &= not (_peak_hit(tl, dark, one, duration_min)[0] or _peak_short(tl, brk_idx, one, tl.end_offset(duration_min))[0])
        if (~ok).any():
            dropped["peak_hours"] = int((~ok).sum())
    if tl.repeats and ns:
        rep = _repeat_hit(tl, zone, fixed, blocks, state, split_of, part_assign, starts)
        if (ok & ~rep).any() and (ok & rep).any():  # a hard constraint where another start is left
            dropped["repeat_interruptions"] = int((ok & rep).sum())
            ok &= ~rep
    starts, assign, state, mbb_ok = starts[ok], assign[:, ok], state[:, ok], mbb_ok[:, ok]
    split_of, part_assign = split_of[:, ok], part_assign[:, ok]
    ns = len(starts)
    brk = o.switching_break_min
    cost = np.zeros(ns)
    cm = np.zeros(ns)
    gens = np.zeros(ns, dtype=np.int64)
    if ns:
        we, wi, cnt, g = _harm(tl, fixed, starts, duration_min)
        cost += we + o.interruption_cost_kwh * wi
        cm += cnt * duration_min
        gens += g
        for b, blk in enumerate(blocks):
            dead = state[b] == DEAD
            bbm = state[b] == BBM
            we, wi, cnt, g = _harm(tl, blk.customers, starts, duration_min)
            wl = tl.load(blk.customers, tl.weight[blk.customers])
            short_e = (wl[starts] + wl[starts + tl.end_offset(duration_min)]) * brk / 60.0
            wsum = float(tl.weight[blk.customers].sum())
            cost += np.where(dead, we + o.interruption_cost_kwh * wi, 0.0)
            cost += np.where(bbm, short_e + o.interruption_cost_kwh * wsum, 0.0)
            cm += np.where(dead, cnt * duration_min, np.where(bbm, len(blk.customers) * 2 * brk, 0))
            gens += np.where(dead, g, 0)
            for j in np.flatnonzero(state[b] == SPLIT):
                c, m, k = _split_harm(tl, zone.splits[b][split_of[b, j]], part_assign[b, j], int(starts[j]), duration_min)
                cost[j] += c
                cm[j] += m
                gens[j] += k
    return Candidates(
        starts=starts,
        cost=cost,
        customer_minutes=cm,
        assign=assign,
        generators_needed=gens,
        receiving_feeders=frozenset(receiving),
        mbb_ok=mbb_ok,
        split_of=split_of,
        part_assign=part_assign,
        duration_min=duration_min,
        dropped=dropped,
        window=(lo, hi),
    )


def _assign_transfers(tl: Timeline, zone: Zone, blocks: list[Block] | tuple[Block, ...], starts: np.ndarray, n: int,
                      assign: np.ndarray, *, also_open: tuple[str, ...] = (), flows: bool = True) -> None:
    """能转必转, block by block (most valuable first), at every start: the first option (make-before-break,
    then most headroom) whose receiving feeder's head stays within its limit with what it already took,
    and whose state (the zone isolated, ``also_open`` opened, this tie closed) passes the power flow at
    every slot of the work and of the hand-back (``n + 1`` slots)."""
    added: dict[int, np.ndarray] = {}
    opened = (*zone.isolation.switches, *also_open)
    for b, blk in enumerate(blocks):
        tw = tl.windows(blk.load, starts, n + 1)
        for oi, opt in enumerate(blk.options):
            code = opt.feeder_code
            lim = tl.feeder_limit[code] if code >= 0 else np.nan
            if not np.isfinite(lim):
                continue  # unknown rating: the transfer cannot be checked, so it is not made
            lw = tl.windows(tl.feeder_load[code], starts, n + 1) + added.get(code, 0.0)
            ok = ((lw + tw) <= lim + 1e-9).all(axis=1) & (assign[b] < 0)
            if ok.any() and flows:
                ok[ok] = tl.flows.window_ok(opened, (opt.tie,), starts[ok], n + 1)
            if ok.any():
                assign[b, ok] = oi
                added[code] = added.get(code, 0.0) + tw * ok[:, None]


def _check_combined(tl: Timeline, zone: Zone, blocks: list[Block], starts: np.ndarray, n: int, assign: np.ndarray) -> None:
    """Where several blocks are transferred at once, the state with all their ties closed must pass the
    power flow too (two blocks on one feeder add up); otherwise the least valuable transfer is given up."""
    opened = zone.isolation.switches
    while True:
        ties = [tuple(blocks[b].options[assign[b, j]].tie for b in range(len(blocks)) if assign[b, j] >= 0) for j in range(len(starts))]
        groups: dict[tuple[str, ...], list[int]] = {}
        for j, t in enumerate(ties):
            if len(t) > 1:
                groups.setdefault(t, []).append(j)
        failed = False
        for t, js in groups.items():
            ok = tl.flows.window_ok(opened, t, starts[js], n + 1)
            for j in np.asarray(js)[~ok]:
                last = max(b for b in range(len(blocks)) if assign[b, j] >= 0)
                assign[last, j] = -1
                failed = True
        if not failed:
            return


def _split_blocks(tl: Timeline, zone: Zone, starts: np.ndarray, n: int, assign: np.ndarray,
                  split_of: np.ndarray, part_assign: np.ndarray) -> None:
    """Where no tie can take a whole block, split it (see :func:`block_splits`): the first split whose
    pieces ties can re-feed, checked like whole blocks and then together with every other transfer of
    that start (all ties closed, the split switch open)."""
    for b, blk in enumerate(zone.blocks):
        if not blk.options or (assign[b] >= 0).all():
            continue
        for si, sp in enumerate(block_splits(tl, zone, b)):
            todo = np.flatnonzero((assign[b] < 0) & (split_of[b] < 0))
            if not len(todo):
                break
            pa = np.full((len(sp.parts), len(todo)), -1, dtype=np.int64)
            _assign_transfers(tl, zone, sp.parts, starts[todo], n, pa, also_open=(sp.switch,))
            for k, j in enumerate(todo):
                if (pa[:, k] < 0).all():
                    continue
                ties = [zone.blocks[x].options[assign[x, j]].tie for x in range(len(zone.blocks)) if assign[x, j] >= 0]
                ties += [p.options[a].tie for p, a in zip(sp.parts, pa[:, k], strict=True) if a >= 0]
                if tl.flows.window_ok((*zone.isolation.switches, sp.switch), tuple(ties), starts[j:j + 1], n + 1)[0]:
                    split_of[b, j] = si
                    part_assign[b, j] = tuple(int(a) for a in pa[:, k])


def split_customers(sp: Split, chosen: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(customers dark for the work, customers with break-before-make short breaks) of a split."""
    dark = [sp.rest] + [p.customers for p, a in zip(sp.parts, chosen, strict=True) if a < 0]
    moved = [p.customers for p, a in zip(sp.parts, chosen, strict=True) if a >= 0]
    return np.concatenate(dark).astype(np.int64), np.concatenate(moved).astype(np.int64) if moved else np.zeros(0, dtype=np.int64)


def _split_harm(tl: Timeline, sp: Split, chosen: tuple[int, ...], start: int, duration_min: int) -> tuple[float, float, int]:
    """(cost, customer-minutes, trucks needed) of a split block at one start."""
    o = tl.options
    dark, moved = split_customers(sp, chosen)
    one = np.array([start])
    we, wi, cnt, g = _harm(tl, dark, one, duration_min)
    wl = tl.load(moved, tl.weight[moved])
    brk = o.switching_break_min
    short = float((wl[start] + wl[start + tl.end_offset(duration_min)]) * brk / 60.0) + o.interruption_cost_kwh * float(tl.weight[moved].sum())
    return float(we[0] + o.interruption_cost_kwh * wi[0]) + short, float(cnt[0] * duration_min + len(moved) * 2 * brk), int(g[0])


def _loops_ok(tl: Timeline, blocks: list[Block], starts: np.ndarray, end: int, assign: np.ndarray) -> np.ndarray:
    """Per block and start: may the transfer be made before break? The loop (the tie closed while the
    block is still fed from its own feeder, at the start and again at the hand-back) must pass the power
    flow; where it does not, the transfer is made break-before-make instead."""
    out = np.ones(assign.shape, dtype=bool)
    for b, blk in enumerate(blocks):
        for oi, opt in enumerate(blk.options):
            use = assign[b] == oi
            if not opt.make_before_break or not use.any():
                continue
            s = starts[use]
            out[b, use] = tl.flows.slots_ok((), (opt.tie,), s) & tl.flows.slots_ok((), (opt.tie,), s + end)
    return out


def _repeat_hit(tl: Timeline, zone: Zone, fixed: np.ndarray, blocks: list[Block] | tuple[Block, ...], state: np.ndarray,
                split_of: np.ndarray, part_assign: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per start: would a customer left dark (not a short break) go over its repeated-interruption limit?"""
    out = tl.repeats.hit(fixed, starts)
    for b, blk in enumerate(blocks):
        out |= np.where(state[b] == DEAD, tl.repeats.hit(blk.customers, starts), False)
        for j in np.flatnonzero(state[b] == SPLIT):
            dark, _ = split_customers(zone.splits[b][split_of[b, j]], part_assign[b, j])
            out[j] |= tl.repeats.hit(dark, starts[j:j + 1])[0]
    return out


def _peak_hit(tl: Timeline, idx: np.ndarray, starts: np.ndarray, duration_min: int) -> np.ndarray:
    graded = idx[tl.peak_graded[idx]]
    out = np.zeros(len(starts), dtype=bool)
    for c in graded:
        out |= tl.any_in(tl.peak_mask(c), starts, duration_min)
    return out


def _peak_short(tl: Timeline, idx: np.ndarray, starts: np.ndarray, end: int) -> np.ndarray:
    """Per start: is a graded customer of ``idx`` in its peak hours at a break-before-make moment
    (the start slot, or the slot ``end`` after it where the hand-back is made)?"""
    graded = idx[tl.peak_graded[idx]]
    out = np.zeros(len(starts), dtype=bool)
    for c in graded:
        m = tl.peak_mask(c)
        out |= m[starts] | m[starts + end]
    return out


def generator_cover(tl: Timeline, cust: int, starts: np.ndarray, duration_min: int) -> tuple[np.ndarray, np.ndarray]:
    """(peak kW in the window, True where the fleet has a truck at least that large) for each start."""
    n = tl.touched(duration_min)
    peak = tl.windows(tl.customer_load(cust), starts, n).max(axis=1)
    biggest = max((g.kw for g in tl.options.generator_fleet), default=0.0)
    return peak, peak <= biggest + 1e-9


def _harm(tl: Timeline, idx: np.ndarray, starts: np.ndarray, duration_min: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted kWh not supplied, weighted interruptions, customers interrupted, trucks needed —
    per start, when customers ``idx`` lose grid supply for the whole window."""
    ns = len(starts)
    if len(idx) == 0:
        z = np.zeros(ns)
        return z, z, z, np.zeros(ns, dtype=np.int64)
    w = tl.weight[idx]
    we = tl.energy(tl.load(idx, w), starts, duration_min)
    wi = np.full(ns, float(w.sum()))
    cnt = np.full(ns, float(len(idx)))
    gens = np.zeros(ns, dtype=np.int64)
    if tl.options.generator_fleet:
        for c in idx[tl.gen_eligible[idx]]:
            _, covered = generator_cover(tl, int(c), starts, duration_min)
            e = tl.weight[c] * tl.energy(tl.customer_load(int(c)), starts, duration_min)
            we = we - np.where(covered, e, 0.0)
            wi = wi - np.where(covered, tl.weight[c], 0.0)
            gens += covered
    return we, wi, cnt, gens
