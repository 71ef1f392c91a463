"""The planning year's command lines, as a planner runs them, on the small ring (outages/conftest.py)."""

import json

from planning.__main__ import main
from planning.outages import load_jobs_csv

from .outages.conftest import RING

LEDGER = """id,equipment,kind,duration_min,interval_months,last_done,due
A,R2,rmu_inspection,120,36,2024-05-10,
B,L3,cable_test,180,60,2022-04-01,
C,R5,defect,60,,,2027-08-15
GHOST,NOPE,rmu_inspection,120,36,2024-05-10,
ZERO,R2,rmu_inspection,120,0,2024-05-10,
"""

HISTORY = """event,kind,start,end,customers
F1,unplanned,2026-11-10T10:00:00+01:00,2026-11-10T11:30:00+01:00,C1
F2,unplanned,2026-11-20T10:00:00+01:00,2026-11-20T11:30:00+01:00,C1;C2
X,unplanned,2026-11-21T10:00:00+01:00,2026-11-21T11:30:00+01:00,C1;NOPE
"""


def test_ledger_to_jobs_csv(tmp_path, capsys):
    (tmp_path / "ledger.csv").write_text(LEDGER)
    out = tmp_path / "jobs.csv"
    code = main(["ledger", "--grid", str(RING), "--ledger", str(tmp_path / "ledger.csv"), "--year", "2027", "--out", str(out), "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert sorted(o["item"] for o in doc["occurrences"]) == ["A", "B", "C"]
    assert {(e["id"], e["code"]) for e in doc["errors"]} == {("GHOST", "unknown_equipment"), ("ZERO", "bad_interval_months")}
    jobs, errors = load_jobs_csv(out)  # what `planning plan` reads
    assert not errors and sorted(j.requested_by for j in jobs) == ["ledger A", "ledger B", "ledger C"]


def test_ledger_bad_monthly_load_is_exit_1(tmp_path, capsys):
    (tmp_path / "ledger.csv").write_text(LEDGER)
    code = main(["ledger", "--grid", str(RING), "--ledger", str(tmp_path / "ledger.csv"), "--year", "2027", "--monthly-load", "1,2,3"])
    assert code == 1 and "12 positive numbers" in capsys.readouterr().err


def test_plan_with_history_and_then_fixed(tmp_path, capsys):
    (tmp_path / "history.csv").write_text(HISTORY)
    (tmp_path / "jobs.csv").write_text("id,equipment,duration_min,earliest,latest\n"
                                       "J1,R2,240,2026-12-08T07:00:00+01:00,2026-12-08T19:00:00+01:00\n")
    args = ["plan", "--grid", str(RING), "--jobs", str(tmp_path / "jobs.csv"), "--now", "2026-12-01T08:00:00+01:00", "--time-limit", "5", "--json"]
    assert main([*args, "--history", str(tmp_path / "history.csv")]) == 0
    first = json.loads(capsys.readouterr().out)
    (o,) = first["outages"]
    assert [r["customer"] for r in o["repeat_over_limit"]] == ["C1"]  # two faults already: reported
    assert any(e["code"] == "bad_history" and "NOPE" in e["message"] for e in first["errors"])
    (tmp_path / "plan.json").write_text(json.dumps(first))
    (tmp_path / "more.csv").write_text("id,equipment,duration_min,earliest,latest\n"
                                       f"J2,R2,60,{o['start']},{o['end']}\n")
    more = ["plan", "--grid", str(RING), "--jobs", str(tmp_path / "more.csv"), "--now", "2026-12-01T08:00:00+01:00",
            "--time-limit", "5", "--json", "--fixed", str(tmp_path / "plan.json")]
    assert main(more) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["outages"] == [] and second["fixed"][0]["joined_jobs"] == ["J2"]


def test_reliability_report(tmp_path, capsys):
    (tmp_path / "history.csv").write_text(HISTORY)
    code = main(["reliability", "--grid", str(RING), "--interruptions", str(tmp_path / "history.csv"),
                 "--from", "2026-11-01T00:00:00+01:00", "--to", "2026-12-01T00:00:00+01:00", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    (whole,) = [r for r in doc["lines"] if (r["scope"], r["period"], r["kind"]) == ("all", "all", "all")]
    assert whole["ci"] == 3 and whole["cmi"] == 270.0 and whole["customers_served"] == 7  # X is refused
    assert [e["code"] for e in doc["errors"]] == ["unknown_customer"]
