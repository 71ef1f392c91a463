"""A fault's switching orders executed step by step (issue 14): order, stale state, the
customer statuses and the map state that follow the executed steps, the tripped feeder's
fault indicators, the generator-truck decision, the timeline and the re-plan of every open fault.

The small ring (tests/data/small_ring), hand-checked: F1 feeds R1 -> S1 -> R2 (D1: C1, C2)
-> S2 -> R3 (D2: C3, C7) with S3 from R1 to D5 (C6); T1 (R3-R4) is the normally-open tie to
F2. Breaker F1 trips, S1 saw fault current and S2 did not: the fault is between S1 and S2.
The plan: 1 open S1 (remote), 2 close F1 (remote), 3 open S2 (manual), 4 close T1 (remote).
"""

from __future__ import annotations

from typing import Any

NOW = "2026-12-01T10:00:00+01:00"
OUT = {"C1", "C2", "C3", "C6", "C7"}  # every customer of F1


def make_fault(client: Any, h: dict[str, str], **extra: Any) -> dict[str, Any]:
    r = client.post("/api/faults", json={"now": NOW, "tripped_breaker": "F1",
                                         "fault_indicators": {"S1": True, "S2": False}, **extra}, headers=h)
    assert r.status_code == 201, r.json
    return r.json


def statuses(client: Any, fault_id: int, h: dict[str, str]) -> dict[str, str]:
    r = client.get(f"/api/faults/{fault_id}/customers", headers=h)
    assert r.status_code == 200, r.json
    body = r.json
    items = {c["id"]: c["supply_status"] for c in body["items"]}
    assert body["restored"] == sum(v == "restored" for v in items.values())
    assert body["still_out"] == sum(v == "out" for v in items.values())
    # a customer back has the time of the step that gave it supply back; one out the plan's estimate
    for c in body["items"]:
        assert c["restoration"] is not None, c
    return items


def execute(client: Any, fault_id: int, seq: int, version: int, h: dict[str, str]) -> Any:
    return client.post(f"/api/faults/{fault_id}/steps/{seq}", json={"version": version}, headers=h)


def test_steps_in_order_and_customers_follow_the_executed_state(client: Any, tokens: Any) -> None:
    h = tokens["dispatcher"]
    f = make_fault(client, h)
    plan = [(st["kind"], s["seq"], s["action"], s["switch"], s["remote"], s["who"]) for st in f["stages"] for s in st["steps"]]
    assert plan == [("remote", 1, "open", "S1", True, "control_room"), ("remote", 2, "close", "F1", True, "control_room"),
                    ("manual", 3, "open", "S2", False, "crew"), ("manual", 4, "close", "T1", True, "control_room")]
    assert f["next_step"] == 1 and not any(s["executed"] for st in f["stages"] for s in st["steps"])
    # the plan says stage 1 restores C6, but nothing is executed: everyone is still out
    assert statuses(client, f["id"], h) == dict.fromkeys(OUT, "out")
    assert f["state"] == {"open": ["F1"], "close": [], "customers_out": 5, "customers_restored": 0}

    # out of order: refused with the step to do first, nothing stored
    r = execute(client, f["id"], 2, f["version"], h)
    assert r.status_code == 409 and r.json["code"] == "step_out_of_order", r.json
    assert "step 1 (open S1)" in r.json["message"]
    again = client.get(f"/api/faults/{f['id']}", headers=h).json
    assert again["version"] == f["version"] and again["next_step"] == 1
    assert execute(client, f["id"], 9, f["version"], h).status_code == 404

    r = execute(client, f["id"], 1, f["version"], h)
    assert r.status_code == 200, r.json
    f = r.json
    step1 = f["stages"][0]["steps"][0]
    assert step1["executed"] and step1["executed_by"] == "dispatcher-user" and step1["executed_at"].endswith("+01:00")
    assert f["next_step"] == 2 and f["state"]["open"] == ["F1", "S1"]
    assert statuses(client, f["id"], h) == dict.fromkeys(OUT, "out")  # opening S1 restores nobody
    assert execute(client, f["id"], 1, f["version"], h).json["code"] == "step_done"

    f = execute(client, f["id"], 2, f["version"], h).json  # reclose F1: D5 (C6) is back
    assert f["state"]["open"] == ["S1"] and f["state"]["close"] == ["F1"]
    assert statuses(client, f["id"], h) == {"C6": "restored", "C1": "out", "C2": "out", "C3": "out", "C7": "out"}
    assert f["state"]["customers_restored"] == 1

    f = execute(client, f["id"], 3, f["version"], h).json
    assert statuses(client, f["id"], h)["C3"] == "out"
    f = execute(client, f["id"], 4, f["version"], h).json  # the tie T1 takes D2 (C3, C7) to F2
    assert statuses(client, f["id"], h) == {"C6": "restored", "C3": "restored", "C7": "restored", "C1": "out", "C2": "out"}
    assert f["next_step"] is None
    assert set(f["state"]["open"]) == {"S1", "S2"} and f["state"]["close"] == ["F1", "T1"]
    # the importance filter keeps the status column
    one = client.get(f"/api/faults/{f['id']}/customers?importance=normal", headers=h).json
    assert all(c["supply_status"] in ("restored", "out") for c in one["items"])

    # the map of that state (the page draws /pages/data/state.geojson with it): C1, C2 dark
    q = f"open={','.join(f['state']['open'])}&close={','.join(f['state']['close'])}"
    fc = client.get(f"/pages/data/state.geojson?{q}", headers=h).json
    dark = {x["properties"]["id"] for x in fc["features"] if x["properties"].get("layer") == "customer"}
    assert dark == {"C1", "C2"}


