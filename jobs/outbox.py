"""Sending the outbox: claim due messages, hand them to a transport, retry with back-off."""
from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from matching.store import OutboxMessage

log = logging.getLogger("maatwerk.mail")

MAX_ATTEMPTS = 6
BACKOFF_CAP = timedelta(hours=1)
# A claimed message is invisible to other dispatchers this long; a dispatcher that dies
# mid-send leaves it to be retried after the lease, so a crash can repeat a send, never lose it.
LEASE = timedelta(minutes=10)
SMTP_TIMEOUT = 30


class Transport(Protocol):
    sender: str

    def send(self, message: EmailMessage) -> None: ...


@dataclass
class SendReport:
    """Counts of one dispatcher run."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another dispatcher first


@dataclass(frozen=True)
class ClaimedMessage:
    """The fields of one claimed message, read in the claiming transaction."""

    id: str
    to_address: str
    subject: str
    body_text: str
    body_html: str | None
    attempts: int


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: 1, 2, 4, 8 ... minutes, capped."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def build_message(claimed: ClaimedMessage, sender: str, now: datetime) -> EmailMessage:
    """A multipart/alternative message; its Message-ID is stable across retries."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "maatwerk.local"
    message = EmailMessage()
    # The header registry refuses CR/LF in every value: a second barrier after enqueue's checks.
    message["From"] = sender
    message["To"] = claimed.to_address
    message["Subject"] = claimed.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{claimed.id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(claimed.body_text)
    if claimed.body_html:
        message.add_alternative(claimed.body_html, subtype="html")
    return message


def error_summary(error: BaseException) -> str:
    """The error's class and SMTP code or errno: never the addresses or text it may carry."""
    name = type(error).__name__
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _text in error.recipients.values()})
        return f"{name} {' '.join(str(c) for c in codes)}".strip()
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{name} {error.smtp_code}"
    if isinstance(error, OSError) and error.errno is not None:
        return f"{name} errno {error.errno}"
    return name


def send_due(
    session_factory: Callable[[], Session], transport: Transport, *, now: datetime, batch: int = 100
) -> SendReport:
    """Send up to `batch` pending messages whose time has come; each goes out once."""
    report = SendReport()
    with session_factory() as session, session.begin():
        due = session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
            .limit(batch)
        ).all()
    for message_id in due:
        claimed = _claim(session_factory, message_id, now)
        if claimed is None:
            report.skipped += 1
            continue
        try:
            transport.send(build_message(claimed, transport.sender, now))
        except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
            summary = error_summary(error)
            failed = _record_failure(session_factory, claimed, summary, now)
            log.warning("mail.send_failed id=%s attempt=%d error=%s", claimed.id,
                        claimed.attempts, summary)
            if failed:
                report.failed += 1
            else:
                report.retrying += 1
            continue
        _record_sent(session_factory, claimed.id, now)
        report.sent += 1
    return report


def _claim(
    session_factory: Callable[[], Session], message_id: str, now: datetime
) -> ClaimedMessage | None:
    with session_factory() as session, session.begin():
        # Conditional update: of two dispatchers that saw this message due, one updates it.
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id, OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
            )
            .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = session.get_one(OutboxMessage, message_id)
        return ClaimedMessage(row.id, row.to_address, row.subject, row.body_text, row.body_html,
                        row.attempts)


def _record_sent(session_factory: Callable[[], Session], message_id: str, now: datetime) -> None:
    with session_factory() as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status="sent", sent_at=now, last_error=None)
            .execution_options(synchronize_session=False)
        )


def _record_failure(
    session_factory: Callable[[], Session], claimed: ClaimedMessage, summary: str, now: datetime
) -> bool:
    """Schedule the next attempt, or give up after MAX_ATTEMPTS; True when given up."""
    give_up = claimed.attempts >= MAX_ATTEMPTS
    values: dict[str, Any] = {"last_error": summary[:500]}
    if give_up:
        values["status"] = "failed"
    else:
        values["next_attempt_at"] = now + backoff(claimed.attempts)
    with session_factory() as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claimed.id, OutboxMessage.status == "pending")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return give_up


class SmtpTransport:
    """Delivers through an SMTP server, with STARTTLS and login when configured."""

    def __init__(
        self, host: str, port: int, use_tls: bool, username: str, password: str, sender: str
    ) -> None:
        self.host, self.port, self.use_tls = host, port, use_tls
        self.username, self.password, self.sender = username, password, sender

    def send(self, message: EmailMessage) -> None:
        envelope_from = parseaddr(self.sender)[1]
        envelope_to = parseaddr(str(message["To"]))[1]
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT) as smtp:
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message, from_addr=envelope_from, to_addrs=[envelope_to])


class FileTransport:
    """Writes each message as an .eml file: complete or not at all."""

    def __init__(
        self, directory: str | Path, sender: str = "Maatwerk <noreply@maatwerk.local>"
    ) -> None:
        self.directory = Path(directory)
        self.sender = sender

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Named after the Message-ID: a repeated send replaces the file instead of adding one.
        stem = str(message["Message-ID"]).strip("<>").partition("@")[0]
        data = message.as_bytes()
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".sending-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.directory / f"{stem}.eml")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def transport_from_config(config: Mapping[str, Any] | object) -> Transport:
    """SMTP when MAIL_SERVER is set, otherwise .eml files in MAIL_OUTBOX_DIR."""
    def get(key: str) -> Any:
        return config[key] if isinstance(config, Mapping) else getattr(config, key)

    if get("MAIL_SERVER"):
        return SmtpTransport(
            get("MAIL_SERVER"), int(get("MAIL_PORT")), bool(get("MAIL_USE_TLS")),
            get("MAIL_USERNAME"), get("MAIL_PASSWORD"), get("MAIL_SENDER"),
        )
    return FileTransport(get("MAIL_OUTBOX_DIR"), get("MAIL_SENDER"))
