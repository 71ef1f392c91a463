"""A hand-checkable two-substation ring for fault tests.

    BA =F1=> n1-R1(D1:A1) -S1r- p1-R2(D2:B1) -S2- p2-R3(D3:C1) -S3- p3--L34a--D34(X1)--L34b--q4 -S4- R4(D4:E1,E2)
                                                                                                 |
    BB =F2=> m1-R6(D6:H1) ......T1r (normally open)...... R5(D5:G1)-p5 -S5r---------------------+

``r`` = remote-controlled; S2, S3, S4 are manual. Sections: A={n1,R1,D1}, B={p1,R2,D2},
C={p2,R3,D3}, X={p3,D34,q4} (the cable between RMU 3 and RMU 4), E={R4,D4}, G={p5,R5,D5}
on F1; H={m1,R6,D6} on F2. Optional: a third substation SC with feeder F3 and a manual tie
T2 between R4 and R7. Loads are flat: demand_kw at every hour. 1 A = 15.59 kW (10 kV, pf 0.9).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gis import Grid
from planning.faults.synthetic import build_grid

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Monaco"))

POSITIONS = {
    "BA": (0, 4), "n1": (1, 4), "R1": (2, 4), "D1": (2, 5), "p1": (3, 4), "R2": (4, 4), "D2": (4, 5),
    "p2": (5, 4), "R3": (6, 4), "D3": (6, 5), "p3": (7, 4), "D34": (8, 5), "q4": (9, 4), "R4": (10, 4),
    "D4": (10, 5), "p5": (10, 2), "R5": (8, 2), "D5": (8, 3), "BB": (0, 0), "m1": (1, 0), "R6": (2, 0),
    "D6": (2, 1), "BC": (14, 4), "k1": (13, 4), "R7": (12, 4), "D7": (12, 5),
}


def ring(
    *,
    f2_rating_a: float = 300.0,
    with_t2: bool = False,
    remote: bool = True,
    x1_importance: str = "first",
    x1_backup: bool = False,
    line_ratings_a: dict[str, float] | None = None,
) -> Grid:
    nodes = [("BA", "busbar", "SA"), ("BB", "busbar", "SB")]
    for n in ("n1", "p1", "p2", "p3", "q4", "p5", "m1"):
        nodes.append((n, "junction", None))
    for n in ("R1", "R2", "R3", "R4", "R5", "R6"):
        nodes.append((n, "rmu", None))
    for n in ("D1", "D2", "D3", "D34", "D4", "D5", "D6"):
        nodes.append((n, "distribution_room", None))
    lines = [
        ("L1", "n1", "R1", "cable", 400.0), ("L1d", "R1", "D1", "cable", 400.0),
        ("L2", "p1", "R2", "cable", 400.0), ("L2d", "R2", "D2", "cable", 400.0),
        ("L3", "p2", "R3", "cable", 400.0), ("L3d", "R3", "D3", "cable", 400.0),
        ("L34a", "p3", "D34", "cable", 400.0), ("L34b", "D34", "q4", "cable", 400.0),
        ("L4d", "R4", "D4", "cable", 400.0),
        ("L5", "p5", "R5", "cable", 400.0), ("L5d", "R5", "D5", "cable", 400.0),
        ("L6", "m1", "R6", "cable", 400.0), ("L6d", "R6", "D6", "cable", 400.0),
    ]
    r = remote
    switches = [
        ("F1", "BA", "n1", "breaker", False, r, True, 400.0),
        ("F2", "BB", "m1", "breaker", False, r, True, f2_rating_a),
        ("S1", "R1", "p1", "load_break", False, r, True, None),
        ("S2", "R2", "p2", "load_break", False, False, True, None),
        ("S3", "R3", "p3", "load_break", False, False, True, None),
        ("S4", "q4", "R4", "load_break", False, False, True, None),
        ("S5", "R4", "p5", "load_break", False, r, True, None),
        ("T1", "R5", "R6", "load_break", True, r, False, None),
    ]
    customers = [
        ("A1", "D1", "normal", 100.0, False),
        ("B1", "D2", "normal", 100.0, False),
        ("C1", "D3", "normal", 100.0, False),
        ("X1", "D34", x1_importance, 300.0, x1_backup),
        ("E1", "D4", "normal", 100.0, False),
        ("E2", "D4", "second", 50.0, False),
        ("G1", "D5", "normal", 100.0, False),
        ("H1", "D6", "normal", 100.0, False),
    ]
    if line_ratings_a:
        lines = [(i, a, b, k, line_ratings_a.get(i, r)) for i, a, b, k, r in lines]
    if with_t2:
        nodes += [("BC", "busbar", "SC"), ("k1", "junction", None), ("R7", "rmu", None),
                  ("D7", "distribution_room", None)]
        lines += [("L7", "k1", "R7", "cable", 400.0), ("L7d", "R7", "D7", "cable", 400.0)]
        switches += [("F3", "BC", "k1", "breaker", False, r, True, 300.0),
                     ("T2", "R4", "R7", "load_break", True, False, False, None)]
        customers.append(("K1", "D7", "normal", 100.0, False))
    return build_grid(nodes, lines, switches, customers, name="fault ring", positions=POSITIONS)


@pytest.fixture(scope="module")
def ring_grid() -> Grid:
    return ring()


@pytest.fixture
def make_ring() -> Callable[..., Grid]:
    return ring
