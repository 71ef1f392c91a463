"""The notifications outbox: list (filters, totals, paging), export, mark sent, send what is due;
the notice compliance of published outages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
import pandas as pd
from flask import current_app
from sqlalchemy import Select, func, select

from app.api import ApiBlueprint
from app.api.common import (
    MAX_INT_ID,
    PageArgs,
    export_response,
    get_or_404,
    grid,
    iso,
    session,
    utc_now,
)
from app.auth import require, sees_phones
from app.input_policy import PolicyDateTime
from app.models import Notification
from app.notify import make_sender, send_due
from app.services.customers import phone_book
from app.services.notices import compliance
from gis.errors import InputError
from planning.outages.workflow import VERDICTS

blp = ApiBlueprint("notifications", __name__, url_prefix="/api/notifications", description="Notifications outbox")

STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


KINDS = ("notice", "sms", "cancel", "fault", "crew_link")
#: ``planned``: messages of planned outages (notice, sms, cancel); ``fault``: of faults; ``crew``:
#: route links sent to crews (``crew_link``, to ``recipient``).
GROUPS = ("planned", "fault", "crew")
#: Columns of the outbox export (``phone`` after ``customer_id`` for customer service and admin).
EXPORT_COLUMNS = ["id", "group", "kind", "channel", "outage_id", "fault_id", "customer_id", "due_at", "status",
                  "attempts", "sent_at", "last_error", "text_en", "text_zh"]
MAX_EXPORT_ROWS = 200_000


class FilterArgs(ma.Schema):
    group = ma.fields.String(validate=ma.validate.OneOf(GROUPS), metadata={"description": "planned (outages) or fault"})
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    channel = ma.fields.String(validate=ma.validate.Length(1, 16))
    outage_id = ma.fields.Integer(validate=ma.validate.Range(1, MAX_INT_ID))
    fault_id = ma.fields.Integer(validate=ma.validate.Range(1, MAX_INT_ID))
    customer_id = ma.fields.String(validate=ma.validate.Length(1, 64))
    due_before = PolicyDateTime()


class ListArgs(PageArgs, FilterArgs):
    pass


class ExportArgs(FilterArgs):
    format = ma.fields.String(load_default="csv", validate=ma.validate.OneOf(["csv", "xlsx"]))


class ComplianceArgs(PageArgs):
    outage_id = ma.fields.Integer(validate=ma.validate.Range(1, MAX_INT_ID))
    verdict = ma.fields.String(validate=ma.validate.OneOf([v for v in VERDICTS if v != "on_time"]),
                               metadata={"description": "list only late or only pending customers"})


def filtered(args: dict[str, Any]) -> Select[Any]:
    """The outbox query of the filters in ``args`` (one definition for the list, totals and export)."""
    q = select(Notification)
    for key in ("status", "kind", "channel", "outage_id", "fault_id", "customer_id"):
        if key in args:
            q = q.where(getattr(Notification, key) == args[key])
    if args.get("group") == "planned":
        q = q.where(Notification.outage_id.is_not(None))
    elif args.get("group") == "fault":
        q = q.where(Notification.fault_id.is_not(None))
    elif args.get("group") == "crew":
        q = q.where(Notification.outage_id.is_(None), Notification.fault_id.is_(None))
    if "due_before" in args:
        q = q.where(Notification.due_at <= args["due_before"])
    return q.order_by(Notification.due_at, Notification.id)


def totals(q: Select[Any]) -> dict[str, dict[str, int]]:
    """Counts of the matching messages by status, kind and group."""
    sub = q.order_by(None).subquery()
    s = session()
    out: dict[str, dict[str, int]] = {}
    for name, col in (("by_status", sub.c.status), ("by_kind", sub.c.kind)):
        out[name] = {str(k): int(n) for k, n in s.execute(select(col, func.count()).group_by(col))}
    planned = s.scalar(select(func.count()).where(sub.c.outage_id.is_not(None))) or 0
    fault = s.scalar(select(func.count()).where(sub.c.fault_id.is_not(None))) or 0
    crew = s.scalar(select(func.count()).where(sub.c.outage_id.is_(None), sub.c.fault_id.is_(None))) or 0
    out["by_group"] = {"planned": int(planned), "fault": int(fault), "crew": int(crew)}
    return out


def phones() -> Mapping[str, str] | None:
    """The grid's phone book for customer service and admin, else None (no ``phone`` field)."""
    return phone_book(grid()) if sees_phones() else None


def group_of(n: Notification) -> str:
    return "fault" if n.fault_id is not None else "planned" if n.outage_id is not None else "crew"


