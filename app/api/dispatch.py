"""Dispatch: run crew routing in the background, read routes, GPX for the crew's phone."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import func, select

from app.api import ApiBlueprint
from app.api.common import PageArgs, file_response, get_or_404, grid, iso, session, utc_now
from app.auth import crew_scope, require, user
from app.config import DEFAULTS
from app.errors import NotAvailable
from app.input_policy import PolicyDateTime
from app.models import Crew, Dispatch, Fault, Route, Run
from app.runs import submit
from app.services import routing as routing_service
from gis.errors import InputError, NotFoundError

blp = ApiBlueprint("dispatch", __name__, url_prefix="/api", description="Crew dispatch: routing runs, routes, GPX")


class Location(ma.fields.Field):
    """An equipment / depot id, or ``[lon, lat]``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and 1 <= len(value) <= 64:
            return value
        if (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
                and -180 <= value[0] <= 180 and -90 <= value[1] <= 90):
            return [float(value[0]), float(value[1])]
        raise ma.ValidationError("an equipment id or [lon, lat]")


class TaskIn(ma.Schema):
    id = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9_.:\-]{1,64}$"))
    location = Location(required=True, metadata={"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}]})
    service_min = ma.fields.Float(load_default=15.0, validate=ma.validate.Range(0, 24 * 60))
    skills = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 32)), load_default=list)
    weight = ma.fields.Float(load_default=1.0, validate=ma.validate.Range(0, 1e9))
    earliest = PolicyDateTime()
    latest = PolicyDateTime()
    after = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 64)))
    name = ma.fields.String(validate=ma.validate.Length(max=120))


class DispatchIn(ma.Schema):
    crew_ids = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 64)), validate=ma.validate.Length(1, 500),
                              metadata={"description": "default: every active crew"})
    fault_id = ma.fields.Integer(validate=ma.validate.Range(1, 2**31 - 1), metadata={"description": "route to this fault's manual steps and repair"})
    open_faults = ma.fields.Boolean(load_default=False, metadata={
        "description": "re-plan: the manual steps and repairs of every open fault (a new fault arrived)"})
    tasks = ma.fields.List(ma.fields.Nested(TaskIn), validate=ma.validate.Length(max=2000))
    objective = ma.fields.String(validate=ma.validate.OneOf(["weighted_restoration", "distance"]))
    now = PolicyDateTime()


class StopStatusIn(ma.Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["arrived", "working", "done"]),
                              metadata={"description": "arrived, then working, then done, strictly in order; done is final"})
    version = ma.fields.Integer(validate=ma.validate.Range(1, 2**31 - 1),
                                metadata={"description": "optional: the stop's version you read (stale -> 409)"})
    at = PolicyDateTime(metadata={"description": "when it happened on the phone (kept when the report arrives late; "
                                                 "default: when the server receives it)"})
    note = ma.fields.String(validate=ma.validate.Length(max=2000), metadata={"description": "the crew's note for the stop"})


def route_json(r: Route) -> dict[str, Any]:
    return {"id": r.id, "dispatch_id": r.dispatch_id, "crew_id": r.crew_id,
            "stops": routing_service.stops_with_progress(r, tz=grid().timezone), "geometry": r.geometry,
            "distance_m": r.distance_m, "duration_s": r.duration_s}


def dispatch_json(d: Dispatch) -> dict[str, Any]:
    u = user()
    routes = d.routes if u is None or u.role != "crew" else [r for r in d.routes if r.crew_id == u.crew_id]
    out = {"id": d.id, "status": d.status, "fault_id": d.fault_id, "now": iso(d.now), "objective": d.objective,
           "crew_ids": d.crew_ids, "run_id": d.run_id, "created_at": iso(d.created_at),
           "routes": [route_json(r) for r in routes]}
    if u is None or u.role != "crew":
        # the solver returns a route for every crew: those without a stop are idle, not routed
        out |= {"tasks": d.tasks, "dropped": d.dropped, "solver": d.solver,
                "idle_crews": [r.crew_id for r in d.routes if not r.stops]}
    return out


@blp.route("/dispatches", methods=["POST"])
@require("dispatcher")
@blp.arguments(DispatchIn)
@blp.response(202)
def create_dispatch(data: dict[str, Any]) -> Any:
    """Start a routing run for the crews and tasks (given, or from a fault); poll ``/api/runs/<run_id>``."""
    if current_app.extensions.get("roads") is None:
        raise NotAvailable("no road network loaded (set ROADS_PATH)")
    s = session()
    tasks = [dict(t) for t in data.get("tasks", [])]
    for t in tasks:
        for k in ("earliest", "latest"):
            if k in t:
                t[k] = t[k].isoformat()
    if "fault_id" in data:
        f = get_or_404(Fault, data["fault_id"], "fault")
        if not data["open_faults"]:
            tasks += routing_service.tasks_from_fault(f)
    if data["open_faults"]:
        for f in s.scalars(select(Fault).where(Fault.status == "open").order_by(Fault.id)):
            tasks += routing_service.tasks_from_fault(f)
    if not tasks:
        raise InputError("no tasks: give tasks, a fault_id or open_faults whose restoration needs crews")
    ids = [t["id"] for t in tasks]
    if len(set(ids)) != len(ids):
        raise InputError("duplicate task ids", details={"ids": ids})
    if "crew_ids" in data:
        crew_ids = list(dict.fromkeys(data["crew_ids"]))
        missing = [c for c in crew_ids if s.get(Crew, c) is None]
        if missing:
            raise NotFoundError(f"unknown crew(s): {', '.join(missing[:10])}", details={"unknown": missing})
    else:
        crew_ids = list(s.scalars(select(Crew.id).where(Crew.active.is_(True)).order_by(Crew.id)))
        if not crew_ids:
            raise InputError("there are no active crews")
    u = user()
    run = Run(kind="dispatch", created_by=u.id if u else None)
    s.add(run)
    s.flush()
    d = Dispatch(now=data.get("now") or utc_now(), objective=data.get("objective") or current_app.config.get(
        "ROUTING_OBJECTIVE", DEFAULTS["ROUTING_OBJECTIVE"]), crew_ids=crew_ids, tasks=tasks,
        fault_id=data.get("fault_id"), run_id=run.id, created_by=u.id if u else None)
    s.add(d)
    s.flush()
    run.target_id = d.id
    s.commit()
    submit(current_app._get_current_object(), run)  # type: ignore[attr-defined]
    s.expire_all()  # the run may have finished already (sync runner): read both rows again
    return {"dispatch": dispatch_json(d), "run": {"id": run.id, "status": run.status, "progress": run.progress}}


