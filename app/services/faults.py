"""Glue to :mod:`planning.faults` (issue 5): fault signals -> candidates -> restoration stages.

``locate_fault`` ranks candidate sections (best first), ``restore`` isolates the first
(or the section the dispatcher names) and restores healthy customers;
``FaultReport.to_json()`` gives ``{"candidates", "stages": [{"kind", "steps",
"restored_customers", "still_out"}], "repair", "generators", "messages", "metrics", ...}``,
stored by :func:`store`.

Switching progress (issue 14): the stages are switching orders whose steps are executed one
by one, in ``seq`` order, by :func:`execute_step`; the executed steps (``fault_step_executions``
rows) give the grid's switching state now (:func:`executed_state`), which the map and the
customer statuses (:func:`supply_status`) follow, not the plan. :func:`timeline` puts the
fault's events in order with the time between them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Dispatch,
    Fault,
    FaultStage,
    FaultStepExecution,
    Notification,
    Route,
    RouteStop,
)
from app.services.options import BadOptions, check_option_names
from gis import ConflictError, Grid, InputError, NotFoundError
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
    data = FaultReport(location, restoration).to_json()
    data["generator_decision"] = generator_decision(data, threshold_min=opts.generator_threshold_min)
    return data


def generator_decision(result: Mapping[str, Any], *, threshold_min: float) -> dict[str, Any]:
    """The generator-truck rule applied to a stored result, with its reason.

    Trucks are sent when the estimated repair (``repair.duration_min``, minutes) is longer
    than ``threshold_min`` (minutes; 180 by default: the "more than 3 hours" rule) and
    customers are still out after the switching stages (``repair.customers_out``).
    ``reason``: ``repair_long`` (trucks needed), ``repair_short`` (the repair is short
    enough) or ``nobody_out`` (switching restores everyone). ``trucks``: how many truck
    proposals the core made; ``customers_out``: how many customers wait for the repair.
    """
    repair = result.get("repair") or {}
    minutes = float(repair.get("duration_min") or 0.0)
    out = len(repair.get("customers_out") or [])
    if not out:
        reason = "nobody_out"
    elif minutes > threshold_min:
        reason = "repair_long"
    else:
        reason = "repair_short"
    trucks = [g for g in result.get("generators") or [] if isinstance(g, dict) and g.get("generators")]
    return {"needed": reason == "repair_long", "reason": reason, "repair_min": round(minutes, 1),
            "threshold_min": float(threshold_min), "customers_out": out, "trucks": len(trucks)}


def stored_generator_decision(fault: Fault) -> dict[str, Any]:
    """The decision stored with the fault (faults stored before it: the default threshold)."""
    result = fault.result or {}
    return result.get("generator_decision") or generator_decision(
        result, threshold_min=FaultOptions().generator_threshold_min)


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


# -- switching progress: steps executed in order, the state they leave -----------------------


def steps_in_order(fault: Fault) -> list[tuple[int, dict[str, Any]]]:
    """``(stage seq, step)`` for every step of the fault's stages, in execution order (``seq``)."""
    out = [(st.seq, step) for st in fault.stages for step in st.steps if isinstance(step, dict)]
    return sorted(out, key=lambda p: (int(p[1].get("seq", 0)), p[0]))


def next_step(fault: Fault) -> dict[str, Any] | None:
    """The first step not executed yet (None when every step is done)."""
    done = {e.step_seq for e in fault.executed_steps}
    return next((step for _, step in steps_in_order(fault) if int(step.get("seq", 0)) not in done), None)


def execute_step(session: Session, fault: Fault, step_seq: int, *, at: datetime, user_id: int | None) -> FaultStepExecution:
    """Record step ``step_seq`` as executed at ``at`` (UTC) by ``user_id``.

    Steps go strictly in order: a step already executed, or one whose predecessors are not
    all executed, is refused (409 ``step_done`` / ``step_out_of_order``, with the step to do
    first); a closed fault takes no steps (409 ``fault_closed``); an unknown step is 404.
    The fault's version goes up, so a dispatcher holding the old state is told it is stale.
    """
    order = steps_in_order(fault)
    found = next(((stage, step) for stage, step in order if int(step.get("seq", 0)) == step_seq), None)
    if found is None:
        raise NotFoundError(f"fault {fault.id} has no step {step_seq}", details={"step": step_seq})
    if fault.status == "closed":
        raise ConflictError(f"fault {fault.id} is closed: no more switching is recorded", code="fault_closed")
    done = {e.step_seq: e for e in fault.executed_steps}
    if step_seq in done:
        raise ConflictError(f"step {step_seq} ({_describe(found[1])}) is already executed", code="step_done",
                            details={"step": step_seq})
    first = next_step(fault)
    if first is not None and int(first.get("seq", 0)) != step_seq:
        raise ConflictError(
            f"step {step_seq} ({_describe(found[1])}) cannot go before step {first.get('seq')} "
            f"({_describe(first)}): execute the steps in order",
            code="step_out_of_order", details={"step": step_seq, "next_step": first.get("seq")})
    stage, step = found
    row = FaultStepExecution(stage_seq=stage, step_seq=step_seq, switch=str(step.get("switch") or ""),
                             action=str(step.get("action") or ""), executed_at=at, executed_by=user_id)
    fault.executed_steps.append(row)
    fault.version += 1  # the switching state changed: a dispatcher holding the old one is stale
    session.flush()
    return row


