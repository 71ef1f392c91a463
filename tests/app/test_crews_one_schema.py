"""One crew schema: routing's CLI reader, the demo seed and the crews API give the same verdicts.

Each case is a crews file and the request bodies a dispatcher would send for the
same crews, with the verdict written down by hand.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

import pytest

from gis.errors import InputError
from routing.io import read_crews

HEAD = "id,name,depot_id,skills,shift_start,shift_end\n"
CREW = {"id": "K9", "name": "Night crew", "depot_id": "DEP1", "skills": ["cable", "switching"],
        "shift_start": "19:00", "shift_end": "07:00"}
LINE = "K9,Night crew,DEP1,cable;switching,19:00,07:00\n"

# (name, file bytes, JSON bodies for the same crews, accepted?)
CASES: list[tuple[str, bytes, list[Any], bool]] = [
    ("plain", (HEAD + LINE).encode(), [CREW], True),
    ("spaced headers", (" ID , Name,DEPOT_ID ,skills, shift_start,Shift_End\n" + LINE).encode(), [CREW], True),
    ("BOM and CRLF", ("\ufeff" + HEAD + LINE).replace("\n", "\r\n").encode(), [CREW], True),
    ("shift 7:30", (HEAD + "K9,Night crew,DEP1,cable;switching,7:30,16:00\n").encode(),
     [CREW | {"shift_start": "7:30", "shift_end": "16:00"}], True),
    ("no shift columns", b"id,name,depot_id\nK9,Day crew,DEP1\n", [{"id": "K9", "name": "Day crew", "depot_id": "DEP1"}], True),
    ("skills quoted with a comma", (HEAD + 'K9,Night crew,DEP1,"cable, switching",19:00,07:00\n').encode(),
     [CREW | {"skills": "cable, switching"}], True),
    ("inactive", b"id,name,depot_id,active\nK9,Old crew,DEP1,no\n", [{"id": "K9", "name": "Old crew", "depot_id": "DEP1", "active": "no"}], True),
    ("header only", HEAD.encode(), [], True),
    ("shift 25:00", (HEAD + "K9,Night crew,DEP1,cable,25:00,07:00\n").encode(), [CREW | {"shift_start": "25:00"}], False),
    ("shift as a datetime", (HEAD + "K9,Night crew,DEP1,cable,2026-12-01T19:00+01:00,07:00\n").encode(),
     [CREW | {"shift_start": "2026-12-01T19:00+01:00"}], False),
    ("unknown skill", (HEAD + "K9,Night crew,DEP1,cable;flying,19:00,07:00\n").encode(), [CREW | {"skills": ["cable", "flying"]}], False),
    ("extra column", (HEAD.strip() + ",colour\n" + LINE.strip() + ",red\n").encode(), [CREW | {"colour": "red"}], False),
    ("more values than columns", (HEAD + LINE.strip() + ",surplus\n").encode(), [CREW | {"surplus": "x"}], False),
    ("no id column", b"name,depot_id\nNight crew,DEP1\n", [{"name": "Night crew", "depot_id": "DEP1"}], False),
    ("blank id", (HEAD + ",Night crew,DEP1,cable,19:00,07:00\n").encode(), [CREW | {"id": None}], False),
    ("bad id", (HEAD + "bad id!,Night crew,DEP1,cable,19:00,07:00\n").encode(), [CREW | {"id": "bad id!"}], False),
    ("active=maybe", b"id,depot_id,active\nK9,DEP1,maybe\n", [{"id": "K9", "depot_id": "DEP1", "active": "maybe"}], False),
    ("name too long", (HEAD + f"K9,{'N' * 121},DEP1,cable,19:00,07:00\n").encode(), [CREW | {"name": "N" * 121}], False),
    ("one bad row of two", (HEAD + LINE + "K8,Day,DEP1,cable,8h,17:00\n").encode(), [CREW, CREW | {"id": "K8", "shift_start": "8h"}], False),
    ("empty file", b"", [{}], False),
    ("not UTF-8", (HEAD + "K9,Équipe,DEP1,cable,19:00,07:00\n").encode("latin-1"), [b'{"id": "K9", "name": "\xc9quipe", "depot_id": "DEP1"}'], False),
]


def routing_verdict(path: Path) -> tuple[bool, list[Any]]:
    try:
        return True, read_crews(path)
    except InputError:
        return False, []


def seed_verdict(app: Any, folder: Path) -> bool:
    r = app.test_cli_runner().invoke(args=["demo", "seed", "--data", str(folder)])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output  # a clear message, never a traceback
    return r.exit_code == 0


def api_verdict(client: Any, h: dict[str, str], bodies: list[Any]) -> bool:
    ok = True
    for body in bodies:
        if isinstance(body, bytes):
            r = client.post("/api/crews", data=body, content_type="application/json", headers=h)
        else:
            if isinstance(body.get("id"), str):
                body = body | {"id": "A-" + body["id"]}  # the seed stored the file's crews already
            r = client.post("/api/crews", json=body, headers=h)
        assert r.status_code in (201, 400, 422), (body, r.status_code, r.json)
        ok = ok and r.status_code == 201
    return ok


def stored(client: Any, h: dict[str, str], prefix: str) -> dict[str, dict[str, Any]]:
    keys = ("name", "depot_id", "skills", "shift_start", "shift_end", "active")
    return {c["id"].removeprefix(prefix): {k: c[k] for k in keys} for c in client.get("/api/crews", headers=h).json["items"]
            if c["id"] not in ("K1", "K2") and c["id"].startswith(prefix)}


@pytest.mark.parametrize(("name", "data", "bodies", "accepted"), CASES, ids=[c[0] for c in CASES])
def test_same_verdict_everywhere(app: Any, client: Any, tokens: Any, tmp_path: Path, name: str, data: bytes,
                                 bodies: list[Any], accepted: bool) -> None:
    h = tokens["dispatcher"]
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "crews.csv").write_bytes(data)
    routing_ok, crews = routing_verdict(folder / "crews.csv")
    assert routing_ok is accepted, f"routing reader: {name}"
    assert seed_verdict(app, folder) is accepted, f"demo seed: {name}"
    assert api_verdict(client, h, bodies) is accepted, f"crews API: {name}"
    from_seed = {k: v for k, v in stored(client, h, "").items() if not k.startswith("A-")}
    if not accepted:
        assert from_seed == {}  # the seed is all or nothing
        return
    assert from_seed == stored(client, h, "A-")  # the file and the bodies give the same crews
    active = {cid for cid, c in from_seed.items() if c["active"]}
    assert {c.id for c in crews} == active  # routing dispatches the active ones
    for c in crews:
        want = from_seed[c.id]
        assert (c.shift_start, c.shift_end) == (time.fromisoformat(want["shift_start"]), time.fromisoformat(want["shift_end"]))
        assert c.skills == frozenset(want["skills"]) and c.start == want["depot_id"] and c.name == want["name"]


def test_crew_patch_goes_through_the_record(client: Any, tokens: Any) -> None:
    h = tokens["dispatcher"]
    r = client.patch("/api/crews/K1", json={"version": 1, "shift_start": "6:00", "skills": "cable;overhead"}, headers=h)
    assert r.status_code == 200 and r.json["shift_start"] == "06:00" and r.json["skills"] == ["cable", "overhead"]
    r = client.patch("/api/crews/K1", json={"version": 2, "skills": ["flying"]}, headers=h)
    assert r.status_code == 422 and r.json["code"] == "bad_record" and r.json["details"][0]["field"] == "skills"
    assert client.patch("/api/crews/K1", json={"version": 2, "id": "K7"}, headers=h).status_code == 422
