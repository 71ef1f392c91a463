"""planning.outages.workflow: the outage's steps, the notice-lead check, each customer's verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gis.errors import ConflictError, InputError
from planning.outages.workflow import (
    ACTIONS,
    STATUSES,
    actions_from,
    check_notice_lead,
    judge_notice,
    next_status,
)

START = datetime(2026, 12, 20, 8, 0, tzinfo=UTC)
DEADLINE = START - timedelta(days=7)


def test_the_happy_path_and_its_end_states() -> None:
    status = "planned"
    for action, want in (("review", "reviewed"), ("approve", "approved"), ("publish", "published"), ("execute", "done")):
        status = next_status(status, action)
        assert status == want
    assert actions_from("done") == [] and actions_from("cancelled") == []
    assert actions_from("planned") == ["review", "cancel"]
    assert actions_from("published") == ["execute", "cancel"]
    # every action leads to a known status and starts from known ones
    assert all(target in STATUSES and set(sources) <= set(STATUSES) for sources, target in ACTIONS.values())


@pytest.mark.parametrize(("status", "action"), [("planned", "approve"), ("planned", "publish"), ("reviewed", "publish"),
                                                ("published", "reopen"), ("done", "cancel"), ("cancelled", "review"),
                                                ("approved", "execute")])
def test_steps_out_of_order_are_conflicts(status: str, action: str) -> None:
    with pytest.raises(ConflictError) as exc:
        next_status(status, action)
    assert exc.value.code == "transition_not_allowed" and exc.value.details["status"] == status
    assert status not in exc.value.details["allowed_from"]


def test_an_unknown_action_is_bad_input() -> None:
    with pytest.raises(InputError) as exc:
        next_status("planned", "launch")
    assert exc.value.code == "unknown_action"


def test_notice_lead() -> None:
    lead = timedelta(days=7)
    assert check_notice_lead(START, now=DEADLINE, lead=lead) == DEADLINE  # exactly on the deadline is still in time
    with pytest.raises(InputError) as exc:
        check_notice_lead(START, now=DEADLINE + timedelta(hours=30), lead=lead)
    assert exc.value.code == "notice_too_late" and exc.value.details["short_by_h"] == 30.0
    assert exc.value.details["notice_deadline"] == "2026-12-13T08:00:00+00:00"
    with pytest.raises(InputError) as exc:
        check_notice_lead(None, now=DEADLINE, lead=lead)
    assert exc.value.code == "no_start"


@pytest.mark.parametrize(("now", "published", "status", "sent", "want"), [
    (DEADLINE, DEADLINE - timedelta(days=1), "sent", DEADLINE, ("on_time", None)),
    (START, DEADLINE - timedelta(days=1), "sent", DEADLINE + timedelta(seconds=1), ("late", "sent_late")),
    (START, DEADLINE + timedelta(hours=1), "sent", DEADLINE + timedelta(hours=2), ("late", "published_late")),
    (START, DEADLINE + timedelta(hours=1), "pending", None, ("late", "published_late")),
    (DEADLINE - timedelta(hours=1), DEADLINE - timedelta(days=2), "pending", None, ("pending", None)),
    (DEADLINE + timedelta(hours=1), DEADLINE - timedelta(days=2), "pending", None, ("late", "not_sent")),
    (DEADLINE - timedelta(hours=1), DEADLINE - timedelta(days=2), "failed", None, ("pending", "send_failed")),
    (DEADLINE + timedelta(hours=1), None, "failed", None, ("late", "send_failed")),
    (DEADLINE - timedelta(days=3), None, None, None, ("late", "no_notice")),
    (START, None, "cancelled", None, ("late", "message_cancelled")),
])
def test_judge_notice(now: datetime, published: datetime | None, status: str | None, sent: datetime | None,
                      want: tuple[str, str | None]) -> None:
    v = judge_notice(deadline=DEADLINE, now=now, published_at=published, status=status, sent_at=sent)
    assert (v.verdict, v.reason) == want
