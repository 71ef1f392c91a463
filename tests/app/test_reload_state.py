"""What the pages read back after a reload: the recent faults and each fault's dispatches
(``GET /api/dispatches?fault_id=``), the recent plans with a run still going, and the page
elements that show them. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from app.models import Dispatch, Plan, Route, RouteStop, Run

NOW = datetime.fromisoformat("2026-12-01T10:00:00+01:00")


def _route(crew: str, prefix: str) -> Route:
    stops = [{"task_id": f"{prefix}-a", "name": "RMU 5", "lon": 7.42, "lat": 43.73, "arrival": "2026-12-01T10:10:00+01:00"}]
    return Route(crew_id=crew, stops=stops, geometry=None, stop_states=[RouteStop(task_id=f"{prefix}-a")])


@pytest.fixture
def worked(app: Any, client: Any, tokens: Any) -> dict[str, Any]:
    """Two faults (from the API) and three dispatches stored as routing runs leave them:
    two for the first fault (one done, one still running) and one done for the second."""
    disp = tokens["dispatcher"]
    f1 = client.post("/api/faults", json={"section": "R2", "now": "2026-12-01T09:00:00+01:00"}, headers=disp)
    f2 = client.post("/api/faults", json={"section": "R5", "now": "2026-12-01T09:30:00+01:00"}, headers=disp)
    assert f1.status_code == 201 and f2.status_code == 201, (f1.json, f2.json)
    f1, f2 = f1.json["id"], f2.json["id"]
    with app.app_context(), app.extensions["db"].session(actor="test") as s:
        done1 = Dispatch(status="done", fault_id=f1, now=NOW, objective="distance", crew_ids=["K1"], tasks=[], dropped=[])
        done1.routes.append(_route("K1", "A"))
        run = Run(kind="dispatch", status="running", progress=0.4)
        s.add_all([done1, run])
        s.flush()
        going = Dispatch(status="running", fault_id=f1, now=NOW, objective="distance", crew_ids=["K1", "K2"], tasks=[],
                         run_id=run.id)
        done2 = Dispatch(status="done", fault_id=f2, now=NOW, objective="distance", crew_ids=["K2"], tasks=[], dropped=[])
        done2.routes.append(_route("K2", "B"))
        s.add_all([going, done2])
        s.flush()
        run.target_id = going.id
        ids = {"f1": f1, "f2": f2, "done1": done1.id, "going": going.id, "done2": done2.id, "run": run.id,
               "route1": done1.routes[0].id}
    return ids


def test_dispatches_of_one_fault_newest_first_with_stop_progress(client: Any, tokens: Any, worked: dict[str, Any]) -> None:
    disp = tokens["dispatcher"]
    # the crew reports its stop: the list shows the progress like GET /dispatches/<id>
    assert client.post(f"/api/routes/{worked['route1']}/stops/A-a", json={"status": "arrived"}, headers=tokens["crew"]).status_code == 200
    r = client.get(f"/api/dispatches?fault_id={worked['f1']}", headers=disp)
    assert r.status_code == 200, r.json
    assert r.json["total"] == 2
    items = r.json["items"]
    assert [d["id"] for d in items] == [worked["going"], worked["done1"]]
    assert {d["fault_id"] for d in items} == {worked["f1"]}
    assert items[0]["status"] == "running" and items[0]["run_id"] == worked["run"]
    stop = items[1]["routes"][0]["stops"][0]
    assert (stop["task_id"], stop["status"]) == ("A-a", "arrived") and stop["arrived_at"]
    # the run still going is readable, so the page can resume its progress display
    run = client.get(f"/api/runs/{worked['run']}", headers=disp).json
    assert run["status"] == "running" and run["progress"] == pytest.approx(0.4) and run["target_id"] == worked["going"]

    other = client.get(f"/api/dispatches?fault_id={worked['f2']}&limit=1", headers=tokens["viewer"]).json
    assert other["total"] == 1 and [d["id"] for d in other["items"]] == [worked["done2"]]
    # paging and the unfiltered list are unchanged
    assert client.get(f"/api/dispatches?fault_id={worked['f1']}&limit=1&offset=1", headers=disp).json["items"][0]["id"] == worked["done1"]
    assert client.get("/api/dispatches", headers=disp).json["total"] == 3
    # a fault with no dispatch (or none stored under that id) lists none
    assert client.get("/api/dispatches?fault_id=999999", headers=disp).json == {"total": 0, "items": []}


def test_recent_faults_newest_first_with_status(client: Any, tokens: Any, worked: dict[str, Any]) -> None:
    f = client.get("/api/faults?limit=20", headers=tokens["dispatcher"]).json
    assert [x["id"] for x in f["items"]] == [worked["f2"], worked["f1"]]
    assert all(x["status"] == "open" and x["created_at"] and x["stages"] for x in f["items"])
    full = client.get(f"/api/faults/{worked['f1']}", headers=tokens["dispatcher"]).json
    assert full["section"] == "R2" and full["stages"] and "repair" in full


@pytest.mark.parametrize("role", ["planner", "customer_service", "crew"])
def test_dispatches_of_a_fault_wrong_role(client: Any, tokens: Any, worked: dict[str, Any], role: str) -> None:
    r = client.get(f"/api/dispatches?fault_id={worked['f1']}", headers=tokens[role])
    assert r.status_code == 403 and r.json["code"] == "forbidden"


def test_dispatches_of_a_fault_anonymous(client: Any) -> None:
    assert client.get("/api/dispatches?fault_id=1").status_code == 401


@pytest.mark.parametrize("query", ["fault_id=abc", "fault_id=0", "fault_id=-3", "fault_id=99999999999", "fault_id=1.5",
                                   "fault_id=", "fault=1", "fault_id=1&limit=0"])
def test_dispatches_of_a_fault_bad_input(client: Any, tokens: Any, query: str) -> None:
    r = client.get(f"/api/dispatches?{query}", headers=tokens["dispatcher"])
    assert r.status_code == 422, (query, r.status_code, r.json)
    assert r.json["code"] == "invalid"


def test_a_plan_run_still_going_is_listed_with_its_run(app: Any, client: Any, tokens: Any) -> None:
    with app.app_context(), app.extensions["db"].session(actor="test") as s:
        run = Run(kind="plan", status="running", progress=0.3)
        s.add(run)
        s.flush()
        done = Plan(status="done", now=NOW, job_ids=[], options={}, metrics={"plan": {"outages": 0}}, errors=[], result={"outages": []})
        going = Plan(status="running", now=NOW, job_ids=[], options={}, run_id=run.id)
        s.add(done)
        s.flush()
        s.add(going)
        s.flush()
        run.target_id = going.id
        ids = (done.id, going.id, run.id)
    items = client.get("/api/plans?limit=20", headers=tokens["planner"]).json["items"]
    assert [(p["id"], p["status"]) for p in items] == [(ids[1], "running"), (ids[0], "done")]
    assert items[0]["run_id"] == ids[2]
    run = client.get(f"/api/runs/{ids[2]}", headers=tokens["planner"]).json
    assert (run["status"], run["target_id"]) == ("running", ids[1])


def test_pages_have_the_reload_lists(app: Any, tokens: Any) -> None:
    client = app.test_client()
    html = client.get("/dispatcher", headers=tokens["dispatcher"]).get_data(as_text=True)
    for el in ('id="fault-list"', 'id="dispatch-list"', 'id="dispatch-progress"', "Recent faults"):
        assert el in html, el
    html = client.get("/planner", headers=tokens["planner"]).get_data(as_text=True)
    assert 'id="plan-choice"' in html and "Recent plans" in html and 'id="plan-progress"' in html
    zh = client.get("/dispatcher", headers={**tokens["dispatcher"], "Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "最近的故障" in zh
    # the page script gets the new labels in the page's language
    assert '"status_open": "处理中"' in zh or "\\u5904\\u7406\\u4e2d" in zh
