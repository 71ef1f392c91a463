"""The admin's grid-versions page in headless Chromium: upload a new grid version, read its
diff and the outage it changes, activate it; in English and Chinese. Its own service on the
small ring (activating a version must not change the grid under the other browser tests)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser_helpers import PASSWORD, SMALL_RING, LiveServer, login  # type: ignore[import-not-found]
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def ring_service(browser: Any, tmp_path: Path) -> Any:
    """The service on the small ring with an admin and a planned outage on L3 two weeks ahead."""
    from app import create_app
    from app.auth import create_user, issue_token
    from app.cli import upgrade

    db_url = f"sqlite:///{tmp_path / 'outage.db'}"
    upgrade(db_url)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": db_url,
                      "GRID_PATH": SMALL_RING, "LOAD_ROADS": False, "RUNNER": "sync", "REDIS_URL": None,
                      "SECRET_KEY": "browser-tests", "NOTIFY_FILE": str(tmp_path / "outbox.jsonl"),
                      "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "TILE_URL": None, "GRID_VERSION_CHECK_S": 0.1},
                     environ={})
    with app.app_context(), app.extensions["db"].session(actor="test") as s:
        create_user(s, username="admin-user", password=PASSWORD, role="admin")
        planner = create_user(s, username="planner-user", password=PASSWORD, role="planner")
        token = {"Authorization": f"Bearer {issue_token(s, planner)}"}
    tz = ZoneInfo("Europe/Monaco")
    day = datetime.now(tz).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=14)
    client = app.test_client()
    client.post("/api/jobs", json={"id": "JL3", "equipment": ["L3"], "duration_min": 120, "earliest": day.isoformat(),
                                   "latest": (day + timedelta(days=3)).isoformat()}, headers=token)
    r = client.post("/api/plans", json={"now": datetime.now(tz).isoformat()}, headers=token)
    outage = client.get(f"/api/plans/{r.json['plan']['id']}", headers=token).json["outages"][0]
    server = LiveServer(app)
    yield server, outage["id"]
    server.stop()
    app.extensions["db"].engine.dispose()


def edited_grid(tmp_path: Path) -> Path:
    """The ring with customer C1 moved from D1 to D2, inside the L3 work zone."""
    from gis import load_grid
    from gis.format import write_grid

    layers = load_grid(SMALL_RING).layers()
    layers["customers"].loc[layers["customers"]["id"] == "C1", "node_id"] = "D2"
    return write_grid(layers, tmp_path / "ring-v2.gpkg")


@pytest.mark.parametrize(("locale", "title", "served"), [("en-GB", "Grid versions", "Served"), ("zh-CN", "电网版本", "使用中")])
def test_admin_uploads_sees_the_diff_and_the_flagged_outage_and_activates(
        browser: Any, ring_service: Any, tmp_path: Path, locale: str, title: str, served: str) -> None:
    server, outage_id = ring_service
    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale=locale)
    page = context.new_page()
    login(page, server, "admin-user")  # type: ignore[arg-type]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: d.accept())
    page.goto(server.url + "/admin/grid")
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("#gv-list tbody tr")).to_have_count(1)
    expect(page.locator("#gv-list tbody tr").first).to_contain_text(served)

    page.set_input_files("#gv-file", str(edited_grid(tmp_path)))
    page.fill("#gv-note", "C1 <b>re-connected</b>")
    page.click("#gv-send")
    expect(page.locator("#gv-list tbody tr")).to_have_count(2)
    expect(page.locator("#gv-title")).to_contain_text("ring-v2.gpkg")
    expect(page.locator("#gv-counts tbody tr")).to_have_count(1)
    expect(page.locator("#gv-changes tbody tr")).to_have_count(1)
    expect(page.locator("#gv-changes tbody tr").first).to_contain_text("C1")
    flag = page.locator("#gv-flags li.gv-flag")
    expect(flag).to_have_count(1)
    expect(flag).to_contain_text(str(outage_id))
    expect(flag).to_contain_text("C1")
    assert "C1 <b>re-connected</b>" in page.inner_text("#gv-list")  # hostile text shows as text
    page.click("#gv-activate-btn")
    expect(page.locator("#gv-title")).to_contain_text(served)
    expect(page.locator("#gv-list tbody tr").first).to_contain_text(served)
    assert errors == []
    shot(page, f"grid-versions-{locale[:2]}")
    context.close()


def shot(page: Any, name: str) -> None:
    import os

    folder = os.environ.get("OUTAGE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
