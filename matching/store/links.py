"""Links sent by e-mail: one row per link, bound to a subject and a person, used once."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .people import _in

LINK_PURPOSES = ("proposal", "check_in", "verify_email", "still_available", "review", "exit",
                 "referral_status")


def new_link_id() -> str:
    # 128 random bits: the signed token carries nothing else.
    return secrets.token_hex(16)


class Link(Base):
    __tablename__ = "link"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_link_id)
    purpose: Mapped[str] = mapped_column(String(20))
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(32))
    person_kind: Mapped[str] = mapped_column(String(12))
    person_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    choice: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        CheckConstraint(_in("purpose", LINK_PURPOSES), name="purpose"),
        Index("ix_link_subject", "subject_kind", "subject_id"),
        Index("ix_link_person", "person_kind", "person_id"),
    )
