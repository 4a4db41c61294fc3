"""Opening and closing matches with the volunteer's capacity counter kept in step."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from matching.errors import Conflict, NotFound
from matching.store import MATCH_STATUSES, OPEN_MATCH_STATUSES, Match, Volunteer

CLOSED_MATCH_STATUSES = tuple(s for s in MATCH_STATUSES if s not in OPEN_MATCH_STATUSES)


def open_match(
    session: Session,
    *,
    volunteer_id: str,
    resident_id: str,
    status: str = "proposed",
    run_id: str | None = None,
    **fields: Any,
) -> Match:
    """Take one of the volunteer's free slots and add the open match (caller's transaction)."""
    if status not in OPEN_MATCH_STATUSES:
        raise ValueError(f"status {status!r} is not an open match status")
    try:
        # A savepoint: a refusal leaves the caller's transaction usable and the counter untouched.
        with session.begin_nested():
            taken = session.execute(
                update(Volunteer.__table__)
                .where(
                    Volunteer.id == volunteer_id,
                    Volunteer.open_matches < Volunteer.capacity,
                    Volunteer.status == "available",
                )
                .values(open_matches=Volunteer.open_matches + 1)
            )
            if taken.rowcount != 1:
                raise _no_slot(session, volunteer_id)
            match = Match(
                volunteer_id=volunteer_id, resident_id=resident_id, status=status, run_id=run_id,
                **fields,
            )
            session.add(match)
            session.flush()
    except IntegrityError as error:
        if "uq_match_one_open_per_resident" in str(error.orig) or _has_open_match(
            session, resident_id
        ):
            raise Conflict("resident already has an open match", field="resident_id") from error
        raise
    _forget_counter(session, volunteer_id)
    return match


def close_match(session: Session, match: Match, status: str, now: datetime) -> Match:
    """Move an open match to a closed status and give the volunteer's slot back."""
    if status not in CLOSED_MATCH_STATUSES:
        raise ValueError(f"status {status!r} is not a closed match status")
    if not match.is_open:
        raise Conflict("match is already closed")
    try:
        with session.begin_nested():
            match.status = status
            if status == "ended":
                match.ended_at = now
            else:
                match.decided_at = now
            # The version column refuses a second, concurrent close of the same match.
            session.flush()
            session.execute(
                update(Volunteer.__table__)
                .where(Volunteer.id == match.volunteer_id, Volunteer.open_matches > 0)
                .values(open_matches=Volunteer.open_matches - 1)
            )
    except StaleDataError as error:
        session.expire(match)
        raise Conflict("match was changed by someone else") from error
    _forget_counter(session, match.volunteer_id)
    return match


def _no_slot(session: Session, volunteer_id: str) -> Exception:
    status = session.scalar(select(Volunteer.status).where(Volunteer.id == volunteer_id))
    if status is None:
        return NotFound("volunteer not found", field="volunteer_id")
    if status != "available":
        return Conflict("volunteer is not available", field="volunteer_id")
    return Conflict("volunteer has no capacity left", field="volunteer_id")


def _has_open_match(session: Session, resident_id: str) -> bool:
    found = session.scalar(
        select(Match.id).where(
            Match.resident_id == resident_id, Match.status.in_(OPEN_MATCH_STATUSES)
        )
    )
    return found is not None


def _forget_counter(session: Session, volunteer_id: str) -> None:
    # The counter moved in SQL; a Volunteer already loaded in this session must reload it.
    volunteer = session.identity_map.get(identity_key(Volunteer, volunteer_id))
    if volunteer is not None:
        session.expire(volunteer, ["open_matches"])
