"""The referral funnel per source (GP, neighbourhood team, NIZU, self, family, partner): how many
referrals came in, the share that got a match, the median days from referral to a match, and
why the others have none yet. Counts of 1-4 people are never shown (reports.suppress)."""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching.store import REFERRAL_SOURCES, Match, Resident

from . import waiting
from .periods import Period
from .reports import ACCEPTED, share, suppress


@dataclass(frozen=True)
class Source:
    source: str
    referrals: int | None  # None: fewer than 5
    matched_share: float | None
    median_days: float | None
    reasons: dict[str, int | None] = field(default_factory=dict)  # why not matched (yet)


def funnel(session: Session, period: Period) -> list[Source]:
    """One row per referral source for the residents referred in the period."""
    residents = session.execute(
        select(Resident.id, Resident.referral_source, Resident.created_at)
        .where(Resident.created_at >= period.starts, Resident.created_at < period.ends)
    ).all()
    first_match = dict(session.execute(
        select(Match.resident_id, func.min(func.coalesce(Match.decided_at, Match.activated_at)))
        .where(Match.status.in_(ACCEPTED), Match.resident_id.in_([r.id for r in residents]))
        .group_by(Match.resident_id)
    ).all()) if residents else {}
    reasons = waiting.recent_reasons(session)
    out = []
    for source in REFERRAL_SOURCES:
        rows = [r for r in residents if r.referral_source == source]
        matched = [r for r in rows if r.id in first_match]
        days = [_days(r.created_at, first_match[r.id]) for r in matched if first_match[r.id] is not None]
        pending = Counter(reasons[r.id] for r in rows if r.id not in first_match and r.id in reasons)
        enough = suppress(len(rows)) is not None and len(matched) >= 5
        out.append(Source(
            source, suppress(len(rows)), share(len(matched), len(rows)),
            round(statistics.median(days), 1) if enough and days else None,
            {code: suppress(n) for code, n in pending.most_common()},
        ))
    return out


def _days(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 86400)
