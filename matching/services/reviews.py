"""Milestone reviews of active matches at 6 weeks, 3, 6 and 12 months.

A daily job creates the coordinator's review task for the latest milestone a match has reached
(earlier milestones that were never created, e.g. for matches older than this feature, are
skipped: reviewing them afterwards tells nothing). The review records each side's satisfaction
(1-5), continue or end, and at 6 and 12 months the resident's loneliness score again.

Loneliness: the De Jong Gierveld short scale (6 items, answers "yes", "more_or_less", "no"):
  1. I experience a general sense of emptiness.         (emotional)
  2. I miss having people around me.                    (emotional)
  3. I often feel rejected.                             (emotional)
  4. There are plenty of people I can rely on.          (social)
  5. There are many people I can trust completely.      (social)
  6. There are enough people I feel close to.           (social)
Items 1-3 score 1 for "yes" or "more_or_less" (agreeing = lonely), items 4-6 score 1 for "no" or
"more_or_less" (disagreeing = lonely), as in the scale's manual; the score is the sum, 0-6
(0-1 not lonely, 2-4 moderately, 5-6 severely lonely). Stored on the review, so the resident's
intake score stays as the baseline.
"""
from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.store import REVIEW_DECISIONS, Match, MilestoneReview
from matching.store.base import new_id
from matching.store.bulk import insert_new

from .audit import record
from .profiles import local_date

LONELINESS_ANSWERS = ("yes", "more_or_less", "no")
LONELINESS_ITEMS = 6
WITH_LONELINESS = ("6m", "12m")
NOTE_MAX = 2000


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(activated_on: date) -> dict[str, date]:
    """When each milestone of a match activated on `activated_on` falls due."""
    return {
        "6w": activated_on + timedelta(weeks=6),
        "3m": add_months(activated_on, 3),
        "6m": add_months(activated_on, 6),
        "12m": add_months(activated_on, 12),
    }


def loneliness_score(answers: Sequence[str]) -> int:
    """The De Jong Gierveld 6-item score, 0 (not lonely) to 6 (see the module docstring)."""
    if len(answers) != LONELINESS_ITEMS:
        raise ValueError(f"expected {LONELINESS_ITEMS} answers, got {len(answers)}")
    for answer in answers:
        if answer not in LONELINESS_ANSWERS:
            raise ValueError(f"answer {answer!r} is not one of {LONELINESS_ANSWERS}")
    emotional = sum(answer in ("yes", "more_or_less") for answer in answers[:3])
    social = sum(answer in ("no", "more_or_less") for answer in answers[3:])
    return emotional + social


def create_due(session: Session, *, now: datetime) -> int:
    """Add the review task for each active match's latest milestone reached; how many were new."""
    today = local_date(now)
    rows = session.execute(
        select(Match.id, Match.activated_at).where(
            # a day of slack: the milestone falls on a local date, not 42 x 24 hours later
            Match.status == "active", Match.activated_at <= now - timedelta(weeks=6, days=-1))
    ).all()
    tasks = []
    for match_id, activated_at in rows:
        reached = [(m, d) for m, d in due_dates(local_date(activated_at)).items() if d <= today]
        if reached:
            milestone, due_on = reached[-1]
            tasks.append({"id": new_id(), "match_id": match_id, "milestone": milestone,
                          "due_on": due_on, "created_at": now})
    table = MilestoneReview.__table__
    created = 0
    for start in range(0, len(tasks), 1000):
        created += len(insert_new(session, table, tasks[start:start + 1000],
                                  unique=["match_id", "milestone"], returning=table.c.id))
    return created


def open_reviews(session: Session, *, now: datetime) -> list[MilestoneReview]:
    """Review tasks not done yet whose match is still active, the longest due first."""
    return list(session.scalars(
        select(MilestoneReview).join(Match, Match.id == MilestoneReview.match_id)
        .where(MilestoneReview.done_at.is_(None), Match.status == "active",
               MilestoneReview.due_on <= local_date(now))
        .order_by(MilestoneReview.due_on, MilestoneReview.id)
    ))


def get_review(session: Session, review_id: str) -> MilestoneReview:
    review = session.get(MilestoneReview, review_id)
    if review is None:
        raise NotFound("milestone_review")
    return review


def _satisfaction(form: Mapping[str, Any], field: str, errors: dict[str, str]) -> int:
    try:
        value = int(str(form.get(field) or ""))
    except ValueError:
        value = 0
    if not 1 <= value <= 5:
        errors[field] = "invalid_choice"
    return value


def complete(
    session: Session, review_id: str, form: Mapping[str, Any], *, actor: str | None,
    now: datetime,
) -> MilestoneReview:
    """Record the review; form fields volunteer_satisfaction, resident_satisfaction (1-5),
    decision (continue/end), note, and at 6 and 12 months loneliness_1 .. loneliness_6."""
    review = get_review(session, review_id)
    if review.done_at is not None:
        raise Conflict("review already done")
    errors: dict[str, str] = {}
    volunteer = _satisfaction(form, "volunteer_satisfaction", errors)
    resident = _satisfaction(form, "resident_satisfaction", errors)
    decision = str(form.get("decision") or "")
    if decision not in REVIEW_DECISIONS:
        errors["decision"] = "invalid_choice"
    note = str(form.get("note") or "").strip() or None
    if note and len(note) > NOTE_MAX:
        errors["note"] = "too_long"
    score = None
    if review.milestone in WITH_LONELINESS:
        answers = [str(form.get(f"loneliness_{i}") or "") for i in range(1, LONELINESS_ITEMS + 1)]
        for i, answer in enumerate(answers, start=1):
            if answer not in LONELINESS_ANSWERS:
                errors[f"loneliness_{i}"] = "invalid_choice"
        if not errors:
            score = loneliness_score(answers)
    if errors:
        raise ValidationFailed(errors)
    review.volunteer_satisfaction, review.resident_satisfaction = volunteer, resident
    review.decision, review.note, review.loneliness_score = decision, note, score
    review.done_at, review.done_by = now, actor
    session.flush()
    record(session, actor=actor, action="match.reviewed", subject=("match", review.match_id),
           fields=["milestone", "decision"], now=now)
    return review
