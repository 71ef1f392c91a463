"""Hand-computed cases of the schedule across outages (planning.outages.cpsat); the last on the small ring.

Times in minutes; every outage lasts 240 min, so starts 0 and 300 do not overlap, 0 and 100 do.
"""

from __future__ import annotations

import numpy as np

from planning.outages import cpsat

DUR = 240


def task(starts: list[int], cost: list[float], resources: set[str], **cond: list[bool]) -> cpsat.Task:
    return cpsat.Task(
        starts=np.array(starts, dtype=np.int64),
        cost=np.array(cost, dtype=float),
        duration_min=DUR,
        resources=frozenset(resources),
        conditional=tuple((f"feeder:{f}", np.array(m, dtype=bool)) for f, m in cond.items()),
    )


def overlap(a: cpsat.Task, ja: int, b: cpsat.Task, jb: int) -> bool:
    sa, sb = int(a.starts[ja]), int(b.starts[jb])
    return sa < sb + b.duration_min and sb < sa + a.duration_min


def test_outages_whose_chosen_transfers_share_no_feeder_may_overlap() -> None:
    # A works on F1; at start 0 its blocks stay dark (no transfer), at start 300 its chosen transfer
    # loads F3. B works on F2 and at its only start 0 transfers onto F3. Both *could* load F3, but
    # at start 0 A does not: both at 0 overlap and cost 0 + 0 (the old rule forced A to 300: cost 10).
    a = task([0, 300], [0.0, 10.0], {"feeder:F1"}, F3=[False, True])
    b = task([0], [0.0], {"feeder:F2"}, F3=[True])
    for fn in (lambda ts: cpsat.greedy(ts, 0), lambda ts: cpsat.solve(ts, fleet_size=0, time_limit_s=5, workers=1).choice):
        assert fn([a, b]) == [0, 0]
    s = cpsat.solve([a, b], fleet_size=0, time_limit_s=5, workers=1)
    assert s.status == "OPTIMAL" and s.objective == 0.0 and s.unscheduled == 0
    assert overlap(a, 0, b, 0)
    assert a.resources_at(0) == {"feeder:F1"} and a.resources_at(1) == {"feeder:F1", "feeder:F3"}


def test_outages_whose_chosen_transfers_load_one_feeder_do_not_overlap() -> None:
    # Now A's transfer at start 0 also loads F3 (each transfer was checked against F3's own load
    # only, so two at once could overload it): A must move to 300, cost 10.
    a = task([0, 300], [0.0, 10.0], {"feeder:F1"}, F3=[True, True])
    b = task([0], [0.0], {"feeder:F2"}, F3=[True])
    s = cpsat.solve([a, b], fleet_size=0, time_limit_s=5, workers=1)
    assert s.choice == [1, 0] and s.objective == 10.0
    assert not overlap(a, 1, b, 0)
    # and a feeder one outage de-energises cannot receive the other's transfer at the same time
    c = task([0, 300], [0.0, 10.0], {"feeder:F1"}, F2=[True, False])
    assert cpsat.solve([c, b], fleet_size=0, time_limit_s=5, workers=1).choice == [1, 0]
    c = task([0, 300], [0.0, 10.0], {"feeder:F1"}, F2=[False, True])
    assert cpsat.solve([c, b], fleet_size=0, time_limit_s=5, workers=1).choice == [0, 0]


def test_more_outages_are_placed_than_the_greedy_places() -> None:
    # Greedy takes the least flexible first at its cheapest start: A (2 starts) at 0; then every start
    # of B (0, 50, 100) overlaps A on F1 and B is left out. Moving A to 300 places both.
    a = task([0, 300], [0.0, 5.0], {"feeder:F1"})
    b = task([0, 50, 100], [0.0, 0.0, 0.0], {"feeder:F1"})
    assert cpsat.greedy([a, b], 0) == [0, None]
    assert cpsat.repair([a, b], [0, None], 0) == [1, 0]
    s = cpsat.solve([a, b], fleet_size=0, time_limit_s=5, workers=1)
    assert s.choice == [1, 0] and s.unscheduled == 0 and s.greedy_unscheduled == 1
    assert s.objective == 5.0 and s.gap == 0.0


def test_left_out_count_is_minimal_and_gap_excludes_the_penalty() -> None:
    # Three outages on F1 in one 240-min slot each, one of them cannot be placed: 1 left out,
    # proven minimal; the gap is on the real cost (0 = optimal), not inflated by the penalty.
    a = task([0], [3.0], {"feeder:F1"})
    b = task([0, 300], [1.0, 3.0], {"feeder:F1"})
    c = task([300], [4.0], {"feeder:F1"})
    s = cpsat.solve([a, b, c], fleet_size=0, time_limit_s=5, workers=1)
    assert s.unscheduled == 1 and s.placement_proven
    assert s.status == "OPTIMAL" and s.gap == 0.0
    placed = [(t, j) for t, j in zip([a, b, c], s.choice, strict=True) if j is not None]
    assert len(placed) == 2 and not overlap(placed[0][0], placed[0][1], placed[1][0], placed[1][1])
    # of the two-out-of-three schedules, the cheapest: b at 0 + c = 1 + 4 = 5 < a + b at 300 = 3 + 3
    # = 6 < a + c = 3 + 4 = 7
    assert s.choice == [None, 0, 0] and s.objective == 5.0


