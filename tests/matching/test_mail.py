"""The outbox: rendering in two languages, dedupe inside the caller's transaction, clean headers."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from matching.errors import Conflict, ValidationFailed
from matching.services import mail
from matching.store import AuditEvent, OutboxMessage, make_session_factory

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CONTEXT = {"subject": "Een voorstel", "name": "Anne", "lines": ["Er is een maatje gevonden."],
           "link": "https://maatwerk.example/l/abc?x=1&y=2"}


def _enqueue(session, key="proposal:1", **overrides):
    fields = dict(dedupe_key=key, to=("Anne de Vries", "anne@example.org"), template="notice",
                  context=CONTEXT, locale="nl", subject_kind="match", subject_id="m1", now=NOW)
    fields.update(overrides)
    return mail.enqueue(session, **fields)


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage))


def test_enqueue_renders_dutch_text_and_html_and_sends_nothing_yet(session):
    message = _enqueue(session)
    session.commit()
    assert message is not None
    stored = session.scalars(select(OutboxMessage)).one()
    assert stored.to_address == "Anne de Vries <anne@example.org>"
    assert stored.subject == "Een voorstel"
    assert stored.body_text.startswith("Beste Anne,")
    assert "https://maatwerk.example/l/abc?x=1&y=2" in stored.body_text
    assert 'href="https://maatwerk.example/l/abc?x=1&amp;y=2"' in stored.body_html
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ("pending", 0, NOW)
    assert (stored.subject_kind, stored.subject_id) == ("match", "m1")


def test_english_and_unknown_locales(session):
    english = _enqueue(session, key="k-en", locale="en")
    other = _enqueue(session, key="k-fr", locale="fr")
    assert english.body_text.startswith("Dear Anne,")
    assert other.body_text.startswith("Beste Anne,")


def test_html_part_escapes_what_text_keeps(session):
    message = _enqueue(session, context={**CONTEXT, "name": "<script>x</script>"})
    assert "<script>x</script>" in message.body_text
    assert "<script>" not in message.body_html
    assert "&lt;script&gt;x&lt;/script&gt;" in message.body_html


def test_missing_context_value_is_an_error_not_an_empty_mail(session):
    with pytest.raises(Exception, match="name"):
        _enqueue(session, context={"subject": "x", "lines": [], "link": ""})


def test_same_dedupe_key_twice_keeps_one_row_and_the_transaction(session):
    assert _enqueue(session) is not None
    session.add(AuditEvent(action="before", at=NOW))
    assert _enqueue(session, context={**CONTEXT, "subject": "Anders"}) is None
    session.add(AuditEvent(action="after", at=NOW))
    session.commit()
    assert _count(session) == 1
    assert session.scalars(select(OutboxMessage.subject)).one() == "Een voorstel"
    assert sorted(session.scalars(select(AuditEvent.action))) == ["after", "before"]


def test_unique_index_backstop_keeps_the_callers_transaction(session):
    # The check finds nothing because the first row is not flushed yet: the insert itself
    # must fail on the unique index, inside a savepoint that leaves the rest intact.
    with session.no_autoflush:
        session.add(OutboxMessage(dedupe_key="race", to_address="a@example.org", subject="s",
                                  body_text="t", next_attempt_at=NOW, created_at=NOW))
        session.add(AuditEvent(action="kept", at=NOW))
        assert _enqueue(session, key="race") is None
    session.commit()
    assert _count(session) == 1
    assert session.scalars(select(OutboxMessage.subject)).one() == "s"
    assert session.scalars(select(AuditEvent.action)).one() == "kept"


def test_two_transactions_racing_on_one_key_make_one_row(engine, session):
    factory = make_session_factory(engine)
    barrier = threading.Barrier(2)
    results: list[object] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(30)
            with factory() as own:
                results.append(_enqueue(own, key="same", context={**CONTEXT, "subject": f"s{i}"}))
                own.add(AuditEvent(action=f"worker{i}", at=NOW))
                own.commit()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sum(r is not None for r in results) == 1
    assert _count(session) == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 2


@pytest.mark.parametrize("to", [
    "anne@example.org\r\nBcc: evil@example.net",
    "anne@example.org, evil@example.net",
    "anne@example.org;evil@example.net",
    "not-an-address",
    "",
    ("Anne", "anne@example.org\nBcc: evil@example.net"),
])
def test_a_bad_recipient_makes_a_failed_message_never_an_error_or_a_second_header(session, to):
    with pytest.raises(ValidationFailed) as caught:
        mail.recipient(to)
    assert caught.value.errors == {"to": "invalid_email"}
    message = _enqueue(session, to=to)
    session.commit()
    stored = session.get(OutboxMessage, message.id)
    assert (stored.status, stored.last_error) == ("failed", mail.UNADDRESSABLE)
    assert "\r" not in stored.to_address and "\n" not in stored.to_address
    with pytest.raises(Conflict):
        mail.retry(session, stored.id, now=NOW)


def test_a_special_use_domain_is_unaddressable_and_batches_keep_going(session):
    added = mail.enqueue_many(session, [
        mail.Draft(dedupe_key=f"batch:{n}", to=to, template="notice", context=CONTEXT,
                   locale="nl")
        for n, to in enumerate(["coordinator@demo.maatwerk.local", "anne@example.org"])
    ], now=NOW)
    session.commit()
    assert added == 2
    statuses = dict(session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.status)).all())
    assert statuses == {"batch:0": "failed", "batch:1": "pending"}


def test_name_and_subject_lose_line_breaks(session):
    message = _enqueue(session, to=("Anne\r\nBcc: evil@example.net", "anne@example.org"),
                       context={**CONTEXT, "subject": "Hallo\r\nBcc: evil@example.net"})
    assert "\r" not in message.to_address and "\n" not in message.to_address
    assert message.to_address.endswith("<anne@example.org>")
    assert message.subject == "Hallo Bcc: evil@example.net"


def test_retry_puts_a_failed_message_back(session):
    message = _enqueue(session)
    with pytest.raises(Conflict):
        mail.retry(session, message.id, now=NOW)
    message.status, message.attempts, message.last_error = "failed", 6, "SMTPDataError 550"
    session.flush()
    later = NOW + timedelta(hours=5)
    mail.retry(session, message.id, now=later)
    session.commit()
    stored = session.get(OutboxMessage, message.id)
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ("pending", 0, later)


def test_dates_in_mails_are_written_out_in_the_mails_language():
    context = {"name": "Anne", "resident": "Henk", "link": "https://x/koppeling/t",
               "expires": "2026-12-14"}
    assert "De link werkt tot en met maandag 14 december." in mail.render(
        "proposal", context, "nl").text
    assert "The link works until Monday 14 December." in mail.render(
        "proposal", context, "en").text
    assert "maandag 14 december" in mail.render("proposal", context, "nl").html
