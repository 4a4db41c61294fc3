"""Signed links: tampering, purposes, expiry, once-only, and racing clicks on both databases."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from matching.errors import InvalidLink, ValidationFailed
from matching.services import links
from matching.store import Link, make_session_factory

SECRET = "test-secret-" + "x" * 40
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TTL = timedelta(days=7)


def _issue(session, purpose="proposal", **overrides):
    fields = dict(purpose=purpose, subject=("match", "m" * 32), person=("volunteer", "v" * 32),
                  now=NOW, ttl=TTL, secret=SECRET)
    fields.update(overrides)
    return links.issue(session, **fields)


def test_token_carries_only_the_random_id(session):
    token = _issue(session)
    session.commit()
    link = session.scalars(select(Link)).one()
    # Readable without the key, as every itsdangerous token is: so nothing but the id inside.
    payload = URLSafeTimedSerializer("another key", salt="x").loads_unsafe(token)[1]
    assert payload == link.id
    assert len(link.id) == 32 and int(link.id, 16) >= 0
    assert (link.subject_kind, link.person_kind, link.expires_at) == ("match", "volunteer", NOW + TTL)


def test_read_returns_the_bound_link(session):
    token = _issue(session)
    link = links.read(session, token, purpose="proposal", now=NOW + timedelta(days=1), secret=SECRET)
    assert (link.subject_id, link.person_id) == ("m" * 32, "v" * 32)


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),
    lambda t: "x" + t,
    lambda t: t.replace(".", "", 1),
    lambda t: "",
])
def test_tampered_token_is_a_bad_signature(session, tamper):
    token = _issue(session)
    with pytest.raises(InvalidLink) as caught:
        links.read(session, tamper(token), purpose="proposal", now=NOW, secret=SECRET)
    assert caught.value.reason == "bad_signature"


def test_foreign_key_is_a_bad_signature(session):
    token = _issue(session, secret="someone-else-" + "y" * 40)
    with pytest.raises(InvalidLink) as caught:
        links.read(session, token, purpose="proposal", now=NOW, secret=SECRET)
    assert caught.value.reason == "bad_signature"


def test_token_of_another_purpose_is_refused(session):
    token = _issue(session, purpose="check_in")
    with pytest.raises(InvalidLink) as caught:
        links.read(session, token, purpose="proposal", now=NOW, secret=SECRET)
    assert caught.value.reason == "wrong_purpose"
    assert links.read(session, token, purpose="check_in", now=NOW, secret=SECRET).purpose == "check_in"


def test_expired_link_is_distinguishable_and_names_only_the_link(session):
    token = _issue(session)
    assert links.read(session, token, purpose="proposal", now=NOW + TTL - timedelta(seconds=1),
                      secret=SECRET)
    with pytest.raises(InvalidLink) as caught:
        links.read(session, token, purpose="proposal", now=NOW + TTL, secret=SECRET)
    assert caught.value.reason == "expired"
    assert caught.value.link_id == session.scalars(select(Link.id)).one()
    assert "v" * 32 not in str(caught.value)


def test_link_row_gone_is_unknown(session):
    token = _issue(session)
    session.delete(session.scalars(select(Link)).one())
    session.flush()
    with pytest.raises(InvalidLink) as caught:
        links.read(session, token, purpose="proposal", now=NOW, secret=SECRET)
    assert caught.value.reason == "unknown"
    assert caught.value.link_id is None


def test_unknown_purpose_is_a_programming_error(session):
    with pytest.raises(ValueError, match="unknown link purpose"):
        _issue(session, purpose="anything")


def test_choice_is_recorded_once_repeat_is_harmless_and_conflict_does_not_flip(session):
    token = _issue(session)
    session.commit()
    link = links.read(session, token, purpose="proposal", now=NOW, secret=SECRET)
    first = links.use(session, link, "accept", NOW + timedelta(minutes=1))
    session.commit()
    assert first == links.Outcome("recorded", "accept") and first.recorded

    again = links.use(session, link, "accept", NOW + timedelta(minutes=2))
    assert again == links.Outcome("already_received", "accept")
    other = links.use(session, link, "decline", NOW + timedelta(minutes=3))
    assert other == links.Outcome("conflict", "accept")
    session.commit()

    stored = session.scalars(select(Link)).one()
    assert (stored.choice, stored.used_at) == ("accept", NOW + timedelta(minutes=1))


@pytest.mark.parametrize("choice", ["", "x" * 41])
def test_empty_or_overlong_choice_is_refused(session, choice):
    token = _issue(session)
    link = links.read(session, token, purpose="proposal", now=NOW, secret=SECRET)
    with pytest.raises(ValidationFailed):
        links.use(session, link, choice, NOW)
    assert session.scalars(select(Link.used_at)).one() is None


def test_ten_concurrent_clicks_make_exactly_one_win(engine, session):
    token = _issue(session)
    session.commit()
    factory = make_session_factory(engine)
    barrier = threading.Barrier(10)
    outcomes: list[links.Outcome] = []
    errors: list[BaseException] = []

    def click(i: int) -> None:
        try:
            barrier.wait(30)
            with factory() as own:
                link = links.read(own, token, purpose="proposal", now=NOW, secret=SECRET)
                # Half the clicks accept, half decline: exactly one of them may stand.
                outcomes.append(links.use(own, link, "accept" if i % 2 else "decline", NOW))
                own.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    winners = [o for o in outcomes if o.recorded]
    assert len(outcomes) == 10 and len(winners) == 1
    standing = winners[0].choice
    assert all(o.choice == standing for o in outcomes)
    session.expire_all()
    assert session.scalars(select(Link.choice)).one() == standing
