"""Audit log: every insert, update and delete of an audited model, with before/after.

Bulk rows written with Core ``insert()`` (a plan's affected customers, thousands per plan;
the outbox messages an outage's publication or cancellation queues) are covered by the
plan's own audit rows and by the outage's workflow step (its update and its
``outage_transitions`` row, which counts them); their later changes (a notification sent
or cancelled) are audited one by one.

A ``before_flush`` listener on all ORM sessions writes :class:`app.models.AuditLog`
rows in the same transaction as the change, so a rolled-back change leaves no
audit row and a committed one always has one. The actor is ``session.info["actor"]``
(set per request from the logged-in user, or by the CLI / background run).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models import AuditLog, Base

SECRET_COLUMNS = {"password_hash", "token_hash"}


def _value(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _snapshot(obj: Base, *, old: bool = False) -> dict[str, Any]:
    state = inspect(obj)
    skip = getattr(obj, "__audit_skip__", ())
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in SECRET_COLUMNS:
            out[key] = "***"
            continue
        if key in skip:  # large computed results: record that they changed, not their content
            value = getattr(obj, key, None)
            out[key] = None if value is None else f"<{type(value).__name__} of {len(value)}>" if hasattr(value, "__len__") else "<set>"
            continue
        hist = state.attrs[key].history
        if old and hist.has_changes():
            value = hist.deleted[0] if hist.deleted else None
        else:
            value = getattr(obj, key, None)
        out[key] = _value(value)
    return out


def _pk(obj: Base) -> str:
    ident = inspect(obj).identity
    if ident:
        return ",".join(str(i) for i in ident)
    for col in inspect(obj).mapper.primary_key:
        v = getattr(obj, col.key, None) if col.key else None
        if v is not None:
            return str(v)
    return "?"


def _audited(obj: object) -> bool:
    return isinstance(obj, Base) and getattr(obj, "__audit__", True)


def _actor(session: Session) -> str | None:
    if session.info.get("actor"):
        return str(session.info["actor"])
    from flask import g, has_request_context

    if has_request_context():
        user = g.get("_login_user")  # already loaded by the role check; never load here
        if user is not None and getattr(user, "is_authenticated", False):
            return str(user.username)
    return None


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    actor = _actor(session)
    pending: list[tuple[str, Base]] = []
    for obj in session.new:
        if _audited(obj):
            pending.append(("create", obj))
    for obj in session.dirty:
        if _audited(obj) and session.is_modified(obj, include_collections=False):
            before = _snapshot(obj, old=True)
            after = _snapshot(obj)
            changed = {k for k in after if before.get(k) != after.get(k)}
            if changed:
                session.add(
                    AuditLog(
                        actor=actor,
                        action="update",
                        entity=obj.__tablename__,
                        entity_id=_pk(obj),
                        before={k: before[k] for k in changed},
                        after={k: after[k] for k in changed},
                    )
                )
    for obj in session.deleted:
        if _audited(obj):
            session.add(
                AuditLog(actor=actor, action="delete", entity=obj.__tablename__, entity_id=_pk(obj), before=_snapshot(obj))
            )
    if pending:
        session.info.setdefault("audit_new", []).extend(pending)


@event.listens_for(Session, "after_flush_postexec")
def _after_flush(session: Session, _ctx: Any) -> None:
    # New rows get their primary keys during the flush; record them now. The audit
    # rows join the same transaction; commit() keeps flushing until the session is
    # clean, so they are written before the transaction ends.
    pending = session.info.pop("audit_new", [])
    for action, obj in pending:
        session.add(
            AuditLog(
                actor=_actor(session),
                action=action,
                entity=obj.__tablename__,
                entity_id=_pk(obj),
                after=_snapshot(obj),
            )
        )
