"""Planning runs, outages, affected customers, notice lists and exports."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Response, current_app
from sqlalchemy import func, select

from app import maps
from app.api import ApiBlueprint
from app.api.common import (
    CustomerArgs,
    ExportArgs,
    PageArgs,
    check_version,
    customer_view,
    export_response,
    get_or_404,
    grid,
    iso,
    session,
    utc_now,
)
from app.auth import READ_ROLES, require, sees_phones, user
from app.input_policy import PolicyDateTime
from app.models import Job, Outage, Plan, Run
from app.runs import submit
from app.services import planning as planning_service
from app.services.customers import NOTICE_COLUMNS, affected_customers
from gis.errors import InputError, NotFoundError
from planning.outages.recheck import work_state

blp = ApiBlueprint("plans", __name__, url_prefix="/api", description="Planned outages: planning runs, outages, exports")


class PlanIn(ma.Schema):
    job_ids = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 64)), validate=ma.validate.Length(1, 5000),
                             metadata={"description": "default: every open job"})
    now = PolicyDateTime(metadata={"description": "planning time; default: the server's now"})
    options = ma.fields.Dict(keys=ma.fields.String(), metadata={"description": "planning.PlanOptions fields"})


class OutagePatch(ma.Schema):
    version = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 2**31 - 1))
    status = ma.fields.String(validate=ma.validate.OneOf(["planned", "confirmed", "cancelled", "done"]))
    note = ma.fields.String(validate=ma.validate.Length(max=2000))


def plan_json(p: Plan, *, full: bool = False) -> dict[str, Any]:
    out = {"id": p.id, "status": p.status, "now": iso(p.now), "job_ids": p.job_ids, "options": p.options,
           "metrics": p.metrics, "errors": p.errors, "run_id": p.run_id, "created_at": iso(p.created_at),
           "grid_version_id": p.grid_version_id, "outages": [outage_json(o) for o in p.outages]}
    if full:
        rows = affected_customers(session(), grid(), outage_ids=[o.id for o in p.outages], with_phones=sees_phones())
        out["result"] = planning_service.result_json(p, rows)
    return out


def outage_json(o: Outage, *, full: bool = False) -> dict[str, Any]:
    out = {"id": o.id, "plan_id": o.plan_id, "core_id": o.core_id, "jobs": o.jobs, "start": iso(o.start),
           "end": iso(o.end), "valid": o.valid, "status": o.status, "note": o.note, "version": o.version,
           "customers": (o.data or {}).get("customers_count", 0), "grid_version_id": o.grid_version_id,
           "grid_flags": o.grid_flags}
    if full:
        out |= {"switching_steps": [s.data for s in o.steps], "transfers": [t.data for t in o.transfers],
                "generators": [g.data for g in o.generators], "data": o.data}
    return out


@blp.route("/plans", methods=["POST"])
@require("planner")
@blp.arguments(PlanIn)
@blp.response(202)
def create_plan(data: dict[str, Any]) -> Any:
    """Start a planning run in the background; poll ``/api/runs/<run_id>``."""
    planning_service.make_options(data.get("options") or {}, time_limit_s=1.0)  # 422 now, not a failed run
    s = session()
    if "job_ids" in data:
        ids = list(dict.fromkeys(data["job_ids"]))
        found = set(s.scalars(select(Job.id).where(Job.id.in_(ids))))
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFoundError(f"unknown job(s): {', '.join(missing[:10])}", details={"unknown": missing})
    else:
        ids = list(s.scalars(select(Job.id).where(Job.status == "open").order_by(Job.id)))
        if not ids:
            raise InputError("there are no open jobs to plan")
    u = user()
    run = Run(kind="plan", created_by=u.id if u else None)
    s.add(run)
    s.flush()
    plan = Plan(now=data.get("now") or utc_now(), job_ids=ids, options=data.get("options") or {}, run_id=run.id,
                created_by=u.id if u else None)
    s.add(plan)
    s.flush()
    run.target_id = plan.id
    s.commit()
    submit(current_app._get_current_object(), run)  # type: ignore[attr-defined]
    s.expire_all()  # the run may have finished already (sync runner): read both rows again
    return {"plan": plan_json(plan), "run": {"id": run.id, "status": run.status, "progress": run.progress}}


@blp.route("/plans")
@require(*READ_ROLES)
@blp.arguments(PageArgs, location="query")
@blp.response(200)
def list_plans(args: dict[str, Any]) -> Any:
    s = session()
    total = s.scalar(select(func.count()).select_from(Plan))
    rows = s.scalars(select(Plan).order_by(Plan.id.desc()).limit(args["limit"]).offset(args["offset"]))
    return {"total": total, "items": [plan_json(p) for p in rows]}


@blp.route("/plans/<int:plan_id>")
@require(*READ_ROLES)
@blp.response(200)
def get_plan(plan_id: int) -> Any:
    """A plan with its outages, metrics (plan vs baseline), per-job errors and the core's JSON."""
    return plan_json(get_or_404(Plan, plan_id, "plan"), full=True)


@blp.route("/outages/<int:outage_id>")
@require(*READ_ROLES)
@blp.response(200)
def get_outage(outage_id: int) -> Any:
    """An outage with its switching steps, transfers and generators."""
    return outage_json(get_or_404(Outage, outage_id, "outage"), full=True)


