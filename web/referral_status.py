"""The referrer's status page, opened from the e-mail: GET shows, a POST leaves a note."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _

from matching.errors import InvalidLink, ValidationFailed
from matching.services import referrals
from matching.store import utcnow

from . import labels
from .db import db_session
from .matchlabels import UNMATCHED

bp = Blueprint("referral_status", __name__, url_prefix="/verwijzing")


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _invalid(error: InvalidLink, token: str) -> tuple[str, int]:
    # An invalid or expired link shows nothing about the resident or the referral.
    return render_template(
        "links/refused.html", reason=error.reason, renew_url=url_for("referral_status.renew", token=token),
        expired_text=_("Vraag een nieuwe link aan; die komt per e-mail naar het adres dat bij de verwijzing hoort."),
    ), 400


def _page(token: str, errors: dict[str, str], status: int = 200, saved: bool = False) -> tuple[str, int]:
    found = referrals.status(db_session(), token, now=utcnow(), secret=_secret())
    return render_template("referral_status/show.html", found=found, token=token, errors=errors, saved=saved,
                           stages=labels.REFERRAL_STAGES, reason_words=_reason_words), status


def _reason_words(stage: str, reason: str | None) -> str:
    if not reason:
        return ""
    if stage == "waiting":
        return str(UNMATCHED.get(reason, ""))
    if stage == "ended":
        return str(labels.END_REASONS.get(reason, ""))
    return reason  # a closing reason, in the coordinator's words


@bp.get("/<token>")
def show(token: str) -> tuple[str, int]:
    try:
        return _page(token, {})
    except InvalidLink as error:
        return _invalid(error, token)


@bp.post("/<token>/notitie")
def note(token: str) -> tuple[str, int]:
    session = db_session()
    try:
        referrals.add_note(session, token, request.form.get("note", ""), now=utcnow(), secret=_secret())
    except InvalidLink as error:
        return _invalid(error, token)
    except ValidationFailed as failure:
        session.rollback()
        message = (_("Schrijf een notitie van hoogstens 1000 tekens.") if "too_long" in failure.errors.values()
                   else _("Schrijf eerst een notitie."))
        return _page(token, {"note": message}, 422)
    session.commit()
    return _page(token, {}, saved=True)


@bp.post("/<token>/nieuw")
def renew(token: str) -> tuple[str, int]:
    session = db_session()
    try:
        referrals.open_link(session, token, now=utcnow(), secret=_secret())
    except InvalidLink as error:
        if error.reason != "expired" or error.link_id is None:
            return _invalid(error, token)
        referrals.renew(session, error.link_id, now=utcnow(), base_url=current_app.config["BASE_URL"],
                        secret=_secret())
        session.commit()
    return render_template("referral_status/renewed.html"), 200