def notification_json(n: Notification, book: Mapping[str, str] | None) -> dict[str, Any]:
    out = {"id": n.id, "group": group_of(n), "kind": n.kind, "channel": n.channel,
           "outage_id": n.outage_id, "fault_id": n.fault_id,
           "customer_id": n.customer_id, "due_at": iso(n.due_at), "status": n.status, "attempts": n.attempts,
           "sent_at": iso(n.sent_at), "last_error": n.last_error, "text_en": n.text_en, "text_zh": n.text_zh}
    if book is not None:
        out["phone"] = n.recipient or book.get(n.customer_id)
    return out


@blp.route("")
@require("customer_service", "dispatcher", "planner")
@blp.arguments(ListArgs, location="query")
@blp.response(200)
def list_notifications(args: dict[str, Any]) -> Any:
    """Outbox messages by due time, one page (``limit``, ``offset``) of those matching the filters;
    ``total`` and ``totals`` (by status, kind, group) count every match. Phones for
    customer_service/admin only."""
    q = filtered(args)
    s = session()
    total = s.scalar(select(func.count()).select_from(q.order_by(None).subquery()))
    rows = s.scalars(q.limit(args["limit"]).offset(args["offset"]))
    book = phones()
    return {"total": total, "limit": args["limit"], "offset": args["offset"], "totals": totals(q),
            "items": [notification_json(n, book) for n in rows]}


@blp.route("/export")
@require("customer_service", "dispatcher", "planner")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, content_type="application/octet-stream")
def export_notifications(args: dict[str, Any]) -> Any:
    """Every message matching the list's filters (not one page) as ``format=csv`` (UTF-8 with BOM)
    or ``xlsx``: the list's columns, times in the grid's zone (at most 200,000 rows: 422 beyond)."""
    q = filtered(args)
    s = session()
    total = s.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    if total > MAX_EXPORT_ROWS:
        raise InputError(f"{total} messages match: narrow the filters to at most {MAX_EXPORT_ROWS}", code="too_many_rows",
                         details={"total": total, "max": MAX_EXPORT_ROWS})
    book = phones()
    cols = EXPORT_COLUMNS[:7] + (["phone"] if book is not None else []) + EXPORT_COLUMNS[7:]
    df = pd.DataFrame([notification_json(n, book) for n in s.scalars(q)], columns=cols)
    which = args.get("group") or "all"
    return export_response(df, args["format"], sheet="notifications", subject="notifications", subject_id=which,
                           what="outbox", day=utc_now())


@blp.route("/compliance")
@require("customer_service", "dispatcher", "planner")
@blp.arguments(ComplianceArgs, location="query")
@blp.response(200)
def notice_compliance(args: dict[str, Any]) -> Any:
    """Was every affected customer of each published or executed outage sent its notice by the
    deadline (start minus the notice lead, 7 days)? ``outages``: per outage ``customers``,
    ``on_time``, ``late``, ``pending`` (not sent yet, deadline ahead); ``totals``; ``items``: one
    page of the customers not on time with ``verdict`` and ``reason`` (``no_notice``,
    ``published_late``, ``sent_late``, ``not_sent``, ``send_failed``, ``message_cancelled``)."""
    c = compliance(session(), now=utc_now(), outage_ids=[args["outage_id"]] if "outage_id" in args else None)
    found = [f for f in c.findings if args.get("verdict") in (None, f["verdict"])]
    page = found[args["offset"]:args["offset"] + args["limit"]]
    return {
        "outages": [{"outage_id": o.outage_id, "status": o.status, "start": iso(o.start), "notice_deadline": iso(o.deadline),
                     "published_at": iso(o.published_at), "customers": o.customers, "on_time": o.on_time, "late": o.late,
                     "pending": o.pending} for o in c.outages],
        "totals": c.totals(), "total": len(found), "limit": args["limit"], "offset": args["offset"],
        "items": [{**f, "notice_deadline": iso(f["notice_deadline"]), "sent_at": iso(f["sent_at"])} for f in page],
    }


@blp.route("/<int:notification_id>/sent", methods=["POST"])
@require("customer_service")
@blp.response(200)
def mark_sent(notification_id: int) -> Any:
    """Mark a message sent by hand (e.g. phoned). Repeating it changes nothing."""
    n = get_or_404(Notification, notification_id, "notification")
    if n.status != "sent":
        n.status, n.sent_at = "sent", datetime.now(UTC)
        session().commit()
    return notification_json(n, phones())


@blp.route("/send-due", methods=["POST"])
@require("customer_service")
@blp.response(200)
def send_due_now() -> Any:
    """Send every pending message that is due with the configured sender (idempotent)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return send_due(app.extensions["db"], make_sender(app.config), phones=phone_book(grid()), tz=grid().timezone)
