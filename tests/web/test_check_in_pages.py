"""The check-in link page: GET shows, POST records once, conflicts do not flip, expiry renews."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from matching.services import check_ins
from matching.store import CheckIn, OutboxMessage, utcnow
from tests.web.test_access import table_hash

BASE = "https://maatwerk.example"


def _send(app, session, make_active_match, now=None, **volunteer):
    now = now or utcnow()
    match = make_active_match(now - timedelta(days=40), volunteer=volunteer or None)
    check_ins.send_weekly(session, now=now, base_url=BASE, secret=app.config["SECRET_KEY"])
    session.commit()
    text = session.scalars(select(OutboxMessage.body_text)).one()
    session.commit()  # SQLite: a reading transaction holds the write lock here
    return match, "/check-in/" + text.split(f"{BASE}/check-in/")[1].split()[0].split("?")[0]


def _token(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


ANSWER = {"met": "no", "rating": "2", "call": "yes", "comment": "Lastige week"}


def test_get_shows_big_choices_and_changes_nothing(app, client, session, make_active_match,
                                                    engine):
    _match, path = _send(app, session, make_active_match, first_name="Kanarie")
    before = table_hash(engine)
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert page.count('class="choice"') == 3 + 5 + 2
    assert 'method="post"' in page and "<script" not in page
    client.head(path)
    assert table_hash(engine) == before


def test_post_records_once_and_a_conflicting_answer_does_not_flip(app, client, session,
                                                                    make_active_match, engine):
    match, path = _send(app, session, make_active_match)
    token = _token(client, path)
    first = client.post(path, data={**ANSWER, "csrf_token": token})
    assert first.status_code == 200 and 'data-outcome="recorded"' in first.get_data(as_text=True)
    again = client.post(path, data={**ANSWER, "csrf_token": token})
    assert 'data-outcome="already_received"' in again.get_data(as_text=True)
    other = client.post(path, data={"met": "yes", "rating": "5", "csrf_token": token})
    assert 'data-outcome="conflict"' in other.get_data(as_text=True)
    session.expire_all()
    row = session.scalars(select(CheckIn).where(CheckIn.match_id == match.id)).one()
    assert (row.met, row.rating, row.call_requested, row.comment) == (
        "no", 2, True, "Lastige week")
    session.rollback()
    assert "al ontvangen" in client.get(path).get_data(as_text=True)


def test_post_without_csrf_or_with_bad_answers_changes_nothing(app, client, session,
                                                               make_active_match, engine):
    _match, path = _send(app, session, make_active_match)
    before = table_hash(engine)
    assert client.post(path, data=ANSWER).status_code == 400
    token = _token(client, path)
    bad = client.post(path, data={"met": "misschien", "rating": "9", "csrf_token": token})
    assert bad.status_code == 422
    assert "Kies een cijfer van 1 tot 5." in bad.get_data(as_text=True)
    assert table_hash(engine) == before


def test_expired_link_shows_no_personal_data_and_offers_a_new_link(app, client, session,
                                                                   make_active_match):
    sent = datetime.now(UTC) - timedelta(days=30)
    _match, path = _send(app, session, make_active_match, now=sent, first_name="Kanarie",
                         email="kanarie@example.org")
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and 'data-reason="expired"' in text
    assert "kanarie" not in text.lower()
    token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
    assert client.post(path, data={**ANSWER, "csrf_token": token}).status_code == 400
    renewed = client.post(path + "/nieuw", data={"csrf_token": token})
    assert renewed.status_code == 200
    client.post(path + "/nieuw", data={"csrf_token": token})  # same day: no second mail
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    fresh = session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at.desc())).first()
    new_path = "/check-in/" + fresh.body_text.split("/check-in/")[1].split()[0].split("?")[0]
    session.rollback()
    assert client.post(new_path, data={**ANSWER, "csrf_token": token}).status_code == 200
    session.expire_all()
    assert session.scalars(select(CheckIn)).one().answered_at is not None


def test_tampered_token_is_refused(client):
    response = client.get("/check-in/niet-echt")
    assert response.status_code == 400
    assert 'data-reason="bad_signature"' in response.get_data(as_text=True)


def test_a_button_in_the_mail_opens_the_page_with_that_answer_and_one_press_confirms(
        app, client, session, make_active_match):
    _match, path = _send(app, session, make_active_match)
    message = session.scalars(select(OutboxMessage)).one()
    session.commit()
    assert f"{path}?met=not_planned" in message.body_html
    page = client.get(f"{path}?met=not_planned")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'value="not_planned"[^>]*checked', text)
    session.expire_all()
    assert session.scalars(select(CheckIn)).one().answered_at is None  # opening changed nothing
    session.commit()
    token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
    # The page's own defaults: the chosen answer, no rating, no call. One press sends it.
    done = client.post(path, data={"csrf_token": token, "met": "not_planned", "call": "no"})
    assert done.status_code == 200
    session.expire_all()
    stored = session.scalars(select(CheckIn)).one()
    assert (stored.met, stored.rating, stored.answered_at is not None) == ("not_planned", None, True)
