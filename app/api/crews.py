"""Crews: list, create, shifts (with optimistic locking), positions."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import select

from app.api import ApiBlueprint
from app.api.common import check_version, get_or_404, iso, session, utc_now
from app.api.records import described_schema
from app.auth import crew_scope, require, user
from app.input_policy import PolicyDateTime
from app.models import Crew, CrewPosition
from app.services import crew_sheet
from app.services import crews as crews_service
from app.services.routing import client_time
from routing.crews import CrewRecord

blp = ApiBlueprint("crews", __name__, url_prefix="/api/crews", description="Crews, shifts and positions")

#: A new crew: the core's :class:`~routing.crews.CrewRecord`.
CrewCreate = described_schema(CrewRecord, name="CrewCreate")

#: A change: any roster fields but the id, plus the ``version`` you read.
CrewPatch = described_schema(CrewRecord, name="CrewPatch", partial=True, exclude=("id",), extra={
    "version": ma.fields.Integer(required=True, validate=ma.validate.Range(1, 2**31 - 1)),
})


class PositionIn(ma.Schema):
    lon = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))
    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    at = PolicyDateTime(metadata={"description": "the phone's time of the fix (kept when sent late; default: receive time)"})
    accuracy_m = ma.fields.Float(validate=ma.validate.Range(0, 1e6), metadata={"description": "the fix's accuracy (m), not stored"})


def crew_json(c: Crew, position: CrewPosition | None = None) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "depot_id": c.depot_id, "skills": c.skills, "shift_start": c.shift_start,
            "shift_end": c.shift_end, "active": c.active, "version": c.version,
            "position": None if position is None else {"lon": position.lon, "lat": position.lat, "at": iso(position.at)}}


def last_position(crew_id: str) -> CrewPosition | None:
    return session().scalars(select(CrewPosition).where(CrewPosition.crew_id == crew_id)
                             .order_by(CrewPosition.at.desc(), CrewPosition.id.desc()).limit(1)).first()


def _check_depot(depot_id: str | None) -> None:
    from app.api.common import grid
    from gis.errors import NotFoundError

    if depot_id and grid().equipment_kind(depot_id) != "depot":
        raise NotFoundError(f"no depot {depot_id!r}", details={"depot_id": depot_id})


@blp.route("")
@require("dispatcher", "planner", "customer_service", "viewer", "crew")
@blp.response(200)
def list_crews() -> Any:
    """Every crew with its last position (a crew user sees only its own crew)."""
    q = select(Crew).order_by(Crew.id)
    u = user()
    if u is not None and u.role == "crew":
        q = q.where(Crew.id == u.crew_id)
    return {"items": [crew_json(c, last_position(c.id)) for c in session().scalars(q)]}


@blp.route("", methods=["POST"])
@require("dispatcher")
@blp.arguments(CrewCreate)
@blp.response(201)
def create_crew(data: dict[str, Any]) -> Any:
    from gis.errors import ConflictError

    values = crews_service.crew_values(data)
    if session().get(Crew, values["id"]) is not None:
        raise ConflictError(f"crew {values['id']!r} exists", code="duplicate_id")
    _check_depot(values["depot_id"])
    c = Crew(**values)
    session().add(c)
    session().commit()
    return crew_json(c)


@blp.route("/<string:crew_id>")
@require("dispatcher", "planner", "customer_service", "viewer", "crew")
@blp.response(200)
def get_crew(crew_id: str) -> Any:
    crew_scope(crew_id)
    c = get_or_404(Crew, crew_id, "crew")
    return crew_json(c, last_position(c.id))


@blp.route("/<string:crew_id>", methods=["PATCH"])
@require("dispatcher")
@blp.arguments(CrewPatch)
@blp.response(200)
def update_crew(data: dict[str, Any], crew_id: str) -> Any:
    """Change a crew's shift, skills, depot or name; ``version`` must be current."""
    c = get_or_404(Crew, crew_id, "crew")
    check_version(c, data.pop("version"))
    values = crews_service.crew_values({k: getattr(c, k) for k in crews_service.RECORD_FIELDS} | data)
    if "depot_id" in data:
        _check_depot(values["depot_id"])
    for k in data:
        setattr(c, k, values[k])
    session().commit()
    return crew_json(c, last_position(c.id))


@blp.route("/<string:crew_id>/positions", methods=["POST"])
@require("dispatcher", "crew")
@blp.arguments(PositionIn)
@blp.response(201)
def add_position(data: dict[str, Any], crew_id: str) -> Any:
    """Report a crew's GPS position (a crew user only for its own crew).

    The position must lie in the service area (the grid's and road network's extent plus
    ``POSITION_AREA_MARGIN_M``) and within ``POSITION_MAX_ROAD_M`` of a drivable road: 422
    ``position_swapped`` / ``position_outside_area`` / ``position_off_road`` otherwise.
    ``at`` (the phone's time) is kept when the report arrives late; ``received_at`` is the
    server's time.
    """
    crew_scope(crew_id)
    get_or_404(Crew, crew_id, "crew")
    u = user()
    received = utc_now()
    at = client_time(data.get("at"), received=received, max_age_s=float(current_app.config["CLIENT_TIME_MAX_AGE_S"]),
                     max_ahead_s=float(current_app.config["CLIENT_TIME_MAX_AHEAD_S"]))
    checked = crew_sheet.check_crew_position(current_app._get_current_object(), data["lon"], data["lat"])  # type: ignore[attr-defined]
    p = CrewPosition(crew_id=crew_id, lon=data["lon"], lat=data["lat"], recorded_by=u.id if u else None,
                     at=at, received_at=received)
    session().add(p)
    session().commit()
    return {"id": p.id, "crew_id": crew_id, "lon": p.lon, "lat": p.lat, "at": iso(p.at),
            "received_at": iso(p.received_at), "road_distance_m": checked.road_distance_m, "street": checked.street}


@blp.route("/<string:crew_id>/positions")
@require("dispatcher", "crew", "viewer")
@blp.response(200)
def list_positions(crew_id: str) -> Any:
    """The crew's last 100 positions, newest first."""
    crew_scope(crew_id)
    get_or_404(Crew, crew_id, "crew")
    rows = session().scalars(select(CrewPosition).where(CrewPosition.crew_id == crew_id)
                             .order_by(CrewPosition.at.desc(), CrewPosition.id.desc()).limit(100))
    return {"items": [{"lon": p.lon, "lat": p.lat, "at": iso(p.at), "received_at": iso(p.received_at)} for p in rows]}
