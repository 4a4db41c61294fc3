"""The page logic volunteers and residents share: list, create, edit, detail, export, erase, merge."""
from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug import Response

from matching.errors import Conflict, ValidationFailed
from matching.services import consents, group_activities, privacy, profiles, referrals, routing
from matching.services.profiles import Kind
from matching.store import utcnow

from . import labels, staff_scope
from .db import db_session
from .edge import whole_number
from .explanations import number
from .matchlabels import slot_label
from .placing import geocoder
from .profile_forms import editable_fields, form_data, profile_values, submitted_values, tags
from .profile_lists import filters_of, page

EDIT_ROLES = ("coordinator", "admin")
BLUEPRINTS = {"volunteer": "volunteers", "resident": "residents"}


def coordinators_only() -> None:
    """Analysts see no names or notes: these pages are for coordinators and admins only."""
    if current_user.role not in EDIT_ROLES:
        abort(403)


def actor() -> str:
    return f"staff:{current_user.id}"


def _form_input(kind: Kind) -> dict[str, Any]:
    data = form_data(request.form, editable_fields(kind))
    # Empty manual coordinates mean "locate by postcode", not "clear the location".
    if not (data.get("manual_lat") or "").strip() and not (data.get("manual_lon") or "").strip():
        data.pop("manual_lat", None)
        data.pop("manual_lon", None)
    return data


def _context(kind: Kind, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "tags": tags(db_session()), "labels": labels, **extra}


def list_page(kind: Kind) -> str:
    today = profiles.local_date(utcnow())
    result = page(db_session(), kind, request.args, today)
    return render_template(f"{BLUEPRINTS[kind]}/list.html", **_context(
        kind, page=result, args=request.args.to_dict(), today=today,
        filters=filters_of(request.args)))


def create_page(kind: Kind) -> Response | str | tuple[str, int]:
    session = db_session()
    initial = "new" if kind == "volunteer" else "referred"
    if request.method == "GET":
        return render_template(f"{BLUEPRINTS[kind]}/form.html", **_context(
            kind, values={"status": initial}, errors={}, duplicates=[], profile=None))
    data = _form_input(kind)
    status = request.form.get("status", initial)
    errors: dict[str, str] = {}
    duplicates: list[Any] = []
    try:
        if "save_anyway" not in request.form:
            duplicates = profiles.find_duplicates(session, kind, data)
        if not duplicates:
            # A partner's coordinator records its own people; the host's go to the shared pool.
            organisation = staff_scope.scope().organisation
            if kind == "volunteer":
                profile: Any = profiles.create_volunteer(session, data, actor=actor(), now=utcnow(),
                                                         status=status, geocoder=geocoder(),
                                                         partner_organisation=organisation)
            else:
                profile = profiles.create_resident(session, data, actor=actor(), now=utcnow(),
                                                   status=status, geocoder=geocoder(),
                                                   organisation=organisation)
            session.commit()
            flash(_("Het profiel is opgeslagen."), "info")
            return redirect(url_for(f"{BLUEPRINTS[kind]}.detail", id=profile.id))
    except ValidationFailed as failure:
        session.rollback()
        errors = labels.error_messages(failure.errors)
    values = {**submitted_values(request.form, kind), "status": status}
    return render_template(f"{BLUEPRINTS[kind]}/form.html", **_context(
        kind, values=values, errors=errors, duplicates=duplicates, profile=None,
    )), 422 if errors else 200


def edit_page(kind: Kind, id: str) -> Response | str | tuple[str, int]:
    session = db_session()
    profile = profiles.get_profile(session, kind, id)
    if request.method == "GET":
        return render_template(f"{BLUEPRINTS[kind]}/form.html", **_context(
            kind, values=profile_values(profile, kind), errors={}, duplicates=[], profile=profile))
    version = request.form.get("version", "")
    update = profiles.update_volunteer if kind == "volunteer" else profiles.update_resident
    errors: dict[str, str] = {}
    status = 422
    try:
        update(session, id, _form_input(kind), expected_version=whole_number(version) or -1,
               actor=actor(), now=utcnow(), geocoder=geocoder())
        session.commit()
        flash(_("De wijzigingen zijn opgeslagen."), "info")
        return redirect(url_for(f"{BLUEPRINTS[kind]}.detail", id=id))
    except ValidationFailed as failure:
        errors = labels.error_messages(failure.errors)
    except Conflict:
        status = 409
        errors = {"version": _("Iemand anders heeft dit profiel intussen gewijzigd. Uw invoer staat "
                               "hieronder nog; open het profiel opnieuw om de nieuwe versie te zien.")}
    session.rollback()
    profile = profiles.get_profile(session, kind, id)
    return render_template(f"{BLUEPRINTS[kind]}/form.html", **_context(
        kind, values=submitted_values(request.form, kind), errors=errors, duplicates=[],
        profile=profile,
    )), status


