"""The notifications outbox: list, mark sent, send what is due."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import func, select

from app.api import ApiBlueprint
from app.api.common import PageArgs, get_or_404, grid, iso, session
from app.auth import require, sees_phones
from app.input_policy import PolicyDateTime
from app.models import Notification
from app.notify import make_sender, send_due
from app.services.customers import phone_book

blp = ApiBlueprint("notifications", __name__, url_prefix="/api/notifications", description="Notifications outbox")

STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


class ListArgs(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    kind = ma.fields.String(validate=ma.validate.OneOf(["notice", "sms", "fault", "crew_link"]))
    outage_id = ma.fields.Integer(validate=ma.validate.Range(1, 2**31 - 1))
    fault_id = ma.fields.Integer(validate=ma.validate.Range(1, 2**31 - 1))
    due_before = PolicyDateTime()


def phones() -> Mapping[str, str] | None:
    """The grid's phone book for customer service and admin, else None (no ``phone`` field)."""
    return phone_book(grid()) if sees_phones() else None


def notification_json(n: Notification, book: Mapping[str, str] | None) -> dict[str, Any]:
    out = {"id": n.id, "kind": n.kind, "channel": n.channel, "outage_id": n.outage_id, "fault_id": n.fault_id,
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
    """Outbox messages by due time (phones for customer_service/admin only)."""
    q = select(Notification)
    for key in ("status", "kind", "outage_id", "fault_id"):
        if key in args:
            q = q.where(getattr(Notification, key) == args[key])
    if "due_before" in args:
        q = q.where(Notification.due_at <= args["due_before"])
    s = session()
    total = s.scalar(select(func.count()).select_from(q.subquery()))
    rows = s.scalars(q.order_by(Notification.due_at, Notification.id).limit(args["limit"]).offset(args["offset"]))
    book = phones()
    return {"total": total, "items": [notification_json(n, book) for n in rows]}


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
