"""Consent withdrawn by staff: recorded (what, when, by whom), the health note goes with its
consent, and the person's export shows the whole consent history."""
from __future__ import annotations

import json

from sqlalchemy import select

from matching.services import consents
from matching.store import AuditEvent, Consent, Resident, StaffUser, utcnow

from .profile_fixtures import fetch, post_form


def test_staff_withdraw_a_health_note_consent_and_the_note_is_gone(logged_in, session,
                                                                   make_resident):
    client = logged_in("coordinator")
    resident = make_resident(health_note="HEALTHCANARY")
    for purpose in ("referral", "health_note"):
        consents.give(session, "resident", resident.id, purpose, consents.CURRENT_VERSION,
                      "referrer", utcnow())
    session.commit()
    page = client.get(f"/deelnemers/{resident.id}").get_data(as_text=True)
    assert "toestemming-intrekken" in page and "HEALTHCANARY" in page
    response = post_form(client, f"/deelnemers/{resident.id}/toestemming-intrekken",
                         {"purpose": "health_note"}, form_path=f"/deelnemers/{resident.id}")
    assert response.status_code == 302
    assert fetch(session, Resident, resident.id).health_note is None
    staff_id = session.scalar(select(StaffUser.id))
    withdrawn = session.scalar(select(Consent).where(Consent.purpose == "health_note"))
    assert withdrawn.withdrawn_at is not None and withdrawn.withdrawn_by == f"staff:{staff_id}"
    assert session.scalar(select(Consent).where(Consent.purpose == "referral")).withdrawn_at is None
    assert session.scalar(select(AuditEvent.fields).where(
        AuditEvent.action == "consent.withdrawn.health_note")) == ["health_note"]
    session.commit()
    exported = json.loads(client.get(f"/deelnemers/{resident.id}/export.json").data)
    history = {c["purpose"]: c for c in exported["consents"]}
    assert history["health_note"]["withdrawn_by"] == f"staff:{staff_id}"
    assert history["health_note"]["withdrawn_at"] and history["referral"]["withdrawn_at"] is None
    assert "HEALTHCANARY" not in json.dumps(exported)
    # Withdrawing again is refused with a message and changes nothing.
    again = post_form(client, f"/deelnemers/{resident.id}/toestemming-intrekken",
                      {"purpose": "health_note"}, form_path=f"/deelnemers/{resident.id}")
    assert again.status_code == 302
    assert "niet (meer) gegeven" in client.get(f"/deelnemers/{resident.id}").get_data(as_text=True)
