"""Public form submissions already taken: a second post of the same form makes nothing new."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow
from .people import _in

SUBMISSION_KINDS = ("signup", "referral")


class FormSubmission(Base):
    """A keyed hash of one submitted form (never its content) and the record it made."""

    __tablename__ = "form_submission"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(12))
    fingerprint: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(_in("kind", SUBMISSION_KINDS), name="kind"),
        UniqueConstraint("kind", "fingerprint"),
        Index("ix_form_submission_created_at", "created_at"),
    )
