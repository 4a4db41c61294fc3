""""Wat houdt koppelingen vast?": the learned durability model, shown honestly, and a refit by hand."""
from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug import Response

from matching.errors import Conflict
from matching.services import durability_models
from matching.services.profiles import local_date
from matching.store import utcnow

from . import staff_scope
from .auth import roles_required
from .charts import calibration_chart, forest_chart
from .db import db_session
from .explanations import FEATURE_LABELS, number

bp = Blueprint("durability", __name__, url_prefix="/analyse/duurzaamheid")

# Each effect is shown per a step people think in; months in steps of six.
STEPS = {"volunteer_commitment_months": 6.0, "resident_commitment_months": 6.0}
STEP_LABELS = {
    "shared_interests": _l("per gedeelde interesse"),
    "shared_activities": _l("per gedeelde activiteit"),
    "shared_slots": _l("per gedeeld moment in de week"),
    "distance_km": _l("per kilometer afstand"),
    "volunteer_commitment_months": _l("per 6 maanden die de vrijwilliger wil inzetten"),
    "resident_commitment_months": _l("per 6 maanden die de deelnemer wil"),
    "commitment_agree": _l("als beiden dezelfde duur willen"),
    "availability_slots": _l("per moment dat de minst beschikbare van de twee kan"),
}
FEW_ENDINGS = 100  # below this, effects are rough: the page says so


def _effects(terms: list[dict]) -> list[dict]:
    out = []
    for term in terms:
        step = STEPS.get(term["name"], 1.0)
        coef, se = term["coef"] * step, term["se"] * step
        out.append({
            "name": term["name"], "label": FEATURE_LABELS.get(term["name"], term["name"]),
            "step": STEP_LABELS.get(term["name"], ""),
            "ratio": math.exp(coef), "low": math.exp(coef - 1.959964 * se),
            "high": math.exp(coef + 1.959964 * se), "p": term["p"],
        })
    return out


@bp.get("/")
@roles_required("coordinator", "admin", "analyst")
def index() -> str:
    session = db_session()
    fits = durability_models.fits(session)
    model = fits[0] if fits else None
    effects = _effects(model.terms) if model else []
    return render_template(
        "durability/index.html", model=model, fits=fits, effects=effects,
        forest=forest_chart([(e["name"], e["ratio"], e["low"], e["high"]) for e in effects]) if model else None,
        calibration=calibration_chart(model.calibration) if model else None,
        changes=durability_models.changes(model, fits[1] if len(fits) > 1 else None) if model else [],
        few=model is not None and model.events < FEW_ENDINGS,
        uncertain=model is not None and model.c_low <= 0.5,
        labels=FEATURE_LABELS, number=number, percent=lambda v: format_percent(v, "#,##0%"),
    )


@bp.post("/opnieuw")
@roles_required("coordinator", "admin")
def refit() -> Response:
    staff_scope.host_only()  # the model is the network's: the host refits it
    session = db_session()
    now = utcnow()
    try:
        done = durability_models.refit(session, today=local_date(now), now=now, actor=current_user.id)
    except Conflict:
        session.rollback()
        flash(_("Er zijn nog te weinig beëindigde koppelingen om van te leren (minstens 30)."), "error")
        return redirect(url_for("durability.index"), code=303)
    session.commit()
    flash(_("Het model is opnieuw geleerd.") if done.created else
          _("Er zijn geen nieuwe gegevens sinds het vorige model; het model is niet veranderd."), "success")
    return redirect(url_for("durability.index"), code=303)
