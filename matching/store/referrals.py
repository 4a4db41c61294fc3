"""What a referrer was told about a referral, and what the referrer told back."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow


class ReferralUpdate(Base):
    """One notice to the referrer: the stage the referral reached (numbered per resident)."""

    __tablename__ = "referral_update"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    resident_id: Mapped[str] = mapped_column(ForeignKey("resident.id"))
    sequence: Mapped[int]
    stage: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("resident_id", "sequence"),)


class ReferralNote(Base):
    """A note the referrer left on the status page, for the coordinators."""

    __tablename__ = "referral_note"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    resident_id: Mapped[str] = mapped_column(ForeignKey("resident.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_referral_note_resident_id", "resident_id"),)
