"""Glue to :mod:`planning.outages` (issue 4): jobs -> ``plan_outages`` -> stored plan, outages, outbox.

The core's ``Plan.to_json()`` gives ``{"outages": [{"id", "jobs", "start", "end",
"switching_steps", "valid", "transfers", "generators", "customers"[, "notices"]}],
"errors", "metrics"}``; :func:`store_plan` keeps it and spreads it over the tables.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models import (
    Job,
    Notification,
    Outage,
    OutageCustomer,
    OutageGenerator,
    OutageStep,
    OutageTransfer,
    Plan,
)
from app.services.options import BadOptions, check_option_names
from gis import Grid, InputError
from planning.outages import Job as CoreJob
from planning.outages import PlanOptions, load_generators_csv, plan_outages

log = logging.getLogger(__name__)

NOTICE_LEAD = timedelta(days=7)
SMS_LEAD = timedelta(minutes=10)


def to_core_job(job: Job) -> CoreJob:
    """The stored job as the core's :class:`planning.outages.Job` (durations in minutes)."""
    return CoreJob(
        id=job.id,
        equipment=tuple(job.equipment),
        duration_min=int(job.duration_min),
        earliest=job.earliest,
        latest=job.latest,
        crew=job.crew or None,
        description=job.description or "",
        requested_by=job.requested_by or "",
        night_work=bool(job.night_work),
    )


def make_options(options: Mapping[str, Any], *, time_limit_s: float, generators_path: str | None = None) -> PlanOptions:
    """``PlanOptions`` from the request's dict (unknown names -> 422 ``bad_options``).

    ``time_limit_s`` (seconds) is the solver's limit unless the request sets
    ``solver_time_limit_s``. The fleet comes from ``GENERATORS_PATH`` unless the
    request lists one (a path in the request is refused: no file reads by API).
    """
    check_option_names(PlanOptions, options)
    values = dict(options)
    if isinstance(values.get("generator_fleet"), str):
        raise BadOptions("generator_fleet must be a list of {id, name, kw, depot_id}")
    values.setdefault("solver_time_limit_s", time_limit_s)
    opts = PlanOptions.from_dict(values)
    if "generator_fleet" not in values and generators_path:
        opts = opts.with_fleet(load_generators_csv(generators_path))
    return opts


def _parse_dt(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _customer_ids(items: Any) -> list[str]:
    out = []
    for c in items or []:
        out.append(str(c["id"] if isinstance(c, dict) else c))
    return out


def execute_plan(app: Flask, plan_id: int, *, progress: Callable[[float, str], None]) -> None:
    """Run ``plan_outages`` for a stored plan and store outages, steps, customers, notices."""
    grid: Grid = app.extensions["grid"]
    db = app.extensions["db"]
    with db.session(actor="planner-run") as s:
        plan = s.get(Plan, plan_id)
        if plan is None:
            raise InputError(f"plan {plan_id} vanished")
        plan.status = "running"
        jobs = list(s.scalars(select(Job).where(Job.id.in_(plan.job_ids))))
        core_jobs = [to_core_job(j) for j in jobs]
        options = make_options(plan.options or {}, time_limit_s=float(app.config["PLAN_TIME_LIMIT_S"]),
                               generators_path=app.config.get("GENERATORS_PATH"))
        now = plan.now
    progress(0.1, f"planning {len(core_jobs)} jobs")
    data = plan_outages(grid, core_jobs, now=now, options=options).to_json()
    progress(0.8, "storing the plan")
    with db.session(actor="planner-run") as s:
        plan = s.get(Plan, plan_id)
        assert plan is not None
        store_plan(s, plan, data)
        plan.status = "done"


def _texts(value: Any) -> tuple[str, str]:
    if isinstance(value, dict):
        return str(value.get("en", "")), str(value.get("zh", ""))
    return (str(value), "") if value else ("", "")


def store_plan(session: Session, plan: Plan, data: dict[str, Any]) -> None:
    """Store the core's plan: outages with steps, transfers, generators; affected customers
    and the outbox rows (bulk inserts: the demo city's month has ~26k customer rows)."""
    plan.result = data
    plan.metrics = data.get("metrics")
    plan.errors = data.get("errors") or []
    for o in data.get("outages", []):
        start = _parse_dt(o.get("start"))
        end = _parse_dt(o.get("end"))
        notices = o.get("notices") if isinstance(o.get("notices"), dict) else {}
        supply = {str(c.get("id")): c.get("supply") for c in notices.get("customers", []) if isinstance(c, dict)}
        ids = list(dict.fromkeys(_customer_ids(o.get("customers")) + list(supply)))
        outage = Outage(
            plan_id=plan.id, core_id=str(o.get("id")), jobs=[str(j) for j in o.get("jobs", [])], start=start, end=end,
            valid=bool(o.get("valid", True)),
            data={**{k: v for k, v in o.items() if k not in ("switching_steps", "transfers", "generators", "customers", "notices")},
                  "customers_count": len(ids)},
        )
        outage.steps = [OutageStep(seq=i, data=st if isinstance(st, dict) else {"step": st})
                        for i, st in enumerate(o.get("switching_steps", []))]
        outage.transfers = [OutageTransfer(data=t if isinstance(t, dict) else {"value": t}) for t in o.get("transfers", [])]
        outage.generators = [OutageGenerator(data=g if isinstance(g, dict) else {"value": g}) for g in o.get("generators", [])]
        session.add(outage)
        session.flush()
        notice_due = _parse_dt(notices.get("notice_due")) or (start - NOTICE_LEAD if start else None)
        sms_due = _parse_dt(notices.get("sms_due")) or (start - SMS_LEAD if start else None)
        if ids:
            session.execute(insert(OutageCustomer), [
                {"outage_id": outage.id, "customer_id": cid, "notice_due": notice_due, "sms_due": sms_due,
                 "supply": supply.get(cid) or "interrupted"} for cid in ids])
        queue_notices(session, outage, ids, notices=notices, notice_due=notice_due, sms_due=sms_due)


def queue_notices(session: Session, outage: Outage, customer_ids: list[str], *, notices: dict[str, Any],
                  notice_due: datetime | None, sms_due: datetime | None) -> int:
    """Put the 7-day notice and the 10-minute SMS of every affected customer in the outbox."""
    when = f"{outage.start:%Y-%m-%d %H:%M} UTC" if outage.start else "?"
    until = f"{outage.end:%H:%M} UTC" if outage.end else "?"
    notice_en, notice_zh = _texts(notices.get("text"))
    sms_en, sms_zh = _texts(notices.get("sms"))
    texts = {
        "notice": (notice_en or f"Planned power outage {when} to {until} (outage {outage.id}) for maintenance.",
                   notice_zh or f"计划停电通知：{when} 至 {until}（停电编号 {outage.id}），因设备检修停电。"),
        "sms": (sms_en or notice_en or f"Planned power outage starts in 10 minutes ({when} to {until}).",
                sms_zh or notice_zh or f"停电提醒：计划停电将于10分钟后开始（{when} 至 {until}）。"),
    }
    rows = []
    for kind, due in (("notice", notice_due), ("sms", sms_due)):
        if due is None:
            continue
        en, zh = texts[kind]
        rows += [{"dedupe_key": f"outage:{outage.id}:{cid}:{kind}", "kind": kind, "channel": "sms", "outage_id": outage.id,
                  "customer_id": cid, "due_at": due, "text_en": en, "text_zh": zh, "status": "pending", "attempts": 0}
                 for cid in customer_ids]
    if rows:
        session.execute(insert(Notification), rows)
    return len(rows)
