"""Faults: create from breaker / fault indicators / calls, restoration stages, affected customers."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import func, select

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
from app.models import Fault, User
from app.services import faults as faults_service
from app.services.customers import customers_frame
from gis import ConflictError

blp = ApiBlueprint("faults", __name__, url_prefix="/api/faults", description="Faults: location, isolation, restoration")

SID = ma.fields.String(validate=ma.validate.Length(1, 64))


class FaultIn(ma.Schema):
    tripped_breaker = ma.fields.String(validate=ma.validate.Length(1, 64))
    fault_indicators = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(1, 64)), values=ma.fields.Boolean(),
                                      metadata={"description": "{switch_id: fault current seen}"})
    calls = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 64)), validate=ma.validate.Length(max=100_000),
                           metadata={"description": "ids of customers who called"})
    section = ma.fields.String(validate=ma.validate.Length(1, 64),
                               metadata={"description": "skip location: restore around this equipment"})
    now = PolicyDateTime()
    options = ma.fields.Dict(keys=ma.fields.String())


class FaultPatch(ma.Schema):
    version = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 2**31 - 1))
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["open", "restored", "closed"]))


class SwitchingStepIn(ma.Schema):
    version = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 2**31 - 1),
                                metadata={"description": "the fault's version you read (another dispatcher acted first -> 409)"})


class IndicatorArgs(ma.Schema):
    feeder = ma.fields.String(required=True, validate=ma.validate.Length(1, 64),
                              metadata={"description": "the tripped feeder (its breaker id)"})
    q = ma.fields.String(validate=ma.validate.Length(max=64), metadata={"description": "part of a switch id or cabinet name"})


def fault_json(f: Fault, *, full: bool = False) -> dict[str, Any]:
    progress = faults_service.crew_progress(session(), f)
    out = {"id": f.id, "status": f.status, "version": f.version, "tripped_breaker": f.tripped_breaker,
           "fault_indicators": f.fault_indicators, "calls": f.calls, "section": f.section, "now": iso(f.now),
           "created_at": iso(f.created_at), "restored_at": iso(f.restored_at), "closed_at": iso(f.closed_at),
           "grid_version_id": f.grid_version_id, "candidates": f.candidates, "stages": stages_json(f, progress)}
    nxt = faults_service.next_step(f)
    out["next_step"] = None if nxt is None else nxt.get("seq")
    if full:
        r = f.result or {}
        out |= {k: r.get(k) for k in ("faulted", "repair", "generators", "metrics", "return_to_normal")}
        opened, closed = faults_service.executed_state(f)
        status = [s for s, _ in faults_service.supply_status(grid(), f).values()]
        out["state"] = {"open": opened, "close": closed, "customers_out": status.count(faults_service.OUT),
                        "customers_restored": status.count(faults_service.RESTORED)}
        out["generator_decision"] = faults_service.stored_generator_decision(f)
        out["timeline"] = [e | {"at": iso(e["at"])} for e in faults_service.timeline(f, progress)]
    return out


def stages_json(f: Fault, progress: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The stages as switching orders: each step with who carries it out (the control room for a
    remote switch, else the crew routed to it), its routing task and whether it is executed."""
    executed = {e.step_seq: e for e in f.executed_steps}
    tasks = faults_service.step_task_ids(f)
    users: dict[int, str | None] = {}

    def username(uid: int | None) -> str | None:
        if uid is None:
            return None
        if uid not in users:
            u = session().get(User, uid)
            users[uid] = u.username if u else None
        return users[uid]

    out = []
    for s in f.stages:
        steps = []
        for step in s.steps:
            if not isinstance(step, dict):
                continue
            seq = int(step.get("seq", 0))
            e = executed.get(seq)
            task = tasks.get(seq)
            crew = (progress.get(task) or {}).get("crew_id") if task else None
            steps.append({**step, "who": "control_room" if step.get("remote") else "crew", "task_id": task,
                          "crew_id": crew, "executed": e is not None, "executed_at": iso(e.executed_at) if e else None,
                          "executed_by": username(e.executed_by) if e else None})
        out.append({"seq": s.seq, "kind": s.kind, "steps": steps, "restored_customers": s.restored_customers,
                    "still_out": s.still_out, **s.data})
    return out


@blp.route("", methods=["POST"])
@require("dispatcher")
@blp.arguments(FaultIn)
@blp.response(201)
def create_fault(data: dict[str, Any]) -> Any:
    """Record a fault, locate it (unless ``section`` is given) and compute the restoration stages.

    Unknown switch/customer ids are 404; no signal at all is 422; nothing is stored on error.
    """
    now = data.get("now") or utc_now()
    result = faults_service.analyse(
        grid(), tripped_breaker=data.get("tripped_breaker"), fault_indicators=data.get("fault_indicators"),
        calls=data.get("calls"), section=data.get("section"), now=now, options=data.get("options"),
        generators_path=current_app.config.get("GENERATORS_PATH"),
    )
    s = session()
    u = user()
    f = Fault(tripped_breaker=data.get("tripped_breaker"), fault_indicators=data.get("fault_indicators"),
              calls=data.get("calls"), section=data.get("section"), now=now, created_by=u.id if u else None)
    s.add(f)
    s.flush()
    faults_service.store(s, f, result)
    s.commit()
    return fault_json(f, full=True)


