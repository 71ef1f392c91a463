"""Background runs (planning, routing) with progress stored in the ``runs`` table.

Runners, chosen by ``RUNNER``:

* ``thread`` (default): an in-process single-worker thread pool; fine for one
  waitress process. A run survives a page reload (it is a database row), not a
  process restart.
* ``rq``: jobs on Redis (``REDIS_URL``) executed by ``rq worker outage`` processes,
  which build their own app from the same configuration (:func:`rq_execute`). The RQ
  job id is the run id.
* ``sync``: executes inside the request (tests, CLI).

Leases: the process that holds a run (the app process for ``thread``/``sync`` from
submission on, the RQ worker from the moment it starts the job) writes its identity
(:class:`RunOwner`: host, process id, a random token per app) on the row and renews
``heartbeat_at`` every ``RUN_HEARTBEAT_S`` seconds while it holds any run. :func:`reap`
fails an unfinished run only when its owner is gone: no heartbeat for ``RUN_LEASE_S``,
or (same host) its process no longer exists, or its RQ job is gone or ended. A run still
waiting in Redis stays queued. :func:`recover` is the start-up form: the runs earlier
processes of this host left behind.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import Flask
from sqlalchemy import or_, select, update

from app.models import Run
from gis.errors import OutageError

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

# The worker-side settings an RQ job carries so the worker talks to the same database/grid.
CARRIED_KEYS = ("DATABASE_URL", "GRID_PATH", "ROADS_PATH", "LOAD_ROADS", "INSTANCE_PATH", "SECRET_KEY",
                "PLAN_TIME_LIMIT_S", "NOTICE_LEAD_DAYS", "ROUTING_TIME_LIMIT_S", "ROUTING_OBJECTIVE", "RUN_HEARTBEAT_S", "RUN_LEASE_S")

UNFINISHED = ("queued", "running")
#: The owner tokens of the apps of this process (identity, not data: see :func:`_owner_alive`).
_PROCESS_TOKENS: set[str] = set()
#: RQ job states in which the job is still waiting for a worker.
RQ_WAITING = ("created", "queued", "deferred", "scheduled", "rate_limited", "ready_to_enqueue")
#: RQ job states after which no worker will execute it any more ("missing": not in Redis).
RQ_ENDED = ("finished", "failed", "stopped", "canceled", "missing")


def _handlers() -> dict[str, Callable[..., None]]:
    from app.services import planning, routing

    return {"plan": planning.execute_plan, "dispatch": routing.execute_dispatch}


@dataclass
class RunOwner:
    """This app (one per process in production) as the owner of the runs it holds.

    ``hold`` starts a daemon heartbeat thread that renews ``heartbeat_at`` of every
    unfinished run carrying this owner's token every ``heartbeat_s`` seconds; it ends by
    itself once nothing is held, so an idle process runs no thread.
    """

    sessionmaker: Any
    heartbeat_s: float
    host: str = field(default_factory=socket.gethostname)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    pid: int = field(default_factory=os.getpid)
    _held: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        _PROCESS_TOKENS.add(self.token)

    def identity(self) -> dict[str, Any]:
        """The row values naming this owner (a forked child becomes an owner of its own)."""
        if os.getpid() != self.pid:
            self.pid, self.token, self._held, self._thread = os.getpid(), secrets.token_hex(16), set(), None
            self._lock, self._wake = threading.Lock(), threading.Event()
            _PROCESS_TOKENS.add(self.token)
        return {"owner_token": self.token, "owner_host": self.host[:255], "owner_pid": self.pid}

    def hold(self, run_id: str) -> None:
        """Keep beating for ``run_id`` until :meth:`release`."""
        with self._lock:
            self._held.add(run_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat_while_holding, name="outage-run-heartbeat", daemon=True)
                self._thread.start()

    def release(self, run_id: str) -> None:
        with self._lock:
            self._held.discard(run_id)
        self._wake.set()

    def beat(self) -> int:
        """Renew the lease of this owner's unfinished runs now; returns how many rows."""
        with self.sessionmaker() as s, s.begin():
            res = s.execute(update(Run).where(Run.owner_token == self.token, Run.status.in_(UNFINISHED))
                            .values(heartbeat_at=datetime.now(UTC)))
        return int(getattr(res, "rowcount", 0) or 0)

    def _beat_while_holding(self) -> None:
        while True:
            with self._lock:
                if not self._held:
                    self._thread = None
                    return
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a lost beat is retried; the lease allows several
                log.exception("run heartbeat failed")
            self._wake.wait(self.heartbeat_s)
            self._wake.clear()


