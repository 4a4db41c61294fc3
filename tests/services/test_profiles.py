"""Profiles: create and edit with validation, version checks, duplicates, merging, lifecycle."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from matching.errors import Conflict, ValidationFailed
from matching.services import consents, profiles, validation
from matching.store import (
    Activity, AuditEvent, CheckIn, Consent, Exclusion, Interest, Language, Match, PostcodeArea,
    Resident, Volunteer,
)

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


VOLUNTEER = {
    "first_name": "Anne", "last_name": "de Vries", "email": "Anne@Example.org",
    "phone": "06 12345678", "postcode": "3511ab", "house_number": "12a", "birth_year": "1960",
    "gender": "f", "languages": "nl", "interests": ["wandelen"], "availability": "0;4",
    "max_travel_km": "2,5", "capacity": "2",
}
RESIDENT = {
    "first_name": "Henk", "last_name": "Jansen", "phone": "030 1234567", "postcode": "3511 AB",
    "house_number": "3", "birth_year": 1940, "target_group": "older_person",
    "referral_source": "gp",
}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_create_volunteer_normalises_locates_and_audits_field_names(session, codes):
    volunteer = profiles.create_volunteer(
        session, {**VOLUNTEER, "id": "chosen", "status": "stopped", "open_matches": 3,
                  "version": 7}, actor="staff1", now=NOW, source="signup")
    assert volunteer.id != "chosen" and volunteer.status == "new" and volunteer.version == 1
    assert volunteer.open_matches == 0
    assert (volunteer.email, volunteer.phone, volunteer.postcode) == (
        "anne@example.org", "+31612345678", "3511 AB")
    assert (volunteer.lat, volunteer.lon, volunteer.location_source) == (52.09, 5.11, "postcode_area")
    assert volunteer.capacity == 2 and volunteer.max_travel_km == 2.5
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "volunteer.created")).one()
    assert event.actor == "staff1" and "email" in event.fields
    assert "anne" not in repr(event.fields).lower() and event.detail == {}


def test_an_invalid_profile_stores_nothing_and_reports_every_field(session, codes):
    with pytest.raises(ValidationFailed) as failure:
        profiles.create_volunteer(session, {**VOLUNTEER, "postcode": "0123 AB", "capacity": 0,
                                            "interests": ["skydiving"]}, actor=None, now=NOW)
    assert failure.value.errors == {
        "postcode": "invalid_postcode", "capacity": "out_of_range", "interests": "unknown_code"}
    assert count(session, Volunteer) == 0 and count(session, AuditEvent) == 0


def test_unknown_postcode_is_saved_with_a_location_problem(session, codes):
    volunteer = profiles.create_volunteer(session, {**VOLUNTEER, "postcode": "9999 ZZ"},
                                          actor=None, now=NOW)
    assert volunteer.lat is None and volunteer.location_problem == "unknown_postcode"
    resident = profiles.create_resident(session, {"first_name": "Els"}, actor=None, now=NOW)
    assert resident.location_problem == "no_postcode"
    fixed = profiles.update_resident(session, resident.id, {"manual_lat": "52,1", "manual_lon": 5.1},
                                     expected_version=1, actor=None, now=NOW)
    assert (fixed.lat, fixed.lon, fixed.location_source, fixed.location_problem) == (
        52.1, 5.1, "manual", None)


def test_a_stale_edit_is_refused_and_changes_nothing(session, codes):
    volunteer = profiles.create_volunteer(session, VOLUNTEER, actor=None, now=NOW)
    profiles.update_volunteer(session, volunteer.id, {"capacity": 3}, expected_version=1,
                              actor="a", now=NOW)
    assert volunteer.version == 2
    with pytest.raises(Conflict):
        profiles.update_volunteer(session, volunteer.id, {"capacity": 1, "first_name": "X"},
                                  expected_version=1, actor="b", now=NOW)
    session.expire_all()
    stored = session.get(Volunteer, volunteer.id)
    assert (stored.capacity, stored.first_name, stored.version) == (3, "Anne", 2)
    updated = session.scalars(select(AuditEvent).where(AuditEvent.action == "volunteer.updated")).one()
    assert updated.fields == ["capacity"]


def test_an_update_ignores_fields_the_caller_may_not_set(session, codes):
    volunteer = profiles.create_volunteer(session, VOLUNTEER, actor=None, now=NOW)
    profiles.update_volunteer(session, volunteer.id, {"status": "stopped", "open_matches": 1,
                                                      "id": "x", "is_returning": True},
                              expected_version=1, actor=None, now=NOW)
    assert (volunteer.status, volunteer.open_matches, volunteer.version) == ("new", 0, 1)


def test_health_note_needs_explicit_consent(session, codes):
    with pytest.raises(ValidationFailed) as failure:
        profiles.create_resident(session, {**RESIDENT, "health_note": "diabetes"}, actor="s",
                                 now=NOW)
    assert failure.value.errors == {"health_note": "consent_required"}
    assert count(session, Resident) == 0
    resident = profiles.create_resident(
        session, {**RESIDENT, "health_note": "diabetes", "health_note_consent": "ja"},
        actor="s", now=NOW)
    consent = consents.current(session, "resident", resident.id, "health_note")
    assert consent.text_version == consents.CURRENT_VERSION and consent.recorded_by == "s"
    assert resident.health_note == "diabetes"
    # With consent on file, a later edit needs no new tick; after withdrawal it does.
    profiles.update_resident(session, resident.id, {"health_note": "diabetes type 2"},
                             expected_version=1, actor="s", now=NOW)
    assert consents.withdraw(session, "resident", resident.id, "health_note", actor="s", now=NOW) == 1
    assert resident.health_note is None
    with pytest.raises(ValidationFailed):
        profiles.update_resident(session, resident.id, {"health_note": "x"},
                                 expected_version=resident.version, actor="s", now=NOW)


def test_consent_records_text_version_and_refuses_unknown_versions(session, codes):
    volunteer = profiles.create_volunteer(session, VOLUNTEER, actor=None, now=NOW)
    consent = consents.give(session, "volunteer", volunteer.id, "profile", "2026-01", "s", NOW)
    assert consents.current(session, "volunteer", volunteer.id, "profile").id == consent.id
    assert "vrijwilliger" in consents.text("profile")
    with pytest.raises(ValidationFailed):
        consents.give(session, "volunteer", volunteer.id, "profile", "1999-01", "s", NOW)


def test_referral_needs_referrer_and_starts_referred(session, codes):
    with pytest.raises(ValidationFailed) as failure:
        profiles.create_resident(session, RESIDENT, actor=None, now=NOW, referral=True)
    assert failure.value.errors == {"referrer_name": "required", "referrer_email": "required"}
    with pytest.raises(ValidationFailed) as failure:
        profiles.create_resident(session, {**RESIDENT, "referrer_name": "Dr\x00", "referrer_email":
                                           "x@y.nl"}, actor=None, now=NOW, referral=True)
    assert failure.value.errors == {"referrer_name": "invalid_characters"}
    resident = profiles.create_resident(
        session, {**RESIDENT, "referrer_name": "Dr. Bakker", "referrer_organisation": "Huisarts",
                  "referrer_phone": "0307654321"},
        actor=None, now=NOW, referral=True, status="waiting")
    assert resident.status == "referred" and resident.waiting_since is None
    assert resident.referrer_phone == "+31307654321"
    profiles.set_waiting(session, resident.id, actor="s", now=NOW)
    assert (resident.status, resident.waiting_since) == ("waiting", date(2026, 11, 29))
    profiles.put_on_hold(session, resident.id, actor="s", now=NOW)
    profiles.set_waiting(session, resident.id, actor="s", now=NOW + timedelta(days=9))
    assert resident.waiting_since == date(2026, 11, 29)
    profiles.close(session, resident.id, "verhuisd", actor="s", now=NOW)
    assert (resident.status, resident.closed_reason) == ("closed", "verhuisd")


def test_volunteer_lifecycle_counts_a_returning_volunteer(session, codes):
    volunteer = profiles.create_volunteer(session, VOLUNTEER, actor=None, now=NOW)
    with pytest.raises(ValidationFailed):
        profiles.pause(session, volunteer.id, date(2026, 11, 1), actor="s", now=NOW)
    profiles.pause(session, volunteer.id, date(2027, 1, 1), actor="s", now=NOW)
    assert (volunteer.status, volunteer.paused_until) == ("paused", date(2027, 1, 1))
    profiles.reactivate(session, volunteer.id, actor="s", now=NOW)
    assert (volunteer.status, volunteer.is_returning) == ("available", False)
    profiles.stop(session, volunteer.id, "verhuisd", actor="s", now=NOW)
    assert (volunteer.status, volunteer.stop_reason, volunteer.stopped_at) == (
        "stopped", "verhuisd", NOW)
    later = NOW + timedelta(days=100)
    profiles.reactivate(session, volunteer.id, actor="s", now=later)
    assert (volunteer.status, volunteer.is_returning, volunteer.returned_at) == (
        "available", True, later)
    assert volunteer.stop_reason is None and volunteer.stopped_at is None


def test_stopping_with_an_open_match_is_refused(session, codes, make_resident):
    volunteer = profiles.create_volunteer(session, VOLUNTEER, actor=None, now=NOW)
    session.add(Match(volunteer_id=volunteer.id, resident_id=make_resident().id, status="active"))
    volunteer.open_matches = 1
    session.flush()
    with pytest.raises(Conflict):
        profiles.stop(session, volunteer.id, "weg", actor=None, now=NOW)


def test_find_duplicates_by_email_phone_or_name_and_postcode(session, codes):
    anne = profiles.create_volunteer(session, VOLUNTEER, actor=None, now=NOW)
    other = profiles.create_volunteer(session, {"first_name": "Bert", "email": "b@x.nl"},
                                      actor=None, now=NOW)
    assert profiles.find_duplicates(session, "volunteer", {"email": "ANNE@example.org"}) == [anne]
    assert profiles.find_duplicates(session, "volunteer", {"phone": "+31 6 1234 5678"}) == [anne]
    assert profiles.find_duplicates(session, "volunteer", {
        "first_name": "anne", "last_name": "De Vries", "postcode": "3511AB"}) == [anne]
    assert profiles.find_duplicates(session, "volunteer", {"first_name": "Anne"}) == []
    assert profiles.find_duplicates(session, "volunteer", {"email": "b@x.nl"},
                                    exclude_id=other.id) == []
    assert profiles.find_duplicates(session, "resident", {"email": "anne@example.org"}) == []


def test_merge_volunteers_moves_everything_to_the_kept_record(session, codes, make_resident):
    keep = profiles.create_volunteer(session, VOLUNTEER, actor=None, now=NOW)
    drop = profiles.create_volunteer(session, {**VOLUNTEER, "email": "anne2@example.org"},
                                     actor=None, now=NOW)
    r1, r2 = make_resident(), make_resident(first_name="Piet")
    old = Match(volunteer_id=keep.id, resident_id=r1.id, status="ended")
    open_match = Match(volunteer_id=drop.id, resident_id=r2.id, status="active")
    session.add_all([old, open_match,
                     Exclusion(volunteer_id=keep.id, resident_id=r1.id, reason="declined"),
                     Exclusion(volunteer_id=drop.id, resident_id=r1.id, reason="declined"),
                     Exclusion(volunteer_id=drop.id, resident_id=r2.id, reason="other")])
    drop.open_matches = 1
    session.flush()
    session.add(CheckIn(match_id=open_match.id, week="2026-W48", comment="goed"))
    consents.give(session, "volunteer", drop.id, "profile", "2026-01", "s", NOW)
    drop_id = drop.id
    kept = profiles.merge_volunteers(session, keep.id, drop_id, actor="s", now=NOW)
    session.expire_all()
    assert session.get(Volunteer, drop_id) is None
    assert kept.open_matches == 1
    assert {m.volunteer_id for m in session.scalars(select(Match))} == {keep.id}
    assert session.scalars(select(CheckIn)).one().match_id == open_match.id
    assert sorted(e.resident_id for e in session.scalars(select(Exclusion))) == sorted([r1.id, r2.id])
    assert session.scalars(select(Consent)).one().subject_id == keep.id


def test_merge_residents_refuses_two_open_matches(session, codes, make_volunteer, make_resident):
    keep, drop = make_resident(), make_resident(first_name="Henk2")
    v1, v2 = make_volunteer(open_matches=1), make_volunteer(email="v2@x.nl", open_matches=1)
    session.add_all([Match(volunteer_id=v1.id, resident_id=keep.id, status="active"),
                     Match(volunteer_id=v2.id, resident_id=drop.id, status="offered")])
    session.flush()
    with pytest.raises(Conflict):
        profiles.merge_residents(session, keep.id, drop.id, actor="s", now=NOW)
    assert session.get(Resident, drop.id) is not None


def test_merge_residents_takes_over_the_open_match_and_status(session, codes, make_volunteer,
                                                              make_resident):
    keep, drop = make_resident(status="waiting"), make_resident(first_name="H", status="matched")
    volunteer = make_volunteer(open_matches=1)
    session.add(Match(volunteer_id=volunteer.id, resident_id=drop.id, status="active"))
    session.flush()
    profiles.merge_residents(session, keep.id, drop.id, actor="s", now=NOW)
    assert keep.status == "matched"
    assert session.scalars(select(Match)).one().resident_id == keep.id


def test_viewing_a_profile_is_audited(session, codes):
    volunteer = profiles.create_volunteer(session, VOLUNTEER, actor=None, now=NOW)
    profiles.view_profile(session, "volunteer", volunteer.id, actor="staff9", now=NOW)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "volunteer.viewed")).one()
    assert (event.actor, event.subject_id, event.fields) == ("staff9", volunteer.id, [])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(validation.RESIDENT_FIELDS)),
       value=st.text(max_size=300))
def test_random_text_per_resident_field_is_stored_normalised_or_stores_nothing(
        session, codes, name, value):
    before = count(session, Resident)
    try:
        resident = profiles.create_resident(session, {**RESIDENT, name: value,
                                                      "health_note_consent": True},
                                            actor=None, now=NOW)
    except ValidationFailed as failure:
        assert set(failure.errors.values()) <= set(validation.KEYS)
        assert count(session, Resident) == before
        return
    session.flush()
    assert count(session, Resident) == before + 1
    if name not in ("manual_lat", "manual_lon", "health_note_consent"):
        cleaned = validation.clean("resident", {**RESIDENT, name: value},
                                   today=NOW.date(), taxonomy=profiles.taxonomy(session))
        if name in cleaned:
            assert getattr(resident, name) == cleaned[name]


def test_audit_rows_of_a_view_and_an_edit_hold_no_values(session, codes):
    canary = "Zqx7Q"
    resident = profiles.create_resident(
        session, {**RESIDENT, "first_name": canary, "notes": canary, "health_note": canary,
                  "health_note_consent": True}, actor="s", now=NOW)
    profiles.view_profile(session, "resident", resident.id, actor="s", now=NOW)
    profiles.update_resident(session, resident.id, {"last_name": canary, "postcode": "9999 ZZ"},
                             expected_version=1, actor="s", now=NOW)
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == [
        "consent.given.health_note", "resident.created", "resident.viewed", "resident.updated"]
    assert events[-1].fields == ["last_name", "lat", "location_problem", "location_source", "lon",
                                 "postcode"]
    assert canary.lower() not in repr([(e.fields, e.detail, e.action) for e in events]).lower()
    assert resident.location_problem == "unknown_postcode" and resident.lat is None
