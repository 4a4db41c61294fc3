"""The audit trail: who did what to which record (field names only, never values), and the
privacy officer's reading of it."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from matching.store import AuditEvent, Resident, StaffUser, Volunteer, utcnow

log = logging.getLogger("maatwerk.audit")
_HEX32 = re.compile(r"[0-9a-f]{32}")


def record(
    session: Session,
    *,
    actor: str | None,
    action: str,
    subject: tuple[str, str] | None = None,
    fields: Iterable[str] = (),
    now: datetime | None = None,
) -> AuditEvent:
    kind, subject_id = subject if subject else (None, None)
    event = AuditEvent(
        at=now or utcnow(), actor=actor, action=action, subject_kind=kind,
        subject_id=subject_id, fields=sorted(fields),
    )
    session.add(event)
    log.info(
        "%s actor=%s subject=%s:%s at=%s", action, actor, kind, subject_id, event.at.isoformat()
    )
    return event


def record_view(
    session: Session, actor: str | None, kind: str, id: str, *, now: datetime | None = None
) -> AuditEvent:
    """Note that a staff member opened a profile."""
    return record(session, actor=actor, action=f"{kind}.viewed", subject=(kind, id), now=now)


PERSON_KINDS = ("volunteer", "resident")


@dataclass(frozen=True)
class Trail:
    """One page of person events, newest first, with the names they point at."""

    events: list[AuditEvent]
    total: int
    page: int
    pages: int
    people: dict[str, str]  # person id -> name ("" once erased)
    staff: dict[str, str]  # staff id -> name


def staff_id(actor: str | None) -> str | None:
    """The staff member an actor names ("staff:<id>" or a bare id), else None."""
    if actor is None:
        return None
    bare = actor.removeprefix("staff:")
    return bare if _HEX32.fullmatch(bare) else None


def trail(
    session: Session, *, person: str | None = None, staff: str | None = None,
    start: datetime | None = None, end: datetime | None = None, page: int = 1,
    page_size: int = 100,
) -> Trail:
    """Who viewed or changed whose record, when, which fields: events about people, filtered
    by person (an id, or part of a name), staff member (id) and period [start, end)."""
    conditions = _conditions(session, person, staff, start, end)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    events = list(session.scalars(
        select(AuditEvent).where(*conditions).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(page_size).offset((page - 1) * page_size)))
    return Trail(events, total, page, pages, *_names(session, events))


def trail_rows(session: Session, *, person: str | None = None, staff: str | None = None,
               start: datetime | None = None, end: datetime | None = None,
               limit: int = 100_000) -> Trail:
    """Every event of the filter (for the CSV), newest first, up to limit."""
    return trail(session, person=person, staff=staff, start=start, end=end, page=1,
                 page_size=limit)


def _conditions(session: Session, person: str | None, staff: str | None,
                start: datetime | None, end: datetime | None) -> list[Any]:
    conditions: list[Any] = [AuditEvent.subject_kind.in_(PERSON_KINDS)]
    if person := (person or "").strip():
        if _HEX32.fullmatch(person):
            conditions.append(AuditEvent.subject_id == person)
        else:
            pattern = "%" + person.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
                "_", "\\_") + "%"
            ids = [select(model.id).where(func.lower(model.first_name + " " + model.last_name)
                                          .like(pattern, escape="\\"))
                   for model in (Volunteer, Resident)]
            conditions.append(or_(*(AuditEvent.subject_id.in_(query) for query in ids)))
    if staff:
        conditions.append(AuditEvent.actor.in_([staff, f"staff:{staff}"]))
    if start is not None:
        conditions.append(AuditEvent.at >= start)
    if end is not None:
        conditions.append(AuditEvent.at < end)
    return conditions


def _names(session: Session, events: list[AuditEvent]) -> tuple[dict[str, str], dict[str, str]]:
    people: dict[str, str] = {}
    for model in (Volunteer, Resident):
        ids = {e.subject_id for e in events if e.subject_kind == model.__tablename__}
        if ids:
            people.update(dict(session.execute(
                select(model.id, model.first_name + " " + model.last_name)
                .where(model.id.in_(ids))).all()))
    staff_ids = {sid for e in events if (sid := staff_id(e.actor))}
    staff = dict(session.execute(
        select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(staff_ids))).all()
    ) if staff_ids else {}
    return people, staff
