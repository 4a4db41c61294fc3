"""The capacity and one-open-match invariants, alone and under two racing transactions."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from matching.errors import Conflict
from matching.services.pairing import close_match, open_match
from matching.store import Match, Volunteer, make_session_factory

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def count_open(session, **where) -> int:
    query = select(func.count()).select_from(Match).where(
        Match.status.in_(("proposed", "offered", "accepted", "active"))
    )
    for column, value in where.items():
        query = query.where(getattr(Match, column) == value)
    return session.scalar(query)


def test_open_match_takes_a_slot_and_close_gives_it_back(session, make_volunteer, make_resident):
    volunteer = make_volunteer(capacity=2)
    resident = make_resident()
    match = open_match(session, volunteer_id=volunteer.id, resident_id=resident.id, score=0.8)
    session.commit()
    assert volunteer.open_matches == 1
    assert match.status == "proposed" and match.score == 0.8

    close_match(session, match, "declined", NOW)
    session.commit()
    assert volunteer.open_matches == 0
    assert match.status == "declined" and match.decided_at == NOW
    assert count_open(session) == 0


def test_full_volunteer_is_refused_and_nothing_changes(session, make_volunteer, make_resident):
    volunteer = make_volunteer(capacity=1)
    first, second = make_resident(), make_resident(first_name="Truus")
    open_match(session, volunteer_id=volunteer.id, resident_id=first.id)
    with pytest.raises(Conflict, match="volunteer has no capacity left"):
        open_match(session, volunteer_id=volunteer.id, resident_id=second.id)
    session.commit()
    assert volunteer.open_matches == 1
    assert count_open(session) == 1


def test_unavailable_volunteer_is_refused(session, make_volunteer, make_resident):
    volunteer = make_volunteer(status="paused")
    with pytest.raises(Conflict, match="volunteer is not available"):
        open_match(session, volunteer_id=volunteer.id, resident_id=make_resident().id)


def test_second_open_match_for_a_resident_is_refused_and_the_slot_kept(
    session, make_volunteer, make_resident
):
    anne, bert = make_volunteer(), make_volunteer(first_name="Bert")
    resident = make_resident()
    open_match(session, volunteer_id=anne.id, resident_id=resident.id)
    with pytest.raises(Conflict, match="resident already has an open match"):
        open_match(session, volunteer_id=bert.id, resident_id=resident.id)
    session.commit()
    assert bert.open_matches == 0, "the refused match must not use up a slot"
    assert count_open(session, resident_id=resident.id) == 1


def test_closing_twice_is_refused(session, make_volunteer, make_resident):
    volunteer = make_volunteer()
    match = open_match(session, volunteer_id=volunteer.id, resident_id=make_resident().id)
    close_match(session, match, "ended", NOW)
    with pytest.raises(Conflict):
        close_match(session, match, "withdrawn", NOW)
    session.commit()
    assert volunteer.open_matches == 0 and match.ended_at == NOW


def test_capacity_check_constraint_is_the_backstop(session, make_volunteer):
    volunteer = make_volunteer(capacity=1)
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(
            update(Volunteer.__table__).where(Volunteer.id == volunteer.id).values(open_matches=2)
        )
    session.rollback()


def race(engine: Engine, attempts: list[Callable]) -> list[object]:
    """Run each attempt in its own thread and session, all released at once; commit the winners."""
    factory = make_session_factory(engine)
    barrier = threading.Barrier(len(attempts))
    outcomes: list[object] = [None] * len(attempts)

    def run(i: int) -> None:
        with factory() as session:
            barrier.wait(timeout=10)
            try:
                attempts[i](session)
                session.commit()
                outcomes[i] = "ok"
            except Conflict as error:
                session.rollback()
                outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_transactions_race_for_the_same_resident(
    engine, session, make_volunteer, make_resident
):
    anne, bert = make_volunteer(), make_volunteer(first_name="Bert")
    resident = make_resident()
    session.commit()
    outcomes = race(engine, [
        lambda s: open_match(s, volunteer_id=anne.id, resident_id=resident.id),
        lambda s: open_match(s, volunteer_id=bert.id, resident_id=resident.id),
    ])
    assert outcomes.count("ok") == 1
    [refused] = [o for o in outcomes if o != "ok"]
    assert isinstance(refused, Conflict) and refused.message == "resident already has an open match"
    session.expire_all()
    assert count_open(session, resident_id=resident.id) == 1
    assert anne.open_matches + bert.open_matches == 1


def test_two_transactions_race_for_the_last_slot(engine, session, make_volunteer, make_resident):
    volunteer = make_volunteer(capacity=2)
    first, second, third = (make_resident(first_name=n) for n in ("Henk", "Truus", "Gerrit"))
    open_match(session, volunteer_id=volunteer.id, resident_id=first.id)
    session.commit()
    outcomes = race(engine, [
        lambda s: open_match(s, volunteer_id=volunteer.id, resident_id=second.id),
        lambda s: open_match(s, volunteer_id=volunteer.id, resident_id=third.id),
    ])
    assert outcomes.count("ok") == 1
    [refused] = [o for o in outcomes if o != "ok"]
    assert isinstance(refused, Conflict) and refused.message == "volunteer has no capacity left"
    session.expire_all()
    assert volunteer.open_matches == 2
    assert count_open(session, volunteer_id=volunteer.id) == 2


def test_a_waiting_transaction_sees_the_committed_slot(
    engine, session, make_volunteer, make_resident
):
    """Deterministic interleaving: B starts while A holds the last slot uncommitted."""
    volunteer = make_volunteer(capacity=1)
    henk, truus = make_resident(), make_resident(first_name="Truus")
    session.commit()
    factory = make_session_factory(engine)
    holder = factory()
    open_match(holder, volunteer_id=volunteer.id, resident_id=henk.id)
    outcome: list[object] = []

    def second() -> None:
        with factory() as other:
            try:
                open_match(other, volunteer_id=volunteer.id, resident_id=truus.id)
                other.commit()
                outcome.append("ok")
            except Conflict as error:
                outcome.append(error)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive(), "the second writer must wait for the first transaction"
    holder.commit()
    holder.close()
    thread.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict)
    assert outcome[0].message == "volunteer has no capacity left"