def test_stale_state_is_409_and_stores_nothing(client: Any, tokens: Any) -> None:
    h = tokens["dispatcher"]
    f = make_fault(client, h)
    other = client.get(f"/api/faults/{f['id']}", headers=h).json  # a second dispatcher reads the same state
    assert execute(client, f["id"], 1, f["version"], h).status_code == 200
    r = execute(client, f["id"], 2, other["version"], h)
    assert r.status_code == 409 and r.json["code"] == "stale_version"
    assert "another dispatcher" in r.json["message"]
    now = client.get(f"/api/faults/{f['id']}", headers=h).json
    assert [s["executed"] for st in now["stages"] for s in st["steps"]] == [True, False, False, False]
    # a status change by someone else also makes the step stale
    p = client.patch(f"/api/faults/{f['id']}", json={"version": now["version"], "status": "restored"}, headers=h)
    assert p.status_code == 200
    assert execute(client, f["id"], 2, now["version"], h).status_code == 409


def test_only_dispatchers_execute_and_closed_faults_take_no_steps(client: Any, tokens: Any) -> None:
    f = make_fault(client, tokens["dispatcher"])
    for role in ("viewer", "crew", "planner", "customer_service"):
        assert execute(client, f["id"], 1, f["version"], tokens[role]).status_code == 403, role
    assert execute(client, f["id"], 1, f["version"], {}).status_code == 401
    bad = client.post(f"/api/faults/{f['id']}/steps/1", json={"version": "x"}, headers=tokens["dispatcher"])
    assert bad.status_code == 422
    assert client.post(f"/api/faults/{f['id']}/steps/1", json={}, headers=tokens["dispatcher"]).status_code == 422
    closed = client.patch(f"/api/faults/{f['id']}", json={"version": f["version"], "status": "closed"},
                          headers=tokens["dispatcher"]).json
    r = execute(client, f["id"], 1, closed["version"], tokens["dispatcher"])
    assert r.status_code == 409 and r.json["code"] == "fault_closed"


def test_timeline_follows_the_executed_steps_and_the_status(client: Any, tokens: Any) -> None:
    h = tokens["dispatcher"]
    f = make_fault(client, h)
    kinds = [(e["kind"], e["at"] is not None) for e in f["timeline"]]
    assert kinds == [("trip", True), ("located", True), ("isolated", False), ("stage", False), ("stage", False),
                     ("crew_arrived", False), ("repaired", False), ("normal", False)]
    assert f["timeline"][0]["since_trip_s"] == 0 and f["timeline"][0]["since_previous_s"] is None
    for seq in (1, 2):
        f = execute(client, f["id"], seq, f["version"], h).json
    reached = [e["kind"] for e in f["timeline"] if e["at"]]
    assert reached == ["trip", "located", "stage"]  # S2 is not open yet: not isolated
    f = execute(client, f["id"], 3, f["version"], h).json
    reached = [e for e in f["timeline"] if e["at"]]
    assert [e["kind"] for e in reached] == ["trip", "located", "stage", "isolated"]
    assert all(e["since_previous_s"] >= 0 for e in reached[1:])
    assert reached[-1]["since_trip_s"] == sum(e["since_previous_s"] for e in reached[1:])
    f = execute(client, f["id"], 4, f["version"], h).json
    f = client.patch(f"/api/faults/{f['id']}", json={"version": f["version"], "status": "closed"}, headers=h).json
    full = client.get(f"/api/faults/{f['id']}", headers=h).json
    assert [e["kind"] for e in full["timeline"] if e["at"]][-2:] == ["repaired", "normal"]
    assert full["closed_at"] is not None and full["restored_at"] == full["closed_at"]


