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


def _cheapest_first(t: Task) -> np.ndarray:
    """Candidate indices of a task, cheapest first (then earliest)."""
    return np.lexsort((t.starts, t.cost))


def _trucks(t: Task, fleet_size: int) -> int:
    """Trucks a task takes from a fleet of ``fleet_size`` (0 without a fleet)."""
    return min(t.generators, fleet_size) if fleet_size else 0


class _Taken:
    """What the tasks placed so far hold: intervals (minutes) per resource, and generator trucks."""

    def __init__(self, fleet_size: int) -> None:
        self.fleet_size = fleet_size
        self.by_resource: dict[str, list[tuple[int, int]]] = {}
        self.trucks: list[tuple[int, int, int]] = []  # (start, end, trucks)

    def fits(self, t: Task, j: int) -> bool:
        """Can ``t`` start at candidate ``j``: no overlap on a resource it holds, and trucks left?"""
        s = int(t.starts[j])
        e = s + t.duration_min
        if any(a < e and s < b for r in t.resources_at(j) for a, b in self.by_resource.get(r, ())):
            return False
        need = _trucks(t, self.fleet_size)
        return not need or sum(g for a, b, g in self.trucks if a < e and s < b) + need <= self.fleet_size

    def take(self, t: Task, j: int) -> None:
        s = int(t.starts[j])
        for r in t.resources_at(j):
            self.by_resource.setdefault(r, []).append((s, s + t.duration_min))
        if _trucks(t, self.fleet_size):
            self.trucks.append((s, s + t.duration_min, _trucks(t, self.fleet_size)))


def greedy(tasks: Sequence[Task], fleet_size: int) -> list[int | None]:
    """Least flexible first; each takes its cheapest start that overlaps no placed task sharing a resource."""
    taken = _Taken(fleet_size)
    choice: list[int | None] = [None] * len(tasks)
    for i in sorted(range(len(tasks)), key=lambda i: (len(tasks[i].starts), i)):
        j = next((int(j) for j in _cheapest_first(tasks[i]) if taken.fits(tasks[i], int(j))), None)
        if j is not None:
            choice[i] = j
            taken.take(tasks[i], j)
    return choice


class _Repair:
    """The moves of :func:`repair` on one schedule ``choice`` (changed in place), with the placed
    tasks indexed by the resources they hold, so that finding a start's blockers looks only at
    the tasks sharing one of its resources (and those with trucks)."""

    def __init__(self, tasks: Sequence[Task], choice: list[int | None], fleet_size: int) -> None:
        self.tasks, self.choice, self.fleet_size = tasks, choice, fleet_size
        self.by_resource: dict[str, set[int]] = {}
        self.trucked: set[int] = set()
        for k, c in enumerate(choice):
            if c is not None:
                self._index(k, c, add=True)

    def _index(self, k: int, c: int, *, add: bool) -> None:
        for r in self.tasks[k].resources_at(c):
            held = self.by_resource.setdefault(r, set())
            held.add(k) if add else held.discard(k)
        if _trucks(self.tasks[k], self.fleet_size):
            self.trucked.add(k) if add else self.trucked.discard(k)

    def move(self, k: int, c: int | None) -> None:
        """Move task ``k`` to candidate ``c`` (None: take it out)."""
        old = self.choice[k]
        if old is not None:
            self._index(k, old, add=False)
        self.choice[k] = c
        if c is not None:
            self._index(k, c, add=True)

    def _span(self, i: int, j: int) -> tuple[int, int]:
        s = int(self.tasks[i].starts[j])
        return s, s + self.tasks[i].duration_min

    def _overlaps(self, k: int, s: int, e: int) -> bool:
        c = self.choice[k]
        if c is None:
            return False
        a, b = self._span(k, c)
        return a < e and s < b

    def blockers(self, i: int, j: int) -> set[int] | None:
        """Placed tasks sharing a resource with task ``i`` at candidate ``j``; None on a generator
        truck clash (left to CP-SAT)."""
        s, e = self._span(i, j)
        held = self.tasks[i].resources_at(j)
        near = set().union(*(self.by_resource.get(r, ()) for r in held)) - {i}
        out = {k for k in near if self._overlaps(k, s, e)}
        gen = _trucks(self.tasks[i], self.fleet_size)
        if gen:
            gen += sum(_trucks(self.tasks[k], self.fleet_size) for k in self.trucked - out - {i} if self._overlaps(k, s, e))
        return None if gen > self.fleet_size else out

    def _free_start(self, k: int) -> int | None:
        """The cheapest start of task ``k`` that collides with nothing placed."""
        return next((int(j) for j in _cheapest_first(self.tasks[k]) if self.blockers(k, int(j)) == set()), None)

    def place(self, i: int, max_blockers: int, deadline: float | None = None) -> bool:
        """Place the unplaced task ``i`` at its cheapest start whose blockers (at most
        ``max_blockers``) can all move elsewhere; leave the schedule as it was if none (or when
        ``deadline``, a ``time.perf_counter`` value, has passed)."""
        for j in _cheapest_first(self.tasks[i]):
            if deadline is not None and time.perf_counter() > deadline:
                return False
            moved = self.blockers(i, int(j))
            if moved is None or len(moved) > max_blockers:
                continue
            old = {k: self.choice[k] for k in moved}
            for k in moved:
                self.move(k, None)
            self.move(i, int(j))
            for k in sorted(moved, key=lambda k: (len(self.tasks[k].starts), k)):
                self.move(k, self._free_start(k))
                if self.choice[k] is None:
                    break
            else:
                return True
            self.move(i, None)
            for k, v in old.items():
                self.move(k, v)
        return False


