"""Fixtures for the browser tests (see browser_helpers.py); they skip without Chromium."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from browser_helpers import (  # noqa: E402
    ARGS,
    MONACO,
    PASSWORD,
    ROLES,
    SMALL_RING,
    LiveServer,
    Service,
    chromium_path,
    skip_reason,
)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def service(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The whole service (create_app) on the demo city, SQLite, synchronous runs, with one
    user per role (``<role>-user``) and a crew user per crew (``crew-<id>``), on 127.0.0.1."""
    from app import create_app
    from app.auth import create_user
    from app.cli import upgrade
    from app.models import Crew

    tmp = tmp_path_factory.mktemp("service")
    db_url = f"sqlite:///{tmp / 'outage.db'}"
    upgrade(db_url)
    monaco = os.path.exists(MONACO)
    cfg = {
        "TESTING": True, "INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": db_url,
        "GRID_PATH": MONACO if monaco else SMALL_RING, "LOAD_ROADS": monaco, "RUNNER": "sync",
        "REDIS_URL": None, "SECRET_KEY": "browser-tests", "NOTIFY_FILE": str(tmp / "outbox.jsonl"),
        "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,  # plain http on 127.0.0.1
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "TILE_URL": None,
    }
    app = create_app(cfg, environ={})
    grid = app.extensions["grid"]
    depots = list(map(str, grid.depots["id"])) or [None]
    crews = ["K1", "K2"]
    with app.app_context(), app.extensions["db"].session(actor="browser-tests") as s:
        for i, cid in enumerate(crews):
            # shifts round the clock: the tests dispatch at whatever time they run
            s.add(Crew(id=cid, name=f"Crew {cid}", depot_id=depots[i % len(depots)], skills=["cable", "switching", "overhead"],
                       shift_start="00:00", shift_end="23:59"))
        s.flush()
        for role in ROLES:
            create_user(s, username=f"{role}-user", password=PASSWORD, role=role)
        for cid in crews:
            create_user(s, username=f"crew-{cid}", password=PASSWORD, role="crew", crew_id=cid)
    server = LiveServer(app)
    yield Service(app=app, server=server, crews=crews)
    server.stop()
    app.extensions["db"].engine.dispose()
