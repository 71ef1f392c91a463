"""VRPLIB reader and the benchmark solver on a shipped Solomon instance (C101)."""

from __future__ import annotations

import numpy as np
import pytest

from routing import RoutingInputError, read_vrptw, solve_vrplib
from routing.solver import route_cost, solve
from routing.vrptw import check_routes, dimacs_cost, read_bks, to_problem
from tests.routing.conftest import DATA

C101 = DATA / "C101.vrp"


def bks_routes() -> list[list[int]]:
    import vrplib

    return vrplib.read_solution(str(DATA / "C101.sol"))["routes"]


def test_reader_on_c101():
    inst = read_vrptw(C101)
    assert inst.name == "C101"
    assert inst.num_clients == 100 and inst.vehicles == 25 and inst.capacity == 200
    assert inst.service[0] == 0 and inst.service[1] == 90
    assert tuple(inst.time_window[0]) == (0, 1236)
    assert inst.distance[0, 1] == pytest.approx(np.hypot(45 - 40, 68 - 50))
    assert int(inst.demand.sum()) == 1810


def test_dimacs_cost_of_best_known_solution():
    inst = read_vrptw(C101)
    routes = bks_routes()
    assert dimacs_cost(inst, routes) == pytest.approx(read_bks(DATA / "C101.sol"))
    assert check_routes(inst, routes) == []
    assert check_routes(inst, routes[1:]) == ["clients not served exactly once"]


def test_problem_is_scaled_by_ten_and_truncated():
    p = to_problem(read_vrptw(C101))
    assert p.cost[0, 1] == int(np.floor(10 * np.hypot(5, 18)))
    assert p.service[1] == 900 and p.tw_late[0] == 12360
    assert p.is_plain()


@pytest.mark.parametrize("engine", ["ortools", "pyvrp", "auto"])
def test_solve_vrplib_contract(engine):
    out = solve_vrplib(C101, time_limit_s=1.0, engine=engine)
    assert set(out) >= {"instance", "cost", "vehicles", "routes", "time_s"}
    assert out["feasible"], out["issues"]
    served = sorted(c for r in out["routes"] for c in r)
    assert served == list(range(1, 101))
    assert out["vehicles"] == len(out["routes"]) <= 25
    assert out["cost"] >= 827.3 - 1e-9
    assert out["cost"] == pytest.approx(dimacs_cost(read_vrptw(C101), out["routes"]))


def test_ortools_warm_start_keeps_the_given_routes_quality():
    p = to_problem(read_vrptw(C101))
    sol = solve(p, time_limit_s=0.5, engine="ortools", initial_routes=bks_routes())
    assert sol.found and not sol.dropped
    assert route_cost(p, sol.routes) == 8273


@pytest.mark.parametrize("limit", [0, -1, float("nan")])
def test_bad_time_limit(limit):
    with pytest.raises(RoutingInputError, match="time limit"):
        solve_vrplib(C101, time_limit_s=limit)


def test_bad_files(tmp_path):
    with pytest.raises(RoutingInputError, match="not found"):
        solve_vrplib(tmp_path / "nope.vrp", time_limit_s=1)
    bad = tmp_path / "bad.vrp"
    bad.write_text("NAME : X\nTYPE : CVRP\nDIMENSION : 2\nEOF\n")
    with pytest.raises(RoutingInputError):
        read_vrptw(bad)
