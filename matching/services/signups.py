"""Public forms: a volunteer's own sign-up (with a confirmation e-mail) and a professional's referral."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.errors import InvalidLink, ValidationFailed
from matching.store import Link, OutboxMessage, Resident, Volunteer

from . import consents, links, mail, profiles, submissions
from .audit import record
from .geocoding import Geocoder

PURPOSE = "verify_email"
LINK_TTL = timedelta(days=14)


@dataclass(frozen=True)
class ConfirmationText:
    """The mail's wording in the volunteer's language; the caller translates it."""

    subject: str
    lines: Sequence[str]
    link_label: str


def send_confirmation(
    session: Session, volunteer: Volunteer, *, text: ConfirmationText, link_url: str,
    locale: str, secret: str, now: datetime, renewal_of: str | None = None,
) -> str | None:
    """Queue the confirmation mail (once per volunteer); returns the link token, None without e-mail.

    link_url holds "{token}" where the token goes. renewal_of names the expired link this mail
    replaces: one renewal per expired link, so a replayed request sends no second mail.
    """
    if not volunteer.email:
        return None
    dedupe_key = f"{PURPOSE}:{volunteer.id}" + (f":{renewal_of}" if renewal_of else "")
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    token = links.issue(session, purpose=PURPOSE, subject=("volunteer", volunteer.id),
                        person=("volunteer", volunteer.id), now=now, ttl=LINK_TTL, secret=secret)
    queued = mail.enqueue(
        session, dedupe_key=dedupe_key, to=(volunteer.full_name, volunteer.email),
        template="notice", locale=locale, subject_kind="volunteer", subject_id=volunteer.id, now=now,
        context={"name": volunteer.first_name, "subject": text.subject, "lines": list(text.lines),
                 "link": link_url.replace("{token}", token), "link_label": text.link_label},
    )
    return token if queued is not None else None


def _version(text_version: str) -> str:
    # The version the person was shown, when it is a known one; otherwise the current text.
    return text_version if text_version in consents.CONSENT_TEXTS else consents.CURRENT_VERSION


def sign_up(
    session: Session, data: Mapping[str, Any], *, consented: bool, text_version: str,
    text: ConfirmationText, link_url: str, locale: str, secret: str, now: datetime,
    geocoder: Geocoder | None = None,
) -> Volunteer | None:
    """A new volunteer (status "new", source "signup") with their consent and a confirmation mail.

    Without consent nothing is stored: ValidationFailed names "consent" next to any field errors.
    The same form posted again within a day stores and sends nothing: None.
    """
    missing = {} if consented else {"consent": "required"}
    taken = submissions.claim(session, "signup", {**data, "consent": consented},
                              secret=secret, now=now)
    if taken is None:
        return None
    try:
        volunteer = profiles.create_volunteer(session, data, actor="public:signup", now=now,
                                              source="signup", status="new", geocoder=geocoder)
    except ValidationFailed as failure:
        raise ValidationFailed({**failure.errors, **missing}) from None
    if missing:
        raise ValidationFailed(missing)
    consents.give(session, "volunteer", volunteer.id, "profile", _version(text_version), "signup",
                  now)
    taken.subject_id = volunteer.id
    send_confirmation(session, volunteer, text=text, link_url=link_url, locale=locale,
                      secret=secret, now=now)
    return volunteer


def refer(
    session: Session, data: Mapping[str, Any], *, agreed: bool, text_version: str, secret: str,
    now: datetime, geocoder: Geocoder | None = None,
) -> Resident | None:
    """A referred resident with the referral consent the referrer confirmed on their behalf.

    The same form posted again within a day stores nothing: None.
    """
    missing = {} if agreed else {"agreed": "required"}
    taken = submissions.claim(session, "referral", {**data, "agreed": agreed}, secret=secret,
                              now=now)
    if taken is None:
        return None
    try:
        resident = profiles.create_resident(session, data, actor="public:referral", now=now,
                                            referral=True, geocoder=geocoder, route=True)
    except ValidationFailed as failure:
        raise ValidationFailed({**failure.errors, **missing}) from None
    if missing:
        raise ValidationFailed(missing)
    consents.give(session, "resident", resident.id, "referral", _version(text_version), "referrer",
                  now)
    taken.subject_id = resident.id
    return resident


def renew(
    session: Session, token: str, *, text: ConfirmationText, link_url: str, locale: str,
    secret: str, now: datetime,
) -> bool:
    """Mail a fresh link in place of an expired one; False when there is nothing to send.

    Only an expired (so once genuine) token qualifies; a forged or unknown one raises InvalidLink.
    """
    try:
        links.read(session, token, purpose=PURPOSE, now=now, secret=secret)
    except InvalidLink as error:
        if error.reason != "expired" or error.link_id is None:
            raise
        expired = session.get(Link, error.link_id)
    else:
        return False  # still valid: the mail already sent works
    volunteer = session.get(Volunteer, expired.subject_id) if expired is not None else None
    if volunteer is None or volunteer.email_verified_at is not None:
        return False
    return send_confirmation(session, volunteer, text=text, link_url=link_url, locale=locale,
                             secret=secret, now=now, renewal_of=expired.id) is not None


def check_link(session: Session, token: str, *, secret: str, now: datetime) -> None:
    """Raise InvalidLink unless the token is a usable confirmation link (reading changes nothing)."""
    links.read(session, token, purpose=PURPOSE, now=now, secret=secret)


def verify_email(session: Session, token: str, *, secret: str, now: datetime) -> bool:
    """Mark the volunteer's address as confirmed; True the first time, False on a repeat."""
    link = links.read(session, token, purpose=PURPOSE, now=now, secret=secret)
    volunteer = session.get(Volunteer, link.subject_id)
    if volunteer is None:
        raise InvalidLink("unknown")
    links.use(session, link, "verified", now)
    if volunteer.email_verified_at is not None:
        return False
    volunteer.email_verified_at = now
    session.flush()
    record(session, actor=f"volunteer:{volunteer.id}", action="volunteer.email_verified",
           subject=("volunteer", volunteer.id), fields=["email_verified_at"], now=now)
    session.flush()
    return True
