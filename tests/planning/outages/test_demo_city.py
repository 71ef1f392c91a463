"""The demo city's month of jobs: the plan beats the naive baseline (issue 4, "done means")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planning.outages.cli import main

CITY = Path(__file__).resolve().parents[3] / "outage_demo"


@pytest.mark.slow
@pytest.mark.skipif(not (CITY / "monaco.gpkg").exists() or not (CITY / "jobs.csv").exists(), reason="demo city not built")
def test_demo_month_beats_the_baseline(capsys) -> None:  # noqa: ANN001
    rc = main(["--grid", str(CITY / "monaco.gpkg"), "--jobs", str(CITY / "jobs.csv"),
               "--now", "2026-11-24T08:00:00+01:00", "--json",
               # the solver's own limit, not the whole plan's (--time-limit): merging is not cut short on a busy machine
               "--options", '{"solver_time_limit_s": 10}'])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    plan, base = doc["metrics"]["plan"], doc["metrics"]["baseline"]
    same = doc["metrics"]["baseline_planned_jobs"]
    assert plan["outages"] < same["outages"] <= base["outages"]
    assert plan["ci"] < same["ci"] and plan["cmi"] < same["cmi"]
    assert plan["peak_hits"] == 0 and base["peak_hits"] > 0
    assert all(o["valid"] for o in doc["outages"])
    assert any(len(o["jobs"]) > 1 for o in doc["outages"])  # something was merged
    assert any(o["transfers"] for o in doc["outages"]) and any(o["generators"] for o in doc["outages"])
    planned = {j for o in doc["outages"] for j in o["jobs"]}
    assert len(planned) + len(doc["errors"]) == 120
