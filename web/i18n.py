"""Dutch by default, English on request; the choice is kept in a cookie."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, request
from flask_babel import Babel, get_locale
from werkzeug import Response

bp = Blueprint("i18n", __name__)
COOKIE = "maatwerk_lang"


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE, "")
    return chosen if chosen in current_app.config["LANGUAGES"] else "nl"


@bp.post("/taal/<lang>")
def switch(lang: str) -> Response:
    target = request.referrer or "/"
    if not target.startswith(request.host_url):
        target = "/"
    response = redirect(target)
    if lang in current_app.config["LANGUAGES"]:
        response.set_cookie(
            COOKIE, lang, max_age=365 * 86400, samesite="Lax", httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.register_blueprint(bp)
