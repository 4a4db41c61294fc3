"""Re-engagement: one friendly e-mail after six months without activity; yes = returning."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from matching.services import reengagement
from matching.store import OutboxMessage, Volunteer

SECRET = "reengage-secret-" + "x" * 40
BASE = "https://maatwerk.example"
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=200)


def invite(session, now=NOW):
    sent = reengagement.invite_inactive(session, now=now, base_url=BASE, secret=SECRET)
    session.commit()
    return sent


def mails(session):
    return session.scalar(select(func.count()).select_from(OutboxMessage))


def test_only_inactive_volunteers_get_one_mail(session, make_volunteer, make_active_match):
    stopped = make_volunteer(email="s@example.org", status="stopped", stop_reason="verhuisd",
                             stopped_at=LONG_AGO, registered_at=LONG_AGO)
    idle = make_volunteer(email="i@example.org", registered_at=LONG_AGO, last_active_at=LONG_AGO)
    make_volunteer(email="recent@example.org", registered_at=LONG_AGO,
                   last_active_at=NOW - timedelta(days=30))
    make_volunteer(email=None, registered_at=LONG_AGO, status="paused")
    make_volunteer(email="erased@example.org", status="stopped", stop_reason="erased",
                   registered_at=LONG_AGO)
    make_active_match(LONG_AGO, volunteer={"registered_at": LONG_AGO})  # busy with a match
    assert invite(session) == 2
    assert invite(session, NOW + timedelta(days=7)) == 0
    assert sorted(session.scalars(select(OutboxMessage.subject_id))) == sorted(
        [stopped.id, idle.id])
    assert mails(session) == 2


def _link(session):
    body = session.scalars(select(OutboxMessage.body_text)).one()
    token = body.split(f"{BASE}/nog-beschikbaar/")[1].split()[0]
    return reengagement.open_link(session, token, now=NOW + timedelta(days=1), secret=SECRET)


def test_yes_reactivates_and_counts_as_returning(session, make_volunteer):
    volunteer = make_volunteer(email="s@example.org", status="stopped", stop_reason="druk",
                               stopped_at=LONG_AGO, registered_at=LONG_AGO)
    invite(session)
    later = NOW + timedelta(days=1)
    link = _link(session)
    assert reengagement.answer(session, link, "yes", now=later).result == "recorded"
    session.commit()
    volunteer = session.get(Volunteer, volunteer.id)
    assert (volunteer.status, volunteer.is_returning, volunteer.returned_at,
            volunteer.last_active_at) == ("available", True, later, later)
    assert reengagement.answer(session, link, "yes", now=later).result == "already_received"
    assert reengagement.answer(session, link, "no", now=later).result == "conflict"
    assert session.get(Volunteer, volunteer.id).status == "available"


def test_no_changes_nothing_and_is_not_asked_again(session, make_volunteer):
    volunteer = make_volunteer(email="p@example.org", status="paused", registered_at=LONG_AGO)
    invite(session)
    link = _link(session)
    assert reengagement.answer(session, link, "no", now=NOW).result == "recorded"
    session.commit()
    assert session.get(Volunteer, volunteer.id).status == "paused"
    assert invite(session, NOW + timedelta(days=90)) == 0
