"""Sending the outbox through a real SMTP server on 127.0.0.1 and through .eml files."""
from __future__ import annotations

import resource
import signal
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

from sqlalchemy import select

from jobs import outbox as dispatch
from matching.services import mail
from jobs.outbox import FileTransport, SmtpTransport, send_due
from matching.store import OutboxMessage, make_session_factory

from tests.matching.mail_sink import smtp_sink

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SENDER = "Maatwerk <noreply@vcu.example>"
CONTEXT = {"subject": "Een voorstel", "name": "Anne", "lines": ["Er is een maatje gevonden."],
           "link": "https://maatwerk.example/l/abc"}


def _enqueue(session, key="k1", to=("Anne de Vries", "anne@example.org"), **context):
    message = mail.enqueue(session, dedupe_key=key, to=to, template="notice",
                           context={**CONTEXT, **context}, locale="nl", now=NOW)
    session.commit()
    return message


def _smtp(port: int) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", port, False, "", "", SENDER)


def _stored(session, message_id):
    session.expire_all()
    message = session.get(OutboxMessage, message_id)
    # End the read: on SQLite every transaction takes the write lock (BEGIN IMMEDIATE).
    session.commit()
    return message


def test_message_arrives_once_with_headers_and_both_parts(engine, session):
    message = _enqueue(session)
    factory = make_session_factory(engine)
    with smtp_sink() as (sink, port):
        report = send_due(factory, _smtp(port), now=NOW)
        again = send_due(factory, _smtp(port), now=NOW + timedelta(hours=1))
    assert (report.sent, again.sent) == (1, 0)
    assert len(sink.received) == 1
    received = sink.received[0]
    assert received.mail_from == "noreply@vcu.example"
    assert received.rcpt_tos == ["anne@example.org"]
    parsed = received.message
    assert parsed["To"] == "Anne de Vries <anne@example.org>"
    assert parsed["From"] == SENDER
    assert parsed["Subject"] == "Een voorstel"
    assert parsed["Message-ID"] == f"<{message.id}@vcu.example>"
    assert parsed["Date"] is not None
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().startswith("Beste Anne,")
    assert 'href="https://maatwerk.example/l/abc"' in parsed.get_body(("html",)).get_content()
    stored = _stored(session, message.id)
    assert (stored.status, stored.attempts, stored.sent_at, stored.last_error) == (
        "sent", 1, NOW, None)


def test_name_with_crlf_bcc_never_adds_a_header(engine, session):
    _enqueue(session, to=("Anne\r\nBcc: evil@example.net", "anne@example.org"),
             subject="Hoi\r\nBcc: evil@example.net")
    with smtp_sink() as (sink, port):
        assert send_due(make_session_factory(engine), _smtp(port), now=NOW).sent == 1
    received = sink.received[0]
    assert received.rcpt_tos == ["anne@example.org"]
    header_block = received.raw.split(b"\r\n\r\n", 1)[0]
    header_names = [line.split(b":", 1)[0].lower() for line in header_block.split(b"\r\n")
                    if line and not line[:1].isspace()]
    assert b"bcc" not in header_names
    assert received.message["Bcc"] is None


def test_row_tampered_with_crlf_is_not_sent(engine, session):
    # Even a row written past enqueue's checks cannot smuggle a header: building refuses it.
    session.add(OutboxMessage(dedupe_key="raw", to_address="a@example.org\r\nBcc: evil@example.net",
                              subject="s", body_text="t", next_attempt_at=NOW, created_at=NOW))
    session.commit()
    with smtp_sink() as (sink, port):
        report = send_due(make_session_factory(engine), _smtp(port), now=NOW)
    assert (report.sent, report.retrying) == (0, 1)
    assert sink.received == []
    assert session.scalars(select(OutboxMessage.last_error)).one() == "ValueError"


def test_refused_three_times_then_delivered_once_with_backoff(engine, session):
    message = _enqueue(session)
    factory = make_session_factory(engine)
    refusals = ["550 5.1.1 Mailbox anne@example.org unavailable", "451 4.3.0 Try again later",
                "550 5.7.1 Refused"]
    with smtp_sink(refusals) as (sink, port):
        transport = _smtp(port)
        assert send_due(factory, transport, now=NOW).retrying == 1
        first = _stored(session, message.id)
        assert (first.attempts, first.next_attempt_at) == (1, NOW + timedelta(minutes=1))
        assert first.last_error == "SMTPDataError 550"
        assert "anne" not in first.last_error

        # Not due yet: nothing happens.
        assert send_due(factory, transport, now=NOW + timedelta(seconds=59)).retrying == 0
        assert _stored(session, message.id).attempts == 1

        t = NOW + timedelta(minutes=1)
        assert send_due(factory, transport, now=t).retrying == 1
        second = _stored(session, message.id)
        assert (second.attempts, second.next_attempt_at) == (2, t + timedelta(minutes=2))
        assert second.last_error == "SMTPDataError 451"

        t += timedelta(minutes=2)
        assert send_due(factory, transport, now=t).retrying == 1
        assert _stored(session, message.id).next_attempt_at == t + timedelta(minutes=4)

        t += timedelta(minutes=4)
        assert send_due(factory, transport, now=t).sent == 1
        assert send_due(factory, transport, now=t + timedelta(days=1)).sent == 0
    assert len(sink.received) == 1
    stored = _stored(session, message.id)
    assert (stored.status, stored.attempts, stored.sent_at, stored.last_error) == (
        "sent", 4, t, None)


