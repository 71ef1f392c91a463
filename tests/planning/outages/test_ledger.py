"""The annual plan from a maintenance ledger, on the small ring (see conftest.py for its layout).

F1 feeds R1, R2, R3 (lines L1-L3, L7, L8, L11, switches S1-S3); F2 feeds R4, R5, R6 (L4-L6, L9, L10, S4, S5).
"""

from datetime import date

import pytest

from gis.errors import InputError
from planning.outages import plan_outages
from planning.outages.ledger import LedgerItem, occurrences, propose_year

from .conftest import FAST, NOW


def item(iid, equipment, *, months=None, last=None, due=None, minutes=120, kind="rmu_inspection", crew_size=1):
    return LedgerItem(iid, equipment, kind, minutes, months, last, due, crew_size=crew_size)


def windows(grid, items, year=2027):
    return [(o.due, o.first_month, o.last_month) for o in occurrences(grid, items, year=year)]


def test_due_windows_of_recurring_overdue_and_one_off_items(small_ring):
    assert windows(small_ring, [item("a", "R2", months=36, last=date(2024, 5, 10))]) == [(date(2027, 5, 10), 1, 5)]
    # every 6 months: due in March and September; each may be done in the 6 months before it
    assert windows(small_ring, [item("b", "L2", months=6, last=date(2026, 9, 1))]) == [
        (date(2027, 3, 1), 1, 3), (date(2027, 9, 1), 4, 9)]
    # overdue since June 2026: in the first quarter, which restarts the clock (next due in 2028)
    assert windows(small_ring, [item("c", "S3", months=12, last=date(2025, 6, 1))]) == [(date(2026, 6, 1), 1, 3)]
    assert windows(small_ring, [item("d", "R4", due=date(2027, 8, 15))]) == [(date(2027, 8, 15), 1, 8)]
    assert windows(small_ring, [item("e", "R4", due=date(2028, 2, 1)), item("f", "R5", months=60, last=date(2024, 1, 1))]) == []


def test_items_of_one_feeder_share_a_month_and_feeders_are_bundled_apart(small_ring):
    items = [
        item("a", "R2", months=36, last=date(2024, 6, 1)),  # F1, Jan..Jun
        item("b", "L3", months=60, last=date(2022, 4, 1)),  # F1, Jan..Apr
        item("c", "R5", months=36, last=date(2024, 6, 1)),  # F2
        item("d", "R3", due=date(2027, 11, 30)),  # F1, Jan..Nov
    ]
    p = propose_year(small_ring, items, year=2027)
    by_item = {r["item"]: r for r in p.occurrences}
    assert by_item["a"]["bundle"] == by_item["b"]["bundle"]
    # d falls due in November, seven months after b: not pulled forward into their bundle
    assert by_item["d"]["bundle"] != by_item["a"]["bundle"] and by_item["d"]["feeder"] == by_item["a"]["feeder"]
    assert by_item["a"]["month"] == by_item["b"]["month"] <= "2027-04"
    assert by_item["c"]["bundle"] != by_item["a"]["bundle"] and by_item["c"]["feeder"] == "F2"
    jobs = {j.requested_by: j for j in p.jobs}
    ja, jb = jobs["ledger a"], jobs["ledger b"]
    assert (ja.earliest, ja.latest) == (jb.earliest, jb.latest)
    assert ja.earliest.isoformat().startswith(by_item["a"]["month"]) and ja.earliest.tzinfo is not None


def test_heavy_work_goes_to_the_low_load_months(small_ring):
    load = [1.0, 0.95, 0.8, 0.6, 0.7, 0.9, 1.0, 1.0, 0.85, 0.75, 0.9, 1.0]  # April lowest, May next
    items = [item("big", "R2", due=date(2027, 12, 31), minutes=480, crew_size=3),
             item("small", "R5", due=date(2027, 12, 31), minutes=60)]
    p = propose_year(small_ring, items, year=2027, monthly_load=load)
    month = {r["item"]: r["month"] for r in p.occurrences}
    assert month["big"] == "2027-04"  # the most crew-hours take the lowest load
    assert month["small"] == "2027-05"  # April is above its even share now: the next-lowest month


def test_bundles_hold_a_day_of_work_and_spread_over_a_flat_year(small_ring):
    items = [item(f"i{k}", eq, due=date(2027, 12, 31)) for k, eq in enumerate(["R1", "R2", "R3", "R4", "R5", "R6"] * 4)]
    p = propose_year(small_ring, items, year=2027, max_bundle_hours=8.0)
    # 24 items of 2 crew-hours, 12 per feeder: three bundles of 8 h per feeder, each in its own month
    assert sorted(b["crew_hours"] for b in p.bundles) == [8.0] * 6
    assert sorted(m["hours"] for m in p.months) == [0.0] * 6 + [8.0] * 6
    assert {b["feeder"] for b in p.bundles} == {"F1", "F2"}


def test_bad_ledger_rows_are_named_and_the_rest_proposed(small_ring):
    items = [
        item("ok", "R2", months=36, last=date(2024, 5, 10)),
        item("ghost", "NOPE", months=36, last=date(2024, 5, 10)),
        item("zero", "R2", months=0, last=date(2024, 5, 10)),
        item("never", "R2", months=12),
        item("nothing", "R2"),
        item("empty", "R2", due=date(2027, 3, 1), minutes=0),
    ]
    p = propose_year(small_ring, items, year=2027)
    assert [(e.record, e.code) for e in p.problems] == [
        ("ghost", "unknown_equipment"), ("zero", "bad_interval"), ("never", "missing_last_done"),
        ("nothing", "no_schedule"), ("empty", "bad_number")]
    assert [j.requested_by for j in p.jobs] == ["ledger ok"]
    with pytest.raises(InputError):
        propose_year(small_ring, items[:1], year=2027, monthly_load=[1.0] * 11)


def test_a_bundle_becomes_one_outage_in_the_monthly_plan(small_ring):
    items = [item("rmu", "R3", months=36, last=date(2023, 12, 1)),  # overdue: January
             item("sw", "R3", kind="switch_maintenance", months=12, last=date(2025, 12, 1))]
    p = propose_year(small_ring, items, year=2027, overdue_months=1)
    assert len(p.bundles) == 1 and p.bundles[0]["month"] == "2027-01"
    plan = plan_outages(small_ring, p.jobs, now=NOW.replace(year=2026, month=12, day=20), options=FAST)
    assert len(plan.outages) == 1 and sorted(plan.outages[0].jobs) == sorted(j.id for j in p.jobs)
