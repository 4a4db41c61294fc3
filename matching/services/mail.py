"""E-mails into the outbox: Dutch or English, text and HTML, in the caller's transaction.

Writing a message never fails the act that causes it: a message whose address the mailer
refuses is kept as failed, with the reason, for staff to see (web/outbox.py).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from email.headerregistry import Address

from email_validator import EmailNotValidError, validate_email
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.store import OutboxMessage
from matching.store.bulk import insert_new
from matching.store.base import new_id

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "mail"
LOCALES = ("nl", "en")
SUBJECT_MAX = 200
ADDRESS_MAX = 254
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
UNADDRESSABLE = "unaddressable: the mailer refuses this address"

log = logging.getLogger("maatwerk.mail")


@dataclass(frozen=True)
class Draft:
    """One message for `enqueue_many`: the same fields `enqueue` takes."""

    dedupe_key: str
    to: str | tuple[str, str]
    template: str
    context: dict[str, Any]
    locale: str
    subject_kind: str | None = None
    subject_id: str | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@pass_context
def longdate(context: Any, value: str | date) -> str:
    """An ISO date written out in the message's language: "maandag 14 december"."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(day, format="EEEE d MMMM", locale=context.get("locale", "nl"))


@cache
def _environment(directory: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        # Templates ship with the code: no file check on every render (bulk sends render 10,000s).
        auto_reload=False,
    )
    environment.filters["longdate"] = longdate
    return environment


def render(
    template: str, context: dict[str, Any], locale: str, *, directory: Path = TEMPLATES
) -> Rendered:
    """Subject, text and HTML of `template` in `locale` (Dutch when the locale is unknown)."""
    if not re.fullmatch(r"[a-z0-9_]+", template):
        raise ValueError(f"bad mail template name {template!r}")
    locale = locale if locale in LOCALES else "nl"
    env = _environment(str(directory))
    values = {**context, "locale": locale}
    text_template = env.get_template(f"{template}.{locale}.txt")
    subject = "".join(text_template.blocks["subject"](text_template.new_context(values)))
    return Rendered(
        subject=clean_subject(subject),
        text=text_template.render(values),
        html=env.get_template(f"{template}.{locale}.html").render(values),
    )


def clean_subject(subject: str) -> str:
    """One line: every run of whitespace or control characters becomes a single space."""
    return " ".join(_CONTROL.sub(" ", subject).split())[:SUBJECT_MAX]


def recipient(to: str | tuple[str, str]) -> str:
    """The To header value for one valid address, optionally with a display name.

    A name loses its control characters (so never a second header line); an address
    containing any is refused.
    """
    name, address = ("", to) if isinstance(to, str) else to
    if _CONTROL.search(address) or "," in address or ";" in address:
        raise ValidationFailed({"to": "invalid_email"})
    try:
        normalized = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationFailed({"to": "invalid_email"}) from None
    name = " ".join(_CONTROL.sub(" ", name).split())
    formatted = str(Address(display_name=name, addr_spec=normalized)) if name else normalized
    if len(formatted) > ADDRESS_MAX:
        formatted = normalized
    if len(formatted) > ADDRESS_MAX:
        raise ValidationFailed({"to": "invalid_email"})
    return formatted


def _addressed(to: str | tuple[str, str]) -> tuple[str, str | None]:
    """The To value and None, or a harmless stand-in and why the message cannot be sent."""
    try:
        return recipient(to), None
    except ValidationFailed:
        raw = to if isinstance(to, str) else to[1]
        shown = " ".join(_CONTROL.sub(" ", raw or "").split())[:ADDRESS_MAX]
        log.warning("mail.unaddressable")
        return shown or "-", UNADDRESSABLE


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    to: str | tuple[str, str],
    template: str,
    context: dict[str, Any],
    locale: str,
    subject_kind: str | None = None,
    subject_id: str | None = None,
    now: datetime,
) -> OutboxMessage | None:
    """Add a rendered message to the outbox; None when `dedupe_key` was already used.

    An address the mailer refuses makes a failed message, never an error for the caller.
    """
    if not dedupe_key or len(dedupe_key) > 200:
        raise ValueError("dedupe_key must be 1 to 200 characters")
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    rendered = render(template, context, locale)
    address, problem = _addressed(to)
    message = OutboxMessage(
        dedupe_key=dedupe_key, to_address=address, subject=rendered.subject,
        body_text=rendered.text, body_html=rendered.html,
        status="failed" if problem else "pending", last_error=problem, attempts=0,
        next_attempt_at=now, created_at=now, subject_kind=subject_kind, subject_id=subject_id,
    )
    # A concurrent transaction may insert the same key after our check: the unique index
    # refuses ours, and the savepoint keeps the caller's transaction usable.
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None
    return message


def enqueue_many(session: Session, drafts: list[Draft], *, now: datetime) -> int:
    """Add many messages in one insert, skipping used dedupe keys; how many were added."""
    rows = []
    for draft in drafts:
        if not draft.dedupe_key or len(draft.dedupe_key) > 200:
            raise ValueError("dedupe_key must be 1 to 200 characters")
        rendered = render(draft.template, draft.context, draft.locale)
        address, problem = _addressed(draft.to)
        rows.append({
            "id": new_id(), "dedupe_key": draft.dedupe_key, "to_address": address,
            "subject": rendered.subject, "body_text": rendered.text, "body_html": rendered.html,
            "status": "failed" if problem else "pending", "last_error": problem,
            "attempts": 0, "next_attempt_at": now, "created_at": now,
            "subject_kind": draft.subject_kind, "subject_id": draft.subject_id,
        })
    table = OutboxMessage.__table__
    return len(insert_new(session, table, rows, unique=["dedupe_key"], returning=table.c.id))


def recent(session: Session, *, status: str | None = None, limit: int = 200) -> list[OutboxMessage]:
    """Outbox messages for staff: failed ones first, then the newest."""
    query = select(OutboxMessage)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    failed_first = (OutboxMessage.status == "failed").desc()
    query = query.order_by(failed_first, OutboxMessage.created_at.desc()).limit(limit)
    return list(session.scalars(query))


def retry(session: Session, message_id: str, *, now: datetime) -> OutboxMessage:
    """Put a failed message back in the queue for a fresh round of attempts."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("outbox_message")
    if message.status != "failed":
        raise Conflict("not_failed")
    if message.last_error == UNADDRESSABLE:
        raise Conflict("unaddressable")  # sending again cannot help: the address is wrong
    message.last_error = None
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = now
    session.flush()
    return message
