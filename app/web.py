"""Request plumbing: strict JSON (:func:`app.input_policy.strict_loads`), security headers, CSRF, Idempotency-Key replay."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta
from typing import Any

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import BadRequest

from app.errors import error_response
from app.input_policy import strict_loads
from app.models import IdempotencyKey, utcnow

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
    if u.id is None:  # a route link's phone (app.route_links): its keys are its own
        return f"l:{getattr(u, 'link_id', '')}"
    return f"u:{u.id}"


#: Pending claims older than this are taken to be from a crashed process and may be taken over.
STALE_CLAIM_S = 300.0
POLL_S = 0.05


def _claim(db: Any, user_key: str, key: str, digest: str) -> bool | IdempotencyKey | None:
    """Insert a ``pending`` claim in its own committed transaction: True when it is ours, else
    the row holding the key (None when that row was released meanwhile)."""
    try:
        with db.sessionmaker() as s, s.begin():
            s.add(IdempotencyKey(user_key=user_key, key=key, method=request.method, path=request.path,
                                 request_hash=digest, status_code=0, body="", state="pending"))
        return True
    except IntegrityError:
        with db.sessionmaker() as s:
            return s.scalar(select(IdempotencyKey).where(IdempotencyKey.user_key == user_key,
                                                         IdempotencyKey.key == key))


def _release(db: Any, user_key: str, key: str, *, only_stale: bool = False) -> None:
    """Delete a pending claim (its request failed, or its process died long ago)."""
    q = delete(IdempotencyKey).where(IdempotencyKey.user_key == user_key, IdempotencyKey.key == key,
                                     IdempotencyKey.state == "pending")
    if only_stale:
        q = q.where(IdempotencyKey.created_at < utcnow() - timedelta(seconds=STALE_CLAIM_S))
    with db.sessionmaker() as s, s.begin():
        s.execute(q)


def _replay(row: IdempotencyKey) -> Response:
    resp = Response(row.body, status=row.status_code, content_type=row.content_type)
    for name, value in (row.headers or {}).items():
        resp.headers[name] = value
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _claim_or_answer(db: Any, user_key: str, key: str, digest: str, wait_s: float) -> ResponseReturnValue | None:
    """None when this request holds the claim; else the first request's answer (waiting up to
    ``wait_s`` seconds for it), 422 for a different request with the same key, or 409 when
    the first request is still running after the wait."""
    deadline = time.monotonic() + wait_s
    while True:
        row = _claim(db, user_key, key, digest)
        if row is True:
            return None
        if isinstance(row, IdempotencyKey):
            if row.request_hash != digest:
                return error_response(422, "idempotency_key_reused",
                                      "this Idempotency-Key was used for a different request")
            if row.state == "done":
                return _replay(row)
            _release(db, user_key, key, only_stale=True)
        if time.monotonic() >= deadline:
            resp = error_response(409, "idempotency_key_in_flight",
                                  "a request with this Idempotency-Key is still running; retry later")
            resp = resp if isinstance(resp, Response) else Response(*resp)
            resp.headers["Retry-After"] = "1"
            return resp
        time.sleep(POLL_S)


def _end_request_transaction() -> None:
    """Roll back the request session's open transaction (as teardown would), releasing its
    connection and, on SQLite, any write lock a failed view left."""
    request_session = g.get("db_session")
    if request_session is not None:
        request_session.rollback()


def _idempotency(app: Flask) -> None:
    """Idempotency-Key on POST: the first request claims the key (a ``pending`` row committed
    before the work), duplicates wait for its answer and replay it, and a failed first
    request (not 2xx) releases the key so that a retry runs again."""

    @app.before_request
    def _before() -> Any:
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
        _end_request_transaction()  # hand back its connection while we may wait
        answer = _claim_or_answer(app.extensions["db"], user_key, key, digest, float(app.config["IDEMPOTENCY_WAIT_S"]))
        if answer is None:
            g.idempotency = (user_key, key)
        return answer

    @app.after_request
    def _store(resp: Response) -> Response:
        info = g.pop("idempotency", None)
        if info is None:
            return resp
        user_key, key = info
        db = app.extensions["db"]
        _end_request_transaction()  # views commit their work; what is left would block SQLite
        if not (200 <= resp.status_code < 300) or resp.direct_passthrough:
            _release(db, user_key, key)
            return resp
        headers = {k: v for k, v in resp.headers.items() if k in ("Location",)}
        with db.sessionmaker() as s, s.begin():
            s.execute(update(IdempotencyKey)
                      .where(IdempotencyKey.user_key == user_key, IdempotencyKey.key == key)
                      .values(state="done", status_code=resp.status_code,
                              content_type=resp.content_type or "application/json",
                              body=resp.get_data(as_text=True), headers=headers))
        return resp

    @app.teardown_request
    def _release_unanswered(_exc: BaseException | None) -> None:
        info = g.pop("idempotency", None)
        if info is not None:  # no after_request ran (the request died): let a retry run
            _release(app.extensions["db"], *info)


def init_app(app: Flask) -> None:
    app.json = StrictJSONProvider(app)
    _security_headers(app)
    _csrf(app)
    _idempotency(app)


def json_body_error(exc: ValueError) -> BadRequest:
    return BadRequest(f"malformed JSON: {exc}")
