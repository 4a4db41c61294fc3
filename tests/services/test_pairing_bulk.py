"""open_many / close_many / move: the run's bulk paths keep pairing's guarantees."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from matching.errors import Conflict
from matching.services.pairing import close_many, move, open_many, open_match
from matching.store import Match, Volunteer

from .workflow import NOW


def count(session, status=None) -> int:
    query = select(func.count()).select_from(Match)
    if status:
        query = query.where(Match.status == status)
    return session.scalar(query)


def test_open_many_takes_slots_and_keeps_updated_at(session, make_volunteer, make_resident):
    volunteer = make_volunteer(capacity=2)
    stamp = volunteer.updated_at
    a, b = make_resident(), make_resident(first_name="B")
    assert open_many(session, [{"volunteer_id": volunteer.id, "resident_id": r.id,
                                "explanation": {"score": 1}} for r in (a, b)]) == 2
    session.commit()
    session.refresh(volunteer)
    assert volunteer.open_matches == 2 and volunteer.updated_at == stamp
    assert count(session, "proposed") == 2
    assert session.scalar(select(Match.explanation)) == {"score": 1}


def test_open_many_over_capacity_refuses_the_whole_batch(session, make_volunteer, make_resident):
    volunteer = make_volunteer(capacity=1)
    rows = [{"volunteer_id": volunteer.id, "resident_id": make_resident(first_name=n).id}
            for n in "AB"]
    with pytest.raises(Conflict, match="capacity"):
        open_many(session, rows)
    session.refresh(volunteer)
    assert volunteer.open_matches == 0 and count(session) == 0


def test_open_many_refuses_a_resident_with_an_open_match(session, make_volunteer, make_resident):
    first, second = make_volunteer(), make_volunteer(email="b@example.org")
    resident = make_resident()
    open_match(session, volunteer_id=first.id, resident_id=resident.id)
    with pytest.raises(Conflict, match="resident already has an open match"):
        open_many(session, [{"volunteer_id": second.id, "resident_id": resident.id}])
    session.refresh(second)
    assert second.open_matches == 0 and count(session) == 1


def test_open_many_refuses_an_unavailable_volunteer(session, make_volunteer, make_resident):
    volunteer = make_volunteer(status="paused")
    with pytest.raises(Conflict, match="not available"):
        open_many(session, [{"volunteer_id": volunteer.id, "resident_id": make_resident().id}])
    assert count(session) == 0


def test_close_many_gives_the_slots_back(session, make_volunteer, make_resident):
    volunteer = make_volunteer(capacity=3)
    matches = [open_match(session, volunteer_id=volunteer.id,
                          resident_id=make_resident(first_name=n).id) for n in "ABC"]
    assert close_many(session, [m.id for m in matches[:2]], "withdrawn", NOW) == 2
    assert close_many(session, [m.id for m in matches[:2]], "withdrawn", NOW) == 0
    session.commit()
    assert session.get(Volunteer, volunteer.id).open_matches == 1
    assert count(session, "withdrawn") == 2


def test_move_is_conditional(session, make_volunteer, make_resident):
    match = open_match(session, volunteer_id=make_volunteer().id,
                       resident_id=make_resident().id)
    moved = move(session, match.id, from_status="proposed", to_status="offered")
    assert moved.status == "offered" and moved.version == 2
    with pytest.raises(Conflict):
        move(session, match.id, from_status="proposed", to_status="offered")
    with pytest.raises(Conflict):
        move(session, match.id, from_status="offered", to_status="accepted", expected_version=1)
    with pytest.raises(ValueError):
        move(session, match.id, from_status="offered", to_status="declined")
