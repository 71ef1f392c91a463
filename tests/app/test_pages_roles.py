"""The pages inside the whole service: who may open which page and map data."""

from __future__ import annotations

from typing import Any

import pytest

from app import create_app

PAGES = {
    "/planner": {"planner", "admin"},
    "/dispatcher": {"dispatcher", "admin"},
    "/service": {"customer_service", "admin"},
    "/crew/K1": {"crew", "dispatcher", "admin"},  # the crew token belongs to crew K1
}
ROLES = ("admin", "planner", "dispatcher", "crew", "customer_service", "viewer")


@pytest.fixture()
def service(app_config: dict[str, Any], make_tokens: Any) -> Any:
    application = create_app(app_config, environ={})
    yield application, make_tokens(application)
    application.extensions["db"].engine.dispose()


def test_each_page_admits_exactly_its_roles(service: Any) -> None:
    application, tokens = service
    client = application.test_client()
    for path, allowed in PAGES.items():
        for role in ROLES:
            r = client.get(path, headers=tokens[role])
            assert r.status_code == (200 if role in allowed else 403), (path, role, r.status_code)


def test_anonymous_users_go_to_the_login_page(service: Any) -> None:
    application, _ = service
    client = application.test_client()
    r = client.get("/planner")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert client.get("/pages/data/customers.columns.json").status_code == 401
    assert client.get("/pages/map/planner.js").status_code == 401


def test_a_crew_sees_only_its_own_page(service: Any) -> None:
    application, tokens = service
    client = application.test_client()
    assert client.get("/crew/K2", headers=tokens["crew"]).status_code == 404
    assert client.get("/crew/K2", headers=tokens["dispatcher"]).status_code == 200


def test_pages_keep_the_service_csp(service: Any) -> None:
    application, tokens = service
    r = application.test_client().get("/planner", headers=tokens["planner"])
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert b"<script>" not in r.data
