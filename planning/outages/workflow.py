"""The life of a planned outage after planning, and whether its customers were told in time.

States (``Outage.status`` in the service)::

    planned --review--> reviewed --approve--> approved --publish--> published --execute--> done
       ^                   |                      |                     |
       +------reopen-------+----------------------+                     |
    planned / reviewed / approved / published --cancel--> cancelled     |

``done`` (executed) and ``cancelled`` are final. Who may take each step is the service's
business (roles); this module says only which steps exist and which status each leads to,
when the advance notice is already too short, and how each customer's notice is judged.

No Flask, no database: plain values in, plain values out. Times are timezone-aware.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gis.errors import ConflictError, InputError

#: Every status an outage can have, in workflow order (``done`` = executed).
STATUSES = ("planned", "reviewed", "approved", "published", "done", "cancelled")

#: action -> (statuses it starts from, status it leads to)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "review": (("planned",), "reviewed"),
    "reopen": (("reviewed", "approved"), "planned"),
    "approve": (("reviewed",), "approved"),
    "publish": (("approved",), "published"),
    "execute": (("published",), "done"),
    "cancel": (("planned", "reviewed", "approved", "published"), "cancelled"),
}

#: Statuses whose customers have been (or are being) told: notices exist for them.
NOTIFIED_STATUSES = ("published", "done")


def next_status(status: str, action: str) -> str:
    """The status ``action`` leads to from ``status``.

    Raises :class:`~gis.errors.InputError` (``unknown_action``) for an action that does not
    exist and :class:`~gis.errors.ConflictError` (``transition_not_allowed``) when the
    action cannot start from ``status``; ``details`` names the allowed starting statuses.
    """
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r}; actions are {', '.join(ACTIONS)}", code="unknown_action")
    sources, target = ACTIONS[action]
    if status not in sources:
        raise ConflictError(
            f"cannot {action} an outage that is {status}: only a {' or '.join(sources)} outage can be",
            code="transition_not_allowed",
            details={"status": status, "action": action, "allowed_from": list(sources)},
        )
    return target


def actions_from(status: str) -> list[str]:
    """The actions that can start from ``status`` (in :data:`ACTIONS` order)."""
    return [a for a, (sources, _) in ACTIONS.items() if status in sources]


def check_notice_lead(start: datetime | None, *, now: datetime, lead: timedelta) -> datetime:
    """The notice deadline (``start - lead``), checked to be still ahead of ``now``.

    An outage whose first notice would already be late (``start - lead < now``) cannot be
    approved or published: raises :class:`~gis.errors.InputError` ``notice_too_late``
    with the deadline, the start and how short the lead is (``details.short_by_h``,
    hours). An outage without a start raises ``no_start``.
    """
    if start is None:
        raise InputError("the outage has no start time: it cannot be announced", code="no_start")
    deadline = start - lead
    if deadline < now:
        short_h = round((now - deadline).total_seconds() / 3600, 1)
        days = lead.total_seconds() / 86400
        raise InputError(
            f"the outage starts {start.isoformat()}: its {days:g}-day notice was due {deadline.isoformat()}, "
            f"{short_h:g} h ago; move the outage (re-plan it) or cancel it",
            code="notice_too_late",
            details={"start": start.isoformat(), "notice_deadline": deadline.isoformat(), "now": now.isoformat(),
                     "lead_days": days, "short_by_h": short_h},
        )
    return deadline


#: Verdicts of :func:`judge_notice` and the reasons a notice is late (or at risk).
VERDICTS = ("on_time", "late", "pending")
REASONS = ("no_notice", "published_late", "sent_late", "not_sent", "send_failed", "message_cancelled")


@dataclass(frozen=True)
class NoticeVerdict:
    """How one customer's advance notice stands: ``verdict`` on_time | late | pending
    (not sent yet, deadline still ahead) and, when not on time, a ``reason`` code."""

    verdict: str
    reason: str | None = None


def judge_notice(*, deadline: datetime, now: datetime, published_at: datetime | None, status: str | None,
                 sent_at: datetime | None) -> NoticeVerdict:
    """Was this customer told by ``deadline`` (the outage start minus the notice lead)?

    ``status``/``sent_at``: the customer's notice message (outbox status pending | sending |
    sent | failed | cancelled; ``None`` when no notice exists); ``published_at``: when the
    outage was published (``None`` if unknown). Late reasons: ``no_notice`` (none queued),
    ``published_late`` (published after the deadline), ``sent_late`` (sent after it),
    ``not_sent`` (still unsent past it), ``send_failed`` (the sender failed; before the
    deadline it is ``pending`` with that reason: it can still be sent by hand),
    ``message_cancelled`` (the notice was cancelled although the outage went ahead).
    """
    if status is None:
        return NoticeVerdict("late", "no_notice")
    if status == "sent":
        if sent_at is not None and sent_at <= deadline:
            return NoticeVerdict("on_time")
        if published_at is not None and published_at > deadline:
            return NoticeVerdict("late", "published_late")
        return NoticeVerdict("late", "sent_late")
    if status == "cancelled":
        return NoticeVerdict("late", "message_cancelled")
    if published_at is not None and published_at > deadline:
        return NoticeVerdict("late", "published_late")
    if now <= deadline:
        return NoticeVerdict("pending", "send_failed" if status == "failed" else None)
    return NoticeVerdict("late", "send_failed" if status == "failed" else "not_sent")
