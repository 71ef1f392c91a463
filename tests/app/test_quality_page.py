"""The admin's data-quality map: only admins open it, and its report is the grid's quality report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app import create_app
from gis import read_layers, write_grid

HOSTILE = "<img src=x onerror=alert(1)>"
ROOT = Path(__file__).resolve().parents[2]


def flawed_ring(path: Path) -> Path:
    """The small ring with one line (renamed to hostile text) that has neither rating nor type."""
    layers = dict(read_layers(ROOT / "tests" / "data" / "small_ring"))
    lines = layers["lines"].copy()
    lines.loc[lines["id"] == "L11", ["rating_a", "type"]] = None
    lines.loc[lines["id"] == "L11", "id"] = HOSTILE
    layers["lines"] = lines
    return write_grid(layers, path)


@pytest.fixture()
def service(make_config: Any, make_tokens: Any, tmp_path: Path) -> Any:
    application = create_app(make_config(GRID_PATH=str(flawed_ring(tmp_path / "flawed.gpkg"))), environ={})
    yield application, make_tokens(application)
    application.extensions["db"].engine.dispose()


def test_only_admins_open_the_quality_map(service: Any) -> None:
    application, tokens = service
    client = application.test_client()
    for role, headers in tokens.items():
        for path in ("/admin/quality", "/admin/quality/report.geojson"):
            assert client.get(path, headers=headers).status_code == (200 if role == "admin" else 403), (role, path)
    assert "/login" in client.get("/admin/quality").headers["Location"]
    nav = {role: 'href="/admin/quality"' in client.get("/pages/", headers=headers).get_data(as_text=True)
           for role, headers in tokens.items()}
    assert nav == {role: role == "admin" for role in tokens}


def test_the_report_lists_the_grids_defects_and_the_page_keeps_them_text(service: Any) -> None:
    application, tokens = service
    client = application.test_client()
    doc = client.get("/admin/quality/report.geojson", headers=tokens["admin"]).get_json()
    assert [(f["properties"]["code"], f["properties"]["id"]) for f in doc["features"]] == [("missing_rating", HOSTILE)]
    assert doc["features"][0]["geometry"]["type"] == "LineString"
    page = client.get("/admin/quality", headers={**tokens["admin"], "Accept-Language": "zh"})
    html = page.get_data(as_text=True)
    assert "数据质量" in html and HOSTILE not in html and b"<script>" not in page.data
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
