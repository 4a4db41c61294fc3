"""Retention: closed records are anonymised RETENTION_MONTHS after the last activity.

Candidates are closed residents and stopped volunteers (without open matches) whose last
activity (closing or stopping, last_active_at, and any of their matches' proposal or end) lies
more than `months` back. Each goes through privacy.erase_person(retention=True): names, contact
data, address, notes, free-text comments and mails go; matches with their dates and end
reasons, target group, birth decade, neighbourhood and coded closing reasons stay, so the
dashboard's counts do not change. Anonymised rows are skipped the next time (idempotent).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching.store import Match, Resident, Volunteer

from . import privacy, profiles, submissions
from .reviews import add_months


@dataclass(frozen=True)
class RetentionReport:
    residents: int
    volunteers: int


def cutoff(now: datetime, months: int) -> datetime:
    """The moment `months` calendar months before `now` (Utrecht dates)."""
    local = now.astimezone(profiles.LOCAL_TIME).date()
    return now - (local - add_months(local, -months))


def _latest_match_activity(session: Session, column: Any, ids: list[str]) -> dict[str, datetime]:
    latest: dict[str, datetime] = {}
    if not ids:
        return latest
    rows = session.execute(
        select(column, func.max(Match.proposed_at), func.max(Match.ended_at),
               func.max(Match.activated_at)).where(column.in_(ids)).group_by(column)
    ).all()
    for person_id, *moments in rows:
        latest[person_id] = max(m for m in moments if m is not None)
    return latest


def _due(
    session: Session, model: type[Resident] | type[Volunteer], kind_column: Any, closed: Any,
    status: str, before: datetime,
) -> list[str]:
    candidates = session.execute(
        select(model.id, model.last_active_at).where(
            model.status == status, model.anonymised_at.is_(None), closed.is_not(None),
            closed < before,
        )
    ).all()
    latest = _latest_match_activity(session, kind_column, [c.id for c in candidates])
    return [
        c.id for c in candidates
        if (c.last_active_at is None or c.last_active_at < before)
        and (c.id not in latest or latest[c.id] < before)
    ]


def apply(session: Session, *, now: datetime, months: int = 24) -> RetentionReport:
    """Anonymise every closed record whose last activity is older than `months`."""
    if months < 1:
        raise ValueError("months must be at least 1")
    before = cutoff(now, months)
    residents = _due(session, Resident, Match.resident_id, Resident.closed_at, "closed", before)
    volunteers = [
        v for v in _due(session, Volunteer, Match.volunteer_id, Volunteer.stopped_at, "stopped",
                        before)
        if session.get(Volunteer, v).open_matches == 0
    ]
    for resident_id in residents:
        privacy.erase_person(session, "resident", resident_id, actor=None, now=now,
                             retention=True)
    for volunteer_id in volunteers:
        privacy.erase_person(session, "volunteer", volunteer_id, actor=None, now=now,
                             retention=True)
    submissions.forget_old(session, now=now)
    return RetentionReport(residents=len(residents), volunteers=len(volunteers))
