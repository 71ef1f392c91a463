"""Users, API tokens, the audit log."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import login_user
from sqlalchemy import func, select

from app.api import ApiBlueprint
from app.api.common import PageArgs, get_or_404, iso, session
from app.auth import (
    authenticate,
    bearer_token,
    change_password,
    config_ttl,
    create_user,
    hash_token,
    issue_token,
    require,
    user,
)
from app.config import ROLES
from app.errors import Unauthorized
from app.models import ApiToken, AuditLog, Crew, User
from gis.errors import NotFoundError

blp = ApiBlueprint("admin", __name__, url_prefix="/api", description="Users, tokens and the audit log")


class UserIn(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9_.@\-]{1,80}$"))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(8, 200))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    crew_id = ma.fields.String(validate=ma.validate.Length(1, 64))


class TokenIn(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(1, 80))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(1, 200))
    name = ma.fields.String(validate=ma.validate.Length(max=80))


class PasswordIn(ma.Schema):
    current_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(1, 200))
    new_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(8, 200))


class RevokeIn(ma.Schema):
    token = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(1, 200))


class AuditArgs(PageArgs):
    entity = ma.fields.String(validate=ma.validate.Length(1, 40))
    entity_id = ma.fields.String(validate=ma.validate.Length(1, 64))


def user_json(u: User) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "role": u.role, "crew_id": u.crew_id, "active": u.active,
            "locale": u.locale, "created_at": iso(u.created_at)}


@blp.route("/me")
@require()
@blp.response(200)
def me() -> Any:
    """The logged-in user."""
    u = user()
    assert u is not None
    return user_json(u)


class MePatch(ma.Schema):
    locale = ma.fields.String(required=True, allow_none=True, validate=ma.validate.OneOf(["en", "zh"]))


@blp.route("/me", methods=["PATCH"])
@require()
@blp.arguments(MePatch)
@blp.response(200)
def update_me(data: dict[str, Any]) -> Any:
    """Set your own language (``en``, ``zh`` or null for the browser's)."""
    u = user()
    assert u is not None
    u.locale = data["locale"]
    session().commit()
    return user_json(u)


@blp.route("/me/password", methods=["POST"])
@require()
@blp.arguments(PasswordIn)
@blp.response(204)
def change_my_password(data: dict[str, Any]) -> None:
    """Change your password. Every other session of yours is logged out and every API token
    of yours is revoked, except the session or token making this request. Wrong current
    passwords count as failed logins (throttled like ``/login``)."""
    u = user()
    assert u is not None
    token = bearer_token()
    change_password(session(), u, current=data["current_password"], new=data["new_password"], keep_token=token)
    session().commit()
    if token is None:
        login_user(u)  # this session carries the new session version


@blp.route("/tokens/revoke", methods=["POST"])
@require()
@blp.arguments(RevokeIn)
@blp.response(204)
def revoke_token(data: dict[str, Any]) -> None:
    """Revoke an API token you hold (like RFC 7009: whoever has a token may end it); it is
    refused from then on. An unknown or already revoked token is no error (answers 204)."""
    row = session().scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(data["token"])))
    if row is not None and not row.revoked:
        row.revoked = True
        session().commit()


@blp.route("/users")
@require("admin")
@blp.response(200)
def list_users() -> Any:
    return {"items": [user_json(u) for u in session().scalars(select(User).order_by(User.id))]}


@blp.route("/users", methods=["POST"])
@require("admin")
@blp.arguments(UserIn)
@blp.response(201)
def add_user(data: dict[str, Any]) -> Any:
    """Create a user (a crew user names its crew)."""
    s = session()
    if data.get("crew_id") and s.get(Crew, data["crew_id"]) is None:
        raise NotFoundError(f"no crew {data['crew_id']!r}")
    u = create_user(s, username=data["username"], password=data["password"], role=data["role"], crew_id=data.get("crew_id"))
    s.commit()
    return user_json(u)


@blp.route("/tokens", methods=["POST"])
@blp.arguments(TokenIn)
@blp.response(201)
def new_token(data: dict[str, Any]) -> Any:
    """Exchange a username and password for an API token (shown once), e.g. for a crew phone."""
    s = session()
    u = authenticate(s, data["username"], data["password"])
    if u is None:
        raise Unauthorized("wrong username or password")
    token = issue_token(s, u, name=data.get("name", ""), ttl_days=config_ttl())
    s.commit()
    return {"token": token, "token_type": "Bearer", "user": user_json(u)}


@blp.route("/audit")
@require("admin")
@blp.arguments(AuditArgs, location="query")
@blp.response(200)
def audit(args: dict[str, Any]) -> Any:
    """Every change: who, what, when, before and after (newest first)."""
    q = select(AuditLog)
    if "entity" in args:
        q = q.where(AuditLog.entity == args["entity"])
    if "entity_id" in args:
        q = q.where(AuditLog.entity_id == args["entity_id"])
    s = session()
    total = s.scalar(select(func.count()).select_from(q.subquery()))
    rows = s.scalars(q.order_by(AuditLog.id.desc()).limit(args["limit"]).offset(args["offset"]))
    return {"total": total, "items": [
        {"id": a.id, "at": iso(a.at), "actor": a.actor, "action": a.action, "entity": a.entity,
         "entity_id": a.entity_id, "before": a.before, "after": a.after} for a in rows]}


@blp.route("/users/<int:user_id>")
@require("admin")
@blp.response(200)
def get_user(user_id: int) -> Any:
    return user_json(get_or_404(User, user_id, "user"))