def _describe(step: Mapping[str, Any]) -> str:
    return f"{step.get('action')} {step.get('switch')}"


def _states(fault: Fault) -> list[tuple[FaultStepExecution | None, list[str], list[str]]]:
    """The switching state before any step and after each executed step, in order:
    ``(step or None, open, closed)`` — switch ids away from the normal state.

    It starts with the device that tripped open (``faulted.tripped``); a switch closed again
    leaves the open list and the other way round.
    """
    tripped = ((fault.result or {}).get("faulted") or {}).get("tripped")
    opened: dict[str, None] = {str(tripped): None} if tripped else {}
    closed: dict[str, None] = {}
    out: list[tuple[FaultStepExecution | None, list[str], list[str]]] = [(None, list(opened), list(closed))]
    for e in sorted(fault.executed_steps, key=lambda e: e.step_seq):
        if e.action == "open":
            closed.pop(e.switch, None)
            opened[e.switch] = None
        elif e.action == "close":
            opened.pop(e.switch, None)
            closed[e.switch] = None
        out.append((e, list(opened), list(closed)))
    return out


def executed_state(fault: Fault) -> tuple[list[str], list[str]]:
    """The switching state now: ``(open, closed)`` switch ids away from the normal state."""
    _, opened, closed = _states(fault)[-1]
    return opened, closed


def dark_customers(grid: Grid, *, opened: list[str], closed: list[str]) -> set[str]:
    """Ids of the customers without supply with ``opened`` open and ``closed`` closed."""
    normally_open = set(grid.switches.loc[grid.switches["normally_open"].astype(bool), "id"].astype(str))
    # opening a normally-open switch or closing a normally-closed one puts it back to normal
    return set(grid.affected_customers(open_switches=[s for s in opened if s not in normally_open],
                                       close_switches=[s for s in closed if s in normally_open])["id"].astype(str))


def restored_by_steps(grid: Grid, fault: Fault) -> dict[str, datetime]:
    """The fault's customers the executed steps supply now, each with the time (UTC) of the step
    that gave it supply back. Every affected customer is dark before the first step (that is
    what affected means); a customer darkened again by a later step (break before make) counts
    from its last return."""
    affected = set(affected_customer_ids(fault))
    back: dict[str, datetime] = {}
    dark = affected
    for step, opened, closed in _states(fault)[1:]:
        assert step is not None
        now_dark = dark_customers(grid, opened=opened, closed=closed) & affected
        for c in dark - now_dark:
            back[c] = step.executed_at
        for c in now_dark:
            back.pop(c, None)
        dark = now_dark
    return back


def crew_progress(session: Session, fault: Fault) -> dict[str, dict[str, Any]]:
    """The fault's routing tasks (``F<id>-...``) in the newest finished dispatch that has any:
    ``task_id -> {crew_id, route_id, status, arrived_at, done_at}`` (UTC datetimes)."""
    prefix = f"F{fault.id}-"
    rows = session.execute(
        select(RouteStop, Route.crew_id, Route.dispatch_id).join(Route, RouteStop.route_id == Route.id)
        .join(Dispatch, Route.dispatch_id == Dispatch.id)
        .where(Dispatch.status == "done", RouteStop.task_id.startswith(prefix, autoescape=True))
        .order_by(Dispatch.id.desc())).all()
    newest = rows[0][2] if rows else None
    return {stop.task_id: {"crew_id": crew, "route_id": stop.route_id, "status": stop.status,
                           "arrived_at": stop.arrived_at, "done_at": stop.done_at}
            for stop, crew, dispatch_id in rows if dispatch_id == newest}


def step_task_ids(fault: Fault) -> dict[int, str]:
    """Step ``seq`` -> the routing task id a crew gets for it (manual steps of manual stages,
    numbered as :func:`app.services.routing.tasks_from_fault` numbers them)."""
    out: dict[int, str] = {}
    for st in fault.stages:
        if st.kind != "manual":
            continue
        for i, step in enumerate(st.steps):
            if isinstance(step, dict) and not step.get("remote"):
                out[int(step.get("seq", 0))] = f"F{fault.id}-S{st.seq}-{i}"
    return out


TIMELINE_KINDS = ("trip", "located", "isolated", "stage", "crew_arrived", "repaired", "normal")


