"""The outage workflow over the API (issue 13, item 3): planned -> reviewed -> approved (planner
lead) -> published (notices queued) -> executed, or cancelled; by role, audited, refused with a
reason, stale edits 409, publishing all or nothing; and the notices/compliance views (item 4).

The outage is job J1 on line L7 of the small ring (customers C1..C4 lose supply), planned with
the real clock three weeks ahead, so the 7-day notice deadline lies ahead of "now".
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select, text

from app.models import Notification, OutageTransition
from app.services import outage_workflow

JOB_DAY = (datetime.now(UTC) + timedelta(days=21)).replace(hour=7, minute=0, second=0, microsecond=0)
JOB = {"id": "J1", "equipment": ["L7"], "duration_min": 120, "earliest": JOB_DAY.isoformat(),
       "latest": (JOB_DAY + timedelta(days=3, hours=10)).isoformat()}


def post(client: Any, tokens: Any, oid: int, action: str, role: str, version: int, **body: Any) -> Any:
    return client.post(f"/api/outages/{oid}/{action}", json={"version": version, **body}, headers=tokens[role])


@pytest.fixture
def outage(client: Any, tokens: Any) -> dict[str, Any]:
    """The planned outage of J1 (API JSON), planned now."""
    assert client.post("/api/jobs", json=JOB, headers=tokens["planner"]).status_code == 201
    r = client.post("/api/plans", json={"now": datetime.now(UTC).isoformat()}, headers=tokens["planner"])
    plan = client.get(f"/api/plans/{r.json['plan']['id']}", headers=tokens["planner"]).json
    (o,) = plan["outages"]
    assert o["status"] == "planned" and o["customers"] == 4
    return client.get(f"/api/outages/{o['id']}/history", headers=tokens["planner"]).json


def customer_ids(client: Any, tokens: Any, oid: int) -> list[str]:
    """The outage's affected customers (the stored rows, in order)."""
    return [c["id"] for c in client.get(f"/api/outages/{oid}/customers", headers=tokens["planner"]).json["items"]]


def outbox(client: Any, tokens: Any, **filters: Any) -> Any:
    return client.get("/api/notifications", query_string=filters, headers=tokens["customer_service"]).json


def test_each_step_by_its_role_is_recorded_and_audited(client: Any, tokens: Any, outage: dict[str, Any]) -> None:
    oid, v = outage["id"], outage["version"]
    assert outage["history"] == [] and outage["actions"] == ["review", "cancel"] and not outage["notice_short"]
    assert post(client, tokens, oid, "review", "dispatcher", v).status_code == 403
    r = post(client, tokens, oid, "review", "planner", v, note="switching order checked")
    assert r.status_code == 200 and r.json["status"] == "reviewed"
    # a planner may not approve; the planner lead sees the step, the planner does not
    assert post(client, tokens, oid, "approve", "planner", r.json["version"]).status_code == 403
    assert client.get(f"/api/outages/{oid}/history", headers=tokens["planner"]).json["actions"] == ["reopen", "cancel"]
    assert client.get(f"/api/outages/{oid}/history", headers=tokens["planner_lead"]).json["actions"] == ["reopen", "approve", "cancel"]
    assert client.get(f"/api/outages/{oid}/history", headers=tokens["viewer"]).json["actions"] == []
    r = post(client, tokens, oid, "approve", "planner_lead", r.json["version"])
    assert r.status_code == 200 and r.json["status"] == "approved"
    assert outbox(client, tokens, outage_id=oid)["total"] == 0  # nothing announced before publishing
    r = post(client, tokens, oid, "publish", "planner", r.json["version"])
    assert r.status_code == 200 and r.json["status"] == "published"
    assert r.json["actions"] == ["execute", "cancel"]
    hist = r.json["history"]
    assert [(h["action"], h["from"], h["to"], h["by"]) for h in hist] == [
        ("review", "planned", "reviewed", "planner-user"), ("approve", "reviewed", "approved", "planner_lead-user"),
        ("publish", "approved", "published", "planner-user")]
    assert hist[0]["note"] == "switching order checked" and hist[2]["details"]["queued"] == 8
    assert all(datetime.fromisoformat(h["at"]).utcoffset() == timedelta(hours=1) for h in hist)  # the grid's zone
    # executing reuses /executed and is one more step in the history
    r = client.post(f"/api/outages/{oid}/executed", json={"actual_start": r.json["start"], "actual_end": r.json["end"],
                                                          "version": r.json["version"]}, headers=tokens["dispatcher"])
    assert r.status_code == 201, r.json
    done = client.get(f"/api/outages/{oid}/history", headers=tokens["viewer"]).json
    assert done["status"] == "done" and done["history"][-1]["action"] == "execute" and done["actions"] == []
    assert done["history"][-1]["by"] == "dispatcher-user"
    # the audit log holds each status change with its actor
    audit = client.get("/api/audit", query_string={"entity": "outages", "entity_id": str(oid)}, headers=tokens["admin"]).json
    changes = [(a["actor"], a["after"]["status"]) for a in audit["items"] if a["action"] == "update" and "status" in (a["after"] or {})]
    assert sorted(changes) == sorted([("planner-user", "reviewed"), ("planner_lead-user", "approved"),
                                      ("planner-user", "published"), ("dispatcher-user", "done")])


