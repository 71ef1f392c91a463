"""Jobs API: CRUD, bad input, CSV import per-row errors, optimistic locking, idempotency, limits."""

from __future__ import annotations

import io
from typing import Any

JOB = {"id": "J1", "equipment": ["R2"], "duration_min": 120, "earliest": "2026-12-01T08:00:00+01:00",
       "latest": "2026-12-04T18:00:00+01:00", "description": "replace RMU 2 switch"}


def count_jobs(client: Any, headers: dict[str, str]) -> int:
    return client.get("/api/jobs", headers=headers).json["total"]


def test_create_get_update_delete(client: Any, tokens: Any) -> None:
    h = tokens["planner"]
    r = client.post("/api/jobs", json=JOB, headers=h)
    assert r.status_code == 201, r.json
    assert r.json["version"] == 1 and r.json["equipment"] == ["R2"]
    assert client.get("/api/jobs/J1", headers=tokens["viewer"]).json["duration_min"] == 120
    r = client.patch("/api/jobs/J1", json={"version": 1, "duration_min": 90}, headers=h)
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["duration_min"] == 90
    # stale version -> 409, nothing changes
    r = client.patch("/api/jobs/J1", json={"version": 1, "duration_min": 30}, headers=h)
    assert r.status_code == 409 and r.json["code"] == "stale_version"
    assert r.json["details"] == {"current_version": 2, "sent_version": 1}
    assert client.get("/api/jobs/J1", headers=h).json["duration_min"] == 90
    assert client.delete("/api/jobs/J1?version=1", headers=h).status_code == 409
    assert client.delete("/api/jobs/J1?version=2", headers=h).status_code == 204
    assert client.get("/api/jobs/J1", headers=h).status_code == 404


def test_bad_inputs_are_4xx_and_change_nothing(client: Any, tokens: Any) -> None:
    h = tokens["planner"]
    cases = [
        (b"{not json", 400),
        (b'{"id": "J9", "equipment": ["R2"], "duration_min": NaN, "earliest": "2026-12-01T08:00+01:00", "latest": "2026-12-02T08:00+01:00"}', 400),
        (b'{"id": "J9", "equipment": ["R2"], "duration_min": Infinity}', 400),
        (b'[1, 2]', 422),
        (b'{"id": "J9", "equipment": ["R2"], "duration_min": "long", "earliest": "2026-12-01T08:00+01:00", "latest": "2026-12-02T08:00+01:00"}', 422),
        (b'{"id": "J9", "equipment": ["R2"], "duration_min": 60, "earliest": "2026-12-01T08:00+01:00", "latest": "2026-12-02T08:00+01:00", "colour": "red"}', 422),
        (b'{"id": "J9", "equipment": ["R2"], "duration_min": 60, "earliest": "2026-12-01T08:00", "latest": "2026-12-02T08:00+01:00"}', 422),
        (b'{"id": "J9", "equipment": ["R2"], "duration_min": 60, "earliest": "2026-12-02T08:00+01:00", "latest": "2026-12-01T08:00+01:00"}', 422),
        (b'{"id": "J9", "equipment": ["R2"], "duration_min": 6000, "earliest": "2026-12-01T08:00+01:00", "latest": "2026-12-02T08:00+01:00"}', 422),
        (b'{"id": "J9", "equipment": ["NOPE"], "duration_min": 60, "earliest": "2026-12-01T08:00+01:00", "latest": "2026-12-02T08:00+01:00"}', 404),
        (b'{"id": "bad id!", "equipment": ["R2"], "duration_min": 60, "earliest": "2026-12-01T08:00+01:00", "latest": "2026-12-02T08:00+01:00"}', 422),
        (b'\xff\xfe', 400),
    ]
    for body, status in cases:
        r = client.post("/api/jobs", data=body, content_type="application/json", headers=h)
        assert r.status_code == status, (body, r.status_code, r.json)
        assert set(r.json) == {"code", "message", "details"}
    assert count_jobs(client, h) == 0
    client.post("/api/jobs", json=JOB, headers=h)
    assert client.post("/api/jobs", json=JOB, headers=h).status_code == 409
    assert client.patch("/api/jobs/NOPE", json={"version": 1}, headers=h).status_code == 404
    assert client.patch("/api/jobs/J1", json={"version": 1, "equipment": ["NOPE"]}, headers=h).status_code == 404
    assert client.get("/api/jobs?limit=0", headers=h).status_code == 422
    assert client.get("/api/jobs?status=weird", headers=h).status_code == 422
    assert count_jobs(client, h) == 1


def test_idempotency_key_replays_and_creates_once(client: Any, tokens: Any) -> None:
    h = {**tokens["planner"], "Idempotency-Key": "abc-123"}
    body = {k: v for k, v in JOB.items() if k != "id"}
    r1 = client.post("/api/jobs", json=body, headers=h)
    r2 = client.post("/api/jobs", json=body, headers=h)
    assert r1.status_code == r2.status_code == 201
    assert r1.json == r2.json
    assert r2.headers["Idempotent-Replayed"] == "true"
    assert count_jobs(client, h) == 1
    # same key, different body -> 422, nothing created
    r3 = client.post("/api/jobs", json={**body, "duration_min": 30}, headers=h)
    assert r3.status_code == 422 and r3.json["code"] == "idempotency_key_reused"
    # another user's same key is independent
    r4 = client.post("/api/jobs", json=body, headers={**tokens["admin"], "Idempotency-Key": "abc-123"})
    assert r4.status_code == 201 and r4.json["id"] != r1.json["id"]
    assert count_jobs(client, h) == 2


