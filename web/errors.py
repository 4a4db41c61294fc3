"""Friendly error pages, JSON problems for the API, and domain errors mapped to status codes."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug import Response
from werkzeug.exceptions import HTTPException

from matching.errors import MatchingError

log = logging.getLogger("maatwerk.web")


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _page(status: int, title: str, message: str) -> tuple[Response | str, int]:
    if _wants_json():
        body = jsonify(type="about:blank", title=title, status=status, detail=message)
        body.mimetype = "application/problem+json"
        return body, status
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError):  # type: ignore[no-untyped-def]
        log.warning("security.csrf_refused path=%s", request.path)
        return _page(400, _("Form expired"), _("The form was out of date. Please try again."))

    @app.errorhandler(MatchingError)
    def domain_error(error: MatchingError):  # type: ignore[no-untyped-def]
        return _page(error.status, _("That did not work"), error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        titles = {
            403: _("No access"),
            404: _("Page not found"),
            405: _("Not allowed"),
            409: _("Someone else was first"),
            429: _("Too many attempts"),
        }
        messages = {
            403: _("You do not have access to this page."),
            404: _("This page does not exist (any more)."),
            429: _("Too many attempts. Please wait a while and try again."),
        }
        status = error.code or 500
        return _page(
            status, titles.get(status, _("Something went wrong")),
            messages.get(status, _("The request could not be handled.")),
        )

    @app.errorhandler(Exception)
    def server_error(error: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s", request.path)
        return _page(500, _("Something went wrong"), _("An unexpected error occurred. It has been logged."))
