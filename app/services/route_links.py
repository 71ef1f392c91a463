"""A crew's phone link to one route: issue, check, revoke; its QR code and its SMS.

The token is ``itsdangerous``-signed (the service's ``SECRET_KEY``, salt ``route-link``) over
``[link id, route id, crew id, expiry (epoch s)]``; the database keeps only its SHA-256
(:class:`app.models.RouteLink`), so a copy of the database alone opens nothing. A token is
good while its row exists, is not revoked, has not expired and names the same route and
crew as the row. The QR code is an SVG drawn by ``segno`` on this machine (no service).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.errors import Unauthorized
from app.models import Crew, Notification, Route, RouteLink
from app.times import local_iso
from gis.errors import InputError, NotFoundError

SALT = "route-link"


class RouteLinkError(Unauthorized):
    """A route link that cannot be used: ``bad_route_link`` (not ours), ``route_link_expired``,
    ``route_link_revoked`` (HTTP 401, as :class:`app.errors.Unauthorized`)."""

    code = "bad_route_link"


@dataclass(frozen=True)
class IssuedLink:
    """A new link: the row and the plain token (shown once, in the URL, the QR code and the SMS)."""

    link: RouteLink
    token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def issue(session: Session, route: Route, *, secret: str, ttl: timedelta, now: datetime,
          created_by: int | None) -> IssuedLink:
    """A new link for ``route``'s crew valid ``ttl`` from ``now`` (the caller commits)."""
    if ttl <= timedelta(0):
        raise InputError("a route link must live a positive time", details={"ttl_s": ttl.total_seconds()})
    expires = (now + ttl).astimezone(UTC).replace(microsecond=0)
    link = RouteLink(route_id=route.id, crew_id=route.crew_id, token_hash=secrets.token_hex(32),
                     created_at=now, expires_at=expires, created_by=created_by)
    session.add(link)
    session.flush()  # the id goes into the token
    token = _serializer(secret).dumps([link.id, route.id, route.crew_id, int(expires.timestamp())])
    assert isinstance(token, str)
    link.token_hash = hash_token(token)
    session.flush()
    return IssuedLink(link=link, token=token)


def check(session: Session, token: str, *, secret: str, now: datetime) -> RouteLink:
    """The link a token opens. Raises :class:`RouteLinkError` with a clear reason."""
    if not token or len(token) > 400:
        raise RouteLinkError("this is not a route link of this service")
    try:
        payload = _serializer(secret).loads(token)
    except BadSignature:
        raise RouteLinkError("this is not a route link of this service") from None
    if not (isinstance(payload, list) and len(payload) == 4 and isinstance(payload[0], int)):
        raise RouteLinkError("this is not a route link of this service")
    link = session.get(RouteLink, payload[0])
    if link is None or not hmac.compare_digest(link.token_hash, hash_token(token)) \
            or [link.route_id, link.crew_id] != payload[1:3]:
        raise RouteLinkError("this route link is not known (the route may have been deleted)")
    if link.revoked_at is not None:
        raise RouteLinkError("this route link was withdrawn by the dispatcher; ask for a new one",
                             code="route_link_revoked", details={"link": link.id})
    if link.expires_at <= now:
        raise RouteLinkError("this route link has expired; ask the dispatcher for a new one",
                             code="route_link_expired", details={"link": link.id, "expired_at": link.expires_at.isoformat()})
    return link


def usable(link: RouteLink | None, now: datetime) -> bool:
    """Whether a (stored) link still opens its route."""
    return link is not None and link.revoked_at is None and link.expires_at > now


def revoke(session: Session, link: RouteLink, *, now: datetime) -> RouteLink:
    """Withdraw a link (again: nothing changes); its SMS is cancelled when not sent yet."""
    if link.revoked_at is None:
        link.revoked_at = now
        if link.notification_id is not None:
            session.execute(update(Notification).where(Notification.id == link.notification_id,
                                                       Notification.status == "pending").values(status="cancelled"))
        session.flush()
    return link


def qr_svg(url: str) -> str:
    """The URL as a QR code (SVG, error correction M, 4-module quiet zone), drawn locally."""
    import segno

    buf = io.BytesIO()
    segno.make_qr(url, error="m").save(buf, kind="svg", scale=4, border=4, xmldecl=False, svgns=True,
                                       title="QR", dark="#000", light="#fff")
    return buf.getvalue().decode()


PHONE_CHARS = set("+0123456789 -()")


def normalise_phone(raw: str) -> str:
    """A phone number for the SMS: digits with an optional leading +, spaces/dashes dropped."""
    text = raw.strip()
    if not text or any(c not in PHONE_CHARS for c in text):
        raise InputError("phone must be digits, optionally with a leading + and spaces or dashes", details={"phone": raw})
    digits = text.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if digits.count("+") > 1 or ("+" in digits and not digits.startswith("+")) or not 5 <= len(digits.lstrip("+")) <= 20:
        raise InputError("phone must have 5-20 digits and at most a leading +", details={"phone": raw})
    return digits


def queue_sms(session: Session, link: RouteLink, *, url: str, phone: str, crew: Crew | None, now: datetime,
              tz: tzinfo) -> Notification:
    """Put the link into the outbox as an SMS to ``phone`` (due now), in English and Chinese."""
    until = local_iso(link.expires_at, tz) or ""
    hhmm = until[11:16]
    name = (crew.name if crew is not None and crew.name else link.crew_id)
    n = Notification(dedupe_key=f"route-link:{link.id}", kind="crew_link", channel="sms", customer_id="",
                     recipient=phone, due_at=now,
                     text_en=f"Route for crew {name}: {url} (valid until {hhmm})",
                     text_zh=f"抢修班组 {name} 的路线：{url}（{hhmm} 前有效）")
    session.add(n)
    session.flush()
    link.notification_id = n.id
    return n


def link_json(link: RouteLink, *, tz: tzinfo, now: datetime) -> dict[str, Any]:
    """A link as the API shows it (never the token)."""
    state = "revoked" if link.revoked_at is not None else ("expired" if link.expires_at <= now else "active")
    return {"id": link.id, "route_id": link.route_id, "crew_id": link.crew_id, "state": state,
            "created_at": local_iso(link.created_at, tz), "expires_at": local_iso(link.expires_at, tz),
            "revoked_at": local_iso(link.revoked_at, tz), "notification_id": link.notification_id}


def get_link(session: Session, link_id: int) -> RouteLink:
    link = session.get(RouteLink, link_id) if 0 < link_id <= 2**31 - 1 else None
    if link is None:
        raise NotFoundError(f"no route link {link_id}", details={"link": link_id})
    return link
