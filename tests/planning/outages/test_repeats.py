"""The repeated-interruption rule on the small ring (conftest.py): hard where a start is left, reported where not.

A job on R2 leaves C1 and C2 (normal) dark; a job on R3 leaves C3 (first grade) and C7 dark.
Default rule: at most 2 interruptions in 60 days (1 for graded customers), history and the new outage counted.
"""

from datetime import timedelta

from planning.outages import plan_outages
from planning.reliability import Interruption

from .conftest import FAST, NOW, at, job


def fault(event, customers, when, minutes=90):
    start = at(when)
    return Interruption(event, "unplanned", start, start + timedelta(minutes=minutes), tuple(customers))


def only(plan):
    assert len(plan.outages) == 1, [e.to_dict() for e in plan.errors]
    return plan.outages[0]


WIDE = dict(earliest="2026-12-08 07:00", latest="2027-01-15 19:00")


def test_no_history_no_effect(small_ring):
    o = only(plan_outages(small_ring, [job("J1", "R2", 240)], now=NOW, options=FAST))
    assert o.repeat_over_limit == [] and "repeat_interruptions" not in o.window["rejected_starts"]


def test_a_customer_at_its_limit_is_not_interrupted_again_where_a_later_start_frees_it(small_ring):
    history = [fault("F1", ["C1"], "2026-11-10 10:00"), fault("F2", ["C1"], "2026-11-20 10:00")]
    plan = plan_outages(small_ring, [job("J1", "R2", 240, **WIDE)], now=NOW, options=FAST, history=history)
    o = only(plan)
    # C1's first fault leaves the 60-day window at 2027-01-09 10:00
    assert o.start >= at("2027-01-09 10:00")
    assert o.window["rejected_starts"]["repeat_interruptions"] > 0
    assert o.repeat_over_limit == []
    rep = plan.metrics["repeat_interruptions"]
    assert rep["at_or_over_limit_before"] == 1 and rep["over_limit_after"] == 0


def test_where_no_start_frees_it_the_outage_goes_ahead_and_says_so(small_ring):
    history = [fault("F1", ["C1"], "2026-11-10 10:00"), fault("F2", ["C1", "C2"], "2026-11-20 10:00")]
    plan = plan_outages(small_ring, [job("J1", "R2", 240)], now=NOW, options=FAST, history=history)
    o = only(plan)
    assert o.repeat_over_limit == [{"customer": "C1", "importance": "normal", "earlier": 2, "limit": 2}]
    rep = plan.metrics["repeat_interruptions"]
    assert rep["over_limit_after"] == 1 and rep["over_limit_customers"] == ["C1"]
    assert rep["at_or_over_limit_after"] == 2  # C2: one fault and this outage, at its limit
    assert plan.to_json()["outages"][0]["repeat_over_limit"][0]["customer"] == "C1"


def test_graded_customers_once(small_ring):
    history = [fault("F1", ["C3"], "2026-11-25 10:00")]  # C3 is first grade: limit 1
    o = only(plan_outages(small_ring, [job("J1", "R3", 120, **WIDE)], now=NOW, options=FAST, history=history))
    # C3 is free again from 2027-01-24, after the job's window: no start frees it, so it is reported
    assert [r["customer"] for r in o.repeat_over_limit] == ["C3"]
    assert "repeat_interruptions" not in o.window["rejected_starts"]


def test_staged_faults_count_once_and_momentary_breaks_not_at_all(small_ring):
    history = [
        fault("F1", ["C1", "C2"], "2026-11-20 10:00", 30),
        fault("F1", ["C1"], "2026-11-20 10:30", 60),  # the same fault's second stage
        fault("M1", ["C1"], "2026-11-25 10:00", 3),  # momentary
    ]
    o = only(plan_outages(small_ring, [job("J1", "R2", 240)], now=NOW, options=FAST, history=history))
    assert o.repeat_over_limit == []


def test_the_rule_switched_off(small_ring):
    history = [fault("F1", ["C1"], "2026-11-10 10:00"), fault("F2", ["C1"], "2026-11-20 10:00")]
    opts = FAST.__class__(**{**FAST.__dict__, "repeat_limit": 0})
    plan = plan_outages(small_ring, [job("J1", "R2", 240, **WIDE)], now=NOW, options=opts, history=history)
    o = only(plan)
    assert o.start < at("2027-01-09 10:00") and o.repeat_over_limit == []
    assert "repeat_interruptions" not in o.window["rejected_starts"]
    assert plan.metrics["repeat_interruptions"]["over_limit_after"] == 0


def test_bad_history_rows_are_errors_and_the_plan_goes_on(small_ring):
    history = [fault("F1", ["C1", "NOPE"], "2026-11-10 10:00")]
    plan = plan_outages(small_ring, [job("J1", "R2", 240)], now=NOW, options=FAST, history=history)
    assert len(plan.outages) == 1
    (err,) = [e for e in plan.errors if e.code == "bad_history"]
    assert "F1" in err.message and "NOPE" in err.message
