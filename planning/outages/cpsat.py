"""The schedule across outages with OR-Tools CP-SAT. The only module that imports OR-Tools.

Model: per outage an index variable over its candidate starts (plus one extra
value meaning *not scheduled*); start and cost are ``element`` lookups of the
index; an optional fixed-size interval is present when scheduled. Outages that
share a resource get a no-overlap constraint per resource. A resource is held
either at every start (a feeder the outage de-energises, a crew) or only at
some (``Task.conditional``: a feeder that receives a transfer chosen for that
start), in which case it gets its own optional interval, present iff the
chosen start holds it. Trucks of the generator fleet are a cumulative
resource. Costs are integers (weighted kWh x ``COST_SCALE``).

:func:`solve` works in two phases: (1) place as many outages as possible over
every candidate start, starting from a greedy schedule (least flexible outage
first, cheapest free start) improved by :func:`repair`; (2) minimise the cost
with at least that many placed, over each outage's cheapest starts plus its
phase-1 start. The best schedule found so far is always a solution, so the
answer is never worse than the greedy one.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

log = logging.getLogger(__name__)

COST_SCALE = 10  # integer costs: tenths of a weighted kWh


@dataclass(frozen=True)
class Task:
    """One outage to place: candidate ``starts`` and ``durations`` in minutes from the origin."""

    starts: np.ndarray  # minutes, ascending or not
    cost: np.ndarray  # weighted kWh per start
    duration_min: int
    resources: frozenset[str]  # "feeder:F1", "crew:C3": held at every start
    generators: int = 0
    # resources held only at some starts (e.g. a feeder that receives a transfer chosen at that
    # start): (name, boolean mask aligned with ``starts``)
    conditional: tuple[tuple[str, np.ndarray], ...] = ()
    weight: int = 1  # what placing it is worth (the number of jobs it does)

    def resources_at(self, j: int) -> frozenset[str]:
        """Resources held when the task starts at candidate ``j``."""
        extra = {r for r, mask in self.conditional if mask[j]}
        return self.resources | extra if extra else self.resources

    def subset(self, keep: np.ndarray) -> Task:
        """The task restricted to candidates ``keep``."""
        return Task(self.starts[keep], self.cost[keep], self.duration_min, self.resources, self.generators,
                    tuple((r, mask[keep]) for r, mask in self.conditional if mask[keep].any()), self.weight)


@dataclass(frozen=True)
class Schedule:
    """Chosen candidate index per task (None = not scheduled) and how the solver fared."""

    choice: list[int | None]
    status: str  # OPTIMAL, FEASIBLE, GREEDY (solver found nothing better in time), EMPTY
    objective: float  # weighted kWh (unscheduled penalties excluded)
    best_bound: float | None
    gap: float | None  # (objective - bound) / objective of the solver's model
    wall_s: float
    unscheduled: int
    placement_proven: bool = False  # no schedule places more tasks (phase 1 optimal)
    greedy_unscheduled: int = 0


def greedy(tasks: Sequence[Task], fleet_size: int) -> list[int | None]:
    """Least flexible first; each takes its cheapest start that overlaps no placed task sharing a resource."""
    placed: dict[str, list[tuple[int, int]]] = {}
    gen_use: list[tuple[int, int, int]] = []
    choice: list[int | None] = [None] * len(tasks)
    for i in sorted(range(len(tasks)), key=lambda i: (len(tasks[i].starts), i)):
        t = tasks[i]
        for j in np.lexsort((t.starts, t.cost)):
            s = int(t.starts[j])
            e = s + t.duration_min
            held = t.resources_at(int(j))
            if any(a < e and s < b for r in held for a, b in placed.get(r, ())):
                continue
            if t.generators and fleet_size:
                busy = sum(g for a, b, g in gen_use if a < e and s < b)
                if busy + min(t.generators, fleet_size) > fleet_size:
                    continue
            choice[i] = int(j)
            for r in held:
                placed.setdefault(r, []).append((s, e))
            if t.generators and fleet_size:
                gen_use.append((s, e, min(t.generators, fleet_size)))
            break
    return choice


def repair(tasks: Sequence[Task], choice: Sequence[int | None], fleet_size: int, *, max_blockers: int = 2, rounds: int = 3) -> list[int | None]:
    """Place left-out tasks by moving a few placed ones: for each unplaced task and each of its
    starts (cheapest first) blocked by at most ``max_blockers`` tasks on a shared resource (and
    no generator clash), take the blockers out, place the task, and re-place each blocker at its
    cheapest start that collides with nothing; undo if one cannot be re-placed. Every schedule it
    returns satisfies the same constraints as :func:`greedy`'s."""
    choice = list(choice)

    def span(i: int, j: int) -> tuple[int, int]:
        s = int(tasks[i].starts[j])
        return s, s + tasks[i].duration_min

    def trucks(i: int) -> int:
        return min(tasks[i].generators, fleet_size) if fleet_size else 0

    def blockers(i: int, j: int) -> set[int] | None:
        s, e = span(i, j)
        held = tasks[i].resources_at(j)
        out: set[int] = set()
        gen = trucks(i)
        for k, c in enumerate(choice):
            if c is None or k == i:
                continue
            a, b = span(k, c)
            if a < e and s < b:
                if held & tasks[k].resources_at(c):
                    out.add(k)
                elif gen:
                    gen += trucks(k)
        return None if gen > fleet_size else out  # a truck clash is left to CP-SAT

    def cheapest(i: int) -> np.ndarray:
        return np.lexsort((tasks[i].starts, tasks[i].cost))

    for _ in range(rounds):
        improved = False
        for i in range(len(tasks)):
            if choice[i] is not None:
                continue
            for j in cheapest(i):
                b = blockers(i, int(j))
                if b is None or len(b) > max_blockers:
                    continue
                old = {k: choice[k] for k in b}
                for k in b:
                    choice[k] = None
                choice[i] = int(j)
                ok = True
                for k in sorted(b, key=lambda k: (len(tasks[k].starts), k)):
                    free = next((int(jj) for jj in cheapest(k) if blockers(k, int(jj)) == set()), None)
                    if free is None:
                        ok = False
                        break
                    choice[k] = free
                if ok:
                    improved = True
                    break
                choice[i] = None
                for k, v in old.items():
                    choice[k] = v
        if not improved:
            break
    return choice


