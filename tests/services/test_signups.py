"""The sign-up confirmation: one mail, a link that verifies once and expires."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from matching.errors import InvalidLink
from matching.services import signups
from matching.store import OutboxMessage, utcnow

SECRET = "s" * 48
TEXT = signups.ConfirmationText("Bevestig", ["Regel"], "Bevestigen")


def test_confirmation_is_queued_once_and_verifies_once(session, make_volunteer):
    volunteer = make_volunteer(email="canary@example.org", email_verified_at=None)
    now = utcnow()
    token = signups.send_confirmation(session, volunteer, text=TEXT, link_url="https://x/{token}",
                                      locale="nl", secret=SECRET, now=now)
    signups.send_confirmation(session, volunteer, text=TEXT, link_url="https://x/{token}",
                              locale="nl", secret=SECRET, now=now)
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert f"https://x/{token}" in session.scalars(select(OutboxMessage.body_text)).one()
    signups.check_link(session, token, secret=SECRET, now=now)
    assert volunteer.email_verified_at is None
    assert signups.verify_email(session, token, secret=SECRET, now=now) is True
    assert volunteer.email_verified_at == now
    assert signups.verify_email(session, token, secret=SECRET, now=now + timedelta(hours=1)) is False
    assert volunteer.email_verified_at == now


def test_expired_or_foreign_link_is_refused(session, make_volunteer):
    volunteer = make_volunteer(email_verified_at=None)
    now = utcnow()
    token = signups.send_confirmation(session, volunteer, text=TEXT, link_url="https://x/{token}",
                                      locale="nl", secret=SECRET, now=now)
    with pytest.raises(InvalidLink) as error:
        signups.verify_email(session, token, secret=SECRET, now=now + signups.LINK_TTL)
    assert error.value.reason == "expired"
    with pytest.raises(InvalidLink):
        signups.verify_email(session, token, secret="t" * 48, now=now)
    assert volunteer.email_verified_at is None


def test_no_email_no_mail(session, make_volunteer):
    volunteer = make_volunteer(email=None)
    assert signups.send_confirmation(session, volunteer, text=TEXT, link_url="https://x/{token}",
                                     locale="nl", secret=SECRET, now=utcnow()) is None
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
