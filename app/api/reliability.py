"""Executed interruptions and the reliability report (issue "the planning year"); the ledger proposal."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from sqlalchemy import func, select

from app.api import ApiBlueprint
from app.api.common import (
    export_response,
    get_or_404,
    grid,
    iso,
    session,
    uploaded_csv,
    utc_now,
)
from app.auth import READ_ROLES, require, user
from app.input_policy import PolicyDateTime
from app.models import Interruption, Outage
from app.services import outage_workflow as workflow_service
from app.services import reliability as reliability_service
from gis.errors import InputError
from gis.records import json_safe
from planning.outages.ledger import load_ledger_csv, propose_year

blp = ApiBlueprint("reliability", __name__, url_prefix="/api", description="Executed interruptions, reliability indices, the annual ledger")


class ExecutedIn(ma.Schema):
    actual_start = PolicyDateTime(required=True)
    actual_end = PolicyDateTime(required=True)
    version = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 2**31 - 1))


class WindowArgs(ma.Schema):
    start = PolicyDateTime(required=True, data_key="from")
    end = PolicyDateTime(required=True, data_key="to")


class ReportArgs(WindowArgs):
    med_threshold = ma.fields.Float(validate=ma.validate.Range(min=0, min_inclusive=False))
    by_feeder = ma.fields.Boolean(load_default=True)
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv", "xlsx"]))


class LedgerArgs(ma.Schema):
    year = ma.fields.Integer(required=True, validate=ma.validate.Range(2000, 2200))


def interruption_json(r: Interruption) -> dict[str, Any]:
    return {"id": r.id, "event": r.event, "kind": r.kind, "start": iso(r.start), "end": iso(r.end), "source": r.source,
            "customers": [c.customer_id for c in r.customers]}


@blp.route("/interruptions", methods=["POST"])
@require("planner", "dispatcher")
@blp.response(201)
@blp.alt_response(422, description="Per-row problems: details = [{row, id, field, code, message}]; nothing stored")
def add_interruptions() -> Any:
    """Record executed interruptions: a CSV (``event,kind,start,end,customers``; customers
    ``;``-separated; times with offset) as ``text/csv`` or multipart ``file``, or JSON
    ``{"interruptions": [{event, kind, start, end, customers}]}``. All rows or none."""
    data = uploaded_csv()
    if data is None:
        body = request.get_json(silent=True)
        records = body.get("interruptions") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            raise InputError('send a CSV, or JSON {"interruptions": [...]} with at least one row', code="bad_input")
        rows = reliability_service.parse_rows(grid(), records=records)
    else:
        rows = reliability_service.parse_rows(grid(), csv_data=data)
    s = session()
    u = user()
    ids = reliability_service.store(s, rows, source="import", user_id=u.id if u else None)
    s.commit()
    return {"stored": len(ids), "ids": ids}


@blp.route("/interruptions")
@require(*READ_ROLES)
@blp.arguments(WindowArgs, location="query")
@blp.response(200)
def list_interruptions(args: dict[str, Any]) -> Any:
    """Executed interruptions that began in ``[from, to)``."""
    s = session()
    q = select(Interruption).where(Interruption.start >= args["start"], Interruption.start < args["end"])
    total = s.scalar(select(func.count()).select_from(q.subquery()))
    return {"total": total, "items": [interruption_json(r) for r in s.scalars(q.order_by(Interruption.start, Interruption.id))]}


@blp.route("/outages/<int:outage_id>/executed", methods=["POST"])
@require("planner", "dispatcher")
@blp.arguments(ExecutedIn)
@blp.response(201)
def outage_executed(data: dict[str, Any], outage_id: int) -> Any:
    """The published outage was carried out from ``actual_start`` to ``actual_end``: status ``done``
    (the workflow step ``execute``, in its history) and one planned interruption of its customers
    who lost supply for the whole outage."""
    o = get_or_404(Outage, outage_id, "outage")
    s = session()
    iid = workflow_service.execute(s, o, version=data["version"], start=data["actual_start"], end=data["actual_end"],
                                   now=utc_now(), user=user(), tz=grid().timezone)
    s.commit()
    return interruption_json(get_or_404(Interruption, iid, "interruption"))


@blp.route("/reliability")
@require(*READ_ROLES)
@blp.arguments(ReportArgs, location="query")
@blp.response(200)
def reliability(args: dict[str, Any]) -> Any:
    """SAIFI, SAIDI, CAIDI, MAIFI, ASAI, ENS, AIHC-1 and RS-1 of the recorded interruptions that
    began in ``[from, to)``: per scope (``all`` and each feeder), period (``all`` and each month)
    and kind (docs/planning.md). ``format=csv|xlsx`` downloads the lines."""
    df, problems = reliability_service.report(session(), grid(), start=args["start"], end=args["end"],
                                              med_threshold_min=args.get("med_threshold"), by_feeder=args["by_feeder"])
    if args["format"] != "json":
        return export_response(df, args["format"], sheet="reliability", subject="reliability", subject_id="all",
                               what="indices", day=args["start"])
    return {"lines": json_safe(df.to_dict(orient="records")), "errors": problems}


@blp.route("/ledger/proposal", methods=["POST"])
@require("planner")
@blp.arguments(LedgerArgs, location="query")
@blp.response(200)
def ledger_proposal(args: dict[str, Any]) -> Any:
    """The year's jobs from a maintenance ledger CSV (``text/csv`` or multipart ``file``; columns
    in docs/planning.md): jobs, occurrences, bundles, months and the rows left out. Nothing is
    stored: the jobs go in through ``POST /api/jobs/import`` once the planner agrees."""
    data = uploaded_csv()
    if data is None:
        raise InputError("send the ledger as text/csv or as multipart field 'file'", code="bad_input")
    items, problems = load_ledger_csv(data)
    proposal = propose_year(grid(), items, year=args["year"])
    proposal.problems[:0] = problems
    return proposal.to_json()
