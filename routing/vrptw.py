"""Standard VRPTW instances (Solomon, Gehring & Homberger) in VRPLIB format.

The benchmark solves them with the same solver code as the dispatcher
(:func:`routing.solver.solve`, distance objective) under the DIMACS
convention: distances and durations truncated to one decimal, i.e. every value
is scaled by 10 and truncated to an integer; the cost is the total distance.
Routes are numbered as in the ``.sol`` files: depot 0, clients 1..n.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from routing.errors import RoutingInputError
from routing.solver import VrpProblem, solve

__all__ = ["VrptwInstance", "read_bks", "read_vrptw", "solve_vrplib", "to_problem"]

#: DIMACS convention: one decimal, truncated.
SCALE = 10


@dataclass(frozen=True)
class VrptwInstance:
    """A VRPTW instance; node 0 is the depot, values in the file's units."""

    name: str
    coords: np.ndarray
    distance: np.ndarray
    demand: np.ndarray
    capacity: int
    vehicles: int
    service: np.ndarray
    time_window: np.ndarray

    @property
    def num_clients(self) -> int:
        return len(self.coords) - 1


def read_vrptw(path: str | Path) -> VrptwInstance:
    """Read a VRPLIB VRPTW file (``EUC_2D`` coordinates, one depot, node 1 = depot).

    Raises :class:`RoutingInputError` when the file is missing or is not a
    single-depot VRPTW instance.
    """
    import vrplib

    path = Path(path)
    if not path.exists():
        raise RoutingInputError(f"instance file not found: {path}", details={"path": str(path)})
    try:
        inst = vrplib.read_instance(str(path))
    except Exception as exc:
        raise RoutingInputError(
            f"cannot read VRPLIB instance {path}: {type(exc).__name__}: {exc}"
        ) from exc
    missing = [k for k in ("node_coord", "demand", "time_window", "capacity") if k not in inst]
    if missing:
        raise RoutingInputError(f"{path.name} is not a VRPTW instance: no {', '.join(missing)}")
    depot = np.atleast_1d(inst.get("depot", np.array([0])))
    if len(depot) != 1 or int(depot[0]) != 0:
        raise RoutingInputError(f"{path.name}: only single-depot instances with node 1 as depot")
    n = int(inst["dimension"])
    service: Any = inst.get("service_time", 0)
    if np.isscalar(service):
        service = np.full(n, float(service))  # type: ignore[arg-type]
        service[0] = 0.0
    coords = np.asarray(inst["node_coord"], dtype=float)
    dist = inst.get("edge_weight")
    if dist is None:
        diff = coords[:, None, :] - coords[None, :, :]
        dist = np.sqrt((diff**2).sum(axis=2))
    return VrptwInstance(
        name=str(inst.get("name", path.stem)),
        coords=coords,
        distance=np.asarray(dist, dtype=float),
        demand=np.asarray(inst["demand"], dtype=np.int64),
        capacity=int(inst["capacity"]),
        vehicles=int(inst.get("vehicles", n - 1)),
        service=np.asarray(service, dtype=float),
        time_window=np.asarray(inst["time_window"], dtype=float),
    )


def read_bks(path: str | Path) -> float:
    """Best-known cost from a ``.sol`` file (the ``Cost`` line)."""
    import vrplib

    return float(vrplib.read_solution(str(path))["cost"])


def _trunc(x: np.ndarray) -> np.ndarray:
    # 1e-9 guards values like 0.3 * 10 = 2.9999999999999996 from losing a decimal
    return np.floor(np.asarray(x, dtype=float) * SCALE + 1e-9).astype(np.int64)


def to_problem(inst: VrptwInstance) -> VrpProblem:
    """The instance as an integer :class:`VrpProblem` (DIMACS: x10, truncated)."""
    dist = _trunc(inst.distance)
    tw = _trunc(inst.time_window)
    horizon = int(tw[0, 1])
    v = inst.vehicles
    return VrpProblem(
        duration=dist,
        cost=dist,
        service=_trunc(inst.service),
        tw_early=tw[:, 0],
        tw_late=tw[:, 1],
        visits=list(range(1, len(inst.coords))),
        starts=[0] * v,
        ends=[0] * v,
        vehicle_early=[int(tw[0, 0])] * v,
        vehicle_late=[horizon] * v,
        horizon=horizon,
        demand=inst.demand.astype(np.int64),
        capacity=[inst.capacity] * v,
    )


def dimacs_cost(inst: VrptwInstance, routes: list[list[int]]) -> float:
    """Total truncated distance of the routes (depot 0 at both ends), one decimal."""
    dist = _trunc(inst.distance)
    total = 0
    for r in routes:
        path = [0, *r, 0]
        total += int(dist[path[:-1], path[1:]].sum())
    return total / SCALE


def check_routes(inst: VrptwInstance, routes: list[list[int]]) -> list[str]:
    """Problems of a solution under the DIMACS convention (empty list when feasible)."""
    dist = _trunc(inst.distance)
    tw = _trunc(inst.time_window)
    svc = _trunc(inst.service)
    issues = []
    seen = [c for r in routes for c in r]
    if sorted(seen) != list(range(1, len(inst.coords))):
        issues.append("clients not served exactly once")
    if len([r for r in routes if r]) > inst.vehicles:
        issues.append("too many vehicles")
    for k, r in enumerate(routes):
        if int(inst.demand[r].sum()) > inst.capacity:
            issues.append(f"route {k} over capacity")
        t, prev = int(tw[0, 0]), 0
        for c in [*r, 0]:
            t = max(t + (svc[prev] if prev else 0) + int(dist[prev, c]), int(tw[c, 0]))
            if t > tw[c, 1]:
                issues.append(f"route {k} late at {c}")
                break
            prev = c
    return issues


def solve_vrplib(
    path: str | Path,
    *,
    time_limit_s: float,
    engine: str = "auto",
    seed: int = 0,
) -> dict[str, Any]:
    """Solve a VRPLIB VRPTW instance; returns the ``solve-vrplib`` JSON contract.

    ``{"instance", "cost", "vehicles", "routes", "time_s"}`` plus ``"feasible"``,
    ``"engine"`` and ``"status"``; ``cost`` is the DIMACS total distance and
    ``routes`` use the ``.sol`` numbering (clients 1..n).
    """
    if not time_limit_s or not time_limit_s > 0 or not math.isfinite(time_limit_s):
        raise RoutingInputError(f"time limit must be > 0 seconds, got {time_limit_s!r}")
    t0 = time.monotonic()
    inst = read_vrptw(path)
    problem = to_problem(inst)
    left = max(0.1, time_limit_s - (time.monotonic() - t0))
    sol = solve(problem, time_limit_s=left, engine=engine, seed=seed)
    routes = [list(map(int, r)) for r in sol.routes if r]
    issues = check_routes(inst, routes) if sol.found else ["no solution serving every client"]
    return {
        "instance": inst.name,
        "cost": dimacs_cost(inst, routes) if routes else None,
        "vehicles": len(routes),
        "routes": routes,
        "time_s": round(time.monotonic() - t0, 3),
        "feasible": not issues,
        "issues": issues,
        "engine": sol.engine,
        "status": sol.status,
    }
