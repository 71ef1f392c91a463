"""Login security (issue 17): throttling, no user enumeration by timing, revocable sessions."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

import app.auth as auth_mod
from app import create_app
from app.config import ConfigError
from app.models import ApiToken, utcnow


@pytest.fixture
def make_app(make_config: Any) -> Any:
    apps: list[Any] = []

    def build(**extra: Any) -> Any:
        application = create_app(make_config(WTF_CSRF_ENABLED=False, **extra), environ={})
        apps.append(application)
        return application

    yield build
    for application in apps:
        application.extensions["db"].engine.dispose()


def token_for(client: Any, username: str, password: str) -> Any:
    return client.post("/api/tokens", json={"username": username, "password": password})


def test_failed_logins_per_account_are_throttled_until_the_window_passes(make_app: Any, make_tokens: Any) -> None:
    application = make_app(LOGIN_LIMIT_PER_ACCOUNT="3 per 2 seconds")
    make_tokens(application)
    c = application.test_client()
    for _ in range(5):  # successes do not count
        assert token_for(c, "planner-user", "correct horse").status_code == 201
    started = time.monotonic()
    for _ in range(3):
        assert token_for(c, "planner-user", "wrong password").status_code == 401
    refused = token_for(c, "planner-user", "correct horse")
    assert refused.status_code == 429 and refused.json["code"] == "too_many_requests"
    assert token_for(c, "PLANNER-user", "correct horse").status_code == 429  # names are case-folded
    assert 0 <= int(refused.headers["Retry-After"]) <= 2
    # the form login of the same account is refused too, another account is not
    form = c.post("/login", data={"username": "planner-user", "password": "correct horse"})
    assert form.status_code == 429 and "Retry-After" in form.headers
    assert token_for(c, "viewer-user", "correct horse").status_code == 201
    time.sleep(max(0.0, 2.2 - (time.monotonic() - started)))
    assert token_for(c, "planner-user", "correct horse").status_code == 201


def test_failed_logins_per_address_are_throttled(make_app: Any, make_tokens: Any) -> None:
    application = make_app(LOGIN_LIMIT_PER_ADDRESS="4 per 1 minute")
    make_tokens(application)
    c = application.test_client()
    for name in ("a", "b", "c", "d"):  # four names, one address
        assert token_for(c, name, "guess-1234").status_code == 401
    r = token_for(c, "viewer-user", "correct horse")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    other = c.post("/api/tokens", json={"username": "viewer-user", "password": "correct horse"},
                   environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 201


def test_bad_limit_is_a_config_error(make_config: Any) -> None:
    with pytest.raises(ConfigError, match="LOGIN_LIMIT_PER_ACCOUNT"):
        create_app(make_config(LOGIN_LIMIT_PER_ACCOUNT="lots"), environ={})


def test_unknown_user_costs_one_hash_like_a_known_one(make_app: Any, make_tokens: Any, monkeypatch: Any) -> None:
    application = make_app(PASSWORD_HASH_METHOD="pbkdf2:sha256:60000", LOGIN_LIMIT_PER_ACCOUNT="100 per minute",
                           LOGIN_LIMIT_PER_ADDRESS="100 per minute")
    make_tokens(application)
    c = application.test_client()
    checked: list[str] = []
    real = auth_mod.check_password_hash
    monkeypatch.setattr(auth_mod, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    assert token_for(c, "nobody-here", "some password").status_code == 401
    assert len(checked) == 1 and checked[0].startswith("pbkdf2:sha256:60000")
    token_for(c, "planner-user", "x")  # warm-up of both paths
    known, unknown = [], []
    for i in range(7):
        for name, times in (("planner-user", known), (f"ghost-{i}", unknown)):
            t0 = time.perf_counter()
            assert token_for(c, name, "wrong password").status_code == 401
            times.append(time.perf_counter() - t0)
    k, u = statistics.median(known), statistics.median(unknown)
    assert k / 3 < u < k * 3, (k, u)


def login(client: Any, password: str = "correct horse", username: str = "planner-user") -> Any:
    return client.post("/login", data={"username": username, "password": password})


def test_logout_revokes_the_session_cookie(make_app: Any, make_tokens: Any) -> None:
    application = make_app()
    make_tokens(application)
    c = application.test_client()
    assert login(c).status_code == 302
    assert c.get("/api/me").status_code == 200
    cookie = c.get_cookie("session").value
    assert c.post("/logout").status_code == 302
    replay = application.test_client()
    replay.set_cookie("session", cookie)
    r = replay.get("/api/me")
    assert r.status_code == 401 and r.json["code"] == "unauthorized"
    assert login(c).status_code == 302 and c.get("/api/me").status_code == 200  # a new login works


def test_password_change_revokes_other_sessions_and_tokens(make_app: Any, make_tokens: Any) -> None:
    application = make_app()
    tokens = make_tokens(application)
    mine, other = application.test_client(), application.test_client()
    assert login(mine).status_code == 302 and login(other).status_code == 302
    wrong = mine.post("/api/me/password", json={"current_password": "nope", "new_password": "new horse 42"})
    assert wrong.status_code == 401
    short = mine.post("/api/me/password", json={"current_password": "correct horse", "new_password": "short"})
    assert short.status_code == 422
    r = mine.post("/api/me/password", json={"current_password": "correct horse", "new_password": "new horse 42"})
    assert r.status_code == 204
    assert mine.get("/api/me").status_code == 200  # the session that changed it stays
    assert other.get("/api/me").status_code == 401
    assert mine.get("/api/me", headers=tokens["planner"]).status_code == 200  # the cookie wins
    fresh = application.test_client()
    assert fresh.get("/api/me", headers=tokens["planner"]).status_code == 401  # token revoked
    assert login(fresh).status_code == 401
    assert login(fresh, "new horse 42").status_code == 302


def test_password_change_by_token_keeps_that_token(make_app: Any, make_tokens: Any) -> None:
    application = make_app()
    tokens = make_tokens(application)
    c = application.test_client()
    second = token_for(c, "viewer-user", "correct horse").json["token"]
    r = c.post("/api/me/password", headers=tokens["viewer"],
               json={"current_password": "correct horse", "new_password": "new horse 42"})
    assert r.status_code == 204
    assert c.get("/api/me", headers=tokens["viewer"]).status_code == 200
    assert c.get("/api/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401


def test_tokens_can_be_revoked_and_expire(make_app: Any, make_tokens: Any) -> None:
    application = make_app()
    tokens = make_tokens(application)
    c = application.test_client()
    spare = token_for(c, "crew-user", "correct horse").json["token"]
    spare_h = {"Authorization": f"Bearer {spare}"}
    assert c.get("/api/me", headers=spare_h).status_code == 200
    assert c.post("/api/tokens/revoke", json={"token": spare}, headers=tokens["crew"]).status_code == 204
    assert c.get("/api/me", headers=spare_h).status_code == 401
    assert c.post("/api/tokens/revoke", json={"token": "op_unknown"}, headers=tokens["crew"]).status_code == 204
    assert c.get("/api/me", headers=tokens["crew"]).status_code == 200
    with application.app_context(), application.extensions["db"].session() as s:
        for row in s.scalars(select(ApiToken)):
            row.expires_at = utcnow() - timedelta(seconds=1)
    assert c.get("/api/me", headers=tokens["crew"]).status_code == 401


def test_limiter_storage_follows_redis_url() -> None:
    from app.throttle import storage_uri

    assert storage_uri({"REDIS_URL": None, "RATELIMIT_STORAGE_URI": None}) == "memory://"
    assert storage_uri({"REDIS_URL": "redis://r:6379/0"}) == "redis://r:6379/0"
    assert storage_uri({"REDIS_URL": "redis://r", "RATELIMIT_STORAGE_URI": "memory://"}) == "memory://"


def test_counters_in_redis_are_shared_by_app_processes(make_app: Any, make_tokens: Any) -> None:
    """Two apps on one Redis (as two processes would be): failures on one throttle the other."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    url = "redis://127.0.0.1:6379/15"
    try:
        Redis.from_url(url, socket_connect_timeout=1).ping()
    except RedisConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    first = make_app(REDIS_URL=url, RUNNER="sync", LOGIN_LIMIT_PER_ACCOUNT="2 per 1 minute")
    second = make_app(REDIS_URL=url, RUNNER="sync", LOGIN_LIMIT_PER_ACCOUNT="2 per 1 minute")
    make_tokens(first)
    name = f"nobody-{uuid.uuid4().hex[:8]}"  # fresh counters on every run
    assert token_for(first.test_client(), name, "guess-1").status_code == 401
    assert token_for(second.test_client(), name, "guess-2").status_code == 401
    assert token_for(first.test_client(), name, "guess-3").status_code == 429
    assert token_for(second.test_client(), name, "guess-4").status_code == 429
    assert token_for(second.test_client(), "planner-user", "correct horse").status_code == 201
