"""Request plumbing: strict JSON (:func:`app.input_policy.strict_loads`), security headers, CSRF, Idempotency-Key replay."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import BadRequest

from app.errors import error_response
from app.input_policy import strict_loads
from app.models import IdempotencyKey

log = logging.getLogger(__name__)

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; img-src 'self' data: blob: {tiles}; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


class StrictJSONProvider(DefaultJSONProvider):
    ensure_ascii = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return strict_loads(s, **kwargs)


def _tile_origin(app: Flask) -> str:
    url = app.config.get("TILE_URL") or ""
    if "://" not in url:
        return ""
    scheme, rest = url.split("://", 1)
    host = rest.split("/", 1)[0]
    # {s}.tile.example -> *.tile.example
    return f"{scheme}://{host.replace('{s}', '*')}"


def _security_headers(app: Flask) -> None:
    csp = CSP.format(tiles=_tile_origin(app)).replace("  ", " ")

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", csp)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        resp.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp


def _csrf(app: Flask) -> None:
    """Forms and cookie-authenticated API calls need a CSRF token; Bearer calls do not."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    @app.before_request
    def _check() -> None:
        if not app.config.get("WTF_CSRF_ENABLED", True):
            return
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return
        if request.path.startswith("/api/") and not request.cookies.get(app.config["SESSION_COOKIE_NAME"]):
            return  # no session cookie: nothing to forge; auth will answer 401
        csrf.protect()


def _user_key() -> str | None:
    from app.auth import user

    header = request.headers.get("Authorization", "")
    u = user()
    if u is None:
        return None
    if header.startswith("Bearer "):
        return "t:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return f"u:{u.id}"


def _idempotency(app: Flask) -> None:
    @app.before_request
    def _replay() -> Any:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or key is None:
            return None
        if not (1 <= len(key) <= 200) or not key.isprintable():
            return error_response(400, "bad_idempotency_key", "Idempotency-Key must be 1-200 printable characters")
        user_key = _user_key()
        if user_key is None:
            return None  # the view answers 401
        digest = hashlib.sha256(
            b"\0".join([request.method.encode(), request.full_path.encode(), request.get_data(cache=True)])
        ).hexdigest()
        db = app.extensions["db"]
        with db.sessionmaker() as s:
            row = s.scalar(select(IdempotencyKey).where(IdempotencyKey.user_key == user_key, IdempotencyKey.key == key))
        if row is not None:
            if row.request_hash != digest:
                return error_response(
                    422, "idempotency_key_reused", "this Idempotency-Key was used for a different request"
                )
            resp = Response(row.body, status=row.status_code, content_type=row.content_type)
            for name, value in (row.headers or {}).items():
                resp.headers[name] = value
            resp.headers["Idempotent-Replayed"] = "true"
            return resp
        g.idempotency = (user_key, key, digest)
        return None

    @app.after_request
    def _store(resp: Response) -> Response:
        info = g.pop("idempotency", None)
        if info is None or not (200 <= resp.status_code < 300) or resp.direct_passthrough:
            return resp
        user_key, key, digest = info
        headers = {k: v for k, v in resp.headers.items() if k in ("Location",)}
        db = app.extensions["db"]
        try:
            with db.sessionmaker() as s, s.begin():
                s.add(
                    IdempotencyKey(
                        user_key=user_key,
                        key=key,
                        method=request.method,
                        path=request.path,
                        request_hash=digest,
                        status_code=resp.status_code,
                        content_type=resp.content_type or "application/json",
                        body=resp.get_data(as_text=True),
                        headers=headers,
                    )
                )
        except IntegrityError:
            log.info("idempotency key %s stored concurrently", key)
        return resp


def init_app(app: Flask) -> None:
    app.json = StrictJSONProvider(app)
    _security_headers(app)
    _csrf(app)
    _idempotency(app)


def json_body_error(exc: ValueError) -> BadRequest:
    return BadRequest(f"malformed JSON: {exc}")
