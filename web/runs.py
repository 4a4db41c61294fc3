"""Match runs: start one for the waiting pool (or a neighbourhood / target group), follow it."""
from __future__ import annotations

from collections import Counter

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug import Response

from matching.errors import ValidationFailed
from matching.services import runs
from matching.store import MatchRun, Resident, TARGET_GROUPS, utcnow

from . import labels
from .auth import roles_required
from .db import db_session
from .matchlabels import UNMATCHED, problem

bp = Blueprint("runs", __name__, url_prefix="/koppelen")

STATUS_LABELS = {"running": _l("Bezig"), "done": _l("Klaar"), "failed": _l("Mislukt")}


def _index(status: int = 200) -> tuple[str, int]:
    session = db_session()
    neighbourhoods = [n for n in session.scalars(
        select(Resident.neighbourhood).where(Resident.neighbourhood.is_not(None)).distinct()
        .order_by(Resident.neighbourhood)) if n]
    return render_template(
        "runs/index.html", runs=runs.latest(session), neighbourhoods=neighbourhoods,
        target_groups={g: labels.TARGET_GROUPS[g] for g in TARGET_GROUPS},
        status_labels=STATUS_LABELS,
    ), status


@bp.get("/")
@roles_required("coordinator", "admin")
def index() -> tuple[str, int]:
    return _index()


@bp.post("/")
@roles_required("coordinator", "admin")
def start() -> Response | tuple[str, int]:
    kind = request.form.get("scope", "all")
    scope = {kind: request.form.get(kind, "")} if kind in runs.SCOPE_KEYS else {}
    if kind in runs.SCOPE_KEYS and not scope[kind]:
        flash(_("Kies een wijk of doelgroep."), "error")
        return _index(422)
    session = db_session()
    try:
        run = runs.run_matching(session, scope=scope, settings={}, started_by=current_user.id,
                                now=utcnow())
    except ValidationFailed as error:
        session.rollback()
        for key in error.errors.values():
            flash(problem(key), "error")
        return _index(422)
    session.commit()
    return redirect(url_for("runs.show", run_id=run.id), code=303)


@bp.get("/runs/<run_id>")
@roles_required("coordinator", "admin")
def show(run_id: str) -> str:
    session = db_session()
    run = session.get(MatchRun, run_id)
    if run is None:
        abort(404)
    reasons = Counter(run.unmatched.values())
    return render_template(
        "runs/show.html", run=run, reasons=reasons, reason_labels=UNMATCHED,
        counts=runs.proposal_counts(session, run.id), status_labels=STATUS_LABELS,
        target_groups=labels.TARGET_GROUPS,
    )
