"""Glue to :mod:`routing` (issue 6): crews + tasks -> ``plan_routes`` -> stored routes, GPX.

``plan_routes(roads, crews, tasks, *, now, objective, time_limit_s)`` gives a
``RoutePlan`` whose ``to_dict()`` lists routes per crew (stops with ETA, path,
distance, time), dropped tasks and the solver status; ``plan_gpx(plan, crew_id)``
gives each crew's GPX.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from app.errors import NotAvailable
from app.models import Crew, CrewPosition, Dispatch, Fault, Route, RouteStop
from app.times import local_iso
from gis import ConflictError, InputError, NotFoundError
from routing import Crew as RoutingCrew
from routing import RoadNetwork, Task, plan_gpx, plan_routes

log = logging.getLogger(__name__)


def _shift(now: datetime, hhmm: str) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime.combine(now.date(), time(h, m), tzinfo=now.tzinfo)


def crew_inputs(crews: list[Crew], positions: Mapping[str, CrewPosition], now: datetime, *, tz: tzinfo) -> list[RoutingCrew]:
    """Routing crews, starting at their last reported position or else their depot; shifts
    (HH:MM) are local times of the grid's timezone ``tz`` on ``now``'s date."""
    now = now.astimezone(tz)
    out = []
    for c in crews:
        pos = positions.get(c.id)
        start: str | tuple[float, float] | None = (pos.lon, pos.lat) if pos is not None else c.depot_id
        if start is None:
            raise InputError(f"crew {c.id} has neither a depot nor a reported position", details={"crew": c.id})
        shift_start, shift_end = _shift(now, c.shift_start), _shift(now, c.shift_end)
        if shift_end <= shift_start:
            shift_end += timedelta(days=1)
        out.append(RoutingCrew(id=c.id, start=start, end=c.depot_id, shift_start=shift_start, shift_end=shift_end,
                               skills=frozenset(c.skills or ()), name=c.name or ""))
    return out


def task_inputs(tasks: list[dict[str, Any]]) -> list[Task]:
    """Routing tasks from the stored task dicts (``service_min`` in minutes, ``earliest`` /
    ``latest`` ISO times bounding the start of service)."""
    return [
        Task(id=str(t["id"]), location=_location(t["location"]), service_min=_number(t.get("service_min"), 0.0),
             skills=frozenset(t.get("skills") or ()), weight=_number(t.get("weight"), 1.0),
             window_start=_dt(t.get("earliest")), window_end=_dt(t.get("latest")),
             after=tuple(t.get("after") or ()), name=str(t.get("name") or ""))
        for t in tasks
    ]


def _location(v: Any) -> str | tuple[float, float]:
    """An equipment id, or ``[lon, lat]`` as stored in JSON -> ``(lon, lat)``."""
    return (float(v[0]), float(v[1])) if isinstance(v, list | tuple) else str(v)


def _number(v: Any, default: float) -> float:
    return default if v is None else float(v)


def _dt(v: Any) -> datetime | None:
    return datetime.fromisoformat(v) if isinstance(v, str) else v


def _loc(v: Any) -> Any:
    if isinstance(v, dict) and "lon" in v and "lat" in v:
        return [float(v["lon"]), float(v["lat"])]
    return v


def tasks_from_fault(fault: Fault) -> list[dict[str, Any]]:
    """Manual switching steps and the repair of a stored fault as routing tasks."""
    tasks: list[dict[str, Any]] = []
    for st in fault.stages:
        if st.kind != "manual":
            continue
        for i, step in enumerate(st.steps):
            if not isinstance(step, dict):
                continue
            if step.get("remote"):
                continue
            loc = _loc(step.get("location")) or step.get("node")
            if loc is None:
                continue
            tasks.append({"id": f"F{fault.id}-S{st.seq}-{i}", "location": loc, "service_min": 10,
                          "skills": ["switching"], "weight": float(len(st.restored_customers) or 1),
                          "name": str(step.get("switch") or step.get("name") or loc)})
    repair = (fault.result or {}).get("repair") or {}
    loc = _loc(repair.get("location")) or repair.get("node")
    if loc is not None:
        tasks.append({"id": f"F{fault.id}-repair", "location": loc,
                      "service_min": repair.get("duration_min") or 60, "skills": repair.get("skills") or [],
                      "weight": float(len(repair.get("customers_out", [])) or 1), "after": [t["id"] for t in tasks],
                      "name": "repair"})
    return tasks


def execute_dispatch(app: Flask, dispatch_id: int, *, progress: Callable[[float, str], None]) -> None:
    """Run ``plan_routes`` for a stored dispatch and store each crew's route, stops and GPX."""
    roads: RoadNetwork | None = app.extensions.get("roads")
    if roads is None:
        raise NotAvailable("no road network loaded (set ROADS_PATH)")
    db = app.extensions["db"]
    with db.session(actor="dispatch-run") as s:
        d = s.get(Dispatch, dispatch_id)
        if d is None:
            raise InputError(f"dispatch {dispatch_id} vanished")
        d.status = "running"
        crews = [c for c in (s.get(Crew, cid) for cid in d.crew_ids) if c is not None]
        positions = {}
        for c in crews:
            p = s.query(CrewPosition).filter_by(crew_id=c.id).order_by(CrewPosition.at.desc()).first()
            if p is not None:
                positions[c.id] = p
        crew_in = crew_inputs(crews, positions, d.now, tz=app.extensions["grid"].timezone)
        task_in = task_inputs(d.tasks)
        now, objective = d.now, d.objective
    progress(0.1, f"routing {len(crew_in)} crews to {len(task_in)} tasks")
    plan = plan_routes(roads, crew_in, task_in, now=now, objective=objective,
                       time_limit_s=float(app.config["ROUTING_TIME_LIMIT_S"]))
    data = plan.to_dict()
    progress(0.8, "storing routes")
    with db.session(actor="dispatch-run") as s:
        d = s.get(Dispatch, dispatch_id)
        assert d is not None
        d.dropped = data["dropped"]
        d.solver = {k: v for k, v in data.items() if k not in ("routes", "dropped")}
        for r in data["routes"]:
            crew_id = str(r["crew_id"])
            d.routes.append(Route(
                crew_id=crew_id, stops=r["stops"], geometry=r["path"],
                distance_m=float(r["distance_m"]), duration_s=float(r["travel_time_s"]),
                gpx=plan_gpx(plan, crew_id),
                stop_states=[RouteStop(task_id=str(st["task_id"])) for st in r["stops"]],
            ))
        d.status = "done"


