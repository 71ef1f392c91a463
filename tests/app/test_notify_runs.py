"""Outbox senders and `flask notify send-due`; background runners (thread, RQ on Redis)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.models import Notification
from app.notify import WebhookSender, make_sender, send_due

FAULT = {"section": "R2", "now": "2026-12-01T10:00:00+01:00"}


def outbox_lines(app: Any) -> list[dict[str, Any]]:
    path = Path(app.config["NOTIFY_FILE"])
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_send_due_cli_is_idempotent(app: Any, client: Any, tokens: Any) -> None:
    client.post("/api/faults", json=FAULT, headers=tokens["dispatcher"])
    total = client.get("/api/notifications?status=pending", headers=tokens["customer_service"]).json["total"]
    assert total > 0
    runner = app.test_cli_runner()
    before = runner.invoke(args=["notify", "send-due", "--now", "2026-12-01T08:00:00+01:00"])
    assert before.exit_code == 0 and "sent 0" in before.output  # nothing due before the fault
    first = runner.invoke(args=["notify", "send-due", "--now", "2026-12-02T00:00:00+01:00"])
    assert first.exit_code == 0, first.output
    assert f"sent {total}, failed 0" in first.output
    second = runner.invoke(args=["notify", "send-due", "--now", "2026-12-02T00:00:00+01:00"])
    assert "sent 0, failed 0" in second.output
    lines = outbox_lines(app)
    assert len(lines) == total and len({m["id"] for m in lines}) == total
    assert all(m["phone"] == "+377 9300 0000" and m["text_zh"] for m in lines)
    assert client.get("/api/notifications?status=sent", headers=tokens["customer_service"]).json["total"] == total
    bad = runner.invoke(args=["notify", "send-due", "--now", "tomorrow"])
    assert bad.exit_code != 0


def test_mark_sent_by_hand(client: Any, tokens: Any) -> None:
    client.post("/api/faults", json=FAULT, headers=tokens["dispatcher"])
    nid = client.get("/api/notifications", headers=tokens["customer_service"]).json["items"][0]["id"]
    r1 = client.post(f"/api/notifications/{nid}/sent", headers=tokens["customer_service"])
    r2 = client.post(f"/api/notifications/{nid}/sent", headers=tokens["customer_service"])
    assert r1.status_code == r2.status_code == 200
    assert r1.json["status"] == "sent" and r1.json["sent_at"] == r2.json["sent_at"]
    assert client.post("/api/notifications/9999/sent", headers=tokens["customer_service"]).status_code == 404
    assert client.get("/api/notifications?status=nope", headers=tokens["customer_service"]).status_code == 422
    # phones are for customer service / admin only
    assert "phone" not in client.get("/api/notifications", headers=tokens["dispatcher"]).json["items"][0]


def test_webhook_sender_posts_json_and_records_failures(app: Any, client: Any, tokens: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    client.post("/api/faults", json=FAULT, headers=tokens["dispatcher"])
    calls: list[dict[str, Any]] = []

    class Resp:
        def __init__(self, ok: bool) -> None:
            self.ok = ok

        def raise_for_status(self) -> None:
            if not self.ok:
                raise requests.HTTPError("502 from gateway")

    def fake_post(url: str, *, json: Any, timeout: float, headers: dict[str, str]) -> Resp:
        calls.append({"url": url, "json": json, "headers": headers})
        return Resp(ok=len(calls) != 2)  # the second message fails

    monkeypatch.setattr(requests, "post", fake_post)
    sender = make_sender({**app.config, "NOTIFY_SENDER": "webhook", "NOTIFY_WEBHOOK_URL": "http://sms.invalid/send"})
    assert isinstance(sender, WebhookSender)
    from datetime import datetime

    counts = send_due(app.extensions["db"], sender, now=datetime.fromisoformat("2026-12-02T00:00:00+01:00"))
    assert counts["failed"] == 1 and counts["sent"] == len(calls) - 1
    assert calls[0]["url"] == "http://sms.invalid/send"
    assert calls[0]["headers"]["Idempotency-Key"] == f"notification-{calls[0]['json']['id']}"
    with app.extensions["db"].session() as s:
        failed = s.query(Notification).filter_by(status="failed").one()
        assert "502" in failed.last_error


def wait_run(client: Any, headers: dict[str, str], run_id: str, timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}", headers=headers).json
        if run["status"] in ("done", "failed"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


JOB = {"id": "J1", "equipment": ["L7"], "duration_min": 60, "earliest": "2026-12-01T08:00:00+01:00",
       "latest": "2026-12-04T18:00:00+01:00"}


def test_thread_runner(make_config: Any, make_tokens: Any) -> None:
    app = create_app(make_config(RUNNER="thread"), environ={})
    tokens = make_tokens(app)
    client = app.test_client()
    client.post("/api/jobs", json=JOB, headers=tokens["planner"])
    r = client.post("/api/plans", json={"now": "2026-11-20T09:00:00+01:00"}, headers=tokens["planner"])
    assert r.status_code == 202 and r.json["run"]["status"] in ("queued", "running", "done")
    run = wait_run(client, tokens["planner"], r.json["run"]["id"])
    assert run["status"] == "done", run
    assert client.get(f"/api/plans/{run['target_id']}", headers=tokens["planner"]).json["outages"]
    app.extensions["run_executor"].shutdown(wait=True)
    app.extensions["db"].engine.dispose()


def redis_url() -> str:
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


@pytest.mark.filterwarnings("ignore::DeprecationWarning:rq.*")
def test_rq_runner_against_local_redis(make_config: Any, make_tokens: Any) -> None:
    from redis import Redis
    from rq import SimpleWorker

    url = redis_url()
    queue_name = f"outage-test-{time.time_ns()}"
    app = create_app(make_config(REDIS_URL=url, RUNNER="rq", RQ_QUEUE=queue_name), environ={})
    tokens = make_tokens(app)
    client = app.test_client()
    client.post("/api/jobs", json=JOB, headers=tokens["planner"])
    r = client.post("/api/plans", json={"now": "2026-11-20T09:00:00+01:00"}, headers=tokens["planner"])
    assert r.status_code == 202
    run_id = r.json["run"]["id"]
    assert client.get(f"/api/runs/{run_id}", headers=tokens["planner"]).json["status"] == "queued"
    queue = app.extensions["rq_queue"]
    assert queue.count == 1
    SimpleWorker([queue], connection=Redis.from_url(url)).work(burst=True)
    run = client.get(f"/api/runs/{run_id}", headers=tokens["planner"]).json
    assert run["status"] == "done", run
    assert client.get(f"/api/plans/{run['target_id']}", headers=tokens["planner"]).json["status"] == "done"
    queue.delete(delete_jobs=True)
    app.extensions["db"].engine.dispose()
