"""Right of access (everything we hold about one person) and right to erasure.

Erasure anonymises the profile row instead of deleting it, so that matches, check-ins and the
other party's history keep pointing at a row and statistics (counts, durations, target group,
birth decade) stay right. The anonymised row has status "stopped" / "closed" with reason ERASED
and no name, contact data, address, coordinates, notes or preferences. Open matches are withdrawn
(before acceptance) or ended (after); the other party's resident goes back to "waiting" and the
volunteer's open-match counter goes down. Consents and exclusions are deleted, check-in comments
and match notes cleared, mails to the person scrubbed (pending ones cancelled), mails about their
matches cancelled when pending and stripped of the person's details, and the geocoder cache entry
for their postcode removed. Audit events hold field names only and are kept.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, inspect, or_, select, update
from sqlalchemy.orm import Session

from matching.errors import NotFound
from matching.store import (
    ActivitySuggestion, CheckIn, Consent, Exclusion, ExitInterview, Match, MilestoneReview, OutboxMessage, ReferralNote,
    ReferralUpdate,
)
from matching.store.staff import AuditEvent

from . import profiles
from .audit import record
from .consents import CONSENT_TEXTS
from .geocoding import forget

ERASED_TEXT = "[verwijderd]"
# Columns that are not about the person or that statistics need; everything else is cleared.
_KEEP = {
    "id", "created_at", "updated_at", "version", "gender", "birth_year", "status", "capacity",
    "open_matches", "vog_status", "registered_at", "last_active_at", "returned_at", "is_returning",
    "source", "stopped_at", "stop_reason", "target_group", "referral_source", "loneliness_score",
    "waiting_since", "closed_at", "closed_reason", "can_travel", "contact_via_referrer",
    "max_travel_km", "anonymised_at",
}
# Retention keeps these too: the dashboard counts by neighbourhood and by closing reason.
_KEEP_FOR_RETENTION = {"neighbourhood"}
_REASON_CODE = re.compile(r"[a-z_:]{1,40}")
_OPEN_BEFORE_ACCEPTANCE = ("proposed", "offered")


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    return value


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {column.key: _json(getattr(obj, column.key))
            for column in inspect(obj).mapper.column_attrs if column.key not in skip}


def _person(session: Session, kind: str, id: str) -> Any:
    if kind not in profiles.MODELS:
        raise NotFound(f"{kind} {id}")
    return profiles.get_profile(session, kind, id)  # type: ignore[arg-type]


def _matches(session: Session, kind: str, id: str) -> list[Match]:
    column = Match.volunteer_id if kind == "volunteer" else Match.resident_id
    return list(session.scalars(select(Match).where(column == id).order_by(Match.proposed_at)))


def _mail_to(person: Any, kind: str) -> Any:
    conditions = [(OutboxMessage.subject_kind == kind) & (OutboxMessage.subject_id == person.id)]
    if person.email:
        address = func.lower(OutboxMessage.to_address)
        email = person.email.lower()
        # Addresses are stored bare or with a display name: "Anne de Vries <anne@example.org>".
        conditions.append(address == email)
        conditions.append(address.endswith(f"<{email}>", autoescape=True))
    return or_(*conditions)


def export_person(session: Session, kind: str, id: str) -> dict[str, Any]:
    """Everything held about one person, JSON-serialisable; the other party of a match is an id."""
    person = _person(session, kind, id)
    other = "resident" if kind == "volunteer" else "volunteer"
    matches = _matches(session, kind, id)
    match_ids = [m.id for m in matches]
    consents = session.scalars(
        select(Consent).where(Consent.subject_kind == kind, Consent.subject_id == id)
        .order_by(Consent.given_at)
    )
    own_column = Exclusion.volunteer_id if kind == "volunteer" else Exclusion.resident_id
    return {
        "kind": kind,
        "profile": _row(person),
        "consents": [
            {**_row(c, ("subject_kind", "subject_id")),
             "text": CONSENT_TEXTS.get(c.text_version, {}).get(c.purpose)}
            for c in consents
        ],
        "matches": [
            {**_row(m, ("volunteer_id", "resident_id", "explanation")),
             "other_party": {"kind": other, "id": getattr(m, f"{other}_id")}}
            for m in matches
        ],
        "check_ins": [
            _row(c) for c in session.scalars(
                select(CheckIn).where(CheckIn.match_id.in_(match_ids)).order_by(CheckIn.sent_at)
            )
        ] if match_ids else [],
        "exclusions": [
            {"other_party": {"kind": other, "id": getattr(e, f"{other}_id")}, "reason": e.reason,
             "created_at": _json(e.created_at)}
            for e in session.scalars(select(Exclusion).where(own_column == id))
        ],
        "audit_events": [
            _row(e, ("subject_kind", "subject_id")) for e in session.scalars(
                select(AuditEvent).where(AuditEvent.subject_kind == kind, AuditEvent.subject_id == id)
                .order_by(AuditEvent.at, AuditEvent.id)
            )
        ],
        "outbox_messages": [
            _row(m, ("dedupe_key", "subject_kind", "subject_id")) for m in session.scalars(
                select(OutboxMessage).where(_mail_to(person, kind)).order_by(OutboxMessage.created_at)
            )
        ],
        # What the referrer was told about the referral and what the referrer told back.
        "referral_updates": [
            _row(u, ("resident_id",)) for u in session.scalars(
                select(ReferralUpdate).where(ReferralUpdate.resident_id == id).order_by(ReferralUpdate.sequence))
        ] if kind == "resident" else [],
        "activity_suggestions": [
            _row(a, ("resident_id",)) for a in session.scalars(
                select(ActivitySuggestion).where(ActivitySuggestion.resident_id == id)
                .order_by(ActivitySuggestion.created_at))
        ] if kind == "resident" else [],
        "referral_notes": [
            _row(n, ("resident_id",)) for n in session.scalars(
                select(ReferralNote).where(ReferralNote.resident_id == id).order_by(ReferralNote.created_at))
        ] if kind == "resident" else [],
    }


def _identifying_strings(person: Any) -> list[str]:
    values = {person.first_name, person.last_name, person.full_name, person.email, person.phone,
              person.postcode, person.notes, getattr(person, "health_note", None)}
    # Longest first, so a full name is replaced before its parts.
    return sorted((v for v in values if v and len(v) >= 3), key=len, reverse=True)


def _scrub(text: str | None, secrets: list[str]) -> str | None:
    if text is None:
        return None
    lowered = text.lower()
    for secret in secrets:
        start = lowered.find(secret.lower())
        while start != -1:
            text = text[:start] + ERASED_TEXT + text[start + len(secret):]
            lowered = text.lower()
            start = lowered.find(secret.lower(), start + len(ERASED_TEXT))
    return text


def _close_open_matches(session: Session, kind: str, matches: list[Match], now: datetime) -> None:
    for match in matches:
        if not match.is_open:
            continue
        if match.status in _OPEN_BEFORE_ACCEPTANCE:
            match.status = "withdrawn"
        else:
            match.status, match.end_reason = "ended", "other"
        match.ended_at = now
        volunteer = match.volunteer
        volunteer.open_matches = max(0, volunteer.open_matches - 1)
        if kind == "volunteer" and match.resident.status in ("proposed", "matched"):
            match.resident.status = "waiting"


def erase_person(
    session: Session, kind: str, id: str, *, actor: str | None, now: datetime,
    retention: bool = False,
) -> None:
    """Remove the person's personal data everywhere, keeping anonymous statistics intact.

    retention=True is the end of the retention period for a closed record rather than a
    request: status, closing date and a coded closing reason stay, and so does the
    neighbourhood, for the statistics over past years.
    """
    person = _person(session, kind, id)
    secrets = _identifying_strings(person)
    matches = _matches(session, kind, id)
    _close_open_matches(session, kind, matches, now)
    match_ids = [m.id for m in matches]
    for match in matches:
        match.end_note = match.decline_reason = None
        match.explanation = {}
    if match_ids:
        for check_in in session.scalars(select(CheckIn).where(CheckIn.match_id.in_(match_ids))):
            check_in.comment = None
        for review in session.scalars(
                select(MilestoneReview).where(MilestoneReview.match_id.in_(match_ids))):
            review.note = None
        for interview in session.scalars(
                select(ExitInterview).where(ExitInterview.match_id.in_(match_ids))):
            interview.comment = None
        about_matches = session.scalars(select(OutboxMessage).where(
            OutboxMessage.subject_kind == "match", OutboxMessage.subject_id.in_(match_ids)))
        for message in about_matches:
            if message.status == "pending":
                message.status = "cancelled"
            message.subject = _scrub(message.subject, secrets) or ""
            message.body_text = _scrub(message.body_text, secrets) or ""
            message.body_html = _scrub(message.body_html, secrets)
            message.last_error = None
    for message in session.scalars(select(OutboxMessage).where(_mail_to(person, kind))):
        if message.status == "pending":
            message.status = "cancelled"
        message.to_address, message.subject, message.body_text = "", ERASED_TEXT, ""
        message.body_html = message.last_error = None
    if kind == "resident":
        # The referrer's notices name the resident; the referrer's notes are about them.
        for message in session.scalars(select(OutboxMessage).where(
                OutboxMessage.subject_kind == "resident", OutboxMessage.subject_id == id)):
            if message.status == "pending":
                message.status = "cancelled"
            message.subject, message.body_text, message.body_html = ERASED_TEXT, "", None
            message.last_error = None
        session.execute(delete(ReferralNote).where(ReferralNote.resident_id == id))
        session.execute(delete(ActivitySuggestion).where(ActivitySuggestion.resident_id == id))
        session.execute(update(ReferralUpdate).where(ReferralUpdate.resident_id == id).values(reason=None))
    session.execute(delete(Consent).where(Consent.subject_kind == kind, Consent.subject_id == id))
    own = Exclusion.volunteer_id if kind == "volunteer" else Exclusion.resident_id
    session.execute(delete(Exclusion).where(own == id))
    forget(session, person.postcode)
    cleared = _anonymise(person, kind, now, retention)
    session.flush()
    action = f"{kind}.anonymised" if retention else f"{kind}.erased"
    record(session, actor=actor, action=action, subject=(kind, id), fields=cleared, now=now)
    session.flush()


def _anonymise(person: Any, kind: str, now: datetime, retention: bool) -> list[str]:
    cleared = []
    keep = _KEEP | _KEEP_FOR_RETENTION if retention else _KEEP
    for column in inspect(person).mapper.columns:
        name = column.key
        if name in keep:
            continue
        value = getattr(person, name)
        if name in ("first_name", "last_name"):
            empty: Any = ""
        elif name in ("languages", "interests", "activities", "availability"):
            empty = []
        else:
            empty = None
        if value != empty:
            setattr(person, name, empty)
            cleared.append(name)
    if person.birth_year is not None:
        person.birth_year -= person.birth_year % 10  # the decade is enough for statistics
    reason = "stop_reason" if kind == "volunteer" else "closed_reason"
    if retention:
        # A free-text reason may name people or illnesses: only a code survives.
        if getattr(person, reason) and not _REASON_CODE.fullmatch(getattr(person, reason)):
            setattr(person, reason, "other")
            cleared.append(reason)
    elif kind == "volunteer":
        person.status, person.stop_reason, person.stopped_at = "stopped", profiles.ERASED, now
    else:
        person.status, person.closed_reason, person.closed_at = "closed", profiles.ERASED, now
    if kind == "volunteer":
        person.open_matches = 0
    else:
        person.contact_via_referrer = False
    person.anonymised_at = person.updated_at = now
    return sorted(cleared)
