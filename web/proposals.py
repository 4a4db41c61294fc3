"""The review page: proposals with their explanation; approve, reject, swap, lock, introduce."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug import Response

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.services import decisions, proposals
from matching.services.profiles import local_date
from matching.store import Resident, utcnow

from . import explanations
from .auth import roles_required
from . import staff_scope
from .db import db_session
from .edge import whole_number
from .matchlabels import problem, slot_label

bp = Blueprint("proposals", __name__, url_prefix="/koppelen/voorstellen")
bp.before_request(staff_scope.matches_guard)

STATUS_TABS = {
    "proposed": _l("Voorgesteld"), "offered": _l("Aangeboden"), "accepted": _l("Aangenomen"),
    "active": _l("Actief"),
}


def _back() -> Response:
    """To the page the form was on (its filters and page number ride along as hidden fields)."""
    status = request.form.get("status", "proposed")
    args = {"status": status if status in STATUS_TABS else "proposed"}
    if request.form.get("run"):
        args["run"] = request.form["run"]
    if request.form.get("page", "").isdigit():
        args["page"] = request.form["page"]
    for name in ("wijk", "naam", "gewijzigd", "sorteer", "richting"):
        if request.form.get(name):
            args[name] = request.form[name]
    return redirect(url_for("proposals.index", **args), code=303)


def _version() -> int | None:
    return whole_number(request.form.get("version"))


def _refused(error: Exception) -> Response:
    if isinstance(error, ValidationFailed):
        for key in error.errors.values():
            flash(problem(key), "error")
    else:
        flash(problem(getattr(error, "message", "")), "error")
    return _back()


@bp.get("/")
@roles_required("coordinator", "admin")
def index() -> str:
    status = request.args.get("status", "proposed")
    status = status if status in STATUS_TABS else "proposed"
    page_number = request.args.get("page", "1")
    shown = _shown()
    session = db_session()
    found = proposals.review(
        session, run_id=request.args.get("run") or None, status=status,
        page=whole_number(page_number) or 1, locale=str(get_locale()), shown=shown,
        scope=staff_scope.scope(),
    )
    wijken = [w for w in session.scalars(select(Resident.neighbourhood).distinct()
                                         .order_by(Resident.neighbourhood)) if w]
    return render_template(
        "proposals/index.html", found=found, status=status, tabs=STATUS_TABS,
        run_id=request.args.get("run", ""), slot_label=slot_label, today=local_date(utcnow()),
        reasons=explanations.reasons, why_not=explanations.why_not, shown=shown,
        filters=_filter_args(shown), wijken=wijken, sort_labels=SORT_LABELS,
    )


SORT_LABELS = {"resident": _l("Deelnemer"), "volunteer": _l("Vrijwilliger"),
               "score": _l("Score"), "distance": _l("Afstand"), "wijk": _l("Wijk")}


def _shown() -> proposals.ReviewFilter:
    """The table's filters and order from the query string (unknown values: the defaults)."""
    sort = request.args.get("sorteer", "score")
    sort = sort if sort in proposals.REVIEW_SORTS else "score"
    default_down = sort in ("score",)
    direction = request.args.get("richting", "")
    return proposals.ReviewFilter(
        wijk=request.args.get("wijk") or None, name=request.args.get("naam") or None,
        stale_only=request.args.get("gewijzigd") == "1", sort=sort,
        descending=(direction == "af") if direction in ("op", "af") else default_down,
    )


def _filter_args(shown: proposals.ReviewFilter) -> dict[str, str]:
    args = {"wijk": shown.wijk or "", "naam": shown.name or "",
            "gewijzigd": "1" if shown.stale_only else "", "sorteer": shown.sort,
            "richting": "af" if shown.descending else "op"}
    return {key: value for key, value in args.items() if value}