@blp.route("")
@require(*READ_ROLES)
@blp.arguments(PageArgs, location="query")
@blp.response(200)
def list_faults(args: dict[str, Any]) -> Any:
    s = session()
    total = s.scalar(select(func.count()).select_from(Fault))
    rows = s.scalars(select(Fault).order_by(Fault.id.desc()).limit(args["limit"]).offset(args["offset"]))
    return {"total": total, "items": [fault_json(f) for f in rows]}


@blp.route("/<int:fault_id>")
@require(*READ_ROLES)
@blp.response(200)
def get_fault(fault_id: int) -> Any:
    return fault_json(get_or_404(Fault, fault_id, "fault"), full=True)


@blp.route("/<int:fault_id>", methods=["PATCH"])
@require("dispatcher")
@blp.arguments(FaultPatch)
@blp.response(200)
def update_fault(data: dict[str, Any], fault_id: int) -> Any:
    """Mark a fault restored or closed; ``version`` must be current."""
    f = get_or_404(Fault, fault_id, "fault")
    check_version(f, data["version"])
    if data["status"] != f.status:
        f.status = data["status"]
        if f.status == "restored":
            f.restored_at = utc_now()
        elif f.status == "closed":
            f.closed_at = utc_now()
            f.restored_at = f.restored_at or f.closed_at
    session().commit()
    return fault_json(f)


@blp.route("/<int:fault_id>/steps/<int:step_seq>", methods=["POST"])
@require("dispatcher")
@blp.arguments(SwitchingStepIn)
@blp.response(200)
def execute_step(data: dict[str, Any], fault_id: int, step_seq: int) -> Any:
    """Record switching step ``step_seq`` as executed (who and when are stored).

    Steps go in order (``next_step``): out of order is 409 ``step_out_of_order``, twice 409
    ``step_done``; ``version`` must be the fault's current one, else 409 ``stale_version``
    (another dispatcher acted first). Answers the fault with its new switching state.
    """
    f = get_or_404(Fault, fault_id, "fault")
    if f.version != data["version"]:
        raise ConflictError(
            f"fault {f.id} changed since you read it (version {data['version']}, now {f.version}): another "
            "dispatcher executed a step or changed its status; reload it and check the next step",
            code="stale_version", details={"current_version": f.version, "sent_version": data["version"]})
    u = user()
    faults_service.execute_step(session(), f, step_seq, at=utc_now(), user_id=u.id if u else None)
    session().commit()
    return fault_json(f, full=True)


@blp.route("/indicators")
@require(*READ_ROLES)
@blp.arguments(IndicatorArgs, location="query")
@blp.response(200)
def feeder_indicators(args: dict[str, Any]) -> Any:
    """The fault indicators of one feeder (the tripped one), optionally filtered by ``q``:
    ``{feeder, total, items: [{id, node, node_name, remote, lon, lat}]}``."""
    items = faults_service.feeder_indicators(grid(), args["feeder"], query=args.get("q"))
    return {"feeder": args["feeder"], "total": len(items), "items": items}


@blp.route("/<int:fault_id>/stages")
@require(*READ_ROLES)
@blp.response(200)
def fault_stages(fault_id: int) -> Any:
    """The restoration stages (remote, manual), each with steps, restored and still-out customers."""
    f = get_or_404(Fault, fault_id, "fault")
    return {"fault_id": f.id, "stages": stages_json(f, faults_service.crew_progress(session(), f)),
            "repair": (f.result or {}).get("repair")}


def _customers(f: Fault) -> Any:
    """Every customer who lost supply, with ``supply_status`` (``restored`` | ``out`` in the
    switching state the executed steps left, not the plan) and ``restoration`` (when the supply
    came back, or the plan's estimate while out; grid time, ISO 8601)."""
    status = faults_service.supply_status(grid(), f)
    return customers_frame(grid(), list(status), with_phones=sees_phones(), extra={
        "supply_status": {c: s for c, (s, _) in status.items()},
        "restoration": {c: iso(at) for c, (_, at) in status.items()},
    })


@blp.route("/<int:fault_id>/customers")
@require(*READ_ROLES)
@blp.arguments(CustomerArgs, location="query")
@blp.response(200)
def fault_customers(args: dict[str, Any], fault_id: int) -> Any:
    """Customers who lost supply in this fault (phones and accounts for customer_service/admin
    only), each restored or still out (following the executed switching steps) with its restoration
    time (estimated while out); ``importance``,
    ``q`` and ``columns`` as in the export. ``total`` counts the rows listed, ``restored`` and
    ``still_out`` the whole fault."""
    f = get_or_404(Fault, fault_id, "fault")
    every = _customers(f)
    df = customer_view(every, args)
    out = int((every["supply_status"] == faults_service.OUT).sum()) if len(every) else 0
    return {"fault_id": f.id, "total": len(df), "restored": len(every) - out, "still_out": out,
            "items": df.to_dict(orient="records")}


@blp.route("/<int:fault_id>/customers/export")
@require(*READ_ROLES)
@blp.arguments(ExportArgs, location="query")
@blp.response(200, content_type="application/octet-stream")
def export_fault_customers(args: dict[str, Any], fault_id: int) -> Any:
    """The customers of :func:`fault_customers` with the same filter and columns, as a file."""
    f = get_or_404(Fault, fault_id, "fault")
    df = customer_view(_customers(f), args)
    return export_response(df, args["format"], sheet=f"fault {f.id}", subject="fault", subject_id=f.id, what="customers", day=f.now)
