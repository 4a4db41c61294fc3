"""The referrer's status page: a signed link bound to that referral, expiring; GET changes nothing;
it shows what the referrer gave and the status, never the volunteer; a note goes to the
coordinators."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from matching.services import links, pairing, referrals
from matching.store import AuditEvent, Link, OutboxMessage, ReferralNote, Resident, utcnow
from tests.conftest import table_digest

SECRET_KEY_PATH = None


def _link(session, resident, app) -> str:
    referrals.notify_moves(session, now=utcnow(), base_url="http://localhost", secret=app.secret_key)
    session.commit()
    body = session.scalars(select(OutboxMessage.body_text).where(OutboxMessage.subject_id == resident.id)
                           .order_by(OutboxMessage.created_at.desc())).first()
    session.commit()
    return re.search(r"(/verwijzing/\S+)", body).group(1)


def _referral(make_resident, **fields) -> Resident:
    return make_resident(status="referred", first_name="Gerrit", last_name="Mulder", referrer_name="Dr. Jansen",
                         referrer_email="praktijk@example.org", referral_source="gp", **fields)


def test_the_page_shows_the_status_and_never_the_volunteer(app, client, session, engine, make_resident,
                                                           make_volunteer):
    resident = _referral(make_resident)
    session.commit()
    path = _link(session, resident, app)
    referrals.intake_done(session, resident.id, True, actor="staff:x", now=utcnow())
    volunteer = make_volunteer(first_name="Zwaantje", last_name="Vrijwilligersnaam")
    pairing.open_match(session, volunteer_id=volunteer.id, resident_id=resident.id, status="accepted",
                       proposed_at=utcnow(), decided_at=utcnow())
    session.commit()
    path = _link(session, resident, app)
    before = table_digest(engine)
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-stage="matched"' in text and "Gekoppeld" in text
    assert "Gerrit Mulder" in text and "Dr. Jansen" in text
    assert "Zwaantje" not in text and "Vrijwilligersnaam" not in text
    assert page.headers["Cache-Control"] == "no-store"
    assert table_digest(engine) == before  # GET changes nothing


def test_without_consent_only_received_shows(app, client, session, make_resident, make_volunteer):
    resident = _referral(make_resident)
    session.commit()
    path = _link(session, resident, app)
    referrals.intake_done(session, resident.id, False, actor="staff:x", now=utcnow())
    volunteer = make_volunteer()
    pairing.open_match(session, volunteer_id=volunteer.id, resident_id=resident.id, status="active",
                       proposed_at=utcnow(), activated_at=utcnow())
    session.commit()
    text = client.get(path).get_data(as_text=True)
    assert 'data-stage="received"' in text and 'data-consent="no"' in text


def test_a_note_needs_csrf_and_is_kept_for_the_coordinators(app, client, session, make_resident):
    from tests.logins import csrf_token
    resident = _referral(make_resident)
    session.commit()
    path = _link(session, resident, app)
    assert client.post(f"{path}/notitie", data={"note": "Mevrouw is verhuisd"}).status_code == 400
    token = csrf_token(client, path)
    too_long = client.post(f"{path}/notitie", data={"note": "x" * 1001, "csrf_token": token})
    assert too_long.status_code == 422 and "hoogstens 1000 tekens" in too_long.get_data(as_text=True)
    done = client.post(f"{path}/notitie", data={"note": "Mevrouw is verhuisd", "csrf_token": token})
    assert done.status_code == 200
    assert session.scalar(select(ReferralNote.text)) == "Mevrouw is verhuisd"
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "referral.note_added")) == 1
    session.commit()


def test_bad_foreign_and_expired_links_show_nothing_personal(app, client, session, make_resident):
    resident = _referral(make_resident)
    session.commit()
    path = _link(session, resident, app)
    tampered = client.get(path[:-3] + "xyz")
    assert tampered.status_code == 400 and "Gerrit" not in tampered.get_data(as_text=True)
    other = links.issue(session, purpose="check_in", subject=("resident", resident.id),
                        person=("referrer", resident.id), now=utcnow(), ttl=timedelta(days=1), secret=app.secret_key)
    session.commit()
    assert client.get(f"/verwijzing/{other}").status_code == 400
    session.execute(Link.__table__.update().values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    expired = client.get(path)
    text = expired.get_data(as_text=True)
    assert expired.status_code == 400 and 'data-reason="expired"' in text and "Gerrit" not in text
    from tests.logins import csrf_token
    token = csrf_token(client, path)
    before = session.scalar(select(func.count()).select_from(OutboxMessage))
    session.commit()
    assert client.post(f"{path}/nieuw", data={"csrf_token": token}).status_code == 200
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == before + 1
    renewed = session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at.desc())).first()
    assert renewed.to_address.endswith("<praktijk@example.org>")
    session.commit()
