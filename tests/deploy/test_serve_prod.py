"""``make serve-prod`` end to end: two app processes and two RQ workers on PostgreSQL and Redis.

Starts ``scripts/serve_prod.py`` on free loopback ports with the small ring grid, logs
in on app process 1 through the login form, submits a plan run there, reads the run
and the plan from app process 2 (so the session, the database and the queue are shared
and a worker, not the app, executed it), then stops everything and checks the ports are
closed. Skips when the local PostgreSQL or Redis is not reachable; bounded in time.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMALL_RING = ROOT / "tests" / "data" / "small_ring"
PG_URL = os.environ.get("TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/15"
JOB = {"id": "J1", "equipment": ["L7"], "duration_min": 60, "earliest": "2026-12-01T08:00:00+01:00",
       "latest": "2026-12-04T18:00:00+01:00"}
PASSWORD = "smoke-test-password"
START_TIMEOUT_S = 90.0
RUN_TIMEOUT_S = 60.0

pytestmark = pytest.mark.slow


def _reachable_or_skip() -> None:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    engine = create_engine(PG_URL, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
    except OperationalError:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    finally:
        engine.dispose()
    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except RedisConnectionError:
        pytest.skip(f"Redis not reachable at {REDIS_URL}")


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    from sqlalchemy import create_engine, text

    _reachable_or_skip()
    schema = f"serve_prod_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_URL)
    with engine.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with engine.begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def free_port_pair() -> int:
    """A port p such that p and p + 1 are both free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65535 and not listening(port) and not listening(port + 1) and bindable(port + 1):
            return port
    raise AssertionError("no two consecutive free ports")


def bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_line(log: Path, proc: subprocess.Popen[bytes], pattern: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = re.search(pattern, text)
        if found:
            return found.group(0)
        if proc.poll() is not None:
            raise AssertionError(f"serve_prod exited with {proc.returncode}:\n{text[-3000:]}")
        time.sleep(0.3)
    raise AssertionError(f"no {pattern!r} within {timeout_s} s:\n{log.read_text(errors='replace')[-3000:]}")


def forget_queue(queue: str) -> None:
    """Delete the smoke test's RQ keys (queue, registries) from the test Redis database."""
    from redis import Redis

    redis = Redis.from_url(REDIS_URL)
    for key in redis.scan_iter(f"*{queue}*"):
        redis.delete(key)
    redis.close()


def login(session: Any, base: str) -> str:
    """Log in through the form; returns the CSRF token for the cookie-authenticated API calls."""
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = session.post(f"{base}/login", data={"username": "smoke", "password": PASSWORD, "csrf_token": token},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[:500]
    return token


def test_two_apps_two_workers_share_session_database_and_queue(pg_schema_url: str, tmp_path: Path) -> None:
    import requests

    started = time.monotonic()
    port = free_port_pair()
    queue = f"outage-smoke-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, OUTAGE_INSTANCE_PATH=str(tmp_path / "instance"), OUTAGE_GRID_PATH=str(SMALL_RING),
               OUTAGE_LOAD_ROADS="false", OUTAGE_GENERATORS_PATH="", OUTAGE_RQ_QUEUE=queue,
               OUTAGE_PLANNING_NOW="2026-11-20T09:00:00+01:00",  # the job's December window lies ahead
               DATABASE_URL=pg_schema_url, REDIS_URL=REDIS_URL)
    log = tmp_path / "serve_prod.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "serve_prod.py"), "--port", str(port),
                                 "--no-seed", "--database-url", pg_schema_url, "--redis-url", REDIS_URL],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    app1, app2 = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    try:
        ready = wait_for_line(log, proc, r"ready: .*", START_TIMEOUT_S)
        assert app1 in ready and app2 in ready and "2 RQ workers" in ready
        created = subprocess.run([sys.executable, "-m", "app.console", "users", "create", "smoke", "--role", "planner",
                                  "--password", PASSWORD], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert created.returncode == 0, created.stderr

        session = requests.Session()
        for base in (app1, app2):
            assert session.get(f"{base}/healthz", timeout=10).json()["runner"] == "rq"
        csrf = {"X-CSRFToken": login(session, app1)}
        assert session.post(f"{app1}/api/jobs", json=JOB, headers=csrf, timeout=10).status_code == 201
        r = session.post(f"{app1}/api/plans", json={"now": "2026-11-20T09:00:00+01:00"}, headers=csrf, timeout=30)
        assert r.status_code == 202, r.text[:500]
        run_id = r.json()["run"]["id"]

        deadline = time.monotonic() + RUN_TIMEOUT_S
        run = session.get(f"{app2}/api/runs/{run_id}", timeout=10).json()  # app 2 trusts app 1's session
        while run["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.3)
            run = session.get(f"{app2}/api/runs/{run_id}", timeout=10).json()
        assert run["status"] == "done", run
        plan = session.get(f"{app2}/api/plans/{run['target_id']}", timeout=10).json()
        assert plan["status"] == "done"
        assert [o["jobs"] for o in plan["outages"]] == [["J1"]]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        finally:
            forget_queue(queue)
    assert proc.returncode == 0, log.read_text(errors="replace")[-3000:]
    assert not listening(port) and not listening(port + 1)
    assert time.monotonic() - started < 120
