"""Right of access and erasure: a canary in every personal field, gone everywhere after erasure."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from matching.errors import Conflict, NotFound
from matching.services import consents, privacy, profiles
from matching.store import (
    Base, CheckIn, Exclusion, GeocodeCache, Match, OutboxMessage, Resident, Volunteer,
)
from matching.store.staff import AuditEvent

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
CANARY = "Zqx7Q"  # fits every text column (postcode is 7 characters); ids are hex, never hold it
OTHER = "Vwk8J"


def every_personal_field(mark: str, **extra):
    return {
        "first_name": f"{mark}first", "last_name": f"{mark}last", "email": f"{mark.lower()}@example.org",
        "phone": f"+31{mark}", "postcode": mark, "house_number": f"1{mark}",
        "neighbourhood": f"{mark}wijk", "location_problem": f"{mark}problem",
        "notes": f"notitie {mark}", "lat": 52.1, "lon": 5.1, **extra,
    }


def dump(session) -> str:
    """Every row of every table, as text."""
    session.flush()
    return "\n".join(repr(session.execute(select(table)).all()) for table in Base.metadata.sorted_tables)


@pytest.fixture
def people(session, make_volunteer, make_resident):
    resident = make_resident(**every_personal_field(
        CANARY, health_note=f"{CANARY} health", referrer_name=f"{CANARY}ref",
        referrer_organisation=f"{CANARY}org", referrer_email=f"ref{CANARY}@example.org",
        referrer_phone=f"+31{CANARY}9", status="matched"))
    volunteer = make_volunteer(**every_personal_field(OTHER), open_matches=1)
    bystander = make_resident(**every_personal_field("Bys9t"), status="waiting")
    match = Match(volunteer_id=volunteer.id, resident_id=resident.id, status="active",
                  end_note=f"{CANARY} note", explanation={"why": f"{CANARY} likes walking"})
    old = Match(volunteer_id=volunteer.id, resident_id=resident.id, status="declined",
                decline_reason=f"{CANARY} said no")
    session.add_all([match, old, Exclusion(volunteer_id=volunteer.id, resident_id=resident.id,
                                           reason="declined")])
    session.flush()
    session.add_all([
        CheckIn(match_id=match.id, week="2026-W48", comment=f"Gezellig met {CANARY}first", met="yes"),
        OutboxMessage(dedupe_key="r1", to_address=resident.email, subject=f"Hallo {CANARY}first",
                      body_text=f"Beste {CANARY}first {CANARY}last", status="pending",
                      subject_kind="resident", subject_id=resident.id),
        OutboxMessage(dedupe_key="r2", to_address=resident.email, subject="Oud bericht",
                      body_text=f"Beste {CANARY}first", status="sent"),
        OutboxMessage(dedupe_key="v1", to_address=volunteer.email, subject="Nieuw maatje",
                      body_text=f"Beste {OTHER}first, maak kennis met {CANARY}first {CANARY}last "
                                f"({resident.phone})",
                      status="pending", subject_kind="match", subject_id=match.id),
        GeocodeCache(query=CANARY.upper(), lat=52.1, lon=5.1, source="geocoder"),
    ])
    consents.give(session, "resident", resident.id, "health_note", "2026-01", "staff1", NOW)
    profiles.view_profile(session, "resident", resident.id, actor="staff1", now=NOW)
    session.flush()
    return resident, volunteer, bystander, match


def test_export_person_holds_everything_and_is_json(session, people):
    resident, volunteer, _bystander, match = people
    exported = privacy.export_person(session, "resident", resident.id)
    text = json.dumps(exported)
    assert exported["profile"]["health_note"] == f"{CANARY} health"
    assert exported["consents"][0]["purpose"] == "health_note" and exported["consents"][0]["text"]
    assert {m["id"] for m in exported["matches"]} >= {match.id}
    assert exported["matches"][0]["other_party"] == {"kind": "volunteer", "id": volunteer.id}
    assert OTHER not in text  # the other party is only an id
    assert exported["check_ins"][0]["comment"].endswith(f"{CANARY}first")
    assert {m["subject"] for m in exported["outbox_messages"]} == {f"Hallo {CANARY}first", "Oud bericht"}
    assert [e["action"] for e in exported["audit_events"]][-1] == "resident.viewed"
    with pytest.raises(NotFound):
        privacy.export_person(session, "resident", "nope")


def test_erase_leaves_no_canary_and_keeps_others_intact(session, people):
    resident, volunteer, bystander, match = people
    assert CANARY.lower() in dump(session).lower()
    before_volunteer = {c: getattr(volunteer, c) for c in every_personal_field(OTHER)}
    before_bystander = privacy.export_person(session, "resident", bystander.id)["profile"]

    privacy.erase_person(session, "resident", resident.id, actor="staff1", now=NOW)
    session.expire_all()

    assert CANARY.lower() not in dump(session).lower()
    # The profile row stays, anonymised, so matches and statistics still add up.
    erased = session.get(Resident, resident.id)
    assert (erased.status, erased.closed_reason, erased.first_name, erased.birth_year) == (
        "closed", profiles.ERASED, "", 1940)
    ended = session.get(Match, match.id)
    assert (ended.status, ended.end_reason, ended.resident_id) == ("ended", "other", resident.id)
    messages = {m.dedupe_key: m for m in session.scalars(select(OutboxMessage))}
    assert messages["r1"].status == "cancelled" and messages["r2"].status == "sent"
    assert messages["v1"].status == "cancelled" and f"Beste {OTHER}first" in messages["v1"].body_text
    assert messages["v1"].to_address == f"{OTHER.lower()}@example.org"
    # The volunteer keeps everything, minus the open match.
    volunteer = session.get(Volunteer, volunteer.id)
    assert {c: getattr(volunteer, c) for c in before_volunteer} == before_volunteer
    assert volunteer.open_matches == 0
    assert privacy.export_person(session, "resident", bystander.id)["profile"] == before_bystander
    assert session.scalars(select(Exclusion)).all() == []
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "resident.erased")).one()
    assert "health_note" in event.fields and event.actor == "staff1"
    with pytest.raises(Conflict):
        profiles.update_resident(session, resident.id, {"first_name": "X"},
                                 expected_version=erased.version, actor=None, now=NOW)


def test_erasing_a_volunteer_frees_the_resident(session, people):
    resident, volunteer, _bystander, match = people
    privacy.erase_person(session, "volunteer", volunteer.id, actor="staff1", now=NOW)
    session.expire_all()
    assert OTHER.lower() not in dump(session).lower()
    assert session.get(Resident, resident.id).status == "waiting"
    assert session.get(Resident, resident.id).first_name == f"{CANARY}first"
    gone = session.get(Volunteer, volunteer.id)
    assert (gone.status, gone.open_matches, gone.stop_reason) == ("stopped", 0, profiles.ERASED)
    assert gone.birth_year == 1960 and gone.email is None and gone.languages == []
