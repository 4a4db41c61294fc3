"""The still-available and exit-question link pages: GET shows, POST records once."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from matching.services import endings, reengagement
from matching.store import ExitInterview, OutboxMessage, Volunteer
from tests.web.test_access import table_hash

BASE = "https://maatwerk.example"
NOW = datetime.now(UTC)


def _path(session, marker: str) -> str:
    body = session.scalars(select(OutboxMessage.body_text)).first()
    session.commit()
    return marker + body.split(f"{BASE}{marker}")[1].split()[0]


def _token(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_still_available_yes_makes_a_returning_volunteer(app, client, session, make_volunteer,
                                                         engine):
    volunteer = make_volunteer(status="stopped", stop_reason="druk",
                               stopped_at=NOW - timedelta(days=300),
                               registered_at=NOW - timedelta(days=400))
    reengagement.invite_inactive(session, now=NOW, base_url=BASE, secret=app.config["SECRET_KEY"])
    session.commit()
    path = _path(session, "/nog-beschikbaar/")
    before = table_hash(engine)
    page = client.get(path).get_data(as_text=True)
    assert page.count('name="choice"') == 2
    assert table_hash(engine) == before
    token = _token(client, path)
    done = client.post(path, data={"csrf_token": token, "choice": "yes"})
    assert 'data-outcome="recorded"' in done.get_data(as_text=True)
    flipped = client.post(path, data={"csrf_token": token, "choice": "no"})
    assert 'data-outcome="conflict"' in flipped.get_data(as_text=True)
    session.expire_all()
    volunteer = session.get(Volunteer, volunteer.id)
    assert (volunteer.status, volunteer.is_returning) == ("available", True)
    session.rollback()


def test_exit_question_page_records_once(app, client, session, make_active_match):
    match = make_active_match(NOW - timedelta(days=90))
    endings.end_match(session, match.id, "goal_reached", None, actor=None, now=NOW,
                      rematch=False, base_url=BASE, secret=app.config["SECRET_KEY"])
    session.commit()
    path = _path(session, "/afscheid/")
    token = _token(client, path)
    assert client.post(path, data={"csrf_token": token, "rating": "9"}).status_code == 422
    first = client.post(path, data={"csrf_token": token, "rating": "5", "comment": "Fijn"})
    assert 'data-outcome="recorded"' in first.get_data(as_text=True)
    again = client.post(path, data={"csrf_token": token, "rating": "5"})
    assert 'data-outcome="already_received"' in again.get_data(as_text=True)
    session.expire_all()
    answer = session.scalars(select(ExitInterview).where(ExitInterview.side == "volunteer")).one()
    assert (answer.rating, answer.comment) == (5, "Fijn")
    session.rollback()
    assert client.get("/afscheid/vals").status_code == 400