def test_request_too_large_is_413(client: Any, tokens: Any, app: Any) -> None:
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    r = client.post("/api/jobs/import", data=big, content_type="text/csv", headers=tokens["planner"])
    assert r.status_code == 413 and r.json["code"] == "too_large"


CSV_OK = (
    "id,equipment,duration_min,earliest,latest,crew,description,requested_by,night_work\n"
    "A1,R2,60,2026-12-01T08:00+01:00,2026-12-03T18:00+01:00,K1,检修 R2,张三,false\n"
    "A2,L3;S2,90,2026-12-01T08:00+01:00,2026-12-03T18:00+01:00,,cable,,true\n"
)


def test_csv_import_ok(client: Any, tokens: Any) -> None:
    h = tokens["planner"]
    r = client.post("/api/jobs/import", data=("\ufeff" + CSV_OK).encode(), content_type="text/csv", headers=h)
    assert r.status_code == 201, r.json
    assert r.json == {"imported": 2, "ids": ["A1", "A2"]}
    a2 = client.get("/api/jobs/A2", headers=h).json
    assert a2["equipment"] == ["L3", "S2"] and a2["night_work"] is True
    assert client.get("/api/jobs/A1", headers=h).json["description"] == "检修 R2"


def test_csv_import_multipart(client: Any, tokens: Any) -> None:
    data = {"file": (io.BytesIO(CSV_OK.encode()), "jobs.csv")}
    r = client.post("/api/jobs/import", data=data, content_type="multipart/form-data", headers=tokens["planner"])
    assert r.status_code == 201 and r.json["imported"] == 2


def test_csv_import_reports_every_bad_row_and_imports_nothing(client: Any, tokens: Any) -> None:
    h = tokens["planner"]
    csv_text = (
        "id,equipment,duration_min,earliest,latest\n"
        "B1,R2,60,2026-12-01T08:00+01:00,2026-12-03T18:00+01:00\n"  # fine
        "B2,NOPE,60,2026-12-01T08:00+01:00,2026-12-03T18:00+01:00\n"  # unknown equipment
        "B3,R2,soon,2026-12-01T08:00+01:00,2026-12-03T18:00+01:00\n"  # bad duration
        "B4,R2,60,2026-12-01T08:00,2026-12-03T18:00+01:00\n"  # naive datetime
        "B1,R2,60,2026-12-01T08:00+01:00,2026-12-03T18:00+01:00\n"  # duplicate id
        "B6,R2,60,2026-12-03T08:00+01:00,2026-12-01T18:00+01:00\n"  # latest before earliest
    )
    r = client.post("/api/jobs/import", data=csv_text.encode(), content_type="text/csv", headers=h)
    assert r.status_code == 422 and r.json["code"] == "bad_rows"
    rows = {(e["row"], e["field"]) for e in r.json["details"]["rows"]}
    assert rows == {(3, "equipment"), (4, "duration_min"), (5, "earliest"), (6, "id"), (7, "latest")}
    assert count_jobs(client, h) == 0


def test_csv_import_bad_files(client: Any, tokens: Any) -> None:
    h = tokens["planner"]
    for body in (b"id,equipment\nX,R2\n", b"\xff\xfe\x00", b"id,equipment,duration_min,earliest,latest\n",
                 b"id,equipment,duration_min,earliest,latest,colour\n"):
        r = client.post("/api/jobs/import", data=body, content_type="text/csv", headers=h)
        assert r.status_code == 422, (body, r.json)
    r = client.post("/api/jobs/import", json={"a": 1}, headers=h)
    assert r.status_code == 422


def test_audit_log_records_who_what_before_after(client: Any, tokens: Any) -> None:
    client.post("/api/jobs", json=JOB, headers=tokens["planner"])
    client.patch("/api/jobs/J1", json={"version": 1, "description": "new"}, headers=tokens["planner"])
    items = client.get("/api/audit?entity=jobs&entity_id=J1", headers=tokens["admin"]).json["items"]
    assert [i["action"] for i in items] == ["update", "create"]
    assert items[0]["actor"] == "planner-user"
    assert items[0]["before"] == {"description": "replace RMU 2 switch"}
    assert items[0]["after"] == {"description": "new"}
    # a rejected change leaves no audit row
    client.patch("/api/jobs/J1", json={"version": 1, "description": "x"}, headers=tokens["planner"])
    assert len(client.get("/api/audit?entity=jobs&entity_id=J1", headers=tokens["admin"]).json["items"]) == 2


def test_job_times_read_back_in_the_grids_zone(client: Any, tokens: Any) -> None:
    """Sent in UTC, stored in UTC, shown like every other time: Europe/Monaco with its offset."""
    h = tokens["planner"]
    body = {**JOB, "id": "JZ", "earliest": "2026-12-01T07:00:00Z", "latest": "2026-12-04T17:00:00+00:00"}
    assert client.post("/api/jobs", json=body, headers=h).status_code == 201
    got = client.get("/api/jobs/JZ", headers=h).json
    assert (got["earliest"], got["latest"]) == ("2026-12-01T08:00:00+01:00", "2026-12-04T18:00:00+01:00")
    assert got["created_at"].endswith("+01:00")
