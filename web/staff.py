"""Staff management for admins: list accounts, create one, disable or enable it."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from matching.errors import Conflict, ValidationFailed
from matching.services import routing
from matching.services import staff as staff_service

from .auth import hash_profile, roles_required
from . import staff_scope
from .db import db_session

bp = Blueprint("staff", __name__, url_prefix="/beheer/medewerkers")
bp.before_request(staff_scope.host_only)

ROLE_LABELS = {
    "coordinator": _l("Coördinator"),
    "admin": _l("Beheerder"),
    "analyst": _l("Analist (alleen lezen)"),
}
PROBLEMS = {
    "invalid_name": _l("Vul een naam in van hoogstens 120 tekens."),
    "invalid_email": _l("Vul een geldig e-mailadres in."),
    "unknown_role": _l("Kies een bestaande rol."),
    "too_short": _l("Het wachtwoord moet minstens 12 tekens lang zijn."),
    "too_common": _l("Dit wachtwoord is te gangbaar; kies een ander."),
    "exists": _l("Er bestaat al een medewerker met dit e-mailadres."),
    "unknown_organisation": _l("Kies een bestaande organisatie; alleen coördinatoren horen bij een partner."),
    "too_personal": _l("Het wachtwoord lijkt te veel op uw naam of e-mailadres: het mag die niet "
                       "bevatten."),
}


class StaffForm(FlaskForm):
    name = StringField(_l("Naam"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mailadres"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(
        _l("Rol"), choices=[SelectChoice(role, label) for role, label in ROLE_LABELS.items()]
    )
    organisation = SelectField(_l("Organisatie"), choices=[], validate_choice=False)
    password = PasswordField(
        _l("Tijdelijk wachtwoord"), validators=[DataRequired(), Length(max=200)]
    )


def _form() -> StaffForm:
    form = StaffForm()
    form.organisation.choices = [SelectChoice("", _("Vrijwilligers Centrale Utrecht (alles)"))] + [
        SelectChoice(o.name, o.name) for o in routing.organisations(db_session())]
    return form


def _page(form: StaffForm, status: int = 200) -> tuple[str, int]:
    users = staff_service.list_users(db_session())
    return render_template(
        "staff/index.html", form=form, users=users, role_labels=ROLE_LABELS
    ), status


@bp.get("")
@roles_required("admin")
def index() -> tuple[str, int]:
    return _page(_form())


@bp.post("")
@roles_required("admin")
def create() -> Response | tuple[str, int]:
    form = _form()
    if not form.validate_on_submit():
        return _page(form, 422)
    db = db_session()
    try:
        staff_service.create_user(
            db, email=form.email.data or "", name=form.name.data or "", role=form.role.data or "",
            password=form.password.data or "", profile=hash_profile(), actor=current_user.id,
            organisation=form.organisation.data or None,
        )
    except ValidationFailed as error:
        for field, key in error.errors.items():
            getattr(form, field).errors = [PROBLEMS.get(key, key)]
        return _page(form, 422)
    except Conflict:
        form.email.errors = [str(PROBLEMS["exists"])]
        return _page(form, 409)
    db.commit()
    flash(_("Medewerker aangemaakt."), "info")
    return redirect(url_for("staff.index"))


@bp.post("/<user_id>/actief")
@roles_required("admin")
def set_active(user_id: str) -> Response:
    db = db_session()
    user = staff_service.get_user(db, user_id)
    active = request.form.get("active") == "1"
    staff_service.set_active(db, user, active, actor=current_user.id)
    db.commit()
    flash(_("Account ingeschakeld.") if active else _("Account uitgeschakeld."), "info")
    return redirect(url_for("staff.index"))
