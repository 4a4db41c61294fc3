"""The network's group activities, and which were suggested to whom with what outcome."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow
from .people import _in

SUGGESTION_STATUSES = ("suggested", "went", "not_for_me")


class GroupActivity(Base):
    """A group activity a waiting resident can join (Koks koken tegen eenzaamheid, ...)."""

    __tablename__ = "group_activity"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    organiser: Mapped[str] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(7))
    neighbourhood: Mapped[str | None] = mapped_column(String(80))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    availability: Mapped[list[int]] = mapped_column(default=list)  # the 21 weekly slots
    interests: Mapped[list[str]] = mapped_column(default=list)
    target_groups: Mapped[list[str]] = mapped_column(default=list)  # empty: for everyone
    cost: Mapped[str | None] = mapped_column(String(60))
    contact: Mapped[str | None] = mapped_column(String(200))
    wheelchair: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str | None] = mapped_column(Text)
    # The partner organisation whose API token keeps it (None: the host's staff).
    organisation: Mapped[str | None] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_group_activity_active", "active"),)


class ActivitySuggestion(Base):
    """A coordinator suggested an activity to a waiting resident; later: went, or not for them."""

    __tablename__ = "activity_suggestion"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    resident_id: Mapped[str] = mapped_column(ForeignKey("resident.id"))
    activity_id: Mapped[str] = mapped_column(ForeignKey("group_activity.id"))
    status: Mapped[str] = mapped_column(String(12), default="suggested")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[str | None] = mapped_column(String(60))

    __table_args__ = (
        UniqueConstraint("resident_id", "activity_id"),
        CheckConstraint(_in("status", SUGGESTION_STATUSES), name="status"),
        Index("ix_activity_suggestion_activity_id", "activity_id"),
    )
