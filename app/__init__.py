"""The Flask service: ``create_app(config=None)`` builds one app.

The grid (and, when configured, the road network) is loaded once here and kept in
``app.extensions["grid"]`` / ``app.extensions["roads"]``; handlers receive them
explicitly. See ``docs/api.md`` for configuration keys, roles and endpoints.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, redirect, request, session, url_for

from app import config as config_mod
from app.config import ConfigError

log = logging.getLogger(__name__)

__all__ = ["ConfigError", "create_app", "settings"]


def create_app(config: dict[str, Any] | None = None, *, environ: dict[str, str] | None = None) -> Flask:
    """Build the app: layered config, database, grid, roads, auth, API, pages, CLI.

    Raises :class:`app.config.ConfigError` with a message naming the bad key when the
    configuration is invalid (missing grid, bad database URL, ...).
    """
    app = Flask(__name__, instance_relative_config=True)  # static files: app/static, served at /static
    app.config.update(settings(config, environ=environ, default_instance=app.instance_path))

    from app import (
        audit,  # noqa: F401  (registers the audit listeners)
        auth,
        cli,
        db,
        errors,
        i18n,
        input_policy,
        runs,
        throttle,
        web,
    )
    from app.api import init_api
    from app.services import grid as grid_service
    from app.services import grid_versions

    errors.register(app)
    input_policy.init_app(app)
    db.init_app(app)
    app.extensions["grid"] = grid_service.load(app.config["GRID_PATH"])
    app.extensions["roads"] = grid_service.load_roads(app.config.get("ROADS_PATH"), app.extensions["grid"])
    grid_versions.init_app(app)  # follows the activated grid version (docs/grid-format.md, "Grid versions")
    web.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    runs.init_app(app)
    init_api(app)
    throttle.init_app(app)  # after init_api: it wraps views of the auth and admin blueprints
    cli.init_app(app)
    _register_pages(app)

    @app.route("/")
    def home() -> Any:
        """A logged-in user lands on their role's page (the pages' index for the others); anyone
        else on the login page."""
        return redirect(_landing() or url_for("auth.login"))

    @app.route("/lang/<code>", methods=["POST"])
    def set_language(code: str) -> Any:
        if code in app.config["LANGUAGES"]:
            session["lang"] = code
            from app.auth import user
            from app.db import get_session

            u = user()
            if u is not None:  # the user's setting wins over the browser from now on
                u.locale = code
                get_session().commit()
        ref = request.referrer or ""
        return redirect(ref if ref.startswith(request.host_url) else url_for("home"))

    @app.context_processor
    def _nav() -> dict[str, Any]:
        return {"nav_links": lambda: _nav_links(app)}

    @app.route("/healthz")
    def healthz() -> Any:
        return {"status": "ok", "grid": app.extensions["grid"].summary().get("source", ""), "runner": app.config["RUNNER"]}

    return app


def settings(config: dict[str, Any] | None = None, *, environ: dict[str, str] | None = None,
             default_instance: str | None = None) -> dict[str, Any]:
    """The validated configuration :func:`create_app` uses, without building an app (no grid is read).

    The instance folder (secret key, SQLite file, outbox) is ``config["INSTANCE_PATH"]``, else
    the ``OUTAGE_INSTANCE_PATH`` environment variable, else Flask's default for this package
    (``instance/`` beside a source checkout, ``<prefix>/var/app-instance`` when installed).
    Raises :class:`app.config.ConfigError` like :func:`create_app`.
    """
    env = config_mod.environ() if environ is None else environ
    if default_instance is None:
        default_instance = Flask(__name__, instance_relative_config=True).instance_path
    instance = Path((config or {}).get("INSTANCE_PATH") or env.get("OUTAGE_INSTANCE_PATH") or default_instance)
    cfg = config_mod.layered(instance, config, env)
    config_mod.validate(cfg)
    cfg["INSTANCE_PATH"] = str(instance)
    return cfg


NAV = (("planner", "Planner"), ("dispatcher", "Dispatcher"), ("crew", "Crew"), ("customer_service", "Customer service"))
#: Pages for admins only: (endpoint, label).
ADMIN_NAV = (("pages.grid_versions", "Grid versions"), ("quality.page", "Data quality"))  # labels: also in their templates (extracted)


def _nav_links(app: Flask) -> list[tuple[str, str]]:
    """Links to the pages blueprint's role pages the current user may open."""
    from flask_babel import gettext

    from app.auth import has_role

    links = [(f"pages.{role}", gettext(label)) for role, label in NAV
             if f"pages.{role}" in app.view_functions and has_role(role)]
    links += [(endpoint, gettext(label)) for endpoint, label in ADMIN_NAV if endpoint in app.view_functions and has_role()]
    return links


def _landing() -> str | None:
    from app.auth import user

    u = user()
    if u is None:
        return None
    from app.config import ROLE_INCLUDES
    from app.pages import PAGES

    role = next((r for r in (u.role, *ROLE_INCLUDES.get(u.role, ())) if r in PAGES), None)
    endpoint = f"pages.{role}" if role else "pages.index"
    return url_for(endpoint)


def _register_pages(app: Flask) -> None:
    """The role pages (``app.pages``), the admin's quality map (``app.pages.quality``), the
    public outage lookup (``app.pages.lookup``, rate-limited) and the crews' route links
    (``app.route_links``)."""
    from app import route_links, throttle
    from app.pages import bp, lookup
    from app.pages.quality import bp as quality_bp

    app.register_blueprint(bp)
    app.register_blueprint(lookup.bp)
    app.register_blueprint(quality_bp)
    throttle.throttle_lookup(app, lookup.THROTTLED)
    route_links.init_app(app)
