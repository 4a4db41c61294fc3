"""Coordinator pages: the ranked attention list, the review form, ending a match."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from matching.services import check_ins
from matching.services.profiles import local_date
from matching.store import CheckIn, ExitInterview, Match, MilestoneReview, OutboxMessage, Resident, utcnow
from tests.logins import csrf_token

PAGE = "/aandacht/"
NOW = datetime.now(UTC)


def _match_with_call_request(session, make_active_match, **resident):
    match = make_active_match(NOW - timedelta(days=200), resident=resident or None)
    week = check_ins.week_before(check_ins.iso_week(NOW), 1)
    session.add(CheckIn(match_id=match.id, week=week, sent_at=NOW - timedelta(days=7),
                        answered_at=NOW - timedelta(days=6), met="yes", rating=1,
                        call_requested=True))
    session.commit()
    return match


def test_analyst_may_not_see_the_list(logged_in):
    assert logged_in("analyst").get(PAGE).status_code == 403


def test_coordinator_sees_ranked_matches_with_reasons_and_open_reviews(logged_in, session,
                                                                       make_active_match):
    match = _match_with_call_request(session, make_active_match, first_name="Gerrit")
    quiet = make_active_match(NOW - timedelta(days=100))
    review = MilestoneReview(match_id=quiet.id, milestone="3m", due_on=local_date(utcnow()))
    session.add(review)
    session.commit()
    client = logged_in("coordinator")
    response = client.get(PAGE)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-match="{match.id}" data-score="9"' in page
    assert 'data-reason="call_requested"' in page and 'data-reason="low_rating"' in page
    assert "Gerrit Jansen" in page
    assert f'data-review="{review.id}"' in page
    assert 'data-count="durable_6m">1<' in page
    assert "Aandacht nodig" in client.get("/").get_data(as_text=True)


def test_review_form_with_loneliness_then_ending_with_rematch(logged_in, session,
                                                              make_active_match):
    match = make_active_match(NOW - timedelta(days=200),
                              resident={"waiting_since": date(2025, 1, 6),
                                        "email": "henk@example.org"})
    review = MilestoneReview(match_id=match.id, milestone="6m", due_on=local_date(utcnow()))
    session.add(review)
    session.commit()
    client = logged_in("coordinator")
    path = f"/aandacht/evaluatie/{review.id}"
    form = client.get(path).get_data(as_text=True)
    assert form.count('name="loneliness_') == 18
    token = csrf_token(client, path)
    data = {"csrf_token": token, "volunteer_satisfaction": "2", "resident_satisfaction": "3",
            "decision": "end"}
    refused = client.post(path, data=data)
    assert refused.status_code == 422
    data.update({f"loneliness_{i}": "no" for i in range(1, 7)})
    saved = client.post(path, data=data)
    assert saved.status_code == 302
    assert saved.location.endswith(f"/aandacht/koppeling/{match.id}/beeindigen")
    session.expire_all()
    done = session.get(MilestoneReview, review.id)
    assert (done.loneliness_score, done.decision, done.volunteer_satisfaction) == (3, "end", 2)
    session.rollback()

    end_path = saved.location
    assert client.post(end_path, data={"csrf_token": token, "reason": "weg"}).status_code == 422
    ended = client.post(end_path, data={"csrf_token": token, "reason": "no_click",
                                        "note": "Geen klik", "rematch": "yes"})
    assert ended.status_code == 302
    session.expire_all()
    assert session.get(Match, match.id).status == "ended"
    resident = session.get(Resident, match.resident_id)
    assert (resident.status, resident.waiting_since) == ("waiting", date(2025, 1, 6))
    assert len(session.scalars(select(OutboxMessage)).all()) == 2
    session.rollback()


def test_coordinator_records_the_exit_answer_of_a_resident_without_email(logged_in, session,
                                                                         make_active_match):
    match = make_active_match(NOW - timedelta(days=30), resident={"email": None})
    client = logged_in("coordinator")
    token = csrf_token(client, PAGE)
    session.commit()
    client.post(f"/aandacht/koppeling/{match.id}/beeindigen",
                data={"csrf_token": token, "reason": "health"})
    session.expire_all()
    task = session.scalars(select(ExitInterview).where(ExitInterview.side == "resident")).one()
    assert task.channel == "coordinator"
    task_id = task.id
    session.rollback()
    assert f'data-exit="{task_id}"' in client.get(PAGE).get_data(as_text=True)
    saved = client.post(f"/aandacht/afscheid/{task_id}",
                        data={"csrf_token": token, "rating": "4", "comment": "Goed gedaan"})
    assert saved.status_code == 302
    session.expire_all()
    assert session.get(ExitInterview, task_id).rating == 4
    assert session.get(Resident, match.resident_id).status == "closed"
    session.rollback()
