"""Glue to :mod:`planning.faults` (issue 5): fault signals -> candidates -> restoration stages.

``locate_fault`` ranks candidate sections (best first), ``restore`` isolates the first
(or the section the dispatcher names) and restores healthy customers;
``FaultReport.to_json()`` gives ``{"candidates", "stages": [{"kind", "steps",
"restored_customers", "still_out"}], "repair", "generators", "messages", "metrics", ...}``,
stored by :func:`store`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Fault, FaultStage, Notification
from app.services.options import BadOptions, check_option_names
from gis import Grid, InputError, NotFoundError
from planning.faults import (
    Candidate,
    FaultOptions,
    FaultReport,
    Location,
    load_generators_csv,
    locate_fault,
    restore,
)

log = logging.getLogger(__name__)


def check_signals(grid: Grid, *, tripped_breaker: str | None, fault_indicators: dict[str, bool] | None,
                  calls: list[str] | None, section: str | None) -> None:
    """Cheap checks in the shell so unknown ids are 404 whatever the core does."""
    if not (tripped_breaker or fault_indicators or calls or section):
        raise InputError("give at least one of tripped_breaker, fault_indicators, calls, section")
    switches = set(grid.switches["id"].astype(str))
    if tripped_breaker and tripped_breaker not in switches:
        raise NotFoundError(f"no switch {tripped_breaker!r}", details={"tripped_breaker": tripped_breaker})
    unknown = sorted(set(fault_indicators or {}) - switches)
    if unknown:
        raise NotFoundError(f"unknown switch(es) in fault_indicators: {', '.join(unknown[:10])}", details={"unknown": unknown})
    if calls:
        customers = set(grid.customers["id"].astype(str))
        unknown = sorted(set(calls) - customers)
        if unknown:
            raise NotFoundError(f"calls from unknown customer(s): {', '.join(unknown[:10])}", details={"unknown": unknown})
    if section and grid.equipment_kind(section) is None:
        raise NotFoundError(f"no equipment {section!r}", details={"section": section})


def make_options(options: Mapping[str, Any] | None, *, generators_path: str | None = None) -> FaultOptions:
    """``FaultOptions`` from the request's dict (unknown names or bad values -> 422
    ``bad_options``); the fleet comes from ``GENERATORS_PATH``, never from the request."""
    values = dict(options or {})
    check_option_names(FaultOptions, values)
    if "generators" in values:
        raise BadOptions("the generator fleet comes from the server's GENERATORS_PATH")
    if generators_path:
        values["generators"] = load_generators_csv(generators_path)
    try:
        return FaultOptions(**values)
    except (TypeError, ValueError) as exc:
        details = exc.details if isinstance(exc, InputError) else None
        raise BadOptions(f"invalid fault options: {exc}", details=details) from exc


def analyse(grid: Grid, *, tripped_breaker: str | None, fault_indicators: dict[str, bool] | None,
            calls: list[str] | None, section: str | None, now: datetime, options: Mapping[str, Any] | None,
            generators_path: str | None = None) -> dict[str, Any]:
    """Locate (unless ``section`` is given) and restore; returns ``FaultReport.to_json()``."""
    check_signals(grid, tripped_breaker=tripped_breaker, fault_indicators=fault_indicators, calls=calls, section=section)
    opts = make_options(options, generators_path=generators_path)
    location: Location | None = None
    target: str | Candidate
    if section:
        target = section
    else:
        location = locate_fault(grid, tripped_breaker=tripped_breaker, fault_indicators=fault_indicators,
                                calls=calls, now=now, options=opts)
        if not location.candidates:
            raise InputError("the signals do not point at any section", details=location.to_json())
        target = location.candidates[0]
    restoration = restore(grid, target, now=now, options=opts, tripped_breaker=tripped_breaker)
    return FaultReport(location, restoration).to_json()


def store(session: Session, fault: Fault, data: dict[str, Any]) -> None:
    fault.result = data
    fault.candidates = data.get("candidates", [])
    fault.stages = [
        FaultStage(
            seq=i,
            kind=str(st.get("kind", "")),
            steps=list(st.get("steps", [])),
            restored_customers=[str(c) for c in st.get("restored_customers", [])],
            still_out=[str(c) for c in st.get("still_out", [])],
            data={k: v for k, v in st.items() if k not in ("kind", "steps", "restored_customers", "still_out")},
        )
        for i, st in enumerate(data.get("stages", []))
    ]
    session.flush()
    queue_messages(session, fault, data.get("messages", []))


def affected_customer_ids(fault: Fault) -> list[str]:
    """Customers who lost supply: restored at some stage or still out (first-seen order)."""
    seen: dict[str, None] = {}
    for st in fault.stages:
        for c in (*st.restored_customers, *st.still_out):
            seen.setdefault(c, None)
    if not seen:
        for cand in fault.candidates[:1]:
            for c in cand.get("customers", []) if isinstance(cand, dict) else []:
                seen.setdefault(str(c), None)
    return list(seen)


def queue_messages(session: Session, fault: Fault, messages: list[Any]) -> int:
    """Outbox rows from the core's messages ``{recipient, time, kind, language, text}``:
    one row per (recipient, time, kind) carrying both languages."""
    merged: dict[tuple[str, str, str], dict[str, str]] = {}
    for m in messages:
        if not isinstance(m, dict) or not m.get("recipient"):
            continue
        key = (str(m["recipient"]), str(m.get("time") or fault.now.isoformat()), str(m.get("kind") or "fault"))
        merged.setdefault(key, {})[str(m.get("language") or "en")[:2]] = str(m.get("text") or "")
    for (recipient, at, kind), texts in merged.items():
        session.add(Notification(
            dedupe_key=f"fault:{fault.id}:{kind}:{at}:{recipient}"[:200], kind="fault", channel="sms", fault_id=fault.id,
            customer_id=recipient, due_at=datetime.fromisoformat(at), text_en=texts.get("en", ""),
            text_zh=texts.get("zh", ""),
        ))
    return len(merged)


#: A customer's supply in a fault, as customer service and the public lookup show it.
RESTORED, OUT = "restored", "out"


def restoration_times(fault: Fault) -> dict[str, datetime | None]:
    """When each customer who lost supply gets it back (aware datetimes, estimates).

    A customer a restoration stage restores is back at the end of that stage; one still
    out after the last stage at the end of the repair (``result["repair"]["end"]``), or
    ``None`` when the fault has no repair estimate. First-seen order, like
    :func:`affected_customer_ids`.
    """
    repair = (fault.result or {}).get("repair") or {}
    repair_end = _aware(repair.get("end") if isinstance(repair, dict) else None)
    out: dict[str, datetime | None] = {}
    for st in fault.stages:
        end = _aware((st.data or {}).get("end"))
        for c in st.restored_customers:
            out.setdefault(str(c), end)
    for c in affected_customer_ids(fault):
        out.setdefault(c, repair_end)
    return out


def supply_status(fault: Fault, *, now: datetime) -> dict[str, tuple[str, datetime | None]]:
    """Customer id -> (``"restored"`` | ``"out"``, restoration time) at ``now`` (aware).

    A fault marked restored or closed has every customer restored; otherwise a customer is
    restored once its restoration time (:func:`restoration_times`) has passed, else out with
    that time as the estimate (``None``: no estimate).
    """
    done = fault.status in ("restored", "closed")
    return {c: (RESTORED if done or (at is not None and at <= now) else OUT, at)
            for c, at in restoration_times(fault).items()}


def _aware(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None
