"""Headless Chromium (Debian's ``chromium``) driven by Playwright, against a live local server.

Browser tests skip with a clear reason when Chromium or Playwright is missing; they never
download a browser. Every request the page makes is recorded so tests can assert that
nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
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


def _skip_reason() -> str | None:
    if chromium_path() is None:
        return f"Chromium not found at {CHROMIUM} (install Debian's 'chromium' package; .ci/run does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (python) is not installed"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=ARGS, headless=True)
        yield b
        b.close()


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
