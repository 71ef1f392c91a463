"""Glue to :mod:`planning.faults` (issue 5): fault signals -> candidates -> restoration stages.

Contract used: ``planning.locate_fault(grid, *, tripped_breaker, fault_indicators, calls,
now)`` (ranked candidates, best first) and ``planning.restore(grid, section, *, now,
options)`` whose ``to_json()`` gives ``{"stages": [{"kind", "steps", "restored_customers",
"still_out"}], "repair", "generators", "messages", "metrics"}``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from app.errors import NotAvailable
from app.models import Fault, FaultStage, Notification
from gis import Grid
from gis.errors import InputError, NotFoundError

log = logging.getLogger(__name__)


def _core() -> Any:
    try:
        import planning

        planning.locate_fault  # noqa: B018
        planning.restore  # noqa: B018
    except (ImportError, AttributeError) as exc:
        raise NotAvailable("fault location/restoration (planning.locate_fault, planning.restore) is not available in this build",
                           details=str(exc)) from exc
    return planning


def _json(obj: Any) -> Any:
    if hasattr(obj, "to_json"):
        return obj.to_json()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, list | tuple):
        return [_json(o) for o in obj]
    return obj


def _candidates(located: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """(candidate objects, their JSON), best first, whatever container the core returns."""
    items = getattr(located, "candidates", located)
    objs = list(items) if isinstance(items, list | tuple) else [items]
    data = _json(located)
    if isinstance(data, dict) and "candidates" in data:
        return objs, list(data["candidates"])
    return objs, [_json(o) for o in objs]


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


def make_options(planning: Any, options: dict[str, Any] | None, *, generators_path: str | None = None) -> Any:
    """``FaultOptions`` from the request's dict; the fleet comes from ``GENERATORS_PATH``."""
    opts_cls = getattr(planning, "FaultOptions", None)
    if opts_cls is None or (not options and not generators_path):
        return None
    values = dict(options or {})
    if "generators" in values:
        raise InputError("the generator fleet comes from the server's GENERATORS_PATH", code="bad_options")
    if generators_path:
        from planning.faults import load_generators

        values["generators"] = load_generators(generators_path)
    try:
        return opts_cls(**values)
    except (TypeError, ValueError) as exc:
        raise InputError(f"invalid fault options: {exc}", code="bad_options") from exc


def analyse(grid: Grid, *, tripped_breaker: str | None, fault_indicators: dict[str, bool] | None,
            calls: list[str] | None, section: str | None, now: datetime, options: dict[str, Any] | None,
            generators_path: str | None = None) -> dict[str, Any]:
    """Locate (unless ``section`` is given) and restore; returns ``FaultReport.to_json()``."""
    check_signals(grid, tripped_breaker=tripped_breaker, fault_indicators=fault_indicators, calls=calls, section=section)
    planning = _core()
    opts = make_options(planning, options, generators_path=generators_path)
    location = None
    if section:
        target: Any = section
    else:
        location = planning.locate_fault(grid, tripped_breaker=tripped_breaker, fault_indicators=fault_indicators,
                                         calls=calls, now=now, options=opts)
        if not location.candidates:
            raise InputError("the signals do not point at any section", details=_json(location))
        target = location.candidates[0]
    restoration = planning.restore(grid, target, now=now, options=opts, tripped_breaker=tripped_breaker)
    report_cls = getattr(planning, "FaultReport", None)
    if report_cls is None:
        from planning.faults import FaultReport as report_cls
    return dict(report_cls(location, restoration).to_json())


def store(session: Any, fault: Fault, data: dict[str, Any]) -> None:
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


def queue_messages(session: Any, fault: Fault, messages: list[Any]) -> int:
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
