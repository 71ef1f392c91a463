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
from app.models import Fault
from app.services import faults as faults_service
from app.services.customers import customers_frame

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


def fault_json(f: Fault, *, full: bool = False) -> dict[str, Any]:
    out = {"id": f.id, "status": f.status, "version": f.version, "tripped_breaker": f.tripped_breaker,
           "fault_indicators": f.fault_indicators, "calls": f.calls, "section": f.section, "now": iso(f.now),
           "created_at": iso(f.created_at), "grid_version_id": f.grid_version_id, "candidates": f.candidates, "stages": [stage_json(s) for s in f.stages]}
    if full:
        r = f.result or {}
        out |= {k: r.get(k) for k in ("repair", "generators", "metrics")}
    return out


def stage_json(s: Any) -> dict[str, Any]:
    return {"seq": s.seq, "kind": s.kind, "steps": s.steps, "restored_customers": s.restored_customers,
            "still_out": s.still_out, **s.data}


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
    f.status = data["status"]
    session().commit()
    return fault_json(f)


@blp.route("/<int:fault_id>/stages")
@require(*READ_ROLES)
@blp.response(200)
def fault_stages(fault_id: int) -> Any:
    """The restoration stages (remote, manual), each with steps, restored and still-out customers."""
    f = get_or_404(Fault, fault_id, "fault")
    return {"fault_id": f.id, "stages": [stage_json(s) for s in f.stages], "repair": (f.result or {}).get("repair")}


def _customers(f: Fault) -> Any:
    """Every customer who lost supply, with ``supply_status`` (``restored`` | ``out``, now) and
    ``restoration`` (when the supply is back or is estimated back; grid time, ISO 8601)."""
    status = faults_service.supply_status(f, now=utc_now())
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
    only), each restored or still out with its (estimated) restoration time; ``importance``,
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
