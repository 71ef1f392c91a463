"""Dispatch on a hand-checkable street: N0..N10 in a line, one minute per block.

Access points sit on the nodes, so every trip Ni -> Nj takes |i - j| minutes.
"""

from __future__ import annotations

from datetime import time

import pytest

from routing import (
    Crew,
    RoutingInputError,
    Task,
    UnknownLocationError,
    greedy_routes,
    plan_routes,
)
from tests.routing.conftest import NOW, at

LIMIT = 0.5  # seconds per solve: these models are tiny


def crew(cid: str, start: str = "N0", **kw) -> Crew:
    kw.setdefault("shift_start", at(0))
    kw.setdefault("shift_end", at(8 * 60))
    kw.setdefault("skills", {"cable", "overhead", "switching"})
    return Crew(cid, start, **kw)


def minutes(dt) -> float:
    return round((dt - NOW).total_seconds() / 60.0, 6)


def plan(roads, crews, tasks, **kw):
    kw.setdefault("now", NOW)
    kw.setdefault("time_limit_s", LIMIT)
    return plan_routes(roads, crews, tasks, **kw)


def test_single_task_eta_and_geometry(line_roads):
    p = plan(line_roads, [crew("A")], [Task("T1", "N4", service_min=30, name="RMU 4")])
    assert p.status in ("feasible", "optimal")
    (stop,) = p.route("A").stops
    assert minutes(stop.arrival) == pytest.approx(4)
    assert minutes(stop.departure) == pytest.approx(34)
    assert stop.name == "RMU 4"
    assert stop.geo_uri == "geo:0.000000,0.004000"
    assert p.route("A").distance_m == pytest.approx(400)
    assert p.route("A").path[0] == pytest.approx((0.0, 0.0))
    assert p.route("A").path[-1] == pytest.approx((0.004, 0.0))
    assert p.weighted_customer_minutes == pytest.approx(34)


def test_skills_decide_the_crew(line_roads):
    crews = [crew("CABLE", skills={"cable"}), crew("LINES", "N10", skills={"overhead"})]
    tasks = [
        Task("cable_job", "N9", service_min=10, skills={"cable"}),
        Task("line_job", "N1", service_min=10, skills={"overhead"}),
        Task("switch_job", "N5", skills={"switching"}),
        Task("both_job", "N5", skills={"cable", "overhead"}),
    ]
    p = plan(line_roads, crews, tasks)
    assert p.assignment() == {"CABLE": ["cable_job"], "LINES": ["line_job"]}
    reasons = {d.task_id: d for d in p.dropped}
    assert reasons["switch_job"].code == "no_skilled_crew"
    assert "switching" in reasons["switch_job"].reason
    assert reasons["both_job"].code == "no_skilled_crew"
    assert "no single crew" in reasons["both_job"].reason


def test_shift_limits(line_roads):
    crews = [
        crew("SHORT", shift_end=at(30)),  # 30 minutes left
        crew("LATE", "N10", shift_start=at(60)),  # starts in an hour
        crew("GONE", shift_start=at(-480), shift_end=at(-1)),  # already off
    ]
    tasks = [Task("far", "N9", service_min=25)]
    p = plan(line_roads, crews, tasks)
    # SHORT would need 9 + 25 = 34 minutes; LATE leaves at 60 and arrives at 61
    assert p.assignment()["LATE"] == ["far"]
    assert minutes(p.stop("far").arrival) == pytest.approx(61)
    assert "GONE" not in p.assignment()
    assert any("GONE" in w and "off shift" in w for w in p.warnings)
    p2 = plan(line_roads, [crews[0]], tasks)
    assert [d.code for d in p2.dropped] == ["unreachable_in_time"]


def test_time_of_day_shifts_and_night_shift(line_roads):
    night = crew("NIGHT", shift_start=time(21), shift_end=time(5, 30))
    day = crew("DAY", "N10", shift_start=time(7, 30), shift_end=time(16))
    tasks = [Task("T", "N5", service_min=10)]
    # at 09:00 the day crew works; the night crew starts at 21:00
    p = plan(line_roads, [night, day], tasks)
    assert p.assignment() == {"NIGHT": [], "DAY": ["T"]}
    assert minutes(p.route("NIGHT").start_time) == pytest.approx(12 * 60)
    # at 03:00 the night shift that began yesterday is on; the day crew starts at 07:30
    p = plan(line_roads, [night, day], tasks, now=NOW.replace(hour=3))
    assert p.assignment() == {"NIGHT": ["T"], "DAY": []}
    assert p.stop("T").arrival == NOW.replace(hour=3, minute=5)


