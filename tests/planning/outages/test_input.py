"""Bad input gives per-job errors (the rest still plans), never a traceback; options and CSV loading."""

from __future__ import annotations

import io
import json
from datetime import datetime, time
from pathlib import Path

import pytest

from gis import InputError
from planning.outages import (
    Job,
    PlanOptions,
    load_generators_csv,
    load_jobs_csv,
    plan_outages,
    write_jobs_csv,
)


def test_every_bad_job_gets_its_own_error_and_the_rest_plans(small_ring, mk) -> None:
    jobs = [
        mk.job("OK", "L2", 60),
        mk.job("UNKNOWN", "NOPE", 60),
        mk.job("BUSBAR", "BA", 60),
        mk.job("BREAKER", "F1", 60),
        mk.job("BACKWARDS", "L2", 60, earliest="2026-12-09 07:00", latest="2026-12-08 19:00"),
        mk.job("TOO_LONG", "L2", 600, earliest="2026-12-08 07:00", latest="2026-12-08 09:00"),
        mk.job("PAST", "L2", 60, earliest="2026-11-20 07:00", latest="2026-11-21 19:00"),
        mk.job("NO_NOTICE", "L2", 60, earliest="2026-12-02 07:00", latest="2026-12-03 19:00"),
        mk.job("OK", "L5", 60),
        mk.job("CUSTOMER", "C1", 60),
        mk.job("FAR", "L2", 60, earliest="2027-06-01 07:00", latest="2027-06-02 19:00"),
        Job("NAIVE", "L2", 60, datetime(2026, 12, 8, 7), datetime(2026, 12, 8, 19)),
        Job("NOEQ", "", 60, mk.at("2026-12-08 07:00"), mk.at("2026-12-08 19:00")),
        Job("ZERO", "L2", 0, mk.at("2026-12-08 07:00"), mk.at("2026-12-08 19:00")),
    ]
    plan = plan_outages(small_ring, jobs, now=mk.NOW, options=mk.FAST)
    codes = {(e.job, e.code) for e in plan.errors}
    assert codes == {
        ("UNKNOWN", "unknown_equipment"),
        ("BUSBAR", "source_equipment"),
        ("BREAKER", "source_equipment"),
        ("BACKWARDS", "bad_window"),
        ("TOO_LONG", "duration_exceeds_window"),
        ("PAST", "window_past"),
        ("NO_NOTICE", "notice_too_late"),
        ("OK", "duplicate_id"),
        ("CUSTOMER", "not_equipment"),
        ("FAR", "beyond_horizon"),
        ("NAIVE", "naive_datetime"),
        ("NOEQ", "no_equipment"),
        ("ZERO", "bad_duration"),
    }
    assert [o.jobs for o in plan.outages] == [["OK"]]
    for e in plan.errors:
        assert e.message and e.job in {j.id for j in jobs}
    json.dumps(plan.to_json())


def test_empty_job_list(small_ring, mk) -> None:
    plan = plan_outages(small_ring, [], now=mk.NOW, options=mk.FAST)
    assert [e.to_dict() for e in plan.errors] == [{"job": None, "code": "no_jobs", "message": "the job list is empty: nothing to plan"}]
    assert plan.outages == [] and plan.metrics["plan"]["outages"] == 0
    json.dumps(plan.to_json())


def test_naive_now_is_a_clear_error(small_ring, mk) -> None:
    with pytest.raises(InputError, match="timezone-aware"):
        plan_outages(small_ring, [mk.job("J", "L2", 60)], now=datetime(2026, 12, 1), options=mk.FAST)


def test_peak_conflict_suggests_night_work(mk) -> None:
    grid = mk.ring_grid(lambda L: mk.set_row(L, "customers", "C3", peak_hours="07:00-19:00"))
    plan = plan_outages(grid, [mk.job("J", "L3", 120, latest="2026-12-09 19:00")], now=mk.NOW, options=mk.FAST)
    (e,) = plan.errors
    assert e.code == "peak_hours_conflict" and "C3" in e.message and "night work" in e.message


# -- CSV ---------------------------------------------------------------------


