"""Every error becomes JSON ``{code, message, details}`` here, and only here.

Domain errors (:class:`gis.errors.OutageError` and its subclasses in ``gis``,
``planning``, ``routing`` and this shell) take their HTTP status from one table,
:data:`STATUS_BY_CLASS`, looked up along the exception's MRO: the most specific
class listed wins (``routing.UnknownLocationError`` is a ``NotFoundError`` -> 404,
``routing.RoadNetworkError`` an ``InputError`` -> 422). The API's error handler and
the pages' JSON data routes both use :func:`status_of`. Werkzeug HTTP errors (400
malformed JSON, 413 too large, 405, ...) keep their status. Stale versions
(``StaleDataError``) and integrity errors are 409. Anything else is logged and
answered 500 without internals.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from gis.errors import ConflictError, InputError, NotFoundError, OutageError

log = logging.getLogger(__name__)


class NotAvailable(OutageError):
    """Something this endpoint needs is not configured, e.g. no road network loaded (HTTP 503)."""

    code = "not_available"


class Forbidden(OutageError):
    """The user is logged in but their role may not do this (HTTP 403)."""

    code = "forbidden"


class Unauthorized(OutageError):
    """No valid session or token (HTTP 401)."""

    code = "unauthorized"


#: HTTP status of each domain error class. :func:`status_of` walks an exception's MRO
#: and takes the first class found here, so a subclass inherits its parent's status
#: unless it is listed itself.
STATUS_BY_CLASS: dict[type, int] = {
    NotFoundError: 404,  # also routing.UnknownLocationError
    InputError: 422,  # also GridValidationError, routing.RoutingInputError / RoadNetworkError, BadOptions
    ConflictError: 409,
    Unauthorized: 401,
    Forbidden: 403,
    NotAvailable: 503,
    OutageError: 500,  # also routing.RoutingError: a failure that is not the caller's fault
}


def status_of(exc: BaseException) -> int:
    """The HTTP status of an exception: its MRO's first class in :data:`STATUS_BY_CLASS`, else 500."""
    for cls in type(exc).__mro__:
        status = STATUS_BY_CLASS.get(cls)
        if status is not None:
            return status
    return 500


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


def _wants_json() -> bool:
    if request.path.startswith("/api/") or request.path == "/api" or request.path.endswith((".json", ".geojson")):
        return True  # the API and every JSON document (map data, the public lookup) answer errors in JSON
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def json_error(status: int, code: str, message: str, details: Any = None) -> Response:
    """The JSON error body ``{code, message, details}`` with ``status`` (401 adds the Bearer challenge)."""
    resp = jsonify({"code": code, "message": message, "details": details})
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return resp


def domain_error_json(exc: OutageError) -> Response:
    """A domain error as JSON with the status :func:`status_of` gives it."""
    return json_error(status_of(exc), exc.code, exc.message, exc.details)


def error_response(status: int, code: str, message: str, details: Any = None) -> Response | tuple[Any, int]:
    if _wants_json():
        return json_error(status, code, message, details)
    try:
        return render_template("error.html", status=status, code=code, message=message), status
    except Exception:  # noqa: BLE001 - never fail while reporting a failure
        log.exception("error page failed")
        return Response(f"{status} {code}: {message}", status=status, mimetype="text/plain")


def _http_details(exc: HTTPException) -> Any:
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        return data.get("messages") or data.get("details")
    return None


def register(app: Flask) -> None:
    @app.errorhandler(OutageError)
    def _outage(exc: OutageError) -> Any:
        status = status_of(exc)
        if status == 503:
            log.warning("not available: %s", exc.message)
        elif status >= 500:
            log.error("core error: %s", exc, exc_info=exc)
        return error_response(status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "error")
        message = exc.description or exc.name
        if status == 422:
            message = "the request failed validation"
        if status == 413:  # the request's own limit (a grid upload has a larger one than MAX_CONTENT_LENGTH)
            limit = request.max_content_length or app.config["MAX_CONTENT_LENGTH"]
            message = f"request body larger than the limit of {limit} bytes ({limit / 2**20:.1f} MiB)"
        return error_response(status, code, message, _http_details(exc))

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError) -> Any:
        return error_response(409, "stale_version", "the record was changed by someone else; reload and retry")

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError) -> Any:
        log.info("integrity error: %s", exc.orig)
        return error_response(409, "conflict", "the change conflicts with existing records (duplicate id or missing reference)")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal error; it has been logged")