def test_refused_steps_change_nothing(client: Any, tokens: Any, outage: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    oid, v = outage["id"], outage["version"]
    r = post(client, tokens, oid, "publish", "planner", v)
    assert r.status_code == 409 and r.json["code"] == "transition_not_allowed"
    assert r.json["details"]["allowed_from"] == ["approved"]
    assert post(client, tokens, oid, "approve", "planner_lead", v).json["code"] == "transition_not_allowed"
    assert post(client, tokens, oid, "review", "planner", v, note="x" * 2001).status_code == 422
    assert client.post(f"/api/outages/{oid}/review", json={}, headers=tokens["planner"]).status_code == 422
    assert post(client, tokens, 999999, "review", "planner", 1).status_code == 404
    v = post(client, tokens, oid, "review", "planner", v).json["version"]
    # six days before the start the 7-day notice is already late: approving is refused, with why
    start = datetime.fromisoformat(outage["start"])
    monkeypatch.setattr("app.api.workflow.utc_now", lambda: start - timedelta(days=6))
    r = post(client, tokens, oid, "approve", "planner_lead", v)
    assert r.status_code == 422 and r.json["code"] == "notice_too_late"
    assert r.json["details"]["short_by_h"] == 24.0 and r.json["details"]["lead_days"] == 7
    assert datetime.fromisoformat(r.json["details"]["notice_deadline"]) == start - timedelta(days=7)
    h = client.get(f"/api/outages/{oid}/history", headers=tokens["planner"]).json
    assert h["status"] == "reviewed" and h["version"] == v and len(h["history"]) == 1 and h["notice_short"]
    # publishing is refused the same way (approved earlier, the lead ran out since)
    monkeypatch.setattr("app.api.workflow.utc_now", lambda: start - timedelta(days=8))
    v = post(client, tokens, oid, "approve", "planner_lead", v).json["version"]
    monkeypatch.setattr("app.api.workflow.utc_now", lambda: start - timedelta(days=7, minutes=-1))
    r = post(client, tokens, oid, "publish", "planner", v)
    assert r.status_code == 422 and r.json["code"] == "notice_too_late"
    assert outbox(client, tokens, outage_id=oid)["total"] == 0
    # sent back, then cancelled before anything was announced: nobody gets a cancellation
    v = post(client, tokens, oid, "reopen", "planner", v).json["version"]
    r = post(client, tokens, oid, "cancel", "planner", v, note="customer objection")
    assert r.status_code == 200 and r.json["status"] == "cancelled" and r.json["actions"] == []
    assert r.json["history"][-1]["details"] == {"cancelled": 0, "cancellations": 0}
    assert outbox(client, tokens, outage_id=oid)["total"] == 0
    assert post(client, tokens, oid, "review", "planner", r.json["version"]).json["code"] == "transition_not_allowed"


def test_a_stale_approval_is_a_clear_conflict(client: Any, tokens: Any, outage: dict[str, Any]) -> None:
    oid = outage["id"]
    seen = post(client, tokens, oid, "review", "planner", outage["version"]).json["version"]
    # two leads opened the reviewed outage; the first approves, the second's click is stale
    assert post(client, tokens, oid, "approve", "planner_lead", seen).status_code == 200
    r = post(client, tokens, oid, "approve", "admin", seen)
    assert r.status_code == 409 and r.json["code"] == "stale_version"
    assert "approve by planner_lead-user" in r.json["message"] and "reload" in r.json["message"]
    assert r.json["details"]["last_actor"] == "planner_lead-user" and r.json["details"]["status"] == "approved"
    assert r.json["details"]["current_version"] == seen + 1
    assert len(client.get(f"/api/outages/{oid}/history", headers=tokens["planner"]).json["history"]) == 2


def test_a_race_past_the_version_check_is_still_a_conflict(app: Any, client: Any, tokens: Any, outage: dict[str, Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Another step commits between this request's version check and its write: the row's version
    column (the UPDATE's WHERE version = ...) stops this one; nothing of it is kept."""
    oid = outage["id"]
    v = post(client, tokens, oid, "review", "planner", outage["version"]).json["version"]
    real = outage_workflow.check_fresh

    def then_another_commit(s: Any, o: Any, version: int, *, tz: Any) -> None:
        real(s, o, version, tz=tz)
        with app.extensions["db"].engine.begin() as c:
            c.execute(text("UPDATE outages SET version = version + 1 WHERE id = :id"), {"id": o.id})

    monkeypatch.setattr(outage_workflow, "check_fresh", then_another_commit)
    r = post(client, tokens, oid, "approve", "planner_lead", v)
    assert r.status_code == 409 and r.json["code"] == "stale_version", r.json
    monkeypatch.setattr(outage_workflow, "check_fresh", real)
    h = client.get(f"/api/outages/{oid}/history", headers=tokens["planner"]).json
    assert h["status"] == "reviewed" and h["version"] == v + 1 and [x["action"] for x in h["history"]] == ["review"]


def test_a_publish_failing_half_way_leaves_nothing_published(app: Any, client: Any, tokens: Any, outage: dict[str, Any],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    oid = outage["id"]
    v = post(client, tokens, oid, "review", "planner", outage["version"]).json["version"]
    v = post(client, tokens, oid, "approve", "planner_lead", v).json["version"]
    real = outage_workflow.queue_notices

    def queue_then_fail(*args: Any, **kwargs: Any) -> int:
        assert real(*args, **kwargs) == 8  # the messages are inserted (and the status set) ...
        raise RuntimeError("the database went away")  # ... then the transaction breaks

    monkeypatch.setattr(outage_workflow, "queue_notices", queue_then_fail)
    r = post(client, tokens, oid, "publish", "planner", v)
    assert r.status_code == 500 and r.json["code"] == "internal_error"
    monkeypatch.setattr(outage_workflow, "queue_notices", real)
    h = client.get(f"/api/outages/{oid}/history", headers=tokens["planner"]).json
    assert h["status"] == "approved" and h["version"] == v and [x["action"] for x in h["history"]] == ["review", "approve"]
    with app.app_context(), app.extensions["db"].session() as s:
        assert s.scalar(select(func.count()).select_from(Notification)) == 0
        assert s.scalar(select(func.count()).select_from(OutageTransition)) == 2
    # and the retry publishes with all its notices
    r = post(client, tokens, oid, "publish", "planner", v)
    assert r.status_code == 200 and outbox(client, tokens, outage_id=oid)["total"] == 8


def test_publish_queues_the_notices_at_their_due_times(client: Any, tokens: Any, outage: dict[str, Any], publish: Any) -> None:
    oid = outage["id"]
    publish(client, tokens, oid, now=datetime.now(UTC).isoformat())
    start = datetime.fromisoformat(outage["start"])
    items = outbox(client, tokens, outage_id=oid)["items"]
    assert {(n["customer_id"], n["kind"]) for n in items} == {(c, k) for c in customer_ids(client, tokens, oid) for k in ("notice", "sms")}
    assert {datetime.fromisoformat(n["due_at"]) for n in items if n["kind"] == "notice"} == {start - timedelta(days=7)}
    assert {datetime.fromisoformat(n["due_at"]) for n in items if n["kind"] == "sms"} == {start - timedelta(minutes=10)}
    assert all(n["group"] == "planned" and n["status"] == "pending" and n["text_zh"] for n in items)


def test_cancelling_a_published_outage_tells_those_already_notified(app: Any, client: Any, tokens: Any,
                                                                   outage: dict[str, Any], publish: Any) -> None:
    oid = outage["id"]
    v = publish(client, tokens, oid, now=datetime.now(UTC).isoformat())["version"]
    start = datetime.fromisoformat(outage["start"])
    ids = customer_ids(client, tokens, oid)
    # the 7-day notices go out, the SMS are not due yet
    sent = app.test_cli_runner().invoke(args=["notify", "send-due", "--now", (start - timedelta(days=6)).isoformat()])
    assert "sent 4, failed 0" in sent.output, sent.output
    with app.app_context(), app.extensions["db"].session() as s:  # the last customer's notice never reached it
        n = s.scalar(select(Notification).where(Notification.customer_id == ids[3], Notification.kind == "notice"))
        assert n is not None
        n.status = "failed"
    r = post(client, tokens, oid, "cancel", "planner", v, note="crew unavailable")
    assert r.status_code == 200 and r.json["history"][-1]["details"] == {"cancelled": 4, "cancellations": 3}
    msgs = outbox(client, tokens, outage_id=oid, limit=50)["items"]
    assert {n["status"] for n in msgs if n["kind"] == "sms"} == {"cancelled"}
    cancels = [n for n in msgs if n["kind"] == "cancel"]
    assert sorted(n["customer_id"] for n in cancels) == sorted(ids[:3])
    assert all(n["status"] == "pending" and "will not take place" in n["text_en"] and "已取消" in n["text_zh"] for n in cancels)
    assert all(datetime.fromisoformat(n["due_at"]) <= datetime.now(UTC) for n in cancels)  # due at once
    assert outbox(client, tokens, outage_id=oid, kind="cancel")["total"] == 3


def test_outbox_paging_filters_totals_and_export(client: Any, tokens: Any, outage: dict[str, Any], publish: Any) -> None:
    publish(client, tokens, outage["id"], now=datetime.now(UTC).isoformat())
    assert client.post("/api/faults", json={"section": "R2", "now": "2026-12-01T10:00:00+01:00"},
                       headers=tokens["dispatcher"]).status_code == 201
    every = outbox(client, tokens, limit=1000)
    planned, fault = outbox(client, tokens, group="planned"), outbox(client, tokens, group="fault")
    assert planned["total"] == 8 and fault["total"] > 0 and planned["total"] + fault["total"] == every["total"]
    assert every["totals"]["by_group"] == {"planned": 8, "fault": fault["total"], "crew": 0}
    assert sum(every["totals"]["by_status"].values()) == every["total"]
    assert every["totals"]["by_kind"]["notice"] == every["totals"]["by_kind"]["sms"] == 4
    assert {n["group"] for n in fault["items"]} == {"fault"} and {n["kind"] for n in fault["items"]} == {"fault"}
    # pages: the total counts every match, the pages cover them once in due order
    pages = [outbox(client, tokens, group="planned", limit=3, offset=k) for k in (0, 3, 6)]
    assert [len(p["items"]) for p in pages] == [3, 3, 2] and {p["total"] for p in pages} == {8}
    ids = [n["id"] for p in pages for n in p["items"]]
    assert ids == [n["id"] for n in planned["items"]] and len(set(ids)) == 8
    sms = outbox(client, tokens, outage_id=outage["id"], kind="sms", channel="sms", status="pending")
    assert sms["total"] == 4 and sms["totals"]["by_kind"] == {"sms": 4}
    assert outbox(client, tokens, channel="email")["total"] == 0
    assert outbox(client, tokens, customer_id=customer_ids(client, tokens, outage["id"])[1], group="planned")["total"] == 2
    # the export holds exactly the filtered rows (every page), phones for customer service only
    r = client.get("/api/notifications/export", query_string={"group": "planned", "kind": "sms"}, headers=tokens["customer_service"])
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(io.BytesIO(r.data), encoding="utf-8-sig", dtype=str)
    assert sorted(df["id"].astype(int)) == sorted(n["id"] for n in sms["items"]) and "phone" in df.columns
    assert "notifications-planned-outbox-" in r.headers["Content-Disposition"]
    r = client.get("/api/notifications/export?format=xlsx", headers=tokens["planner"])
    assert r.status_code == 200 and r.data[:2] == b"PK"
    r = client.get("/api/notifications/export?format=csv", headers=tokens["planner"])
    assert "phone" not in pd.read_csv(io.BytesIO(r.data), encoding="utf-8-sig").columns
    assert len(pd.read_csv(io.BytesIO(r.data), encoding="utf-8-sig")) == every["total"]
    assert client.get("/api/notifications?group=other", headers=tokens["planner"]).status_code == 422
    assert client.get("/api/notifications/export?format=pdf", headers=tokens["planner"]).status_code == 422
    assert client.get("/api/notifications/export", headers=tokens["viewer"]).status_code == 403
    # send due now: the fault's messages are due, the outage's are weeks away
    r = client.post("/api/notifications/send-due", headers=tokens["customer_service"])
    assert r.status_code == 200 and r.json == {"sent": fault["total"], "failed": 0}
    assert outbox(client, tokens, group="planned", status="pending")["total"] == 8


def test_notice_compliance(app: Any, client: Any, tokens: Any, outage: dict[str, Any], publish: Any,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    oid = outage["id"]
    h = tokens["customer_service"]
    assert client.get("/api/notifications/compliance", headers=h).json["outages"] == []  # nothing published yet
    publish(client, tokens, oid, now=datetime.now(UTC).isoformat())
    c = client.get("/api/notifications/compliance", headers=h).json
    deadline = datetime.fromisoformat(outage["start"]) - timedelta(days=7)
    (row,) = c["outages"]
    assert row["outage_id"] == oid and datetime.fromisoformat(row["notice_deadline"]) == deadline
    assert (row["customers"], row["on_time"], row["late"], row["pending"]) == (4, 0, 0, 4)
    assert c["totals"] == {"customers": 4, "on_time": 0, "late": 0, "pending": 4} and c["total"] == 4
    ids = customer_ids(client, tokens, oid)
    failed, slow = ids[1], ids[2]
    # sent now (before the deadline): on time; then one notice failed and one went out late
    sent = app.test_cli_runner().invoke(args=["notify", "send-due", "--now", deadline.isoformat()])
    assert "sent 4" in sent.output
    with app.app_context(), app.extensions["db"].session() as s:
        notes = {n.customer_id: n for n in s.scalars(select(Notification).where(Notification.kind == "notice"))}
        notes[failed].status, notes[failed].sent_at, notes[failed].last_error = "failed", None, "gateway 503"
        notes[slow].sent_at = deadline + timedelta(hours=5)
    c = client.get(f"/api/notifications/compliance?outage_id={oid}", headers=h).json
    assert c["totals"] == {"customers": 4, "on_time": 2, "late": 1, "pending": 1}
    assert {(f["customer_id"], f["verdict"], f["reason"]) for f in c["items"]} == {
        (failed, "pending", "send_failed"), (slow, "late", "sent_late")}
    # past the deadline the failed one is late too; paging and the verdict filter
    monkeypatch.setattr("app.api.notifications.utc_now", lambda: deadline + timedelta(minutes=1))
    c = client.get("/api/notifications/compliance?verdict=late", headers=h).json
    assert c["totals"]["late"] == 2 and c["total"] == 2
    assert {(f["customer_id"], f["reason"], f["last_error"]) for f in c["items"]} == {(failed, "send_failed", "gateway 503"),
                                                                                      (slow, "sent_late", None)}
    page = client.get("/api/notifications/compliance?verdict=late&limit=1&offset=1", headers=h).json
    assert page["total"] == 2 and [f["customer_id"] for f in page["items"]] == [c["items"][1]["customer_id"]]
    assert client.get("/api/notifications/compliance?verdict=on_time", headers=h).status_code == 422
    assert client.get("/api/notifications/compliance", headers=tokens["viewer"]).status_code == 403


def test_a_planner_lead_works_where_a_planner_does(client: Any, tokens: Any) -> None:
    """The lead's home is the planner page; it opens the planner's pages and no others."""
    h = tokens["planner_lead"]
    assert client.get("/planner", headers=h).status_code == 200
    assert client.get("/service", headers=h).status_code == 403
    assert client.get("/dispatcher", headers=h).status_code == 403
    r = client.get("/", headers=h)
    assert r.status_code == 302 and r.headers["Location"].endswith("/planner")
    assert client.post("/api/jobs", json={**JOB, "id": "LEAD-1"}, headers=h).status_code == 201
