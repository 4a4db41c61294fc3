"""The 'needs attention' list: each reason on its own, ranking, and what does not count."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from matching.services import attention, check_ins
from matching.services.pairing import close_match
from matching.store import CheckIn, MilestoneReview

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # Wednesday of ISO week 2026-W48
ACTIVATED = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def weeks_ago(n: int) -> str:
    return check_ins.week_before(check_ins.iso_week(NOW), n)


def add(session, match, n: int, **answer):
    """The check-in of `n` weeks ago; answered when answer fields are given."""
    row = CheckIn(match_id=match.id, week=weeks_ago(n), sent_at=NOW - timedelta(weeks=n))
    if answer:
        row.answered_at = NOW - timedelta(weeks=n) + timedelta(days=1)
        row.met, row.rating = answer.get("met", "yes"), answer.get("rating", 4)
        row.call_requested = answer.get("call", False)
    session.add(row)
    session.flush()


def listed(session) -> dict[str, tuple[str, ...]]:
    return {item.match.id: item.reasons for item in attention.needs_attention(session, now=NOW)}


def test_each_reason(session, make_active_match):
    fine, missed, not_met, low, call, review = (make_active_match(ACTIVATED) for _ in range(6))
    for n in (1, 2, 3):
        add(session, fine, n, met="yes", rating=4)
        add(session, not_met, n, met="no", rating=3)
    add(session, fine, 0)  # this week's, not answered yet: not missed
    add(session, missed, 1)
    add(session, missed, 2)
    add(session, missed, 3, met="yes", rating=5)
    add(session, low, 1, rating=2)
    add(session, call, 3, call=True)
    session.add(MilestoneReview(match_id=review.id, milestone="3m", due_on=date(2026, 9, 1)))
    session.flush()
    assert listed(session) == {
        missed.id: ("missed_check_ins",), not_met.id: ("not_met",), low.id: ("low_rating",),
        call.id: ("call_requested",), review.id: ("review_overdue",),
    }


def test_what_does_not_count(session, make_active_match):
    recovered, old_call, new_review, ended = (make_active_match(ACTIVATED) for _ in range(4))
    # Not met twice, then met: no streak of three.
    add(session, recovered, 3, met="no")
    add(session, recovered, 2, met="no")
    add(session, recovered, 1, met="yes")
    add(session, recovered, 0, met="no")
    add(session, old_call, 6, call=True, rating=1)  # longer ago than four weeks
    session.add(MilestoneReview(match_id=new_review.id, milestone="6m",
                                due_on=date(2026, 11, 20)))  # due, not yet overdue
    add(session, ended, 1)
    add(session, ended, 2)
    close_match(session, ended, "ended", NOW)
    assert listed(session) == {}


def test_late_answer_removes_the_missed_reason_and_ranking_adds_weights(session,
                                                                       make_active_match):
    worst, single = make_active_match(ACTIVATED), make_active_match(ACTIVATED)
    add(session, worst, 3, met="no", rating=1, call=True)
    add(session, worst, 2, met="no", rating=2)
    add(session, worst, 1, met="no", rating=3)
    add(session, single, 1)
    add(session, single, 2)
    items = attention.needs_attention(session, now=NOW)
    assert [i.match.id for i in items] == [worst.id, single.id]
    assert items[0].reasons == ("call_requested", "low_rating", "not_met")
    assert items[0].score == 12
    late = session.query(CheckIn).filter_by(match_id=single.id, week=weeks_ago(2)).one()
    late.answered_at, late.met, late.rating = NOW, "yes", 4
    session.flush()
    assert single.id not in listed(session)
