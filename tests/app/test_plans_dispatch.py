"""Planning runs (planning.plan_outages), outages, notices; dispatch runs (routing.plan_routes), GPX."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import gpxpy
import openpyxl
import pandas as pd
import pytest

NOW = "2026-11-20T09:00:00+01:00"
JOB = {"id": "J1", "equipment": ["L7"], "duration_min": 120, "earliest": "2026-12-01T08:00:00+01:00",
       "latest": "2026-12-04T18:00:00+01:00"}


def run_plan(client: Any, tokens: Any, **body: Any) -> Any:
    r = client.post("/api/plans", json={"now": NOW, **body}, headers=tokens["planner"])
    assert r.status_code == 202, r.json
    run = client.get(f"/api/runs/{r.json['run']['id']}", headers=tokens["planner"]).json
    return r.json["plan"]["id"], run


def test_plan_run_stores_outages_notices_and_exports(client: Any, tokens: Any, publish: Any) -> None:
    client.post("/api/jobs", json=JOB, headers=tokens["planner"])
    plan_id, run = run_plan(client, tokens)
    assert run["status"] == "done", run
    assert run["progress"] == 1.0 and run["target"] == f"/api/plans/{plan_id}"
    plan = client.get(f"/api/plans/{plan_id}", headers=tokens["viewer"]).json
    assert plan["status"] == "done" and plan["job_ids"] == ["J1"]
    assert set(plan["metrics"]) >= {"plan", "baseline"}
    assert len(plan["outages"]) == 1
    oid = plan["outages"][0]["id"]
    outage = client.get(f"/api/outages/{oid}", headers=tokens["viewer"]).json
    assert outage["jobs"] == ["J1"] and outage["switching_steps"]
    # L7 feeds D1 only: C1 and C2 lose supply (and nobody else needs to)
    custs = client.get(f"/api/outages/{oid}/customers", headers=tokens["customer_service"]).json["items"]
    assert {"C1", "C2"} <= {c["id"] for c in custs}
    notices = client.get(f"/api/outages/{oid}/notices", headers=tokens["customer_service"]).json
    start = pd.Timestamp(outage["start"])
    for item in notices["items"]:
        assert pd.Timestamp(item["notice_due"]) == start - pd.Timedelta(days=7)
        assert pd.Timestamp(item["sms_due"]) == start - pd.Timedelta(minutes=10)
    r = client.get(f"/api/outages/{oid}/notices?format=csv", headers=tokens["customer_service"])
    df = pd.read_csv(io.BytesIO(r.data), encoding="utf-8-sig")
    assert {"notice_due", "sms_due", "phone"} <= set(df.columns)
    day = start.tz_convert("UTC").date().isoformat()
    assert f'outage-{oid}-notices-{day}.csv' in r.headers["Content-Disposition"]
    r = client.get(f"/api/outages/{oid}/customers/export?format=xlsx", headers=tokens["planner"])
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    assert {row[0] for row in rows[1:]} == {c["id"] for c in custs}
    r = client.get(f"/api/plans/{plan_id}/customers/export?format=csv", headers=tokens["planner"])
    assert set(pd.read_csv(io.BytesIO(r.data), encoding="utf-8-sig")["outage_id"]) == {oid}
    # nothing is queued before the outage is published; then a 7-day notice + 10-minute SMS per customer
    assert client.get(f"/api/notifications?outage_id={oid}", headers=tokens["customer_service"]).json["total"] == 0
    v = publish(client, tokens, oid, now=NOW)["version"]
    out = client.get(f"/api/notifications?outage_id={oid}", headers=tokens["customer_service"]).json
    assert out["total"] == 2 * len(custs)
    # optimistic locking on the outage; the status changes only through the workflow; cancelling
    # cancels its pending notices
    assert client.patch(f"/api/outages/{oid}", json={"version": v + 5, "note": "x"}, headers=tokens["planner"]).status_code == 409
    assert client.patch(f"/api/outages/{oid}", json={"version": v, "status": "cancelled"}, headers=tokens["planner"]).status_code == 422
    r = client.post(f"/api/outages/{oid}/cancel", json={"version": v}, headers=tokens["planner"])
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    statuses = {n["status"] for n in client.get(f"/api/notifications?outage_id={oid}", headers=tokens["customer_service"]).json["items"]}
    assert statuses == {"cancelled"}


def test_plan_bad_inputs(client: Any, tokens: Any) -> None:
    h = tokens["planner"]
    assert client.post("/api/plans", json={"now": NOW}, headers=h).status_code == 422  # no open jobs
    assert client.post("/api/plans", json={"job_ids": ["NOPE"]}, headers=h).status_code == 404
    assert client.post("/api/plans", json={"job_ids": []}, headers=h).status_code == 422
    assert client.post("/api/plans", json={"now": "yesterday"}, headers=h).status_code == 422
    assert client.get("/api/plans", headers=h).json["total"] == 0
    assert client.get("/api/plans/5", headers=h).status_code == 404
    assert client.get("/api/outages/5/customers", headers=h).status_code == 404


def test_plan_with_bad_options_is_422_and_stores_nothing(client: Any, tokens: Any) -> None:
    client.post("/api/jobs", json=JOB, headers=tokens["planner"])
    for options in ({"no_such_option": 1}, {"time_step_min": -5}, {"generator_fleet": "/etc/passwd"}):
        r = client.post("/api/plans", json={"now": NOW, "options": options}, headers=tokens["planner"])
        assert r.status_code == 422, (options, r.json)
    assert client.get("/api/plans", headers=tokens["planner"]).json["total"] == 0


def test_failed_run_is_stored_not_raised(client: Any, tokens: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.services.planning as glue
    from gis.errors import InputError

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise InputError("no feasible window", code="no_window")

    monkeypatch.setattr(glue, "plan_outages", broken)  # the name the shell imported from planning.outages
    client.post("/api/jobs", json=JOB, headers=tokens["planner"])
    plan_id, run = run_plan(client, tokens)
    assert run["status"] == "failed" and run["error"]["code"] == "no_window"
    assert client.get(f"/api/plans/{plan_id}", headers=tokens["planner"]).json["status"] == "failed"


def test_generator_fleet_from_config(tmp_path: Path, make_config: Any, make_tokens: Any) -> None:
    from app import create_app

    fleet = tmp_path / "generators.csv"
    fleet.write_text("id,name,kw,depot_id\nG1,Truck one,500,DEP1\n", encoding="utf-8")
    app = create_app(make_config(GENERATORS_PATH=str(fleet)), environ={})
    tokens = make_tokens(app)
    c = app.test_client()
    r = c.post("/api/faults", json={"section": "R2", "now": "2026-12-01T10:00:00+01:00"}, headers=tokens["dispatcher"])
    assert r.status_code == 201, r.json
    assert c.post("/api/faults", json={"section": "R2", "options": {"generators": []}},
                  headers=tokens["dispatcher"]).status_code == 422
    c.post("/api/jobs", json=JOB, headers=tokens["planner"])
    plan_id, run = run_plan(c, tokens)
    assert run["status"] == "done", run
    options = c.get(f"/api/plans/{plan_id}", headers=tokens["planner"]).json["result"].get("options", {})
    if "generator_fleet" in options:
        assert [g["id"] for g in options["generator_fleet"]] == ["G1"]
    app.extensions["db"].engine.dispose()


# --- dispatch -------------------------------------------------------------------

def test_dispatch_routes_and_gpx_and_crew_scope(rclient: Any, rtokens: Any) -> None:
    c, t = rclient, rtokens
    fault = c.post("/api/faults", json={"section": "R2", "now": "2026-12-01T10:00:00+01:00"}, headers=t["dispatcher"]).json
    tasks = [{"id": "T-R5", "location": "R5", "service_min": 10, "weight": 5},
             {"id": "T-pt", "location": [7.43, 43.73], "service_min": 5}]
    r = c.post("/api/dispatches", json={"crew_ids": ["K1", "K2"], "tasks": tasks, "fault_id": fault["id"],
                                        "now": "2026-12-01T10:00:00+01:00"}, headers=t["dispatcher"])
    assert r.status_code == 202, r.json
    run = c.get(f"/api/runs/{r.json['run']['id']}", headers=t["dispatcher"]).json
    assert run["status"] == "done", run
    d = c.get(f"/api/dispatches/{r.json['dispatch']['id']}", headers=t["dispatcher"]).json
    served = {s["task_id"] for route in d["routes"] for s in route["stops"]}
    dropped = {x["task_id"] for x in d["dropped"]}
    assert {"T-R5", "T-pt"} <= served | dropped and served
    # every stop starts planned, with a progress row stored by the run (version 1)
    assert {(s["status"], s["arrived_at"], s["done_at"], s["version"]) for route in d["routes"] for s in route["stops"]} \
        == {("planned", None, None, 1)}
    # the crew user (K1) sees only its own route
    mine = c.get(f"/api/dispatches/{d['id']}", headers=t["crew"]).json
    assert {r["crew_id"] for r in mine["routes"]} <= {"K1"} and "tasks" not in mine
    others = [r for r in d["routes"] if r["crew_id"] != "K1"]
    for route in others:
        assert c.get(f"/api/routes/{route['id']}", headers=t["crew"]).status_code == 404
        assert c.get(f"/api/routes/{route['id']}/gpx", headers=t["crew"]).status_code == 404
    assert c.get("/api/crews/K2/route", headers=t["crew"]).status_code == 404
    for route in d["routes"]:
        r = c.get(f"/api/routes/{route['id']}/gpx", headers=t["dispatcher"])
        assert r.status_code == 200 and r.mimetype == "application/gpx+xml"
        assert f"route-{route['id']}-crew-{route['crew_id']}-2026-12-01.gpx" in r.headers["Content-Disposition"]
        gpx = gpxpy.parse(r.data.decode())
        assert len(gpx.waypoints) == len(route["stops"])
        for wp, stop in zip(gpx.waypoints, route["stops"], strict=True):
            assert abs(wp.longitude - stop["lon"]) < 1e-6 and abs(wp.latitude - stop["lat"]) < 1e-6


def test_dispatch_bad_inputs(rclient: Any, rtokens: Any) -> None:
    c, h = rclient, rtokens["dispatcher"]
    assert c.post("/api/dispatches", json={"tasks": []}, headers=h).status_code == 422
    assert c.post("/api/dispatches", json={"tasks": [{"id": "a", "location": [500, 1]}]}, headers=h).status_code == 422
    assert c.post("/api/dispatches", json={"tasks": [{"id": "a", "location": "R5"}], "crew_ids": ["ZZ"]}, headers=h).status_code == 404
    assert c.post("/api/dispatches", json={"fault_id": 77}, headers=h).status_code == 404
    dup = [{"id": "a", "location": "R5"}, {"id": "a", "location": "R4"}]
    assert c.post("/api/dispatches", json={"tasks": dup}, headers=h).status_code == 422
    assert c.get("/api/dispatches", headers=h).json["total"] == 0


def test_dispatch_is_503_without_roads(client: Any, tokens: Any) -> None:
    r = client.post("/api/dispatches", json={"tasks": [{"id": "a", "location": "R5"}]}, headers=tokens["dispatcher"])
    assert r.status_code == 503 and r.json["code"] == "not_available"


def test_crews_positions_and_shift_locking(client: Any, tokens: Any) -> None:
    h = tokens["dispatcher"]
    assert client.post("/api/crews", json={"id": "K3", "depot_id": "DEP1", "skills": ["cable"]}, headers=h).status_code == 201
    assert client.post("/api/crews", json={"id": "K3"}, headers=h).status_code == 409
    assert client.post("/api/crews", json={"id": "K4", "depot_id": "NOPE"}, headers=h).status_code == 404
    assert client.post("/api/crews", json={"id": "K5", "skills": ["flying"]}, headers=h).status_code == 422
    r = client.patch("/api/crews/K3", json={"version": 1, "shift_start": "06:00", "shift_end": "14:00"}, headers=h)
    assert r.status_code == 200 and r.json["shift_start"] == "06:00"
    assert client.patch("/api/crews/K3", json={"version": 1, "shift_end": "15:00"}, headers=h).status_code == 409
    assert client.patch("/api/crews/K3", json={"version": 2, "shift_end": "25:00"}, headers=h).status_code == 422
    # a crew reports its own position, not another crew's
    crew = tokens["crew"]
    assert client.post("/api/crews/K1/positions", json={"lon": 7.42, "lat": 43.73}, headers=crew).status_code == 201
    assert client.post("/api/crews/K2/positions", json={"lon": 7.42, "lat": 43.73}, headers=crew).status_code == 404
    assert client.post("/api/crews/K1/positions", json={"lon": 700, "lat": 43.73}, headers=crew).status_code == 422
    assert client.get("/api/crews/K1", headers=h).json["position"]["lon"] == 7.42
    assert [c["id"] for c in client.get("/api/crews", headers=crew).json["items"]] == ["K1"]
    assert len(client.get("/api/crews", headers=h).json["items"]) == 3
