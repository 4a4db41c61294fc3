"""Ending a match: a reason from END_REASONS, the exit question to both sides, a rematch offer.

The volunteer gets the exit question by e-mail (a once-only link). The resident gets it by
e-mail when they have an address and are not contacted through their referrer; otherwise the
coordinator asks it (an open task on the attention page). Nobody is asked after a resident's
death. With `rematch` the resident goes back to the waiting list keeping the original
waiting_since, so the engine's waiting-time priority favours them; without it their file closes.
The pair is excluded from future proposals.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.errors import Conflict, InvalidLink, NotFound, ValidationFailed
from matching.store import END_REASONS, Exclusion, ExitInterview, Link, Match

from . import links, mail
from .audit import record
from .pairing import close_match
from .profiles import local_date

ENDABLE = ("accepted", "active")
NOTE_MAX = 2000
PURPOSE = "exit"
NO_REMATCH = ("resident_died", "moved")


def _locale(languages: list[str] | None) -> str:
    return "nl" if not languages or "nl" in languages else "en"


def end_match(
    session: Session,
    match_id: str,
    reason: str,
    note: str | None,
    *,
    actor: str | None,
    now: datetime,
    rematch: bool,
    base_url: str,
    secret: str,
    link_days: int = 30,
) -> Match:
    """End an accepted or active match; see the module docstring for what follows."""
    match = session.get(Match, match_id)
    if match is None:
        raise NotFound("match")
    errors = {}
    if reason not in END_REASONS:
        errors["reason"] = "invalid_choice"
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        errors["note"] = "too_long"
    if rematch and reason in NO_REMATCH:
        errors["rematch"] = "not_possible"
    if errors:
        raise ValidationFailed(errors)
    if match.status not in ENDABLE:
        raise Conflict("only an accepted or active match can be ended")
    close_match(session, match, "ended", now)
    match.end_reason, match.end_note, match.acted_by = reason, note, actor
    resident, volunteer = match.resident, match.volunteer
    if rematch:
        resident.status = "waiting"
        resident.waiting_since = resident.waiting_since or local_date(match.proposed_at)
    else:
        resident.status, resident.closed_at = "closed", now
        resident.closed_reason = f"match_ended:{reason}"
    resident.last_active_at = volunteer.last_active_at = now
    already = session.scalar(select(Exclusion.id).where(
        Exclusion.volunteer_id == volunteer.id, Exclusion.resident_id == resident.id))
    if already is None:
        session.add(Exclusion(volunteer_id=volunteer.id, resident_id=resident.id,
                              reason=f"ended:{reason}", created_at=now, created_by=actor))
    _ask_exit_question(session, match, reason, now=now, base_url=base_url, secret=secret,
                       ttl=timedelta(days=link_days))
    session.flush()
    record(session, actor=actor, action="match.ended", subject=("match", match.id),
           fields=["status", "end_reason", "end_note"], now=now)
    return match


def _ask_exit_question(
    session: Session, match: Match, reason: str, *, now: datetime, base_url: str, secret: str,
    ttl: timedelta,
) -> None:
    sides: list[tuple[str, Any]] = [("volunteer", match.volunteer)]
    if reason != "resident_died":
        sides.append(("resident", match.resident))
    for side, person in sides:
        by_mail = bool(person.email) and not getattr(person, "contact_via_referrer", False)
        interview = ExitInterview(match_id=match.id, side=side, created_at=now,
                                  channel="email" if by_mail else "coordinator")
        session.add(interview)
        session.flush()
        if not by_mail:
            continue
        token = links.issue(session, purpose=PURPOSE, subject=("exit_interview", interview.id),
                            person=(side, person.id), now=now, ttl=ttl, secret=secret)
        mail.enqueue(
            session, dedupe_key=f"exit:{match.id}:{side}", to=(person.full_name, person.email),
            template="exit_question", locale=_locale(person.languages),
            context={"name": person.first_name, "link": f"{base_url.rstrip('/')}/afscheid/{token}"},
            subject_kind="match", subject_id=match.id, now=now,
        )


def parse_exit(form: Mapping[str, Any]) -> tuple[int, str | None]:
    """Rating 1-5 and an optional comment, or ValidationFailed."""
    errors = {}
    try:
        rating = int(str(form.get("rating") or ""))
    except ValueError:
        rating = 0
    if not 1 <= rating <= 5:
        errors["rating"] = "invalid_choice"
    comment = str(form.get("comment") or "").strip() or None
    if comment and len(comment) > NOTE_MAX:
        errors["comment"] = "too_long"
    if errors:
        raise ValidationFailed(errors)
    return rating, comment


def open_exit_link(session: Session, token: str, *, now: datetime, secret: str) -> tuple[
        Link, ExitInterview]:
    """The link and its exit interview, for showing the question (changes nothing)."""
    link = links.read(session, token, purpose=PURPOSE, now=now, secret=secret)
    interview = session.get(ExitInterview, link.subject_id)
    if interview is None or link.subject_kind != "exit_interview":
        raise InvalidLink("unknown")
    return link, interview


def answer_exit(
    session: Session, link: Link, rating: int, comment: str | None, *, now: datetime
) -> tuple[links.Outcome, ExitInterview]:
    """Record the exit answer once; a repeat is harmless, a different one does not win."""
    interview = session.get(ExitInterview, link.subject_id)
    if interview is None:
        raise InvalidLink("unknown")
    outcome = links.use(session, link, f"rating={rating}", now)
    if outcome.recorded:
        interview.rating, interview.comment, interview.answered_at = rating, comment, now
        session.flush()
    return outcome, interview


def record_exit(
    session: Session, interview_id: str, form: Mapping[str, Any], *, actor: str | None,
    now: datetime,
) -> ExitInterview:
    """The coordinator writes down the answer they got by phone or in person."""
    interview = session.get(ExitInterview, interview_id)
    if interview is None:
        raise NotFound("exit_interview")
    if interview.answered_at is not None:
        raise Conflict("exit question already answered")
    rating, comment = parse_exit(form)
    interview.rating, interview.comment = rating, comment
    interview.answered_at, interview.answered_by = now, actor
    session.flush()
    return interview


def open_exit_tasks(session: Session) -> list[ExitInterview]:
    """Exit questions the coordinator still has to ask, the oldest first."""
    return list(session.scalars(
        select(ExitInterview).where(ExitInterview.channel == "coordinator",
                                    ExitInterview.answered_at.is_(None))
        .order_by(ExitInterview.created_at)
    ))
