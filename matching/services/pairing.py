"""Opening and closing matches with the volunteer's capacity counter kept in step."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from matching.errors import Conflict, NotFound
from matching.store import MATCH_STATUSES, OPEN_MATCH_STATUSES, Match, Volunteer
from matching.store.base import new_id, utcnow

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
                .values(open_matches=Volunteer.open_matches + 1, updated_at=Volunteer.updated_at)
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
                .values(open_matches=Volunteer.open_matches - 1, updated_at=Volunteer.updated_at)
            )
    except StaleDataError as error:
        session.expire(match)
        raise Conflict("match was changed by someone else") from error
    _forget_counter(session, match.volunteer_id)
    return match


def move(
    session: Session,
    match_id: str,
    *,
    from_status: str,
    to_status: str,
    expected_version: int | None = None,
    **values: Any,
) -> Match:
    """Move an open match to another open status if it is still in `from_status`.

    A conditional UPDATE, so of two racing requests exactly one wins; the other gets Conflict.
    With `expected_version` the match must also be unchanged since the caller's page was shown.
    """
    if from_status not in OPEN_MATCH_STATUSES or to_status not in OPEN_MATCH_STATUSES:
        raise ValueError("move only changes between open statuses; use close_match to close")
    query = update(Match.__table__).where(Match.id == match_id, Match.status == from_status)
    if expected_version is not None:
        query = query.where(Match.version == expected_version)
    moved = session.execute(
        query.values(status=to_status, version=Match.version + 1, **values)
    ).rowcount
    match = session.get(Match, match_id)
    if match is None:
        raise NotFound("match not found", field="match_id")
    session.refresh(match)
    if moved != 1:
        raise Conflict("match was changed by someone else")
    return match


def open_many(session: Session, rows: list[dict[str, Any]], *, status: str = "proposed") -> int:
    """Open many matches at once (a match run): same guarantees as open_match, all or nothing.

    Each row holds Match column values including volunteer_id and resident_id. A full or
    unavailable volunteer, or a resident who already has an open match, refuses the whole batch
    with Conflict.
    """
    if status not in OPEN_MATCH_STATUSES:
        raise ValueError(f"status {status!r} is not an open match status")
    if not rows:
        return 0
    per_volunteer = Counter(row["volunteer_id"] for row in rows)
    try:
        with session.begin_nested():
            for taken, ids in _grouped(per_volunteer).items():
                # The CHECK open_matches <= capacity refuses an overfull volunteer.
                session.execute(
                    update(Volunteer.__table__)
                    .where(Volunteer.id.in_(ids))
                    .values(
                        open_matches=Volunteer.open_matches + taken,
                        updated_at=Volunteer.updated_at,
                    )
                )
            available = session.scalar(
                select(func.count()).select_from(Volunteer).where(
                    Volunteer.id.in_(list(per_volunteer)), Volunteer.status == "available"
                )
            )
            if available != len(per_volunteer):
                raise Conflict("volunteer is not available", field="volunteer_id")
            now = utcnow()
            _insert_matches(session, [
                {"id": new_id(), "locked": False, "explanation": {}, "proposed_at": now,
                 "updated_at": now, **row, "status": status, "version": 1}
                for row in rows
            ])
    except IntegrityError as error:
        # PostgreSQL names the index; SQLite names the column of the unique index.
        if any(name in str(error.orig) for name in ("one_open_per_resident", "match.resident_id")):
            raise Conflict("resident already has an open match", field="resident_id") from error
        raise Conflict("volunteer has no capacity left", field="volunteer_id") from error
    for volunteer_id in per_volunteer:
        _forget_counter(session, volunteer_id)
    return len(rows)


def _insert_matches(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert complete match rows: COPY on PostgreSQL, one executemany elsewhere."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        # Measured: the ORM bulk path and multi-row VALUES are both slower here.
        session.execute(insert(Match.__table__), rows)
        return
    # COPY is about three times faster than executemany for a run's 2,000 proposals.
    columns = sorted({key for row in rows for key in row})
    json_columns = {"explanation"}
    statement = f"COPY match ({', '.join(columns)}) FROM STDIN"
    dbapi = connection.dialect.dbapi
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([
                    json.dumps(row.get(c)) if c in json_columns else row.get(c) for c in columns
                ])
    except dbapi.IntegrityError as error:  # type: ignore[union-attr]
        # As SQLAlchemy would raise it, so callers handle both paths alike.
        raise IntegrityError(statement, None, error) from error


def close_many(session: Session, match_ids: list[str], status: str, now: datetime) -> int:
    """Close the given matches that are still open (a match run withdrawing old proposals)."""
    if status not in CLOSED_MATCH_STATUSES:
        raise ValueError(f"status {status!r} is not a closed match status")
    if not match_ids:
        return 0
    with session.begin_nested():
        found = session.execute(
            select(Match.id, Match.volunteer_id).where(
                Match.id.in_(match_ids), Match.status.in_(OPEN_MATCH_STATUSES)
            )
        ).all()
        ids = [row.id for row in found]
        stamp = {"ended_at": now} if status == "ended" else {"decided_at": now}
        closed = session.execute(
            update(Match.__table__)
            .where(Match.id.in_(ids), Match.status.in_(OPEN_MATCH_STATUSES))
            .values(status=status, version=Match.version + 1, updated_at=now, **stamp)
        ).rowcount
        if closed != len(ids):
            raise Conflict("match was changed by someone else")
        for given, volunteer_ids in _grouped(Counter(row.volunteer_id for row in found)).items():
            session.execute(
                update(Volunteer.__table__)
                .where(Volunteer.id.in_(volunteer_ids))
                .values(
                    open_matches=Volunteer.open_matches - given, updated_at=Volunteer.updated_at
                )
            )
    for row in found:
        _forget_counter(session, row.volunteer_id)
    for match_id in ids:
        match = session.identity_map.get(identity_key(Match, match_id))
        if match is not None:
            session.expire(match)
    return len(ids)


def _grouped(counts: Counter[str]) -> dict[int, list[str]]:
    """Volunteer ids by how many slots they take, so one UPDATE serves each group."""
    groups: dict[int, list[str]] = {}
    for volunteer_id, count in counts.items():
        groups.setdefault(count, []).append(volunteer_id)
    return groups


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