def collisions(tasks: Sequence[Task], choice: Sequence[int | None], fleet_size: int, i: int) -> dict[str, int]:
    """Why the unplaced task ``i`` fits nowhere in ``choice``: per resource ("feeder:F1",
    "crew:C3", or "generators" when the trucks are all out), at how many of its starts a placed
    task holds it at the same time."""
    moves = _Repair(tasks, list(choice), fleet_size)
    out: dict[str, int] = {}
    for j in range(len(tasks[i].starts)):
        blockers = moves.blockers(i, j)
        if blockers is None:
            out["generators"] = out.get("generators", 0) + 1
            continue
        held = tasks[i].resources_at(j)
        shared: set[str] = set()
        for k in blockers:
            c = choice[k]
            if c is not None:
                shared |= held & tasks[k].resources_at(c)
        for r in shared:
            out[r] = out.get(r, 0) + 1
    return out


def repair(tasks: Sequence[Task], choice: Sequence[int | None], fleet_size: int, *, max_blockers: int = 2, rounds: int = 3,
           deadline: float | None = None) -> list[int | None]:
    """Place left-out tasks by moving a few placed ones: for each unplaced task and each of its
    starts (cheapest first) blocked by at most ``max_blockers`` tasks on a shared resource (and
    no generator clash), take the blockers out, place the task, and re-place each blocker at its
    cheapest start that collides with nothing; undo if one cannot be re-placed. Every schedule it
    returns satisfies the same constraints as :func:`greedy`'s. Anytime: at ``deadline`` (a
    ``time.perf_counter`` value) it stops and returns the schedule so far."""
    moves = _Repair(tasks, list(choice), fleet_size)
    for _ in range(rounds):
        improved = False
        for i in range(len(tasks)):
            if deadline is not None and time.perf_counter() > deadline:
                return moves.choice
            if moves.choice[i] is None and moves.place(i, max_blockers, deadline):
                improved = True
        if not improved:
            break
    return moves.choice


@dataclass(frozen=True)
class _TaskVars:
    """The variables of one task in the CP-SAT model, with the value lists behind its ``element``s."""

    idx: cp_model.IntVar  # candidate index; len(starts) = not scheduled
    present: cp_model.IntVar
    start: cp_model.IntVar
    cost: cp_model.IntVar
    interval: cp_model.IntervalVar
    starts: list[int]
    costs: list[int]


def _task_vars(m: cp_model.CpModel, i: int, t: Task, cost: np.ndarray, penalty: int) -> _TaskVars:
    n = len(t.starts)
    idx = m.new_int_var(0, n, f"idx{i}")
    present = m.new_bool_var(f"on{i}")
    m.add(idx < n).only_enforce_if(present)
    m.add(idx == n).only_enforce_if(~present)
    starts = [int(s) for s in t.starts] + ([int(t.starts[0])] if n else [0])
    cvals = [int(x) for x in cost] + [int(penalty)]
    start = m.new_int_var_from_domain(cp_model.Domain.from_values(sorted(set(starts))), f"start{i}")
    cost_var = m.new_int_var(min(cvals), max(cvals), f"cost{i}")
    m.add_element(idx, starts, start)
    m.add_element(idx, cvals, cost_var)
    iv = m.new_optional_fixed_size_interval_var(start, t.duration_min, present, f"iv{i}")
    return _TaskVars(idx, present, start, cost_var, iv, starts, cvals)


