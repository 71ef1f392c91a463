"""The crew's phone: route links (token, QR code, SMS), the stop sheet, stop photos."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask import Response, current_app, request, url_for
from sqlalchemy import select

from app.api import ApiBlueprint
from app.api.common import get_or_404, grid, iso, session, utc_now
from app.api.dispatch import route_json
from app.auth import crew_scope, require, user
from app.config import APPLE_MAPS_URL, nav_templates
from app.input_policy import PolicyDateTime
from app.models import Crew, Dispatch, Fault, Route, RouteLink, StopPhoto
from app.route_links import link_user
from app.services import crew_sheet, photos
from app.services import route_links as links
from app.services.routing import client_time, stop_row
from gis.errors import InputError, NotFoundError

blp = ApiBlueprint("route_links", __name__, url_prefix="/api",
                   description="The crew's phone: route links with QR code and SMS, stop sheet, photos")


class LinkIn(ma.Schema):
    phone = ma.fields.String(validate=ma.validate.Length(1, 40),
                             metadata={"description": "the crew's mobile: the link is queued as an SMS in the outbox"})
    ttl_min = ma.fields.Integer(validate=ma.validate.Range(1, 7 * 24 * 60),
                                metadata={"description": "minutes the link opens the route (default ROUTE_LINK_TTL_MIN)"})


def _route(route_id: int) -> Route:
    r = get_or_404(Route, route_id, "route")
    crew_scope(r.crew_id)
    lu = link_user()
    if lu is not None and lu.route_id != r.id:
        raise NotFoundError(f"no route {route_id!r}")
    return r


def _public_url(path: str) -> str:
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    return base.rstrip("/") + path


@blp.route("/routes/<int:route_id>/links", methods=["POST"])
@require("dispatcher")
@blp.arguments(LinkIn)
@blp.response(201)
def create_link(data: dict[str, Any], route_id: int) -> Any:
    """A short-lived link that opens this route on the crew's phone with no other login.

    Answers the link (``url`` with the token, shown only now), its QR code as SVG
    (``qr_svg``) and, with ``phone``, the outbox SMS that carries it. The token is signed
    and expires (``ttl_min``, default ``ROUTE_LINK_TTL_MIN``); only its hash is stored.
    """
    r = get_or_404(Route, route_id, "route")
    s = session()
    phone = links.normalise_phone(data["phone"]) if data.get("phone") else None
    now = utc_now()
    ttl = timedelta(minutes=int(data.get("ttl_min") or current_app.config["ROUTE_LINK_TTL_MIN"]))
    u = user()
    issued = links.issue(s, r, secret=current_app.config["SECRET_KEY"], ttl=ttl, now=now, created_by=u.id if u else None)
    url = _public_url(url_for("crew_link.open_link", token=issued.token))
    sms = None
    if phone is not None:
        n = links.queue_sms(s, issued.link, url=url, phone=phone, crew=s.get(Crew, r.crew_id), now=now, tz=grid().timezone)
        sms = {"id": n.id, "status": n.status, "text_en": n.text_en, "text_zh": n.text_zh}
    s.commit()
    return {**links.link_json(issued.link, tz=grid().timezone, now=now), "url": url, "qr_svg": links.qr_svg(url), "sms": sms}


@blp.route("/routes/<int:route_id>/links")
@require("dispatcher")
@blp.response(200)
def list_links(route_id: int) -> Any:
    """The route's links, newest first (never their tokens)."""
    get_or_404(Route, route_id, "route")
    now = utc_now()
    rows = session().scalars(select(RouteLink).where(RouteLink.route_id == route_id).order_by(RouteLink.id.desc()))
    return {"items": [links.link_json(x, tz=grid().timezone, now=now) for x in rows]}


@blp.route("/route-links/<int:link_id>/revoke", methods=["POST"])
@require("dispatcher")
@blp.response(200)
def revoke_link(link_id: int) -> Any:
    """Withdraw a link at once (a phone using it is logged out; a pending SMS is cancelled)."""
    now = utc_now()
    link = links.revoke(session(), links.get_link(session(), link_id), now=now)
    session().commit()
    return links.link_json(link, tz=grid().timezone, now=now)


def _photos_json(rows: Any) -> list[dict[str, Any]]:
    return [{"id": p.id, "task_id": p.task_id, "content_type": p.content_type, "size_bytes": p.size_bytes,
             "width": p.width, "height": p.height, "note": p.note, "taken_at": iso(p.taken_at),
             "received_at": iso(p.received_at), "url": url_for("route_links.get_photo", photo_id=p.id)} for p in rows]