class DispatchListArgs(PageArgs):
    fault_id = ma.fields.Integer(validate=ma.validate.Range(1, 2**31 - 1),
                                 metadata={"description": "only the dispatches for this fault"})


@blp.route("/dispatches")
@require("dispatcher", "viewer")
@blp.arguments(DispatchListArgs, location="query")
@blp.response(200)
def list_dispatches(args: dict[str, Any]) -> Any:
    """Dispatches, newest first (``fault_id``: only that fault's; an unknown fault lists none)."""
    s = session()
    where = [Dispatch.fault_id == args["fault_id"]] if "fault_id" in args else []
    total = s.scalar(select(func.count()).select_from(Dispatch).where(*where))
    rows = s.scalars(select(Dispatch).where(*where).order_by(Dispatch.id.desc()).limit(args["limit"]).offset(args["offset"]))
    return {"total": total, "items": [dispatch_json(d) for d in rows]}


@blp.route("/dispatches/<int:dispatch_id>")
@require("dispatcher", "viewer", "crew")
@blp.response(200)
def get_dispatch(dispatch_id: int) -> Any:
    """A dispatch with its routes (a crew user sees only its own route)."""
    d = get_or_404(Dispatch, dispatch_id, "dispatch")
    u = user()
    if u is not None and u.role == "crew" and u.crew_id not in d.crew_ids:
        raise NotFoundError(f"no dispatch {dispatch_id!r}")
    return dispatch_json(d)


def _route_for(route_id: int) -> Route:
    r = get_or_404(Route, route_id, "route")
    crew_scope(r.crew_id)
    return r


@blp.route("/routes/<int:route_id>")
@require("dispatcher", "viewer", "crew")
@blp.response(200)
def get_route(route_id: int) -> Any:
    """One crew's route: ordered stops with ETA, geometry, distance and time."""
    return route_json(_route_for(route_id))


@blp.route("/routes/<int:route_id>/stops/<string:task_id>", methods=["POST"])
@require("dispatcher", "crew")
@blp.arguments(StopStatusIn)
@blp.response(200)
def set_stop_status(data: dict[str, Any], route_id: int, task_id: str) -> Any:
    """A crew reports a stop: ``arrived``, ``working``, ``done``, strictly in this order.

    A crew user only on its own route. ``at`` is the phone's time (kept when the report
    arrives late, within ``CLIENT_TIME_MAX_AGE_S``; the receive time is stored too);
    repeating the current status changes nothing but the ``note``; a skipped step or a step
    back is 409 ``stop_out_of_order`` / ``stop_done``. Answers the route with every stop's
    ``status``, ``arrived_at``, ``working_at``, ``done_at``, ``received`` and ``note``.
    """
    r = _route_for(route_id)
    u = user()
    received = utc_now()
    at = routing_service.client_time(data.get("at"), received=received,
                                     max_age_s=float(current_app.config["CLIENT_TIME_MAX_AGE_S"]),
                                     max_ahead_s=float(current_app.config["CLIENT_TIME_MAX_AHEAD_S"]))
    routing_service.set_stop_status(session(), r, task_id, data["status"], at=at, received_at=received,
                                    user_id=u.id if u else None, version=data.get("version"), note=data.get("note"))
    session().commit()
    return route_json(r)


@blp.route("/routes/<int:route_id>/gpx")
@require("dispatcher", "crew")
@blp.response(200, content_type="application/gpx+xml")
def get_route_gpx(route_id: int) -> Any:
    """The route as GPX 1.1 (waypoints = stops, track = road path)."""
    r = _route_for(route_id)
    crew = session().get(Crew, r.crew_id)
    gpx = r.gpx or routing_service.gpx_from_route(r, crew.name if crew else r.crew_id)
    day = session().get(Dispatch, r.dispatch_id).now  # type: ignore[union-attr]
    return file_response(gpx.encode(), mimetype="application/gpx+xml",
                         filename=f"route-{r.id}-crew-{r.crew_id}-{day.date().isoformat()}.gpx")


@blp.route("/crews/<string:crew_id>/route")
@require("dispatcher", "viewer", "crew")
@blp.response(200)
def crew_route(crew_id: str) -> Any:
    """The crew's latest route (a crew user only its own)."""
    crew_scope(crew_id)
    get_or_404(Crew, crew_id, "crew")
    r = session().scalars(select(Route).join(Dispatch).where(Route.crew_id == crew_id, Dispatch.status == "done")
                          .order_by(Dispatch.id.desc()).limit(1)).first()
    if r is None:
        raise NotFoundError(f"crew {crew_id!r} has no route yet")
    return route_json(r)
