"""Hand-computed small cases, one per rule, on the small ring (drawing in conftest.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from planning.outages import Generator, plan_outages


def only(plan):  # noqa: ANN001, ANN201
    assert len(plan.outages) == 1, [e.to_dict() for e in plan.errors]
    return plan.outages[0]


# -- transfer (能转必转) -------------------------------------------------------------


def test_transfer_that_fits_is_break_before_make_across_substations(small_ring, mk) -> None:
    # R2 out: work zone {x1, R2, D1} (C1, C2); s3 {x2, R3, D2} (C3, C7: 430 kW) is dark downstream.
    # F2 carries at most 200 + 80 = 280 kW; 280 + 430 = 710 kW <= 4208.9 kW: T1 may take s3.
    plan = plan_outages(small_ring, [mk.job("J1", "R2", 240)], now=mk.NOW, options=mk.FAST)
    o = only(plan)
    assert o.valid, o.problems
    assert len(o.transfers) == 1
    t = o.transfers[0]
    assert (t["tie"], t["from_feeder"], t["to_feeder"], t["to_substation"]) == ("T1", "F1", "F2", "SB")
    assert t["mode"] == "break_before_make"  # SA and SB: never parallel them, not even for a moment
    assert t["split_at"] is None  # the whole block fits: no switch opened inside it
    assert sorted(t["customers"]) == ["C3", "C7"]
    assert t["transferred_peak_kw"] == 430.0
    assert t["receiving_limit_kw"] == pytest.approx(4208.9, abs=0.1)
    # the short break is counted: C1, C2 dark 240 min; C3, C7 dark 5 min at each end
    assert o.impact["ci"] == 4
    assert o.impact["cmi"] == 2 * 240 + 2 * (2 * 5)
    assert o.impact["short_interruptions"] == 2
    supply = {c["id"]: c["supply"] for c in o.notices["customers"]}
    assert supply == {"C1": "interrupted", "C2": "interrupted", "C3": "short_breaks", "C7": "short_breaks"}
    # break-before-make: S2 opens before T1 closes, and T1 opens before S2 closes again
    seq = [(s.action, s.device) for s in o.steps if s.action in ("open", "close")]
    assert seq.index(("open", "S2")) < seq.index(("close", "T1"))
    assert seq.index(("open", "T1")) < seq.index(("close", "S2"))


def test_transfer_that_overloads_is_refused(weak_f2, mk) -> None:
    # F2 limit 623.5 x 0.9 = 561.2 kW; 200 kW flat + 430 kW = 630 kW even at night: refused.
    plan = plan_outages(weak_f2, [mk.job("J1", "R2", 240)], now=mk.NOW, options=mk.FAST)
    o = only(plan)
    assert o.valid
    assert o.transfers == []
    rej = o.zone["transfer_rejected"]
    assert len(rej) == 1 and rej[0]["tie"] == "T1" and "above its limit 561 kW" in rej[0]["reason"]
    assert o.impact["ci"] == 4 and o.impact["cmi"] == 4 * 240


def test_transfer_margin_is_an_option(mk) -> None:
    # F2 at 46 A: capacity 717.1 kW. In working hours F2 carries 200 + 80 = 280 kW; with s3 (430 kW)
    # 710 kW: within 717.1 kW without margin, above 645.4 kW with the default 10 % margin.
    grid = mk.ring_grid(lambda L: mk.set_row(L, "switches", "F2", rating_a=46.0))
    plan = plan_outages(grid, [mk.job("J1", "R2", 240)], now=mk.NOW, options=replace(mk.FAST, capacity_margin=0.0))
    assert only(plan).transfers[0]["tie"] == "T1"
    plan = plan_outages(grid, [mk.job("J1", "R2", 240)], now=mk.NOW, options=mk.FAST)
    assert only(plan).transfers == []


def test_block_too_heavy_for_the_tie_is_split(mk) -> None:
    # L1 out: the block behind S1 holds C1, C2 (D1) and C3, C7 (D2): 580 kW at 09:00-13:00. F2 at 55 A
    # has a limit of sqrt(3) x 10 x 55 x 0.9 x 0.9 = 771.6 kW and carries 280 kW: the whole block
    # (860 kW) does not fit, the part beyond S2 (430 kW -> 710 kW) does. S2 opens inside the block.
    grid = mk.ring_grid(lambda L: mk.set_row(L, "switches", "F2", rating_a=55.0))
    job = mk.job("J1", "L1", 240, earliest="2026-12-08 09:00", latest="2026-12-08 13:00")
    o = only(plan_outages(grid, [job], now=mk.NOW, options=mk.FAST))
    assert o.valid, o.problems
    [t] = o.transfers
    assert (t["tie"], t["split_at"], t["mode"]) == ("T1", "S2", "break_before_make")
    assert sorted(t["customers"]) == ["C3", "C7"] and t["receiving_peak_kw"] == pytest.approx(710.0)
    supply = {c["id"]: c["supply"] for c in o.notices["customers"]}
    assert supply["C3"] == supply["C7"] == "short_breaks" and supply["C1"] == supply["C2"] == "interrupted"
    seq = [(s.action, s.device) for s in o.steps if s.action in ("open", "close")]
    assert seq.index(("open", "S2")) < seq.index(("close", "T1")) < seq.index(("open", "T1")) < seq.index(("close", "S2"))
    assert seq[-1] == ("close", "S2")  # rejoined last, after the hand-back
    assert o.power_flow["states"] and all(st["ok"] for st in o.power_flow["states"])


def test_make_before_break_within_one_substation(one_substation, mk) -> None:
    plan = plan_outages(one_substation, [mk.job("J1", "R2", 240)], now=mk.NOW, options=mk.FAST)
    o = only(plan)
    assert o.valid, o.problems
    assert o.transfers[0]["mode"] == "make_before_break"
    seq = [(s.action, s.device) for s in o.steps if s.action in ("open", "close")]
    assert seq.index(("close", "T1")) < seq.index(("open", "S2"))
    assert seq.index(("close", "S2")) < seq.index(("open", "T1"))
    # C3 and C7 never lose supply: only C1 and C2 are interrupted and notified
    assert o.impact["ci"] == 2 and o.impact["cmi"] == 2 * 240
    assert sorted(o.customers) == ["C1", "C2"]


# -- merge (能合必合) ----------------------------------------------------------------


def test_merge_when_it_saves_customer_minutes(small_ring, mk) -> None:
    # apart: R2 -> C1, C2 240 min + C3, C7 2 x 5 min each = 500; R3 -> C3, C7 240 min = 480. Sum 980.
    # together (crews in parallel, 240 min): C1, C2, C3, C7 x 240 = 960 <= 980: merge.
    jobs = [mk.job("J1", "R2", 240, crew="A"), mk.job("J2", "R3", 240, crew="B")]
    o = only(plan_outages(small_ring, jobs, now=mk.NOW, options=mk.FAST))
    assert sorted(o.jobs) == ["J1", "J2"]
    cmp = [c for c in o.merge if c["decision"] == "merged"][0]
    assert cmp["apart_customer_minutes"] == 980 and cmp["merged_customer_minutes"] == 960
    assert o.impact["ci"] == 4 and o.impact["cmi"] == 960
    assert (o.end - o.start).total_seconds() == 240 * 60
    assert o.transfers == []  # s3 holds work now: it cannot be re-fed


def test_no_merge_when_the_union_costs_more(small_ring, mk) -> None:
    # apart: R2 (240 min) -> 500; L3 (120 min, zone s3) -> C3, C7 x 120 = 240. Sum 740.
    # together: 4 x 240 = 960 > 740: keep apart, and say why.
    jobs = [mk.job("J1", "R2", 240, crew="A"), mk.job("J2", "L3", 120, crew="B")]
    plan = plan_outages(small_ring, jobs, now=mk.NOW, options=mk.FAST)
    assert len(plan.outages) == 2
    cmps = [c for o in plan.outages for c in o.merge]
    assert len(cmps) == 1
    assert cmps[0]["decision"] == "kept_apart"
    assert cmps[0]["apart_customer_minutes"] == 740 and cmps[0]["merged_customer_minutes"] == 960


def test_same_crew_works_in_turn(small_ring, mk) -> None:
    # One crew: 120 + 120 = 240 min merged; apart: R3 -> 2 x 120 = 240, L3 -> 240: 480 >= 2 x 240.
    jobs = [mk.job("J1", "R3", 120, crew="A"), mk.job("J2", "L3", 120, crew="A")]
    o = only(plan_outages(small_ring, jobs, now=mk.NOW, options=mk.FAST))
    assert (o.end - o.start).total_seconds() == 240 * 60
    jobs = [mk.job("J1", "R3", 120, crew="A"), mk.job("J2", "L3", 120, crew="B")]
    o = only(plan_outages(small_ring, jobs, now=mk.NOW, options=mk.FAST))
    assert (o.end - o.start).total_seconds() == 120 * 60


# -- generators (能发必发) -----------------------------------------------------------


def test_generator_sized_to_peak_in_window(small_ring, mk) -> None:
    # R5 out: C4 (second grade, no backup, 80 kW "day" profile) loses supply. Window 09:00-12:00
    # on a weekday: peak 80 kW -> the smallest truck >= 80 kW is the 100 kW one.
    # (C4's peak hours are 08:00-18:00: second grade is left out of peak_grades here)
    fleet = (Generator("G50", "", 50.0), Generator("G100", "", 100.0), Generator("G500", "", 500.0))
    j = mk.job("J1", "R5", 180, earliest="2026-12-08 09:00", latest="2026-12-08 12:00")
    o = only(plan_outages(small_ring, [j], now=mk.NOW, options=replace(mk.FAST, generator_fleet=fleet, peak_grades=("special", "first"))))
    assert [(g["generator"], g["customer"], g["peak_kw"]) for g in o.generators] == [("G100", "C4", 80.0)]
    assert o.generators[0]["hours"] == 3.0
    assert o.impact["generator_hours"] == 3.0
    assert o.impact["ci"] == 0  # C4 is on the truck; nobody else is on s5
    assert o.unmet_generator_needs == []


def test_generator_at_night_needs_less(small_ring, mk) -> None:
    # Same job at night (night work): C4 draws 0.2 x 80 = 16 kW, the 50 kW truck is enough.
    fleet = (Generator("G50", "", 50.0), Generator("G100", "", 100.0))
    j = mk.job("J1", "R5", 180, earliest="2026-12-08 22:00", latest="2026-12-09 01:00", night_work=True)
    o = only(plan_outages(small_ring, [j], now=mk.NOW, options=replace(mk.FAST, generator_fleet=fleet)))
    assert [(g["generator"], g["peak_kw"]) for g in o.generators] == [("G50", 16.0)]


def test_unmet_generator_need_is_reported(small_ring, mk) -> None:
    j = mk.job("J1", "R5", 180, earliest="2026-12-08 09:00", latest="2026-12-08 12:00")
    opts = replace(mk.FAST, generator_fleet=(Generator("G50", "", 50.0),), peak_grades=("special", "first"))
    o = only(plan_outages(small_ring, [j], now=mk.NOW, options=opts))
    assert o.generators == []
    assert o.unmet_generator_needs == [{"customer": "C4", "importance": "second", "peak_kw": 80.0, "reason": "no truck of at least 80 kW in the fleet"}]
    assert o.impact["ci"] == 1


def test_backup_power_needs_no_generator(small_ring, mk) -> None:
    # C3 (first grade) has backup power: no truck, even with a fleet.
    o = only(plan_outages(small_ring, [mk.job("J1", "L3", 60)], now=mk.NOW, options=replace(mk.FAST, generator_fleet=(Generator("G", "", 800.0),))))
    assert o.generators == [] and o.unmet_generator_needs == []


# -- windows (能小必小) and peak hours -------------------------------------------------


def test_peak_hours_are_avoided_and_explained(mk) -> None:
    # C3 (first grade) states peak hours 09:00-12:00. A 2 h job on L3 (C3 and C7 dark), window
    # 08:00-19:00: the baseline starts at 08:00 (hits the peak); the plan may not overlap 09-12.
    grid = mk.ring_grid(lambda L: mk.set_row(L, "customers", "C3", peak_hours="09:00-12:00"))
    plan = plan_outages(grid, [mk.job("J1", "L3", 120, earliest="2026-12-08 08:00")], now=mk.NOW, options=mk.FAST)
    o = only(plan)
    assert o.start >= mk.at("2026-12-08 12:00")
    assert plan.metrics["plan"]["peak_hits"] == 0
    assert plan.metrics["baseline"]["peak_hits"] == 1
    assert plan.baseline[0]["start"] == mk.at("2026-12-08 08:00").isoformat()
    assert o.window["rejected_starts"]["peak_hours"] > 0
    assert "cheapest feasible start" in o.window["explanation"]


def test_hand_back_break_counts_in_the_peak_check(mk) -> None:
    # R2 out 240 min in a window with a single start (08:00-12:00): s3 (C3, first grade) goes to F2
    # break-before-make, so C3 is dark 08:00-08:05 and again 12:00-12:05 at the hand-back. A peak
    # 12:00-13:00 is hit only by the second break: the one start is refused.
    job = mk.job("J1", "R2", 240, earliest="2026-12-08 08:00", latest="2026-12-08 12:00")
    free = plan_outages(mk.ring_grid(lambda L: mk.set_row(L, "customers", "C3", peak_hours="12:15-13:00")), [job], now=mk.NOW, options=mk.FAST)
    assert only(free).transfers[0]["mode"] == "break_before_make" and free.metrics["plan"]["peak_hits"] == 0
    hit = plan_outages(mk.ring_grid(lambda L: mk.set_row(L, "customers", "C3", peak_hours="12:00-13:00")), [job], now=mk.NOW, options=mk.FAST)
    assert [e.code for e in hit.errors] == ["peak_hours_conflict"] and "C3" in hit.errors[0].message


def test_second_grade_peak_hours_are_protected_by_default(small_ring, mk) -> None:
    # C4 (second grade, "day" profile: peak 08:00-18:00 on weekdays) is dark when D3's line is out.
    job = mk.job("J1", "L9", 60, earliest="2026-12-08 09:00", latest="2026-12-08 11:00")
    plan = plan_outages(small_ring, [job], now=mk.NOW, options=mk.FAST)
    assert [e.code for e in plan.errors] == ["peak_hours_conflict"] and "C4" in plan.errors[0].message
    relaxed = plan_outages(small_ring, [job], now=mk.NOW, options=replace(mk.FAST, peak_grades=("special", "first")))
    assert not relaxed.errors and only(relaxed).start == mk.at("2026-12-08 09:00")


def test_cheapest_window_is_chosen_with_next_best(small_ring, mk) -> None:
    # R2 out on a weekday: C2 ("day" profile) draws 50 kW 08:00-18:00 and 10 kW outside;
    # C1 100 kW flat. A 1 h job between 07:00 and 19:00 is cheapest at 07:00 or 18:00.
    o = only(plan_outages(small_ring, [mk.job("J1", "L2", 60)], now=mk.NOW, options=mk.FAST))
    assert o.start in (mk.at("2026-12-08 07:00"), mk.at("2026-12-08 18:00"))
    costs = [a["cost"] for a in o.window["next_best"]]
    assert len(costs) == 3 and all(c >= o.window["chosen"]["cost"] for c in costs)


def test_working_hours_and_night_work(small_ring, mk) -> None:
    late = mk.job("J1", "L2", 120, earliest="2026-12-08 18:00", latest="2026-12-08 23:00")
    plan = plan_outages(small_ring, [late], now=mk.NOW, options=mk.FAST)
    assert [e.code for e in plan.errors] == ["no_working_window"]
    night = mk.job("J1", "L2", 120, earliest="2026-12-08 18:00", latest="2026-12-08 23:00", night_work=True)
    o = only(plan_outages(small_ring, [night], now=mk.NOW, options=mk.FAST))
    assert o.start >= mk.at("2026-12-08 18:00") and o.end <= mk.at("2026-12-08 23:00")


# -- schedule -----------------------------------------------------------------------


def test_outages_on_one_feeder_do_not_overlap(small_ring, mk) -> None:
    # Two jobs on F1 branches that do not overlap (S3 branch and L3) in a 3 h window of 2 h each:
    # no common slot for both, so one must wait for another day.
    jobs = [
        mk.job("J1", "L11", 120, earliest="2026-12-08 07:00", latest="2026-12-09 19:00"),
        mk.job("J2", "L8", 120, earliest="2026-12-08 07:00", latest="2026-12-09 19:00"),
    ]
    plan = plan_outages(small_ring, jobs, now=mk.NOW, options=mk.FAST)
    a, b = plan.outages
    assert a.end <= b.start or b.end <= a.start
    assert plan.solver["status"] in ("OPTIMAL", "FEASIBLE")


def test_one_crew_cannot_be_in_two_places(small_ring, mk) -> None:
    jobs = [mk.job("J1", "L11", 240, crew="A"), mk.job("J2", "L9", 240, crew="A")]  # F1 and F2
    # (L9 darkens C4, second grade with peak hours all working day: left out of peak_grades here)
    plan = plan_outages(small_ring, jobs, now=mk.NOW, options=replace(mk.FAST, peak_grades=("special", "first")))
    assert not plan.errors, plan.errors
    a, b = plan.outages
    assert a.end <= b.start or b.end <= a.start
