"""Staff login: Flask-Login with a server-side session token, lockout and per-IP limits."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from matching.services import staff as staff_service
from matching.services.passwords import HashProfile
from matching.store import StaffUser, utcnow

from .db import db_session
from .security import limiter

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
F = TypeVar("F", bound=Callable[..., Any])

# Endpoints reachable without a staff login; everything else is refused.
# "api.*" endpoints authenticate with bearer tokens instead (web/api/tokens.py); the API's
# OpenAPI document is public.
PUBLIC_ENDPOINTS = {
    "auth.login", "static", "home.healthz", "i18n.switch", "api-docs.openapi_json",
    # Pages opened from e-mailed links: the signed, once-only token is the credential.
    "links.show", "links.decide", "links.renew",
    "check_ins.show", "check_ins.submit", "check_ins.renew",
    "referral_status.show", "referral_status.note", "referral_status.renew",
    "replies.available", "replies.answer_available", "replies.exit_question", "replies.answer_exit",
    "privacy.statement",
}


class Staff(UserMixin):
    """The logged-in staff member as Flask-Login sees it."""

    def __init__(self, user: StaffUser) -> None:
        self.user = user
        self.id = user.id
        self.role = user.role
        self.name = user.name
        # A partner organisation's coordinator (web/staff_scope.py); None: the host's staff.
        self.organisation = user.organisation

    def get_id(self) -> str:
        # The session cookie carries id + token; rotating the token ends every session.
        return f"{self.user.id}:{self.user.session_token}"


def hash_profile() -> HashProfile:
    c = current_app.config
    return HashProfile(c["ARGON2_TIME_COST"], c["ARGON2_MEMORY_COST"], c["ARGON2_PARALLELISM"])


def _load(cookie_id: str) -> Staff | None:
    user_id, _sep, token = cookie_id.partition(":")
    user = db_session().get(StaffUser, user_id)
    if user is None or not user.active or not token or user.session_token != token:
        return None
    return Staff(user)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Refuse the view (403) unless the logged-in staff member has one of these roles."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mailadres"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Wachtwoord"), validators=[DataRequired(), Length(max=200)])


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _failed(response: Response) -> bool:
    """Only refused attempts count towards the per-address limit."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT"], key_func=_client_address, methods=["POST"],
    deduct_when=_failed,
)
def login() -> Response | str:
    form = LoginForm()
    if form.validate_on_submit():
        db = db_session()
        c = current_app.config
        user = staff_service.authenticate(
            db, form.email.data or "", form.password.data or "", now=utcnow(),
            profile=hash_profile(), lockout_attempts=c["LOGIN_LOCKOUT_ATTEMPTS"],
            lockout=timedelta(minutes=c["LOGIN_LOCKOUT_MINUTES"]),
        )
        db.commit()
        if user is not None:
            session.clear()  # nothing from before the login carries over into the staff session
            login_user(Staff(user))
            return redirect(url_for("home.index"))
        flash(
            _("Onbekend e-mailadres of verkeerd wachtwoord, of het account is geblokkeerd."),
            "error",
        )
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    db = db_session()
    user = db.get(StaffUser, current_user.id)
    if user is not None:
        staff_service.end_sessions(db, user, action="logout", now=utcnow())
        db.commit()
    logout_user()
    session.clear()
    flash(_("U bent uitgelogd."), "info")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(_load)
    login_manager.login_view = "auth.login"
    login_manager.login_message = ""
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)

    @app.before_request
    def require_login() -> Response | None:
        endpoint = request.endpoint or ""
        if endpoint in PUBLIC_ENDPOINTS or endpoint.startswith(("public.", "api.")):
            return None
        if request.routing_exception is not None and request.path.startswith("/api/"):
            return None  # an unknown API path or method: its 404/405 problem, not the login page
        if not current_user.is_authenticated:
            return login_manager.unauthorized()  # type: ignore[no-any-return]
        return None
