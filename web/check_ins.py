"""The weekly check-in page a volunteer opens from the e-mail: GET shows, POST records."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matching.errors import InvalidLink, ValidationFailed
from matching.services import check_ins
from matching.store import utcnow

from .db import db_session

bp = Blueprint("check_ins", __name__, url_prefix="/check-in")

MET_LABELS = {
    "yes": _l("Ja, we hebben elkaar gezien"),
    "no": _l("Nee"),
    "not_planned": _l("Niet gepland deze week"),
}
ERRORS = {
    "met": _l("Kies of jullie elkaar hebben gezien."),
    "rating": _l("Kies een cijfer van 1 tot 5."),
    "call": _l("Kies of de coördinator mag bellen."),
    "comment": _l("De opmerking is te lang (maximaal 2000 tekens)."),
}


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _invalid(error: InvalidLink, token: str) -> tuple[str, int]:
    # An invalid or expired link shows nothing about the match or the person.
    return render_template(
        "links/refused.html", reason=error.reason, renew_url=url_for("check_ins.renew", token=token),
        expired_text=_("Wilt u de vragen toch nog invullen? Vraag een nieuwe link aan; die komt per e-mail."),
    ), 400


@bp.get("/<token>")
def show(token: str) -> str | tuple[str, int]:
    try:
        link, check_in = check_ins.open_link(db_session(), token, now=utcnow(), secret=_secret())
    except InvalidLink as error:
        return _invalid(error, token)
    # A button in the e-mail opens the page with its answer chosen; only the POST records it.
    chosen = request.args.get("met", "")
    return render_template("check_ins/form.html", token=token, link=link, check_in=check_in,
                           met_labels=MET_LABELS, errors={},
                           form={"met": chosen} if chosen in MET_LABELS else {})


@bp.post("/<token>")
def submit(token: str) -> str | tuple[str, int]:
    session = db_session()
    now = utcnow()
    try:
        link, check_in = check_ins.open_link(session, token, now=now, secret=_secret())
        answers = check_ins.parse(request.form)
    except InvalidLink as error:
        return _invalid(error, token)
    except ValidationFailed as failure:
        errors = {field: ERRORS.get(field, _("Ongeldige keuze.")) for field in failure.errors}
        return render_template("check_ins/form.html", token=token, link=link, check_in=check_in,
                               met_labels=MET_LABELS, errors=errors, form=request.form), 422
    outcome, check_in = check_ins.answer(session, link, answers, now=now)
    session.commit()
    return render_template("check_ins/done.html", outcome=outcome, check_in=check_in,
                           met_labels=MET_LABELS)


@bp.post("/<token>/nieuw")
def renew(token: str) -> str | tuple[str, int]:
    session = db_session()
    try:
        check_ins.open_link(session, token, now=utcnow(), secret=_secret())
    except InvalidLink as error:
        if error.reason != "expired" or error.link_id is None:
            return _invalid(error, token)
        check_ins.renew(session, error.link_id, now=utcnow(),
                        base_url=current_app.config["BASE_URL"], secret=_secret(),
                        link_days=current_app.config["CHECK_IN_LINK_DAYS"])
        session.commit()
        return render_template("check_ins/renewed.html")
    return render_template("check_ins/renewed.html")
