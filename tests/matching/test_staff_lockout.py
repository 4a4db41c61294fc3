"""The per-account lockout counts every failed guess, also when guesses arrive in parallel."""
from __future__ import annotations

import threading
from datetime import timedelta

from matching.services import staff as staff_service
from matching.store import StaffUser, make_session_factory, utcnow
from tests.conftest import CHEAP_HASH
from tests.logins import PASSWORD


def test_parallel_wrong_guesses_lock_the_account(engine, make_staff):
    user = make_staff()
    factory = make_session_factory(engine)
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def guess() -> None:
        try:
            with factory() as session:
                barrier.wait(timeout=10)
                staff_service.authenticate(
                    session, user.email, "fout-wachtwoord-1", now=utcnow(), profile=CHEAP_HASH,
                    lockout_attempts=10, lockout=timedelta(minutes=15),
                )
                session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=guess) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with factory() as session:
        locked = session.get(StaffUser, user.id)
        assert locked.locked_until is not None and locked.locked_until > utcnow()
        assert staff_service.authenticate(
            session, user.email, PASSWORD, now=utcnow(), profile=CHEAP_HASH,
            lockout_attempts=10, lockout=timedelta(minutes=15),
        ) is None