def _model(
    tasks: Sequence[Task], costs: Sequence[np.ndarray], penalty: Sequence[int], hint: Sequence[int | None], fleet_size: int
) -> tuple[cp_model.CpModel, list[cp_model.IntVar], list[cp_model.IntVar], list[cp_model.IntVar]]:
    """The CP-SAT model of ``tasks`` (see module doc): returns (model, index vars, presence vars, cost vars)."""
    m = cp_model.CpModel()
    by_res: dict[str, list[cp_model.IntervalVar]] = {}
    gen_iv: list[cp_model.IntervalVar] = []
    gen_dem: list[int] = []
    cost_vars = []
    idx_vars = []
    on_vars = []
    for i, (t, c) in enumerate(zip(tasks, costs, strict=True)):
        n = len(t.starts)
        idx = m.new_int_var(0, n, f"idx{i}")
        idx_vars.append(idx)
        present = m.new_bool_var(f"on{i}")
        on_vars.append(present)
        m.add(idx < n).only_enforce_if(present)
        m.add(idx == n).only_enforce_if(~present)
        starts = [int(s) for s in t.starts] + ([int(t.starts[0])] if n else [0])
        cvals = [int(x) for x in c] + [int(penalty[i])]
        start = m.new_int_var_from_domain(cp_model.Domain.from_values(sorted(set(starts))), f"start{i}")
        cost = m.new_int_var(min(cvals), max(cvals), f"cost{i}")
        m.add_element(idx, starts, start)
        m.add_element(idx, cvals, cost)
        cost_vars.append(cost)
        iv = m.new_optional_fixed_size_interval_var(start, t.duration_min, present, f"iv{i}")
        h = hint[i]
        for r in t.resources:
            by_res.setdefault(r, []).append(iv)
        for r, mask in t.conditional:
            if r in t.resources:
                continue
            if mask.all():
                by_res.setdefault(r, []).append(iv)
                continue
            held = m.new_bool_var(f"held{i}_{r}")  # true iff the chosen start holds r
            m.add_element(idx, [int(x) for x in mask] + [0], held)
            by_res.setdefault(r, []).append(m.new_optional_fixed_size_interval_var(start, t.duration_min, held, f"iv{i}_{r}"))
            if h is not None:
                m.add_hint(held, bool(mask[h]))
        if t.generators and fleet_size:
            gen_iv.append(iv)
            gen_dem.append(min(t.generators, fleet_size))
        m.add_hint(idx, n if h is None else h)
        m.add_hint(present, h is not None)
        m.add_hint(start, starts[n if h is None else h])
        m.add_hint(cost, cvals[n if h is None else h])
    for ivs in by_res.values():
        if len(ivs) > 1:
            m.add_no_overlap(ivs)
    if len(gen_iv) > 1:
        m.add_cumulative(gen_iv, gen_dem, fleet_size)
    return m, idx_vars, on_vars, cost_vars


def _run(m: cp_model.CpModel, time_limit_s: float, workers: int, seed: int) -> tuple[cp_model.CpSolver, Any]:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, float(time_limit_s))
    solver.parameters.num_workers = max(1, int(workers))
    solver.parameters.random_seed = seed
    # probing and symmetry detection cost seconds on this model and pay little
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    solver.parameters.log_search_progress = bool(int(os.environ.get("CPSAT_LOG", "0")))
    # Not repair_hint: OR-Tools 9.15 can abort the process with it ("Check failed:
    # heuristics.fixed_search != nullptr", google/or-tools#5025). The hint is feasible anyway.
    return solver, solver.solve(m)


def _values(solver: cp_model.CpSolver, idx_vars: Sequence[cp_model.IntVar], tasks: Sequence[Task]) -> list[int | None]:
    out: list[int | None] = []
    for v, t in zip(idx_vars, tasks, strict=True):
        k = int(solver.value(v))
        out.append(None if k >= len(t.starts) else k)
    return out


