"""The public outage lookup page (no login; the 95598 view) and its JSON.

``bp`` is registered by :func:`app.create_app` next to the role pages; its JSON views are
rate-limited per client address (:func:`app.throttle.throttle_lookup`). Everything is
answered by :mod:`app.services.lookup`, which never returns a customer's id, name, phone,
account or house number. Errors are the service's JSON errors (``{code, message}``), the
page shows each code in its language.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app import maps
from app.db import get_session
from app.errors import domain_error_json
from app.pages import _base_template, _cached_json, _grid, _json_response, _roads_graph
from app.services import lookup
from gis import InputError, NotFoundError, OutageError

bp = Blueprint("lookup", __name__, url_prefix="/lookup")

#: The JSON views :func:`app.throttle.throttle_lookup` limits.
THROTTLED = ("lookup.account", "lookup.streets", "lookup.street", "lookup.point")


def labels() -> dict[str, str]:
    """The lookup page's strings for its JavaScript, in the request's language."""
    return {
        "planned": _("Planned outages"), "faults": _("Faults now"), "none_planned": _("No planned outage ahead."),
        "none_faults": _("No fault affects this supply now."), "area": _("Area"), "date": _("Date"),
        "window": _("Time"), "reason": _("Reason"), "supply": _("Your supply"), "status": _("Status"),
        "since": _("Since"), "estimated": _("Estimated restoration"), "restored_at": _("Restored at"),
        "no_estimate": _("No estimate yet"), "more_streets": _("more streets"), "ongoing": _("under way now"),
        "maintenance": _("Planned maintenance of the electricity network"),
        "interrupted": _("No supply during the whole window"),
        "short_breaks": _("Two short breaks, at the start and at the end of the window"),
        "generator": _("Supplied by a mobile generator during the work"),
        "out": _("Supply off; crews are working on it"), "restored": _("Supply restored"),
        "result_for": _("Result for"), "supply_points": _("supply points"), "checked_at": _("Checked at"),
        "choose_street": _("Choose your street:"), "searching": _("Looking…"),
        "err_missing_account": _("Type your account number."), "err_missing_street": _("Type a few letters of your street."),
        "err_too_long": _("That is too long: type at most 120 characters."),
        "err_bad_account": _("An account number has only letters and digits."),
        "err_unknown_account": _("No supply point has this account number. Check it on your bill."),
        "err_unknown_street": _("No street of that name."), "err_no_streets": _("No street matches these words."),
        "err_no_supply_point": _("No supply point near this place: click closer to a building."),
        "err_bad_point": _("That place is not on the map."),
        "err_too_many_requests": _("Too many lookups from your connection. Wait a minute and try again."),
        "err_error": _("The lookup failed. Try again later."),
    }


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _answer(fn: Any, *args: Any, **kwargs: Any) -> Response:
    try:
        payload = fn(get_session(), _grid(), *args, now=_now(), **kwargs)
    except OutageError as exc:
        return domain_error_json(exc)
    resp = jsonify(payload)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("")
def page() -> Any:
    """The lookup page: account number, street search, a map to click."""
    tile_url = current_app.config.get("TILE_URL") or None
    config = {
        "labels": labels(),
        "locale": str(get_locale() or "en"),
        "center": [float(_grid().customers.geometry.y.median()), float(_grid().customers.geometry.x.median())],
        "tile_url": tile_url,
        "attribution": maps.OSM_ATTRIBUTION,
        "data": {
            "account": url_for("lookup.account"), "streets": url_for("lookup.streets"),
            "street": url_for("lookup.street"), "point": url_for("lookup.point"),
            "roads": url_for("lookup.roads") if _roads_graph() is not None else None,
        },
    }
    return render_template("pages/lookup.html", base_template=_base_template(), page="lookup",
                           page_config=maps.json_for_script(config), page_locale=config["locale"])


@bp.route("/account.json")
def account() -> Any:
    """``?account=``: the answer for one account number."""
    return _answer(lookup.by_account, request.args.get("account"))


@bp.route("/streets.json")
def streets() -> Any:
    """``?q=``: streets whose name holds every word (at most 10); 404 ``no_streets`` when none."""
    try:
        found = lookup.find_streets(_grid(), request.args.get("q"))
    except OutageError as exc:
        return domain_error_json(exc)
    if not found:
        return domain_error_json(NotFoundError("no street matches these words", code="no_streets"))
    return {"streets": found}


@bp.route("/street.json")
def street() -> Any:
    """``?street=``: the answer for every supply point of a street (exact name)."""
    return _answer(lookup.by_street, request.args.get("street"))


@bp.route("/point.json")
def point() -> Any:
    """``?lon=&lat=``: the answer for the supply point nearest to a map click."""
    try:
        lon, lat = float(request.args.get("lon", "")), float(request.args.get("lat", ""))
    except ValueError:
        return domain_error_json(InputError("lon and lat must be numbers (WGS84 degrees)", code="bad_point"))
    return _answer(lookup.by_point, lon=lon, lat=lat)


@bp.route("/roads.geojson")
def roads() -> Any:
    """The road network drawn under the lookup map (public OpenStreetMap data)."""
    graph = _roads_graph()
    if graph is None:
        return domain_error_json(NotFoundError("this service has no road network", code="no_roads"))
    return _json_response(_cached_json("grid:roads", lambda: maps.roads_geojson(graph)), mimetype="application/geo+json", max_age=300)
