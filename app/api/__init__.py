"""The REST API (flask-smorest): OpenAPI 3 at ``/api/openapi.json``, docs at ``/api/docs``.

Views are thin: parse (marshmallow), call a framework-free handler in
:mod:`app.services`, serialise. Errors are raised, never returned, and become JSON
in :mod:`app.errors`.
"""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Blueprint as FlaskBlueprint
from flask import Flask, current_app, render_template
from flask_smorest import Api, Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from app.input_policy import check_json_body, strict_loads


class ErrorSchema(ma.Schema):
    """Every error: a stable machine code, a human message, optional details."""

    code = ma.fields.String(required=True, metadata={"example": "not_found"})
    message = ma.fields.String(required=True)
    details = ma.fields.Raw(allow_none=True)


class StrictParser(FlaskParser):
    """JSON bodies must be valid JSON without NaN/Infinity or repeated keys, and pass
    :func:`app.input_policy.check_json_body`; unknown fields are rejected."""

    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {
        "json": ma.RAISE,
        "form": ma.RAISE,
        "json_or_form": ma.RAISE,
        "querystring": ma.RAISE,
        "query": ma.RAISE,
        "headers": ma.EXCLUDE,
        "cookies": ma.EXCLUDE,
        "files": ma.EXCLUDE,
        "view_args": ma.RAISE,
        "path": ma.RAISE,
    }

    def _load_location_data(self, *, schema: ma.Schema, req: Any, location: str) -> Any:
        data = super()._load_location_data(schema=schema, req=req, location=location)
        if location in ("json", "json_or_form") and data is not core.missing:
            check_json_body(schema, data)
        return data

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        if not data.strip():
            return core.missing
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"body is not UTF-8: {exc.reason}", "?", 0) from exc
        try:
            return strict_loads(text)
        except json.JSONDecodeError as exc:
            raise json.JSONDecodeError(exc.msg, text or "?", exc.pos) from exc
        except (ValueError, RecursionError) as exc:
            raise json.JSONDecodeError(str(exc), text or "?", 0) from exc

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        from werkzeug.exceptions import BadRequest

        raise BadRequest(f"malformed JSON body: {error}")


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = StrictParser()


class OutageApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:  # errors are handled in app.errors
        return None


docs_bp = FlaskBlueprint("api_docs", __name__)


@docs_bp.route("/api/docs")
def docs() -> Any:
    """A minimal, offline API reference rendered from the OpenAPI document (no CDN, no JS)."""
    spec = current_app.extensions["outage_api"].spec.to_dict()
    ops = []
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            ops.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "roles": op.get("x-roles", []),
                    "tag": (op.get("tags") or [""])[0],
                    "parameters": op.get("parameters", []),
                    "body": json.dumps(op.get("requestBody", {}).get("content", {}), indent=1)[:4000]
                    if op.get("requestBody")
                    else "",
                    "responses": sorted(op.get("responses", {})),
                }
            )
    ops.sort(key=lambda o: (o["tag"], o["path"], o["method"]))
    return render_template("api_docs.html", ops=ops, info=spec.get("info", {}))


def init_api(app: Flask) -> OutageApi:
    app.config.setdefault("API_TITLE", "Outage planning and crew navigation")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": app.config.get("SESSION_COOKIE_NAME", "session")},
                }
            },
            "info": {"description": "Roles per operation are listed in `x-roles`. Errors: {code, message, details}."},
        },
    )
    api = OutageApi(app)
    app.extensions["outage_api"] = api
    from app.api import (
        admin,
        crews,
        dispatch,
        faults,
        grid,
        grid_versions,
        jobs,
        notifications,
        plans,
        reliability,
        route_links,
        runs,
        sheets,
        workflow,
    )

    for module in (grid, grid_versions, jobs, plans, sheets, workflow, reliability, faults, crews, dispatch, route_links, notifications, runs, admin):
        api.register_blueprint(module.blp)
    app.register_blueprint(docs_bp)
    return api
