"""An outage's workflow: review, approve (planner lead), publish (notices queued), cancel, reopen;
its status history. Executing is ``POST /api/outages/{id}/executed`` (app/api/reliability.py)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import select

from app.api import ApiBlueprint
from app.api.common import get_or_404, grid, iso, session, utc_now
from app.api.plans import outage_json
from app.auth import READ_ROLES, has_role, require, user
from app.models import Outage, OutageTransition
from app.services import outage_workflow as workflow_service
from planning.outages.workflow import actions_from

blp = ApiBlueprint("workflow", __name__, url_prefix="/api",
                   description="Outage workflow: planned -> reviewed -> approved -> published -> executed, or cancelled")

#: Who may take each step (admin always). A planner lead holds every planner right too.
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "review": ("planner",),
    "reopen": ("planner",),
    "approve": ("planner_lead",),
    "publish": ("planner",),
    "cancel": ("planner",),
    "execute": ("planner", "dispatcher"),
}


class StepIn(ma.Schema):
    version = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 2**31 - 1),
                                metadata={"description": "the outage's version as last read (409 if it moved on)"})
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000),
                            metadata={"description": "why (e.g. the reason for a cancellation)"})


def transition_json(t: OutageTransition) -> dict[str, Any]:
    return {"id": t.id, "action": t.action, "from": t.from_status, "to": t.to_status, "by": t.actor, "at": iso(t.at),
            "note": t.note, "details": t.details}


def workflow_json(o: Outage) -> dict[str, Any]:
    """The outage with its status history, the steps the caller may take now and the notice deadline."""
    s = session()
    history = s.scalars(select(OutageTransition).where(OutageTransition.outage_id == o.id).order_by(OutageTransition.id))
    deadline = workflow_service.notice_deadline(o)
    return {**outage_json(o), "history": [transition_json(t) for t in history],
            "actions": [a for a in actions_from(o.status) if has_role(*ACTION_ROLES[a])],
            "notice_deadline": iso(deadline), "notice_short": deadline is not None and deadline < utc_now()}


def _step(outage_id: int, action: str, data: dict[str, Any]) -> dict[str, Any]:
    o = get_or_404(Outage, outage_id, "outage")
    s = session()
    workflow_service.transition(s, o, action, version=data["version"], now=utc_now(), user=user(), tz=grid().timezone,
                                note=data["note"])
    s.commit()
    return workflow_json(o)


@blp.route("/outages/<int:outage_id>/history")
@require(*READ_ROLES)
@blp.response(200)
def outage_history(outage_id: int) -> Any:
    """The outage's status, its history (``action``, ``from``, ``to``, ``by``, ``at``, ``note``,
    ``details``), the steps the caller may take now (``actions``), the notice deadline and
    ``notice_short`` (the deadline has passed: approve and publish are refused)."""
    return workflow_json(get_or_404(Outage, outage_id, "outage"))


@blp.route("/outages/<int:outage_id>/review", methods=["POST"])
@require(*ACTION_ROLES["review"])
@blp.arguments(StepIn)
@blp.response(200)
@blp.alt_response(409, description="stale_version (someone else moved the outage on) or transition_not_allowed")
def review_outage(data: dict[str, Any], outage_id: int) -> Any:
    """planned -> reviewed: a planner has checked the outage (window, switching, customers)."""
    return _step(outage_id, "review", data)


@blp.route("/outages/<int:outage_id>/reopen", methods=["POST"])
@require(*ACTION_ROLES["reopen"])
@blp.arguments(StepIn)
@blp.response(200)
@blp.alt_response(409, description="stale_version or transition_not_allowed")
def reopen_outage(data: dict[str, Any], outage_id: int) -> Any:
    """reviewed or approved -> planned: sent back for another look (nothing was announced yet)."""
    return _step(outage_id, "reopen", data)


@blp.route("/outages/<int:outage_id>/approve", methods=["POST"])
@require(*ACTION_ROLES["approve"])
@blp.arguments(StepIn)
@blp.response(200)
@blp.alt_response(409, description="stale_version or transition_not_allowed")
@blp.alt_response(422, description="notice_too_late: the 7-day notice deadline has passed")
def approve_outage(data: dict[str, Any], outage_id: int) -> Any:
    """reviewed -> approved (planner lead or admin); refused once the notice deadline has passed."""
    return _step(outage_id, "approve", data)


@blp.route("/outages/<int:outage_id>/publish", methods=["POST"])
@require(*ACTION_ROLES["publish"])
@blp.arguments(StepIn)
@blp.response(200)
@blp.alt_response(409, description="stale_version or transition_not_allowed")
@blp.alt_response(422, description="notice_too_late: the 7-day notice deadline has passed")
def publish_outage(data: dict[str, Any], outage_id: int) -> Any:
    """approved -> published: the 7-day notice and the 10-minute SMS of every affected customer
    are queued in the same transaction (all or nothing); re-planning no longer moves it."""
    return _step(outage_id, "publish", data)


@blp.route("/outages/<int:outage_id>/cancel", methods=["POST"])
@require(*ACTION_ROLES["cancel"])
@blp.arguments(StepIn)
@blp.response(200)
@blp.alt_response(409, description="stale_version or transition_not_allowed (executed or already cancelled)")
def cancel_outage(data: dict[str, Any], outage_id: int) -> Any:
    """-> cancelled: pending notices are cancelled; customers already notified get a
    cancellation message, due at once."""
    return _step(outage_id, "cancel", data)
