"""The SMTP server is down for a while: nothing is lost, everything goes out later, once.

The full-disk fault of the file outbox is tests/jobs/test_outbox.py::
test_full_disk_leaves_no_partial_file_and_the_message_pending (a real short write).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import select

from jobs import outbox as dispatch
from matching.services import mail
from jobs.outbox import SmtpTransport, send_due
from matching.store import OutboxMessage, make_session_factory
from tests.matching.mail_sink import Sink, free_port

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SENDER = "Maatwerk <noreply@vcu.example>"


def _rows(session) -> list[OutboxMessage]:
    session.expire_all()
    rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    session.commit()  # end the read: SQLite's BEGIN IMMEDIATE holds the write lock
    return rows


def test_outage_keeps_every_message_pending_then_sends_each_once(engine, session):
    for n in range(5):
        mail.enqueue(session, dedupe_key=f"outage:{n}", to=(f"Persoon {n}", f"p{n}@example.org"),
                     template="notice", locale="nl", now=NOW,
                     context={"subject": "Een voorstel", "name": f"Persoon {n}",
                              "lines": ["Er is een maatje gevonden."], "link": None})
    session.commit()
    port = free_port()  # nobody listens here until the server "comes back"
    transport = SmtpTransport("127.0.0.1", port, False, "", "", SENDER)
    factory = make_session_factory(engine)

    t = NOW
    for attempt in range(1, 5):
        assert send_due(factory, transport, now=t).retrying == 5
        rows = _rows(session)
        assert {(r.status, r.attempts) for r in rows} == {("pending", attempt)}
        assert {r.next_attempt_at for r in rows} == {t + dispatch.backoff(attempt)}
        assert all(r.last_error.startswith("ConnectionRefusedError") for r in rows)
        # Between the retries nothing is tried.
        quiet = send_due(factory, transport, now=t + dispatch.backoff(attempt) / 2)
        assert (quiet.sent, quiet.retrying) == (0, 0)
        t += dispatch.backoff(attempt)

    sink = Sink()
    server = Controller(sink, hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert send_due(factory, transport, now=t).sent == 5
        later = send_due(factory, transport, now=t + timedelta(days=1))
        assert (later.sent, later.retrying, later.failed) == (0, 0, 0)
    finally:
        server.stop()

    rows = _rows(session)
    assert sorted(r.message["Message-ID"] for r in sink.received) == sorted(
        f"<{row.id}@vcu.example>" for row in rows)
    assert sorted(r.rcpt_tos[0] for r in sink.received) == [f"p{n}@example.org" for n in range(5)]
    assert {(r.status, r.attempts, r.sent_at, r.last_error) for r in rows} == {
        ("sent", 5, t, None)}