def most_placed(tasks: Sequence[Task], hint: Sequence[int | None], *, fleet_size: int, time_limit_s: float, workers: int = 2, seed: int = 0) -> tuple[list[int | None], bool]:
    """Phase 1: a schedule that places as much task weight (jobs) as possible (costs ignored), over
    every candidate start. Returns (choice, proven) — ``proven`` when no schedule places more."""
    costs = [np.zeros(len(t.starts), dtype=np.int64) for t in tasks]
    m, idx_vars, _, cost_vars = _model(tasks, costs, [t.weight for t in tasks], hint, fleet_size)
    m.add(sum(cost_vars) <= sum(t.weight for t, h in zip(tasks, hint, strict=True) if h is None))
    m.minimize(sum(cost_vars))  # the weight left out
    solver, status = _run(m, time_limit_s, workers, seed)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _values(solver, idx_vars, tasks), status == cp_model.OPTIMAL
    return list(hint), False


def solve(
    tasks: Sequence[Task], *, fleet_size: int, time_limit_s: float, workers: int = 2, seed: int = 0, max_candidates: int = 32,
    placement_share: float = 0.5,
) -> Schedule:
    """Place the tasks (see module doc) in two phases within ``time_limit_s``:

    1. (``placement_share`` of the limit) place as much ``Task.weight`` (jobs) as possible over
       *every* candidate start, from the greedy schedule improved by :func:`repair`;
    2. minimise the cost with at least that weight placed; each task offers its
       ``max_candidates`` cheapest starts plus its phase-1 start, so the phase-1 schedule is
       always among the solutions. When phase 1 proved its count, the unscheduled tasks carry no
       penalty in phase 2 (the count is fixed), so the reported gap is the gap on the real cost."""
    t0 = time.perf_counter()
    if not tasks:
        return Schedule([], "EMPTY", 0.0, 0.0, 0.0, 0.0, 0)
    greedy_choice = greedy(tasks, fleet_size)
    full_hint, proven = greedy_choice, False
    if any(h is None for h in greedy_choice) and placement_share > 0:
        full_hint = repair(tasks, greedy_choice, fleet_size)
    if any(h is None for h in full_hint) and placement_share > 0:
        left = time_limit_s * placement_share - (time.perf_counter() - t0)
        full_hint, proven = most_placed(tasks, full_hint, fleet_size=fleet_size, time_limit_s=left, workers=workers, seed=seed)
    placed_min = sum(t.weight for t, h in zip(tasks, full_hint, strict=True) if h is not None)
    proven = proven or all(h is not None for h in full_hint)
    keep: list[np.ndarray] = []
    hint: list[int | None] = []
    for t, h in zip(tasks, full_hint, strict=True):
        order = np.lexsort((t.starts, t.cost))[:max_candidates]
        if h is not None and h not in order:
            order = np.append(order, h)
        order = np.sort(order)
        keep.append(order)
        hint.append(None if h is None else int(np.searchsorted(order, h)))
    full_tasks = tasks
    tasks = [t.subset(k) for t, k in zip(tasks, keep, strict=True)]
    scaled = [np.round(np.asarray(t.cost, dtype=float) * COST_SCALE).astype(np.int64) for t in tasks]
    top = max((int(c.max()) for c in scaled if len(c)), default=0)
    penalty = [0 if proven else max(10 * top, 1_000_000) * t.weight for t in tasks]
    m, idx_vars, on_vars, cost_vars = _model(tasks, scaled, penalty, hint, fleet_size)
    m.add(sum(t.weight * v for t, v in zip(tasks, on_vars, strict=True)) >= placed_min)
    total = sum(cost_vars)
    hint_cost = sum(int(scaled[i][h]) if h is not None else penalty[i] for i, h in enumerate(hint))
    m.add(total <= hint_cost)  # never worse than the hint, which satisfies every constraint
    m.minimize(total)
    left = time_limit_s - (time.perf_counter() - t0)
    solver, status = _run(m, left, workers, seed)
    name = solver.status_name(status)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        choice = _values(solver, idx_vars, tasks)
        obj = float(solver.objective_value)
        bound = float(solver.best_objective_bound)
        gap = 0.0 if name == "OPTIMAL" else (abs(obj - bound) / abs(obj) if obj else 0.0)
    else:
        log.warning("CP-SAT returned %s within its time limit; using the phase-1 / greedy schedule", name)
        choice, bound, gap = hint, None, None
        name = "GREEDY"
    choice = [None if j is None else int(k[j]) for j, k in zip(choice, keep, strict=True)]
    real = sum(float(full_tasks[i].cost[j]) for i, j in enumerate(choice) if j is not None)
    return Schedule(
        choice=choice,
        status=name,
        objective=round(real, 3),
        best_bound=None if bound is None or (not proven and any(j is None for j in choice)) else round(bound / COST_SCALE, 3),
        gap=None if gap is None else round(gap, 6),
        wall_s=round(time.perf_counter() - t0, 3),
        unscheduled=sum(1 for j in choice if j is None),
        placement_proven=proven,
        greedy_unscheduled=sum(1 for j in greedy_choice if j is None),
    )
