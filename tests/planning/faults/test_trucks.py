"""The generator rule (planning.faults.trucks) on a hand-built radial feeder without a tie.

    BA =F1=> n1--L1--R1(D1: A1)  -S1-  p2--L2--R2(D2: B1 B2; D2b: B3 first)  -S2-  p3--L3--R3(D3: C1 C2 C3)

A fault on L1 (section A) trips F1; the crew opens S1; B and C have no tie and stay dark for
the 300 min cable repair. Blocks and hand computation (value = sum of importance weights,
normal 1, first 50; demand flat):

| block | customers | kW | smallest truck (200 / 500) | value per kW |
|---|---|---:|---|---:|
| dead area B+C at R2 | B1 B2 B3 C1 C2 C3 | 490 | G500 | 55 / 500 = 0.110 |
| D2b (important) | B3 | 80 | G200 | 50 / 200 = 0.250 |
| D3 | C1 C2 C3 | 300 | G500 | 3 / 500 = 0.006 |
| D2 | B1 B2 | 110 | G500 | 2 / 500 = 0.004 |
| D1 (faulted section, LV side) | A1 | 100 | G500 | 1 / 500 = 0.002 |

Important first: D2b with G200; then, G500 left and the area overlapping D2b, D3 with G500.
Depot DEP1 is 0.01 deg of latitude (1.112 km) south of D2b and north of D3: 2.2 min at
30 km/h -> 3 min. Set-up 60 min.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from planning.faults import FaultOptions, Generator, restore
from planning.faults.synthetic import build_grid
from planning.faults.trucks import haversine_km

NOW = datetime(2026, 12, 18, 18, 30, tzinfo=ZoneInfo("Europe/Monaco"))
FLEET = (Generator("G200", "small", 200.0, "DEP1"), Generator("G500", "big", 500.0, "DEP1"))


def feeder():
    nodes = [("BA", "busbar", "SA"), ("n1", "junction", None), ("p2", "junction", None), ("p3", "junction", None),
             ("R1", "rmu", None), ("R2", "rmu", None), ("R3", "rmu", None),
             ("D1", "distribution_room", None), ("D2", "distribution_room", None),
             ("D2b", "distribution_room", None), ("D3", "distribution_room", None)]
    lines = [("L1", "n1", "R1", "cable", 400.0), ("L1d", "R1", "D1", "cable", 400.0),
             ("L2", "p2", "R2", "cable", 400.0), ("L2d", "R2", "D2", "cable", 400.0),
             ("L2e", "R2", "D2b", "cable", 400.0),
             ("L3", "p3", "R3", "cable", 400.0), ("L3d", "R3", "D3", "cable", 400.0)]
    switches = [("F1", "BA", "n1", "breaker", False, True, True, 400.0),
                ("S1", "R1", "p2", "load_break", False, False, True, None),
                ("S2", "R2", "p3", "load_break", False, False, True, None)]
    customers = [("A1", "D1", "normal", 100.0, False), ("B1", "D2", "normal", 50.0, False),
                 ("B2", "D2", "normal", 60.0, False), ("B3", "D2b", "first", 80.0, False),
                 ("C1", "D3", "normal", 100.0, False), ("C2", "D3", "normal", 100.0, False),
                 ("C3", "D3", "normal", 100.0, False)]
    # the depot (DEP1) sits at lattice (-1, -1)
    pos = {"BA": (0, 0), "n1": (1, 0), "R1": (2, 0), "D1": (2, 1), "p2": (3, 0), "R2": (4, 0), "D2": (4, 1),
           "D2b": (-1, 9), "p3": (5, 0), "R3": (6, 0), "D3": (-1, -11)}
    return build_grid(nodes, lines, switches, customers, name="truck feeder", positions=pos)


def test_trucks_go_to_the_blocks_of_the_hand_computation():
    grid = feeder()
    r = restore(grid, "L1", now=NOW, options=FaultOptions(generators=FLEET))
    assert set(r.stages[1].still_out) == {"A1", "B1", "B2", "B3", "C1", "C2", "C3"}
    got = [(g.block, g.block_kind, g.generators, g.customers) for g in r.generators]
    assert got == [("D2b", "distribution_room", ("G200",), ("B3",)),
                   ("D3", "distribution_room", ("G500",), ("C1", "C2", "C3"))]
    km = haversine_km(7.399, 43.719, 7.399, 43.729)
    assert abs(km - 1.112) < 0.001
    for g in r.generators:
        assert g.travel_min == 3.0  # ceil(1.112 km / 30 km/h = 2.2 min)
        assert g.arrival == NOW + timedelta(minutes=3)  # dispatched at the end of stage 1 (no remote step)
        assert g.start == g.arrival + timedelta(minutes=60)
        assert g.end == r.repair.end and g.shortfall_kw == 0
    assert r.generators[0].customer == "B3" and r.generators[0].importance == "first"
    assert r.generators[1].demand_kw == 300.0 and r.generators[1].kw == 500.0
    for c in ("B3", "C1", "C2", "C3"):
        assert r.restored_at[c] == NOW + timedelta(minutes=63)
    for c in ("A1", "B1", "B2"):  # no truck: back when the grid is switched back after the repair
        assert r.restored_at[c] > r.repair.end
    assert r.metrics["cmi_with_generators"] < r.metrics["cmi"]
    # the trucks are disconnected in the return to normal, before their blocks are switched back
    kinds = [(s.action, s.switch) for s in r.return_stage.steps]
    assert ("disconnect_generator", "G200") in kinds and ("disconnect_generator", "G500") in kinds


def test_one_big_truck_takes_the_whole_dead_area():
    grid = feeder()
    fleet = (Generator("G800", "huge", 800.0, "DEP1"),)
    r = restore(grid, "L1", now=NOW, options=FaultOptions(generators=fleet))
    # important first: the area (value 55 per 800 kW) beats D2b alone (50 per 800 kW)
    assert [(g.block, g.block_kind, g.generators) for g in r.generators] == [("section:p2", "section", ("G800",))]
    assert set(r.generators[0].customers) == {"B1", "B2", "B3", "C1", "C2", "C3"}
    assert r.generators[0].node == "R2"  # a truck joins a dead area at its RMU


def test_no_truck_within_three_hours_or_when_too_late():
    grid = feeder()
    assert restore(grid, "L1", now=NOW, options=FaultOptions(generators=FLEET, repair_min={"cable": 180})).generators == ()
    slow = FaultOptions(generators=FLEET, generator_speed_kmh=0.01)  # a truck that arrives after the repair
    assert all(not g.generators for g in restore(grid, "L1", now=NOW, options=slow).generators)