@bp.post("/<match_id>/goedkeuren")
@roles_required("coordinator", "admin")
def approve(match_id: str) -> Response:
    session = db_session()
    config = current_app.config
    try:
        proposals.approve(session, match_id, actor=current_user.id, now=utcnow(),
                          secret=config["SECRET_KEY"], base_url=config["BASE_URL"],
                          expected_version=_version())
    except (Conflict, NotFound, ValidationFailed) as error:
        return _refused(error)
    session.commit()
    flash(_("Goedgekeurd: de vrijwilliger krijgt een e-mail met het voorstel."), "info")
    return _back()


@bp.post("/bulk")
@roles_required("coordinator", "admin")
def approve_many() -> Response:
    session = db_session()
    config = current_app.config
    result = proposals.approve_many(
        session, request.form.getlist("match_id")[:200], actor=current_user.id, now=utcnow(),
        secret=config["SECRET_KEY"], base_url=config["BASE_URL"], scope=staff_scope.scope(),
    )
    session.commit()
    flash(ngettext("%(num)d voorstel goedgekeurd.", "%(num)d voorstellen goedgekeurd.",
                   len(result.approved)), "info")
    if result.refused:
        flash(ngettext(
            "%(num)d voorstel kon niet worden goedgekeurd (intussen behandeld of zonder e-mailadres).",
            "%(num)d voorstellen konden niet worden goedgekeurd (intussen behandeld of zonder e-mailadres).",
            len(result.refused)), "error")
    return _back()


@bp.post("/<match_id>/afwijzen")
@roles_required("coordinator", "admin")
def reject(match_id: str) -> Response:
    session = db_session()
    try:
        proposals.reject(session, match_id, reason=request.form.get("reason", ""),
                         actor=current_user.id, now=utcnow(), expected_version=_version())
    except (Conflict, NotFound, ValidationFailed) as error:
        return _refused(error)
    session.commit()
    flash(_("Afgewezen: dit paar wordt niet meer voorgesteld."), "info")
    return _back()


@bp.post("/<match_id>/wisselen")
@roles_required("coordinator", "admin")
def swap(match_id: str) -> Response:
    session = db_session()
    now = utcnow()
    try:
        proposals.swap(session, match_id, request.form.get("volunteer_id", ""),
                       actor=current_user.id, now=now, today=local_date(now),
                       expected_version=_version())
    except (Conflict, NotFound, ValidationFailed) as error:
        return _refused(error)
    session.commit()
    flash(_("Gewisseld naar het alternatief."), "info")
    return _back()


@bp.post("/<match_id>/vastzetten")
@roles_required("coordinator", "admin")
def lock(match_id: str) -> Response:
    session = db_session()
    locked = request.form.get("locked") == "1"
    try:
        proposals.set_locked(session, match_id, locked, actor=current_user.id, now=utcnow(),
                             expected_version=_version())
    except (Conflict, NotFound, ValidationFailed) as error:
        return _refused(error)
    session.commit()
    flash(_("Vastgezet: een nieuwe ronde laat dit voorstel staan.") if locked
          else _("Losgemaakt."), "info")
    return _back()


@bp.post("/<match_id>/kennismaking")
@roles_required("coordinator", "admin")
def introduction(match_id: str) -> Response:
    session = db_session()
    try:
        intro_date = date.fromisoformat(request.form.get("intro_date", ""))
    except ValueError:
        flash(problem("invalid_date"), "error")
        return _back()
    try:
        match = decisions.record_introduction(
            session, match_id, intro_date=intro_date,
            volunteer_go=request.form.get("volunteer_go") == "1",
            resident_go=request.form.get("resident_go") == "1",
            actor=current_user.id, now=utcnow(),
        )
    except (Conflict, NotFound, ValidationFailed) as error:
        return _refused(error)
    session.commit()
    flash(_("De koppeling is actief.") if match.status == "active"
          else _("Geen doorgang: de deelnemer staat weer op de wachtlijst."), "info")
    return _back()
