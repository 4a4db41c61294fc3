"""Ending a match: reason, capacity back, rematch with the original waiting date, exit questions."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from matching.errors import Conflict, ValidationFailed
from matching.services import endings
from matching.store import Exclusion, ExitInterview, OutboxMessage, Resident, Volunteer

SECRET = "endings-secret-" + "x" * 40
BASE = "https://maatwerk.example"
NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
ACTIVATED = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def end(session, match, reason="no_click", rematch=True, note="Geen klik"):
    ended = endings.end_match(session, match.id, reason, note, actor=None, now=NOW,
                              rematch=rematch, base_url=BASE, secret=SECRET)
    session.commit()
    return ended


def test_rematch_puts_the_resident_back_with_the_original_waiting_date(session,
                                                                       make_active_match):
    match = make_active_match(ACTIVATED, resident={"waiting_since": date(2025, 9, 1),
                                                   "email": "henk@example.org"})
    ended = end(session, match)
    assert (ended.status, ended.end_reason, ended.end_note, ended.ended_at) == (
        "ended", "no_click", "Geen klik", NOW)
    resident = session.get(Resident, match.resident_id)
    assert (resident.status, resident.waiting_since) == ("waiting", date(2025, 9, 1))
    assert session.get(Volunteer, match.volunteer_id).open_matches == 0
    assert session.scalars(select(Exclusion.reason)).one() == "ended:no_click"
    interviews = {i.side: i.channel for i in session.scalars(select(ExitInterview))}
    assert interviews == {"volunteer": "email", "resident": "email"}
    mails = session.scalars(select(OutboxMessage)).all()
    assert sorted(m.to_address for m in mails) == [
        "Anne de Vries <maatje1@example.org>", "Henk Jansen <henk@example.org>"]
    assert all(m.body_text.count(f"{BASE}/afscheid/") == 1 for m in mails)
    with pytest.raises(Conflict):
        end(session, match)


def test_without_rematch_the_file_closes_and_a_resident_without_email_is_a_task(
    session, make_active_match,
):
    match = make_active_match(ACTIVATED, resident={"email": None})
    end(session, match, reason="goal_reached", rematch=False)
    resident = session.get(Resident, match.resident_id)
    assert (resident.status, resident.closed_reason, resident.closed_at) == (
        "closed", "match_ended:goal_reached", NOW)
    tasks = endings.open_exit_tasks(session)
    assert [(t.side, t.channel) for t in tasks] == [("resident", "coordinator")]
    endings.record_exit(session, tasks[0].id, {"rating": "4", "comment": "Doel bereikt"},
                        actor=None, now=NOW)
    assert endings.open_exit_tasks(session) == []


def test_death_asks_only_the_volunteer_and_allows_no_rematch(session, make_active_match):
    match = make_active_match(ACTIVATED, resident={"email": "henk@example.org"})
    with pytest.raises(ValidationFailed) as failed:
        end(session, match, reason="resident_died", rematch=True)
    assert failed.value.errors == {"rematch": "not_possible"}
    end(session, match, reason="resident_died", rematch=False)
    assert [i.side for i in session.scalars(select(ExitInterview))] == ["volunteer"]


@pytest.mark.parametrize("reason", ["bored", "", None])
def test_reason_must_come_from_the_list(session, make_active_match, reason):
    match = make_active_match(ACTIVATED)
    with pytest.raises(ValidationFailed):
        end(session, match, reason=reason)
    assert match.status == "active"


def test_exit_link_records_once_and_never_flips(session, make_active_match):
    match = make_active_match(ACTIVATED)
    end(session, match)
    message = session.scalars(select(OutboxMessage)).one()
    token = message.body_text.split(f"{BASE}/afscheid/")[1].split()[0]
    link, interview = endings.open_exit_link(session, token, now=NOW, secret=SECRET)
    first, _ = endings.answer_exit(session, link, 5, "Mooie tijd", now=NOW)
    again, _ = endings.answer_exit(session, link, 5, None, now=NOW)
    other, interview = endings.answer_exit(session, link, 1, "Anders", now=NOW)
    assert (first.result, again.result, other.result) == (
        "recorded", "already_received", "conflict")
    assert (interview.rating, interview.comment) == (5, "Mooie tijd")
