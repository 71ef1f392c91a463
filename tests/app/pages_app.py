"""A minimal Flask app serving only the pages blueprint, for tests that do not need the service.

The service's ``create_app`` registers the same blueprint with auth, CSRF and the API;
these tests check the pages and map data on their own.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_babel import Babel

from gis import Grid, load_grid

ROOT = Path(__file__).resolve().parents[2]
SMALL_RING = ROOT / "tests" / "data" / "small_ring"

#: Customer names that must show as text and run nothing (issue 8); tests/app/conftest.py
#: builds the ``xss_grid`` fixture with the same names.
XSS_NAMES = {
    "C1": "<img src=x onerror=alert(1)>",
    "C2": "${alert(1)}",
    "C3": "Hôpital `backtick` </script><script>alert(2)</script>",
}


def pages_app(grid: Grid | None = None, **config: object) -> Flask:
    app = Flask("pages_test", static_folder=str(ROOT / "app" / "static"), static_url_path="/static", template_folder=str(ROOT / "app" / "templates"))
    app.config.update(TESTING=True, PAGES_BASE_TEMPLATE="pages/_standalone.html", LANGUAGES=("en", "zh"), BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "app" / "translations"), **config)

    def locale() -> str:
        from flask import request

        return request.args.get("lang") or request.accept_languages.best_match(["en", "zh"]) or "en"

    Babel(app, locale_selector=locale)
    app.extensions["grid"] = grid if grid is not None else load_grid(SMALL_RING)
    from app.pages import bp

    app.register_blueprint(bp)
    return app