CSV = """id,equipment,duration_min,earliest,latest,crew,description,requested_by,night_work
J1,R2;L3,240,2026-12-08T07:00:00+01:00,2026-12-12T19:00:00+01:00,A,RMU service,ops,false
J2,L5,abc,2026-12-08T07:00:00+01:00,2026-12-12T19:00:00+01:00,,bad duration,,
J3,L5,60,2026-12-08 07:00,2026-12-12T19:00:00+01:00,,naive,,
J4,L5,60,tomorrow,2026-12-12T19:00:00+01:00,,bad time,,
,L5,60,2026-12-08T07:00:00+01:00,2026-12-12T19:00:00+01:00,,no id,,
J6,,60,2026-12-08T07:00:00+01:00,2026-12-12T19:00:00+01:00,,no equipment,,
J7,L5,60,2026-12-08T07:00:00+01:00,2026-12-12T19:00:00+01:00,,night,,yes
J8,L5,60,2026-12-08T07:00:00+01:00,2026-12-12T19:00:00+01:00,,bad flag,,maybe
"""


def test_csv_rows_load_or_fail_alone() -> None:
    jobs, errors = load_jobs_csv(io.StringIO(CSV))
    assert [j.id for j in jobs] == ["J1", "J7"]
    assert jobs[0].equipment == ("R2", "L3") and jobs[0].crew == "A" and jobs[0].duration_min == 240
    assert jobs[1].night_work is True and jobs[1].crew is None
    assert [(e.job, e.code) for e in errors] == [
        ("J2", "bad_duration"),
        ("J3", "naive_datetime"),
        ("J4", "bad_datetime"),
        ("row 6", "missing_id"),
        ("J6", "no_equipment"),
        ("J8", "bad_night_work"),
    ]
    assert errors[0].message.startswith("line 3:")


def test_csv_missing_column_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="duration_min"):
        load_jobs_csv(io.StringIO("id,equipment,earliest,latest\n"))
    with pytest.raises(InputError, match="cannot read"):
        load_jobs_csv(tmp_path / "nope.csv")


def test_csv_round_trip(tmp_path: Path) -> None:
    jobs, _ = load_jobs_csv(io.StringIO(CSV))
    p = write_jobs_csv(jobs, tmp_path / "j.csv")
    again, errors = load_jobs_csv(p)
    assert again == jobs and errors == []


def test_plan_carries_csv_errors(small_ring, mk) -> None:
    jobs, errors = load_jobs_csv(io.StringIO(CSV))
    plan = plan_outages(small_ring, jobs, now=mk.NOW, options=mk.FAST, input_errors=errors)
    assert {e.job for e in plan.errors} >= {"J2", "J3", "J4", "row 6", "J6", "J8"}


# -- options -------------------------------------------------------------------


def test_options_round_trip_and_defaults() -> None:
    o = PlanOptions()
    assert o.time_step_min == 30 and o.working_hours == (time(7), time(19)) and o.notice_lead_days == 7
    assert o.capacity_margin == 0.1
    assert PlanOptions.from_dict(o.to_dict()) == o
    assert PlanOptions.from_dict(json.loads(json.dumps(o.to_dict()))) == o


def test_options_report_every_problem() -> None:
    with pytest.raises(InputError) as exc:
        PlanOptions.from_dict({"time_step_min": 20, "capacity_margin": 1.5, "colour": "red", "working_hours": ["19:00", "07:00"],
                               "importance_weights": {"vip": 3}, "solver_time_limit_s": "fast"})
    msg = exc.value.message
    for part in ("unknown option 'colour'", "solver_time_limit_s", "multiple of 15", "capacity_margin", "working_hours", "vip"):
        assert part in msg, part
    assert exc.value.code == "bad_options"


def test_options_from_json_text_and_generators_csv(tmp_path: Path) -> None:
    p = tmp_path / "gen.csv"
    p.write_text("id,name,kw,depot_id\nG1,Truck,250,D1\nG2,Big,800,\n", encoding="utf-8")
    fleet = load_generators_csv(p)
    assert [(g.id, g.kw, g.depot_id) for g in fleet] == [("G1", 250.0, "D1"), ("G2", 800.0, None)]
    o = PlanOptions.from_json(json.dumps({"generator_fleet": str(p), "working_hours": ["08:00", "17:00"]}))
    assert o.generator_fleet == fleet and o.working_hours == (time(8), time(17))
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,kw,depot_id\nG1,Truck,-5,D1\n", encoding="utf-8")
    with pytest.raises(InputError, match="positive kw"):
        load_generators_csv(bad)


def test_options_may_be_a_dict(small_ring, mk) -> None:
    plan = plan_outages(small_ring, [mk.job("J", "L2", 60)], now=mk.NOW, options={"solver_time_limit_s": 3, "time_step_min": 60})
    assert plan.options.time_step_min == 60 and plan.outages[0].start.minute == 0
    with pytest.raises(InputError, match="bad_options|invalid planning options"):
        plan_outages(small_ring, [], now=mk.NOW, options={"time_step_min": "x"})
