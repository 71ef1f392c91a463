"""One job schema: the planning CLI's loader, the CSV upload and the JSON API give the same verdicts.

Each case is a jobs file and the request bodies a client would send for the same
jobs, with the verdict written down by hand: every entry point must accept all of
it, or reject it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from gis.errors import InputError
from planning.outages import load_jobs_csv

HEAD = "id,equipment,duration_min,earliest,latest,crew,description,requested_by,night_work\n"
E, L = "2026-12-01T08:00:00+01:00", "2026-12-03T18:00:00+01:00"
JOB = {"id": "J1", "equipment": ["R2"], "duration_min": 60, "earliest": E, "latest": L}


def row(**cells: str) -> str:
    """A data line of the standard header with some cells changed."""
    base = {"id": "J1", "equipment": "R2", "duration_min": "60", "earliest": E, "latest": L, "crew": "K1",
            "description": "service", "requested_by": "ops", "night_work": "false"}
    return ",".join({**base, **cells}.values()) + "\n"


STD = {"crew": "K1", "description": "service", "requested_by": "ops", "night_work": False}

# (name, file bytes, JSON bodies for the same jobs, accepted?)
CASES: list[tuple[str, bytes, list[Any], bool]] = [
    ("plain", (HEAD + row()).encode(), [JOB | STD], True),
    # a CSV cell is text: "60.0" and " 90 " are whole minutes there; JSON says them as integers
    # (JSON "60", 60.0 and 60.5 are refused: test_json_integers_are_strict)
    ("duration 60.0", (HEAD + row(duration_min="60.0")).encode(), [JOB | STD | {"duration_min": 60}], True),
    ("duration as text", (HEAD + row(duration_min=" 90 ")).encode(), [JOB | STD | {"duration_min": 90}], True),
    ("duration 60.5", (HEAD + row(duration_min="60.5")).encode(), [JOB | STD | {"duration_min": 60.5}], False),
    ("duration 0", (HEAD + row(duration_min="0")).encode(), [JOB | STD | {"duration_min": 0}], False),
    ("duration not a number", (HEAD + row(duration_min="soon")).encode(), [JOB | STD | {"duration_min": "soon"}], False),
    ("night_work=t", (HEAD + row(night_work="t")).encode(), [JOB | STD | {"night_work": "t"}], True),
    ("night_work=YES", (HEAD + row(night_work="YES")).encode(), [JOB | STD | {"night_work": "YES"}], True),
    ("night_work=off", (HEAD + row(night_work="off")).encode(), [JOB | STD | {"night_work": "off"}], True),
    ("night_work blank", (HEAD + row(night_work="")).encode(), [JOB | STD | {"night_work": None}], True),
    ("night_work=maybe", (HEAD + row(night_work="maybe")).encode(), [JOB | STD | {"night_work": "maybe"}], False),
    ("spaced headers", (" ID , Equipment ,duration_min , EARLIEST,latest\n" + f"J1,R2,60,{E},{L}\n").encode(), [JOB], True),
    ("BOM", ("\ufeff" + HEAD + row()).encode(), [JOB | STD], True),
    ("CRLF and blank lines", (HEAD + "\r\n" + row() + "\r\n").replace("\n", "\r\n").encode(), [JOB | STD], True),
    ("two jobs, equipment list", (HEAD + row() + row(id="J2", equipment="L3;S2", crew="")).encode(),
     [JOB | STD, JOB | STD | {"id": "J2", "equipment": ["L3", "S2"], "crew": None}], True),
    ("UTC Z", (HEAD + row(earliest="2026-12-01T07:00:00Z")).encode(), [JOB | STD | {"earliest": "2026-12-01T07:00:00Z"}], True),
    ("extra column", (HEAD.strip() + ",colour\n" + row().strip() + ",red\n").encode(), [JOB | STD | {"colour": "red"}], False),
    ("bad date", (HEAD + row(earliest="tomorrow")).encode(), [JOB | STD | {"earliest": "tomorrow"}], False),
    ("naive date", (HEAD + row(earliest="2026-12-01T08:00")).encode(), [JOB | STD | {"earliest": "2026-12-01T08:00"}], False),
    ("latest before earliest", (HEAD + row(earliest=L, latest=E)).encode(), [JOB | STD | {"earliest": L, "latest": E}], False),
    ("longer than its window", (HEAD + row(duration_min="4000")).encode(), [JOB | STD | {"duration_min": 4000}], False),
    ("bad id", (HEAD + row(id="bad id!")).encode(), [JOB | STD | {"id": "bad id!"}], False),
    ("no equipment", (HEAD + row(equipment="")).encode(), [JOB | STD | {"equipment": []}], False),
    ("missing column", f"id,equipment,earliest,latest\nJ1,R2,{E},{L}\n".encode(),
     [{k: v for k, v in JOB.items() if k != "duration_min"}], False),
    ("crew too long", (HEAD + row(crew="K" * 65)).encode(), [JOB | STD | {"crew": "K" * 65}], False),
    ("one bad row of two", (HEAD + row() + row(id="J2", duration_min="x")).encode(),
     [JOB | STD, JOB | STD | {"id": "J2", "duration_min": "x"}], False),
    ("more values than columns", (HEAD + row().strip() + ",surplus\n").encode(), [JOB | STD | {"surplus": "surplus"}], False),
    ("empty file", b"", [{}], False),
    ("header only", HEAD.encode(), [], False),
    ("not UTF-8", (HEAD + row(description="caf\xe9")).encode("latin-1"), [b"\xff\xfe"], False),
]


def cli_verdict(data: bytes) -> tuple[bool, list[Any]]:
    try:
        jobs, errors = load_jobs_csv(data)
    except InputError:
        return False, []
    return (bool(jobs) and not errors), jobs


def upload_verdict(client: Any, h: dict[str, str], data: bytes) -> bool:
    r = client.post("/api/jobs/import", data=data, content_type="text/csv", headers=h)
    assert r.status_code in (201, 422), (r.status_code, r.json)
    assert set(r.json) == ({"imported", "ids"} if r.status_code == 201 else {"code", "message", "details"})
    return r.status_code == 201


def api_verdict(client: Any, h: dict[str, str], bodies: list[Any]) -> bool:
    statuses = []
    for body in bodies:
        if isinstance(body, bytes):
            r = client.post("/api/jobs", data=body, content_type="application/json", headers=h)
        else:
            r = client.post("/api/jobs", json=body, headers=h)
        assert r.status_code in (201, 400, 422), (body, r.status_code, r.json)
        statuses.append(r.status_code)
    return bool(statuses) and all(s == 201 for s in statuses)


def stored(client: Any, h: dict[str, str]) -> dict[str, dict[str, Any]]:
    keys = ("equipment", "duration_min", "crew", "description", "requested_by", "night_work")
    items = client.get("/api/jobs", headers=h).json["items"]
    return {j["id"]: {k: j[k] for k in keys} | {"earliest": datetime.fromisoformat(j["earliest"]),
                                                  "latest": datetime.fromisoformat(j["latest"])} for j in items}


def delete_all(client: Any, h: dict[str, str]) -> None:
    for j in client.get("/api/jobs", headers=h).json["items"]:
        assert client.delete(f"/api/jobs/{j['id']}?version={j['version']}", headers=h).status_code == 204


@pytest.mark.parametrize(("name", "data", "bodies", "accepted"), CASES, ids=[c[0] for c in CASES])
def test_same_verdict_everywhere(client: Any, tokens: Any, name: str, data: bytes, bodies: list[Any], accepted: bool) -> None:
    h = tokens["planner"]
    cli_ok, jobs = cli_verdict(data)
    assert cli_ok is accepted, f"planning CLI loader: {name}"
    assert upload_verdict(client, h, data) is accepted, f"CSV upload: {name}"
    from_file = stored(client, h)
    delete_all(client, h)
    assert api_verdict(client, h, bodies) is accepted, f"JSON API: {name}"
    if accepted:  # and the three agree on what the job is
        from_cli = {j.id: {k: v for k, v in j.to_dict().items() if k != "id"} for j in jobs}
        for d in from_cli.values():
            d["earliest"], d["latest"] = datetime.fromisoformat(d["earliest"]), datetime.fromisoformat(d["latest"])
        assert from_file == stored(client, h)
        for jid, d in from_cli.items():
            assert {k: from_file[jid][k] for k in d} == d
    else:  # the upload is all or nothing
        assert from_file == {}


def test_cli_and_upload_name_the_same_problems(client: Any, tokens: Any) -> None:
    data = (HEAD + row(id="B1", duration_min="soon") + row(id="B2", earliest="2026-12-01T08:00")
            + row(id="B3", night_work="maybe") + row(id="", equipment="")).encode()
    _, errors = load_jobs_csv(data)
    r = client.post("/api/jobs/import", data=data, content_type="text/csv", headers=tokens["planner"])
    rows = r.json["details"]["rows"]
    assert [(e.job, e.code) for e in errors] == [("B1", "bad_duration"), ("B2", "naive_datetime"), ("B3", "bad_night_work"),
                                                 ("row 5", "missing_id")]
    assert [(e["row"], e["id"], e["code"]) for e in rows] == [(2, "B1", "bad_duration"), (3, "B2", "naive_datetime"),
                                                            (4, "B3", "bad_night_work"), (5, None, "missing_id"),
                                                            (5, None, "no_equipment")]


def test_api_errors_carry_the_core_codes(client: Any, tokens: Any) -> None:
    r = client.post("/api/jobs", json=JOB | {"earliest": L, "latest": E}, headers=tokens["planner"])
    assert r.status_code == 422 and r.json["code"] == "bad_record"
    assert [(p["field"], p["code"]) for p in r.json["details"]] == [("latest", "bad_window")]
    client.post("/api/jobs", json=JOB, headers=tokens["planner"])
    r = client.patch("/api/jobs/J1", json={"version": 1, "duration_min": 60, "night_work": "y"}, headers=tokens["planner"])
    assert r.status_code == 200 and r.json["duration_min"] == 60 and r.json["night_work"] is True
    r = client.patch("/api/jobs/J1", json={"version": 2, "duration_min": 6000}, headers=tokens["planner"])
    assert r.status_code == 422 and r.json["details"][0]["code"] == "duration_exceeds_window"


def test_openapi_describes_the_core_schema(client: Any) -> None:
    props = client.get("/api/openapi.json").json["components"]["schemas"]["JobIn"]["properties"]
    assert props["duration_min"] == {"type": "integer", "minimum": 1, "maximum": 44640}
    assert props["equipment"]["maxItems"] == 50 and props["earliest"]["format"] == "date-time"
    assert props["crew"]["nullable"] is True and "nullable" not in props["description"]
