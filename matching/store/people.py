"""Volunteers, residents and the consent they gave."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from .base import Base, new_id, utcnow

VOLUNTEER_STATUSES = ("new", "available", "paused", "stopped")
RESIDENT_STATUSES = ("referred", "waiting", "proposed", "matched", "on_hold", "closed")
TARGET_GROUPS = ("older_person", "migrant_elder", "informal_carer", "young_person", "other")
REFERRAL_SOURCES = ("gp", "neighbourhood_team", "nizu", "self", "family", "partner")
GENDERS = ("f", "m", "x")
# How long someone means to keep a match going, in months, or "open": as long as it works.
COMMITMENTS = ("3", "6", "12", "24", "open")
VOG_STATUSES = ("none", "requested", "valid", "expired")
# referrer_updates: the resident agrees that the referrer is kept informed (closed-loop referral).
CONSENT_PURPOSES = ("profile", "health_note", "referral", "contact", "referrer_updates")
VOLUNTEER_SOURCES = ("signup", "coordinator", "import", "api", "demo")


def _in(column: str, values: tuple[str, ...], nullable: bool = False) -> str:
    allowed = ", ".join(f"'{v}'" for v in values)
    clause = f"{column} IN ({allowed})"
    return f"{column} IS NULL OR {clause}" if nullable else clause


class Profile:
    """The columns volunteers and residents share: who, where, what they like, when."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(7))
    house_number: Mapped[str | None] = mapped_column(String(12))
    neighbourhood: Mapped[str | None] = mapped_column(String(80))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    location_source: Mapped[str | None] = mapped_column(String(20))
    location_problem: Mapped[str | None] = mapped_column(String(200))
    birth_year: Mapped[int | None]
    gender: Mapped[str | None] = mapped_column(String(1))
    languages: Mapped[list[str]] = mapped_column(default=list)
    interests: Mapped[list[str]] = mapped_column(default=list)
    activities: Mapped[list[str]] = mapped_column(default=list)
    availability: Mapped[list[int]] = mapped_column(default=list)
    prefers_gender: Mapped[str | None] = mapped_column(String(1))
    prefers_min_age: Mapped[int | None]
    prefers_max_age: Mapped[int | None]
    commitment_months: Mapped[str | None] = mapped_column(String(4))
    notes: Mapped[str | None] = mapped_column(Text)
    # Set when the personal data was erased on request or after the retention period.
    anonymised_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # Optimistic locking: a save based on an old version fails instead of overwriting.
        return {"version_id_col": cls.__table__.c.version}

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Volunteer(Profile, Base):
    __tablename__ = "volunteer"

    max_travel_km: Mapped[float] = mapped_column(default=5.0)
    capacity: Mapped[int] = mapped_column(default=1)
    open_matches: Mapped[int] = mapped_column(default=0)
    vog_status: Mapped[str] = mapped_column(String(12), default="none")
    vog_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12), default="new")
    paused_until: Mapped[date | None]
    stop_reason: Mapped[str | None] = mapped_column(String(200))
    stopped_at: Mapped[datetime | None]
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    is_returning: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(12), default="coordinator")
    # The partner organisation whose API token created the volunteer; only it sees them there.
    partner_organisation: Mapped[str | None] = mapped_column(String(60))
    email_verified_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("capacity BETWEEN 1 AND 3", name="capacity_range"),
        # Capacity is enforced by the database: every open match increments this counter in
        # the same transaction, so two racing offers cannot both fit.
        CheckConstraint("open_matches >= 0 AND open_matches <= capacity", name="within_capacity"),
        CheckConstraint("max_travel_km >= 0.5 AND max_travel_km <= 25", name="travel_range"),
        CheckConstraint(_in("status", VOLUNTEER_STATUSES), name="status"),
        CheckConstraint(_in("vog_status", VOG_STATUSES), name="vog_status"),
        CheckConstraint(_in("gender", GENDERS, nullable=True), name="gender"),
        CheckConstraint(_in("commitment_months", COMMITMENTS, nullable=True), name="commitment_months"),
        CheckConstraint(_in("source", VOLUNTEER_SOURCES), name="source"),
        Index("ix_volunteer_status_last_name", "status", "last_name"),
        Index("ix_volunteer_postcode", "postcode"),
        Index("ix_volunteer_email", "email"),
        Index("ix_volunteer_registered_at", "registered_at"),
        Index("ix_volunteer_partner_organisation", "partner_organisation"),
    )


class Resident(Profile, Base):
    """A participant (deelnemer): a resident who would like a buddy."""

    __tablename__ = "resident"

    contact_via_referrer: Mapped[bool] = mapped_column(default=False)
    referrer_name: Mapped[str | None] = mapped_column(String(120))
    referrer_organisation: Mapped[str | None] = mapped_column(String(120))
    referrer_email: Mapped[str | None] = mapped_column(String(254))
    referrer_phone: Mapped[str | None] = mapped_column(String(20))
    can_travel: Mapped[bool] = mapped_column(default=False)
    max_travel_km: Mapped[float | None]
    target_group: Mapped[str] = mapped_column(String(20), default="older_person")
    referral_source: Mapped[str] = mapped_column(String(24), default="self")
    loneliness_score: Mapped[int | None]
    waiting_since: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12), default="referred")
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(String(200))
    health_note: Mapped[str | None] = mapped_column(Text)
    last_active_at: Mapped[datetime | None]
    # The partner organisation that serves the resident (its coordinators and API token see
    # them); None: the host's shared pool. Not who referred them: that is referrer_organisation.
    organisation: Mapped[str | None] = mapped_column(String(60))

    __table_args__ = (
        CheckConstraint(_in("status", RESIDENT_STATUSES), name="status"),
        CheckConstraint(_in("target_group", TARGET_GROUPS), name="target_group"),
        CheckConstraint(_in("referral_source", REFERRAL_SOURCES), name="referral_source"),
        CheckConstraint(_in("gender", GENDERS, nullable=True), name="gender"),
        CheckConstraint(_in("commitment_months", COMMITMENTS, nullable=True), name="commitment_months"),
        CheckConstraint(
            "loneliness_score IS NULL OR loneliness_score BETWEEN 0 AND 6", name="loneliness_range"
        ),
        Index("ix_resident_status_waiting_since", "status", "waiting_since"),
        Index("ix_resident_postcode", "postcode"),
        Index("ix_resident_last_name", "last_name"),
        Index("ix_resident_referrer_organisation", "referrer_organisation"),
        Index("ix_resident_organisation", "organisation"),
    )


class Consent(Base):
    """What a person agreed to, with which text version, when, and who recorded it."""

    __tablename__ = "consent"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(24))
    text_version: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(120))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (
        CheckConstraint(_in("subject_kind", ("volunteer", "resident")), name="subject_kind"),
        CheckConstraint(
            _in("purpose", CONSENT_PURPOSES), name="purpose"
        ),
        Index("ix_consent_subject", "subject_kind", "subject_id"),
    )


class TaxonomyTerm:
    """A code with a Dutch and an English label that admins can edit."""

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_nl: Mapped[str] = mapped_column(String(80))
    label_en: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_nl


class Interest(TaxonomyTerm, Base):
    __tablename__ = "interest"


class Activity(TaxonomyTerm, Base):
    __tablename__ = "activity"


class Language(TaxonomyTerm, Base):
    __tablename__ = "language"
