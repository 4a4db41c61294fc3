"""Signed links for e-mails: the token carries only a random id; the row says what it is for."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from matching.errors import InvalidLink, ValidationFailed
from matching.store import LINK_PURPOSES, Link
from matching.store.links import new_link_id

log = logging.getLogger("maatwerk.links")

Result = Literal["recorded", "already_received", "conflict"]


@dataclass(frozen=True)
class Outcome:
    """What `use` did: the choice that stands after the call, and whether this call set it."""

    result: Result
    choice: str

    @property
    def recorded(self) -> bool:
        return self.result == "recorded"


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    # One salt per purpose: a check-in token can never be read as a proposal token.
    return URLSafeTimedSerializer(secret, salt=f"maatwerk.link.{purpose}")


def _check_purpose(purpose: str) -> None:
    if purpose not in LINK_PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}; expected one of {LINK_PURPOSES}")


def issue(
    session: Session,
    *,
    purpose: str,
    subject: tuple[str, str],
    person: tuple[str, str],
    now: datetime,
    ttl: timedelta,
    secret: str,
) -> str:
    """Store a new link for `person` about `subject` and return its signed token."""
    _check_purpose(purpose)
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    link = Link(
        purpose=purpose, subject_kind=subject[0], subject_id=subject[1],
        person_kind=person[0], person_id=person[1], created_at=now, expires_at=now + ttl,
    )
    session.add(link)
    session.flush()
    return _serializer(secret, purpose).dumps(link.id)


def issue_many(
    session: Session,
    *,
    purpose: str,
    pairs: list[tuple[tuple[str, str], tuple[str, str]]],
    now: datetime,
    ttl: timedelta,
    secret: str,
) -> list[str]:
    """Like `issue` for many (subject, person) pairs in one insert; the tokens in the same order."""
    _check_purpose(purpose)
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    if not pairs:
        return []
    rows = [
        {"id": new_link_id(), "purpose": purpose, "subject_kind": subject[0],
         "subject_id": subject[1], "person_kind": person[0], "person_id": person[1],
         "created_at": now, "expires_at": now + ttl}
        for subject, person in pairs
    ]
    session.execute(insert(Link.__table__), rows)
    serializer = _serializer(secret, purpose)
    return [serializer.dumps(row["id"]) for row in rows]


def read(session: Session, token: str, *, purpose: str, now: datetime, secret: str) -> Link:
    """The link behind `token`, or InvalidLink with the reason it cannot be used."""
    _check_purpose(purpose)
    try:
        link_id = _serializer(secret, purpose).loads(token)
    except BadSignature:
        other = _signed_for_other_purpose(token, purpose, secret)
        reason = "wrong_purpose" if other else "bad_signature"
        log.warning("security.link_refused reason=%s purpose=%s", reason, purpose)
        raise InvalidLink(reason) from None
    link = session.get(Link, link_id) if isinstance(link_id, str) else None
    if link is None or link.purpose != purpose:
        log.warning("security.link_refused reason=unknown purpose=%s", purpose)
        raise InvalidLink("unknown")
    if now >= link.expires_at:
        raise InvalidLink("expired", link_id=link.id)
    return link


def _signed_for_other_purpose(token: str, purpose: str, secret: str) -> bool:
    for other in LINK_PURPOSES:
        if other == purpose:
            continue
        try:
            _serializer(secret, other).loads(token)
        except BadSignature:
            continue
        return True
    return False


def use(session: Session, link: Link, choice: str, now: datetime) -> Outcome:
    """Record `choice` once; a repeat is harmless and a different later choice never wins."""
    if not choice or len(choice) > 40:
        raise ValidationFailed({"choice": "invalid_choice"})
    # The condition on used_at makes the database decide between racing clicks.
    result = session.execute(
        update(Link)
        .where(Link.id == link.id, Link.used_at.is_(None))
        .values(used_at=now, choice=choice)
        .execution_options(synchronize_session=False)
    )
    session.refresh(link)
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return Outcome("recorded", choice)
    standing = link.choice or ""
    return Outcome("already_received" if standing == choice else "conflict", standing)
