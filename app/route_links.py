"""A route link opened on a phone: ``/r/<token>`` logs the phone in for that one route.

Opening a good link (:mod:`app.services.route_links`) starts a session whose user is a
:class:`RouteLinkUser`: role ``crew``, the link's crew, and only the link's route. The
session names the link (``link:<id>:<hash prefix>``), so each request re-reads the link:
once it expires or is revoked the session stops working at once, with a clear message.
A link user reaches only :data:`LINK_ENDPOINTS` (the crew page and its data, its own
route, stops, photos and positions); anything else answers 403 ``route_link_scope``.

Also here: the crew page's web app manifest and service worker (``/crew/manifest.webmanifest``,
``/crew/sw.js``, scope ``/crew/``) that make the page installable and usable for a few
minutes without signal.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_user

from app.db import get_session
from app.errors import error_response
from app.models import RouteLink
from app.services import route_links as links

bp = Blueprint("crew_link", __name__)

#: What a route link opens (endpoint -> the view argument that must be the link's route or crew).
LINK_ENDPOINTS: dict[str, str | None] = {
    "static": None,
    "home": None,
    "set_language": None,
    "auth.logout": None,
    "crew_link.open_link": None,
    "crew_link.service_worker": None,
    "crew_link.manifest": None,
    "pages.crew": "crew_id",
    "pages.map_script": None,
    "pages.grid_data": None,
    "dispatch.get_route": "route_id",
    "dispatch.set_stop_status": "route_id",
    "dispatch.get_route_gpx": "route_id",
    "crews.get_crew": "crew_id",
    "crews.add_position": "crew_id",
    "route_links.route_sheet": "route_id",
    "route_links.add_photo": "route_id",
    "route_links.list_photos": "route_id",
    "route_links.get_photo": None,  # checked in the view: the photo's route
}


class RouteLinkUser:
    """The user of a session opened by a route link (not a database user)."""

    role = "crew"
    id = None
    locale: str | None = None
    active = True
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, link: RouteLink) -> None:
        self.link_id = link.id
        self.route_id = link.route_id
        self.crew_id: str | None = link.crew_id
        self.expires_at = link.expires_at
        self.username = f"route-link-{link.id}"
        self._session_id = f"link:{link.id}:{link.token_hash[:16]}"

    def get_id(self) -> str:
        return self._session_id


def _now() -> datetime:
    return datetime.now(UTC)


def load_user(session_id: str) -> RouteLinkUser | None:
    """The link user of a session id ``link:<id>:<hash prefix>`` while the link is usable."""
    _, _, rest = session_id.partition(":")
    link_id, _, prefix = rest.partition(":")
    if not link_id.isdigit() or len(prefix) != 16:
        return None
    link = get_session().get(RouteLink, int(link_id))
    if link is None or link.token_hash[:16] != prefix or not links.usable(link, _now()):
        return None
    return RouteLinkUser(link)


def link_user() -> RouteLinkUser | None:
    from app.auth import user

    u = user()
    return u if isinstance(u, RouteLinkUser) else None


def _link_message(code: str) -> str:
    """The reason a link does not open, in the request's language."""
    return {
        "route_link_expired": _("This route link has expired. Ask the dispatcher for a new one."),
        "route_link_revoked": _("This route link was withdrawn by the dispatcher. Ask for a new one."),
        "route_link_scope": _("This route link opens only its own route."),
    }.get(code, _("This is not a valid route link."))


def _refuse(status: int, code: str, details: Any = None) -> Any:
    if request.path.startswith("/api/"):
        return error_response(status, code, _link_message(code), details)
    return render_template("pages/link_error.html", message=_link_message(code), code=code), status


def _guard() -> Any:
    """Keep a link user inside its route; say so when a link session has lapsed."""
    sid = session.get("_user_id")
    if isinstance(sid, str) and sid.startswith("link:"):
        if request.endpoint in ("static", "crew_link.open_link", "crew_link.service_worker", "crew_link.manifest"):
            return None
        u = link_user()
        if u is None:  # expired or revoked since the session started
            link = get_session().get(RouteLink, int(sid.split(":")[1])) if sid.split(":")[1].isdigit() else None
            code = "route_link_revoked" if link is not None and link.revoked_at is not None else "route_link_expired"
            return _refuse(401, code)
        arg = LINK_ENDPOINTS.get(request.endpoint or "", "-")
        if arg == "-":
            return _refuse(403, "route_link_scope", {"route_id": u.route_id})
        if arg is not None:
            value = (request.view_args or {}).get(arg)
            mine = u.route_id if arg == "route_id" else u.crew_id
            if value is not None and value != mine:
                return _refuse(403, "route_link_scope", {"route_id": u.route_id})
    return None


@bp.route("/r/<token>")
def open_link(token: str) -> Any:
    """Open a crew's route link: log the phone in for that route and show the crew page."""
    from app.auth import has_role, user

    s = get_session()
    try:
        link = links.check(s, token, secret=current_app.config["SECRET_KEY"], now=_now())
    except links.RouteLinkError as exc:
        return render_template("pages/link_error.html", message=_link_message(exc.code), code=exc.code), 401
    target = url_for("pages.crew", crew_id=link.crew_id, route=link.route_id)
    u = user()
    if u is not None and not isinstance(u, RouteLinkUser) and (has_role("dispatcher") or u.crew_id == link.crew_id):
        return redirect(target)  # a dispatcher checking the link keeps their own session
    login_user(RouteLinkUser(link))  # type: ignore[arg-type]
    return redirect(target)


STATIC = Path(__file__).resolve().parent / "static"


@bp.route("/crew/sw.js")
def service_worker() -> Any:
    """The crew page's service worker (scope ``/crew/``), never cached by the browser's HTTP cache."""
    resp = Response((STATIC / "js" / "crew-sw.js").read_bytes(), mimetype="text/javascript")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.route("/crew/manifest.webmanifest")
def manifest() -> Any:
    """The crew page as an installable web app."""
    body = {
        "name": _("Crew route"), "short_name": _("Route"), "start_url": url_for("pages.crew"), "scope": "/crew/",
        "display": "standalone", "background_color": "#ffffff", "theme_color": "#1f3b57",
        "icons": [{"src": url_for("static", filename=f"img/crew-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png"}
                  for n in (192, 512)],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_guard)
