"""The network's group activities (staff keep them current; partners through the API too)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug import Response

from matching.errors import NotFound, ValidationFailed
from matching.services import group_activities
from matching.store import TARGET_GROUPS, utcnow

from . import labels, staff_scope
from .auth import roles_required
from .db import db_session
from .matchlabels import slot_label
from .placing import geocoder
from .profile_forms import tags
from .profile_pages import actor

bp = Blueprint("group_activities", __name__, url_prefix="/activiteiten")
FIELDS = ("name", "organiser", "address", "postcode", "neighbourhood", "cost", "contact", "description")


def _form() -> dict[str, Any]:
    data: dict[str, Any] = {name: request.form.get(name, "") for name in FIELDS}
    data["availability"] = request.form.getlist("availability")
    data["interests"] = request.form.getlist("interests")
    data["target_groups"] = request.form.getlist("target_groups")
    data["wheelchair"] = "wheelchair" in request.form
    return data


def _page(values: dict[str, Any], errors: dict[str, str], activity: Any = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "group_activities/form.html", values=values, errors=labels.error_messages(errors), activity=activity,
        tags=tags(db_session()), labels=labels, target_groups={g: labels.TARGET_GROUPS[g] for g in TARGET_GROUPS},
    ), status


@bp.get("/")
@roles_required("coordinator", "admin")
def index() -> str:
    return render_template("group_activities/index.html",
                           activities=group_activities.listing(db_session(), only_active=False),
                           slot_label=slot_label)


@bp.route("/nieuw", methods=["GET", "POST"])
@roles_required("coordinator", "admin")
def new() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _page({"availability": [], "interests": [], "target_groups": []}, {})
    session = db_session()
    try:
        group_activities.save(session, _form(), organisation=staff_scope.scope().organisation,
                              actor=actor(), now=utcnow(), geocoder=geocoder())
    except ValidationFailed as failure:
        session.rollback()
        return _page(_form(), failure.errors, status=422)
    session.commit()
    flash(_("De activiteit is opgeslagen."), "info")
    return redirect(url_for("group_activities.index"), code=303)


@bp.route("/<activity_id>/bewerken", methods=["GET", "POST"])
@roles_required("coordinator", "admin")
def edit(activity_id: str) -> Response | tuple[str, int]:
    session = db_session()
    try:
        activity = group_activities.get(session, activity_id, staff_scope.scope())
    except NotFound:
        abort(404)
    if request.method == "GET":
        values = {name: getattr(activity, name) or "" for name in FIELDS}
        values.update(availability=activity.availability, interests=activity.interests,
                      target_groups=activity.target_groups, wheelchair=activity.wheelchair)
        return _page(values, {}, activity)
    try:
        group_activities.save(session, _form(), activity_id=activity_id, scope=staff_scope.scope(),
                              actor=actor(), now=utcnow(), geocoder=geocoder())
    except ValidationFailed as failure:
        session.rollback()
        return _page(_form(), failure.errors, activity, 422)
    session.commit()
    flash(_("De activiteit is opgeslagen."), "info")
    return redirect(url_for("group_activities.index"), code=303)


@bp.post("/<activity_id>/actief")
@roles_required("coordinator", "admin")
def set_active(activity_id: str) -> Response:
    session = db_session()
    try:
        group_activities.set_active(session, activity_id, request.form.get("active") == "1",
                                    scope=staff_scope.scope(), actor=actor(), now=utcnow())
    except NotFound:
        abort(404)
    session.commit()
    return redirect(url_for("group_activities.index"), code=303)