def test_generator_decision_has_its_reason(client: Any, tokens: Any) -> None:
    h = tokens["dispatcher"]
    f = make_fault(client, h)
    # a cable repair is 300 min (> 180 min) and C1, C2 wait for it: trucks are needed
    assert f["generator_decision"] == {"needed": True, "reason": "repair_long", "repair_min": 300.0,
                                       "threshold_min": 180.0, "customers_out": 2, "trucks": 0}
    g = make_fault(client, h, options={"generator_threshold_min": 400})
    assert g["generator_decision"]["reason"] == "repair_short" and not g["generator_decision"]["needed"]
    assert client.get(f"/api/faults/{g['id']}", headers=h).json["generator_decision"]["threshold_min"] == 400.0


def test_indicators_are_limited_to_the_feeder(client: Any, tokens: Any) -> None:
    h = tokens["viewer"]
    r = client.get("/api/faults/indicators?feeder=F1", headers=h)
    assert r.status_code == 200
    # F1, S1, S2 carry indicators on F1; S3 has none; S4, S5 are on F2
    assert [i["id"] for i in r.json["items"]] == ["F1", "S1", "S2"] and r.json["total"] == 3
    s2 = r.json["items"][2]
    assert s2["node"] == "R2" and s2["remote"] is False and abs(s2["lon"] - 7.428) < 1e-9
    assert [i["id"] for i in client.get("/api/faults/indicators?feeder=F2", headers=h).json["items"]] == ["F2", "S4", "S5"]
    assert [i["id"] for i in client.get("/api/faults/indicators?feeder=F1&q=s2", headers=h).json["items"]] == ["S2"]
    assert [i["id"] for i in client.get("/api/faults/indicators?feeder=F1&q=node%20r1", headers=h).json["items"]] == ["S1"]
    assert client.get("/api/faults/indicators?feeder=F9", headers=h).status_code == 404
    assert client.get("/api/faults/indicators", headers=h).status_code == 422


def test_replan_takes_every_open_fault_and_names_idle_crews(rclient: Any, rtokens: Any) -> None:
    c, h = rclient, rtokens["dispatcher"]
    first = make_fault(c, h)
    second = c.post("/api/faults", json={"section": "R5", "now": NOW}, headers=h).json
    closed = c.post("/api/faults", json={"section": "R6", "now": NOW}, headers=h).json
    c.patch(f"/api/faults/{closed['id']}", json={"version": closed["version"], "status": "closed"}, headers=h)
    r = c.post("/api/dispatches", json={"fault_id": second["id"], "open_faults": True, "crew_ids": ["K1", "K2"],
                                        "now": NOW}, headers=h)
    assert r.status_code == 202, r.json
    d = c.get(f"/api/dispatches/{r.json['dispatch']['id']}", headers=h).json
    faults = {t["id"].split("-")[0] for t in d["tasks"]}
    assert faults == {f"F{first['id']}", f"F{second['id']}"}
    assert d["fault_id"] == second["id"]
    assert d["idle_crews"] == [x["crew_id"] for x in d["routes"] if not x["stops"]]
    # the crew routed to the manual step is named on the step
    f = c.get(f"/api/faults/{first['id']}", headers=h).json
    manual = f["stages"][1]["steps"][0]
    assert manual["task_id"] == f"F{first['id']}-S1-0"
    routed = {s["task_id"]: x["crew_id"] for x in d["routes"] for s in x["stops"]}
    assert manual["crew_id"] == routed.get(manual["task_id"])
    # the crew at the repair stop: the timeline shows it arrived, then the repair done
    repair = f"F{first['id']}-repair"
    route = next(x for x in d["routes"] if any(s["task_id"] == repair for s in x["stops"]))
    tl = {e["kind"]: e for e in f["timeline"]}
    assert tl["crew_arrived"]["at"] is None and tl["repaired"]["at"] is None
    assert c.post(f"/api/routes/{route['id']}/stops/{repair}", json={"status": "arrived"}, headers=h).status_code == 200
    tl = {e["kind"]: e for e in c.get(f"/api/faults/{first['id']}", headers=h).json["timeline"]}
    assert tl["crew_arrived"]["at"] is not None and tl["crew_arrived"]["crew_id"] == route["crew_id"]
    assert tl["repaired"]["at"] is None
    assert c.post(f"/api/routes/{route['id']}/stops/{repair}", json={"status": "working"}, headers=h).status_code == 200
    assert c.post(f"/api/routes/{route['id']}/stops/{repair}", json={"status": "done"}, headers=h).status_code == 200
    tl = {e["kind"]: e for e in c.get(f"/api/faults/{first['id']}", headers=h).json["timeline"]}
    assert tl["repaired"]["at"] is not None and tl["repaired"]["since_trip_s"] >= tl["crew_arrived"]["since_trip_s"]
