"""Jobs are judged on entry against the service's planning time and notice lead (issue 13).

The tests' clock is pinned at ``PLANNING_NOW`` = 2026-11-20 09:00+01:00 (conftest), the notice
lead is 7 days: the last start of a job must be at or after 2026-11-27 09:00+01:00.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PLANNING_NOW

from app import create_app
from app.config import ConfigError

GOOD = {"id": "T1", "equipment": ["R2"], "duration_min": 60,
        "earliest": "2026-11-27T10:00:00+01:00", "latest": "2026-11-28T18:00:00+01:00"}


def test_pinned_clock_is_the_tests(app: Any) -> None:
    assert app.config["PLANNING_NOW"] == PLANNING_NOW and app.config["NOTICE_LEAD_DAYS"] == 7.0


def test_a_job_with_its_notice_is_accepted(client: Any, tokens: dict[str, Any]) -> None:
    # last start 2026-11-28 17:00: 8 days after now
    r = client.post("/api/jobs", json=GOOD, headers=tokens["planner"])
    assert r.status_code == 201, r.json
    # exactly at the lead: last start 2026-11-27 09:00 = now + 7 days
    edge = {**GOOD, "id": "T2", "earliest": "2026-11-27T08:00:00+01:00", "latest": "2026-11-27T10:00:00+01:00"}
    assert client.post("/api/jobs", json=edge, headers=tokens["planner"]).status_code == 201


@pytest.mark.parametrize(("earliest", "latest", "code"), [
    ("2025-03-01T08:00:00+01:00", "2025-03-02T18:00:00+01:00", "window_past"),
    # ends after now, but the work no longer fits: last start 2026-11-20 08:00 < now
    ("2026-11-19T08:00:00+01:00", "2026-11-20T09:00:00+01:00", "window_past"),
    # last start 2026-11-27 08:59: one minute short of the 7-day notice
    ("2026-11-21T08:00:00+01:00", "2026-11-27T09:59:00+01:00", "notice_too_late"),
])
def test_late_jobs_are_refused_with_the_reason(client: Any, tokens: dict[str, Any], earliest: str, latest: str, code: str) -> None:
    r = client.post("/api/jobs", json={**GOOD, "earliest": earliest, "latest": latest}, headers=tokens["planner"])
    assert r.status_code == 422, r.json
    assert r.json["code"] == code
    assert r.json["details"][0]["field"] == "latest" and r.json["details"][0]["code"] == code
    assert "notice" in r.json["message"] if code == "notice_too_late" else "too late" in r.json["message"]
    assert client.get("/api/jobs", headers=tokens["planner"]).json["total"] == 0  # nothing stored


def test_patch_checks_a_changed_window_only(client: Any, tokens: dict[str, Any]) -> None:
    h = tokens["planner"]
    job = client.post("/api/jobs", json=GOOD, headers=h).json
    r = client.patch("/api/jobs/T1", json={"version": job["version"], "latest": "2026-11-27T09:30:00+01:00",
                                           "earliest": "2026-11-21T08:00:00+01:00"}, headers=h)
    assert r.status_code == 422 and r.json["code"] == "notice_too_late"
    # a description change or a cancellation of the unchanged job stays possible
    r = client.patch("/api/jobs/T1", json={"version": job["version"], "description": "new"}, headers=h)
    assert r.status_code == 200, r.json


def test_import_refuses_late_rows_and_imports_nothing(client: Any, tokens: dict[str, Any]) -> None:
    body = ("id,equipment,duration_min,earliest,latest\n"
            "C1,R2,60,2026-11-27T10:00:00+01:00,2026-11-30T18:00:00+01:00\n"
            "C2,R2,60,2025-01-06T08:00:00+01:00,2025-01-10T18:00:00+01:00\n"
            "C3,R2,60,2026-11-21T08:00:00+01:00,2026-11-23T18:00:00+01:00\n")
    r = client.post("/api/jobs/import", data=body.encode(), content_type="text/csv", headers=tokens["planner"])
    assert r.status_code == 422, r.json
    rows = {(e["row"], e["code"]) for e in r.json["details"]["rows"]}
    assert rows == {(3, "window_past"), (4, "notice_too_late")}
    assert client.get("/api/jobs", headers=tokens["planner"]).json["total"] == 0


def test_notice_lead_is_configurable(make_config: Any, make_tokens: Any) -> None:
    app = create_app(make_config(NOTICE_LEAD_DAYS=10), environ={})
    try:
        c, h = app.test_client(), make_tokens(app)
        r = c.post("/api/jobs", json=GOOD, headers=h["planner"])  # 8 days ahead: short of 10
        assert r.status_code == 422 and r.json["code"] == "notice_too_late" and "10 days" in r.json["message"]
        assert c.post("/api/jobs", json={**GOOD, "latest": "2026-12-01T10:00:00+01:00"}, headers=h["planner"]).status_code == 201
    finally:
        app.extensions["db"].engine.dispose()


@pytest.mark.parametrize(("key", "value"), [("NOTICE_LEAD_DAYS", -1), ("NOTICE_LEAD_DAYS", "a week"),
                                            ("PLANNING_NOW", "2026-11-20T09:00"), ("PLANNING_NOW", "soon")])
def test_bad_planning_settings_stop_the_start(make_config: Any, key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=key):
        create_app(make_config(**{key: value}), environ={})


def test_a_plan_without_now_runs_at_the_pinned_time(client: Any, tokens: dict[str, Any]) -> None:
    client.post("/api/jobs", json=GOOD, headers=tokens["planner"])
    r = client.post("/api/plans", json={}, headers=tokens["planner"])
    assert r.status_code == 202, r.json
    assert r.json["plan"]["now"] == PLANNING_NOW
