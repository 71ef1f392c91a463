"""Executed interruptions, the reliability report, outages marked executed and published outages
kept by the next plan, the ledger proposal — through the API (the small ring: C1..C7, 7 customers)."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

NOW = "2026-11-20T09:00:00+01:00"
JOB = {"id": "J1", "equipment": ["L7"], "duration_min": 120, "earliest": "2026-12-01T08:00:00+01:00",
       "latest": "2026-12-04T18:00:00+01:00"}
ROWS = [
    {"event": "F1", "kind": "unplanned", "start": "2026-11-10T10:00:00+01:00", "end": "2026-11-10T10:30:00+01:00", "customers": "C1;C2;C3"},
    {"event": "F1", "kind": "unplanned", "start": "2026-11-10T10:30:00+01:00", "end": "2026-11-10T12:00:00+01:00", "customers": ["C1", "C2"]},
]
WINDOW = "from=2026-11-01T00:00:00%2B01:00&to=2026-12-01T00:00:00%2B01:00"


def count(client: Any, tokens: Any) -> int:
    return client.get(f"/api/interruptions?{WINDOW}", headers=tokens["viewer"]).json["total"]


def test_record_and_report(client: Any, tokens: Any) -> None:
    h = tokens["planner"]
    r = client.post("/api/interruptions", json={"interruptions": ROWS}, headers=h)
    assert r.status_code == 201 and r.json["stored"] == 2
    assert count(client, tokens) == 2
    rep = client.get(f"/api/reliability?{WINDOW}", headers=tokens["viewer"]).json
    (line,) = [x for x in rep["lines"] if (x["scope"], x["period"], x["kind"], x["major_event_days"]) == ("all", "all", "all", "included")]
    # one event: C1, C2 out 120 min, C3 30 min -> CI 3, CMI 270, 7 customers served
    assert (line["ci"], line["cmi"], line["customers_served"]) == (3, 270.0, 7)
    assert abs(line["saidi_min"] - 270 / 7) < 1e-9 and abs(line["caidi_min"] - 90.0) < 1e-9
    r = client.get(f"/api/reliability?{WINDOW}&format=csv", headers=tokens["viewer"])
    df = pd.read_csv(io.BytesIO(r.data), encoding="utf-8-sig")
    assert r.status_code == 200 and {"saifi", "saidi_min", "rs1_pct"} <= set(df.columns)


def test_bad_rows_store_nothing(client: Any, tokens: Any) -> None:
    h = tokens["planner"]
    bad = [*ROWS, {"event": "X", "kind": "unplanned", "start": "2026-11-12T10:00:00+01:00", "end": "2026-11-12T11:00:00+01:00", "customers": "C1;NOPE"}]
    r = client.post("/api/interruptions", json={"interruptions": bad}, headers=h)
    assert r.status_code == 422 and "NOPE" in str(r.json["details"])
    csv = b"event,kind,start,end,customers\nS1,storm,2026-11-12T10:00:00+01:00,2026-11-12T11:00:00+01:00,C1\n"
    r = client.post("/api/interruptions", data=csv, content_type="text/csv", headers=h)
    assert r.status_code == 422 and r.json["details"][0]["code"] == "bad_kind"
    assert count(client, tokens) == 0
    assert client.post("/api/interruptions", json={"interruptions": ROWS}, headers=tokens["viewer"]).status_code == 403


def run_plan(client: Any, tokens: Any) -> dict[str, Any]:
    r = client.post("/api/plans", json={"now": NOW}, headers=tokens["planner"])
    assert r.status_code == 202, r.json
    assert client.get(f"/api/runs/{r.json['run']['id']}", headers=tokens["planner"]).json["status"] == "done"
    return client.get(f"/api/plans/{r.json['plan']['id']}", headers=tokens["viewer"]).json


def test_executed_outage_feeds_the_history_and_published_outages_stay(client: Any, tokens: Any, publish: Any) -> None:
    h = tokens["planner"]
    client.post("/api/jobs", json=JOB, headers=h)
    (o,) = run_plan(client, tokens)["outages"]
    early = client.post(f"/api/outages/{o['id']}/executed", json={"actual_start": o["start"], "actual_end": o["end"], "version": 1}, headers=h)
    assert early.status_code == 409 and early.json["code"] == "transition_not_allowed"  # not published yet
    assert publish(client, tokens, o["id"], now=NOW)["status"] == "published"
    # a second job inside the published outage's zone and window joins it; nothing else moves
    inside = {**JOB, "id": "J2", "duration_min": 60, "earliest": o["start"], "latest": o["end"]}
    assert client.post("/api/jobs", json=inside, headers=h).status_code == 201
    plan = run_plan(client, tokens)
    # (J1 is the published outage's own job: not planned again)
    assert plan["outages"] == [] and plan["result"]["fixed"] == [
        {"id": f"outage:{o['id']}", "start": o["start"], "end": o["end"], "joined_jobs": ["J2"]}]
    # executed: done, one planned interruption of its dark customers
    version = client.get(f"/api/outages/{o['id']}", headers=h).json["version"]
    r = client.post(f"/api/outages/{o['id']}/executed", json={"actual_start": o["start"], "actual_end": o["end"], "version": version}, headers=h)
    assert r.status_code == 201, r.json
    assert r.json["kind"] == "planned" and {"C1", "C2"} <= set(r.json["customers"])
    assert client.get(f"/api/outages/{o['id']}", headers=h).json["status"] == "done"
    again = client.post(f"/api/outages/{o['id']}/executed", json={"actual_start": o["start"], "actual_end": o["end"], "version": version + 1}, headers=h)
    assert again.status_code == 409 and again.json["code"] == "transition_not_allowed"  # done is final


def test_ledger_proposal(client: Any, tokens: Any) -> None:
    csv = (b"id,equipment,kind,duration_min,interval_months,last_done,due\n"
           b"A,R2,rmu_inspection,120,36,2024-05-10,\nB,NOPE,cable_test,120,60,2022-01-01,\n")
    r = client.post("/api/ledger/proposal?year=2027", data=csv, content_type="text/csv", headers=tokens["planner"])
    assert r.status_code == 200, r.json
    assert [j["requested_by"] for j in r.json["jobs"]] == ["ledger A"]
    assert [(e["id"], e["code"]) for e in r.json["errors"]] == [("B", "unknown_equipment")]
