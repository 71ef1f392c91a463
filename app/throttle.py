"""Login throttling with Flask-Limiter: per account and per client address.

Only failed attempts count (answers 401): after ``LOGIN_LIMIT_PER_ACCOUNT`` failures for
one username, or ``LOGIN_LIMIT_PER_ADDRESS`` failures from one client address, every
attempt — the right password too — is answered 429 with ``Retry-After`` (seconds) until
the window passes. Limits are Flask-Limiter strings (``"10 per 15 minutes"``). Counters
live in ``RATELIMIT_STORAGE_URI``: Redis (``REDIS_URL``) when configured, so that every
app process shares them, else this process's memory.

Throttled views: the login form (``POST /login``), ``POST /api/tokens`` and
``POST /api/me/password`` (the current password is checked there too).

The public outage lookup (``/lookup/*.json``, :func:`throttle_lookup`) counts every request
per client address (``LOOKUP_LIMIT_PER_ADDRESS``) and, tighter, the ones that found nothing
(404: a guessed account number, ``LOOKUP_MISS_LIMIT_PER_ADDRESS``), so account numbers
cannot be tried in bulk. Over a limit: 429 with the reason and ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

#: endpoint -> where its username comes from ("form", "json", or "user" for the logged-in one)
THROTTLED = {"auth.login": "form", "admin.new_token": "json", "admin.change_my_password": "user"}


def storage_uri(config: dict[str, Any]) -> str:
    """Where the counters live: the configured URI, else Redis when configured, else memory."""
    return config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"


def _failed(resp: Response) -> bool:
    return resp.status_code == 401


def _account() -> str:
    """The username a login attempt names (case-folded), or ``-`` when it names none."""
    source = THROTTLED.get(request.endpoint or "")
    name: Any = None
    if source == "form":
        name = request.form.get("username")
    elif source == "json":
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    elif source == "user":
        from app.auth import user

        u = user()
        name = u.username if u is not None else None
    return "account:" + (name.casefold() if isinstance(name, str) and name else "-")


def _address() -> str:
    return "address:" + (get_remote_address() or "-")


def init_app(app: Flask) -> Limiter:
    """Throttle the views of :data:`THROTTLED` on ``app`` (call after their blueprints are registered)."""
    limiter = Limiter(
        _address,
        storage_uri=storage_uri(app.config),
        headers_enabled=True,
        key_prefix="outage-login",
        fail_on_first_breach=True,
    )
    limiter.init_app(app)
    # shared limits: one counter per account (and per address) across all throttled views
    per_account = limiter.shared_limit(app.config["LOGIN_LIMIT_PER_ACCOUNT"], "login-account", key_func=_account,
                                       methods=["POST"], deduct_when=_failed,
                                       error_message="too many failed logins for this account")
    per_address = limiter.shared_limit(app.config["LOGIN_LIMIT_PER_ADDRESS"], "login-address", key_func=_address,
                                       methods=["POST"], deduct_when=_failed,
                                       error_message="too many failed logins from this address")
    for endpoint in THROTTLED:
        view: Any = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = per_address(per_account(view))
    app.extensions["outage_limiter"] = limiter
    return limiter


def _missed(resp: Response) -> bool:
    return resp.status_code == 404


def throttle_lookup(app: Flask, endpoints: tuple[str, ...]) -> None:
    """Limit the public lookup's ``endpoints`` per client address (call after :func:`init_app`
    and after their blueprint is registered)."""
    limiter: Limiter = app.extensions["outage_limiter"]
    every = limiter.shared_limit(app.config["LOOKUP_LIMIT_PER_ADDRESS"], "lookup-address", key_func=_address,
                                 error_message="too many lookups from this address; wait a minute and try again")
    misses = limiter.shared_limit(app.config["LOOKUP_MISS_LIMIT_PER_ADDRESS"], "lookup-miss", key_func=_address,
                                  deduct_when=_missed,
                                  error_message="too many lookups that found nothing from this address; wait and try again")
    for endpoint in endpoints:
        view: Any = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = every(misses(view))
