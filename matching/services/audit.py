"""The audit trail: who did what to which record (field names only, never values)."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from matching.store import AuditEvent, utcnow

log = logging.getLogger("maatwerk.audit")


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
