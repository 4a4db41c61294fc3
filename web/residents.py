"""Coordinator pages for residents (deelnemers): list, intake, edit, detail, lifecycle, privacy."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug import Response

from matching.errors import Conflict, ValidationFailed
from matching.services import profiles, referrals, routing
from matching.store import utcnow

from . import profile_pages as pages
from . import staff_scope
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


@bp.post("/<id>/wissen")
def erase(id: str) -> Response:
    return pages.erase("resident", id)


@bp.route("/<id>/samenvoegen", methods=["GET", "POST"])
def merge(id: str) -> Response | str:
    return pages.merge_page("resident", id)
