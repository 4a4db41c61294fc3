"""Weekly check-ins: once per match and ISO week, late answers, once-only links, no flips."""
from __future__ import annotations

import re

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from matching.errors import InvalidLink, ValidationFailed
from matching.services import check_ins
from matching.services.pairing import close_match
from matching.store import CheckIn, Link, OutboxMessage, Volunteer

SECRET = "check-in-secret-" + "x" * 40
BASE = "https://maatwerk.example"
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Utrecht, ISO week 2026-W49
ACTIVATED = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)


def send(session, now=MONDAY):
    report = check_ins.send_weekly(session, now=now, base_url=BASE, secret=SECRET)
    session.commit()
    return report


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def token_of(message: OutboxMessage) -> str:
    return message.body_text.split(f"{BASE}/check-in/")[1].split()[0].split("?")[0]


def test_iso_week_is_utrecht_local():
    # Sunday 23:30 UTC is already Monday in Utrecht.
    assert check_ins.iso_week(datetime(2026, 11, 29, 23, 30, tzinfo=UTC)) == "2026-W49"
    assert check_ins.iso_week(datetime(2026, 11, 29, 22, 30, tzinfo=UTC)) == "2026-W48"
    assert check_ins.week_before("2026-W01", 1) == "2025-W52"
    assert check_ins.week_before("2026-W49", 3) == "2026-W46"


def test_one_mail_per_active_match_and_week_however_often_it_runs(session, make_active_match):
    first, second = make_active_match(ACTIVATED), make_active_match(ACTIVATED)
    proposed_only = make_active_match(MONDAY + timedelta(hours=2))  # not active yet at 09:00
    report = send(session)
    assert (report.week, report.sent, report.without_email) == ("2026-W49", 2, 0)
    assert send(session, MONDAY + timedelta(hours=1)).sent == 0
    assert send(session, MONDAY + timedelta(days=6)).sent == 1  # the late match, same week
    assert send(session, MONDAY + timedelta(days=6, hours=1)).sent == 0
    assert count(session, CheckIn) == count(session, OutboxMessage) == count(session, Link) == 3
    rows = session.execute(select(CheckIn.match_id, CheckIn.week)).all()
    assert sorted(rows) == sorted((m.id, "2026-W49") for m in (first, second, proposed_only))
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject_id == first.id)).one()
    assert message.to_address == "Anne de Vries <maatje1@example.org>"
    # One link (one token); the mail offers it with each answer chosen in advance.
    links = re.findall(rf"{re.escape(BASE)}/check-in/(\S+)", message.body_text)
    assert {link.split("?")[0] for link in links} == {token_of(message)}
    assert sorted(link.split("?")[1] for link in links) == [
        "met=no", "met=not_planned", "met=yes"]
    assert "week 49" in message.subject
    # Next Monday is a new week.
    assert send(session, MONDAY + timedelta(weeks=1)).sent == 3


def test_ended_matches_and_volunteers_without_email_get_nothing(session, make_active_match):
    ended = make_active_match(ACTIVATED)
    close_match(session, ended, "ended", MONDAY - timedelta(days=1))
    make_active_match(ACTIVATED, volunteer={"email": None})
    report = send(session)
    assert (report.sent, report.without_email) == (0, 1)
    assert count(session, OutboxMessage) == 0


def test_english_speaking_volunteer_gets_english(session, make_active_match):
    make_active_match(ACTIVATED, volunteer={"languages": ["en"]})
    send(session)
    assert session.scalars(select(OutboxMessage.subject)).one().startswith("How is it going")


def _link(session, now=MONDAY):
    message = session.scalars(select(OutboxMessage)).one()
    return check_ins.open_link(session, token_of(message), now=now, secret=SECRET)


ANSWER = {"met": "yes", "rating": "4", "call": "no", "comment": "Gezellig koffie gedronken"}