def _conditional_intervals(m: cp_model.CpModel, i: int, t: Task, v: _TaskVars, hint: int | None,
                           by_res: dict[str, list[cp_model.IntervalVar]]) -> None:
    """Add the task's intervals on the resources it holds only at some starts to ``by_res``."""
    for r, mask in t.conditional:
        if r in t.resources:
            continue
        if mask.all():
            by_res.setdefault(r, []).append(v.interval)
            continue
        held = m.new_bool_var(f"held{i}_{r}")  # true iff the chosen start holds r
        m.add_element(v.idx, [int(x) for x in mask] + [0], held)
        by_res.setdefault(r, []).append(m.new_optional_fixed_size_interval_var(v.start, t.duration_min, held, f"iv{i}_{r}"))
        if hint is not None:
            m.add_hint(held, bool(mask[hint]))


def _model(
    tasks: Sequence[Task], costs: Sequence[np.ndarray], penalty: Sequence[int], hint: Sequence[int | None], fleet_size: int
) -> tuple[cp_model.CpModel, list[cp_model.IntVar], list[cp_model.IntVar], list[cp_model.IntVar]]:
    """The CP-SAT model of ``tasks`` (see module doc): returns (model, index vars, presence vars, cost vars)."""
    m = cp_model.CpModel()
    by_res: dict[str, list[cp_model.IntervalVar]] = {}
    gen_iv: list[cp_model.IntervalVar] = []
    gen_dem: list[int] = []
    made: list[_TaskVars] = []
    for i, (t, c) in enumerate(zip(tasks, costs, strict=True)):
        v = _task_vars(m, i, t, c, int(penalty[i]))
        made.append(v)
        for r in t.resources:
            by_res.setdefault(r, []).append(v.interval)
        h = hint[i]
        _conditional_intervals(m, i, t, v, h, by_res)
        if t.generators and fleet_size:
            gen_iv.append(v.interval)
            gen_dem.append(min(t.generators, fleet_size))
        at = len(t.starts) if h is None else h
        m.add_hint(v.idx, at)
        m.add_hint(v.present, h is not None)
        m.add_hint(v.start, v.starts[at])
        m.add_hint(v.cost, v.costs[at])
    for ivs in by_res.values():
        if len(ivs) > 1:
            m.add_no_overlap(ivs)
    if len(gen_iv) > 1:
        m.add_cumulative(gen_iv, gen_dem, fleet_size)
    return m, [v.idx for v in made], [v.present for v in made], [v.cost for v in made]


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


def _place_most(tasks: Sequence[Task], fleet_size: int, *, budget_s: float | None, t0: float, workers: int,
                seed: int) -> tuple[list[int | None], list[int | None], bool]:
    """Phase 1: the greedy schedule, improved while tasks are left out by :func:`repair` and then
    :func:`most_placed` within ``budget_s`` seconds from ``t0`` (``time.perf_counter``; None:
    greedy only). Returns (greedy choice, phase-1 choice, proven: no schedule places more)."""
    greedy_choice = greedy(tasks, fleet_size)
    full_hint, proven = greedy_choice, False
    if any(h is None for h in greedy_choice) and budget_s is not None:
        full_hint = repair(tasks, greedy_choice, fleet_size, deadline=t0 + budget_s)
    if any(h is None for h in full_hint) and budget_s is not None:
        left = budget_s - (time.perf_counter() - t0)
        full_hint, proven = most_placed(tasks, full_hint, fleet_size=fleet_size, time_limit_s=left, workers=workers, seed=seed)
    return greedy_choice, full_hint, proven or all(h is not None for h in full_hint)


