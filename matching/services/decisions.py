"""The volunteer's answer through the link, reminders, expiry and the introduction meeting."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.errors import Conflict, InvalidLink, NotFound, ValidationFailed
from matching.services import audit, links, mail, pairing, profiles, proposals, staff
from matching.store import Interest, Link, Match

log = logging.getLogger("maatwerk.decisions")

CHOICES = ("accept", "decline")
REMIND_AFTER = timedelta(days=3)
EXPIRE_AFTER = proposals.OFFER_TTL
# The choice that stands for a match that left "offered".
_STANDING = {"accepted": "accept", "active": "accept", "declined": "decline"}


@dataclass(frozen=True)
class ProposalView:
    """What the volunteer may see of the proposal: no address, phone or notes."""

    volunteer_first_name: str
    first_name: str
    age_band: str | None
    neighbourhood: str | None
    shared_interests: list[str]
    shared_slots: list[int]
    distance_km: float | None
    state: str  # "open", "accept", "decline" (answered) or "closed"
    reason: str | None


@dataclass(frozen=True)
class Decision:
    result: str  # "recorded", "already_received", "conflict" or "closed"
    choice: str | None
    view: ProposalView


def age_band(birth_year: int | None, today: date) -> str | None:
    """'70-79' for a 75-year-old; None when the birth year is unknown."""
    if birth_year is None:
        return None
    low = (today.year - birth_year) // 10 * 10
    return f"{low}-{low + 9}"


def _linked(session: Session, token: str, *, now: datetime, secret: str) -> tuple[Link, Match]:
    link = links.read(session, token, purpose="proposal", now=now, secret=secret)
    match = session.get(Match, link.subject_id) if link.subject_kind == "match" else None
    # Bound to this proposal and this volunteer: a link for another person is unknown.
    if match is None or link.person_kind != "volunteer" or link.person_id != match.volunteer_id:
        log.warning("security.link_refused reason=mismatch purpose=proposal")
        raise InvalidLink("unknown")
    return link, match


def _state(match: Match) -> str:
    if match.status == "offered":
        return "open"
    return _STANDING.get(match.status, "closed")


def _view(session: Session, match: Match, locale: str, today: date) -> ProposalView:
    explanation = match.explanation or {}
    codes = explanation.get("shared_interests") or []
    labels = {
        term.code: term.label(locale)
        for term in session.scalars(select(Interest).where(Interest.code.in_(codes)))
    }
    resident = match.resident
    return ProposalView(
        volunteer_first_name=match.volunteer.first_name,
        first_name=resident.first_name,
        age_band=age_band(resident.birth_year, today),
        neighbourhood=resident.neighbourhood,
        shared_interests=[labels.get(code, code) for code in codes],
        shared_slots=list(explanation.get("shared_slots") or []),
        distance_km=match.distance_km,
        state=_state(match),
        reason=match.decline_reason if match.status == "declined" else None,
    )


def show(
    session: Session, token: str, *, now: datetime, secret: str, locale: str = "nl"
) -> ProposalView:
    """The proposal behind a link; reading it changes nothing."""
    _link, match = _linked(session, token, now=now, secret=secret)
    return _view(session, match, locale, profiles.local_date(now))


def decide(
    session: Session,
    token: str,
    choice: str,
    *,
    reason: str = "",
    now: datetime,
    secret: str,
    locale: str = "nl",
) -> Decision:
    """Record the volunteer's accept or decline once; repeats and later changes do nothing."""
    if choice not in CHOICES:
        raise ValidationFailed({"choice": "invalid_choice"})
    reason = (reason or "").strip()
    if len(reason) > proposals.REASON_MAX:
        raise ValidationFailed({"reason": "too_long"})
    link, match = _linked(session, token, now=now, secret=secret)
    if match.status != "offered":
        standing = _STANDING.get(match.status)
        result = "closed" if standing is None else (
            "already_received" if standing == choice else "conflict")
        return Decision(result, standing, _view(session, match, locale, profiles.local_date(now)))
    outcome = links.use(session, link, choice, now)
    if not outcome.recorded:
        return Decision(outcome.result, outcome.choice, _view(session, match, locale, profiles.local_date(now)))
    if choice == "accept":
        _accept(session, match, now)
    else:
        _decline(session, match, reason, now)
    return Decision("recorded", choice, _view(session, match, locale, profiles.local_date(now)))


def _accept(session: Session, match: Match, now: datetime) -> None:
    try:
        pairing.move(session, match.id, from_status="offered", to_status="accepted",
                     decided_at=now)
    except Conflict:
        raise Conflict("proposal_already_handled") from None
    volunteer, resident = match.volunteer, match.resident
    locale = proposals.volunteer_locale(volunteer)
    to = (volunteer.full_name, volunteer.email or "")
    context = {"name": volunteer.first_name, "resident": resident.first_name, "choice": "accept"}
    mail.enqueue(session, dedupe_key=f"decision:{match.id}", to=to, template="decision",
                 context=context, locale=locale, now=now, subject_kind="match",
                 subject_id=match.id)
    via_referrer = resident.contact_via_referrer and resident.referrer_name
    contact = {
        "name": volunteer.first_name,
        "resident": resident.full_name,
        "phone": (resident.referrer_phone if via_referrer else resident.phone) or "",
        "email": (resident.referrer_email if via_referrer else resident.email) or "",
        "address": " ".join(p for p in (resident.postcode, resident.house_number) if p),
        "referrer": resident.referrer_name if via_referrer else "",
        "organisation": resident.referrer_organisation if via_referrer else "",
    }
    mail.enqueue(session, dedupe_key=f"contact:{match.id}", to=to, template="contact",
                 context=contact, locale=locale, now=now, subject_kind="match",
                 subject_id=match.id)
    _notify_coordinator(session, match, "accepted", now)
    audit.record(session, actor=None, action="match.accepted", subject=("match", match.id),
                 now=now)