def test_closed_end_must_be_back_by_shift_end(line_roads):
    # 5 out + 20 work + 5 back = 30 > 29 minutes of shift
    c = crew("A", end="N0", shift_end=at(29))
    p = plan(line_roads, [c], [Task("T", "N5", service_min=20)])
    assert [d.code for d in p.dropped] == ["unreachable_in_time"]
    c = crew("A", end="N0", shift_end=at(31))
    p = plan(line_roads, [c], [Task("T", "N5", service_min=20)])
    r = p.route("A")
    assert minutes(r.end_time) == pytest.approx(30)
    assert r.distance_m == pytest.approx(1000)


def test_time_windows_wait_and_order(line_roads):
    tasks = [
        # near but late window; far but early window
        Task("near", "N2", service_min=10, window_start=at(60), window_end=at(90)),
        Task("far", "N8", service_min=10, window_start=at(0), window_end=at(20)),
        Task("closed", "N3", window_start=at(-60), window_end=at(-5)),
    ]
    p = plan(line_roads, [crew("A")], tasks, objective="distance")
    assert p.assignment()["A"] == ["far", "near"]
    near = p.stop("near")
    assert minutes(near.arrival) == pytest.approx(8 + 10 + 6)
    assert minutes(near.start) == pytest.approx(60)  # waits for the window
    assert near.wait_s == pytest.approx(36 * 60)
    assert [(d.task_id, d.code) for d in p.dropped] == [("closed", "window_closed")]


def test_weighted_restoration_serves_important_customers_first(line_roads):
    tasks = [
        Task("small", "N4", service_min=20, weight=1),
        Task("hospital", "N9", service_min=20, weight=100),
    ]
    c = [crew("A", "N5")]
    by_weight = plan(line_roads, c, tasks, objective="weighted_restoration")
    by_distance = plan(line_roads, c, tasks, objective="distance")
    assert by_weight.assignment()["A"] == ["hospital", "small"]
    assert by_distance.assignment()["A"] == ["small", "hospital"]
    # hospital done at 4 + 20 = 24, small at 24 + 5 + 20 = 49
    assert by_weight.weighted_customer_minutes == pytest.approx(100 * 24 + 1 * 49)
    assert by_weight.weighted_customer_minutes < by_distance.weighted_customer_minutes
    assert by_distance.distance_m < by_weight.distance_m


def test_precedence_across_crews(line_roads):
    # the repair at N2 may start only once the switching at N8 is done (8 + 15 = 23)
    crews = [crew("NEAR", "N1", skills={"cable"}), crew("FAR", "N9", skills={"switching"})]
    tasks = [
        Task("switch", "N8", service_min=15, skills={"switching"}),
        Task("repair", "N2", service_min=30, skills={"cable"}, after=("switch",)),
    ]
    p = plan(line_roads, crews, tasks)
    assert p.assignment() == {"NEAR": ["repair"], "FAR": ["switch"]}
    assert minutes(p.stop("switch").departure) == pytest.approx(16)
    assert minutes(p.stop("repair").arrival) == pytest.approx(1)
    assert minutes(p.stop("repair").start) == pytest.approx(16)


def test_precedence_same_crew_and_dropped_predecessor(line_roads):
    tasks = [
        Task("generator", "N6", service_min=10, weight=0),
        Task("repair", "N3", service_min=60, weight=50, after=("generator",)),
        Task("hookup", "N4", skills={"hydraulics"}),
        Task("after_hookup", "N4", after=("hookup",)),
        Task("after_after", "N4", after=("after_hookup",)),
    ]
    p = plan(line_roads, [crew("A")], tasks)
    assert p.assignment()["A"] == ["generator", "repair"]
    codes = {d.task_id: d.code for d in p.dropped}
    assert codes == {
        "hookup": "no_skilled_crew",
        "after_hookup": "predecessor_dropped",
        "after_after": "predecessor_dropped",
    }


def test_replan_keeps_committed_stops(line_roads):
    # crew A is driving to N9 and promised N6 afterwards; an urgent fault appears at N1
    crews = [crew("A", "N3", committed=("far", "mid")), crew("B", "N10", skills={"cable"})]
    tasks = [
        Task("far", "N9", service_min=10, weight=1),
        Task("mid", "N6", service_min=10, weight=1),
        Task("urgent", "N2", service_min=10, weight=1000, skills={"switching"}),
    ]
    fresh = plan(line_roads, [crew("A", "N3"), crews[1]], tasks)
    assert fresh.assignment()["A"][0] == "urgent"  # unconstrained, it would go there first
    p = plan(line_roads, crews, tasks)
    route = p.assignment()["A"]
    assert route[0] == "far"
    assert route.index("far") < route.index("mid")
    assert "urgent" in route  # inserted after the committed first stop
    assert p.stop("far").committed and not p.stop("urgent").committed


def test_committed_stops_past_shift_end_warn(line_roads):
    c = crew("A", shift_end=at(15), committed=("T",))
    p = plan(line_roads, [c], [Task("T", "N9", service_min=30)])
    assert p.assignment()["A"] == ["T"]
    assert any("past its shift end" in w for w in p.warnings)


