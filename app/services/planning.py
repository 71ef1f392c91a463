"""Glue to :mod:`planning.outages` (issue 4): jobs -> ``plan_outages`` -> stored plan, outages, outbox.

The core's ``Plan.to_json()`` gives ``{"outages": [{"id", "jobs", "start", "end",
"switching_steps", "valid", "transfers", "generators", "customers"[, "notices"]}],
"errors", "metrics"}``; :func:`store_plan` spreads it over the tables, each outage's
customers as ``outage_customers`` rows only (the stored JSON keeps no customer list and no
personal data), and :func:`result_json` gives the JSON back with those lists from the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

import pandas as pd
from flask import Flask
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

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
from app.services import reliability as reliability_service
from app.services.customers import SUPPLIES
from app.services.options import BadOptions, check_option_names
from app.times import local, local_iso
from gis import Grid, InputError
from planning.outages import FixedOutage, PlanOptions, load_generators_csv, plan_outages
from planning.outages import Job as CoreJob

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


def execute_plan(app: Flask, plan_id: int, *, progress: Callable[[float, str], None]) -> None:
    """Run ``plan_outages`` for a stored plan and store outages, steps, customers, notices."""
    db = app.extensions["db"]
    with db.session(actor="planner-run") as s:
        plan = s.get(Plan, plan_id)
        if plan is None:
            raise InputError(f"plan {plan_id} vanished")
        grid: Grid = app.extensions["grid_versions"].grid(s, plan.grid_version_id)  # the version it was asked on
        plan.status = "running"
        jobs = list(s.scalars(select(Job).where(Job.id.in_(plan.job_ids))))
        core_jobs = [to_core_job(j) for j in jobs]
        options = make_options(plan.options or {}, time_limit_s=float(app.config["PLAN_TIME_LIMIT_S"]),
                               generators_path=app.config.get("GENERATORS_PATH"))
        now = plan.now
        fixed = published_outages(s, now=now, crews={j.id: j.crew for j in jobs}, tz=grid.timezone)
        history = reliability_service.history(s, since=now - timedelta(days=options.repeat_window_days))
    progress(0.1, f"planning {len(core_jobs)} jobs around {len(fixed)} published outage(s)")
    data = plan_outages(grid, core_jobs, now=now, options=options, history=history, fixed=fixed).to_json()
    progress(0.8, "storing the plan")
    with db.session(actor="planner-run") as s:
        plan = s.get(Plan, plan_id)
        assert plan is not None
        store_plan(s, plan, data, tz=grid.timezone)
        plan.status = "done"


def published_outages(s: Session, *, now: datetime, crews: Mapping[str, str | None], tz: tzinfo) -> list[FixedOutage]:
    """Confirmed and executed outages still ahead of or around ``now``: the plan goes around them
    (rolling plans, :mod:`planning.outages.fixed`)."""
    q = (select(Outage).where(Outage.status.in_(("confirmed", "done")), Outage.end > now, Outage.start.is_not(None))
         .options(selectinload(Outage.transfers), selectinload(Outage.generators)))
    outages = list(s.scalars(q))
    dark: dict[int, list[str]] = {o.id: [] for o in outages}
    rows = select(OutageCustomer.outage_id, OutageCustomer.customer_id).where(
        OutageCustomer.outage_id.in_(list(dark)), OutageCustomer.supply == "interrupted").order_by(OutageCustomer.id)
    for oid, cid in s.execute(rows):
        dark[oid].append(cid)
    out = []
    for o in outages:
        assert o.start is not None and o.end is not None
        doc = {"id": f"outage:{o.id}", "start": local_iso(o.start, tz), "end": local_iso(o.end, tz), "jobs": list(o.jobs or []),
               "zone": (o.data or {}).get("zone") or {}, "transfers": [t.data for t in o.transfers],
               "generators": [g.data for g in o.generators], "customers": dark[o.id]}
        out.append(FixedOutage.from_json(doc, crews=crews))
    return out


def stored_outage(outage: Mapping[str, Any]) -> dict[str, Any]:
    """The core's outage JSON as stored in ``plans.result``: without its customer lists.

    ``customers`` (ids) and ``notices.customers`` (ids with names, phones, addresses) are
    the ``outage_customers`` rows; ``notices.count`` stays. :func:`result_json` puts the
    lists back from the rows when the plan is read.
    """
    out = {k: v for k, v in outage.items() if k != "customers"}
    if isinstance(outage.get("notices"), dict):
        out["notices"] = {k: v for k, v in outage["notices"].items() if k != "customers"}
    return out


def _customer_rows(o: Mapping[str, Any], *, start: datetime | None) -> list[dict[str, Any]]:
    """The ``outage_customers`` rows of one core outage: every customer of ``customers`` or
    ``notices.customers`` once (the core's order), its ``supply`` and the due times (UTC-able)."""
    notices: Mapping[str, Any] = o["notices"] if isinstance(o.get("notices"), dict) else {}
    listed = [c for c in notices.get("customers") or [] if isinstance(c, dict)]
    supply = {str(c.get("id")): c.get("supply") for c in listed}
    ids = dict.fromkeys([str(c["id"] if isinstance(c, dict) else c) for c in o.get("customers") or []] + list(supply))
    notice_due = _parse_dt(notices.get("notice_due")) or (start - NOTICE_LEAD if start else None)
    sms_due = _parse_dt(notices.get("sms_due")) or (start - SMS_LEAD if start else None)
    for cid, how in supply.items():
        if how is not None and how not in SUPPLIES:
            raise InputError(f"customer {cid}: unknown supply {how!r}", details={"customer": cid, "supply": how, "known": list(SUPPLIES)})
    return [{"customer_id": cid, "supply": supply.get(cid) or "interrupted", "notice_due": notice_due, "sms_due": sms_due}
            for cid in ids]


def store_plan(session: Session, plan: Plan, data: dict[str, Any], *, tz: tzinfo) -> None:
    """Store the core's plan: outages with steps, transfers, generators; their customers as
    ``outage_customers`` rows (the one copy: ``plans.result`` and ``outages.data`` keep no
    customer list, name, phone or address); the outbox rows read from those rows. Bulk
    inserts: the demo city's month has ~26k customer rows. ``tz``: the grid's time zone,
    for the outbox's fallback texts."""
    outages = [o for o in data.get("outages", []) if isinstance(o, dict)]
    plan.result = {**data, "outages": [stored_outage(o) for o in outages]}
    plan.metrics = data.get("metrics")
    plan.errors = data.get("errors") or []
    for o in outages:
        start, end = _parse_dt(o.get("start")), _parse_dt(o.get("end"))
        rows = _customer_rows(o, start=start)
        kept = stored_outage(o)
        outage = Outage(
            plan_id=plan.id, core_id=str(o.get("id")), jobs=[str(j) for j in o.get("jobs", [])], start=start, end=end,
            valid=bool(o.get("valid", True)),
            data={**{k: v for k, v in kept.items() if k not in ("switching_steps", "transfers", "generators", "notices")},
                  "customers_count": len(rows)},
        )
        outage.steps = [OutageStep(seq=i, data=st if isinstance(st, dict) else {"step": st})
                        for i, st in enumerate(o.get("switching_steps", []))]
        outage.transfers = [OutageTransfer(data=t if isinstance(t, dict) else {"value": t}) for t in o.get("transfers", [])]
        outage.generators = [OutageGenerator(data=g if isinstance(g, dict) else {"value": g}) for g in o.get("generators", [])]
        session.add(outage)
        session.flush()
        if rows:
            session.execute(insert(OutageCustomer), [{"outage_id": outage.id, **r} for r in rows])
        queue_notices(session, outage, rows, notices=kept.get("notices") or {}, tz=tz)


def _texts(value: Any) -> tuple[str, str]:
    if isinstance(value, dict):
        return str(value.get("en", "")), str(value.get("zh", ""))
    return (str(value), "") if value else ("", "")


def queue_notices(session: Session, outage: Outage, rows: Sequence[Mapping[str, Any]], *, notices: Mapping[str, Any],
                  tz: tzinfo) -> int:
    """Put the 7-day notice and the 10-minute SMS of every row (``customer_id``, ``notice_due``,
    ``sms_due``) of ``outage`` in the outbox, with the core's texts (``notices.text``/``sms``),
    else texts giving the outage's times in ``tz`` (the grid's zone). Returns the messages queued."""
    start, end = local(outage.start, tz), local(outage.end, tz)
    when = f"{start:%Y-%m-%d %H:%M} ({tz})" if start else "?"
    until = f"{end:%H:%M}" if end else "?"
    notice_en, notice_zh = _texts(notices.get("text"))
    sms_en, sms_zh = _texts(notices.get("sms"))
    texts = {
        "notice": (notice_en or f"Planned power outage {when} to {until} (outage {outage.id}) for maintenance.",
                   notice_zh or f"计划停电通知：{when} 至 {until}（停电编号 {outage.id}），因设备检修停电。"),
        "sms": (sms_en or notice_en or f"Planned power outage starts in 10 minutes ({when} to {until}).",
                sms_zh or notice_zh or f"停电提醒：计划停电将于10分钟后开始（{when} 至 {until}）。"),
    }
    messages = []
    for kind, due_key in (("notice", "notice_due"), ("sms", "sms_due")):
        en, zh = texts[kind]
        messages += [{"dedupe_key": f"outage:{outage.id}:{r['customer_id']}:{kind}", "kind": kind, "channel": "sms",
                      "outage_id": outage.id, "customer_id": r["customer_id"], "due_at": r[due_key], "text_en": en,
                      "text_zh": zh, "status": "pending", "attempts": 0}
                     for r in rows if r.get(due_key) is not None]
    if messages:
        session.execute(insert(Notification), messages)
    return len(messages)


def result_json(plan: Plan, customers: pd.DataFrame) -> dict[str, Any] | None:
    """The plan's core JSON as the API shows it: the stored ``plans.result`` with each
    outage's ``customers`` (ids) and ``notices.customers`` (``id, name[, phone], address,
    importance, supply``) put back from ``customers``, the plan's rows joined with the grid
    (:func:`app.services.customers.affected_customers`; ``phone`` only when it has that column)."""
    if plan.result is None:
        return None
    db_id = {o.core_id: o.id for o in plan.outages}
    keys = [k for k in ("id", "name", "phone", "address", "importance", "supply") if k in customers.columns]
    by_outage = {oid: part for oid, part in customers.groupby("outage_id", sort=False)}
    outages = []
    for o in plan.result.get("outages", []):
        part = by_outage.get(db_id.get(str(o.get("id"))), customers.iloc[:0])
        out = {**o, "customers": part["id"].tolist()}
        if isinstance(o.get("notices"), dict):
            out["notices"] = {**o["notices"], "customers": part[keys].to_dict(orient="records")}
        outages.append(out)
    return {**plan.result, "outages": outages}