def init_app(app: Flask) -> None:
    app.extensions["run_owner"] = RunOwner(app.extensions["db"].sessionmaker, float(app.config["RUN_HEARTBEAT_S"]))
    if app.config["RUNNER"] == "thread":
        app.extensions["run_executor"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outage-run")
    if app.config["RUNNER"] == "rq":
        from redis import Redis
        from rq import Queue

        app.extensions["rq_queue"] = Queue(app.config["RQ_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]))


def submit(app: Flask, run: Run) -> None:
    """Start ``run`` (already committed) with the configured runner.

    ``thread``/``sync``: this app owns the run from now on (it waits in this process).
    ``rq``: nobody owns it until a worker starts the job, whose id is the run id.
    """
    runner = app.config["RUNNER"]
    if runner == "rq":
        _set(app, run.id, runner="rq")
        carried = {k: app.config.get(k) for k in CARRIED_KEYS}
        app.extensions["rq_queue"].enqueue(
            "app.runs.rq_execute", run.id, json.dumps(carried, default=str), job_id=run.id, job_timeout=3600,
            result_ttl=3600, failure_ttl=7 * 86400,
        )
        return
    owner: RunOwner = app.extensions["run_owner"]
    _set(app, run.id, runner=runner, heartbeat_at=datetime.now(UTC), **owner.identity())
    owner.hold(run.id)
    if runner == "sync":
        execute(app, run.id)
    else:
        app.extensions["run_executor"].submit(execute, app, run.id)


def _set(app: Flask, run_id: str, **values: Any) -> None:
    db = app.extensions["db"]
    with db.sessionmaker() as s, s.begin():
        s.execute(update(Run).where(Run.id == run_id).values(**values))


def _claim(app: Flask, run_id: str, owner: RunOwner) -> tuple[str, int | None] | None:
    """Take a queued run (queued -> running, owned by ``owner``); None when it is not queued any more."""
    db = app.extensions["db"]
    now = datetime.now(UTC)
    with db.sessionmaker() as s, s.begin():
        res = s.execute(update(Run).where(Run.id == run_id, Run.status == "queued")
                        .values(status="running", started_at=now, heartbeat_at=now, progress=0.0, message="started",
                                **owner.identity()))
        if not getattr(res, "rowcount", 0):
            run = s.get(Run, run_id)
            log.warning("run %s not started: %s", run_id, "it does not exist" if run is None else f"it is {run.status}")
            return None
        run = s.get(Run, run_id)
        assert run is not None
        return run.kind, run.target_id


def execute(app: Flask, run_id: str) -> None:
    """Execute one run to completion; never raises (the outcome is in the row).

    Only a ``queued`` run is executed, so a run reaped as failed while it waited is not
    started late. Its owner beats for it until it ends.
    """
    owner: RunOwner = app.extensions["run_owner"]
    with app.app_context():
        try:
            claimed = _claim(app, run_id, owner)
            if claimed is not None:
                owner.hold(run_id)
                _execute_claimed(app, run_id, *claimed)
        finally:
            owner.release(run_id)


def _execute_claimed(app: Flask, run_id: str, kind: str, target: int | None) -> None:
    def progress(fraction: float, message: str) -> None:
        _set(app, run_id, progress=max(0.0, min(1.0, float(fraction))), message=message[:500],
             heartbeat_at=datetime.now(UTC))

    try:
        _handlers()[kind](app, target, progress=progress)
    except OutageError as exc:
        log.info("run %s failed: %s", run_id, exc)
        _set(app, run_id, status="failed", error=exc.to_dict(), finished_at=datetime.now(UTC), message=exc.message[:500])
        _fail_target(app, kind, target)
        return
    except Exception:  # noqa: BLE001 - a run must end in a stored state
        log.exception("run %s crashed", run_id)
        _set(app, run_id, status="failed", finished_at=datetime.now(UTC), message="internal error",
             error={"code": "internal_error", "message": "internal error; it has been logged", "details": None})
        _fail_target(app, kind, target)
        return
    _set(app, run_id, status="done", progress=1.0, finished_at=datetime.now(UTC), message="done")


def _fail_target(app: Flask, kind: str, target: int | None, *, only_unfinished: bool = False) -> None:
    """Mark the plan or dispatch a failed run was filling as failed (with ``only_unfinished``:
    only when it is still queued or running)."""
    from app.models import Dispatch, Plan

    model = {"plan": Plan, "dispatch": Dispatch}.get(kind)
    if model is None or target is None:
        return
    db = app.extensions["db"]
    with db.session(actor="system") as s:
        row = s.get(model, target)
        if row is not None and (not only_unfinished or row.status in UNFINISHED):
            row.status = "failed"


@lru_cache(maxsize=4)
def _worker_app(carried_json: str) -> Flask:
    """One app per configuration in an RQ worker process (the grid loads once per worker)."""
    from app import create_app

    cfg = {k: v for k, v in json.loads(carried_json).items() if v is not None}
    cfg["RUNNER"] = "sync"
    cfg["REDIS_URL"] = None
    return create_app(cfg)


def rq_execute(run_id: str, carried_json: str) -> None:
    """RQ entry point (``rq worker outage`` imports this by name)."""
    execute(_worker_app(carried_json), run_id)


@dataclass(frozen=True)
class ReapReport:
    """What :func:`reap` / :func:`recover` did: the runs failed (id -> reason) and how many were left."""

    failed: dict[str, str]
    left: int
    rq_checked: bool


@dataclass(frozen=True)
class _Judge:
    now: datetime
    lease: timedelta
    host: str
    rq_status: Callable[[str], str] | None  # RQ job id -> status ("missing" when gone); None: Redis not consulted

    def fresh(self, at: datetime | None) -> bool:
        return at is not None and self.now - at <= self.lease

    def owner_reason(self, run: Run) -> str | None:
        """Why the process holding ``run`` is gone, or None while it is alive."""
        who = f"process {run.owner_pid} on {run.owner_host}"
        if run.owner_host == self.host and not _owner_alive(run.owner_pid, run.owner_token):
            return f"its owner ({who}) has exited"
        if self.fresh(run.heartbeat_at):
            return None
        last = run.heartbeat_at.isoformat(timespec="seconds") if run.heartbeat_at else "never"
        return f"its owner ({who}) stopped heartbeating (last beat {last}, lease {self.lease.total_seconds():g} s)"

    def verdict(self, run: Run) -> str | None:
        """Why ``run`` is to be failed, or None to leave it (alive, or waiting for a worker)."""
        if run.owner_token is not None and run.runner != "rq":
            return self.owner_reason(run)
        if run.runner == "rq":
            return self.rq_verdict(run)
        started = run.started_at or run.created_at  # a row from before leases: only its age speaks
        if self.fresh(started):
            return None
        return (f"unfinished since {started.isoformat(timespec='seconds')}, recorded without an owner "
                f"(before run leases), older than the {self.lease.total_seconds():g} s lease")

    def rq_verdict(self, run: Run) -> str | None:
        if run.owner_token is not None and (reason := self.owner_reason(run)) is None:
            return None  # a worker holds it and beats
        if self.rq_status is None:  # Redis not configured or unreachable: only a worker's lapsed lease speaks
            return None if run.owner_token is None else self.owner_reason(run)
        status = self.rq_status(run.id)
        if status in RQ_ENDED:
            return f"its RQ job is {status}" + (" from Redis" if status == "missing" else "")
        if run.owner_token is None:
            return None  # waiting in the queue, or a worker is starting it
        return reason


def _owner_alive(pid: int | None, token: str | None) -> bool:
    """Whether the owner ``pid``/``token`` of this host still lives: its process exists, and when
    that is this very process (a restarted container reuses its pid), one of its apps has the token."""
    if pid is None or pid <= 0:
        return False
    if pid == os.getpid():
        return token in _PROCESS_TOKENS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rq_status_reader(app: Flask) -> Callable[[str], str] | None:
    """``job id -> RQ status`` on the configured Redis; None without REDIS_URL or when it does not answer."""
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    connection = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        connection.ping()
    except RedisError as exc:
        log.warning("reaping without RQ: Redis at REDIS_URL does not answer (%s); queued RQ runs are left", exc)
        return None

    def status(job_id: str) -> str:
        try:
            value = Job.fetch(job_id, connection=connection).get_status(refresh=True)
        except NoSuchJobError:
            return "missing"
        return "missing" if value is None else str(getattr(value, "value", value))

    return status


def reap(app: Flask, *, now: datetime | None = None) -> ReapReport:
    """Fail every unfinished run whose owner is gone, with the reason in its ``error``.

    A run is failed when its owner's heartbeat is older than ``RUN_LEASE_S``, or its
    owner ran on this host and that process no longer exists, or (``rq`` runs, when
    ``REDIS_URL`` answers) its RQ job has ended or is gone. A run with a fresh heartbeat
    is never failed, and an RQ run whose job still waits in the queue stays queued. Safe
    to run while the service runs: a run that beats between the check and the update is
    left alone. ``now`` (UTC) is for tests.
    """
    return _reap(app, now=now, own_host=False)


def recover(app: Flask, *, now: datetime | None = None) -> ReapReport:
    """Start-up form of :func:`reap`: only the runs earlier processes of this host held.

    Runs of another host, and of any live process here, are not touched; a run whose
    owner process here has exited is failed at once, without waiting for the lease. Rows
    recorded before leases (no runner, no owner) are failed too: only the thread runner,
    which never outlives its process, could have left them.
    """
    return _reap(app, now=now, own_host=True)


def _reap(app: Flask, *, now: datetime | None, own_host: bool) -> ReapReport:
    owner: RunOwner = app.extensions["run_owner"]
    identity = owner.identity()
    query = select(Run).where(Run.status.in_(UNFINISHED))
    if own_host:
        query = query.where(or_(Run.owner_host == identity["owner_host"], Run.runner.is_(None) & Run.owner_token.is_(None)))
    db = app.extensions["db"]
    with db.sessionmaker() as s:
        runs = [r for r in s.scalars(query) if r.owner_token != owner.token]
        s.expunge_all()
    judge = _Judge(now=now or datetime.now(UTC), lease=timedelta(seconds=float(app.config["RUN_LEASE_S"])),
                   host=identity["owner_host"], rq_status=_rq_status_reader(app) if not own_host else None)
    failed: dict[str, str] = {}
    for run in runs:
        reason = judge.verdict(run)
        if own_host and run.runner is None and run.owner_token is None:
            reason = "left unfinished by a process that has stopped (recorded before run leases)"
        if reason is not None and _fail_unless_changed(app, run, reason):
            failed[run.id] = reason
            _fail_target(app, run.kind, run.target_id, only_unfinished=True)
    return ReapReport(failed=failed, left=len(runs) - len(failed), rq_checked=judge.rq_status is not None)


def _fail_unless_changed(app: Flask, run: Run, reason: str) -> bool:
    """Fail ``run`` as seen by the reaper; False when it beat or changed state meanwhile."""
    db = app.extensions["db"]
    with db.sessionmaker() as s, s.begin():
        res = s.execute(
            update(Run)
            .where(Run.id == run.id, Run.status == run.status, Run.heartbeat_at.is_not_distinct_from(run.heartbeat_at))
            .values(status="failed", finished_at=datetime.now(UTC), message=f"failed: {reason}"[:500],
                    error={"code": "interrupted", "message": f"the run was abandoned: {reason}", "details": None})
        )
        return bool(getattr(res, "rowcount", 0))
