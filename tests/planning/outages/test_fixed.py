"""Rolling plans on the small ring (conftest.py): published outages keep their windows, new jobs join or go around.

A job on R2 isolates F1's R2 zone and moves C3, C7 to F2 through T1: the outage holds F1 and F2.
R4's zone is on F2 and has no customers.
"""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.outages import FixedOutage, plan_outages

from .conftest import FAST, NOW, at, job


def published(grid, equipment="R2", minutes=240, crew=None):
    plan = plan_outages(grid, [job("P1", equipment, minutes, crew=crew)], now=NOW, options=FAST)
    (o,) = plan.to_json()["outages"]
    return FixedOutage.from_json(o, crews={"P1": crew})


def test_from_the_plan_json(small_ring):
    f = published(small_ring, crew="A")
    assert f.equipment == ("R2",) and set(f.feeders) == {"F1", "F2"} and f.crews == ("A",)
    assert set(f.customers) == {"C1", "C2", "C3", "C7"} and f.end - f.start == timedelta(minutes=240)


def test_a_job_inside_the_published_zone_and_window_joins_it(small_ring):
    f = published(small_ring)
    jobs = [job("J2", "R2", 60)]  # same equipment, the window holds the published one
    plan = plan_outages(small_ring, jobs, now=NOW, options=FAST, fixed=[f])
    assert plan.outages == [] and plan.fixed == [{"id": f.id, "start": f.start.isoformat(), "end": f.end.isoformat(), "joined_jobs": ["J2"]}]


def test_a_job_that_would_change_the_window_or_the_zone_does_not_join(small_ring):
    f = published(small_ring)
    too_long = job("J3", "R2", 300)  # longer than the published window
    elsewhere_day = job("J4", "R2", 60, earliest="2026-12-09 07:00", latest="2026-12-09 19:00")
    wider_zone = job("J5", "R1", 60)  # R1's isolation takes C6 out as well
    plan = plan_outages(small_ring, [too_long, elsewhere_day, wider_zone], now=NOW, options=FAST, fixed=[f])
    assert plan.fixed[0]["joined_jobs"] == []
    for o in plan.outages:  # planned around it: none holds F1 or F2 during the published window
        assert o.end <= f.start or o.start >= f.end, (o.jobs, o.start, o.end)


def test_a_crew_of_the_published_outage_is_busy(small_ring):
    f = published(small_ring, crew="A")
    plan = plan_outages(small_ring, [job("J2", "R2", 60, crew="A")], now=NOW, options=FAST, fixed=[f])
    assert plan.fixed[0]["joined_jobs"] == []


def test_feeders_held_by_a_published_outage_are_planned_around(small_ring):
    day = FixedOutage("PUB-1", at("2026-12-08 07:00"), at("2026-12-08 19:00"), ("R2",), feeders=("F1", "F2"))
    two_days = job("J1", "R4", 120, earliest="2026-12-08 07:00", latest="2026-12-09 19:00")
    (o,) = plan_outages(small_ring, [two_days], now=NOW, options=FAST, fixed=[day]).outages
    assert o.start >= at("2026-12-08 19:00")
    assert o.window["rejected_starts"]["fixed_outages"] > 0
    one_day = job("J1", "R4", 120)
    plan = plan_outages(small_ring, [one_day], now=NOW, options=FAST, fixed=[day])
    assert plan.outages == [] and plan.errors[0].job == "J1"


def test_a_published_outage_that_no_longer_fits_the_grid_is_named(small_ring):
    gone = FixedOutage("PUB-9", at("2026-12-08 07:00"), at("2026-12-08 19:00"), ("R99",), feeders=("F1",))
    plan = plan_outages(small_ring, [job("J1", "R4", 120)], now=NOW, options=FAST, fixed=[gone])
    assert len(plan.outages) == 1
    (err,) = [e for e in plan.errors if e.code == "bad_fixed_outage"]
    assert "PUB-9" in err.message and "R99" in err.message


EQUIPMENT = ["R1", "R2", "R3", "R4", "L2", "L3", "L7", "L8", "S3"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(EQUIPMENT), st.integers(0, 2), st.sampled_from([60, 120, 240])), min_size=1, max_size=4))
def test_new_jobs_never_move_or_overlap_a_published_outage(small_ring, extra):
    f = published(small_ring)
    jobs = []
    for i, (eq, day, minutes) in enumerate(extra):
        d = f"2026-12-{8 + day:02d}"
        jobs.append(job(f"N{i}", eq, minutes, earliest=f"{d} 07:00", latest=f"2026-12-{9 + day:02d} 19:00"))
    plan = plan_outages(small_ring, jobs, now=NOW, options=FAST, fixed=[f])
    (entry,) = plan.fixed
    assert (entry["start"], entry["end"]) == (f.start.isoformat(), f.end.isoformat())
    for o in plan.outages:
        held = set(o.zone["feeders"]) | {t["to_feeder"] for t in o.transfers}
        if o.start < f.end and f.start < o.end:
            assert not held & set(f.feeders), (o.jobs, o.start, held)
    for jid in entry["joined_jobs"]:
        j = jobs[int(jid[1:])]
        # joined: isolating the job's equipment too opens no other switch, and the work fits the window
        assert set(small_ring.isolate([*f.equipment, *j.equipment]).switches) == set(small_ring.isolate(list(f.equipment)).switches)
        assert max(j.earliest, f.start) + timedelta(minutes=j.duration_min) <= min(j.latest, f.end)
