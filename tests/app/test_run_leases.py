"""Run leases: owners heartbeat, ``reap`` fails only runs whose owner is gone, ``recover``
only the runs earlier processes of this host left, RQ runs follow RQ's own job status."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app import create_app, runs
from app.config import ConfigError
from app.models import Plan, Run

HEARTBEAT_S = 0.05
LEASE_S = 0.4
HOST = socket.gethostname()[:255]


@pytest.fixture
def make_app(make_config: Any) -> Any:
    """``make_app(**config)``: an app on the test database with a tiny heartbeat and lease."""
    apps: list[Any] = []

    def build(**extra: Any) -> Any:
        app = create_app(make_config(RUN_HEARTBEAT_S=HEARTBEAT_S, RUN_LEASE_S=LEASE_S, **extra), environ={})
        apps.append(app)
        return app

    yield build
    for app in apps:
        executor = app.extensions.get("run_executor")
        if executor is not None:
            executor.shutdown(wait=True)
        app.extensions["db"].engine.dispose()


def add_run(app: Any, **values: Any) -> str:
    with app.extensions["db"].session(actor="test") as s:
        run = Run(kind="plan", **values)
        s.add(run)
        s.flush()
        return run.id


def row(app: Any, run_id: str) -> Run:
    with app.extensions["db"].sessionmaker() as s:
        run = s.get(Run, run_id)
        assert run is not None
        s.expunge(run)
        return run


def wait_for(predicate: Any, *, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def dead_pid() -> int:
    """The id of a process that has exited (and been waited for)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_reaping_from_one_app_leaves_the_live_run_of_another(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    owner_app, reaper_app = make_app(RUNNER="thread"), make_app()
    release = threading.Event()
    monkeypatch.setattr(runs, "_handlers", lambda: {"plan": lambda app, target, progress: release.wait(10)})
    run_id = add_run(owner_app)
    with owner_app.app_context():
        runs.submit(owner_app, row(owner_app, run_id))
    wait_for(lambda: row(owner_app, run_id).status == "running")
    first = row(owner_app, run_id)
    owner = owner_app.extensions["run_owner"]
    assert (first.runner, first.owner_token, first.owner_host, first.owner_pid) == ("thread", owner.token, HOST, os.getpid())
    time.sleep(3 * LEASE_S)  # three leases without progress: only the heartbeat keeps it alive
    beaten = row(owner_app, run_id)
    assert beaten.heartbeat_at is not None and first.heartbeat_at is not None
    assert beaten.heartbeat_at > first.heartbeat_at + timedelta(seconds=2 * LEASE_S)
    report = runs.reap(reaper_app)
    assert run_id not in report.failed and report.left == 1
    assert row(owner_app, run_id).status == "running"
    release.set()
    wait_for(lambda: row(owner_app, run_id).status == "done")
    wait_for(lambda: owner._thread is None)  # the heartbeat thread ends once nothing is held


def test_a_stale_heartbeat_is_reaped_with_the_reason_and_its_plan_fails(make_app: Any) -> None:
    app = make_app()
    beat = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    elsewhere = {"runner": "thread", "owner_host": "elsewhere.example", "owner_pid": 4321, "status": "running"}
    stale = add_run(app, owner_token="a" * 32, heartbeat_at=beat, **elsewhere)
    fresh = add_run(app, owner_token="b" * 32, heartbeat_at=beat + timedelta(seconds=1), **elsewhere)
    with app.extensions["db"].session(actor="test") as s:
        plan = Plan(now=beat, job_ids=[], run_id=stale, status="running")
        s.add(plan)
        s.flush()
        plan_id = plan.id
        s.get(Run, stale).target_id = plan_id  # type: ignore[union-attr]
    report = runs.reap(app, now=beat + timedelta(seconds=LEASE_S + 0.5))
    assert list(report.failed) == [stale] and report.left == 1
    failed = row(app, stale)
    assert failed.status == "failed" and failed.finished_at is not None
    assert failed.error is not None and failed.error["code"] == "interrupted"
    for part in ("stopped heartbeating", "process 4321 on elsewhere.example", "2026-12-01T09:00:00", f"lease {LEASE_S:g} s"):
        assert part in failed.error["message"], failed.error
    assert row(app, fresh).status == "running"
    with app.extensions["db"].sessionmaker() as s:
        assert s.get(Plan, plan_id).status == "failed"  # type: ignore[union-attr]


def test_a_run_that_beats_while_being_judged_is_left(make_app: Any) -> None:
    app = make_app()
    beat = datetime.now(UTC) - timedelta(seconds=60)
    run_id = add_run(app, runner="thread", owner_token="c" * 32, owner_host="elsewhere.example", owner_pid=1,
                     heartbeat_at=beat, status="running")
    judged = row(app, run_id)
    with app.extensions["db"].session(actor="test") as s:
        s.get(Run, run_id).heartbeat_at = datetime.now(UTC)  # type: ignore[union-attr]
    assert runs._fail_unless_changed(app, judged, "stale") is False
    assert row(app, run_id).status == "running"


def test_rows_from_before_leases_are_judged_by_their_age(make_app: Any) -> None:
    app = make_app()
    created = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    old = add_run(app, created_at=created)
    young = add_run(app, created_at=created + timedelta(seconds=5))
    report = runs.reap(app, now=created + timedelta(seconds=5 + LEASE_S / 2))
    assert list(report.failed) == [old] and "before run leases" in report.failed[old]
    assert row(app, young).status == "queued"


def test_startup_recovery_fails_only_this_hosts_exited_owners(make_app: Any) -> None:
    live_app, starting_app = make_app(), make_app()
    now = datetime.now(UTC)
    here = {"runner": "thread", "owner_host": HOST, "heartbeat_at": now, "status": "running"}
    exited = add_run(live_app, owner_token="d" * 32, owner_pid=dead_pid(), **here)
    same_pid_before = add_run(live_app, owner_token="e" * 32, owner_pid=os.getpid(), **here)  # a restarted container
    live = add_run(live_app, **(here | live_app.extensions["run_owner"].identity()))
    other_host = add_run(live_app, runner="thread", owner_token="f" * 32, owner_host="elsewhere.example", owner_pid=7,
                         heartbeat_at=now - timedelta(hours=1), status="running")
    waiting_in_redis = add_run(live_app, runner="rq")
    legacy = add_run(live_app)
    report = runs.recover(starting_app)
    assert set(report.failed) == {exited, same_pid_before, legacy}, report
    assert "has exited" in report.failed[exited] and "has exited" in report.failed[same_pid_before]
    for left in (live, other_host, waiting_in_redis):
        assert row(live_app, left).status in ("queued", "running")
    # the full reap fails the other host's stale run, and still neither the live run nor the queued RQ run
    assert set(runs.reap(starting_app).failed) == {other_host}
    assert row(live_app, live).status == "running" and row(live_app, waiting_in_redis).status == "queued"


def test_a_reaped_run_is_not_started_late(make_app: Any) -> None:
    app = make_app()
    run_id = add_run(app, status="failed", message="failed: its RQ job is missing from Redis")
    runs.execute(app, run_id)
    after = row(app, run_id)
    assert after.status == "failed" and after.started_at is None and after.message.startswith("failed:")


def test_the_lease_must_outlast_two_heartbeats(make_config: Any) -> None:
    with pytest.raises(ConfigError, match="RUN_LEASE_S must be at least twice RUN_HEARTBEAT_S"):
        create_app(make_config(RUN_HEARTBEAT_S=10, RUN_LEASE_S=15), environ={})
    with pytest.raises(ConfigError, match="RUN_HEARTBEAT_S must be a positive number"):
        create_app(make_config(RUN_HEARTBEAT_S=0), environ={})


@pytest.mark.filterwarnings("ignore::DeprecationWarning:rq.*")
def test_rq_runs_follow_their_job_status(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from rq import SimpleWorker
    from rq.job import Job
    from test_notify_runs import redis_url

    url = redis_url()
    app = make_app(REDIS_URL=url, RUNNER="rq", RQ_QUEUE=f"outage-lease-test-{time.time_ns()}")
    queue = app.extensions["rq_queue"]
    try:
        waiting, cancelled, lost = (add_run(app) for _ in range(3))
        with app.app_context():
            for run_id in (waiting, cancelled, lost):
                runs.submit(app, row(app, run_id))
        assert set(queue.job_ids) == {waiting, cancelled, lost}  # the job id is the run id
        later = datetime.now(UTC) + timedelta(hours=1)  # far past any lease: only RQ's word counts
        assert runs.reap(app, now=later).failed == {}
        Job.fetch(cancelled, connection=queue.connection).cancel()
        Job.fetch(lost, connection=queue.connection).delete()
        report = runs.reap(app, now=later)
        assert report.rq_checked and report.left == 1
        assert report.failed == {cancelled: "its RQ job is canceled", lost: "its RQ job is missing from Redis"}
        assert row(app, waiting).status == "queued"
        assert row(app, lost).error["message"] == "the run was abandoned: its RQ job is missing from Redis"  # type: ignore[index]
        monkeypatch.setattr(runs, "_handlers", lambda: {"plan": lambda app, target, progress: progress(0.5, "half")})
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        done = row(app, waiting)  # the worker's own app took the run: its owner, not the submitting app
        assert (done.status, done.runner, done.owner_host, done.owner_pid) == ("done", "rq", HOST, os.getpid())
        assert done.owner_token not in (None, app.extensions["run_owner"].token) and done.heartbeat_at is not None
    finally:
        queue.delete(delete_jobs=True)


def test_migration_0005_keeps_existing_runs(tmp_path: Path) -> None:
    check_0005_keeps_runs(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
def test_postgres_migration_0005_keeps_existing_runs() -> None:
    from test_migrations import fresh_postgres_schema

    with fresh_postgres_schema() as url:
        check_0005_keeps_runs(url)


def check_0005_keeps_runs(url: str) -> None:
    from alembic import command

    from app.cli import alembic_config, upgrade

    upgrade(url, "0004")
    engine = create_engine(url)
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO runs (id, kind, status, progress, message, created_at) "
                           "VALUES ('old', 'plan', 'running', 0.5, 'halfway', '2026-12-01 09:00:00')"))
        upgrade(url)
        with engine.connect() as c:
            got = c.execute(text("SELECT status, progress, message, runner, owner_token, heartbeat_at FROM runs")).all()
        assert [tuple(r) for r in got] == [("running", 0.5, "halfway", None, None, None)]
        command.downgrade(alembic_config(url), "0004")
        with engine.connect() as c:
            assert [tuple(r) for r in c.execute(text("SELECT id, status, message FROM runs"))] == [("old", "running", "halfway")]
        upgrade(url)
    finally:
        engine.dispose()