@blp.route("/outages/<int:outage_id>", methods=["PATCH"])
@require("planner")
@blp.arguments(OutagePatch)
@blp.response(200)
def update_outage(data: dict[str, Any], outage_id: int) -> Any:
    """Confirm, cancel or annotate an outage; ``version`` must be current (409 otherwise).
    Cancelling an outage cancels its pending notices."""
    o = get_or_404(Outage, outage_id, "outage")
    check_version(o, data.pop("version"))
    for k, v in data.items():
        setattr(o, k, v)
    if data.get("status") == "cancelled":
        from app.models import Notification

        for n in session().scalars(select(Notification).where(Notification.outage_id == o.id, Notification.status == "pending")):
            n.status = "cancelled"
    session().commit()
    return outage_json(o, full=True)


def _outage_customers(o: Outage, args: dict[str, Any] | None = None) -> Any:
    """The outage's customers with its window (``window_start``, ``window_end``: grid time)
    and the filter and columns of :class:`CustomerArgs`."""
    df = affected_customers(session(), grid(), outage_ids=[o.id], with_phones=sees_phones()).drop(columns="outage_id")
    df["window_start"], df["window_end"] = iso(o.start), iso(o.end)
    return customer_view(df, args or {})


@blp.route("/outages/<int:outage_id>/customers")
@require(*READ_ROLES)
@blp.arguments(CustomerArgs, location="query")
@blp.response(200)
def outage_customers(args: dict[str, Any], outage_id: int) -> Any:
    """Customers who lose supply in this outage (phones and accounts for customer_service/admin
    only) with the outage window; ``importance``, ``q`` and ``columns`` as in the export."""
    o = get_or_404(Outage, outage_id, "outage")
    df = _outage_customers(o, args)
    return {"outage_id": o.id, "total": len(df), "items": df.to_dict(orient="records")}


@blp.route("/outages/<int:outage_id>/customers/export")
@require(*READ_ROLES)
@blp.arguments(ExportArgs, location="query")
@blp.response(200, content_type="application/octet-stream")
def export_outage_customers(args: dict[str, Any], outage_id: int) -> Any:
    """Affected customers as ``format=csv`` (UTF-8 with BOM), ``xlsx`` or ``geojson``."""
    o = get_or_404(Outage, outage_id, "outage")
    df = _outage_customers(o, args)
    return export_response(df, args["format"], sheet=f"outage {o.id}", subject="outage", subject_id=o.id, what="customers", day=o.start)


@blp.route("/outages/<int:outage_id>/map")
@require(*READ_ROLES)
@blp.response(200, content_type="application/geo+json")
def outage_map(outage_id: int) -> Any:
    """The outage for the map: lines and equipment of its switching state during the work
    (``role`` work / dead / transferred) and its stored customers as points (``role`` from
    ``supply``: dead, transferred, generator); no phone numbers. RFC 7946 FeatureCollection."""
    o = get_or_404(Outage, outage_id, "outage")
    open_switches, close_switches = work_state([st.data for st in o.steps])
    zone = (o.data or {}).get("zone") or {}
    customers = affected_customers(session(), grid(), outage_ids=[o.id], with_phones=False)
    fc = maps.outage_overlay(grid(), customers, open_switches=open_switches, close_switches=close_switches,
                             work_nodes=[str(n) for n in zone.get("work_nodes") or []])
    return Response(json.dumps(fc, ensure_ascii=False), mimetype="application/geo+json")


@blp.route("/outages/<int:outage_id>/notices")
@require(*READ_ROLES)
@blp.arguments(ma.Schema.from_dict({"format": ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv", "xlsx"]))})(),
               location="query")
@blp.response(200)
def outage_notices(args: dict[str, Any], outage_id: int) -> Any:
    """The notice list: each affected customer with ``notice_due`` (start - 7 d) and ``sms_due`` (start - 10 min)."""
    o = get_or_404(Outage, outage_id, "outage")
    df = _outage_customers(o).rename(columns={"id": "customer_id"})
    cols = [c for c in NOTICE_COLUMNS if c in df.columns] + (["phone"] if "phone" in df.columns else [])
    df = df[cols]
    if args["format"] == "json":
        return {"outage_id": o.id, "start": iso(o.start), "items": df.to_dict(orient="records")}
    return export_response(df, args["format"], sheet=f"notices {o.id}", subject="outage", subject_id=o.id, what="notices", day=o.start)


@blp.route("/plans/<int:plan_id>/customers/export")
@require(*READ_ROLES)
@blp.arguments(ExportArgs, location="query")
@blp.response(200, content_type="application/octet-stream")
def export_plan_customers(args: dict[str, Any], plan_id: int) -> Any:
    """Customers of every outage of the plan: one row per (outage, customer) with ``outage_id``,
    ``supply`` and the notice and SMS due times (grid's time zone)."""
    p = get_or_404(Plan, plan_id, "plan")
    df = affected_customers(session(), grid(), outage_ids=[o.id for o in p.outages], with_phones=sees_phones())
    df = customer_view(df, args)
    return export_response(df, args["format"], sheet=f"plan {p.id}", subject="plan", subject_id=p.id, what="customers", day=p.now)
