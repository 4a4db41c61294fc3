"""Volunteers who have been inactive for six months get one friendly 'still available?' e-mail.

Inactive: no open match, status available, paused or stopped (never an erased profile), and
the last sign of activity (last_active_at, else stopped_at, else registered_at) more than
INACTIVE_MONTHS ago. One e-mail per inactive spell: none while a still-available link issued
after that last activity exists. "Yes" makes them available again and counts them as
returning; "no" is recorded and nothing else happens.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from matching.errors import InvalidLink, ValidationFailed
from matching.store import Link, Volunteer

from . import links, mail, profiles
from .audit import record
from .reviews import add_months

INACTIVE_MONTHS = 6
PURPOSE = "still_available"
CHOICES = ("yes", "no")


def _locale(languages: list[str] | None) -> str:
    return "nl" if not languages or "nl" in languages else "en"


def inactive_since(now: datetime) -> datetime:
    """The moment before which a volunteer counts as inactive."""
    local = now.astimezone(profiles.LOCAL_TIME)
    earlier = add_months(local.date(), -INACTIVE_MONTHS)
    return now - (local.date() - earlier)


def invite_inactive(
    session: Session, *, now: datetime, base_url: str, secret: str, link_days: int = 30
) -> int:
    """Send the 'still available?' e-mail to each inactive volunteer not asked yet; how many."""
    activity = func.coalesce(Volunteer.last_active_at, Volunteer.stopped_at,
                             Volunteer.registered_at)
    asked = exists().where(
        Link.purpose == PURPOSE, Link.person_kind == "volunteer", Link.person_id == Volunteer.id,
        Link.created_at >= activity,
    )
    volunteers = session.scalars(
        select(Volunteer).where(
            Volunteer.status.in_(("available", "paused", "stopped")),
            Volunteer.open_matches == 0, Volunteer.email.is_not(None),
            or_(Volunteer.stop_reason.is_(None), Volunteer.stop_reason != profiles.ERASED),
            activity < inactive_since(now), ~asked,
        ).order_by(Volunteer.id)
    ).all()
    ttl = timedelta(days=link_days)
    for volunteer in volunteers:
        token = links.issue(session, purpose=PURPOSE, subject=("volunteer", volunteer.id),
                            person=("volunteer", volunteer.id), now=now, ttl=ttl, secret=secret)
        mail.enqueue(
            session, dedupe_key=f"still_available:{volunteer.id}:{now.date().isoformat()}",
            to=(volunteer.full_name, volunteer.email), template="still_available",
            locale=_locale(volunteer.languages),
            context={"name": volunteer.first_name,
                     "link": f"{base_url.rstrip('/')}/nog-beschikbaar/{token}"},
            subject_kind="volunteer", subject_id=volunteer.id, now=now,
        )
    return len(volunteers)


def open_link(session: Session, token: str, *, now: datetime, secret: str) -> Link:
    """The still-available link, for showing the question (changes nothing)."""
    link = links.read(session, token, purpose=PURPOSE, now=now, secret=secret)
    if link.person_kind != "volunteer" or session.get(Volunteer, link.person_id) is None:
        raise InvalidLink("unknown")
    return link


def answer(session: Session, link: Link, choice: str, *, now: datetime) -> links.Outcome:
    """Record yes or no once; a yes makes the volunteer available and returning."""
    if choice not in CHOICES:
        raise ValidationFailed({"choice": "invalid_choice"})
    outcome = links.use(session, link, choice, now)
    if outcome.recorded and choice == "yes":
        volunteer = profiles.get_profile(session, "volunteer", link.person_id)
        if volunteer.status != "available":
            profiles.reactivate(session, volunteer.id, actor=None, now=now)
        volunteer.is_returning, volunteer.returned_at, volunteer.last_active_at = True, now, now
        session.flush()
        record(session, actor=None, action="volunteer.still_available",
               subject=("volunteer", volunteer.id), fields=["is_returning", "status"], now=now)
    return outcome


