"""A volunteer's own sign-up: the confirmation e-mail with a signed link, and verifying it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from matching.errors import InvalidLink
from matching.store import Volunteer

from . import links, mail
from .audit import record

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
    locale: str, secret: str, now: datetime,
) -> str | None:
    """Queue the confirmation mail (once per volunteer); returns the link token, None without e-mail.

    link_url holds "{token}" where the token goes.
    """
    if not volunteer.email:
        return None
    token = links.issue(session, purpose=PURPOSE, subject=("volunteer", volunteer.id),
                        person=("volunteer", volunteer.id), now=now, ttl=LINK_TTL, secret=secret)
    mail.enqueue(
        session, dedupe_key=f"{PURPOSE}:{volunteer.id}", to=(volunteer.full_name, volunteer.email),
        template="notice", locale=locale, subject_kind="volunteer", subject_id=volunteer.id, now=now,
        context={"name": volunteer.first_name, "subject": text.subject, "lines": list(text.lines),
                 "link": link_url.replace("{token}", token), "link_label": text.link_label},
    )
    return token


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
