"""Coordinator pages for residents (deelnemers): list, intake, edit, detail, lifecycle, privacy."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug import Response

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.services import group_activities, profiles, referrals, routing
from matching.services.profiles import local_date
from matching.store import ActivitySuggestion, GroupActivity, Resident, utcnow

from . import profile_pages as pages
from . import labels, report_pdf, staff_scope
from .matchlabels import slot_label
from .db import db_session

bp = Blueprint("residents", __name__, url_prefix="/deelnemers")
bp.before_request(staff_scope.residents_guard)
bp.before_request(pages.coordinators_only)


@bp.get("/")
def index() -> str:
    return pages.list_page("resident")


@bp.route("/nieuw", methods=["GET", "POST"])
def new() -> Response | str | tuple[str, int]:
    return pages.create_page("resident")


@bp.get("/gedeelde-pool")
def shared_pool() -> str:
    """For a partner's coordinators: who waits in the shared pool, without names, to take on."""
    if staff_scope.scope().is_host:
        abort(404)
    return render_template("residents/shared_pool.html", residents=routing.shared_pool(db_session()),
                           labels=labels, today=local_date(utcnow()))


@bp.post("/gedeelde-pool/<resident_id>/overnemen")
def take(resident_id: str) -> Response:
    mine = staff_scope.scope()
    if mine.is_host:
        abort(404)
    session = db_session()
    try:
        routing.take(session, resident_id, mine.organisation, actor=pages.actor(), now=utcnow())
    except (Conflict, NotFound):
        session.rollback()
        flash(_("Deze deelnemer staat niet (meer) in de gedeelde pool."), "error")
        return redirect(url_for("residents.shared_pool"), code=303)
    session.commit()
    flash(_("De deelnemer is overgenomen."), "info")
    return redirect(url_for("residents.detail", id=resident_id), code=303)


@bp.get("/<id>")
def detail(id: str) -> str:
    return pages.detail_page("resident", id)


@bp.route("/<id>/bewerken", methods=["GET", "POST"])
def edit(id: str) -> Response | str | tuple[str, int]:
    return pages.edit_page("resident", id)


@bp.post("/<id>/wachtend")
def waiting(id: str) -> Response:
    return pages.transition("resident", id, referrals.intake_done,
                            request.form.get("inform_referrer") == "yes")


@bp.post("/<id>/on-hold")
def hold(id: str) -> Response:
    return pages.transition("resident", id, profiles.put_on_hold)


@bp.post("/<id>/afsluiten")
def close(id: str) -> Response:
    return pages.transition("resident", id, profiles.close, request.form.get("reason", ""))


@bp.get("/<id>/export.json")
def export(id: str) -> Response:
    return pages.export_download("resident", id)


@bp.post("/<id>/toestemming-intrekken")
def withdraw_consent(id: str) -> Response:
    return pages.withdraw_consent("resident", id)


@bp.post("/<id>/overdragen")
def hand_over(id: str) -> Response:
    """To another organisation or the shared pool; the waiting date and history stay."""
    session = db_session()
    try:
        routing.hand_over(session, id, request.form.get("organisation") or None,
                          actor=pages.actor(), now=utcnow())
    except ValidationFailed:
        session.rollback()
        flash(_("Kies een bestaande organisatie."), "error")
    except Conflict:
        session.rollback()
        flash(_("Overdragen kan niet zolang er een voorstel of koppeling loopt."), "error")
    else:
        session.commit()
        flash(_("De deelnemer is overgedragen."), "info")
        if not staff_scope.scope().is_host:  # out of this coordinator's sight now
            return redirect(url_for("residents.index"), code=303)
    return redirect(url_for("residents.detail", id=id), code=303)


@bp.post("/<id>/activiteiten/<activity_id>/voorstellen")
def suggest_activity(id: str, activity_id: str) -> Response:
    """By e-mail (to the outbox), or as a letter to print (the PDF is the answer)."""
    session = db_session()
    channel = request.form.get("channel", "")
    try:
        group_activities.suggest(session, id, activity_id, channel=channel, actor=pages.actor(), now=utcnow())
    except (ValidationFailed, NotFound):
        session.rollback()
        flash(_("Deze activiteit kan niet worden voorgesteld."), "error")
        return redirect(url_for("residents.detail", id=id), code=303)
    except Conflict:
        session.rollback()
        flash(_("Deze deelnemer heeft geen e-mailadres; maak een brief."), "error")
        return redirect(url_for("residents.detail", id=id), code=303)
    session.commit()
    if channel == "letter":
        resident, activity = session.get(Resident, id), session.get(GroupActivity, activity_id)
        html = render_template("group_activities/letter.html", letter=group_activities.letter(resident, activity),
                               slot_label=slot_label, today=utcnow())
        return Response(report_pdf.pdf(html), mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="activiteit-{activity_id[:8]}.pdf"'})
    flash(_("De activiteit is per e-mail voorgesteld."), "info")
    return redirect(url_for("residents.detail", id=id), code=303)


@bp.post("/<id>/activiteiten/uitkomst/<suggestion_id>")
def activity_outcome(id: str, suggestion_id: str) -> Response:
    session = db_session()
    suggestion = session.get(ActivitySuggestion, suggestion_id)
    if suggestion is None or suggestion.resident_id != id:
        abort(404)
    try:
        group_activities.set_outcome(session, suggestion_id, request.form.get("status", ""),
                                     actor=pages.actor(), now=utcnow())
    except ValidationFailed:
        session.rollback()
        flash(_("Kies een uitkomst."), "error")
    else:
        session.commit()
        flash(_("De uitkomst is vastgelegd."), "info")
    return redirect(url_for("residents.detail", id=id), code=303)


@bp.post("/<id>/wissen")
def erase(id: str) -> Response:
    return pages.erase("resident", id)


@bp.route("/<id>/samenvoegen", methods=["GET", "POST"])
def merge(id: str) -> Response | str:
    return pages.merge_page("resident", id)
