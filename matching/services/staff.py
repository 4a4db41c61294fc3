"""Staff accounts: creation, login with lockout, ending sessions."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.store import ROLES, Match, Organisation, StaffUser
from matching.store.staff import new_session_token

from . import mail
from .audit import record
from .passwords import HashProfile, hash_password, password_problem, verify_password

# A hash to verify against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH: dict[HashProfile, str] = {}


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    profile: HashProfile,
    actor: str | None = None,
    organisation: str | None = None,
) -> StaffUser:
    """A new account; organisation: a partner's coordinator, who sees only that organisation's
    people (None: the host's staff). Admins and analysts belong to the host."""
    email = email.strip().lower()
    errors: dict[str, str] = {}
    organisation = organisation or None
    if organisation is not None and (role != "coordinator" or session.get(Organisation, organisation) is None):
        errors["organisation"] = "unknown_organisation"
    if not name.strip() or len(name) > 120:
        errors["name"] = "invalid_name"
    if role not in ROLES:
        errors["role"] = "unknown_role"
    try:
        # The mailer's own rule: a staff address it would refuse could never get a notice.
        mail.recipient(email)
    except ValidationFailed:
        errors["email"] = "invalid_email"
    if problem := password_problem(password, email=email, name=name):
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)):
        raise Conflict("a staff user with this e-mail exists", field="email")
    user = StaffUser(
        email=email, name=name.strip(), role=role, password_hash=hash_password(password, profile),
        organisation=organisation,
    )
    session.add(user)
    session.flush()
    record(session, actor=actor, action="staff.created", subject=("staff", user.id))
    return user


def list_users(session: Session) -> list[StaffUser]:
    query = select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.name)
    return list(session.scalars(query))


def get_user(session: Session, user_id: str) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound("staff user not found")
    return user


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    now: datetime,
    profile: HashProfile,
    lockout_attempts: int,
    lockout: timedelta,
) -> StaffUser | None:
    """The user when the password is right and the account is neither disabled nor locked."""
    user = session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    )
    if user is None:
        dummy = _DUMMY_HASH.setdefault(profile, hash_password("not-a-real-password", profile))
        verify_password(dummy, password, profile)
        record(session, actor=None, action="login.unknown_account", now=now)
        return None
    if user.locked_until and user.locked_until > now:
        record(session, actor=user.id, action="login.locked", now=now)
        return None
    if not verify_password(user.password_hash, password, profile) or not user.active:
        # Counted in SQL: parallel guesses must not overwrite each other's count.
        session.execute(
            update(StaffUser.__table__)
            .where(StaffUser.id == user.id)
            .values(failed_logins=StaffUser.failed_logins + 1)
        )
        session.refresh(user, ["failed_logins"])
        if user.failed_logins >= lockout_attempts:
            user.locked_until = now + lockout
            user.failed_logins = 0
        record(session, actor=user.id, action="login.failed", now=now)
        session.flush()
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record(session, actor=user.id, action="login.ok", now=now)
    session.flush()
    return user


def end_sessions(
    session: Session,
    user: StaffUser,
    *,
    action: str,
    actor: str | None = None,
    now: datetime | None = None,
) -> None:
    """Invalidate every session of this user: each cookie carries the old token."""
    user.session_token = new_session_token()
    record(
        session, actor=actor or user.id, action=action, subject=("staff", user.id), now=now
    )
    session.flush()


def set_password(
    session: Session,
    user: StaffUser,
    password: str,
    profile: HashProfile,
    *,
    actor: str | None = None,
) -> None:
    if problem := password_problem(password, email=user.email, name=user.name):
        raise ValidationFailed({"password": problem})
    user.password_hash = hash_password(password, profile)
    end_sessions(session, user, action="staff.password_changed", actor=actor)


def set_active(
    session: Session, user: StaffUser, active: bool, *, actor: str | None = None
) -> None:
    """Enable or disable an account; disabling ends its sessions at once."""
    if not active and actor == user.id:
        raise Conflict("you cannot disable your own account")
    user.active = active
    end_sessions(session, user, action="staff.enabled" if active else "staff.disabled", actor=actor)


def coordinator_address(session: Session, match: Match) -> tuple[str, str] | None:
    """Who approved the offer (name, e-mail), for notices about it."""
    if match.offered_by is None:
        return None
    staff = session.get(StaffUser, match.offered_by)
    if staff is None or not staff.email:
        return None
    return staff.name, staff.email
