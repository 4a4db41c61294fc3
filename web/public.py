"""Public forms: a volunteer signs up, a professional refers a resident. No login needed."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug import Response

from matching.errors import InvalidLink, ValidationFailed
from matching.services import consents, signups
from matching.store import utcnow

from . import labels
from .db import db_session
from .edge import whole_number
from .placing import geocoder
from .profile_forms import REFERRAL_FIELDS, SIGNUP_FIELDS, form_data, tags
from .security import limiter

bp = Blueprint("public", __name__)
# A field people never see (hidden by the stylesheet) but form-filling bots do fill in.
HONEYPOT = "website"


def _limit() -> str:
    return str(current_app.config["PUBLIC_FORM_LIMIT"])


def _render(template: str, purpose: str, values: dict[str, Any], errors: dict[str, str]) -> str:
    return render_template(
        template, values=values, errors=errors, tags=tags(db_session()), labels=labels,
        consent_text=consents.text(purpose), text_version=consents.CURRENT_VERSION,
    )


@bp.route("/aanmelden", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def signup() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return _render("public/signup.html", "profile", {}, {})
    if request.form.get(HONEYPOT):
        return redirect(url_for("public.signed_up"))
    session = db_session()
    data = form_data(request.form, SIGNUP_FIELDS)
    try:
        signups.sign_up(
            session, data, consented=request.form.get("consent") == "yes",
            text_version=request.form.get("text_version", ""), text=_confirmation_text(),
            link_url=_verify_url(), locale=str(get_locale() or "nl"),
            secret=current_app.config["SECRET_KEY"], now=utcnow(), geocoder=geocoder(),
        )
    except ValidationFailed as failure:
        session.rollback()
        values = {**data, "availability": [n for s in data["availability"]
                                             if (n := whole_number(s)) is not None]}
        return _render("public/signup.html", "profile", values,
                       labels.error_messages(failure.errors)), 422
    session.commit()
    return redirect(url_for("public.signed_up"))


def _confirmation_text() -> signups.ConfirmationText:
    return signups.ConfirmationText(
        subject=_("Bevestig je aanmelding bij de Vrijwilligers Centrale Utrecht"),
        lines=[_("Bedankt dat je je hebt aangemeld als vrijwilliger."),
               _("Bevestig je e-mailadres via de link hieronder. Daarna neemt een coördinator "
                 "contact met je op.")],
        link_label=_("E-mailadres bevestigen"),
    )


def _verify_url() -> str:
    # Built from the configured BASE_URL, never from the request's Host header.
    path = url_for("public.verify", token="-").removesuffix("-")
    return current_app.config["BASE_URL"].rstrip("/") + path + "{token}"


@bp.get("/aanmelden/bevestig/<token>")
def verify(token: str) -> str | tuple[str, int]:
    """Show the confirmation button; opening the link changes nothing."""
    try:
        signups.check_link(db_session(), token, secret=current_app.config["SECRET_KEY"],
                           now=utcnow())
    except InvalidLink as error:
        return render_template("public/verify.html", state="invalid", reason=error.reason), 400
    return render_template("public/verify.html", state="ask")


@bp.post("/aanmelden/bevestig/<token>")
def verify_confirm(token: str) -> str | tuple[str, int]:
    session = db_session()
    try:
        first = signups.verify_email(session, token, secret=current_app.config["SECRET_KEY"],
                                     now=utcnow())
    except InvalidLink as error:
        session.rollback()
        return render_template("public/verify.html", state="invalid", reason=error.reason), 400
    session.commit()
    return render_template("public/verify.html", state="done" if first else "again")


@bp.post("/aanmelden/bevestig/<token>/opnieuw")
@limiter.limit(_limit)
def verify_renew(token: str) -> str | tuple[str, int]:
    """Send a fresh confirmation link in place of an expired one."""
    session = db_session()
    try:
        signups.renew(session, token, text=_confirmation_text(), link_url=_verify_url(),
                      locale=str(get_locale() or "nl"), secret=current_app.config["SECRET_KEY"],
                      now=utcnow())
    except InvalidLink as error:
        session.rollback()
        return render_template("public/verify.html", state="invalid", reason=error.reason), 400
    session.commit()
    # The same answer whether or not a mail went out: the page tells nothing about the person.
    return render_template("public/verify.html", state="renewed")


@bp.get("/aanmelden/bedankt")
def signed_up() -> str:
    return render_template("public/thanks.html", referral=False)


@bp.route("/verwijzen", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def refer() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return _render("public/referral.html", "referral", {}, {})
    if request.form.get(HONEYPOT):
        return redirect(url_for("public.referred"))
    session = db_session()
    data = form_data(request.form, REFERRAL_FIELDS)
    if data.get("referral_source") not in labels.PROFESSIONAL_SOURCES:
        data["referral_source"] = "-"  # only the professional sources are offered here
    try:
        signups.refer(session, data, agreed=request.form.get("agreed") == "yes",
                      text_version=request.form.get("text_version", ""),
                      secret=current_app.config["SECRET_KEY"], now=utcnow(), geocoder=geocoder())
    except ValidationFailed as failure:
        session.rollback()
        return _render("public/referral.html", "referral", data,
                       labels.error_messages(failure.errors)), 422
    session.commit()
    return redirect(url_for("public.referred"))


@bp.get("/verwijzen/bedankt")
def referred() -> str:
    return render_template("public/thanks.html", referral=True)