def timeline(fault: Fault, progress: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The fault's events in time order: ``{kind, at (UTC datetime or None), stage?, since_previous_s,
    since_trip_s}``; events not reached yet come last with ``at`` None.

    ``trip``: the signals' time (``fault.now``); ``located``: the fault recorded and located;
    ``isolated``: the last executed step that opens one of the repair's isolation switches, once
    all of them are open; ``stage``: the last step of each stage executed; ``crew_arrived`` /
    ``repaired``: the crew at the repair stop (``progress``, see :func:`crew_progress`), repaired
    also when the fault was marked restored; ``normal``: the fault closed.
    """
    result = fault.result or {}
    executed = {e.step_seq: e.executed_at for e in fault.executed_steps}
    isolation = {str(s) for s in (result.get("repair") or {}).get("isolation_switches") or []}
    opens = [e for e in fault.executed_steps if e.action == "open" and e.switch in isolation]
    isolated = max((e.executed_at for e in opens), default=None) if {e.switch for e in opens} >= isolation and isolation else None
    events: list[dict[str, Any]] = [{"kind": "trip", "at": fault.now}, {"kind": "located", "at": fault.created_at},
                                    {"kind": "isolated", "at": isolated}]
    for st in fault.stages:
        seqs = [int(s.get("seq", 0)) for s in st.steps if isinstance(s, dict)]
        at = executed[max(seqs)] if seqs and all(q in executed for q in seqs) else None
        events.append({"kind": "stage", "stage": st.seq, "stage_kind": st.kind, "at": at})
    repair = progress.get(f"F{fault.id}-repair") or {}
    repaired = [t for t in (repair.get("done_at"), fault.restored_at) if t is not None]
    events += [{"kind": "crew_arrived", "at": repair.get("arrived_at") or repair.get("done_at"),
                "crew_id": repair.get("crew_id")},
               {"kind": "repaired", "at": min(repaired) if repaired else None},
               {"kind": "normal", "at": fault.closed_at}]
    reached = sorted((e for e in events if e["at"] is not None), key=lambda e: e["at"])
    prev: int | None = None
    for e in reached:  # whole seconds; the gaps add up to the time since the trip
        e["since_trip_s"] = round((e["at"] - fault.now).total_seconds())
        e["since_previous_s"] = None if prev is None else e["since_trip_s"] - prev
        prev = e["since_trip_s"]
    return reached + [e | {"since_trip_s": None, "since_previous_s": None} for e in events if e["at"] is None]


def feeder_indicators(grid: Grid, feeder: str, *, query: str | None = None) -> list[dict[str, Any]]:
    """The switches with a fault indicator on ``feeder`` (its normal state, the breaker included):
    ``{id, node, node_name, remote, lon, lat}`` sorted by id; ``query`` keeps the ids or cabinet
    names that contain it (case-insensitive). Unknown feeder: 404."""
    if feeder not in set(grid.feeders["id"].astype(str)):
        raise NotFoundError(f"no feeder {feeder!r}", details={"feeder": feeder})
    feeders = grid.node_feeders()
    names = grid.nodes.set_index("id")["name"]
    sw = grid.switches[grid.switches["fault_indicator"].astype(bool)]
    q = (query or "").strip().lower()
    out = []
    for row in sw.itertuples(index=False):
        sid, a, b = str(row.id), str(row.from_node), str(row.to_node)
        if sid != feeder and feeders.get(a) != feeder and feeders.get(b) != feeder:
            continue
        name = str(names.get(a, ""))  # the cabinet (or busbar) that holds the switch
        if q and q not in sid.lower() and q not in name.lower():
            continue
        out.append({"id": sid, "node": a, "node_name": name, "remote": bool(row.remote),
                    "lon": float(row.geometry.x), "lat": float(row.geometry.y)})
    return sorted(out, key=lambda r: r["id"])
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


def supply_status(grid: Grid, fault: Fault) -> dict[str, tuple[str, datetime | None]]:
    """Customer id -> (``"restored"`` | ``"out"``, time), following the executed switching steps.

    A customer the executed state (:func:`executed_state`) supplies is restored, with the time
    of the step that gave it supply back (:func:`restored_by_steps`); a fault marked restored
    or closed has every customer restored (at ``restored_at``); a customer still out has its
    plan's estimate (:func:`restoration_times`; ``None``: no estimate). The plan alone
    restores nobody: a stage counts once its steps are recorded as executed.
    """
    back = restored_by_steps(grid, fault)
    done = fault.status in ("restored", "closed")
    out: dict[str, tuple[str, datetime | None]] = {}
    for c, estimate in restoration_times(fault).items():
        if c in back:
            out[c] = (RESTORED, back[c])
        elif done:
            out[c] = (RESTORED, fault.restored_at or fault.closed_at or estimate)
        else:
            out[c] = (OUT, estimate)
    return out


def _aware(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None
