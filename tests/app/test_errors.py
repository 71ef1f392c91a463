"""One error map (app/errors.py): every domain error class answers the same status and
JSON body through an API route and through a page's data route."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import app.maps
from app.config import ConfigError
from app.errors import Forbidden, NotAvailable, Unauthorized, status_of
from app.services import grid as grid_service
from app.services.options import BadOptions
from app.services.route_links import RouteLinkError
from gis import ConflictError, GridValidationError, InputError, NotFoundError, OutageError, Problem
from gis.records import FieldProblem, RecordError
from routing import RoadNetworkError, RoutingError, RoutingInputError, UnknownLocationError

ROOT = Path(__file__).resolve().parents[2]

#: What each domain error class must answer, decided here independently of app/errors.py.
EXPECTED_STATUS: dict[type[OutageError], int] = {
    OutageError: 500,
    InputError: 422,
    NotFoundError: 404,
    ConflictError: 409,
    GridValidationError: 422,
    RoutingError: 500,
    RoutingInputError: 422,
    RoadNetworkError: 422,
    UnknownLocationError: 404,
    NotAvailable: 503,
    Forbidden: 403,
    Unauthorized: 401,
    RouteLinkError: 401,  # an expired, revoked or forged route link
    ConfigError: 422,
    BadOptions: 422,
    RecordError: 422,
}


def domain_error_names() -> set[str]:
    """Names of every class in gis/, planning/, routing/ and app/ that derives from
    OutageError, read from the source (so a new class cannot be missed)."""
    bases: dict[str, set[str]] = {}
    for package in ("gis", "planning", "routing", "app"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    names = {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases if isinstance(b, ast.Name | ast.Attribute)}
                    bases.setdefault(node.name, set()).update(names)
    found = {"OutageError"}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found
        found |= more


def test_every_domain_error_class_has_a_decided_status() -> None:
    assert domain_error_names() == {cls.__name__ for cls in EXPECTED_STATUS}


def make(cls: type[OutageError]) -> OutageError:
    if cls is GridValidationError:
        return GridValidationError([Problem(code="dangling_line", severity="error", message="boom", ids=("L1",))])
    if cls is RecordError:
        return RecordError([FieldProblem("duration_min", "bad_int", "boom", row=2, record="J1")], what="jobs CSV")
    return cls("boom", details={"where": "test"})


@pytest.mark.parametrize("cls", list(EXPECTED_STATUS), ids=lambda c: c.__name__)
def test_status_of_walks_the_mro(cls: type[OutageError]) -> None:
    assert status_of(make(cls)) == EXPECTED_STATUS[cls]


@pytest.mark.parametrize("cls", list(EXPECTED_STATUS), ids=lambda c: c.__name__)
def test_api_and_page_answer_a_domain_error_alike(cls: type[OutageError], client: Any, tokens: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    exc = make(cls)

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    monkeypatch.setattr(grid_service, "layer_geojson", fail)
    monkeypatch.setattr(app.maps, "isolation_overlay", fail)
    body = {"code": exc.code, "message": exc.message, "details": exc.details}
    for url in ("/api/grid/layers/lines", "/pages/data/zone.geojson?equipment=R2"):
        r = client.get(url, headers=tokens["planner"])
        assert r.status_code == EXPECTED_STATUS[cls], url
        assert r.mimetype == "application/json" and r.get_json() == body, url


def test_a_known_error_through_the_real_page_route(client: Any, tokens: Any) -> None:
    """No patching: an unknown equipment id is the grid's NotFoundError -> 404 on both routes."""
    page = client.get("/pages/data/zone.geojson?equipment=NOPE", headers=tokens["planner"])
    assert page.status_code == 404 and page.get_json()["code"] == "unknown_equipment" and "NOPE" in page.get_json()["message"]
    api = client.get("/api/grid/layers/NOPE", headers=tokens["planner"])
    assert api.status_code == 404 and api.get_json()["code"] == "not_found"
