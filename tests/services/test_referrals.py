"""Closed-loop referrals: the referrer hears each move of the referral once, and beyond
"received" only with the resident's consent."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from matching.services import consents, pairing, referrals
from matching.store import MatchRun, OutboxMessage, ReferralNote, ReferralUpdate, Resident

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
BASE = "https://maatwerk.example"
SECRET = "s" * 40


def notify(session, at=NOW) -> int:
    return referrals.notify_moves(session, now=at, base_url=BASE, secret=SECRET)


def stages(session, resident) -> list[str]:
    return list(session.scalars(select(ReferralUpdate.stage).where(ReferralUpdate.resident_id == resident.id)
                                .order_by(ReferralUpdate.sequence)))


def mails(session, resident) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.subject_id == resident.id)
                                .order_by(OutboxMessage.created_at, OutboxMessage.dedupe_key)))


def referred(make_resident, **fields) -> Resident:
    return make_resident(**{"status": "referred", "waiting_since": None, "referrer_name": "Dr. Jansen",
                            "referrer_email": "praktijk@example.org", "referral_source": "gp",
                            "created_at": NOW - timedelta(days=1), **fields})


def test_a_referral_is_acknowledged_once(session, make_resident):
    resident = referred(make_resident)
    assert notify(session) == 1
    assert notify(session) == 0
    [mail] = mails(session, resident)
    assert mail.to_address.endswith("<praktijk@example.org>") and "/verwijzing/" in mail.body_text
    assert "Henk J." in mail.subject and "ontvangen" in mail.subject
    assert stages(session, resident) == ["received"]


def test_without_consent_nothing_follows_received(session, make_resident, make_volunteer):
    resident = referred(make_resident)
    notify(session)
    referrals.intake_done(session, resident.id, False, actor="staff:x", now=NOW)
    volunteer = make_volunteer()
    pairing.open_match(session, volunteer_id=volunteer.id, resident_id=resident.id, status="active",
                       activated_at=NOW, proposed_at=NOW)
    assert notify(session, NOW + timedelta(days=1)) == 0
    assert stages(session, resident) == ["received"]


def test_with_consent_every_move_is_told_once(session, make_resident, make_volunteer):
    resident = referred(make_resident)
    notify(session)
    referrals.intake_done(session, resident.id, True, actor="staff:x", now=NOW)
    assert consents.current(session, "resident", resident.id, "referrer_updates") is not None
    assert notify(session) == 1 and notify(session) == 0
    run = MatchRun(status="done", progress=100, started_at=NOW, finished_at=NOW,
                   unmatched={resident.id: "no_volunteer_in_reach"})
    session.add(run)
    session.flush()
    assert notify(session) == 1
    volunteer = make_volunteer()
    match = pairing.open_match(session, volunteer_id=volunteer.id, resident_id=resident.id, status="accepted",
                               proposed_at=NOW + timedelta(minutes=1), decided_at=NOW)
    resident.status = "proposed"
    assert notify(session) == 1
    match.status, match.activated_at = "active", NOW
    resident.status = "matched"
    session.flush()
    assert notify(session) == 1
    pairing.close_match(session, match, "ended", NOW)
    match.end_reason = "moved"
    resident.status, resident.closed_at, resident.closed_reason = "closed", NOW, "doorverwezen naar Humanitas"
    session.flush()
    assert notify(session) == 1 and notify(session) == 0
    assert stages(session, resident) == ["received", "intake_done", "waiting", "matched", "introduced", "closed"]
    updates = session.scalars(select(ReferralUpdate).where(ReferralUpdate.resident_id == resident.id)
                              .order_by(ReferralUpdate.sequence)).all()
    assert updates[2].reason == "no_volunteer_in_reach" and updates[-1].reason == "doorverwezen naar Humanitas"
    assert len(mails(session, resident)) == 6
    assert all(volunteer.first_name not in m.body_text for m in mails(session, resident))


def test_old_referrals_are_not_written_to_out_of_the_blue(session, make_resident):
    old = make_resident(status="waiting", referrer_email="oud@example.org", created_at=NOW - timedelta(days=30))
    assert notify(session) == 0 and stages(session, old) == []


def test_an_unaddressable_referrer_never_undoes_the_referral(session, make_resident):
    resident = referred(make_resident, referrer_email="dokter@praktijk.local")
    assert notify(session) == 1
    [mail] = mails(session, resident)
    assert mail.status == "failed" and stages(session, resident) == ["received"]
    assert session.get(Resident, resident.id) is not None


def test_consent_can_be_given_later_and_then_the_current_stage_follows(session, make_resident):
    resident = referred(make_resident)
    notify(session)
    referrals.intake_done(session, resident.id, False, actor="staff:x", now=NOW)
    assert notify(session) == 0
    consents.give(session, "resident", resident.id, "referrer_updates", consents.CURRENT_VERSION, "staff:x", NOW)
    assert notify(session) == 1 and stages(session, resident) == ["received", "intake_done"]
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_export_holds_and_erasure_removes_what_the_referrer_was_told(session, make_resident):
    from matching.services import privacy

    resident = referred(make_resident, first_name="Kanarie", last_name="Vogelaar")
    notify(session)
    referrals.intake_done(session, resident.id, True, actor="staff:x", now=NOW)
    resident.status, resident.closed_reason, resident.closed_at = "closed", "Kanarie verhuist naar Zeist", NOW
    session.flush()
    notify(session)
    session.add(ReferralNote(resident_id=resident.id, text="Kanarie is verhuisd", created_at=NOW))
    session.flush()
    exported = privacy.export_person(session, "resident", resident.id)
    assert [u["stage"] for u in exported["referral_updates"]] == ["received", "closed"]
    assert exported["referral_notes"][0]["text"] == "Kanarie is verhuisd"
    privacy.erase_person(session, "resident", resident.id, actor="staff:x", now=NOW)
    assert session.scalar(select(func.count()).select_from(ReferralNote)) == 0
    assert all(u.reason is None for u in session.scalars(select(ReferralUpdate)))
    for message in session.scalars(select(OutboxMessage)):
        assert "Kanarie" not in f"{message.subject} {message.body_text} {message.body_html}"
