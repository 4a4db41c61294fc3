"""Coordinator pages for volunteers: list, intake, edit, detail, lifecycle, export, erase, merge."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request
from sqlalchemy.orm import Session
from werkzeug import Response

from matching.errors import ValidationFailed
from matching.services import profiles
from matching.store import Volunteer
from matching.services.validation import a_date, single

from . import profile_pages as pages

from . import staff_scope

bp = Blueprint("volunteers", __name__, url_prefix="/vrijwilligers")
bp.before_request(staff_scope.volunteers_guard)
bp.before_request(pages.coordinators_only)


@bp.get("/")
def index() -> str:
    return pages.list_page("volunteer")


@bp.route("/nieuw", methods=["GET", "POST"])
def new() -> Response | str | tuple[str, int]:
    return pages.create_page("volunteer")


@bp.get("/<id>")
def detail(id: str) -> str:
    return pages.detail_page("volunteer", id)


@bp.route("/<id>/bewerken", methods=["GET", "POST"])
def edit(id: str) -> Response | str | tuple[str, int]:
    return pages.edit_page("volunteer", id)


def _pause_until_form_date(session: Session, id: str, *, actor: str, now: datetime) -> Volunteer:
    until = single(a_date, "paused_until", request.form.get("until"))
    if until is None:
        raise ValidationFailed({"paused_until": "required"})
    return profiles.pause(session, id, until, actor=actor, now=now)


@bp.post("/<id>/pauzeren")
def pause(id: str) -> Response:
    return pages.transition("volunteer", id, _pause_until_form_date)


@bp.post("/<id>/stoppen")
def stop(id: str) -> Response:
    return pages.transition("volunteer", id, profiles.stop, request.form.get("reason", ""))


@bp.post("/<id>/heractiveren")
def reactivate(id: str) -> Response:
    return pages.transition("volunteer", id, profiles.reactivate)


@bp.get("/<id>/export.json")
def export(id: str) -> Response:
    return pages.export_download("volunteer", id)


@bp.post("/<id>/toestemming-intrekken")
def withdraw_consent(id: str) -> Response:
    return pages.withdraw_consent("volunteer", id)


@bp.post("/<id>/wissen")
def erase(id: str) -> Response:
    return pages.erase("volunteer", id)


@bp.route("/<id>/samenvoegen", methods=["GET", "POST"])
def merge(id: str) -> Response | str:
    return pages.merge_page("volunteer", id)