def test_drops_are_explained(line_roads):
    tasks = [
        Task("ok", "N1"),
        Task("ghost", "RMU-404"),
        Task("sea", (0.005, 0.01)),  # ~1.1 km from the street
    ]
    p = plan(line_roads, [crew("A")], tasks)
    codes = {d.task_id: d.code for d in p.dropped}
    assert codes == {"ghost": "unknown_location", "sea": "off_network"}
    assert all(d.reason for d in p.dropped)


def test_capacity_drop_when_crews_run_out_of_time(line_roads):
    tasks = [Task(f"T{i}", f"N{i}", service_min=50, weight=i) for i in range(1, 6)]
    p = plan(line_roads, [crew("A", shift_end=at(180))], tasks)
    served = p.assignment()["A"]
    assert 1 <= len(served) <= 3
    assert {d.code for d in p.dropped} == {"not_scheduled"}
    assert len(served) + len(p.dropped) == 5


def test_greedy_baseline_is_weight_blind(line_roads):
    tasks = [
        Task("small", "N4", service_min=20, weight=1),
        Task("hospital", "N9", service_min=20, weight=100),
    ]
    g = greedy_routes(line_roads, [crew("A", "N5")], tasks, now=NOW)
    assert g.assignment()["A"] == ["small", "hospital"]
    assert g.engine == "greedy"


@pytest.mark.parametrize(
    ("crews", "tasks", "kw", "match"),
    [
        ([], [Task("T", "N1")], {}, "no crews"),
        ([crew("A"), crew("A")], [], {}, "duplicate crew"),
        ([crew("A")], [Task("T", "N1"), Task("T", "N2")], {}, "duplicate task"),
        ([crew("A", shift_start=at(60), shift_end=at(30))], [], {}, "ends"),
        ([crew("A", shift_start=time(8), shift_end=time(8))], [], {}, "ends when it starts"),
        ([crew("A", shift_start=at(0), shift_end=time(8))], [], {}, "both"),
        ([crew("A")], [Task("T", "N1")], {"time_limit_s": 0}, "time limit"),
        ([crew("A")], [Task("T", "N1")], {"time_limit_s": float("nan")}, "time limit"),
        ([crew("A")], [Task("T", "N1")], {"objective": "fastest"}, "objective"),
        ([crew("A")], [Task("T", "N1", after=("X",))], {}, "unknown task"),
        (
            [crew("A")],
            [Task("T", "N1", after=("U",)), Task("U", "N2", after=("T",))],
            {},
            "cycle",
        ),
        ([crew("A", committed=("X",))], [Task("T", "N1")], {}, "committed to unknown"),
        (
            [crew("A", committed=("T",)), crew("B", committed=("T",))],
            [Task("T", "N1")],
            {},
            "two crews",
        ),
        ([crew("A")], [Task("T", "N1", window_start=at(9), window_end=at(1))], {}, "window"),
    ],
)
def test_bad_input_raises_input_errors(line_roads, crews, tasks, kw, match):
    with pytest.raises(RoutingInputError, match=match):
        plan(line_roads, crews, tasks, **kw)


def test_bad_values_rejected_at_construction():
    with pytest.raises(RoutingInputError):
        Task("T", "N1", weight=-1)
    with pytest.raises(RoutingInputError):
        Task("T", "N1", service_min=float("inf"))
    with pytest.raises(RoutingInputError):
        Task("", "N1")
    with pytest.raises(RoutingInputError):
        Task("T", 5)
    with pytest.raises(RoutingInputError):
        Crew("A", "N0", shift_start="08:00", shift_end="17:00")


def test_naive_datetimes_rejected(line_roads):
    with pytest.raises(RoutingInputError, match="timezone"):
        plan(line_roads, [crew("A")], [], now=NOW.replace(tzinfo=None))
    with pytest.raises(RoutingInputError, match="timezone"):
        plan(line_roads, [crew("A", shift_end=at(60).replace(tzinfo=None))], [])


def test_unknown_crew_location_is_not_found(line_roads):
    with pytest.raises(UnknownLocationError):
        plan(line_roads, [crew("A", "DEPOT-X")], [Task("T", "N1")])


def test_no_tasks_gives_empty_routes(line_roads):
    p = plan(line_roads, [crew("A")], [])
    assert p.assignment() == {"A": []}
    assert p.weighted_customer_minutes == 0


def test_plan_json_is_serialisable(line_roads):
    import json

    p = plan(line_roads, [crew("A")], [Task("T1", "N4", service_min=30)])
    d = json.loads(json.dumps(p.to_dict()))
    assert d["routes"][0]["stops"][0]["task_id"] == "T1"
    assert d["routes"][0]["path"]["type"] == "LineString"
