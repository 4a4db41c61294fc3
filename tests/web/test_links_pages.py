"""The volunteer's proposal link, one test per promise (SECURITY.md, "links")."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from matching.services import proposals
from matching.store import Exclusion, Link, Match, OutboxMessage, make_session_factory, utcnow
from tests.logins import csrf_token
from tests.web.test_access import table_hash

CANARY = "KANARIE"
TOKEN = re.compile(r"/koppeling/([A-Za-z0-9_.\-]+)")


@pytest.fixture
def offered(app, session, make_volunteer, make_resident, make_staff):
    """An offered proposal; its link token as the e-mail carries it."""
    coordinator = make_staff()
    volunteer = make_volunteer()
    resident = make_resident(
        first_name="Henk", last_name=f"Jansen{CANARY}", phone="0301234567",
        postcode="3512 CD", house_number="3", neighbourhood="Lombok",
        notes=f"notitie {CANARY}", health_note=f"gezondheid {CANARY}",
    )
    match = proposals_open(session, volunteer.id, resident.id)
    proposals.approve(session, match.id, actor=coordinator.id, now=utcnow(),
                      secret=app.config["SECRET_KEY"], base_url=app.config["BASE_URL"])
    session.commit()
    return match, tokens(session)[0]


def proposals_open(session, volunteer_id: str, resident_id: str) -> Match:
    from matching.services.pairing import open_match

    return open_match(
        session, volunteer_id=volunteer_id, resident_id=resident_id, score=71.5, cost=0.3,
        distance_km=0.9, explanation={"shared_interests": ["wandelen"], "shared_slots": [1, 4]},
    )


def tokens(session, prefix: str = "") -> list[str]:
    found = []
    for message in session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)):
        if message.dedupe_key.startswith(prefix):
            found += TOKEN.findall(message.body_text)
    session.commit()
    return found


def count(session, model, *where) -> int:
    value = session.scalar(select(func.count()).select_from(model).where(*where))
    session.commit()
    return value or 0


def choose(client, token: str, choice: str, **extra):
    csrf = csrf_token(client, f"/koppeling/{token}")
    return client.post(f"/koppeling/{token}", data={"csrf_token": csrf, "choice": choice, **extra})


def status_of(session, match: Match) -> str:
    session.expire_all()
    value = session.get(Match, match.id).status
    session.commit()
    return value


def test_the_email_holds_exactly_one_link(session, offered):
    [message] = session.scalars(select(OutboxMessage)).all()
    assert len(TOKEN.findall(message.body_text)) == 1
    assert len(re.findall(r"https?://", message.body_text)) == 1
    assert message.body_html.count("<a ") == 1


def test_opening_the_link_changes_nothing(client, engine, session, offered):
    match, token = offered
    session.commit()
    before = table_hash(engine)
    assert client.get(f"/koppeling/{token}").status_code == 200
    assert client.head(f"/koppeling/{token}").status_code == 200
    assert table_hash(engine) == before
    assert status_of(session, match) == "offered"


def test_the_page_shows_minimal_data_and_never_address_phone_or_notes(client, offered):
    _match, token = offered
    page = client.get(f"/koppeling/{token}").get_data(as_text=True)
    assert "Henk" in page and "80-89 jaar" in page and "Lombok" in page
    assert "Wandelen" in page or "wandelen" in page
    assert "maandag middag, dinsdag middag" in page and "0,9 km" in page
    for private in (CANARY, "0301234567", "3512 CD", "Jansen"):
        assert private not in page


def test_the_page_has_two_buttons_and_no_script(client, offered):
    _match, token = offered
    page = client.get(f"/koppeling/{token}").get_data(as_text=True)
    assert re.findall(r'name="choice" value="(\w+)"', page) == ["accept", "decline"]
    assert 'name="reason"' in page
    assert "<script" not in page and "http-equiv" not in page


def test_link_pages_are_not_cached(client, offered):
    _match, token = offered
    assert client.get(f"/koppeling/{token}").headers["Cache-Control"] == "no-store"
    assert choose(client, token, "accept").headers["Cache-Control"] == "no-store"


def test_accept_makes_one_transition_and_a_confirmation_email(client, session, offered):
    match, token = offered
    response = choose(client, token, "accept")
    assert response.status_code == 200 and 'data-result="recorded"' in response.get_data(
        as_text=True)
    assert status_of(session, match) == "accepted"
    assert count(session, OutboxMessage, OutboxMessage.dedupe_key == f"decision:{match.id}") == 1


def test_decline_with_optional_reason_gets_a_confirmation_email(client, session, offered):
    match, token = offered
    response = choose(client, token, "decline", reason="Geen tijd")
    assert 'data-choice="decline"' in response.get_data(as_text=True)
    assert status_of(session, match) == "declined"
    assert count(session, OutboxMessage, OutboxMessage.dedupe_key == f"decision:{match.id}") == 1
    assert count(session, Exclusion) == 1


def test_decline_without_a_reason_is_fine(client, session, offered):
    match, token = offered
    choose(client, token, "decline")
    assert status_of(session, match) == "declined"


def test_the_same_choice_twice_says_already_received(client, session, offered):
    match, token = offered
    choose(client, token, "accept")
    again = choose(client, token, "accept").get_data(as_text=True)
    assert 'data-result="already_received"' in again and "al ontvangen" in again
    assert count(session, OutboxMessage, OutboxMessage.dedupe_key.like("decision:%")) == 1


def test_a_conflicting_second_choice_does_not_flip_the_first(client, session, offered):
    match, token = offered
    choose(client, token, "accept")
    second = choose(client, token, "decline").get_data(as_text=True)
    assert 'data-result="conflict"' in second and 'data-choice="accept"' in second
    assert status_of(session, match) == "accepted"
    assert count(session, Exclusion) == 0


def test_the_link_works_once_then_shows_the_answer(client, offered):
    _match, token = offered
    choose(client, token, "accept")
    page = client.get(f"/koppeling/{token}").get_data(as_text=True)
    assert 'name="choice"' not in page and "aangenomen" in page


def test_the_link_expires_after_seven_days_without_personal_data(client, session, offered):
    match, token = offered
    session.execute(update(Link).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    response = client.get(f"/koppeling/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 410
    for private in ("Henk", "Lombok", "Anne", CANARY, "0301234567"):
        assert private not in page
    assert "nieuwe link" in page and 'name="choice"' not in page
    late = choose_without_page(client, token, "accept")
    assert late.status_code == 410
    assert status_of(session, match) == "offered"


def choose_without_page(client, token: str, choice: str):
    csrf = csrf_token(client, "/login")
    return client.post(f"/koppeling/{token}", data={"csrf_token": csrf, "choice": choice})


def test_seven_days_is_the_lifetime(session, offered):
    match, _token = offered
    link = session.scalar(select(Link))
    session.commit()
    assert link.expires_at - session.get(Match, match.id).offered_at == timedelta(days=7)


def test_an_expired_link_offers_a_fresh_link_that_works(client, session, offered):
    match, token = offered
    session.execute(update(Link).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    csrf = csrf_token(client, f"/koppeling/{token}")
    renewed = client.post(f"/koppeling/{token}/nieuw", data={"csrf_token": csrf})
    assert 'data-outcome="sent"' in renewed.get_data(as_text=True)
    [fresh] = tokens(session, "renewal:")
    assert fresh != token
    assert 'data-result="recorded"' in choose(client, fresh, "accept").get_data(as_text=True)
    assert status_of(session, match) == "accepted"


def test_fresh_links_are_rate_limited(client, session, offered):
    _match, token = offered
    session.execute(update(Link).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    csrf = csrf_token(client, f"/koppeling/{token}")
    codes = [client.post(f"/koppeling/{token}/nieuw", data={"csrf_token": csrf}).status_code
             for _ in range(6)]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    assert count(session, OutboxMessage, OutboxMessage.dedupe_key.like("renewal:%")) == 1


def test_the_link_is_bound_to_this_volunteer(client, session, offered, make_volunteer):
    match, token = offered
    other = make_volunteer(email="other@example.org")
    session.execute(update(Link).values(person_id=other.id))
    session.commit()
    assert client.get(f"/koppeling/{token}").status_code == 404
    assert status_of(session, match) == "offered"


def test_the_link_is_bound_to_this_proposal(app, client, session, offered, make_volunteer,
                                            make_resident):
    first, token = offered
    second = proposals_open(session, make_volunteer(email="b@example.org").id,
                            make_resident(first_name="Truus").id)
    proposals.approve(session, second.id, actor=None, now=utcnow(),
                      secret=app.config["SECRET_KEY"], base_url=app.config["BASE_URL"])
    session.commit()
    choose(client, token, "decline")
    assert status_of(session, first) == "declined"
    assert status_of(session, second) == "offered"


def test_a_tampered_token_is_unknown(client, offered):
    _match, token = offered
    assert client.get(f"/koppeling/{token[:-3]}abc").status_code == 404
    assert client.get("/koppeling/onzin").status_code == 404


def test_deciding_needs_the_csrf_token(client, session, offered):
    match, token = offered
    assert client.post(f"/koppeling/{token}", data={"choice": "accept"}).status_code == 400
    assert status_of(session, match) == "offered"


def test_ten_concurrent_accepts_make_one_transition_and_one_email(app, engine, session, offered):
    match, token = offered
    session.commit()
    clients = [app.test_client() for _ in range(10)]
    forms = [{"csrf_token": csrf_token(c, f"/koppeling/{token}"), "choice": "accept"}
             for c in clients]
    barrier = threading.Barrier(10)
    results: list[str] = []

    def click(client, form) -> None:
        barrier.wait()
        response = client.post(f"/koppeling/{token}", data=form)
        found = re.search(r'data-result="(\w+)"', response.get_data(as_text=True))
        results.append(found.group(1) if found else str(response.status_code))

    threads = [threading.Thread(target=click, args=pair) for pair in zip(clients, forms)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["already_received"] * 9 + ["recorded"]
    with make_session_factory(engine)() as fresh:
        assert fresh.get(Match, match.id).status == "accepted"
        assert fresh.get(Match, match.id).version == match.version + 1
        decisions = fresh.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.dedupe_key.like("decision:%")))
        assert decisions == 1
