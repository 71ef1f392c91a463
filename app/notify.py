"""The notifications outbox and its senders.

Senders: ``file`` (default; one JSON line per message appended to ``NOTIFY_FILE``),
``log`` (the Python log) and ``webhook`` (HTTP POST of JSON to ``NOTIFY_WEBHOOK_URL``,
e.g. an SMS gateway). :func:`send_due` claims each due ``pending`` message by
flipping it to ``sending`` in its own transaction, so two concurrent runs never
send the same message twice, and a second run sends nothing new (idempotent).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select, update

from app.models import Notification
from app.times import local_iso

log = logging.getLogger(__name__)


class Sender(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...


class FileSender:
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def send(self, message: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(message, ensure_ascii=False) + "\n")


class LogSender:
    def send(self, message: dict[str, Any]) -> None:
        log.info("notification %s to %s: %s", message["id"], message["customer_id"], message["text_en"])


class WebhookSender:
    def __init__(self, url: str, *, timeout_s: float) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def send(self, message: dict[str, Any]) -> None:
        import requests

        resp = requests.post(self.url, json=message, timeout=self.timeout_s,
                             headers={"Idempotency-Key": f"notification-{message['id']}"})
        resp.raise_for_status()


def make_sender(config: dict[str, Any]) -> Sender:
    kind = config["NOTIFY_SENDER"]
    if kind == "webhook":
        return WebhookSender(config["NOTIFY_WEBHOOK_URL"], timeout_s=float(config["NOTIFY_WEBHOOK_TIMEOUT_S"]))
    if kind == "log":
        return LogSender()
    return FileSender(config["NOTIFY_FILE"])


def message_of(n: Notification, phone: str | None, *, tz: tzinfo) -> dict[str, Any]:
    """What a sender gets: the message with the recipient's phone (a message to someone who is not
    a customer, e.g. a crew's route link, carries its own ``recipient``) and ``due_at`` in ``tz``."""
    return {"id": n.id, "kind": n.kind, "customer_id": n.customer_id, "phone": n.recipient or phone,
            "due_at": local_iso(n.due_at, tz),
            "text_en": n.text_en, "text_zh": n.text_zh, "outage_id": n.outage_id, "fault_id": n.fault_id}


def send_due(db: Any, sender: Sender, *, now: datetime | None = None, phones: Mapping[str, str] | None = None,
             tz: tzinfo = UTC, limit: int = 10_000) -> dict[str, int]:
    """Send every pending message due at ``now``; returns counts {sent, failed}.

    ``phones``: customer id -> phone (:func:`app.services.customers.phone_book`); ``tz``: the
    zone the messages' ``due_at`` is written in (the service passes the grid's)."""
    now = now or datetime.now(UTC)
    counts = {"sent": 0, "failed": 0}
    with db.session(actor="notify") as s:
        ids = list(s.scalars(select(Notification.id).where(Notification.status == "pending", Notification.due_at <= now)
                             .order_by(Notification.due_at, Notification.id).limit(limit)))
    for nid in ids:
        with db.session(actor="notify") as s:
            claimed = s.execute(update(Notification).where(Notification.id == nid, Notification.status == "pending")
                                .values(status="sending", attempts=Notification.attempts + 1))
            if not claimed.rowcount:
                continue
        with db.session(actor="notify") as s:
            n = s.get(Notification, nid)
            assert n is not None
            try:
                sender.send(message_of(n, (phones or {}).get(n.customer_id), tz=tz))
            except Exception as exc:  # noqa: BLE001 - a failed send is recorded, the rest go on
                log.warning("notification %s failed: %s", nid, exc)
                n.status, n.last_error = "failed", str(exc)[:1000]
                counts["failed"] += 1
            else:
                n.status, n.sent_at = "sent", datetime.now(UTC)
                counts["sent"] += 1
    return counts
