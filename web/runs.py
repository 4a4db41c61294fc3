"""Match runs: start one for the waiting pool (or a neighbourhood / target group), follow it."""
from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug import Response

from matching.errors import ValidationFailed
from matching.problem import MODEL_WEIGHTS
from matching.scoring import DEFAULT_WEIGHTS
from matching.services import durability_models, runs
from matching.store import DurabilityModel, MatchRun, Resident, TARGET_GROUPS, utcnow

from . import explanations, labels
from .auth import roles_required
from . import staff_scope
from .db import db_session
from .matchlabels import UNMATCHED, problem

bp = Blueprint("runs", __name__, url_prefix="/koppelen")
bp.before_request(staff_scope.matches_guard)

STATUS_LABELS = {"running": _l("Bezig"), "done": _l("Klaar"), "failed": _l("Mislukt")}
# The scheduler looks every 2 seconds: a run queued this long means it is not running.
QUEUED_LONG = timedelta(minutes=1)
STAGE_LABELS = {
    "queued": _l("In de wachtrij"),
    "loading": _l("Deelnemers en vrijwilligers laden"),
    "pairs": _l("Paren binnen bereik zoeken en scoren"),
    "solving": _l("De beste verdeling berekenen"),
    "explaining": _l("Elk voorstel uitleggen"),
    "storing": _l("Voorstellen opslaan"),
}
WEIGHT_LABELS = {
    "interests": _l("Gedeelde interesses"), "activities": _l("Gedeelde activiteiten"),
    "availability": _l("Gedeelde momenten"), "distance": _l("Dichtbij"),
    "waiting": _l("Wachttijd van de deelnemer"),
    "durability": _l("Verwachte kans dat het 6 maanden duurt (geleerd model)"),
}


def _settings(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The weights and minimum score of the form (empty: the default), and the fields refused."""
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    for name in (*(f"weight_{key}" for key in DEFAULT_WEIGHTS), "min_score"):
        raw = (form.get(name) or "").strip().replace(",", ".")
        if not raw:
            continue
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if not 0 <= number <= 100:  # NaN fails too
            errors[name] = "out_of_range"
            continue
        values[name] = number
    weights = {key: values[f"weight_{key}"] for key in DEFAULT_WEIGHTS if f"weight_{key}" in values}
    objective = form.get("objective") or "weights"
    if objective not in runs.OBJECTIVES:
        errors["objective"] = "invalid_choice"
    settings: dict[str, Any] = {"objective": objective, "weights": weights}
    if "min_score" in values:
        settings["min_score"] = values["min_score"]
    return settings, errors


def _index(status: int = 200, form: Any = None) -> tuple[str, int]:
    session = db_session()
    neighbourhoods = [n for n in session.scalars(
        select(Resident.neighbourhood).where(Resident.neighbourhood.is_not(None)).distinct()
        .order_by(Resident.neighbourhood)) if n]
    return render_template(
        "runs/index.html", runs=runs.latest(session, staff_scope.scope()), neighbourhoods=neighbourhoods,
        target_groups={g: labels.TARGET_GROUPS[g] for g in TARGET_GROUPS},
        status_labels=STATUS_LABELS, weights=DEFAULT_WEIGHTS, weight_labels=WEIGHT_LABELS,
        form=form or {}, model=durability_models.current(session),
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
    settings, refused = _settings(request.form)
    if refused:
        flash(_("Kies vaste gewichten of het geleerde model.") if "objective" in refused else
              _("Vul voor elk gewicht en de minimumscore een getal van 0 tot 100 in (of laat het "
                "veld leeg voor de standaard)."), "error")
        return _index(422, request.form)
    session = db_session()
    try:
        # Queued: the scheduler's executor solves it while the run page follows its stages.
        run = runs.start_run(session, scope=scope, settings=settings,
                             started_by=current_user.id, now=utcnow(),
                             organisation=staff_scope.scope().organisation)
    except ValidationFailed as error:
        session.rollback()
        for key in error.errors.values():
            flash(_("De gewichten mogen niet allemaal 0 zijn.") if key == "invalid_settings"
                  else problem(key), "error")
        return _index(422, request.form)
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
    comparison = runs.compare(session, run)
    named = {*comparison.gained, *comparison.lost, *comparison.changed}
    names = dict(session.execute(
        select(Resident.id, Resident.first_name + " " + Resident.last_name)
        .where(Resident.id.in_(named))).all()) if named else {}
    return render_template(
        "runs/show.html", run=run, reasons=reasons, reason_labels=UNMATCHED,
        counts=runs.proposal_counts(session, run.id), status_labels=STATUS_LABELS,
        stage_labels=STAGE_LABELS, stage_order=runs.STAGES,
        queued_long=run.stage == "queued" and utcnow() - run.started_at > QUEUED_LONG,
        target_groups=labels.TARGET_GROUPS, comparison=comparison, names=names,
        weights=_run_weights(run), weight_labels=WEIGHT_LABELS, number=explanations.number,
        model=session.get(DurabilityModel, run.model_id) if run.model_id else None,
    )


def _run_weights(run: MatchRun) -> dict[str, float]:
    """The weights that applied: with the learned model only the waiting weight is ours."""
    if run.settings.get("objective") == "durability":
        return {**MODEL_WEIGHTS, **(run.settings.get("weights") or {})}
    return {**DEFAULT_WEIGHTS, **(run.settings.get("weights") or {})}

