"""Glue to :mod:`planning.outages.workflow`: an outage's steps from planned to published and
executed or cancelled, each one transaction with its transition row and its outbox changes.

* ``publish`` queues the 7-day notice and the 10-minute SMS of every affected customer (the
  ``outage_customers`` rows) in the same transaction as the status change: an outage is never
  published without its notices, nor notices queued for an unpublished outage.
* ``approve`` and ``publish`` are refused (422 ``notice_too_late``) when the notice deadline
  (start minus the plan's notice lead, 7 days by default) has passed.
* ``cancel`` cancels the outage's pending messages and queues a cancellation message, due at
  once, to every customer already told (notice or SMS sent).
* A client sends the ``version`` it saw; another user's step in between is a 409
  ``stale_version`` naming who did what, when.

The caller commits (or rolls back) the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models import Notification, Outage, OutageCustomer, OutageTransition, User
from app.services import reliability as reliability_service
from app.services.planning import queue_notices
from app.times import local, local_iso
from gis.errors import ConflictError
from planning.outages import PlanOptions
from planning.outages.workflow import check_notice_lead, next_status

#: The transitions that announce the outage to customers: the notice lead must still be there.
NEEDS_NOTICE_LEAD = ("approve", "publish")


def notice_lead(outage: Outage) -> timedelta:
    """The advance-notice lead of ``outage``: its plan's ``notice_lead_days`` (default 7 days)."""
    days = (outage.plan.options or {}).get("notice_lead_days", PlanOptions().notice_lead_days)
    return timedelta(days=float(days))


def notice_deadline(outage: Outage) -> datetime | None:
    """When the outage's first notice is due (start minus :func:`notice_lead`), None without a start."""
    return outage.start - notice_lead(outage) if outage.start is not None else None


def check_fresh(s: Session, outage: Outage, version: int, *, tz: tzinfo) -> None:
    """The client's ``version`` must be the outage's; otherwise a 409 ``stale_version`` that says
    what changed since (the last workflow step: who, what, when) so the user knows why."""
    if outage.version == version:
        return
    last = s.scalar(select(OutageTransition).where(OutageTransition.outage_id == outage.id)
                    .order_by(OutageTransition.id.desc()).limit(1))
    since = (f"; last change: {last.action} by {last.actor or '?'} at {local_iso(last.at, tz)} (now {outage.status})"
             if last is not None else f" (now {outage.status})")
    raise ConflictError(
        f"outage {outage.id} was changed by someone else since you loaded it (you sent version {version}, "
        f"it is at {outage.version}){since}; reload and retry",
        code="stale_version",
        details={"current_version": outage.version, "sent_version": version, "status": outage.status,
                 "last_action": last.action if last else None, "last_actor": last.actor if last else None,
                 "last_at": local_iso(last.at, tz) if last else None},
    )


def _record(s: Session, outage: Outage, action: str, source: str, target: str, *, user: User | None, now: datetime,
            note: str, details: Mapping[str, Any]) -> OutageTransition:
    row = OutageTransition(outage_id=outage.id, action=action, from_status=source, to_status=target,
                           user_id=user.id if user else None, actor=user.username if user else "", at=now, note=note,
                           details=dict(details))
    s.add(row)
    outage.status = target
    s.flush()
    return row


def transition(s: Session, outage: Outage, action: str, *, version: int, now: datetime, user: User | None,
               tz: tzinfo, note: str = "") -> OutageTransition:
    """Take workflow step ``action`` (review, reopen, approve, publish, cancel) on ``outage``.

    Raises ``stale_version`` (409), ``transition_not_allowed`` (409), ``notice_too_late`` (422)
    before anything changes. ``tz``: the grid's zone, for messages and outbox texts."""
    check_fresh(s, outage, version, tz=tz)
    target = next_status(outage.status, action)
    details: dict[str, Any] = {}
    if action in NEEDS_NOTICE_LEAD:
        deadline = check_notice_lead(outage.start, now=now, lead=notice_lead(outage))
        details["notice_deadline"] = local_iso(deadline, tz)
    if action == "publish":
        details["queued"] = publish_notices(s, outage, tz=tz)
    elif action == "cancel":
        details |= cancel_notices(s, outage, now=now, tz=tz)
    return _record(s, outage, action, outage.status, target, user=user, now=now, note=note, details=details)


def execute(s: Session, outage: Outage, *, version: int, start: datetime, end: datetime, now: datetime,
            user: User | None, tz: tzinfo) -> int:
    """Record a published outage as executed from ``start`` to ``end`` (status ``done``, one
    planned interruption, :func:`app.services.reliability.executed`); returns the interruption id."""
    check_fresh(s, outage, version, tz=tz)
    target = next_status(outage.status, "execute")
    source = outage.status
    iid = reliability_service.executed(s, outage, start=start, end=end, user_id=user.id if user else None)
    _record(s, outage, "execute", source, target, user=user, now=now, note="",
            details={"actual_start": local_iso(start, tz), "actual_end": local_iso(end, tz), "interruption_id": iid})
    return iid


def _core_notices(outage: Outage) -> Mapping[str, Any]:
    """The core's notice texts of ``outage`` (``text``/``sms`` in English and Chinese) from its plan."""
    for o in (outage.plan.result or {}).get("outages", []):
        if isinstance(o, dict) and str(o.get("id")) == outage.core_id and isinstance(o.get("notices"), dict):
            return o["notices"]
    return {}


def publish_notices(s: Session, outage: Outage, *, tz: tzinfo) -> int:
    """Queue the notice and the SMS of every affected customer of ``outage``; returns how many."""
    rows = [{"customer_id": cid, "notice_due": nd, "sms_due": sd} for cid, nd, sd in s.execute(
        select(OutageCustomer.customer_id, OutageCustomer.notice_due, OutageCustomer.sms_due)
        .where(OutageCustomer.outage_id == outage.id).order_by(OutageCustomer.id))]
    return queue_notices(s, outage, rows, notices=_core_notices(outage), tz=tz)


def cancel_notices(s: Session, outage: Outage, *, now: datetime, tz: tzinfo) -> dict[str, int]:
    """Cancel the outage's pending messages; queue a cancellation (due ``now``) to each customer
    already sent a notice or an SMS. Returns ``{"cancelled": n, "cancellations": m}``."""
    told = list(dict.fromkeys(s.scalars(
        select(Notification.customer_id).where(Notification.outage_id == outage.id, Notification.kind.in_(("notice", "sms")),
                                               Notification.status.in_(("sent", "sending"))).order_by(Notification.id))))
    pending = list(s.scalars(select(Notification).where(Notification.outage_id == outage.id, Notification.status == "pending")))
    for n in pending:  # one by one: each cancellation is audited (app/audit.py)
        n.status = "cancelled"
    cancelled = len(pending)
    start, end = local(outage.start, tz), local(outage.end, tz)
    when = f"{start:%Y-%m-%d %H:%M} ({tz})" if start else "?"
    until = f"{end:%H:%M}" if end else "?"
    en = f"Cancelled: the planned power outage {when} to {until} (outage {outage.id}) will not take place."
    zh = f"停电取消通知：原定于{when}至{until}的计划停电（停电编号 {outage.id}）已取消，届时正常供电。"
    if told:
        s.execute(insert(Notification), [
            {"dedupe_key": f"outage:{outage.id}:{cid}:cancel", "kind": "cancel", "channel": "sms", "outage_id": outage.id,
             "customer_id": cid, "due_at": now, "text_en": en, "text_zh": zh, "status": "pending", "attempts": 0}
            for cid in told])
    return {"cancelled": cancelled, "cancellations": len(told)}