def detail_page(kind: Kind, id: str) -> str:
    session = db_session()
    now = utcnow()
    profile = profiles.view_profile(session, kind, id, actor=actor(), now=now)
    session.commit()
    duplicates = profiles.find_duplicates(session, kind, profile_values(profile, kind),
                                          exclude_id=id)
    given = {purpose: consents.current(session, kind, id, purpose)
             for purpose in ("profile", "referral", "health_note", "contact", "referrer_updates")}
    return render_template(f"{BLUEPRINTS[kind]}/detail.html", **_context(
        kind, profile=profile, duplicates=duplicates, consents=given,
        today=profiles.local_date(now),
        organisations=routing.organisations(session) if kind == "resident" else [],
        referral_notes=referrals.notes_for(session, id) if kind == "resident" else [],
        activity_fits=group_activities.rank(session, [profile])[id]
        if kind == "resident" and profile.status == "waiting" else [],
        activity_suggestions=group_activities.suggestions_of(session, id) if kind == "resident" else [],
        activity_names=group_activities.names(session) if kind == "resident" else {},
        suggestion_labels=labels.SUGGESTION_STATUSES, slot_label=slot_label, number=number))


def export_download(kind: Kind, id: str) -> Response:
    session = db_session()
    data = privacy.export_person(session, kind, id)
    session.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{kind}-{id}.json"'})


def withdraw_consent(kind: Kind, id: str) -> Response:
    """Record that the person withdrew a consent (a health note goes with its consent)."""
    session = db_session()
    purpose = request.form.get("purpose", "")
    try:
        consents.withdraw(session, kind, id, purpose, actor=actor(), now=utcnow())
    except (ValidationFailed, Conflict):
        session.rollback()
        flash(_("Deze toestemming was niet (meer) gegeven."), "error")
        return redirect(url_for(f"{BLUEPRINTS[kind]}.detail", id=id))
    session.commit()
    if purpose in ("profile", "referral"):
        flash(_("De toestemming is ingetrokken. Wis nu de persoonsgegevens (onderaan deze "
                "pagina), tenzij er een andere grondslag is om ze te bewaren."), "info")
    else:
        flash(_("De toestemming is ingetrokken."), "info")
    return redirect(url_for(f"{BLUEPRINTS[kind]}.detail", id=id))


def erase(kind: Kind, id: str) -> Response:
    session = db_session()
    if request.form.get("confirm") != "yes":
        flash(_("Vink aan dat u deze persoon definitief wilt wissen."), "error")
        return redirect(url_for(f"{BLUEPRINTS[kind]}.detail", id=id))
    privacy.erase_person(session, kind, id, actor=actor(), now=utcnow())
    session.commit()
    flash(_("De persoonsgegevens zijn gewist."), "info")
    return redirect(url_for(f"{BLUEPRINTS[kind]}.index"))


def merge_page(kind: Kind, id: str) -> Response | str:
    session = db_session()
    other_id = request.values.get("met", "")
    profile = profiles.get_profile(session, kind, id)
    other = profiles.get_profile(session, kind, other_id)
    if request.method == "POST":
        keep = request.form.get("keep", "")
        if keep not in (id, other_id):
            flash(_("Kies welk profiel u wilt bewaren."), "error")
        else:
            drop = other_id if keep == id else id
            merge = profiles.merge_volunteers if kind == "volunteer" else profiles.merge_residents
            try:
                merge(session, keep, drop, actor=actor(), now=utcnow())
            except Conflict:
                session.rollback()
                flash(_("Samenvoegen kan niet: beide profielen hebben een lopende koppeling, of "
                        "de capaciteit is te klein."), "error")
            else:
                session.commit()
                flash(_("De profielen zijn samengevoegd."), "info")
                return redirect(url_for(f"{BLUEPRINTS[kind]}.detail", id=keep))
    return render_template("profiles/merge.html", **_context(kind, profile=profile, other=other))


def transition(kind: Kind, id: str, action: Any, *args: Any) -> Response:
    """Run a lifecycle service, commit, and say in Dutch what happened or why it could not."""
    session = db_session()
    try:
        action(session, id, *args, actor=actor(), now=utcnow())
    except ValidationFailed as failure:
        session.rollback()
        for message in labels.error_messages(failure.errors).values():
            flash(message, "error")
    except Conflict:
        session.rollback()
        flash(_("Dit kan niet in de huidige status, of er loopt nog een koppeling."), "error")
    else:
        session.commit()
        flash(_("De status is bijgewerkt."), "info")
    return redirect(url_for(f"{BLUEPRINTS[kind]}.detail", id=id))
