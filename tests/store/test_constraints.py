"""Uniqueness the jobs rely on: one check-in per match and ISO week, one outbox row per key."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from matching.services.pairing import open_match
from matching.store import CheckIn, OutboxMessage


def test_one_check_in_per_match_and_week(session, make_volunteer, make_resident):
    match = open_match(
        session, volunteer_id=make_volunteer().id, resident_id=make_resident().id, status="active"
    )
    session.add(CheckIn(match_id=match.id, week="2026-W48"))
    session.add(CheckIn(match_id=match.id, week="2026-W49"))
    session.commit()
    session.add(CheckIn(match_id=match.id, week="2026-W48"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert session.query(CheckIn).count() == 2


def test_outbox_dedupe_key_is_unique(session):
    def message(key: str) -> OutboxMessage:
        return OutboxMessage(
            dedupe_key=key, to_address="a@example.org", subject="Hallo", body_text="Tekst"
        )

    session.add_all([message("checkin:m1:2026-W48"), message("checkin:m1:2026-W49")])
    session.commit()
    session.add(message("checkin:m1:2026-W48"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert session.query(OutboxMessage).count() == 2
