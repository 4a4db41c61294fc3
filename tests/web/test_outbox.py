"""The staff outbox page: who may see it, what it shows, and the CSRF-protected retry."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from matching.services import mail
from matching.store import OutboxMessage
from tests.logins import csrf_token

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PAGE = "/beheer/berichten/"


def _message(session, key, status="pending", subject="Een voorstel", **fields):
    message = mail.enqueue(
        session, dedupe_key=key, to=("Anne de Vries", "anne@example.org"), template="notice",
        context={"subject": subject, "name": "Anne", "lines": ["Klik hieronder."],
                 "link": f"https://maatwerk.example/l/{key}?a=1&b=2"},
        locale="nl", now=NOW,
    )
    message.status = status
    for name, value in fields.items():
        setattr(message, name, value)
    session.commit()
    return message


def test_anonymous_is_sent_to_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_analyst_has_no_access(logged_in):
    assert logged_in("analyst").get(PAGE).status_code == 403


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_staff_see_messages_failed_first_and_highlighted(logged_in, session, role):
    _message(session, "ok", status="sent", subject="Verstuurd bericht")
    failed = _message(session, "bad", status="failed", subject="Mislukt bericht", attempts=6,
                      last_error="SMTPDataError 550")
    response = logged_in(role).get(PAGE)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert page.index("Mislukt bericht") < page.index("Verstuurd bericht")
    assert f'class="outbox-failed" data-message="{failed.id}"' in page
    assert "Anne de Vries &lt;anne@example.org&gt;" in page
    assert "SMTPDataError 550" in page
    assert page.count("/opnieuw") == 1
    # Outside demo mode no body is shown.
    assert "Klik hieronder." not in page


def test_demo_mode_shows_the_text_with_clickable_links(app, logged_in, session):
    app.config["DEMO_MODE"] = True
    _message(session, "demo")
    page = logged_in("coordinator").get(PAGE).get_data(as_text=True)
    assert "Klik hieronder." in page
    assert ('<a href="https://maatwerk.example/l/demo?a=1&amp;b=2" rel="noreferrer">'
            in page)


def test_subject_and_body_are_escaped(app, logged_in, session):
    app.config["DEMO_MODE"] = True
    _message(session, "xss", subject="<script>alert(1)</script>")
    page = logged_in("coordinator").get(PAGE).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_status_filter(logged_in, session):
    _message(session, "ok", status="sent", subject="Verstuurd bericht")
    _message(session, "bad", status="failed", subject="Mislukt bericht")
    page = logged_in("coordinator").get(PAGE + "?status=sent").get_data(as_text=True)
    assert "Verstuurd bericht" in page and "Mislukt bericht" not in page


def test_retry_needs_csrf_then_requeues(logged_in, session):
    failed = _message(session, "bad", status="failed", attempts=6, last_error="SMTPDataError 550")
    client = logged_in("coordinator")
    refused = client.post(f"{PAGE}{failed.id}/opnieuw")
    assert refused.status_code == 400
    session.expire_all()
    assert session.get(OutboxMessage, failed.id).status == "failed"
    session.commit()

    token = csrf_token(client, PAGE)
    response = client.post(f"{PAGE}{failed.id}/opnieuw", data={"csrf_token": token})
    assert response.status_code == 302
    session.expire_all()
    stored = session.get(OutboxMessage, failed.id)
    assert (stored.status, stored.attempts) == ("pending", 0)


def test_retry_of_a_message_that_did_not_fail_is_a_conflict(logged_in, session):
    sent = _message(session, "ok", status="sent")
    client = logged_in("coordinator")
    token = csrf_token(client, PAGE)
    response = client.post(f"{PAGE}{sent.id}/opnieuw", data={"csrf_token": token})
    assert response.status_code == 409
    session.expire_all()
    assert session.scalars(select(OutboxMessage.status)).one() == "sent"


def test_get_changes_nothing(logged_in, session):
    failed = _message(session, "bad", status="failed", attempts=6)
    client = logged_in("coordinator")
    assert client.get(PAGE).status_code == 200
    assert client.get(f"{PAGE}{failed.id}/opnieuw").status_code == 405
    session.expire_all()
    assert session.get(OutboxMessage, failed.id).status == "failed"


def test_the_outbox_is_in_the_menu_for_coordinators_and_admins(logged_in):
    client = logged_in("coordinator")
    assert 'href="/beheer/berichten/"' in client.get("/").get_data(as_text=True)
