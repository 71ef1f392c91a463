"""Fault location on the ring of conftest.py (sections A B C X E G on F1, H on F2).

Normal paths: A <- F1; B <- F1 S1; C <- F1 S1 S2; X <- F1 S1 S2 S3; E <- ... S4; G <- ... S4 S5.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gis import InputError, NotFoundError
from planning.faults import locate_fault

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Monaco"))
A, B, C, X, E, G = (f"section:{n}" for n in ("D1", "D2", "D3", "D34", "D4", "D5"))


def secs(loc):
    return [c.section for c in loc.candidates]


@pytest.fixture(scope="module")
def net(ring_grid):
    # section ids are "section:<first node id>"; map our letters to the grid's own ids
    ids = {n: ring_grid.section_of(n) for n in ("D1", "D2", "D3", "D34", "D4", "D5", "D6")}
    return ids


def test_consistent_indicators_pin_the_section(ring_grid, net):
    loc = locate_fault(ring_grid, fault_indicators={"F1": 1, "S1": 1, "S2": 1, "S3": 1, "S4": 0, "S5": 0},
                       now=NOW)
    best = loc.best
    assert best.section == net["D34"]
    assert set(best.nodes) == {"p3", "D34", "q4"} and best.customers == ("X1",)
    assert "consistent with all 6" in best.reason and "upstream of S4" in best.reason
    assert best.score > 0.9
    assert 0.99 < sum(c.score for c in loc.candidates) <= 1.0 + 1e-9  # the dropped rest is tiny
    assert best.geometry["type"] in ("MultiLineString", "LineString")


def test_contradictory_indicators_give_ranked_candidates_with_reasons(ring_grid, net):
    # S2 says "no fault current" but S3 downstream says "fault current": one of them is wrong
    loc = locate_fault(ring_grid, fault_indicators={"F1": True, "S1": True, "S2": False, "S3": True, "S4": False},
                       now=NOW)
    top2 = set(secs(loc)[:2])
    assert top2 == {net["D2"], net["D34"]}  # each contradicts exactly one reading
    for c in loc.candidates[:2]:
        assert c.evidence["indicators"]["contradict"] in (["S2"], ["S3"])
        assert "contradicting" in c.reason
    # C contradicts two readings (S2 and S3): ranked below both
    assert secs(loc).index(net["D3"]) > 1
    assert loc.candidates[0].score < 0.9


def test_missing_readings_widen_the_candidates(ring_grid, net):
    loc = locate_fault(ring_grid, fault_indicators={"F1": True, "S1": True}, now=NOW)
    consistent = {c.section for c in loc.candidates if not c.evidence["indicators"]["contradict"]}
    assert consistent == {net["D2"], net["D3"], net["D34"], net["D4"], net["D5"]}
    x = next(c for c in loc.candidates if c.section == net["D34"])
    assert "no reading from S2, S3" in x.reason


def test_tripped_breaker_alone_ranks_the_whole_feeder_by_exposure(ring_grid, net):
    loc = locate_fault(ring_grid, tripped_breaker="F1", now=NOW)
    assert set(secs(loc)) == {net[n] for n in ("D1", "D2", "D3", "D34", "D4", "D5")}
    scores = [c.score for c in loc.candidates]
    assert scores == sorted(scores, reverse=True)
    exposure = {c.section: c.evidence["exposure_km"] for c in loc.candidates}
    assert max(exposure, key=exposure.get) == loc.best.section
    assert all("tripped breaker F1" in c.reason for c in loc.candidates)


def test_calls_from_one_room_point_at_its_device(ring_grid, net):
    # E1 and E2 (below S4: E1 E2 G1) called; G1 did not: S4 explains both with one silent customer,
    # every device further up leaves more customers silent, S5 explains none.
    loc = locate_fault(ring_grid, calls=["E1", "E2"], now=NOW)
    assert loc.outage_device == "S4"
    assert loc.best.section == net["D4"]
    assert loc.best.evidence["calls"]["device"] == "S4"
    assert "2 call(s) explained, 1 silent" in loc.best.reason
    only_g = locate_fault(ring_grid, calls=["G1"], now=NOW)
    assert only_g.outage_device == "S5" and only_g.best.section == net["D5"]


def test_calls_from_the_whole_feeder_point_at_the_breaker(ring_grid):
    loc = locate_fault(ring_grid, calls=["A1", "B1", "C1", "X1", "E1", "E2", "G1"], now=NOW)
    assert loc.outage_device == "F1"


def test_calls_and_indicators_combine(ring_grid, net):
    # the whole feeder called (the breaker tripped); indicators put the fault in X
    loc = locate_fault(ring_grid, calls=["A1", "B1", "C1", "E1", "G1"],
                       fault_indicators={"S2": True, "S3": True, "S4": False}, now=NOW)
    assert loc.best.section == net["D34"]
    assert "calls" in loc.best.evidence and "indicators" in loc.best.evidence


def test_unknown_callers_are_ignored_with_a_warning(ring_grid, net):
    loc = locate_fault(ring_grid, calls=["E1", "E2", "NOPE"], now=NOW)
    assert loc.best.section == net["D4"]
    assert any("NOPE" in w for w in loc.warnings)
    with pytest.raises(NotFoundError) as exc:
        locate_fault(ring_grid, calls=["NOPE", "NADA"], now=NOW)
    assert exc.value.code == "unknown_customer"


def test_calls_outside_the_tripped_feeder_are_flagged(ring_grid):
    loc = locate_fault(ring_grid, tripped_breaker="F1", calls=["H1"], now=NOW)
    assert any("not fed through F1" in w for w in loc.warnings)


@pytest.mark.parametrize(
    ("kwargs", "error", "code"),
    [
        ({"tripped_breaker": "NOPE"}, NotFoundError, "unknown_breaker"),
        ({"tripped_breaker": "S1"}, InputError, "not_a_breaker"),
        ({"fault_indicators": {"NOPE": True}}, NotFoundError, "unknown_switch"),
        ({"fault_indicators": {"T1": True}}, InputError, "no_fault_indicator"),
        ({"fault_indicators": {"S1": "maybe"}}, InputError, "bad_reading"),
        ({}, InputError, "no_evidence"),
    ],
)
def test_bad_input_is_a_clear_error(ring_grid, kwargs, error, code):
    with pytest.raises(error) as exc:
        locate_fault(ring_grid, now=NOW, **kwargs)
    assert exc.value.code == code
    assert exc.value.message


def test_naive_time_is_refused(ring_grid):
    with pytest.raises(InputError):
        locate_fault(ring_grid, tripped_breaker="F1", now=datetime(2026, 3, 2, 10, 0))
