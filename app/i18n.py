"""Flask-Babel: the locale is the user's setting, then the browser's Accept-Language (en/zh)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale

babel = Babel()


def select_locale() -> str | None:
    languages = list(current_app.config.get("LANGUAGES", ("en", "zh")))
    from app.auth import user

    u = user()
    if u is not None and u.locale in languages:
        return u.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


def init_app(app: Flask) -> None:
    translations = Path(app.root_path) / "translations"
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(translations))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
