"""Every API endpoint's required roles: 401 without credentials, 403 for other roles."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.config import ROLES

PUBLIC = {"/api/tokens", "/api/openapi.json", "/api/docs"}


def api_endpoints(app: Any) -> list[tuple[str, str, list[str]]]:
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in PUBLIC:
            continue
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "_roles", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, rule.rule, roles))
    return out


def concrete(path: str) -> str:
    path = re.sub(r"<int:[^>]+>", "1", path)
    return re.sub(r"<(string:)?[^>]+>", "X1", path)


def test_every_api_endpoint_declares_roles(app: Any) -> None:
    missing = [(m, p) for m, p, roles in api_endpoints(app) if roles is None]
    assert missing == []
    assert len(api_endpoints(app)) >= 30


def test_unauthenticated_gets_401(app: Any, client: Any) -> None:
    for method, path, _ in api_endpoints(app):
        resp = client.open(concrete(path), method=method, json={})
        assert resp.status_code == 401, (method, path, resp.status_code)
        assert resp.json["code"] == "unauthorized"


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app: Any, client: Any, tokens: dict[str, dict[str, str]], role: str) -> None:
    for method, path, admitted in api_endpoints(app):
        resp = client.open(concrete(path), method=method, json={}, headers=tokens[role])
        if role in admitted:
            assert resp.status_code not in (401, 403), (role, method, path, resp.status_code, resp.json)
        else:
            assert resp.status_code == 403, (role, method, path, resp.status_code)
            assert resp.json["code"] == "forbidden"
            assert "admin" in resp.json["details"]["required"]


def test_roles_are_documented_in_openapi(client: Any) -> None:
    spec = client.get("/api/openapi.json").json
    op = spec["paths"]["/api/jobs"]["post"]
    assert op["x-roles"] == ["admin", "planner", "planner_lead"]  # a planner lead holds every planner right
    assert {"bearerAuth": []} in op["security"]


def test_expected_role_choices(app: Any) -> None:
    """Spot-check the policy itself (independent of the decorator plumbing)."""
    roles = {(m, p): r for m, p, r in api_endpoints(app)}
    assert "crew" not in roles[("POST", "/api/plans")]
    assert "customer_service" in roles[("POST", "/api/notifications/<int:notification_id>/sent")]
    assert "crew" in roles[("POST", "/api/crews/<string:crew_id>/positions")]
    assert roles[("GET", "/api/audit")] == ["admin"]
    # only a planner lead (or admin) approves an outage; any planner reviews and publishes it
    assert roles[("POST", "/api/outages/<int:outage_id>/approve")] == ["admin", "planner_lead"]
    assert roles[("POST", "/api/outages/<int:outage_id>/publish")] == ["admin", "planner", "planner_lead"]
    assert "crew" in roles[("GET", "/api/routes/<int:route_id>/gpx")]
    assert "viewer" not in roles[("POST", "/api/faults")]
    assert roles[("POST", "/api/routes/<int:route_id>/stops/<string:task_id>")] == ["admin", "dispatcher", "crew"]