@blp.route("/routes/<int:route_id>/sheet")
@require("dispatcher", "viewer", "crew")
@blp.response(200)
def route_sheet(route_id: int) -> Any:
    """The route as the crew's phone shows it: the route (stops with progress) and, per stop,
    the equipment (id, name, kind, address, access notes, access point with its street), the
    switching operations in order, the affected customers (count and the first few), photos;
    plus the crew, the navigation link templates and the position interval."""
    r = _route(route_id)
    s = session()
    d = s.get(Dispatch, r.dispatch_id)
    assert d is not None
    fault = s.get(Fault, d.fault_id) if d.fault_id else None
    details = crew_sheet.sheet(grid(), current_app.extensions.get("roads"), r, d, fault)
    out = route_json(r)
    pics = _photos_json(s.scalars(select(StopPhoto).where(StopPhoto.route_id == r.id).order_by(StopPhoto.id)))
    for stop in out["stops"]:
        tid = str(stop.get("task_id"))
        stop["details"] = details.get(tid)
        stop["photos"] = [p for p in pics if p["task_id"] == tid]
    crew = s.get(Crew, r.crew_id)
    lu = link_user()
    return {"route": out, "crew": {"id": r.crew_id, "name": crew.name if crew else r.crew_id},
            "fault_id": d.fault_id, "link_expires_at": iso(lu.expires_at) if lu is not None else None,
            "nav_templates": nav_templates(current_app.config.get("NAV_LINK_TEMPLATES")), "apple_maps_url": APPLE_MAPS_URL,
            "position_interval_s": int(current_app.config["CREW_POSITION_INTERVAL_S"])}


class PhotoForm(ma.Schema):
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    at = PolicyDateTime(metadata={"description": "when the photo was taken on the phone"})


@blp.route("/routes/<int:route_id>/stops/<string:task_id>/photos", methods=["POST"])
@require("dispatcher", "crew")
@blp.arguments(PhotoForm, location="form")
@blp.response(201)
def add_photo(data: dict[str, Any], route_id: int, task_id: str) -> Any:
    """Attach a photo (multipart field ``photo``: JPEG, PNG or WebP, at most ``PHOTO_MAX_BYTES``)
    to a stop. Anything that is not such an image is 422 ``photo_not_image`` /
    ``photo_too_large`` / ``photo_empty``, and nothing is stored."""
    r = _route(route_id)
    s = session()
    stop_row(s, r, task_id)
    upload = request.files.get("photo")
    if upload is None:
        raise InputError("send the photo as the multipart field 'photo'", code="photo_missing")
    limit = int(current_app.config["PHOTO_MAX_BYTES"])
    blob = upload.stream.read(limit + 1)
    checked = photos.check_image(blob, max_bytes=limit)
    received = utc_now()
    taken = client_time(data.get("at"), received=received, max_age_s=float(current_app.config["CLIENT_TIME_MAX_AGE_S"]),
                        max_ahead_s=float(current_app.config["CLIENT_TIME_MAX_AHEAD_S"]))
    u, lu = user(), link_user()
    p = StopPhoto(route_id=r.id, task_id=task_id, content_type=checked.content_type, size_bytes=checked.size_bytes,
                  width=checked.width, height=checked.height, sha256=checked.sha256, data=blob, note=data["note"],
                  taken_at=taken, received_at=received, uploaded_by=u.id if u is not None and lu is None else None,
                  route_link_id=lu.link_id if lu is not None else None)
    s.add(p)
    s.commit()
    return _photos_json([p])[0]


@blp.route("/routes/<int:route_id>/photos")
@require("dispatcher", "viewer", "crew")
@blp.response(200)
def list_photos(route_id: int) -> Any:
    """The route's photos (without their bytes), in upload order."""
    r = _route(route_id)
    return {"items": _photos_json(session().scalars(select(StopPhoto).where(StopPhoto.route_id == r.id).order_by(StopPhoto.id)))}


@blp.route("/photos/<int:photo_id>")
@require("dispatcher", "viewer", "crew")
@blp.response(200, content_type="image/*")
def get_photo(photo_id: int) -> Any:
    """A stop photo's bytes (as uploaded; served with its checked image type)."""
    p = get_or_404(StopPhoto, photo_id, "photo")
    _route(p.route_id)
    resp = Response(p.data, mimetype=p.content_type)
    resp.headers["Cache-Control"] = "private, max-age=86400"
    resp.headers["Content-Disposition"] = f'inline; filename="photo-{p.id}"'
    return resp

