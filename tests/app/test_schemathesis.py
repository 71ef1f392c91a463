"""Property-based API fuzzing with schemathesis against /api/openapi.json: no server errors.

Every operation of the OpenAPI document gets a bounded number of generated requests,
sent as an admin and as a crew user; none may answer 5xx, every error is {code, message, details}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app import create_app

MAX_EXAMPLES = 8


@pytest.fixture
def routed_app(tmp_path: Path, make_config: Any) -> Any:
    """The service with a road network, so dispatch endpoints answer for real (no 503)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("app_test_roads", Path(__file__).with_name("conftest.py"))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    roads = module.lattice_roads(tmp_path / "roads.graphml")
    application = create_app(make_config(ROADS_PATH=str(roads), LOAD_ROADS=True, ROUTING_TIME_LIMIT_S=1.0), environ={})
    yield application
    application.extensions["db"].engine.dispose()


def test_api_never_answers_500(routed_app: Any, make_tokens: Any) -> None:
    app = routed_app
    tokens = make_tokens(app)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def check(case: Any) -> None:
            for role in ("admin", "crew"):
                response = case.call(headers=tokens[role])
                if response.status_code >= 500:
                    failures.append(f"{role} {case.method} {case.formatted_path} -> {response.status_code}: "
                                    f"{response.text[:300]} (body {case.body!r:.200}, query {case.query!r:.200})")
                elif response.status_code >= 400 and response.headers.get("Content-Type", [""])[0].startswith("application/json"):
                    body = response.json()
                    if set(body) != {"code", "message", "details"}:
                        failures.append(f"{case.method} {case.formatted_path}: error body {body}")

        check()
    assert failures == [], "\n".join(failures[:20])
