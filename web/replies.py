"""Link pages for the one-question e-mails: 'still available?' and the exit question.

GET shows the question, only a POST from a button records it; a link works once and a
different second answer does not replace the first.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matching.errors import InvalidLink, ValidationFailed
from matching.services import endings, reengagement
from matching.store import utcnow

from .db import db_session

bp = Blueprint("replies", __name__)

ERRORS = {
    "rating": _l("Kies een cijfer van 1 tot 5."),
    "comment": _l("De opmerking is te lang (maximaal 2000 tekens)."),
}


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _invalid(error: InvalidLink) -> tuple[str, int]:
    return render_template(
        "links/refused.html", reason=error.reason, renew_url=None,
        expired_text=_("Neem contact op met de coördinator van de Vrijwilligers Centrale Utrecht; die helpt u "
                       "graag verder."),
    ), 400


@bp.get("/nog-beschikbaar/<token>")
def available(token: str) -> str | tuple[str, int]:
    try:
        link = reengagement.open_link(db_session(), token, now=utcnow(), secret=_secret())
    except InvalidLink as error:
        return _invalid(error)
    return render_template("replies/available.html", token=token, link=link)


@bp.post("/nog-beschikbaar/<token>")
def answer_available(token: str) -> str | tuple[str, int]:
    session = db_session()
    now = utcnow()
    try:
        link = reengagement.open_link(session, token, now=now, secret=_secret())
        outcome = reengagement.answer(session, link, request.form.get("choice", ""), now=now)
    except InvalidLink as error:
        return _invalid(error)
    session.commit()
    return render_template("replies/available_done.html", outcome=outcome)


@bp.get("/afscheid/<token>")
def exit_question(token: str) -> str | tuple[str, int]:
    try:
        link, _interview = endings.open_exit_link(db_session(), token, now=utcnow(),
                                                 secret=_secret())
    except InvalidLink as error:
        return _invalid(error)
    return render_template("replies/exit.html", token=token, link=link, errors={}, form={})


@bp.post("/afscheid/<token>")
def answer_exit(token: str) -> str | tuple[str, int]:
    session = db_session()
    now = utcnow()
    try:
        link, _interview = endings.open_exit_link(session, token, now=now, secret=_secret())
        rating, comment = endings.parse_exit(request.form)
    except InvalidLink as error:
        return _invalid(error)
    except ValidationFailed as failure:
        errors = {field: ERRORS.get(field, ERRORS["rating"]) for field in failure.errors}
        return render_template("replies/exit.html", token=token, link=link, errors=errors,
                               form=request.form), 422
    outcome, _interview = endings.answer_exit(session, link, rating, comment, now=now)
    session.commit()
    return render_template("replies/exit_done.html", outcome=outcome)
