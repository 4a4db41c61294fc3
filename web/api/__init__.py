"""The partner JSON API under /api/v1: bearer tokens, problem+json errors, OpenAPI from the code.

Every route lives in the "api" blueprint (endpoints "api.*", which the staff-login guard leaves
to us) whose before_request demands a token; only /api/v1/openapi.json is public.
"""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException

from matching.errors import MatchingError

from ..security import csrf
from . import activities, people, problems, runs, stats, tokens

PREFIX = "/api/v1"
DOCS_ENDPOINT = "api-docs.openapi_json"

bp = Blueprint("api", __name__, url_prefix=PREFIX)
bp.before_request(tokens.authenticate)
bp.register_error_handler(HTTPException, problems.http_error)
bp.register_error_handler(MatchingError, problems.domain_error)
bp.register_blueprint(people.bp)
bp.register_blueprint(stats.bp)
bp.register_blueprint(runs.bp)
bp.register_blueprint(activities.bp)


class PartnerApi(Api):
    """flask-smorest's Api without its app-wide error handler (web/errors.py keeps the pages)."""

    # Our errors are problem+json, documented per operation; not smorest's generic error body.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        pass


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Maatwerk partner-API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": (
            "Vrijwilligers en deelnemers voor partnerorganisaties van de VCU. Een sleutel hoort "
            "bij één organisatie en bereikt alleen haar eigen mensen (door haar aangemelde "
            "vrijwilligers, door haar verwezen deelnemers), koppelingen waarin een van hen zit en "
            "rondes die zij startte; al het andere geeft 404.")},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })
    api = PartnerApi(app)
    api.register_blueprint(bp)
    csrf.exempt(bp)
    csrf.exempt(people.bp)
    csrf.exempt(stats.bp)
    csrf.exempt(runs.bp)
    csrf.exempt(activities.bp)
