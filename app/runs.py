"""Background runs (planning, routing) with progress stored in the ``runs`` table.

Runners, chosen by ``RUNNER``:

* ``thread`` (default): an in-process single-worker thread pool; fine for one
  waitress process. A run survives a page reload (it is a database row), not a
  process restart: runs left ``queued``/``running`` by a dead process are marked
  failed at the next start-up.
* ``rq``: jobs on Redis (``REDIS_URL``) executed by ``rq worker outage`` processes,
  which build their own app from the same configuration (:func:`rq_execute`).
* ``sync``: executes inside the request (tests, CLI).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import Flask
from sqlalchemy import update

from app.models import Run
from gis.errors import OutageError

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

# The worker-side settings an RQ job carries so the worker talks to the same database/grid.
CARRIED_KEYS = ("DATABASE_URL", "GRID_PATH", "ROADS_PATH", "LOAD_ROADS", "INSTANCE_PATH", "SECRET_KEY",
                "PLAN_TIME_LIMIT_S", "ROUTING_TIME_LIMIT_S", "ROUTING_OBJECTIVE")


def _handlers() -> dict[str, Callable[..., None]]:
    from app.services import planning, routing

    return {"plan": planning.execute_plan, "dispatch": routing.execute_dispatch}


def init_app(app: Flask) -> None:
    if app.config["RUNNER"] == "thread":
        app.extensions["run_executor"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outage-run")
    if app.config["RUNNER"] == "rq":
        from redis import Redis
        from rq import Queue

        app.extensions["rq_queue"] = Queue(app.config["RQ_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]))


def mark_orphans(app: Flask) -> int:
    """Fail runs left unfinished by a process that died (thread runner only)."""
    db = app.extensions["db"]
    with db.session(actor="system") as s:
        res = s.execute(
            update(Run)
            .where(Run.status.in_(("queued", "running")))
            .values(status="failed", error={"code": "interrupted", "message": "the service restarted during this run", "details": None},
                    finished_at=datetime.now(UTC))
        )
        return int(getattr(res, "rowcount", 0) or 0)


def submit(app: Flask, run: Run) -> None:
    """Start ``run`` (already committed) with the configured runner."""
    runner = app.config["RUNNER"]
    if runner == "sync":
        execute(app, run.id)
    elif runner == "thread":
        app.extensions["run_executor"].submit(execute, app, run.id)
    else:
        carried = {k: app.config.get(k) for k in CARRIED_KEYS}
        app.extensions["rq_queue"].enqueue(
            "app.runs.rq_execute", run.id, json.dumps(carried, default=str), job_timeout=3600, result_ttl=3600
        )


def _set(app: Flask, run_id: str, **values: Any) -> None:
    db = app.extensions["db"]
    with db.sessionmaker() as s, s.begin():
        s.execute(update(Run).where(Run.id == run_id).values(**values))


def execute(app: Flask, run_id: str) -> None:
    """Execute one run to completion; never raises (the outcome is in the row)."""
    with app.app_context():
        db = app.extensions["db"]
        with db.sessionmaker() as s:
            run = s.get(Run, run_id)
            if run is None:
                log.error("run %s vanished", run_id)
                return
            kind, target = run.kind, run.target_id
        _set(app, run_id, status="running", started_at=datetime.now(UTC), progress=0.0, message="started")

        def progress(fraction: float, message: str) -> None:
            _set(app, run_id, progress=max(0.0, min(1.0, float(fraction))), message=message[:500])

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


def _fail_target(app: Flask, kind: str, target: int | None) -> None:
    from app.models import Dispatch, Plan

    model = {"plan": Plan, "dispatch": Dispatch}.get(kind)
    if model is None or target is None:
        return
    _set_target(app, model, target)


def _set_target(app: Flask, model: Any, target: int) -> None:
    db = app.extensions["db"]
    with db.session(actor="system") as s:
        row = s.get(model, target)
        if row is not None:
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
