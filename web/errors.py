"""Friendly error pages, JSON problems for the API, and domain errors mapped to status codes."""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug import Response
from werkzeug.exceptions import HTTPException

from matching.errors import MatchingError
from matching.store import utcnow

log = logging.getLogger("maatwerk.web")


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _actor() -> str | None:
    return current_user.id if current_user and current_user.is_authenticated else None


def error_page(status: int, title: str, message: str) -> tuple[Response | str, int]:
    """The error as a page, or as problem+json under /api/."""
    if _wants_json():
        body = jsonify(type="about:blank", title=title, status=status, detail=message)
        body.mimetype = "application/problem+json"
        return body, status
    return render_template("error.html", status=status, title=title, message=message), status


def _title(status: int) -> str:
    return {
        400: _("Verzoek niet begrepen"),
        403: _("Geen toegang"),
        404: _("Pagina niet gevonden"),
        405: _("Niet toegestaan"),
        409: _("Iemand anders was u voor"),
        413: _("Bestand te groot"),
        422: _("Controleer de invoer"),
        429: _("Te veel pogingen"),
    }.get(status, _("Er ging iets mis"))


def _message(status: int) -> str:
    return {
        403: _("U hebt geen toegang tot deze pagina."),
        404: _("Deze pagina bestaat niet (meer)."),
        409: _(
            "De gegevens zijn intussen gewijzigd. Laad de pagina opnieuw en probeer het nog eens."
        ),
        413: _(
            "Het bestand is groter dan %(mb)s MB en is niet verwerkt. Splits het in kleinere "
            "bestanden of laat overbodige kolommen weg.",
            mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
        ),
        429: _("Te veel pogingen. Wacht even en probeer het dan opnieuw."),
    }.get(status, _("Het verzoek kon niet worden verwerkt."))


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError):  # type: ignore[no-untyped-def]
        log.warning(
            "security.csrf_refused actor=%s path=%s at=%s", _actor(), request.path,
            utcnow().isoformat(),
        )
        return error_page(
            400, _("Formulier verlopen"), _("Het formulier was verouderd. Probeer het opnieuw.")
        )

    @app.errorhandler(MatchingError)
    def domain_error(error: MatchingError):  # type: ignore[no-untyped-def]
        # Services speak English keys; the page shows a Dutch message chosen by status.
        return error_page(error.status, _title(error.status), _message(error.status))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        status = error.code or 500
        if status == 429:
            log.warning(
                "security.rate_limited actor=%s path=%s at=%s", _actor(), request.path,
                utcnow().isoformat(),
            )
        return error_page(status, _title(status), _message(status))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error: Exception):  # type: ignore[no-untyped-def]
        # The database is unreachable (restart, network): say so and let the client retry. The
        # page is drawn as for an anonymous visitor, because loading the staff member would need
        # the database again and turn this page into a bare 500.
        log.error("database.unavailable path=%s error=%s at=%s", request.path,
                  type(getattr(error, "orig", error)).__name__, utcnow().isoformat())
        g._login_user = AnonymousUserMixin()
        page, status = error_page(
            503, _("Tijdelijk niet beschikbaar"),
            _("De gegevens zijn even niet bereikbaar. Probeer het over een paar minuten opnieuw."),
        )
        return page, status, {"Retry-After": "30"}

    @app.errorhandler(Exception)
    def server_error(error: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s", request.path)
        return error_page(
            500, _("Er ging iets mis"),
            _("Er is een onverwachte fout opgetreden. Die is vastgelegd."),
        )
