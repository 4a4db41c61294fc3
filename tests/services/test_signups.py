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


def test_sign_up_without_consent_stores_nothing_and_names_every_problem(session):
    from matching.errors import ValidationFailed
    from matching.store import Volunteer

    data = {"first_name": "Sanne", "email": "sanne@example.org", "postcode": "12"}
    with pytest.raises(ValidationFailed) as failure:
        signups.sign_up(session, data, consented=False, text_version="2026-01", text=TEXT,
                        link_url="https://x/{token}", locale="nl", secret=SECRET, now=utcnow())
    assert failure.value.errors == {"postcode": "invalid_postcode", "consent": "required"}
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Volunteer)) == 0


def test_sign_up_and_refer_record_the_shown_consent_version(session):
    from matching.store import Consent

    now = utcnow()
    volunteer = signups.sign_up(
        session, {"first_name": "Sanne", "email": "sanne@example.org"}, consented=True,
        text_version="1999-bogus", text=TEXT, link_url="https://x/{token}", locale="en",
        secret=SECRET, now=now)
    assert (volunteer.status, volunteer.source) == ("new", "signup")
    resident = signups.refer(
        session, {"first_name": "Gerrit", "referrer_name": "Dr. J", "referrer_phone": "0301112233",
                  "referral_source": "gp"}, agreed=True, text_version="2026-01", secret=SECRET,
        now=now)
    assert resident.status == "referred"
    given = {c.subject_id: (c.purpose, c.text_version) for c in session.scalars(select(Consent))}
    assert given == {volunteer.id: ("profile", "2026-01"), resident.id: ("referral", "2026-01")}


def test_renew_only_replaces_an_expired_genuine_link(session, make_volunteer):
    volunteer = make_volunteer(email="canary@example.org", email_verified_at=None)
    now = utcnow()
    token = signups.send_confirmation(session, volunteer, text=TEXT, link_url="https://x/{token}",
                                      locale="nl", secret=SECRET, now=now)
    assert signups.renew(session, token, text=TEXT, link_url="https://x/{token}", locale="nl",
                         secret=SECRET, now=now) is False
    with pytest.raises(InvalidLink):
        signups.renew(session, token + "x", text=TEXT, link_url="https://x/{token}", locale="nl",
                      secret=SECRET, now=now + signups.LINK_TTL)
    later = now + signups.LINK_TTL
    assert signups.renew(session, token, text=TEXT, link_url="https://x/{token}", locale="nl",
                         secret=SECRET, now=later) is True
    assert signups.renew(session, token, text=TEXT, link_url="https://x/{token}", locale="nl",
                         secret=SECRET, now=later) is False
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_two_concurrent_posts_of_one_signup_make_one_volunteer_and_one_mail(engine):
    import threading

    from matching.store import Volunteer, make_session_factory

    factory = make_session_factory(engine)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def post() -> None:
        with factory() as own:
            barrier.wait()
            try:
                made = signups.sign_up(
                    own, {"first_name": "Sanne", "email": "sanne@example.org"}, consented=True,
                    text_version="2026-01", text=TEXT, link_url="https://x/{token}", locale="nl",
                    secret=SECRET, now=utcnow())
                own.commit()
                results.append(made is not None)
            except Exception as error:  # reported below, not swallowed
                results.append(error)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [False, True], results
    with factory() as check:
        assert check.scalar(select(func.count()).select_from(Volunteer)) == 1
        assert check.scalar(select(func.count()).select_from(OutboxMessage)) == 1