def gpx_from_route(route: Route, crew_name: str) -> str:
    """GPX built in the shell from the stored route when the core gave none (gpxpy)."""
    import gpxpy.gpx

    g = gpxpy.gpx.GPX()
    g.creator = "outage-planner"
    for s in route.stops:
        lon, lat = s.get("lon"), s.get("lat")
        if lon is None or lat is None:
            continue
        g.waypoints.append(gpxpy.gpx.GPXWaypoint(latitude=lat, longitude=lon, name=str(s.get("name") or s.get("task_id") or "")))
    geom = route.geometry or {}
    coords = geom.get("coordinates") if geom.get("type") == "LineString" else None
    if coords:
        track = gpxpy.gpx.GPXTrack(name=crew_name)
        seg = gpxpy.gpx.GPXTrackSegment()
        seg.points = [gpxpy.gpx.GPXTrackPoint(latitude=c[1], longitude=c[0]) for c in coords]
        track.segments.append(seg)
        g.tracks.append(track)
    return g.to_xml()


# -- stop progress reported by crews ----------------------------------------------------

#: A stop's statuses in the only order a crew may report them.
STOP_STATUSES = ("planned", "arrived", "working", "done")


def stops_with_progress(route: Route, *, tz: tzinfo) -> list[dict[str, Any]]:
    """The route's stops as the core produced them, each with the crew's progress:
    ``status`` (planned | arrived | working | done), ``arrived_at``, ``working_at`` and ``done_at``
    (the phone's times, ISO 8601 in ``tz``, the grid's zone, or null), ``received`` (when the
    server got each report), the crew's ``note`` and the progress row's ``version`` (optional
    optimistic locking of the stop)."""
    states = {st.task_id: st for st in route.stop_states}
    out = []
    for stop in route.stops or []:
        st = states.get(str(stop.get("task_id")))
        out.append({**stop, "status": st.status if st else "planned",
                    "arrived_at": local_iso(st.arrived_at, tz) if st else None,
                    "working_at": local_iso(st.working_at, tz) if st else None,
                    "done_at": local_iso(st.done_at, tz) if st else None,
                    "received": {k: local_iso(getattr(st, f"{k}_received_at"), tz) if st else None
                                 for k in ("arrived", "working", "done")},
                    "note": st.note if st else "",
                    "version": st.version if st else 1})
    return out