def _shortlist(tasks: Sequence[Task], full_hint: Sequence[int | None], max_candidates: int) -> tuple[list[np.ndarray], list[int | None]]:
    """Per task: the candidates phase 2 keeps (its ``max_candidates`` cheapest plus its phase-1
    start, ascending) and the phase-1 start's position among them."""
    keep: list[np.ndarray] = []
    hint: list[int | None] = []
    for t, h in zip(tasks, full_hint, strict=True):
        order = _cheapest_first(t)[:max_candidates]
        if h is not None and h not in order:
            order = np.append(order, h)
        order = np.sort(order)
        keep.append(order)
        hint.append(None if h is None else int(np.searchsorted(order, h)))
    return keep, hint


def _cost_model(tasks: Sequence[Task], hint: Sequence[int | None], fleet_size: int, *, placed_min: int,
                proven: bool) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """Phase 2: minimise the integer cost with at least ``placed_min`` weight placed, never worse
    than the hint; unscheduled tasks carry a penalty unless the phase-1 count is ``proven``."""
    scaled = [np.round(np.asarray(t.cost, dtype=float) * COST_SCALE).astype(np.int64) for t in tasks]
    top = max((int(c.max()) for c in scaled if len(c)), default=0)
    penalty = [0 if proven else max(10 * top, 1_000_000) * t.weight for t in tasks]
    m, idx_vars, on_vars, cost_vars = _model(tasks, scaled, penalty, hint, fleet_size)
    m.add(sum(t.weight * v for t, v in zip(tasks, on_vars, strict=True)) >= placed_min)
    total = sum(cost_vars)
    hint_cost = sum(int(scaled[i][h]) if h is not None else penalty[i] for i, h in enumerate(hint))
    m.add(total <= hint_cost)  # never worse than the hint, which satisfies every constraint
    m.minimize(total)
    return m, idx_vars


def _outcome(solver: cp_model.CpSolver, status: Any, idx_vars: Sequence[cp_model.IntVar], tasks: Sequence[Task],
             hint: list[int | None]) -> tuple[list[int | None], str, float | None, float | None]:
    """(choice, status name, best bound, gap) of the phase-2 run; the hint when it found nothing."""
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        log.warning("CP-SAT returned %s within its time limit; using the phase-1 / greedy schedule", name)
        return hint, "GREEDY", None, None
    obj = float(solver.objective_value)
    gap = 0.0 if name == "OPTIMAL" else (abs(obj - float(solver.best_objective_bound)) / abs(obj) if obj else 0.0)
    return _values(solver, idx_vars, tasks), name, float(solver.best_objective_bound), gap


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
    budget_s = time_limit_s * placement_share if placement_share > 0 else None
    greedy_choice, full_hint, proven = _place_most(tasks, fleet_size, budget_s=budget_s, t0=t0, workers=workers, seed=seed)
    placed_min = sum(t.weight for t, h in zip(tasks, full_hint, strict=True) if h is not None)
    keep, hint = _shortlist(tasks, full_hint, max_candidates)
    short = [t.subset(k) for t, k in zip(tasks, keep, strict=True)]
    m, idx_vars = _cost_model(short, hint, fleet_size, placed_min=placed_min, proven=proven)
    solver, status = _run(m, time_limit_s - (time.perf_counter() - t0), workers, seed)
    chosen, name, bound, gap = _outcome(solver, status, idx_vars, short, hint)
    choice = [None if j is None else int(k[j]) for j, k in zip(chosen, keep, strict=True)]
    return _schedule(tasks, choice, name, bound, gap, proven=proven, greedy_choice=greedy_choice, t0=t0)


def _schedule(tasks: Sequence[Task], choice: list[int | None], status: str, bound: float | None, gap: float | None, *,
              proven: bool, greedy_choice: list[int | None], t0: float) -> Schedule:
    """The :class:`Schedule` of a choice over the full tasks: the real cost (weighted kWh), the bound
    (scaled back; None while tasks are left out unproven), and the counts."""
    real = sum(float(tasks[i].cost[j]) for i, j in enumerate(choice) if j is not None)
    unscheduled = sum(1 for j in choice if j is None)
    return Schedule(
        choice=choice,
        status=status,
        objective=round(real, 3),
        best_bound=None if bound is None or (not proven and unscheduled) else round(bound / COST_SCALE, 3),
        gap=None if gap is None else round(gap, 6),
        wall_s=round(time.perf_counter() - t0, 3),
        unscheduled=unscheduled,
        placement_proven=proven,
        greedy_unscheduled=sum(1 for j in greedy_choice if j is None),
    )