def test_trucks_are_shared_within_the_fleet() -> None:
    # one truck; two outages needing one each at overlapping starts: the repair must not break that
    a = cpsat.Task(np.array([0, 300]), np.array([0.0, 1.0]), DUR, frozenset({"feeder:F1"}), generators=1)
    b = cpsat.Task(np.array([0]), np.array([0.0]), DUR, frozenset({"feeder:F2"}), generators=1)
    s = cpsat.solve([a, b], fleet_size=1, time_limit_s=5, workers=1)
    assert s.choice == [1, 0]


def test_merged_outage_left_out_is_split_into_its_jobs(small_ring, mk, monkeypatch) -> None:
    # J1 (R2) and J2 (R3) merge (see test_rules: 960 <= 980 customer-minutes). If the schedule
    # cannot place the merged outage, each job is placed alone: two outages, both on F1, so they
    # do not overlap; nothing is reported not_scheduled.
    import dataclasses

    from planning.outages import plan as plan_module
    from planning.outages import plan_outages

    real = plan_module.cpsat.solve

    def leave_merged_out(tasks, **kw):  # noqa: ANN001, ANN003, ANN202
        s = real(tasks, **kw)
        return dataclasses.replace(s, choice=[None] * len(tasks), unscheduled=len(tasks))

    monkeypatch.setattr(plan_module.cpsat, "solve", leave_merged_out)
    jobs = [mk.job("J1", "R2", 240, crew="A", latest="2026-12-09 19:00"), mk.job("J2", "R3", 240, crew="B", latest="2026-12-09 19:00")]
    plan = plan_outages(small_ring, jobs, now=mk.NOW, options=mk.FAST)
    assert plan.solver["split_after_solve"] == {"outages": 1, "jobs": 2, "jobs_placed": 2}
    assert [e.code for e in plan.errors] == []
    a, b = plan.outages
    assert sorted(a.jobs + b.jobs) == ["J1", "J2"] and len(a.jobs) == len(b.jobs) == 1
    assert a.end <= b.start or b.end <= a.start
    assert a.valid and b.valid


def test_collisions_name_the_resource_that_ran_out() -> None:
    a = task([0, 300], [1.0, 2.0], {"feeder:F1", "crew:A"})
    b = task([0, 100], [1.0, 1.0], {"feeder:F2", "crew:A"})  # both starts overlap a at 0
    c = task([300], [1.0], {"feeder:F1"})
    choice: list[int | None] = [0, None, 0]
    assert cpsat.collisions([a, b, c], choice, 0, 1) == {"crew:A": 2}
    # one truck in the fleet, a uses it at 0 and b needs one too: the trucks ran out at both starts
    ga = cpsat.Task(a.starts, a.cost, DUR, frozenset({"feeder:F1"}), generators=1)
    gb = cpsat.Task(b.starts, b.cost, DUR, frozenset({"feeder:F2"}), generators=1)
    assert cpsat.collisions([ga, gb], [0, None], 1, 1) == {"generators": 2}


def test_repair_stops_at_its_deadline() -> None:
    import time

    a = task([0], [1.0], {"feeder:F1"})
    b = task([0, 300], [1.0, 2.0], {"feeder:F1"})  # free at 300 once a stays; repair would place it
    assert cpsat.repair([a, b], [0, None], 0) == [0, 1]
    assert cpsat.repair([a, b], [0, None], 0, deadline=time.perf_counter() - 1.0) == [0, None]


def test_not_scheduled_names_the_crew(small_ring, mk) -> None:
    from planning.outages import plan_outages

    # one crew, two four-hour jobs in the same four-hour window on different zones: one waits
    # (R2's outage moves C3, C7 onto F2, the feeder R4 is on: F2 is taken as well)
    jobs = [mk.job("J1", "R2", 240, crew="A", earliest="2026-12-08 08:00", latest="2026-12-08 12:00"),
            mk.job("J2", "R4", 240, crew="A", earliest="2026-12-08 08:00", latest="2026-12-08 12:00")]
    plan = plan_outages(small_ring, jobs, now=mk.NOW, options=mk.FAST)
    (err,) = [e for e in plan.errors if e.code == "not_scheduled"]
    assert "crew A at 1 of its 1 start(s)" in err.message and "feeder F2" in err.message, err.message


def test_merging_stops_when_its_share_of_the_plan_time_is_used(small_ring, mk, monkeypatch) -> None:
    from dataclasses import replace

    from planning.outages import plan, plan_outages

    jobs = [mk.job("J1", "R2", 240, crew="A"), mk.job("J2", "R3", 240, crew="B")]  # these merge (test_rules)
    free = plan_outages(small_ring, jobs, now=mk.NOW, options=mk.FAST)
    assert len(free.outages) == 1 and free.solver["jobs_not_merged_for_time"] == 0
    monkeypatch.setattr(plan, "MERGE_SHARE", 0.0)  # the merge stage's time is already up
    timed = plan_outages(small_ring, jobs, now=mk.NOW, options=replace(mk.FAST, time_limit_s=30.0))
    assert timed.solver["jobs_not_merged_for_time"] == 2 and len(timed.outages) == 2
    assert timed.solver["plan_time_limit_s"] == 30.0
