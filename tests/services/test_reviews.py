"""Milestone reviews: due dates, one task per milestone, the form, the loneliness score."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import product

import pytest
from sqlalchemy import select

from matching.errors import Conflict, ValidationFailed
from matching.services import reviews
from matching.store import MilestoneReview, Resident

ACTIVATED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)


def test_add_months_keeps_the_day_or_takes_the_month_end():
    assert reviews.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert reviews.add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert reviews.add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert reviews.add_months(date(2026, 8, 31), 12) == date(2027, 8, 31)
    assert reviews.due_dates(date(2026, 1, 31)) == {
        "6w": date(2026, 3, 14), "3m": date(2026, 4, 30), "6m": date(2026, 7, 31),
        "12m": date(2027, 1, 31)}


def test_loneliness_score_by_hand():
    lonely = ["yes", "yes", "yes", "no", "no", "no"]
    assert reviews.loneliness_score(lonely) == 6
    assert reviews.loneliness_score(["no", "no", "no", "yes", "yes", "yes"]) == 0
    assert reviews.loneliness_score(["more_or_less"] * 6) == 6
    assert reviews.loneliness_score(["yes", "no", "more_or_less", "yes", "no", "more_or_less"]) == 4
    with pytest.raises(ValueError):
        reviews.loneliness_score(["yes"] * 5)
    with pytest.raises(ValueError):
        reviews.loneliness_score(["ja"] * 6)


def test_loneliness_score_against_brute_force():
    for answers in product(reviews.LONELINESS_ANSWERS, repeat=6):
        expected = sum(1 for a in answers[:3] if a != "no") + sum(
            1 for a in answers[3:] if a != "yes")
        assert reviews.loneliness_score(list(answers)) == expected


def _run(session, day: datetime) -> int:
    created = reviews.create_due(session, now=day)
    session.commit()
    return created


def test_tasks_appear_as_milestones_are_reached_once_each(session, make_active_match):
    match = make_active_match(ACTIVATED)
    assert _run(session, datetime(2026, 3, 13, 6, 0, tzinfo=UTC)) == 0
    assert _run(session, datetime(2026, 3, 14, 6, 0, tzinfo=UTC)) == 1
    assert _run(session, datetime(2026, 3, 15, 6, 0, tzinfo=UTC)) == 0
    assert _run(session, datetime(2026, 4, 30, 6, 0, tzinfo=UTC)) == 1
    # Scheduler down for months: only the latest reached milestone is added.
    assert _run(session, datetime(2027, 2, 1, 6, 0, tzinfo=UTC)) == 1
    milestones = session.scalars(
        select(MilestoneReview.milestone).where(MilestoneReview.match_id == match.id)).all()
    assert sorted(milestones) == ["12m", "3m", "6w"]
    assert [r.milestone for r in reviews.open_reviews(
        session, now=datetime(2027, 2, 1, tzinfo=UTC))] == ["6w", "3m", "12m"]


FORM = {"volunteer_satisfaction": "4", "resident_satisfaction": "5", "decision": "continue",
        "note": "Loopt goed"}
LONELY = {f"loneliness_{i}": a for i, a in enumerate(
    ["yes", "more_or_less", "no", "no", "yes", "yes"], start=1)}


def test_six_month_review_stores_the_loneliness_score(session, make_active_match, make_staff):
    staff = make_staff()
    make_active_match(ACTIVATED, resident={"loneliness_score": 5})
    _run(session, datetime(2026, 7, 31, 6, 0, tzinfo=UTC))
    review = session.scalars(select(MilestoneReview)).one()
    assert review.milestone == "6m"
    with pytest.raises(ValidationFailed) as failed:
        reviews.complete(session, review.id, FORM, actor=staff.id, now=ACTIVATED)
    assert set(failed.value.errors) == {f"loneliness_{i}" for i in range(1, 7)}
    done = reviews.complete(session, review.id, {**FORM, **LONELY}, actor=staff.id,
                            now=datetime(2026, 8, 3, tzinfo=UTC))
    session.commit()
    assert (done.loneliness_score, done.decision, done.done_by) == (3, "continue", staff.id)
    assert session.scalar(select(Resident.loneliness_score)) == 5  # the intake baseline stays
    with pytest.raises(Conflict):
        reviews.complete(session, review.id, FORM, actor=staff.id, now=ACTIVATED)


def test_six_week_review_needs_no_loneliness_and_refuses_bad_values(session, make_active_match):
    make_active_match(ACTIVATED)
    _run(session, ACTIVATED + timedelta(weeks=6))
    review = session.scalars(select(MilestoneReview)).one()
    with pytest.raises(ValidationFailed) as failed:
        reviews.complete(session, review.id, {"volunteer_satisfaction": "0",
                                              "resident_satisfaction": "6", "decision": "stop"},
                         actor=None, now=ACTIVATED)
    assert set(failed.value.errors) == {"volunteer_satisfaction", "resident_satisfaction",
                                        "decision"}
    done = reviews.complete(session, review.id, FORM, actor=None, now=ACTIVATED)
    assert done.loneliness_score is None and done.volunteer_satisfaction == 4
