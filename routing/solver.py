"""Engine-neutral vehicle-routing problem and the solver front door.

:class:`VrpProblem` is the integer model shared by the crew dispatcher
(:mod:`routing.dispatch`) and the VRPLIB benchmark (:mod:`routing.vrplib_io`):
a node set with travel durations and arc costs, service times, time windows,
vehicles with start/end nodes and shifts, and the dispatcher's side
constraints (allowed vehicles per visit, drop penalties, weighted completion
times, precedence, committed stops).

:func:`solve` picks the engine:

* OR-Tools routing (:mod:`routing._ortools`, the only module importing
  ``ortools``) is the model for every problem, side constraints included.
* PyVRP's iterated local search (:mod:`routing._pyvrp`, the only module
  importing ``pyvrp``) is far stronger on the plain VRPTW. For a *plain*
  problem (no side constraints PyVRP cannot express) ``engine="auto"`` runs
  PyVRP for most of the time budget and hands its routes to OR-Tools as the
  warm start for the rest, keeping whichever is better.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from routing.errors import RoutingInputError

log = logging.getLogger(__name__)

__all__ = ["ENGINES", "VrpProblem", "VrpSolution", "solve"]

ENGINES = ("auto", "ortools", "pyvrp")
#: Share of the time budget given to PyVRP when ``engine="auto"`` and the problem is plain.
PYVRP_SHARE = 0.9
#: Seconds kept back from the time limit for reading results and overshoot.
STOP_MARGIN_S = 0.5


@dataclass
class VrpProblem:
    """An integer routing problem (all times in one unit, e.g. seconds or 0.1 time units).

    Node indices address ``duration``/``cost`` rows and columns. ``visits``
    are the client nodes; ``starts``/``ends`` the vehicles' start and end nodes
    (a node may serve several vehicles, but never both as a visit and a
    start/end). ``tw_early``/``tw_late`` bound the *start of service* at each
    node; vehicle shifts bound the route's start and end times.
    """

    duration: np.ndarray
    cost: np.ndarray
    service: np.ndarray
    tw_early: np.ndarray
    tw_late: np.ndarray
    visits: list[int]
    starts: list[int]
    ends: list[int]
    vehicle_early: list[int]
    vehicle_late: list[int]
    horizon: int
    demand: np.ndarray | None = None
    capacity: list[int] | None = None
    #: node -> penalty for leaving it unserved; a visit not listed is mandatory
    penalty: dict[int, int] = field(default_factory=dict)
    #: node -> coefficient c: the objective adds c x (start of service time)
    completion_weight: dict[int, int] = field(default_factory=dict)
    #: node -> vehicles allowed to serve it (absent: any vehicle)
    allowed: dict[int, list[int]] = field(default_factory=dict)
    #: (a, b): a must be finished (start + service) before b starts; b served only if a is
    precedence: list[tuple[int, int]] = field(default_factory=list)
    #: vehicle -> visits it must serve, in this order; the first is its next stop
    committed: dict[int, list[int]] = field(default_factory=dict)

    @property
    def num_vehicles(self) -> int:
        return len(self.starts)

    def is_plain(self) -> bool:
        """True when PyVRP can express the whole problem (no dispatcher side constraints)."""
        return not (self.completion_weight or self.allowed or self.precedence or self.committed)

    def check(self) -> None:
        """Raise :class:`RoutingInputError` if the arrays do not fit together."""
        n = self.duration.shape[0]
        if self.duration.shape != (n, n) or self.cost.shape != (n, n):
            raise RoutingInputError("duration and cost must be square matrices of one size")
        for name in ("service", "tw_early", "tw_late"):
            if len(getattr(self, name)) != n:
                raise RoutingInputError(f"{name} must have one entry per node")
        v = len(self.starts)
        if v == 0:
            raise RoutingInputError("no vehicles")
        if not (len(self.ends) == len(self.vehicle_early) == len(self.vehicle_late) == v):
            raise RoutingInputError("starts, ends and vehicle shifts must have one entry each")
        if set(self.visits) & (set(self.starts) | set(self.ends)):
            raise RoutingInputError("a node cannot be both a visit and a vehicle start/end")


@dataclass
class VrpSolution:
    """Routes per vehicle (visit nodes in order), dropped visits, status and cost."""

    routes: list[list[int]]
    dropped: list[int]
    status: str
    objective: int | None
    engine: str
    #: visit node -> start of service in the engine's schedule (OR-Tools only)
    start_times: dict[int, int] = field(default_factory=dict)
    solve_time_s: float = 0.0

    @property
    def found(self) -> bool:
        return self.status in ("optimal", "feasible")


def route_cost(problem: VrpProblem, routes: list[list[int]]) -> int:
    """Total arc cost of the routes (start -> visits -> end per vehicle)."""
    total = 0
    for v, route in enumerate(routes):
        path = [problem.starts[v], *route, problem.ends[v]]
        total += int(sum(problem.cost[a, b] for a, b in zip(path[:-1], path[1:], strict=True)))
    return total


def solve(
    problem: VrpProblem,
    *,
    time_limit_s: float,
    engine: str = "auto",
    seed: int = 0,
    initial_routes: list[list[int]] | None = None,
    first_solution: str | None = None,
) -> VrpSolution:
    """Solve the problem within ``time_limit_s`` seconds (wall clock, roughly).

    ``engine``: ``"ortools"``, ``"pyvrp"`` (plain problems only) or
    ``"auto"`` (PyVRP then OR-Tools for plain problems, OR-Tools otherwise).
    ``first_solution`` names OR-Tools' first-solution strategy (see
    ``routing._ortools.FIRST_SOLUTION``; default path_cheapest_arc).
    """
    ortools_kw: dict[str, Any] = {"first_solution": first_solution} if first_solution else {}
    if engine not in ENGINES:
        raise RoutingInputError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    if not time_limit_s or not time_limit_s > 0:
        raise RoutingInputError(f"time limit must be > 0 seconds, got {time_limit_s!r}")
    problem.check()
    from routing import _ortools

    t0 = time.monotonic()
    # PyVRP overshoots its MaxRuntime by ~0.25 s on 400 clients; keep the total in budget
    budget = max(0.05, time_limit_s - STOP_MARGIN_S)
    if engine == "ortools" or (engine == "auto" and not problem.is_plain()):
        sol = _ortools.solve(
            problem, time_limit_s=time_limit_s, initial_routes=initial_routes, **ortools_kw
        )
    elif not problem.is_plain():
        raise RoutingInputError(
            "engine 'pyvrp' cannot express skills, weights, precedence or committed stops"
        )
    elif engine == "pyvrp":
        from routing import _pyvrp

        sol = _pyvrp.solve(problem, time_limit_s=budget, seed=seed)
    else:
        sol = _pyvrp_then_ortools(
            problem, budget=budget, seed=seed, initial_routes=initial_routes, **ortools_kw
        )
    sol.solve_time_s = time.monotonic() - t0
    return sol


def _pyvrp_then_ortools(
    problem: VrpProblem,
    *,
    budget: float,
    seed: int,
    initial_routes: list[list[int]] | None,
    **ortools_kw: Any,
) -> VrpSolution:
    """PyVRP for PYVRP_SHARE of ``budget`` seconds, then OR-Tools warm-started from it; the better."""
    from routing import _ortools, _pyvrp

    t0 = time.monotonic()
    first = _pyvrp.solve(problem, time_limit_s=budget * PYVRP_SHARE, seed=seed)
    left = budget - (time.monotonic() - t0)
    if left < 0.2:
        return first
    second = _ortools.solve(
        problem,
        time_limit_s=left,
        initial_routes=first.routes if first.found else initial_routes,
        **ortools_kw,
    )
    log.debug("auto engine: pyvrp %s, ortools %s", first.objective, second.objective)
    if second.found and (
        not first.found
        or len(second.dropped) < len(first.dropped)
        or (
            len(second.dropped) == len(first.dropped)
            and route_cost(problem, second.routes) < route_cost(problem, first.routes)
        )
    ):
        second.engine = "pyvrp+ortools"
        return second
    return first
