"""Retention: time travel past the period; no canary left in any table, the same aggregates."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from matching.services import check_ins, durability, endings, profiles, retention
from matching.store import Base, CheckIn, Match, MilestoneReview, Resident, Volunteer

SECRET = "retention-secret-" + "x" * 40
BASE = "https://maatwerk.example"
CANARY = "Kanarie7Q"
POSTCODE = "3599 ZQ"
START = datetime(2024, 1, 8, 8, 0, tzinfo=UTC)
ENDED = datetime(2024, 9, 2, 12, 0, tzinfo=UTC)


def canary_person(prefix: str) -> dict:
    return {
        "first_name": f"{CANARY}{prefix}", "last_name": f"{CANARY}achternaam",
        "email": f"{CANARY.lower()}{prefix}@example.org", "phone": "0699999999",
        "postcode": POSTCODE, "house_number": "77b", "notes": f"{CANARY} notitie",
        "neighbourhood": "Lombok", "birth_year": 1947,
    }


def scenario(session, make_active_match, make_volunteer):
    resident = {**canary_person("r"), "health_note": f"{CANARY} gezondheid",
                "referrer_name": f"{CANARY} huisarts", "referrer_email": "ref@example.org",
                "target_group": "migrant_elder"}
    match = make_active_match(START, volunteer=canary_person("v"), resident=resident)
    for week in range(3):
        check_ins.send_weekly(session, now=START + timedelta(weeks=week), base_url=BASE,
                              secret=SECRET)
    session.execute(select(CheckIn)).scalars().first().comment = f"{CANARY} opmerking"
    session.add(MilestoneReview(match_id=match.id, milestone="6w", due_on=START.date(),
                                note=f"{CANARY} review"))
    endings.end_match(session, match.id, "moved", f"{CANARY} verhuisd", actor=None, now=ENDED,
                      rematch=False, base_url=BASE, secret=SECRET)
    profiles.stop(session, match.volunteer_id, f"{CANARY} gaat studeren", actor=None, now=ENDED)
    # Someone else, still active, must stay as they are.
    other = make_active_match(START, volunteer={"first_name": "Blijft"},
                              resident={"first_name": "Bewaard"})
    session.commit()
    return match, other


def aggregates(session, now):
    matches = session.execute(select(Match.status, Match.end_reason, Match.activated_at,
                                      Match.ended_at)).all()
    residents = session.execute(select(Resident.target_group, Resident.birth_year,
                                       Resident.neighbourhood, Resident.status,
                                       Resident.closed_reason, Resident.closed_at)).all()
    volunteers = session.execute(select(Volunteer.status, Volunteer.neighbourhood,
                                        Volunteer.birth_year, Volunteer.stopped_at)).all()
    return {
        "matches": Counter(map(tuple, matches)),
        "residents": Counter((g, y - y % 10 if y else None, n, s, r, c)
                             for g, y, n, s, r, c in residents),
        "volunteers": Counter((s, n, y - y % 10 if y else None, t) for s, n, y, t in volunteers),
        "durable": durability.durable_counts(session, now=now),
    }


def found_anywhere(session, needle: str) -> list[str]:
    hits = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(table.select()):
            if needle.lower() in repr(tuple(row)).lower():
                hits.append(table.name)
    return hits


def test_retention_anonymises_after_the_period_and_keeps_the_aggregates(
    session, make_active_match, make_volunteer,
):
    match, other = scenario(session, make_active_match, make_volunteer)
    assert set(found_anywhere(session, CANARY)) >= {
        "volunteer", "resident", "check_in", "match", "milestone_review", "outbox_message"}
    almost = ENDED + timedelta(days=365 * 2 - 10)
    assert retention.apply(session, now=almost, months=24) == retention.RetentionReport(0, 0)
    later = ENDED + timedelta(days=365 * 2 + 5)
    before = aggregates(session, later)

    report = retention.apply(session, now=later, months=24)
    session.commit()
    assert report == retention.RetentionReport(residents=1, volunteers=1)
    assert found_anywhere(session, CANARY) == []
    assert found_anywhere(session, POSTCODE) == []
    assert found_anywhere(session, "0699999999") == []
    assert aggregates(session, later) == before

    resident = session.get(Resident, match.resident_id)
    assert (resident.closed_reason, resident.neighbourhood, resident.birth_year,
            resident.anonymised_at) == ("match_ended:moved", "Lombok", 1940, later)
    volunteer = session.get(Volunteer, match.volunteer_id)
    assert (volunteer.status, volunteer.stop_reason, volunteer.stopped_at) == (
        "stopped", "other", ENDED)
    assert session.get(Match, match.id).end_reason == "moved"
    assert session.get(Volunteer, other.volunteer_id).first_name == "Blijft"
    assert session.get(Resident, other.resident_id).first_name == "Bewaard"
    # Idempotent: nothing left to do the next night.
    next_night = later + timedelta(days=1)
    assert retention.apply(session, now=next_night) == retention.RetentionReport(0, 0)


def test_recent_activity_postpones_retention(session, make_volunteer):
    make_volunteer(status="stopped", stop_reason="druk", stopped_at=START,
                   last_active_at=START + timedelta(days=500))
    assert retention.apply(session, now=START + timedelta(days=800)).volunteers == 0
    assert retention.apply(session, now=START + timedelta(days=500 + 740)).volunteers == 1