def test_gives_up_after_max_attempts_and_shows_failed(engine, session):
    message = _enqueue(session)
    factory = make_session_factory(engine)
    t = NOW
    with smtp_sink(["554 5.0.0 No"] * 20) as (sink, port):
        transport = _smtp(port)
        for attempt in range(1, dispatch.MAX_ATTEMPTS + 1):
            report = send_due(factory, transport, now=t)
            stored = _stored(session, message.id)
            assert stored.attempts == attempt
            if attempt < dispatch.MAX_ATTEMPTS:
                assert (report.retrying, stored.status) == (1, "pending")
                assert stored.next_attempt_at == t + dispatch.backoff(attempt)
                t = stored.next_attempt_at
            else:
                assert (report.failed, stored.status) == (1, "failed")
        assert send_due(factory, transport, now=t + timedelta(days=30)).failed == 0
    assert sink.received == []
    assert _stored(session, message.id).last_error == "SMTPDataError 554"
    assert [dispatch.backoff(n).total_seconds() / 60 for n in range(1, 9)] == [
        1, 2, 4, 8, 16, 32, 60, 60]


def test_server_down_is_retried_with_an_errno_only(engine, session):
    message = _enqueue(session)
    with smtp_sink() as (_sink, port):
        pass  # the port is free again: nobody listens
    report = send_due(make_session_factory(engine), _smtp(port), now=NOW)
    assert report.retrying == 1
    assert _stored(session, message.id).last_error.startswith("ConnectionRefusedError errno")


def test_two_concurrent_dispatchers_deliver_each_message_once(engine, session):
    ids = [_enqueue(session, key=f"k{i}", to=f"person{i}@example.org").id for i in range(30)]
    factory = make_session_factory(engine)
    reports = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)
    with smtp_sink() as (sink, port):
        def dispatcher() -> None:
            try:
                barrier.wait(30)
                reports.append(send_due(factory, _smtp(port), now=NOW))
            except BaseException as error:  # noqa: BLE001
                errors.append(error)

        threads = [threading.Thread(target=dispatcher) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert not errors
    message_ids = sorted(r.message["Message-ID"] for r in sink.received)
    assert message_ids == sorted(f"<{i}@vcu.example>" for i in ids)
    assert sum(r.sent for r in reports) == 30
    session.expire_all()
    assert set(session.scalars(select(OutboxMessage.status))) == {"sent"}
    assert set(session.scalars(select(OutboxMessage.attempts))) == {1}


def test_file_transport_writes_parseable_eml(engine, session, tmp_path):
    message = _enqueue(session)
    outbox = tmp_path / "outbox"
    report = send_due(make_session_factory(engine), FileTransport(outbox, SENDER), now=NOW)
    assert report.sent == 1
    files = list(outbox.iterdir())
    assert [f.name for f in files] == [f"{message.id}.eml"]
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["To"] == "Anne de Vries <anne@example.org>"
    assert parsed.get_body(("plain",)).get_content().startswith("Beste Anne,")
    assert parsed.get_body(("html",)) is not None


class _SmallFiles:
    """The real FileTransport, run while the kernel refuses to write files past a few bytes."""

    def __init__(self, inner: FileTransport, limit: int) -> None:
        self.inner, self.limit, self.sender = inner, limit, inner.sender

    def send(self, message) -> None:  # type: ignore[no-untyped-def]
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.limit, hard))
        try:
            self.inner.send(message)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            signal.signal(signal.SIGXFSZ, previous)


def test_full_disk_leaves_no_partial_file_and_the_message_pending(engine, session, tmp_path):
    # A real short write (EFBIG from RLIMIT_FSIZE, as ENOSPC would be on a full disk) halfway
    # through the file: the temporary file must go and the message must wait for a retry.
    message = _enqueue(session)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    factory = make_session_factory(engine)
    report = send_due(factory, _SmallFiles(FileTransport(outbox, SENDER), 200), now=NOW)
    assert report.retrying == 1
    assert list(outbox.iterdir()) == []
    stored = _stored(session, message.id)
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.last_error.startswith("OSError errno 27")  # EFBIG

    later = NOW + timedelta(minutes=1)
    assert send_due(factory, FileTransport(outbox, SENDER), now=later).sent == 1
    assert [f.name for f in outbox.iterdir()] == [f"{message.id}.eml"]


def test_transport_from_config():
    base = {"MAIL_SERVER": "", "MAIL_PORT": 587, "MAIL_USE_TLS": True, "MAIL_USERNAME": "u",
            "MAIL_PASSWORD": "p", "MAIL_SENDER": SENDER, "MAIL_OUTBOX_DIR": "/tmp/outbox-x"}
    files = dispatch.transport_from_config(base)
    assert isinstance(files, FileTransport) and str(files.directory) == "/tmp/outbox-x"
    smtp = dispatch.transport_from_config({**base, "MAIL_SERVER": "smtp.example.org"})
    assert isinstance(smtp, SmtpTransport)
    assert (smtp.host, smtp.port, smtp.use_tls, smtp.sender) == ("smtp.example.org", 587, True, SENDER)
