"""Config layering and start-up errors, login/CSRF/cookies/headers, CLI, docs page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import ConfigError, create_app


def test_config_layers_defaults_file_env_test(tmp_path: Path, make_config: Any) -> None:
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.py").write_text("PLAN_TIME_LIMIT_S = 11.0\nROUTING_TIME_LIMIT_S = 12.0\nTILE_URL = 'http://tiles.local/{z}/{x}/{y}.png'\n")
    cfg = make_config(INSTANCE_PATH=str(inst))
    del cfg["MAX_CONTENT_LENGTH"]
    env = {"OUTAGE_ROUTING_TIME_LIMIT_S": "13", "OUTAGE_MAX_CONTENT_LENGTH": "1234", "OUTAGE_SESSION_COOKIE_SECURE": "false"}
    app = create_app({**cfg, "ROUTING_TIME_LIMIT_S": 14.0}, environ=env)
    assert app.config["PLAN_TIME_LIMIT_S"] == 11.0  # instance file
    assert app.config["ROUTING_TIME_LIMIT_S"] == 14.0  # test config beats env beats file
    assert app.config["MAX_CONTENT_LENGTH"] == 1234  # env, typed
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert "http://tiles.local" in app.test_client().get("/login").headers["Content-Security-Policy"]
    app.extensions["db"].engine.dispose()


@pytest.mark.parametrize(("override", "message"), [
    ({"GRID_PATH": "/no/such/grid.gpkg"}, "GRID_PATH /no/such/grid.gpkg does not exist"),
    ({"DATABASE_URL": "not a url"}, "DATABASE_URL 'not a url' is not a database URL"),
    ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must be sqlite or postgresql"),
    ({"RUNNER": "rq"}, "RUNNER=rq needs REDIS_URL"),
    ({"NOTIFY_SENDER": "webhook"}, "NOTIFY_SENDER=webhook needs NOTIFY_WEBHOOK_URL"),
    ({"ROADS_PATH": "/no/roads.graphml"}, "ROADS_PATH /no/roads.graphml does not exist"),
])
def test_bad_config_stops_start_up_with_a_clear_message(make_config: Any, override: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        create_app(make_config(**override), environ={})


def test_bad_env_value_is_named(make_config: Any) -> None:
    with pytest.raises(ConfigError, match="OUTAGE_MAX_CONTENT_LENGTH must be an integer"):
        create_app(make_config(), environ={"OUTAGE_MAX_CONTENT_LENGTH": "lots"})


def test_invalid_grid_is_reported(tmp_path: Path, make_config: Any) -> None:
    bad = tmp_path / "grid"
    bad.mkdir()
    (bad / "nodes.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(ConfigError, match="GRID_PATH"):
        create_app(make_config(GRID_PATH=str(bad)), environ={})


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def test_login_logout_with_csrf_and_cookie_flags(client: Any, tokens: Any) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="csrf-token"' in page.text
    # no CSRF token -> 400, not logged in
    r = client.post("/login", data={"username": "planner-user", "password": "correct horse"})
    assert r.status_code == 400
    assert client.get("/api/me").status_code == 401
    token = csrf_of(page.text)
    r = client.post("/login", data={"username": "planner-user", "password": "wrong", "csrf_token": token})
    assert r.status_code == 401
    r = client.post("/login?next=https://evil.example/", data={"username": "planner-user", "password": "correct horse",
                                                              "csrf_token": token})
    assert r.status_code == 302 and "evil" not in r.headers["Location"]
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert client.get("/api/me").json["role"] == "planner"
    # a cookie-authenticated API write needs the CSRF header
    job = {"equipment": ["R2"], "duration_min": 60, "earliest": "2026-12-01T08:00+01:00", "latest": "2026-12-02T08:00+01:00"}
    assert client.post("/api/jobs", json=job).status_code == 400
    assert client.post("/api/jobs", json=job, headers={"X-CSRFToken": token}).status_code == 201
    r = client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 302
    assert client.get("/api/me").status_code == 401


def test_tokens_endpoint(client: Any, tokens: Any) -> None:
    r = client.post("/api/tokens", json={"username": "crew-user", "password": "correct horse", "name": "phone"})
    assert r.status_code == 201 and r.json["user"]["crew_id"] == "K1"
    me = client.get("/api/me", headers={"Authorization": f"Bearer {r.json['token']}"}).json
    assert me["username"] == "crew-user"
    assert client.post("/api/tokens", json={"username": "crew-user", "password": "nope"}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer op_forged"}).status_code == 401


def test_security_headers_and_docs_page_offline(client: Any) -> None:
    r = client.get("/api/docs")
    assert r.status_code == 200 and "/api/jobs" in r.text
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "cdn" not in r.text.lower() and "<script" not in r.text
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["X-Frame-Options"] == "DENY"
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.") and "/api/grid/layers/{layer}" in spec["paths"]


def test_language_switch_and_accept_language(client: Any) -> None:
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert 'lang="zh"' in page.text
    token = csrf_of(page.text)
    client.post("/lang/en", data={"csrf_token": token})
    assert 'lang="en"' in client.get("/login", headers={"Accept-Language": "zh-CN"}).text


def test_user_locale_setting_wins_over_the_browser(client: Any, tokens: Any) -> None:
    h = tokens["viewer"]
    assert client.patch("/api/me", json={"locale": "fr"}, headers=h).status_code == 422
    assert client.patch("/api/me", json={"locale": "zh"}, headers=h).json["locale"] == "zh"
    page = client.get("/api/docs", headers={**h, "Accept-Language": "en"})
    assert 'lang="zh"' in page.text
    client.patch("/api/me", json={"locale": None}, headers=h)
    assert 'lang="en"' in client.get("/api/docs", headers={**h, "Accept-Language": "en"}).text


def test_users_create_cli_and_demo_seed(app: Any, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    r = runner.invoke(args=["users", "create", "alice", "--role", "planner"], input="s3cret-pass\ns3cret-pass\n")
    assert r.exit_code == 0 and "created planner alice" in r.output
    r = runner.invoke(args=["users", "create", "alice", "--role", "planner"], input="s3cret-pass\ns3cret-pass\n")
    assert r.exit_code != 0 and "exists" in r.output
    r = runner.invoke(args=["users", "create", "bob", "--role", "crew"], input="s3cret-pass\ns3cret-pass\n")
    assert r.exit_code != 0 and "crew id" in r.output
    data = tmp_path / "demo"
    data.mkdir()
    (data / "crews.csv").write_text("id,name,depot_id,skills,shift_start,shift_end\nK9,Night crew,DEP1,cable;switching,19:00,07:00\n")
    (data / "jobs.csv").write_text("id,equipment,duration_min,earliest,latest,crew,description\n"
                                  "D1,R2,60,2026-10-06T08:00+01:00,2026-10-08T18:00+01:00,K9,demo\n")
    r = runner.invoke(args=["demo", "seed", "--data", str(data)])
    assert r.exit_code == 0, r.output
    assert "crews: 1 added" in r.output and "jobs: 1 added" in r.output
    assert re.search(r"admin\s+\S{8,}", r.output) and re.search(r"crew1\s+\S{8,}", r.output)
    again = runner.invoke(args=["demo", "seed", "--data", str(data)])
    assert "demo users exist already" in again.output and "crews: 0 added" in again.output
    password = re.search(r"planner\s+(\S+)", r.output).group(1)  # type: ignore[union-attr]
    c = app.test_client()
    tok = c.post("/api/tokens", json={"username": "planner", "password": password}).json["token"]
    job = c.get("/api/jobs/D1", headers={"Authorization": f"Bearer {tok}"}).json
    assert job["crew"] == "K9"
    # the demo month moved by whole weeks to start a day after "now" + the 7-day notice lead
    now = datetime.fromisoformat(app.config["PLANNING_NOW"])
    start = datetime.fromisoformat(job["earliest"])
    moved = start - datetime.fromisoformat("2026-10-06T08:00+01:00")
    assert moved.days % 7 == 0 and moved.seconds == 0
    assert now + timedelta(days=8) <= start < now + timedelta(days=15) and moved.days == 8 * 7
    assert "moved 8 week(s) forward" in r.output


def test_healthz_and_home(client: Any, tokens: Any) -> None:
    assert client.get("/healthz").json["status"] == "ok"
    # the root URL: the login page for a visitor, the role's own page once logged in
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"username": "planner-user", "password": "correct horse", "csrf_token": token})
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/planner")
