"""Exactly-once writes under concurrency (issue 17): server job ids and Idempotency-Key.

The app is served by real WSGI servers on loopback: two in this process on SQLite, and on
PostgreSQL (``TEST_DATABASE_URL``) one here and one in a second process. Requests are
started together behind a barrier and alternate between the servers.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_server import serve_in_process, serve_in_thread, together  # noqa: E402

from app import create_app  # noqa: E402

BODY = {"equipment": ["R2"], "duration_min": 120, "earliest": "2026-12-01T08:00:00+01:00",
        "latest": "2026-12-04T18:00:00+01:00", "description": "replace RMU 2 switch"}


@pytest.fixture
def bases(app: Any, app_config: dict[str, Any], database_url: str) -> Iterator[list[str]]:
    """Base URLs of two servers of the same database."""
    with ExitStack() as stack:
        first = stack.enter_context(serve_in_thread(app))
        if database_url.startswith("postgresql"):
            second = stack.enter_context(serve_in_process(app_config))
        else:
            other = create_app(app_config, environ={})
            stack.callback(other.extensions["db"].engine.dispose)
            second = stack.enter_context(serve_in_thread(other))
        yield [first, second]


def test_concurrent_creates_without_id_get_distinct_ids(bases: list[str], tokens: Any) -> None:
    h = tokens["planner"]
    answers = together(20, lambda i: requests.post(f"{bases[i % 2]}/api/jobs", json=BODY, headers=h, timeout=60))
    assert [r.status_code for r in answers] == [201] * 20, [r.text for r in answers if r.status_code != 201]
    ids = {r.json()["id"] for r in answers}
    assert len(ids) == 20
    assert all(i.startswith("J") and i[1:].isdigit() for i in ids)
    listed = requests.get(f"{bases[0]}/api/jobs?limit=100", headers=h, timeout=30).json()
    assert listed["total"] == 20 and {j["id"] for j in listed["items"]} == ids


def test_same_key_at_once_creates_one_job_and_answers_alike(bases: list[str], tokens: Any) -> None:
    h = {**tokens["planner"], "Idempotency-Key": "same-key-1"}
    answers = together(10, lambda i: requests.post(f"{bases[i % 2]}/api/jobs", json=BODY, headers=h, timeout=60))
    assert [r.status_code for r in answers] == [201] * 10, [r.text for r in answers]
    assert len({r.text for r in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 9
    listed = requests.get(f"{bases[1]}/api/jobs", headers=tokens["viewer"], timeout=30).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == answers[0].json()["id"]
    # the key stays bound to its request: another body is refused, nothing is created
    other = requests.post(f"{bases[0]}/api/jobs", json={**BODY, "duration_min": 30}, headers=h, timeout=30)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert requests.get(f"{bases[0]}/api/jobs", headers=h, timeout=30).json()["total"] == 1


def test_a_failed_first_request_releases_its_key(client: Any, tokens: Any) -> None:
    h = {**tokens["planner"], "Idempotency-Key": "retry-me"}
    bad = {**BODY, "equipment": ["NOPE"]}
    assert client.post("/api/jobs", json=bad, headers=h).status_code == 404
    again = client.post("/api/jobs", json=bad, headers=h)
    assert again.status_code == 404 and "Idempotent-Replayed" not in again.headers
    # a key whose first request failed is free for that request once it succeeds
    fixed = {**tokens["planner"], "Idempotency-Key": "retry-me-2"}
    assert client.post("/api/jobs", json=BODY, headers=fixed).status_code == 201
    assert client.post("/api/jobs", json=BODY, headers=fixed).headers["Idempotent-Replayed"] == "true"


def test_a_duplicate_of_a_running_request_waits_then_gets_409(make_config: Any, tokens: Any) -> None:
    """While the first request holds the key, a duplicate waits IDEMPOTENCY_WAIT_S and is told
    to retry (409 with Retry-After) without running the work; a claim left by a dead process
    (older than STALE_CLAIM_S) is taken over."""
    from app.models import IdempotencyKey, utcnow
    from app.web import STALE_CLAIM_S

    short = create_app(make_config(IDEMPOTENCY_WAIT_S=0.3), environ={})
    c = short.test_client()
    h = {**tokens["planner"], "Idempotency-Key": "held", "Content-Type": "application/json"}
    raw = json.dumps(BODY).encode()
    user_key = "t:" + hashlib.sha256(h["Authorization"].encode()).hexdigest()[:32]
    digest = hashlib.sha256(b"\0".join([b"POST", b"/api/jobs?", raw])).hexdigest()
    db = short.extensions["db"]
    with db.session() as s:  # the claim of a first request that is still running
        s.add(IdempotencyKey(user_key=user_key, key="held", method="POST", path="/api/jobs",
                             request_hash=digest, status_code=0, body="", state="pending"))
    started = time.monotonic()
    r = c.post("/api/jobs", data=raw, headers=h)
    assert r.status_code == 409 and r.json["code"] == "idempotency_key_in_flight", r.json
    assert r.headers["Retry-After"] == "1" and time.monotonic() - started >= 0.3
    assert c.get("/api/jobs", headers=tokens["viewer"]).json["total"] == 0
    with db.session() as s:
        row = s.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "held"))
        row.created_at = utcnow() - timedelta(seconds=STALE_CLAIM_S + 1)
    r = c.post("/api/jobs", data=raw, headers=h)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert c.post("/api/jobs", data=raw, headers=h).headers["Idempotent-Replayed"] == "true"
    db.engine.dispose()