def _decline(session: Session, match: Match, reason: str, now: datetime) -> None:
    try:
        pairing.close_match(session, match, "declined", now)
    except Conflict:
        raise Conflict("proposal_already_handled") from None
    match.decline_reason = reason or None
    proposals.exclude(session, match.volunteer_id, match.resident_id,
                      reason="declined_by_volunteer", actor=None, now=now)
    profiles.set_resident_status(session, [match.resident_id], "waiting")
    volunteer = match.volunteer
    mail.enqueue(
        session, dedupe_key=f"decision:{match.id}", to=(volunteer.full_name, volunteer.email or ""),
        template="decision", locale=proposals.volunteer_locale(volunteer), now=now,
        context={"name": volunteer.first_name, "resident": match.resident.first_name,
                 "choice": "decline"},
        subject_kind="match", subject_id=match.id,
    )
    _notify_coordinator(session, match, "declined", now)
    session.flush()
    audit.record(session, actor=None, action="match.declined", subject=("match", match.id),
                 now=now)


def _notify_coordinator(session: Session, match: Match, event: str, now: datetime) -> None:
    address = staff.coordinator_address(session, match)
    if address is None:
        return
    mail.enqueue(
        session, dedupe_key=f"coordinator:{event}:{match.id}", to=address,
        template="coordinator", locale="nl", now=now, subject_kind="match", subject_id=match.id,
        context={"name": address[0], "event": event, "volunteer": match.volunteer.full_name,
                 "resident": match.resident.full_name},
    )


def renew(
    session: Session, token: str, *, now: datetime, secret: str, base_url: str
) -> str:
    """A fresh link for an expired one: "sent", "not_expired" or "closed" (nothing to answer)."""
    try:
        links.read(session, token, purpose="proposal", now=now, secret=secret)
    except InvalidLink as error:
        if error.reason != "expired" or error.link_id is None:
            raise
        link = session.get(Link, error.link_id)
    else:
        return "not_expired"
    match = session.get(Match, link.subject_id) if link is not None else None
    if match is None or link is None or link.person_id != match.volunteer_id:
        raise InvalidLink("unknown")
    if match.status != "offered":
        return "closed"
    # The offer starts over: a new week to answer, and a reminder again after three days.
    match = pairing.move(session, match.id, from_status="offered", to_status="offered",
                         offered_at=now, reminded_at=None)
    proposals.offer_mail(session, match, now=now, secret=secret, base_url=base_url,
                         template="proposal", dedupe=f"renewal:{link.id}",
                         expires_at=now + EXPIRE_AFTER)
    return "sent"


def remind_due(session: Session, *, now: datetime, secret: str, base_url: str) -> int:
    """One reminder, with a link valid until the offer expires, for offers unanswered 3 days."""
    due = list(session.scalars(
        select(Match).where(
            Match.status == "offered", Match.reminded_at.is_(None),
            Match.offered_at <= now - REMIND_AFTER, Match.offered_at > now - EXPIRE_AFTER,
        )
    ).unique())
    sent = 0
    for match in due:
        assert match.offered_at is not None
        try:
            with session.begin_nested():
                match = pairing.move(session, match.id, from_status="offered",
                                     to_status="offered", expected_version=match.version,
                                     reminded_at=now)
                proposals.offer_mail(
                    session, match, now=now, secret=secret, base_url=base_url,
                    template="reminder", dedupe=f"reminder:{match.id}",
                    expires_at=match.offered_at + EXPIRE_AFTER,
                )
        except (Conflict, ValidationFailed):
            continue
        sent += 1
    return sent


def expire_due(session: Session, *, now: datetime) -> int:
    """Offers unanswered for 7 days expire; the resident goes back to the waiting pool."""
    due = list(session.scalars(
        select(Match).where(Match.status == "offered", Match.offered_at <= now - EXPIRE_AFTER)
    ).unique())
    expired = 0
    for match in due:
        try:
            pairing.close_match(session, match, "expired", now)
        except Conflict:
            continue
        profiles.set_resident_status(session, [match.resident_id], "waiting")
        _notify_coordinator(session, match, "expired", now)
        expired += 1
    session.flush()
    return expired


def record_introduction(
    session: Session,
    match_id: str,
    *,
    intro_date: date,
    volunteer_go: bool,
    resident_go: bool,
    actor: str | None,
    now: datetime,
) -> Match:
    """The introduction meeting: go from both makes the match active; a no-go ends it."""
    match = session.get(Match, match_id)
    if match is None:
        raise NotFound("match not found", field="match_id")
    if match.status != "accepted":
        raise Conflict("not_accepted")
    if intro_date > profiles.local_date(now):
        raise ValidationFailed({"intro_date": "in_future"})
    values = {"intro_date": intro_date, "intro_volunteer_go": volunteer_go,
              "intro_resident_go": resident_go, "acted_by": actor}
    if volunteer_go and resident_go:
        match = pairing.move(session, match.id, from_status="accepted", to_status="active",
                             expected_version=match.version, activated_at=now, **values)
        profiles.set_resident_status(session, [match.resident_id], "matched")
        audit.record(session, actor=actor, action="match.activated",
                     subject=("match", match.id), now=now)
        return match
    for key, value in values.items():
        setattr(match, key, value)
    match.end_reason = "no_click"
    pairing.close_match(session, match, "ended", now)
    proposals.exclude(session, match.volunteer_id, match.resident_id, reason="no_go",
                      actor=actor, now=now)
    profiles.set_resident_status(session, [match.resident_id], "waiting")
    session.flush()
    audit.record(session, actor=actor, action="match.no_go", subject=("match", match.id),
                 now=now)
    return match
