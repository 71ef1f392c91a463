"""PyVRP (iterated local search) for plain problems.

The only module that imports ``pyvrp``. It accepts a
:class:`~routing.solver.VrpProblem` without dispatcher side constraints
(:meth:`~routing.solver.VrpProblem.is_plain`): time windows, service times,
capacities, vehicle shifts, start/end depots and optional visits (a drop
penalty becomes a prize).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pyvrp
from pyvrp.stop import MaxRuntime

from routing.errors import RoutingInputError
from routing.solver import VrpProblem, VrpSolution

log = logging.getLogger(__name__)

#: Short runs (under 0.2 s per client) shorten the late-acceptance history to 100
#: (PyVRP default 300). Paired runs, same seed, same load: at 10 s on R1_4_1, RC1_2_1,
#: R1_2_1, RC101 (seeds 0-2) the short history won 10 of 11 pairs (by 0.2-2.1 points of
#: gap, lost one by 1.2); at 60 s on R1_4_1 (400 clients) 1.42 % vs 2.10 %.
SHORT_RUN_S_PER_CLIENT = 0.2
SHORT_RUN_HISTORY = 100


def to_problem_data(problem: VrpProblem) -> tuple[pyvrp.ProblemData, list[int], list[list[int]]]:
    """Build PyVRP data; returns it, client index -> node, and vehicle type -> vehicles."""
    if not problem.is_plain():
        raise RoutingInputError("PyVRP cannot express this problem's side constraints")
    n = int(problem.duration.shape[0])
    depot_nodes = sorted(set(problem.starts) | set(problem.ends))
    depot_of = {node: i for i, node in enumerate(depot_nodes)}
    locations = [pyvrp.Location(0, 0, name=str(i)) for i in range(n)]
    demand = problem.demand
    depots = [pyvrp.Depot(location=node) for node in depot_nodes]
    clients = []
    for node in problem.visits:
        optional = node in problem.penalty
        clients.append(
            pyvrp.Client(
                location=int(node),
                delivery=[int(demand[node])] if demand is not None else [],
                service_duration=int(problem.service[node]),
                tw_early=int(max(0, problem.tw_early[node])),
                tw_late=int(min(problem.horizon, problem.tw_late[node])),
                required=not optional,
                prize=int(problem.penalty[node]) if optional else 0,
            )
        )
    groups: dict[tuple, list[int]] = {}
    for v in range(problem.num_vehicles):
        cap = problem.capacity[v] if problem.capacity is not None else None
        key = (
            problem.starts[v],
            problem.ends[v],
            int(problem.vehicle_early[v]),
            int(problem.vehicle_late[v]),
            cap,
        )
        groups.setdefault(key, []).append(v)
    vehicle_types = []
    type_vehicles = []
    for (start, end, early, late, cap), vs in groups.items():
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(vs),
                capacity=[int(cap)] if cap is not None and demand is not None else [],
                start_depot=depot_of[start],
                end_depot=depot_of[end],
                tw_early=early,
                tw_late=late,
            )
        )
        type_vehicles.append(vs)
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=[np.asarray(problem.cost, dtype=np.int64)],  # type: ignore[list-item]
        duration_matrices=[np.asarray(problem.duration, dtype=np.int64)],  # type: ignore[list-item]
    )
    return data, list(problem.visits), type_vehicles


def solve(problem: VrpProblem, *, time_limit_s: float, seed: int = 0) -> VrpSolution:
    """Solve a plain problem with PyVRP within ``time_limit_s`` seconds."""
    t0 = time.monotonic()
    data, client_node, type_vehicles = to_problem_data(problem)
    left = max(0.05, time_limit_s - (time.monotonic() - t0))
    params = pyvrp.SolveParams()
    if time_limit_s < SHORT_RUN_S_PER_CLIENT * max(1, len(problem.visits)):
        params = pyvrp.SolveParams(
            ils=pyvrp.IteratedLocalSearchParams(history_length=SHORT_RUN_HISTORY)
        )
    result = pyvrp.solve(
        data, MaxRuntime(left), seed=seed, collect_stats=False, display=False, params=params
    )
    best = result.best
    routes: list[list[int]] = [[] for _ in range(problem.num_vehicles)]
    free = [list(vs) for vs in type_vehicles]
    for route in best.routes():
        visits = [client_node[a.idx] for a in route if a.is_client()]
        if not visits:
            continue
        v = free[route.vehicle_type()].pop(0)
        routes[v] = visits
    served = {n for r in routes for n in r}
    dropped = [n for n in problem.visits if n not in served]
    feasible = best.is_feasible() and all(n in problem.penalty for n in dropped)
    return VrpSolution(
        routes=routes,
        dropped=dropped,
        status="feasible" if feasible else "no_solution",
        objective=int(result.cost()) if feasible else None,
        engine="pyvrp",
        solve_time_s=time.monotonic() - t0,
    )
