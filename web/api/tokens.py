"""Bearer-token authentication, scope check and per-token rate limit for every API route.

The session cookie is never consulted: a logged-in staff member's browser cannot be used to
call the API (and so CSRF cannot reach it), and the API is exempt from the CSRF token check.
"""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import gettext as _
from limits import parse
from werkzeug import Response

from matching.services import api_tokens
from matching.services import scope as scopes
from matching.services.scope import Scope
from matching.store import ApiToken, utcnow

from ..db import db_session
from ..security import limiter
from .problems import problem

READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def current_token() -> ApiToken:
    """The token this request was authenticated with."""
    return g.api_token  # type: ignore[no-any-return]


def scope() -> Scope:
    """What this request may read and act on: the token's organisation's people and matches."""
    if "maatwerk_scope" not in g:
        g.maatwerk_scope = scopes.of(db_session(), current_token().organisation)
    return g.maatwerk_scope


def actor() -> str:
    return api_tokens.actor(current_token())


def authenticate() -> Response | None:
    """before_request of the API blueprint: refuse the request unless a live token allows it."""
    scheme, _sep, presented = request.headers.get("Authorization", "").partition(" ")
    token = None
    if scheme.lower() == "bearer" and presented.strip():
        token = api_tokens.verify(db_session(), presented.strip(), now=utcnow())
    if token is None:
        return problem(401, _("Een geldige API-sleutel is nodig (Authorization: Bearer ...)."),
                       headers={"WWW-Authenticate": 'Bearer realm="maatwerk"'})
    # Limited after authentication and per token, not per IP: partners often share one address.
    limit = parse(current_app.config["API_RATE_LIMIT"])
    if limiter.enabled and not limiter.limiter.hit(limit, "api-token", token.id):
        reset, _remaining = limiter.limiter.get_window_stats(limit, "api-token", token.id)
        wait = max(1, int(reset - utcnow().timestamp()))
        return problem(429, _("Te veel verzoeken met deze sleutel; probeer het later opnieuw."),
                       headers={"Retry-After": str(wait)})
    if token.scope != "write" and request.method not in READ_METHODS:
        return problem(403, _("Deze sleutel mag alleen lezen."))
    g.api_token = token
    return None
