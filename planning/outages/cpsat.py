"""The schedule across outages with OR-Tools CP-SAT. The only module that imports OR-Tools.

Model: per outage an index variable over its candidate starts (plus one extra
value meaning *not scheduled*, priced far above any real start); start and cost
are ``element`` lookups of the index; an optional fixed-size interval is
present when scheduled. Outages that share a resource (a feeder they
de-energise or load, a crew) get a no-overlap constraint per resource; trucks
of the generator fleet are a cumulative resource. Objective: minimise the sum
of costs (weighted kWh x ``COST_SCALE``, integers as CP-SAT needs). A greedy
schedule (least flexible outage first, cheapest free start) is given as a hint
and is the answer if the solver finds nothing in its time limit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

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
    resources: frozenset[str]  # "feeder:F1", "crew:C3"
    generators: int = 0


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
            if any(a < e and s < b for r in t.resources for a, b in placed.get(r, ())):
                continue
            if t.generators and fleet_size:
                busy = sum(g for a, b, g in gen_use if a < e and s < b)
                if busy + min(t.generators, fleet_size) > fleet_size:
                    continue
            choice[i] = int(j)
            for r in t.resources:
                placed.setdefault(r, []).append((s, e))
            if t.generators and fleet_size:
                gen_use.append((s, e, min(t.generators, fleet_size)))
            break
    return choice


def solve(
    tasks: Sequence[Task], *, fleet_size: int, time_limit_s: float, workers: int = 2, seed: int = 0, max_candidates: int = 32
) -> Schedule:
    """Place the tasks (see module doc). Each task offers the solver its ``max_candidates``
    cheapest starts (plus the greedy one); the greedy schedule is always among the solutions."""
    t0 = time.perf_counter()
    if not tasks:
        return Schedule([], "EMPTY", 0.0, 0.0, 0.0, 0.0, 0)
    full_hint = greedy(tasks, fleet_size)
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
    tasks = [Task(t.starts[k], t.cost[k], t.duration_min, t.resources, t.generators) for t, k in zip(tasks, keep, strict=True)]
    m = cp_model.CpModel()
    scaled = [np.round(np.asarray(t.cost, dtype=float) * COST_SCALE).astype(np.int64) for t in tasks]
    top = max((int(c.max()) for c in scaled if len(c)), default=0)
    penalty = max(10 * top, 1_000_000)
    by_res: dict[str, list[cp_model.IntervalVar]] = {}
    gen_iv: list[cp_model.IntervalVar] = []
    gen_dem: list[int] = []
    objective = []
    idx_vars = []
    for i, (t, c) in enumerate(zip(tasks, scaled, strict=True)):
        n = len(t.starts)
        idx = m.new_int_var(0, n, f"idx{i}")
        idx_vars.append(idx)
        present = m.new_bool_var(f"on{i}")
        m.add(idx < n).only_enforce_if(present)
        m.add(idx == n).only_enforce_if(~present)
        starts = [int(s) for s in t.starts] + ([int(t.starts[0])] if n else [0])
        costs = [int(x) for x in c] + [penalty]
        start = m.new_int_var_from_domain(cp_model.Domain.from_values(sorted(set(starts))), f"start{i}")
        cost = m.new_int_var(0, max(costs), f"cost{i}")
        m.add_element(idx, starts, start)
        m.add_element(idx, costs, cost)
        objective.append(cost)
        iv = m.new_optional_fixed_size_interval_var(start, t.duration_min, present, f"iv{i}")
        for r in t.resources:
            by_res.setdefault(r, []).append(iv)
        if t.generators and fleet_size:
            gen_iv.append(iv)
            gen_dem.append(min(t.generators, fleet_size))
        h = hint[i]
        m.add_hint(idx, n if h is None else h)
        m.add_hint(present, h is not None)
        m.add_hint(start, starts[n if h is None else h])
        m.add_hint(cost, costs[n if h is None else h])
    for ivs in by_res.values():
        if len(ivs) > 1:
            m.add_no_overlap(ivs)
    if len(gen_iv) > 1:
        m.add_cumulative(gen_iv, gen_dem, fleet_size)
    total = sum(objective)
    greedy_cost = sum(int(scaled[i][h]) if h is not None else penalty for i, h in enumerate(hint))
    m.add(total <= greedy_cost)  # never worse than the greedy schedule, which satisfies every constraint
    m.minimize(total)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = max(1, int(workers))
    solver.parameters.random_seed = seed
    # probing and symmetry detection cost seconds on this model and pay little
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    solver.parameters.log_search_progress = bool(int(__import__("os").environ.get("CPSAT_LOG", "0")))
    # Not repair_hint: OR-Tools 9.15 can abort the process with it ("Check failed:
    # heuristics.fixed_search != nullptr", google/or-tools#5025). The hint is feasible anyway.
    status = solver.solve(m)
    name = solver.status_name(status)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        choice: list[int | None] = []
        for i, t in enumerate(tasks):
            v = int(solver.value(idx_vars[i]))
            choice.append(None if v >= len(t.starts) else v)
        obj = float(solver.objective_value)
        bound = float(solver.best_objective_bound)
        gap = 0.0 if name == "OPTIMAL" else (abs(obj - bound) / abs(obj) if obj else 0.0)
    else:
        log.warning("CP-SAT returned %s within its time limit; using the greedy schedule", name)
        choice, bound, gap = hint, None, None
        name = "GREEDY"
    choice = [None if j is None else int(k[j]) for j, k in zip(choice, keep, strict=True)]
    real = sum(float(full_tasks[i].cost[j]) for i, j in enumerate(choice) if j is not None)
    return Schedule(
        choice=choice,
        status=name,
        objective=round(real, 3),
        best_bound=None if bound is None or any(j is None for j in choice) else round(bound / COST_SCALE, 3),
        gap=None if gap is None else round(gap, 6),
        wall_s=round(time.perf_counter() - t0, 3),
        unscheduled=sum(1 for j in choice if j is None),
    )
