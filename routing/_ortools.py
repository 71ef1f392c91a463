"""OR-Tools routing model of a :class:`~routing.solver.VrpProblem`.

The only module that imports ``ortools``. Data model -> transit matrices ->
dimensions (time, load) -> side constraints -> search parameters -> solution,
each a small function, following the OR-Tools routing samples. Integer costs
only: callers scale seconds and metres before they get here.
"""

from __future__ import annotations

import logging
import time
from functools import cached_property
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.errors import RoutingError
from routing.solver import VrpProblem, VrpSolution

log = logging.getLogger(__name__)

_STATUS = {
    0: "not_solved",
    1: "feasible",
    2: "feasible",  # partial success: local optimum not reached before the limit
    3: "no_solution",
    4: "no_solution",  # timeout before a first solution
    5: "invalid",
    6: "infeasible",
    7: "optimal",
}

FIRST_SOLUTION = {
    "path_cheapest_arc": routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    "parallel_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
    "local_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
    "savings": routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
    "automatic": routing_enums_pb2.FirstSolutionStrategy.AUTOMATIC,
}


class _Model:
    """The routing model with handles to its dimensions."""

    def __init__(self, problem: VrpProblem) -> None:
        self.problem = problem
        self.manager = pywrapcp.RoutingIndexManager(
            int(problem.duration.shape[0]),
            problem.num_vehicles,
            [int(s) for s in problem.starts],
            [int(e) for e in problem.ends],
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self._add_costs()
        self._add_time()
        self._add_load()
        self._add_visits()
        self._add_precedence()
        self._add_committed()

    @cached_property
    def mandatory_penalty(self) -> int:
        p = self.problem
        bound = int(np.abs(p.cost).max(initial=0)) * (len(p.visits) + p.num_vehicles + 1)
        bound += sum(int(x) for x in p.penalty.values())
        bound += sum(int(c) for c in p.completion_weight.values()) * int(p.horizon)
        return int(min(2 * bound + 1_000_000, 2**62 // max(1, len(p.visits))))

    def _is_committed(self, node: int) -> bool:
        return any(node in chain for chain in self.problem.committed.values())

    def index(self, node: int) -> int:
        return int(self.manager.NodeToIndex(int(node)))

    def _allow(self, idx: int, vehicles: list[int]) -> None:
        # RoutingModel.SetAllowedVehiclesForIndex rejects every Python sequence in the
        # 9.15 SWIG wrapper; restricting the vehicle variable is equivalent (-1 = unserved).
        self.routing.VehicleVar(idx).SetValues([-1, *sorted(int(v) for v in vehicles)])

    def _add_costs(self) -> None:
        p = self.problem
        cost_cb = self.routing.RegisterTransitMatrix(np.asarray(p.cost, dtype=np.int64).tolist())
        self.routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)

    def _add_time(self) -> None:
        p = self.problem
        transit = (
            np.asarray(p.duration, dtype=np.int64) + np.asarray(p.service, dtype=np.int64)[:, None]
        )
        self.time_cb = self.routing.RegisterTransitMatrix(transit.tolist())
        horizon = int(p.horizon)
        self.routing.AddDimension(self.time_cb, horizon, horizon, False, "Time")
        self.time = self.routing.GetDimensionOrDie("Time")
        for v in range(p.num_vehicles):
            early, late = int(p.vehicle_early[v]), int(p.vehicle_late[v])
            self.time.CumulVar(self.routing.Start(v)).SetRange(early, late)
            self.time.CumulVar(self.routing.End(v)).SetRange(early, late)

    def _add_load(self) -> None:
        p = self.problem
        if p.demand is None or p.capacity is None:
            return
        demand_cb = self.routing.RegisterUnaryTransitVector(
            np.asarray(p.demand, dtype=np.int64).tolist()
        )
        self.routing.AddDimensionWithVehicleCapacity(
            demand_cb, 0, [int(c) for c in p.capacity], True, "Load"
        )

    def _add_visits(self) -> None:
        p = self.problem
        horizon = int(p.horizon)
        for node in p.visits:
            idx = self.index(node)
            early = max(0, int(p.tw_early[node]))
            late = min(horizon, int(p.tw_late[node]))
            self.time.CumulVar(idx).SetRange(early, max(early, late))
            if node in p.penalty:
                self.routing.AddDisjunction([idx], int(p.penalty[node]))
            elif not self._is_committed(node):
                # mandatory, but optional with a prohibitive penalty: the search always
                # finds a first solution; one that drops it is reported "incomplete"
                self.routing.AddDisjunction([idx], self.mandatory_penalty)
            if node in p.allowed:
                self._allow(idx, p.allowed[node])
            coef = int(p.completion_weight.get(node, 0))
            if coef > 0:
                self.time.SetCumulVarSoftUpperBound(idx, 0, coef)
                self.routing.AddVariableMinimizedByFinalizer(self.time.CumulVar(idx))

    def _add_precedence(self) -> None:
        p = self.problem
        solver = self.routing.solver()
        horizon = int(p.horizon)
        for a, b in p.precedence:
            ia, ib = self.index(a), self.index(b)
            act_a, act_b = self.routing.ActiveVar(ia), self.routing.ActiveVar(ib)
            solver.Add(act_b <= act_a)
            # a finished before b starts, whenever b is served
            solver.Add(
                self.time.CumulVar(ia) + int(p.service[a])
                <= self.time.CumulVar(ib) + horizon - act_b * horizon
            )

    def _add_committed(self) -> None:
        p = self.problem
        solver = self.routing.solver()
        for v, chain in p.committed.items():
            if not chain:
                continue
            idxs = [self.index(c) for c in chain]
            for idx in idxs:
                self._allow(idx, [v])
            solver.Add(self.routing.NextVar(self.routing.Start(int(v))) == idxs[0])
            for (a, ia), ib in zip(zip(chain[:-1], idxs[:-1], strict=True), idxs[1:], strict=True):
                solver.Add(self.time.CumulVar(ia) + int(p.service[a]) <= self.time.CumulVar(ib))

    def params(self, time_limit_s: float, first_solution: str) -> Any:
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = FIRST_SOLUTION[first_solution]
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
        # Unrestricted neighbourhoods on 400 visits / 100 vehicles scanned ~1M filtered
        # neighbours without looking at the clock (a 6 s limit ran 15-17 s); the nearest
        # 10 % (at least 30) keeps the limit and small dispatch models complete.
        params.ls_operator_neighbors_ratio = 0.1
        params.ls_operator_min_neighbors = 30
        return params

    def extract(self, solution: Any) -> tuple[list[list[int]], list[int], dict[int, int]]:
        routes: list[list[int]] = []
        starts: dict[int, int] = {}
        served = set()
        for v in range(self.problem.num_vehicles):
            route = []
            idx = solution.Value(self.routing.NextVar(self.routing.Start(v)))
            while not self.routing.IsEnd(idx):
                node = int(self.manager.IndexToNode(idx))
                route.append(node)
                served.add(node)
                starts[node] = int(solution.Min(self.time.CumulVar(idx)))
                idx = solution.Value(self.routing.NextVar(idx))
            routes.append(route)
        dropped = [n for n in self.problem.visits if n not in served]
        return routes, dropped, starts


def solve(
    problem: VrpProblem,
    *,
    time_limit_s: float,
    initial_routes: list[list[int]] | None = None,
    first_solution: str = "path_cheapest_arc",
) -> VrpSolution:
    """Solve with OR-Tools guided local search within ``time_limit_s`` seconds."""
    t0 = time.monotonic()
    try:
        model = _Model(problem)
    except Exception as exc:  # pragma: no cover - OR-Tools rejects malformed input
        raise RoutingError(f"OR-Tools could not build the model: {exc}") from exc
    left = max(0.05, time_limit_s - (time.monotonic() - t0))
    params = model.params(left, first_solution)
    routing = model.routing
    solution = None
    if initial_routes is not None:
        routing.CloseModelWithParameters(params)
        start = routing.ReadAssignmentFromRoutes(
            [[int(n) for n in r] for r in initial_routes], True
        )
        if start is None:
            log.info("OR-Tools rejected the warm start; solving from scratch")
        else:
            solution = routing.SolveFromAssignmentWithParameters(start, params)
    if solution is None:
        solution = routing.SolveWithParameters(params)
    status = _STATUS.get(int(routing.status()), "unknown")
    if solution is None:
        return VrpSolution(
            routes=[[] for _ in problem.starts],
            dropped=list(problem.visits),
            status=status if status not in ("feasible", "optimal") else "no_solution",
            objective=None,
            engine="ortools",
            solve_time_s=time.monotonic() - t0,
        )
    routes, dropped, starts = model.extract(solution)
    if any(n not in problem.penalty for n in dropped):
        status = "incomplete"
    return VrpSolution(
        routes=routes,
        dropped=dropped,
        status=status,
        objective=int(solution.ObjectiveValue()),
        engine="ortools",
        start_times=starts,
        solve_time_s=time.monotonic() - t0,
    )
