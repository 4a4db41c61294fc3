"""Group activities: kept valid, ranked for waiting residents, suggested once, followed up, counted."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.services import group_activities
from matching.services.scope import Scope
from matching.store import ActivitySuggestion, GroupActivity, OutboxMessage

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
GOOD = {"name": "Koks koken", "organiser": "Koks", "availability": [4, 10], "interests": ["wandelen"],
        "target_groups": ["older_person"], "cost": "gratis", "wheelchair": True}


def add(session, **fields):
    activity = GroupActivity(**{"name": "Wandelclub", "organiser": "Resto van Harte", "lat": 52.0850,
                                "lon": 5.1300, "availability": [4], "interests": ["wandelen"], "created_at": NOW,
                                "updated_at": NOW, **fields})
    session.add(activity)
    session.flush()
    return activity


def test_bad_input_is_refused_and_stores_nothing(session, codes):
    with pytest.raises(ValidationFailed) as refused:
        group_activities.save(session, {**GOOD, "name": "", "availability": [99], "target_groups": ["aliens"],
                                        "postcode": "0000 AA", "interests": ["nonsense"]}, actor=None, now=NOW)
    assert set(refused.value.errors) == {"name", "availability", "target_groups", "postcode", "interests"}
    assert session.scalar(select(func.count()).select_from(GroupActivity)) == 0
    saved = group_activities.save(session, GOOD, actor=None, now=NOW)
    assert saved.availability == [4, 10] and saved.target_groups == ["older_person"]


def test_a_partner_changes_only_its_own(session, codes):
    theirs = group_activities.save(session, GOOD, organisation="Humanitas", actor=None, now=NOW)
    with pytest.raises(NotFound):
        group_activities.save(session, {**GOOD, "name": "Gekaapt"}, activity_id=theirs.id, scope=Scope("Anders"),
                              actor=None, now=NOW)
    group_activities.save(session, {**GOOD, "name": "Nieuw"}, activity_id=theirs.id, scope=Scope("Humanitas"),
                          actor=None, now=NOW)
    assert session.get(GroupActivity, theirs.id).name == "Nieuw"


def test_ranking_for_a_waiting_resident_with_reasons(session, make_resident):
    resident = make_resident(status="waiting", availability=[4, 7], interests=["wandelen", "koken"])
    near = add(session, name="Dichtbij", lat=52.0900)
    add(session, name="Ver weg", lat=52.2, lon=5.3)
    add(session, name="Ander moment", availability=[20])
    add(session, name="Voor jongeren", target_groups=["young_person"])
    add(session, name="Gestopt", active=False)
    fits = group_activities.rank(session, [resident])[resident.id]
    assert [f.activity.name for f in fits] == ["Dichtbij"]
    assert fits[0].activity.id == near.id and fits[0].shared_interests == ["wandelen"] and fits[0].shared_slots == [4]
    assert 0 < fits[0].km < 3


def test_suggest_once_by_email_or_letter_and_record_the_outcome(session, make_resident):
    resident = make_resident(status="waiting", email="henk@example.org")
    no_mail = make_resident(status="waiting", first_name="Zonder", email=None)
    activity = add(session)
    first = group_activities.suggest(session, resident.id, activity.id, channel="email", actor="staff:x", now=NOW)
    again = group_activities.suggest(session, resident.id, activity.id, channel="email", actor="staff:x", now=NOW)
    assert first.id == again.id
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # one e-mail, not two
    with pytest.raises(Conflict):
        group_activities.suggest(session, no_mail.id, activity.id, channel="email", actor="staff:x", now=NOW)
    group_activities.suggest(session, no_mail.id, activity.id, channel="letter", actor="staff:x", now=NOW)
    group_activities.set_outcome(session, first.id, "went", actor="staff:x", now=NOW)
    with pytest.raises(ValidationFailed):
        group_activities.set_outcome(session, first.id, "maybe", actor="staff:x", now=NOW)
    assert session.scalar(select(func.count()).select_from(ActivitySuggestion)) == 2


def test_counts_per_wijk_hide_small_groups(session, make_resident):
    activity = add(session)
    people = [make_resident(status="waiting", first_name=f"W{n}", neighbourhood="Overvecht") for n in range(6)]
    for person in people[:5]:
        group_activities.suggest(session, person.id, activity.id, channel="letter", actor=None, now=NOW)
    for suggestion in session.scalars(select(ActivitySuggestion)).all()[:2]:
        group_activities.set_outcome(session, suggestion.id, "went", actor=None, now=NOW)
    [row] = group_activities.counts_per_wijk(session)
    assert (row.wijk, row.waiting, row.suggested, row.went) == ("Overvecht", 6, 5, None)
