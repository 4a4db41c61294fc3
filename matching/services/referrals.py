"""Closed-loop referrals: the professional who referred a resident hears what became of it.

Each time the referral moves (received, intake done, waiting with the engine's reason, matched,
introduced, ended, closed with the reason) the referrer gets one e-mail with one link to a
status page. The page shows what the referrer gave and the status, never the volunteer. Beyond
"received" nothing is sent without the resident's consent to inform the referrer (asked at
intake). A move is noticed by `notify_moves` (the job `referrals.notify`), which compares each
referral's stage with the last one sent; the notice is a row in the outbox, so a referrer's
address the mailer refuses never undoes anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching.errors import InvalidLink, ValidationFailed
from matching.store import Link, Match, ReferralNote, ReferralUpdate, Resident

from . import consents, links, mail, profiles, waiting
from .audit import record

PURPOSE = "referral_status"
LINK_DAYS = 90
NOTE_LENGTH = 1000
STAGES = ("received", "intake_done", "waiting", "matched", "introduced", "ended", "closed")
# The e-mail's words for each stage (the referrers are Dutch professionals).
STAGE_WORDS = {
    "received": "uw verwijzing is ontvangen", "intake_done": "het intakegesprek is gedaan",
    "waiting": "we zoeken nog een passend maatje", "matched": "er is een maatje gevonden: gekoppeld",
    "introduced": "de kennismaking is geweest en het maatjescontact loopt",
    "ended": "het maatjescontact is beëindigd", "closed": "de aanmelding is afgesloten",
}
NEW_DAYS = 7


@dataclass(frozen=True)
class Stage:
    stage: str
    reason: str | None = None  # the engine's reason code, an end reason code, or a closing text


def stage_of(session: Session, resident: Resident, reasons: dict[str, str] | None = None) -> Stage:
    """Where the referral stands now, as the referrer may hear it; reasons: waiting.recent_reasons,
    when the caller has them already."""
    if resident.status == "closed":
        return Stage("closed", (resident.closed_reason or "")[:200] or None)
    latest = session.scalars(
        select(Match).where(Match.resident_id == resident.id,
                            Match.status.in_(("accepted", "active", "ended")))
        .order_by(Match.proposed_at.desc(), Match.id.desc()).limit(1)
    ).first()
    if latest is not None and latest.status == "accepted":
        return Stage("matched")
    if latest is not None and latest.status == "active":
        return Stage("introduced")
    if resident.status == "referred":
        return Stage("received")
    if latest is not None and latest.status == "ended":
        return Stage("ended", latest.end_reason)
    reason = (waiting.recent_reasons(session) if reasons is None else reasons).get(resident.id)
    return Stage("waiting", reason) if reason else Stage("intake_done")


def intake_done(session: Session, resident_id: str, inform_referrer: bool, *, actor: str | None,
                now: datetime) -> Resident:
    """The intake is done (status waiting), and whether the resident wants the referrer kept informed."""
    resident = profiles.set_waiting(session, resident_id, actor=actor, now=now)
    if inform_referrer and consents.current(session, "resident", resident_id, "referrer_updates") is None:
        consents.give(session, "resident", resident_id, "referrer_updates", consents.CURRENT_VERSION, actor, now)
    return resident


def informs_referrer(session: Session, resident: Resident) -> bool:
    """The resident agreed that the referrer is kept informed (consent 'referrer_updates')."""
    return consents.current(session, "resident", resident.id, "referrer_updates") is not None


def _notify(session: Session, resident: Resident, stage: Stage, *, now: datetime, base_url: str,
            secret: str) -> ReferralUpdate:
    sequence = session.scalar(select(func.count()).select_from(ReferralUpdate)
                              .where(ReferralUpdate.resident_id == resident.id)) or 0
    update = ReferralUpdate(resident_id=resident.id, stage=stage.stage, reason=stage.reason, at=now,
                            sequence=sequence + 1)
    session.add(update)
    session.flush()
    token = links.issue(session, purpose=PURPOSE, subject=("resident", resident.id),
                        person=("referrer", resident.id), now=now, ttl=timedelta(days=LINK_DAYS),
                        secret=secret)
    mail.enqueue(
        session, dedupe_key=f"referral:{resident.id}:{update.sequence}",
        to=(resident.referrer_name or "", resident.referrer_email or ""),
        template="referral_update", locale="nl", subject_kind="resident", subject_id=resident.id,
        context={"name": resident.referrer_name or "", "resident": _initials(resident),
                 "stage_words": STAGE_WORDS[stage.stage], "link": f"{base_url.rstrip('/')}/verwijzing/{token}",
                 "valid_until": (now + timedelta(days=LINK_DAYS)).date()},
        now=now,
    )
    return update


def _initials(resident: Resident) -> str:
    """How the e-mail names the resident: first name and the initial of the last name."""
    last = (resident.last_name or "").strip()
    return f"{resident.first_name} {last[:1]}.".strip() if last else resident.first_name


def notify_moves(session: Session, *, now: datetime, base_url: str, secret: str) -> int:
    """One notice per referral that is new ("received") or whose stage moved since the last notice
    (only with the resident's consent); returns how many were written to the outbox.

    A referral older than NEW_DAYS without any notice came before the loop was closed: its
    referrer is not written to out of the blue.
    """
    last = (select(ReferralUpdate.resident_id, func.max(ReferralUpdate.sequence).label("sequence"))
            .group_by(ReferralUpdate.resident_id).subquery())
    rows = session.execute(
        select(Resident, ReferralUpdate)
        .outerjoin(last, last.c.resident_id == Resident.id)
        .outerjoin(ReferralUpdate, (ReferralUpdate.resident_id == last.c.resident_id)
                   & (ReferralUpdate.sequence == last.c.sequence))
        .where(Resident.referrer_email.is_not(None), Resident.anonymised_at.is_(None),
               (last.c.sequence.is_not(None)) | (Resident.created_at >= now - timedelta(days=NEW_DAYS)))
        .order_by(Resident.created_at, Resident.id)
    ).all()
    sent = 0
    reasons = waiting.recent_reasons(session) if rows else {}
    for resident, previous in rows:
        if previous is None:
            _notify(session, resident, Stage("received"), now=now, base_url=base_url, secret=secret)
            sent += 1
            continue
        if previous.stage == "closed" and resident.status == "closed":
            continue
        if not informs_referrer(session, resident):
            continue
        stage = stage_of(session, resident, reasons)
        if (stage.stage, stage.reason) == (previous.stage, previous.reason):
            continue
        _notify(session, resident, stage, now=now, base_url=base_url, secret=secret)
        sent += 1
    return sent


@dataclass(frozen=True)
class StatusPage:
    resident: Resident
    stage: Stage
    updates: list[ReferralUpdate]
    informed: bool
    notes: list[ReferralNote]


def open_link(session: Session, token: str, *, now: datetime, secret: str) -> tuple[Link, Resident]:
    link = links.read(session, token, purpose=PURPOSE, now=now, secret=secret)
    resident = session.get(Resident, link.subject_id)
    if resident is None or resident.anonymised_at is not None:
        raise InvalidLink("unknown")
    return link, resident


def status(session: Session, token: str, *, now: datetime, secret: str) -> StatusPage:
    """What the status page shows; reading it changes nothing."""
    _link, resident = open_link(session, token, now=now, secret=secret)
    informed = informs_referrer(session, resident)
    stage = stage_of(session, resident) if informed else Stage("received")
    updates = list(session.scalars(select(ReferralUpdate).where(ReferralUpdate.resident_id == resident.id)
                                   .order_by(ReferralUpdate.sequence)))
    notes = list(session.scalars(select(ReferralNote).where(ReferralNote.resident_id == resident.id)
                                 .order_by(ReferralNote.created_at)))
    return StatusPage(resident, stage, updates if informed else updates[:1], informed, notes)


def add_note(session: Session, token: str, text: str, *, now: datetime, secret: str) -> ReferralNote:
    """The referrer's note for the coordinators ("mevrouw is verhuisd")."""
    _link, resident = open_link(session, token, now=now, secret=secret)
    text = "\n".join(line.rstrip() for line in str(text or "").strip().splitlines())
    if not text:
        raise ValidationFailed({"note": "required"})
    if len(text) > NOTE_LENGTH:
        raise ValidationFailed({"note": "too_long"})
    note = ReferralNote(resident_id=resident.id, text=text, created_at=now)
    session.add(note)
    session.flush()
    record(session, actor="referrer", action="referral.note_added", subject=("resident", resident.id), now=now)
    return note


def renew(session: Session, link_id: str, *, now: datetime, base_url: str, secret: str) -> None:
    """A fresh link to the referrer's address on file, for an expired one."""
    link = session.get(Link, link_id)
    resident = session.get(Resident, link.subject_id) if link else None
    if resident is None or resident.anonymised_at is not None or not resident.referrer_email:
        return
    latest = session.scalars(select(ReferralUpdate).where(ReferralUpdate.resident_id == resident.id)
                             .order_by(ReferralUpdate.sequence.desc()).limit(1)).first()
    token = links.issue(session, purpose=PURPOSE, subject=("resident", resident.id),
                        person=("referrer", resident.id), now=now, ttl=timedelta(days=LINK_DAYS),
                        secret=secret)
    mail.enqueue(
        session, dedupe_key=f"referral-link:{link_id}",
        to=(resident.referrer_name or "", resident.referrer_email), template="referral_update",
        locale="nl", subject_kind="resident", subject_id=resident.id,
        context={"name": resident.referrer_name or "", "resident": _initials(resident),
                 "stage_words": STAGE_WORDS[latest.stage if latest else "received"],
                 "link": f"{base_url.rstrip('/')}/verwijzing/{token}",
                 "valid_until": (now + timedelta(days=LINK_DAYS)).date()},
        now=now,
    )


def notes_for(session: Session, resident_id: str) -> list[ReferralNote]:
    return list(session.scalars(select(ReferralNote).where(ReferralNote.resident_id == resident_id)
                                .order_by(ReferralNote.created_at.desc())))
