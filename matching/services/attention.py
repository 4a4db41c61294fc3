"""Matches at risk: the coordinator's 'needs attention' list, ranked, with the reasons.

Reasons (computed in SQL over the active matches' recent check-ins and open reviews):
  call_requested    the volunteer asked for a call in a check-in of the last 4 weeks
  low_rating        a check-in of the last 4 weeks rated 2 or lower
  not_met           the three latest check-ins all say "not met"
  missed_check_ins  the check-ins of the two latest finished weeks are both unanswered
  review_overdue    a milestone review is more than REVIEW_GRACE_DAYS past its due date
The current week's check-in counts once answered; unanswered it is not missed yet. A match's
score is the sum of its reasons' weights; ties go to the match active longest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from matching.store import CheckIn, Match, MilestoneReview

from .check_ins import iso_week, week_before
from .profiles import local_date

WEIGHTS = {
    "call_requested": 5, "low_rating": 4, "not_met": 3, "missed_check_ins": 3,
    "review_overdue": 2,
}
REASONS = tuple(WEIGHTS)
RECENT_WEEKS = 4
REVIEW_GRACE_DAYS = 14


@dataclass(frozen=True)
class Attention:
    match: Match
    reasons: tuple[str, ...]

    @property
    def score(self) -> int:
        return sum(WEIGHTS[reason] for reason in self.reasons)


def _check_in_reasons(session: Session, now: datetime) -> dict[str, set[str]]:
    week = iso_week(now)
    weeks = [week_before(week, n) for n in range(RECENT_WEEKS + 1)]
    counted = or_(CheckIn.week < week, CheckIn.answered_at.is_not(None))
    recent = (
        select(
            CheckIn.match_id, CheckIn.answered_at, CheckIn.met, CheckIn.rating,
            CheckIn.call_requested,
            func.row_number().over(
                partition_by=CheckIn.match_id, order_by=CheckIn.week.desc()).label("n"),
        )
        .join(Match, Match.id == CheckIn.match_id)
        .where(Match.status == "active", CheckIn.week.in_(weeks), counted)
        .subquery()
    )
    answered = recent.c.answered_at.is_not(None)

    def flag(condition):  # type: ignore[no-untyped-def]
        return func.sum(case((condition, 1), else_=0))

    rows = session.execute(
        select(
            recent.c.match_id,
            flag(and_(recent.c.n <= 2, ~answered)).label("missed"),
            flag(and_(recent.c.n <= 3, recent.c.met == "no")).label("not_met"),
            flag(and_(answered, recent.c.rating <= 2)).label("low"),
            flag(and_(answered, recent.c.call_requested)).label("call"),
        ).group_by(recent.c.match_id)
    ).all()
    reasons: dict[str, set[str]] = {}
    for match_id, missed, not_met, low, call in rows:
        found = {name for name, hit in (
            ("missed_check_ins", missed == 2), ("not_met", not_met == 3), ("low_rating", low),
            ("call_requested", call)) if hit}
        if found:
            reasons[match_id] = found
    return reasons


def needs_attention(session: Session, *, now: datetime) -> list[Attention]:
    """Active matches with at least one reason, the most urgent first."""
    reasons = _check_in_reasons(session, now)
    overdue_before = local_date(now) - timedelta(days=REVIEW_GRACE_DAYS)
    overdue = session.scalars(
        select(MilestoneReview.match_id).join(Match, Match.id == MilestoneReview.match_id)
        .where(Match.status == "active", MilestoneReview.done_at.is_(None),
               MilestoneReview.due_on < overdue_before)
    )
    for match_id in overdue:
        reasons.setdefault(match_id, set()).add("review_overdue")
    if not reasons:
        return []
    matches = session.scalars(select(Match).where(Match.id.in_(list(reasons)))).unique()
    items = [
        Attention(match, tuple(r for r in REASONS if r in reasons[match.id])) for match in matches
    ]
    items.sort(key=lambda item: (-item.score, item.match.activated_at or now, item.match.id))
    return items