def _stop_rows(session: Session, route: Route) -> dict[str, RouteStop]:
    """One progress row per stop; routes stored before migration 0003 get theirs on first use."""
    rows = {st.task_id: st for st in route.stop_states}
    missing = [str(s.get("task_id")) for s in route.stops or [] if s.get("task_id") and str(s.get("task_id")) not in rows]
    if missing:
        for task_id in missing:
            row = RouteStop(task_id=task_id)
            route.stop_states.append(row)
            rows[task_id] = row
        session.flush()  # created (and audited) as "planned" before the change below
    return rows


def stop_row(session: Session, route: Route, task_id: str) -> RouteStop:
    """The progress row of one stop of ``route`` (404 for a task that is not on it)."""
    row = _stop_rows(session, route).get(task_id)
    if row is None:
        raise NotFoundError(f"route {route.id} has no stop {task_id!r}", details={"route": route.id, "task_id": task_id})
    return row


def client_time(at: datetime | None, *, received: datetime, max_age_s: float, max_ahead_s: float) -> datetime:
    """The time a phone says something happened, kept when the report arrives late.

    None -> ``received``. A time more than ``max_ahead_s`` seconds after ``received`` (a
    phone clock far ahead) or more than ``max_age_s`` before it is refused (422
    ``bad_client_time``) rather than stored wrong.
    """
    if at is None:
        return received
    if at > received + timedelta(seconds=max_ahead_s):
        raise InputError(f"the time {at.isoformat()} is in the future (the server's time is {received.isoformat()}); "
                         "check the phone's clock", code="bad_client_time",
                         details={"at": at.isoformat(), "received_at": received.isoformat(), "max_ahead_s": max_ahead_s})
    if at < received - timedelta(seconds=max_age_s):
        raise InputError(f"the time {at.isoformat()} is more than {max_age_s:.0f} s before the server's time "
                         f"{received.isoformat()}", code="bad_client_time",
                         details={"at": at.isoformat(), "received_at": received.isoformat(), "max_age_s": max_age_s})
    return at


def set_stop_status(session: Session, route: Route, task_id: str, status: str, *, at: datetime,
                    user_id: int | None, version: int | None = None, received_at: datetime | None = None,
                    note: str | None = None) -> RouteStop:
    """Record a crew's progress at one stop.

    planned -> arrived -> working -> done, strictly in this order: a step that skips one
    is refused (409 ``stop_out_of_order``), going back too (409 ``stop_done`` once done,
    ``stop_out_of_order`` otherwise); repeating the current status changes nothing (a double
    tap, or a queued report replayed, is harmless). ``at`` is the phone's time of the
    step (see :func:`client_time`), ``received_at`` the server's (default ``at``); a step's
    time is never before the previous step's. ``note`` replaces the crew's note of the stop.
    """
    if status not in STOP_STATUSES[1:]:
        raise InputError(f"status must be one of {', '.join(STOP_STATUSES[1:])}, not {status!r}", details={"status": status})
    row = stop_row(session, route, task_id)
    if version is not None and row.version != version:
        raise ConflictError(f"stale version: you sent {version}, the stop is at {row.version}; reload and retry",
                            code="stale_version", details={"current_version": row.version, "sent_version": version})
    if row.status == status:
        if note is not None and note != row.note:
            row.note = note
            row.updated_by = user_id
            session.flush()
        return row
    current = STOP_STATUSES.index(row.status)
    wanted = STOP_STATUSES.index(status)
    if row.status == "done":
        raise ConflictError(f"stop {task_id!r} is already done; it cannot go back to {status!r}", code="stop_done",
                            details={"task_id": task_id, "status": row.status, "requested": status,
                                     "done_at": row.done_at.isoformat() if row.done_at else None})
    if wanted != current + 1:
        expected = STOP_STATUSES[current + 1]
        raise ConflictError(f"stop {task_id!r} is {row.status}: the next step is {expected!r}, not {status!r}",
                            code="stop_out_of_order",
                            details={"task_id": task_id, "status": row.status, "requested": status, "expected": expected})
    previous = getattr(row, f"{row.status}_at", None) if row.status != "planned" else None
    if previous is not None and at < previous:
        at = previous  # a phone clock that jumped back: never before the step before
    row.status = status
    setattr(row, f"{status}_at", at)
    setattr(row, f"{status}_received_at", received_at or at)
    if note is not None:
        row.note = note
    row.updated_by = user_id
    session.flush()
    return row
