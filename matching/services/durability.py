"""Durable matches ('duurzame matches'): active for 3 months, and again for 6 months."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.store import Match

from .profiles import local_date
from .reviews import add_months

DURABLE_MONTHS = (3, 6)


def lasted(activated_at: datetime, ended_at: datetime | None, now: datetime, months: int) -> bool:
    """Whether a match activated then (and ended then, if it ended) lasted `months` by `now`."""
    until = local_date(min(ended_at, now) if ended_at else now)
    return until >= add_months(local_date(activated_at), months)


def durable_counts(session: Session, *, now: datetime) -> dict[str, int]:
    """How many matches ever activated, and how many of them lasted 3 and 6 months."""
    rows = session.execute(
        select(Match.activated_at, Match.ended_at).where(Match.activated_at.is_not(None),
                                                         Match.activated_at <= now)
    ).all()
    counts = {"activated": len(rows)}
    for months in DURABLE_MONTHS:
        counts[f"durable_{months}m"] = sum(lasted(a, e, now, months) for a, e in rows)
    return counts
