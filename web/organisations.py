"""Admins keep the network's partner organisations, whether they share their pool, and the rules
that route referrals to them."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug import Response

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.services import routing
from matching.store import TARGET_GROUPS, utcnow

from . import labels, staff_scope
from .auth import roles_required
from .db import db_session

bp = Blueprint("organisations", __name__, url_prefix="/beheer/organisaties")
bp.before_request(staff_scope.host_only)


def _done(message: str) -> Response:
    db_session().commit()
    flash(message, "info")
    return redirect(url_for("organisations.index"), code=303)


def _refused(message: str) -> Response:
    db_session().rollback()
    flash(message, "error")
    return redirect(url_for("organisations.index"), code=303)


@bp.get("")
@roles_required("admin")
def index() -> str:
    session = db_session()
    return render_template("organisations/index.html", organisations=routing.organisations(session),
                           rules=routing.rules(session), target_groups={g: labels.TARGET_GROUPS[g] for g in TARGET_GROUPS})


@bp.post("")
@roles_required("admin")
def add() -> Response:
    try:
        routing.add_organisation(db_session(), request.form.get("name", ""),
                                 shares_pool=request.form.get("shares_pool") == "yes",
                                 actor=current_user.id, now=utcnow())
    except ValidationFailed:
        return _refused(_("Vul een naam in van hoogstens 60 tekens."))
    except Conflict:
        return _refused(_("Deze organisatie bestaat al."))
    return _done(_("De organisatie is toegevoegd."))


@bp.post("/<path:name>/delen")
@roles_required("admin")
def sharing(name: str) -> Response:
    try:
        routing.set_sharing(db_session(), name, request.form.get("shares_pool") == "yes",
                            actor=current_user.id, now=utcnow())
    except NotFound:
        return _refused(_("Deze organisatie bestaat niet."))
    return _done(_("De instelling is opgeslagen."))


@bp.post("/regels")
@roles_required("admin")
def add_rule() -> Response:
    try:
        routing.add_rule(db_session(), organisation=request.form.get("organisation", ""),
                         target_group=request.form.get("target_group") or None,
                         neighbourhood=request.form.get("neighbourhood") or None,
                         actor=current_user.id, now=utcnow())
    except ValidationFailed:
        return _refused(_("Kies een organisatie en een doelgroep en/of wijk."))
    return _done(_("De verdeelregel is toegevoegd."))


@bp.post("/regels/<rule_id>/verwijderen")
@roles_required("admin")
def remove_rule(rule_id: str) -> Response:
    try:
        routing.remove_rule(db_session(), rule_id, actor=current_user.id, now=utcnow())
    except NotFound:
        return _refused(_("Deze verdeelregel bestaat niet (meer)."))
    return _done(_("De verdeelregel is verwijderd."))
