"""Follow-up of matches for coordinators: 'Aandacht nodig', review forms, ending a match."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug import Response

from matching.errors import NotFound, ValidationFailed
from matching.services import attention, durability, endings, reviews
from matching.store import END_REASONS, ExitInterview, Match, utcnow

from . import labels
from .auth import roles_required
from . import staff_scope
from .db import db_session

bp = Blueprint("attention", __name__, url_prefix="/aandacht")
bp.before_request(staff_scope.matches_guard)

REASON_LABELS = {
    "call_requested": _l("Vrijwilliger wil gebeld worden"),
    "low_rating": _l("Cijfer 2 of lager"),
    "not_met": _l("Drie weken niet afgesproken"),
    "missed_check_ins": _l("Twee weken geen antwoord op de check-in"),
    "review_overdue": _l("Evaluatie te laat"),
}
MILESTONE_LABELS = {
    "6w": _l("6 weken"), "3m": _l("3 maanden"), "6m": _l("6 maanden"), "12m": _l("12 maanden"),
}
LONELINESS_ITEMS = (
    _l("Ik ervaar een leegte om me heen."),
    _l("Ik mis mensen om me heen."),
    _l("Ik voel me vaak in de steek gelaten."),
    _l("Er zijn genoeg mensen op wie ik in geval van narigheid kan terugvallen."),
    _l("Ik ken veel mensen op wie ik volledig kan vertrouwen."),
    _l("Er zijn voldoende mensen met wie ik me verbonden voel."),
)
LONELINESS_ANSWERS = {"yes": _l("Ja"), "more_or_less": _l("Min of meer"), "no": _l("Nee")}
FIELD_ERRORS = {
    "invalid_choice": _l("Maak een keuze."),
    "too_long": _l("Deze tekst is te lang (maximaal 2000 tekens)."),
    "not_possible": _l("Een nieuwe koppeling is bij deze reden niet mogelijk."),
}
STAFF = ("coordinator", "admin")


def _errors(failure: ValidationFailed) -> dict[str, str]:
    return {field: str(FIELD_ERRORS.get(key, _("Ongeldige invoer."))) for field, key in
            failure.errors.items()}


def _match(match_id: str) -> Match:
    match = db_session().get(Match, match_id)
    if match is None:
        raise NotFound("match")
    return match


@bp.get("/")
@roles_required(*STAFF)
def index() -> str:
    session = db_session()
    now = utcnow()
    mine = staff_scope.scope()
    return render_template(
        "attention/index.html",
        items=[i for i in attention.needs_attention(session, now=now) if mine.owns_match(i.match)],
        reviews=[r for r in reviews.open_reviews(session, now=now) if mine.owns_match(_match(r.match_id))],
        exit_tasks=[t for t in endings.open_exit_tasks(session)
                    if t.match_id is None or mine.owns_match(_match(t.match_id))],
        counts=durability.durable_counts(session, now=now), reason_labels=REASON_LABELS,
        milestone_labels=MILESTONE_LABELS,
    )


def _review_page(review_id: str, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    review = reviews.get_review(db_session(), review_id)
    return render_template(
        "attention/review.html", review=review, match=review.match, errors=errors,
        form=request.form, milestone_labels=MILESTONE_LABELS, items=LONELINESS_ITEMS,
        answers=LONELINESS_ANSWERS, with_loneliness=review.milestone in reviews.WITH_LONELINESS,
    ), status


@bp.get("/evaluatie/<review_id>")
@roles_required(*STAFF)
def review(review_id: str) -> tuple[str, int]:
    return _review_page(review_id, {})


@bp.post("/evaluatie/<review_id>")
@roles_required(*STAFF)
def save_review(review_id: str) -> Response | tuple[str, int]:
    session = db_session()
    try:
        done = reviews.complete(session, review_id, request.form, actor=current_user.id,
                                now=utcnow())
    except ValidationFailed as failure:
        session.rollback()
        return _review_page(review_id, _errors(failure), 422)
    session.commit()
    flash(_("De evaluatie is opgeslagen."), "info")
    if done.decision == "end":
        return redirect(url_for("attention.end_form", match_id=done.match_id))
    return redirect(url_for("attention.index"))


def _end_page(match_id: str, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    return render_template(
        "attention/end.html", match=_match(match_id), errors=errors, form=request.form,
        reasons=[(r, labels.END_REASONS[r]) for r in END_REASONS],
    ), status


@bp.get("/koppeling/<match_id>/beeindigen")
@roles_required(*STAFF)
def end_form(match_id: str) -> tuple[str, int]:
    return _end_page(match_id, {})


@bp.post("/koppeling/<match_id>/beeindigen")
@roles_required(*STAFF)
def end(match_id: str) -> Response | tuple[str, int]:
    session = db_session()
    try:
        endings.end_match(
            session, match_id, request.form.get("reason", ""), request.form.get("note"),
            actor=current_user.id, now=utcnow(), rematch=request.form.get("rematch") == "yes",
            base_url=current_app.config["BASE_URL"], secret=current_app.config["SECRET_KEY"],
            link_days=current_app.config["REPLY_LINK_DAYS"],
        )
    except ValidationFailed as failure:
        session.rollback()
        return _end_page(match_id, _errors(failure), 422)
    session.commit()
    flash(_("De koppeling is beëindigd."), "info")
    return redirect(url_for("attention.index"))


def _exit_page(interview_id: str, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    interview = db_session().get(ExitInterview, interview_id)
    if interview is None:
        raise NotFound("exit_interview")
    return render_template("attention/exit.html", interview=interview,
                           match=interview.match, errors=errors,
                           form=request.form), status


@bp.get("/afscheid/<interview_id>")
@roles_required(*STAFF)
def exit_form(interview_id: str) -> tuple[str, int]:
    return _exit_page(interview_id, {})


@bp.post("/afscheid/<interview_id>")
@roles_required(*STAFF)
def save_exit(interview_id: str) -> Response | tuple[str, int]:
    session = db_session()
    try:
        endings.record_exit(session, interview_id, request.form, actor=current_user.id,
                            now=utcnow())
    except ValidationFailed as failure:
        session.rollback()
        return _exit_page(interview_id, _errors(failure), 422)
    session.commit()
    flash(_("Het antwoord is opgeslagen."), "info")
    return redirect(url_for("attention.index"))
