"""Crew stop progress: ``POST /api/routes/<id>/stops/<task_id> {status}`` (arrived -> working -> done).

Routes are stored directly (no road network needed), so this runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL like the other database tests.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.models import Dispatch, Route, RouteStop

NOW = datetime.fromisoformat("2026-12-01T10:00:00+01:00")


def _stops(prefix: str) -> list[dict[str, Any]]:
    return [{"task_id": f"{prefix}-a", "name": "RMU 5", "lon": 7.42, "lat": 43.73, "arrival": "2026-12-01T10:10:00+01:00"},
            {"task_id": f"{prefix}-b", "name": "repair", "lon": 7.43, "lat": 43.731, "arrival": "2026-12-01T10:40:00+01:00"}]


@pytest.fixture
def routes(app: Any, tokens: Any) -> dict[str, int]:
    """One done dispatch with a route for K1 (progress rows as a dispatch run stores them)
    and one for K2 stored without progress rows (as routes from before migration 0003)."""
    with app.app_context(), app.extensions["db"].session(actor="test") as s:
        d = Dispatch(status="done", now=NOW, objective="distance", crew_ids=["K1", "K2"], tasks=[], dropped=[])
        d.routes.append(Route(crew_id="K1", stops=_stops("T1"), geometry=None,
                              stop_states=[RouteStop(task_id="T1-a"), RouteStop(task_id="T1-b")]))
        d.routes.append(Route(crew_id="K2", stops=_stops("T2"), geometry=None))
        s.add(d)
        s.flush()
        return {"dispatch": d.id, "K1": d.routes[0].id, "K2": d.routes[1].id}


def post(client: Any, headers: dict[str, str], route: int, task: str, body: Any, **kw: Any) -> Any:
    return client.post(f"/api/routes/{route}/stops/{task}", json=body, headers=headers, **kw)


def stop(route_json: dict[str, Any], task: str) -> dict[str, Any]:
    return next(s for s in route_json["stops"] if s["task_id"] == task)


def test_crew_marks_its_own_stops_and_the_dispatcher_sees_them(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    crew, disp = tokens["crew"], tokens["dispatcher"]
    before = client.get(f"/api/routes/{routes['K1']}", headers=disp).json
    assert [(s["status"], s["arrived_at"], s["done_at"]) for s in before["stops"]] == [("planned", None, None)] * 2
    r = post(client, crew, routes["K1"], "T1-a", {"status": "arrived"})
    assert r.status_code == 200, r.json
    a = stop(r.json, "T1-a")
    assert a["status"] == "arrived" and a["done_at"] is None
    arrived_at = datetime.fromisoformat(a["arrived_at"])
    assert arrived_at.utcoffset() == arrived_at.astimezone(ZoneInfo("Europe/Monaco")).utcoffset()  # the grid's zone
    assert stop(r.json, "T1-a")["name"] == "RMU 5"  # the core's stop fields are kept
    assert stop(r.json, "T1-b")["status"] == "planned"
    assert post(client, crew, routes["K1"], "T1-a", {"status": "working"}).status_code == 200
    r = post(client, crew, routes["K1"], "T1-a", {"status": "done"})
    assert r.status_code == 200
    a = stop(r.json, "T1-a")
    assert a["status"] == "done" and a["arrived_at"] == arrived_at.isoformat()
    assert datetime.fromisoformat(a["done_at"]) >= datetime.fromisoformat(a["working_at"]) >= arrived_at
    # done directly (no arrived reported first) is out of order and changes nothing
    r = post(client, crew, routes["K1"], "T1-b", {"status": "done"})
    assert r.status_code == 409 and r.json["code"] == "stop_out_of_order" and r.json["details"]["expected"] == "arrived"
    for status in ("arrived", "working", "done"):
        r = post(client, crew, routes["K1"], "T1-b", {"status": status})
        assert r.status_code == 200, r.json
    assert stop(r.json, "T1-b")["status"] == "done" and stop(r.json, "T1-b")["arrived_at"] is not None
    # every reader sees the progress: the route, the crew's latest route, the dispatch
    for url, h in ((f"/api/routes/{routes['K1']}", disp), ("/api/crews/K1/route", crew), ("/api/crews/K1/route", tokens["viewer"])):
        got = client.get(url, headers=h).json
        assert [s["status"] for s in got["stops"]] == ["done", "done"], url
    d = client.get(f"/api/dispatches/{routes['dispatch']}", headers=disp).json
    k1 = next(x for x in d["routes"] if x["crew_id"] == "K1")
    assert [s["status"] for s in k1["stops"]] == ["done", "done"]
    assert [s["status"] for s in next(x for x in d["routes"] if x["crew_id"] == "K2")["stops"]] == ["planned", "planned"]


def test_repeating_a_status_changes_nothing(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    crew = tokens["crew"]
    first = stop(post(client, crew, routes["K1"], "T1-a", {"status": "arrived"}).json, "T1-a")
    again = post(client, crew, routes["K1"], "T1-a", {"status": "arrived"})
    assert again.status_code == 200 and stop(again.json, "T1-a") == first


def _to_done(client: Any, headers: dict[str, str], route: int, task: str) -> Any:
    for status in ("arrived", "working", "done"):
        r = post(client, headers, route, task, {"status": status})
        assert r.status_code == 200, r.json
    return r


def test_done_cannot_go_back(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    crew = tokens["crew"]
    done = stop(_to_done(client, crew, routes["K1"], "T1-a").json, "T1-a")
    r = post(client, crew, routes["K1"], "T1-a", {"status": "arrived"})
    assert r.status_code == 409 and r.json["code"] == "stop_done"
    assert "already done" in r.json["message"]
    assert stop(client.get(f"/api/routes/{routes['K1']}", headers=crew).json, "T1-a") == done


def test_dispatcher_and_admin_may_report_any_route(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    r = post(client, tokens["dispatcher"], routes["K2"], "T2-a", {"status": "arrived"})
    assert r.status_code == 200 and stop(r.json, "T2-a")["status"] == "arrived"
    r = _to_done(client, tokens["admin"], routes["K1"], "T1-b")
    assert stop(r.json, "T1-b")["status"] == "done"


def test_crew_cannot_touch_another_crews_route(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    # like every crew-scoped read (GET /api/routes/<id>): 404, so another crew's route ids do not leak
    r = post(client, tokens["crew"], routes["K2"], "T2-a", {"status": "arrived"})
    assert r.status_code == 404 and r.json["code"] == "not_found"
    assert [s["status"] for s in client.get(f"/api/routes/{routes['K2']}", headers=tokens["dispatcher"]).json["stops"]] == ["planned"] * 2


@pytest.mark.parametrize("role", ["viewer", "planner", "customer_service"])
def test_other_roles_are_forbidden(client: Any, tokens: Any, routes: dict[str, int], role: str) -> None:
    r = post(client, tokens[role], routes["K1"], "T1-a", {"status": "arrived"})
    assert r.status_code == 403 and r.json["code"] == "forbidden"
    assert client.post(f"/api/routes/{routes['K1']}/stops/T1-a", json={"status": "arrived"}).status_code == 401
    assert stop(client.get(f"/api/routes/{routes['K1']}", headers=tokens["dispatcher"]).json, "T1-a")["status"] == "planned"


def test_unknown_route_or_stop_is_404(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    for h in (tokens["crew"], tokens["dispatcher"]):
        assert post(client, h, 999, "T1-a", {"status": "arrived"}).status_code == 404
        assert post(client, h, 2**40, "T1-a", {"status": "arrived"}).status_code == 404
        r = post(client, h, routes["K1"], "nope", {"status": "arrived"})
        assert r.status_code == 404 and r.json["code"] == "not_found"
        assert post(client, h, routes["K1"], "T2-a", {"status": "arrived"}).status_code == 404  # K2's stop


@pytest.mark.parametrize("body", [
    {"status": "planned"}, {"status": "finished"}, {"status": None}, {"status": 1}, {},
    {"status": "arrived", "when": "2026-12-01T10:00:00+01:00"},  # unknown field
    {"status": "arrived", "at": "yesterday"}, {"status": "arrived", "note": 5},
    {"status": "arrived", "version": 0}, {"status": "arrived", "version": "x"},
])
def test_bad_bodies_are_422_and_change_nothing(client: Any, tokens: Any, routes: dict[str, int], body: Any) -> None:
    r = post(client, tokens["crew"], routes["K1"], "T1-a", body)
    assert r.status_code == 422 and r.json["code"] == "invalid", r.json
    assert stop(client.get(f"/api/routes/{routes['K1']}", headers=tokens["crew"]).json, "T1-a")["status"] == "planned"
    assert client.get("/api/audit?entity=route_stops", headers=tokens["admin"]).json["total"] == 2  # the two creates


def test_malformed_json_is_400(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    r = client.post(f"/api/routes/{routes['K1']}/stops/T1-a", data='{"status": NaN}',
                    headers={**tokens["crew"], "Content-Type": "application/json"})
    assert r.status_code == 400


def test_optional_version_locks_the_stop(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    crew = tokens["crew"]
    r = post(client, crew, routes["K1"], "T1-a", {"status": "arrived", "version": 1})
    assert r.status_code == 200 and stop(r.json, "T1-a")["version"] == 2
    r = post(client, crew, routes["K1"], "T1-a", {"status": "working", "version": 1})
    assert r.status_code == 409 and r.json["code"] == "stale_version" and r.json["details"]["current_version"] == 2
    assert stop(client.get(f"/api/routes/{routes['K1']}", headers=crew).json, "T1-a")["status"] == "arrived"


def test_idempotent_replay(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    h = {**tokens["crew"], "Idempotency-Key": "tap-1"}
    first = post(client, h, routes["K1"], "T1-a", {"status": "arrived"})
    assert first.status_code == 200
    audit_rows = client.get("/api/audit?entity=route_stops", headers=tokens["admin"]).json["total"]
    again = post(client, h, routes["K1"], "T1-a", {"status": "arrived"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert client.get("/api/audit?entity=route_stops", headers=tokens["admin"]).json["total"] == audit_rows
    other = post(client, h, routes["K1"], "T1-a", {"status": "done"})
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert stop(client.get(f"/api/routes/{routes['K1']}", headers=tokens["crew"]).json, "T1-a")["status"] == "arrived"


def test_audit_rows_record_who_what_before_after(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    post(client, tokens["crew"], routes["K1"], "T1-a", {"status": "arrived"})
    post(client, tokens["crew"], routes["K1"], "T1-a", {"status": "working"})
    post(client, tokens["crew"], routes["K1"], "T1-a", {"status": "done"})
    items = client.get("/api/audit?entity=route_stops", headers=tokens["admin"]).json["items"]
    updates = [i for i in items if i["action"] == "update"]
    assert len(updates) == 3
    done, working, arrived = updates  # newest first
    assert working["before"]["status"] == "arrived" and working["after"]["status"] == "working"
    assert arrived["actor"] == done["actor"] == "crew-user"
    assert arrived["before"]["status"] == "planned" and arrived["after"]["status"] == "arrived"
    assert arrived["before"]["arrived_at"] is None and arrived["after"]["arrived_at"]
    assert done["before"]["status"] == "working" and done["after"]["status"] == "done" and done["after"]["done_at"]
    assert datetime.fromisoformat(arrived["at"]) <= datetime.fromisoformat(done["at"])
    # a rejected change adds no row
    post(client, tokens["crew"], routes["K1"], "T1-a", {"status": "arrived"})
    assert client.get("/api/audit?entity=route_stops", headers=tokens["admin"]).json["total"] == len(items)


def test_route_stored_before_0003_gets_progress_rows_on_first_report(client: Any, tokens: Any, routes: dict[str, int]) -> None:
    h = tokens["dispatcher"]
    r = post(client, h, routes["K2"], "T2-b", {"status": "arrived"})
    assert r.status_code == 200
    assert [(s["task_id"], s["status"]) for s in r.json["stops"]] == [("T2-a", "planned"), ("T2-b", "arrived")]
    items = client.get("/api/audit?entity=route_stops", headers=tokens["admin"]).json["items"]
    update = next(i for i in items if i["action"] == "update" and i["after"].get("status") == "arrived")
    assert update["before"]["status"] == "planned" and update["actor"] == "dispatcher-user"


def test_csrf_is_required_with_a_session_cookie(app: Any, client: Any, tokens: Any, routes: dict[str, int]) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    c = app.test_client()
    login = c.get("/login")
    assert login.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login.get_data(as_text=True))
    assert token, "login form has a CSRF token"
    r = c.post("/login", data={"username": "crew-user", "password": "correct horse", "csrf_token": token.group(1)})
    assert r.status_code == 302
    assert c.post(f"/api/routes/{routes['K1']}/stops/T1-a", json={"status": "arrived"}).status_code == 400
    page = c.get("/crew", follow_redirects=True).get_data(as_text=True)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert meta
    r = c.post(f"/api/routes/{routes['K1']}/stops/T1-a", json={"status": "arrived"}, headers={"X-CSRFToken": meta.group(1)})
    assert r.status_code == 200, r.json
