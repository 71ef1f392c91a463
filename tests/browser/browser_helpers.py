"""Helpers for the browser tests: Chromium discovery, a live server, page watching, login.

Headless Chromium (Debian's ``chromium``) driven by Playwright, against a live local server.

Browser tests skip with a clear reason when Chromium or Playwright is missing; they never
download a browser. Every request the page makes is recorded so tests can assert that
nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def chromium_path() -> str | None:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    return shutil.which("chromium")


def skip_reason() -> str | None:
    if chromium_path() is None:
        return f"Chromium not found at {CHROMIUM} (install Debian's 'chromium' package; .ci/run does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (python) is not installed"
    return None


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@dataclass
class PageWatch:
    """Console errors, page errors, dialogs and every requested URL of one page."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def external(self) -> list[str]:
        return [u for u in self.requests if not (u.startswith("http://127.0.0.1:") or u.startswith("data:") or u.startswith("blob:"))]


def watch(page: Any) -> PageWatch:
    w = PageWatch()
    page.on("console", lambda m: w.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: w.page_errors.append(str(e)))
    page.on("request", lambda r: w.requests.append(r.url))
    page.on("requestfailed", lambda r: w.failed.append(r.url))

    def on_dialog(d: Any) -> None:
        w.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    # Block (and record) anything that would leave this machine.
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1:") or route.request.url.startswith("data:") else route.abort(),
    )
    return w


# -- the service on a live port ------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MONACO = os.path.join(ROOT, "outage_demo", "monaco.gpkg")
SMALL_RING = os.path.join(ROOT, "tests", "data", "small_ring")
PASSWORD = "correct horse battery"
ROLES = ("planner", "planner_lead", "dispatcher", "customer_service", "viewer", "admin")


@dataclass
class Service:
    app: Any
    server: LiveServer
    crews: list[str]

    @property
    def url(self) -> str:
        return self.server.url


def login(page: Any, service: Service, username: str) -> None:
    page.goto(service.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")
    assert "/login" not in page.url, f"login as {username} failed"


WAIT_MAP = """(k) => window.OutageMap && OutageMap.maps[k] && OutageMap.loadedAt[k + ':lines'] !== undefined"""


def wait_map(page: Any, key: str, *, customers: bool = False) -> None:
    page.wait_for_function(WAIT_MAP, arg=key, timeout=30000)
    if customers:
        page.wait_for_function("(k) => OutageMap.loadedAt[k + ':customers'] !== undefined", arg=key, timeout=30000)


def api_as(service: Service, username: str, method: str, path: str, body: Any = None) -> Any:
    """Call the service's API as ``username`` (a Bearer token, no browser): what another user
    does elsewhere meanwhile, e.g. a planner lead approving an outage. Returns the response."""
    from sqlalchemy import select

    from app.auth import issue_token
    from app.models import User

    app = service.app
    with app.app_context(), app.extensions["db"].session(actor="browser-tests") as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None, username
        token = issue_token(s, user, name="browser-tests")
    return app.test_client().open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
