"""Consent records: which text a person agreed to, when, and who recorded it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.store import Consent, Resident, Volunteer

from .audit import record

CURRENT_VERSION = "2026-01"
# The exact wording shown to (or read out to) the person, per version and purpose.
CONSENT_TEXTS: dict[str, dict[str, str]] = {
    "2026-01": {
        "profile": (
            "Ik meld mij aan als vrijwilliger bij de Vrijwilligers Centrale Utrecht. Ik geef "
            "toestemming om mijn gegevens (naam, contactgegevens, postcode, geboortejaar, talen, "
            "interesses en beschikbaarheid) te bewaren en te gebruiken om mij te koppelen aan een "
            "deelnemer. Mijn gegevens worden niet met anderen gedeeld dan nodig voor een koppeling. "
            "Ik kan deze toestemming altijd intrekken; dan worden mijn gegevens verwijderd."
        ),
        "referral": (
            "De deelnemer is op de hoogte van deze aanmelding en geeft toestemming dat de "
            "Vrijwilligers Centrale Utrecht de gegevens van deze aanmelding bewaart en gebruikt om "
            "een passend maatje te zoeken en contact op te nemen. De toestemming kan altijd worden "
            "ingetrokken; dan worden de gegevens verwijderd."
        ),
        "health_note": (
            "De deelnemer geeft uitdrukkelijk toestemming om een korte notitie over de gezondheid "
            "vast te leggen, alleen om een passend maatje te vinden. Alleen coördinatoren kunnen "
            "deze notitie zien. Bij intrekken van de toestemming wordt de notitie direct gewist."
        ),
        "contact": (
            "Ik geef toestemming dat de Vrijwilligers Centrale Utrecht mij per e-mail of telefoon "
            "benadert over mijn koppeling en wekelijkse contactmomenten."
        ),
        "referrer_updates": (
            "De deelnemer geeft toestemming dat de Vrijwilligers Centrale Utrecht de verwijzer "
            "(bijvoorbeeld de huisarts of het buurtteam) laat weten hoe het met de verwijzing gaat: "
            "intake gedaan, wachtend, gekoppeld, kennismaking geweest, beëindigd of afgesloten. De "
            "verwijzer krijgt nooit gegevens van het maatje. De toestemming kan altijd worden "
            "ingetrokken."
        ),
    },
}
_MODELS: dict[str, type[Volunteer] | type[Resident]] = {"volunteer": Volunteer, "resident": Resident}


def text(purpose: str, version: str = CURRENT_VERSION) -> str:
    """The consent wording for a purpose and version."""
    return CONSENT_TEXTS[version][purpose]


def give(
    session: Session,
    kind: str,
    id: str,
    purpose: str,
    text_version: str,
    recorded_by: str | None,
    now: datetime,
) -> Consent:
    """Record that the person agreed to text_version of the purpose's consent text."""
    if kind not in _MODELS:
        raise ValidationFailed({"kind": "invalid_choice"})
    if text_version not in CONSENT_TEXTS:
        raise ValidationFailed({"text_version": "invalid_choice"})
    if purpose not in CONSENT_TEXTS[text_version]:
        raise ValidationFailed({"purpose": "invalid_choice"})
    if session.get(_MODELS[kind], id) is None:
        raise NotFound(f"{kind} {id}")
    consent = Consent(
        subject_kind=kind, subject_id=id, purpose=purpose, text_version=text_version,
        given_at=now, recorded_by=recorded_by,
    )
    session.add(consent)
    record(session, actor=recorded_by, action=f"consent.given.{purpose}"[:40], subject=(kind, id),
           now=now)
    session.flush()
    return consent


def current(session: Session, kind: str, id: str, purpose: str) -> Consent | None:
    """The most recent consent for this purpose that has not been withdrawn."""
    return session.scalars(
        select(Consent)
        .where(Consent.subject_kind == kind, Consent.subject_id == id, Consent.purpose == purpose,
               Consent.withdrawn_at.is_(None))
        .order_by(Consent.given_at.desc())
    ).first()


def withdraw(
    session: Session, kind: str, id: str, purpose: str, *, actor: str | None, now: datetime
) -> int:
    """Withdraw every standing consent for the purpose; withdrawing health_note clears the note.

    Returns how many consent records were withdrawn; Conflict when none was standing. The
    records stay, marked withdrawn (when, by whom): they are the proof of what was agreed.
    """
    if kind not in _MODELS:
        raise ValidationFailed({"kind": "invalid_choice"})
    if purpose not in CONSENT_TEXTS[CURRENT_VERSION]:
        raise ValidationFailed({"purpose": "invalid_choice"})
    if session.get(_MODELS[kind], id) is None:
        raise NotFound(f"{kind} {id}")
    standing = session.scalars(
        select(Consent).where(
            Consent.subject_kind == kind, Consent.subject_id == id, Consent.purpose == purpose,
            Consent.withdrawn_at.is_(None),
        )
    ).all()
    if not standing:
        raise Conflict("consent_not_given")
    for consent in standing:
        consent.withdrawn_at = now
        consent.withdrawn_by = actor
    fields: list[str] = []
    if purpose == "health_note" and kind == "resident":
        resident = session.get(Resident, id)
        if resident is not None and resident.health_note is not None:
            resident.health_note = None
            fields.append("health_note")
    record(session, actor=actor, action=f"consent.withdrawn.{purpose}"[:40], subject=(kind, id),
           fields=fields, now=now)
    session.flush()
    return len(standing)