def test_answer_is_recorded_once_and_counts_for_its_week_when_late(session, make_active_match):
    match = make_active_match(ACTIVATED)
    send(session)
    late = MONDAY + timedelta(days=16)  # two weeks later: still week 49's answer
    link, check_in = _link(session, late)
    assert check_in.answered_at is None
    outcome, check_in = check_ins.answer(session, link, check_ins.parse(ANSWER), now=late)
    session.commit()
    assert outcome.result == "recorded"
    assert (check_in.week, check_in.met, check_in.rating, check_in.call_requested) == (
        "2026-W49", "yes", 4, False)
    assert check_in.comment == "Gezellig koffie gedronken" and check_in.answered_at == late
    assert session.get(Volunteer, match.volunteer_id).last_active_at == late

    again, _ = check_ins.answer(session, link, check_ins.parse(ANSWER), now=late)
    assert again.result == "already_received"
    other = {**ANSWER, "met": "no", "rating": "1", "call": "yes", "comment": "Anders"}
    conflict, check_in = check_ins.answer(session, link, check_ins.parse(other), now=late)
    session.commit()
    assert conflict.result == "conflict"
    assert (check_in.met, check_in.rating, check_in.call_requested, check_in.comment) == (
        "yes", 4, False, "Gezellig koffie gedronken")


def test_link_expires_after_its_days(session, make_active_match):
    make_active_match(ACTIVATED)
    send(session)
    with pytest.raises(InvalidLink) as caught:
        _link(session, MONDAY + timedelta(days=21))
    assert caught.value.reason == "expired"


@pytest.mark.parametrize("bad", [
    {"met": "maybe", "rating": "3"}, {"met": "yes", "rating": "6"}, {"rating": "3"},
    {"met": "yes", "rating": "x"}, {"met": "yes", "rating": "3", "call": "please"},
    {"met": "yes", "rating": "3", "comment": "x" * 2001},
])
def test_bad_answers_are_refused(bad):
    with pytest.raises(ValidationFailed):
        check_ins.parse(bad)


def test_ten_thousand_rows_fit_the_chunks(session, make_active_match):
    # Chunking: a chunk size smaller than the population still gives one row per match.
    for _ in range(7):
        make_active_match(ACTIVATED)
    report = check_ins.send_weekly(session, now=MONDAY, base_url=BASE, secret=SECRET, chunk=3)
    session.commit()
    assert report.sent == 7 and count(session, OutboxMessage) == 7 and count(session, Link) == 7


def _statements(engine, run) -> int:
    from sqlalchemy import event

    seen = []

    def count_statement(*_args):  # type: ignore[no-untyped-def]
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    return len(seen)


def test_the_statement_count_does_not_grow_with_the_matches(session, engine, make_active_match):
    """Bulk, not N+1: 3 matches and 30 matches take the same number of SQL statements."""
    for _ in range(3):
        make_active_match(ACTIVATED)
    session.commit()
    few = _statements(engine, lambda: send(session))
    for _ in range(27):
        make_active_match(ACTIVATED)
    session.commit()
    many = _statements(engine, lambda: send(session, MONDAY + timedelta(weeks=1)))
    assert many == few <= 12


def test_ten_concurrent_answers_record_exactly_once(engine, session, make_active_match):
    import threading

    from matching.store import make_session_factory

    make_active_match(ACTIVATED)
    send(session)
    token = token_of(session.scalars(select(OutboxMessage)).one())
    session.commit()
    sessions = make_session_factory(engine)
    results: list[str] = []
    barrier = threading.Barrier(10)

    def click() -> None:
        with sessions() as own:
            barrier.wait()
            link, _ = check_ins.open_link(own, token, now=MONDAY, secret=SECRET)
            outcome, _ = check_ins.answer(own, link, check_ins.parse(ANSWER), now=MONDAY)
            own.commit()
            results.append(outcome.result)

    threads = [threading.Thread(target=click) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == ["already_received"] * 9 + ["recorded"]
    session.expire_all()
    assert session.scalars(select(CheckIn)).one().rating == 4


def test_whether_they_met_is_a_whole_answer_the_rest_is_optional():
    answers = check_ins.parse({"met": "not_planned"})
    assert (answers.met, answers.rating, answers.call_requested, answers.comment) == (
        "not_planned", None, False, None)
