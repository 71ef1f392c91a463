"""Users, roles, sessions and API tokens.

* Web login: Flask-Login sessions (``/login``, ``/logout``), CSRF-protected forms.
* API: ``Authorization: Bearer <token>``; tokens are stored as SHA-256 hashes.
* Roles: ``admin`` may do everything; every view names the roles it admits with
  :func:`require`, which answers 401 (no user) or 403 (wrong role) before the
  request body is even parsed, and documents the roles in the OpenAPI operation.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    has_app_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.config import ROLE_INCLUDES, ROLES
from app.db import get_session
from app.errors import Forbidden, Unauthorized
from app.models import ApiToken, User
from gis.errors import ConflictError, InputError, NotFoundError

log = logging.getLogger(__name__)

login_manager = LoginManager()
login_manager.login_view = "auth.login"

bp = Blueprint("auth", __name__)

TOKEN_PREFIX = "op_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Any, *, username: str, password: str, role: str, crew_id: str | None = None) -> User:
    """Add a user (password hashed with werkzeug's scrypt). Raises InputError/ConflictError."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if not username or len(username) > 80:
        raise InputError("username must be 1-80 characters")
    if len(password) < 8:
        raise InputError("password must be at least 8 characters")
    if role == "crew" and not crew_id:
        raise InputError("a crew user needs a crew id")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise ConflictError(f"user {username!r} exists")
    user = User(username=username, password_hash=generate_password_hash(password, method=_hash_method()),
                role=role, crew_id=crew_id)
    session.add(user)
    session.flush()
    return user


def issue_token(session: Any, user: User, *, name: str = "", ttl_days: int | None = None) -> str:
    """Create an API token for ``user``; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=ttl_days) if ttl_days else None
    session.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(token), expires_at=expires))
    session.flush()
    return token


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


@functools.lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """A hash of a random password, checked when the user is unknown so that failing
    takes as long for an unknown name as for a wrong password (no user enumeration)."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def authenticate(session: Any, username: str, password: str) -> User | None:
    """The active user with this name and password, else None; always hashes once."""
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None else _dummy_hash(_hash_method())
    matches = check_password_hash(stored, password)
    if user is None or not matches or not user.active:
        return None
    return user


def revoke_sessions(user: User) -> None:
    """Invalidate every session cookie issued to ``user`` (the caller commits)."""
    user.session_version = (user.session_version or 1) + 1


def change_password(session: Any, user: User, *, current: str, new: str, keep_token: str | None = None) -> None:
    """Set a new password: other sessions are revoked, and so are the user's API tokens
    except ``keep_token`` (the plain token the change was made with). Raises
    :class:`Unauthorized` for a wrong current password, :class:`InputError` for a short one."""
    if not check_password_hash(user.password_hash, current):
        raise Unauthorized("the current password is wrong")
    if len(new) < 8:
        raise InputError("password must be at least 8 characters")
    user.password_hash = generate_password_hash(new, method=_hash_method())
    revoke_sessions(user)
    kept = hash_token(keep_token) if keep_token else None
    for row in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))):
        if row.token_hash != kept:
            row.revoked = True
    session.flush()


def bearer_token() -> str | None:
    """The plain token of this request's ``Authorization: Bearer`` header, if any."""
    header = request.headers.get("Authorization", "")
    return header[len("Bearer "):].strip() if header.startswith("Bearer ") else None


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The session's user when the cookie's session version is still the user's (a route
    link's session, ``link:...``, is the link's user while the link is usable)."""
    if session_id.startswith("link:"):
        from app.route_links import load_user

        return load_user(session_id)  # type: ignore[return-value]
    uid, _, version = session_id.partition(":")
    try:
        user = get_session().get(User, int(uid))
        current = user is not None and int(version) == user.session_version
    except ValueError:
        return None
    return user if current and user is not None and user.active else None


@login_manager.request_loader
def _load_from_token(req: Any) -> User | None:
    token = bearer_token()
    if token is None:
        return None
    row = get_session().scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked:
        return None
    if row.expires_at is not None and row.expires_at < datetime.now(UTC):
        return None
    return row.user if row.user.active else None


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    if request.path.startswith("/api/"):
        raise Unauthorized("log in or send 'Authorization: Bearer <token>'")
    return redirect(url_for("auth.login", next=request.full_path))


def user() -> User | None:
    u = current_user
    return u if u is not None and u.is_authenticated else None


def has_role(*roles: str) -> bool:
    """The user is an admin, has one of ``roles``, or a role that includes one (:data:`ROLE_INCLUDES`)."""
    u = user()
    return u is not None and (u.role == "admin" or u.role in roles or any(r in roles for r in ROLE_INCLUDES.get(u.role, ())))


def admitted_roles(*roles: str) -> list[str]:
    """Every role that passes ``has_role(*roles)``: admin, ``roles`` and the roles including one."""
    including = [r for r, inc in ROLE_INCLUDES.items() if any(i in roles for i in inc)]
    return list(dict.fromkeys(["admin", *roles, *including]))


def sees_phones() -> bool:
    """Customer phone numbers are shown to customer service and admin only."""
    return has_role("customer_service")


#: The roles that may read plans, outages, faults, jobs and reports (admins may do anything; crews see their own routes).
READ_ROLES = ("planner", "dispatcher", "customer_service", "viewer")


def require(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Admit logged-in users with one of ``roles`` (admin always); ``require()`` admits any role."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            u = user()
            if u is None:
                raise Unauthorized("log in or send 'Authorization: Bearer <token>'")
            if roles and not has_role(*roles):
                raise Forbidden(
                    f"role {u.role!r} may not do this; needs one of: {', '.join(admitted)}",
                    details={"required": admitted, "role": u.role},
                )
            return fn(*args, **kwargs)

        admitted = admitted_roles(*roles) if roles else list(ROLES)
        apidoc = dict(getattr(wrapper, "_apidoc", {}))
        manual = dict(apidoc.get("manual_doc", {}))
        manual["security"] = [{"bearerAuth": []}, {"cookieAuth": []}]
        manual["x-roles"] = admitted
        responses = dict(manual.get("responses", {}))
        responses.setdefault("401", "UNAUTHORIZED")
        responses.setdefault("403", "FORBIDDEN")
        manual["responses"] = responses
        apidoc["manual_doc"] = manual
        wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        wrapper._roles = admitted  # type: ignore[attr-defined]
        return wrapper

    return deco


def crew_scope(crew_id: str) -> None:
    """A crew user may only touch its own crew; raise NotFoundError otherwise (no leak)."""
    u = user()
    if u is not None and u.role == "crew" and u.crew_id != crew_id:
        raise NotFoundError(f"no crew {crew_id!r}")


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class LogoutForm(FlaskForm):
    pass


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        session = get_session()
        u = authenticate(session, form.username.data or "", form.password.data or "")
        if u is not None:
            login_user(u)
            log.info("login %s", u.username)
            return redirect(_safe_next(request.args.get("next")))
        error = "invalid"
    status = 200 if error is None and request.method == "GET" else (401 if error else 400)
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    form = LogoutForm()
    if form.validate_on_submit():
        u = user()
        if u is not None and bearer_token() is None:
            revoke_sessions(u)
            get_session().commit()
        logout_user()
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)


def current_username() -> str | None:
    u = user()
    return u.username if u else None


def config_ttl() -> int | None:
    return current_app.config.get("TOKEN_TTL_DAYS") or None
