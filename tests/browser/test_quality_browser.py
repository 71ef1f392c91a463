"""The admin's data-quality map in Chromium: the grid's findings highlighted and listed, a report
file of an import opened in the page, hostile text shown as text."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from browser_helpers import Service, login, watch

HOSTILE = "<img src=x onerror=alert(1)>"


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("OUTAGE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def test_admin_sees_the_findings_and_opens_an_import_report(browser: Any, service: Service, tmp_path: Path) -> None:
    from gis.quality import check_quality

    grid = service.app.extensions["grid"]
    expected = check_quality(grid.layers(), metric_crs=grid.metric_crs)
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    w = watch(page)
    login(page, service, "admin-user")
    page.goto(service.url + "/admin/quality")
    page.wait_for_function("(n) => document.querySelectorAll('#quality-items tr').length === n + 1",
                           arg=len(expected), timeout=60000)
    assert page.locator("#quality-count").inner_text().startswith(f"{len(expected)} ")
    highlighted = page.locator("#quality-map path.leaflet-interactive")
    assert highlighted.count() >= len(expected)  # every finding drawn (lines and point markers)
    if expected:
        page.locator("#quality-items tr").nth(1).click()
        assert page.locator("#quality-items tr.active").count() == 1
        page.wait_for_selector(".leaflet-tooltip")
        assert expected[0].message in page.locator(".leaflet-tooltip").inner_text()
    _shot(page, "quality")
    # a report file written by an import, with hostile ids and messages
    report = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [7.42, 43.73]},
         "properties": {"code": "device_not_on_line", "severity": "error", "layer": "nodes", "id": HOSTILE,
                        "message": f"node {HOSTILE} is on no line"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[7.42, 43.73], [7.421, 43.731]]},
         "properties": {"code": "missing_rating", "severity": "warning", "layer": "lines", "id": "K3",
                        "message": "line K3 has neither rating_a nor type"}},
    ]}
    path = tmp_path / "riverside.quality.geojson"
    path.write_text(json.dumps(report), encoding="utf-8")
    page.set_input_files("#report-file", str(path))
    page.wait_for_function("() => document.querySelectorAll('#quality-items tr').length === 3")
    assert "riverside.quality.geojson" in page.locator("#quality-source").inner_text()
    assert page.locator("#quality-items tr").nth(1).locator("td").nth(2).inner_text() == HOSTILE
    assert page.locator("#quality-items img").count() == 0
    assert page.locator("#quality-map path.leaflet-interactive").count() == 2
    bad = tmp_path / "bad.geojson"
    bad.write_text("not json", encoding="utf-8")
    page.set_input_files("#report-file", str(bad))
    page.wait_for_function("() => document.querySelector('#quality-count').classList.contains('error')")
    assert w.external() == [] and w.page_errors == [] and w.console_errors == [] and w.dialogs == []
    ctx.close()
