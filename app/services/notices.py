"""Notice compliance: was every affected customer of a published outage told in time?

For each published or executed outage, each ``outage_customers`` row is judged by
:func:`planning.outages.workflow.judge_notice` against the outage's notice deadline (start
minus its plan's notice lead, :func:`app.services.outage_workflow.notice_deadline`), its
``notice`` message in the outbox and when the outage was published (its ``publish`` step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Notification, Outage, OutageCustomer, OutageTransition
from app.services.outage_workflow import notice_deadline
from planning.outages.workflow import NOTIFIED_STATUSES, judge_notice


@dataclass
class OutageCompliance:
    """One outage's tally: customers on time, late and pending (deadline ahead, not sent yet)."""

    outage_id: int
    status: str
    start: datetime | None
    deadline: datetime | None
    published_at: datetime | None
    customers: int = 0
    on_time: int = 0
    late: int = 0
    pending: int = 0


@dataclass
class Compliance:
    """Per-outage tallies and every customer not (yet) on time, outage by outage in customer order."""

    outages: list[OutageCompliance] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        return {k: sum(getattr(o, k) for o in self.outages) for k in ("customers", "on_time", "late", "pending")}


def compliance(s: Session, *, now: datetime, outage_ids: Sequence[int] | None = None) -> Compliance:
    """The notice compliance of the published and executed outages (``outage_ids``: only those)."""
    q = (select(Outage).where(Outage.status.in_(NOTIFIED_STATUSES)).order_by(Outage.start, Outage.id)
         .options(selectinload(Outage.plan)))
    if outage_ids is not None:
        q = q.where(Outage.id.in_(list(outage_ids)))
    outages = list(s.scalars(q))
    ids = [o.id for o in outages]
    published = {oid: at for oid, at in s.execute(
        select(OutageTransition.outage_id, OutageTransition.at).where(OutageTransition.outage_id.in_(ids),
                                                                      OutageTransition.action == "publish"))}
    notices = {(oid, cid): (status, sent_at, err) for oid, cid, status, sent_at, err in s.execute(
        select(Notification.outage_id, Notification.customer_id, Notification.status, Notification.sent_at,
               Notification.last_error).where(Notification.outage_id.in_(ids), Notification.kind == "notice"))}
    customers: dict[int, list[str]] = {oid: [] for oid in ids}
    for oid, cid in s.execute(select(OutageCustomer.outage_id, OutageCustomer.customer_id)
                              .where(OutageCustomer.outage_id.in_(ids)).order_by(OutageCustomer.id)):
        customers[oid].append(cid)
    out = Compliance()
    for o in outages:
        deadline = notice_deadline(o)
        tally = OutageCompliance(o.id, o.status, o.start, deadline, published.get(o.id))
        for cid in customers[o.id]:
            status, sent_at, err = notices.get((o.id, cid), (None, None, None))
            tally.customers += 1
            if deadline is None:
                continue
            v = judge_notice(deadline=deadline, now=now, published_at=tally.published_at, status=status, sent_at=sent_at)
            setattr(tally, v.verdict, getattr(tally, v.verdict) + 1)
            if v.verdict != "on_time":
                out.findings.append({"outage_id": o.id, "customer_id": cid, "verdict": v.verdict, "reason": v.reason,
                                     "notice_deadline": deadline, "status": status, "sent_at": sent_at, "last_error": err})
        out.outages.append(tally)
    return out
