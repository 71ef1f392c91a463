"""Switching plans: unsafe sequences are rejected (fail closed), good ones replay cleanly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from planning.outages import PlanOptions
from planning.outages.switching import Step, Validator, build_steps
from planning.outages.timeline import Timeline
from planning.outages.zones import build_zone


def _setup(grid, mk, equipment="R2"):  # noqa: ANN001, ANN202
    tl = Timeline(grid, PlanOptions(), mk.NOW)
    zone = build_zone(tl, [equipment])
    start = mk.at("2026-12-08 09:00")
    end = start + mk.hours(2)
    s_slot = round(tl.slot_of(start))
    return tl, zone, start, end, s_slot, s_slot + 8


def _validate(tl, zone, steps, chosen, s, e):  # noqa: ANN001, ANN202
    allowed = [zone.fixed_dead] + [b.customers for b, c in zip(zone.blocks, chosen, strict=True) if c is None or not c.make_before_break]
    return Validator(tl).validate(zone, steps, allowed_dark=np.concatenate(allowed), start_slot=s, end_slot=e)


def test_planned_sequence_is_safe(small_ring, mk) -> None:
    tl, zone, start, end, s, e = _setup(small_ring, mk)
    chosen = [zone.blocks[0].options[0]]
    steps = build_steps(zone, chosen, start=start, end=end)
    assert _validate(tl, zone, steps, chosen, s, e) == []
    acts = [(x.action, x.device) for x in steps]
    assert acts[:3] == [("open", "S2"), ("close", "T1"), ("open", "S1")]
    assert ("apply_earth", "S1") in acts and ("apply_earth", "S2") in acts
    assert acts.index(("verify_dead", None)) < acts.index(("apply_earth", "S1")) < acts.index(("start_work", None))
    assert acts.index(("remove_earth", "S1")) < acts.index(("close", "S1"))


def test_make_before_break_across_substations_is_rejected(small_ring, mk) -> None:
    tl, zone, start, end, s, e = _setup(small_ring, mk)
    bad = replace(zone.blocks[0].options[0], make_before_break=True)  # pretend SA and SB may be looped
    steps = build_steps(zone, [bad], start=start, end=end)
    problems = _validate(tl, zone, steps, [bad], s, e)
    assert any("parallels substations SA and SB" in p for p in problems)


def test_earthing_a_live_zone_is_rejected(small_ring, mk) -> None:
    tl, zone, start, end, s, e = _setup(small_ring, mk)
    chosen = [zone.blocks[0].options[0]]
    steps = [x for x in build_steps(zone, chosen, start=start, end=end) if not (x.action in ("open", "close") and x.device == "S1")]
    problems = _validate(tl, zone, steps, chosen, s, e)
    assert any("work zone is energised while" in p for p in problems)


def test_restoring_before_removing_earths_is_rejected(small_ring, mk) -> None:
    tl, zone, start, end, s, e = _setup(small_ring, mk)
    chosen = [None]
    steps = build_steps(zone, chosen, start=start, end=end)
    close_s1 = next(x for x in steps if x.action == "close" and x.device == "S1")
    steps.remove(close_s1)
    steps.insert(next(i for i, x in enumerate(steps) if x.action == "end_work"), close_s1)  # close while working
    problems = _validate(tl, zone, steps, chosen, s, e)
    assert any("energised while" in p for p in problems)


def test_overloading_transfer_is_rejected(weak_f2, mk) -> None:
    tl, zone, start, end, s, e = _setup(weak_f2, mk)
    opt = zone.blocks[0].options[0]
    steps = build_steps(zone, [opt], start=start, end=end)
    problems = _validate(tl, zone, steps, [opt], s, e)
    assert any("feeder F2 carries 710 kW" in p and "above its limit 561 kW" in p for p in problems)


def test_unplanned_interruption_is_rejected(small_ring, mk) -> None:
    tl, zone, start, end, s, e = _setup(small_ring, mk)
    steps = build_steps(zone, [None], start=start, end=end)
    extra = Step(0, "isolate", "open", "F2", start, "wrong breaker")
    undo = Step(0, "restore", "close", "F2", end, "")
    steps = [extra, *steps, undo]
    problems = _validate(tl, zone, steps, [None], s, e)
    assert any("lose supply unplanned" in p for p in problems)


def test_plan_left_abnormal_is_rejected(small_ring, mk) -> None:
    tl, zone, start, end, s, e = _setup(small_ring, mk)
    steps = [x for x in build_steps(zone, [None], start=start, end=end) if not (x.phase == "restore" and x.action == "close")]
    problems = _validate(tl, zone, steps, [None], s, e)
    assert any("does not end in the normal state" in p for p in problems)


def test_tie_touching_the_work_zone_stays_open(small_ring, mk) -> None:
    tl, zone, start, end, s, e = _setup(small_ring, mk, equipment="R3")
    steps = build_steps(zone, [None] * len(zone.blocks), start=start, end=end)
    assert ("keep_open", "T1") in [(x.action, x.device) for x in steps]
    assert ("apply_earth", "T1") in [(x.action, x.device) for x in steps]
    assert not any(x.action == "close" and x.device == "T1" for x in steps)
    assert _validate(tl, zone, steps, [None] * len(zone.blocks), s, e) == []


def test_failed_transfer_falls_back_to_a_safe_plan(small_ring, mk, monkeypatch) -> None:
    from planning.outages import plan_outages

    real = Validator.validate

    def picky(self, zone, steps, **kw):  # noqa: ANN001, ANN003, ANN202
        found = real(self, zone, steps, **kw)
        if any(s.action == "close" and s.device == "T1" for s in steps):
            found.append("step 2 (close T1): rejected for the test")
        return found

    monkeypatch.setattr(Validator, "validate", picky)
    (o,) = plan_outages(small_ring, [mk.job("J1", "R2", 240)], now=mk.NOW, options=mk.FAST).outages
    assert o.valid and o.transfers == []
    assert o.zone["validation_notes"] == ["step 2 (close T1): rejected for the test"]
    assert o.impact["ci"] == 4 and o.impact["cmi"] == 4 * 240  # the block stays dark, and it is counted


def test_plan_that_cannot_be_made_safe_is_returned_invalid_without_steps(small_ring, mk, monkeypatch) -> None:
    from planning.outages import plan_outages

    monkeypatch.setattr(Validator, "validate", lambda self, zone, steps, **kw: ["always unsafe"])
    plan = plan_outages(small_ring, [mk.job("J1", "R2", 240)], now=mk.NOW, options=mk.FAST)
    (o,) = plan.to_json()["outages"]
    assert o["valid"] is False and o["switching_steps"] == [] and "always unsafe" in o["problems"]
    assert plan.metrics["plan"]["invalid_outages"] == 1


def test_every_step_carries_its_note_in_both_languages(small_ring, mk) -> None:  # noqa: ANN001
    tl, zone, start, end, _s, _e = _setup(small_ring, mk)
    chosen = [b.options[0] if b.options else None for b in zone.blocks]
    steps = [st.to_dict() for st in build_steps(zone, chosen, start=start, end=end)]
    assert any(st["phase"] == "transfer" for st in steps)  # R2's block is re-fed through T1
    for st in steps:
        assert st["why"]["texts"]["en"] == st["note"]
        assert set(st["why"]["texts"]) == {"en", "zh-Hans"}
    verify = next(st for st in steps if st["action"] == "verify_dead")
    assert verify["why"]["texts"]["zh-Hans"].startswith("验明作业区无电")
