"""The volunteer's proposal link: GET shows the proposal, only a POST from a button decides."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale
from werkzeug import Response

from matching.errors import InvalidLink
from matching.services import decisions
from matching.store import utcnow

from .db import db_session
from .matchlabels import slot_label
from .security import limiter

bp = Blueprint("links", __name__, url_prefix="/koppeling")



def _refused(error: InvalidLink, token: str) -> tuple[str, int]:
    # Expired: no personal data, only the offer of a fresh link. Anything else: unknown.
    if error.reason == "expired":
        return render_template("links/expired.html", token=token), 410
    return render_template("links/invalid.html"), 404


@bp.get("/<token>")
def show(token: str) -> tuple[str, int] | str:
    try:
        view = decisions.show(db_session(), token, now=utcnow(),
                              secret=current_app.config["SECRET_KEY"], locale=str(get_locale()))
    except InvalidLink as error:
        return _refused(error, token)
    return render_template("links/show.html", view=view, token=token, slot_label=slot_label)


@bp.post("/<token>")
def decide(token: str) -> tuple[str, int] | str:
    session = db_session()
    try:
        decision = decisions.decide(
            session, token, request.form.get("choice", ""), reason=request.form.get("reason", ""),
            now=utcnow(), secret=current_app.config["SECRET_KEY"], locale=str(get_locale()),
        )
    except InvalidLink as error:
        return _refused(error, token)
    session.commit()
    return render_template("links/done.html", decision=decision)


@bp.post("/<token>/nieuw")
@limiter.limit("5 per hour", key_func=lambda: request.remote_addr or "unknown")
def renew(token: str) -> tuple[str, int] | str | Response:
    session = db_session()
    config = current_app.config
    try:
        outcome = decisions.renew(session, token, now=utcnow(), secret=config["SECRET_KEY"],
                                  base_url=config["BASE_URL"])
    except InvalidLink as error:
        return _refused(error, token)
    session.commit()
    return render_template("links/renewed.html", outcome=outcome)
