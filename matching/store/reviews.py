"""Follow-up of active matches: milestone reviews and the exit question when a match ends."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, new_id, utcnow
from .people import _in

if TYPE_CHECKING:
    from .matches import Match

MILESTONES = ("6w", "3m", "6m", "12m")
REVIEW_DECISIONS = ("continue", "end")
EXIT_SIDES = ("volunteer", "resident")
EXIT_CHANNELS = ("email", "coordinator")


class MilestoneReview(Base):
    """A coordinator's review of a match at 6 weeks, 3, 6 and 12 months (one row each)."""

    __tablename__ = "milestone_review"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    match_id: Mapped[str] = mapped_column(ForeignKey("match.id"))
    milestone: Mapped[str] = mapped_column(String(4))
    due_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id"))
    volunteer_satisfaction: Mapped[int | None]
    resident_satisfaction: Mapped[int | None]
    decision: Mapped[str | None] = mapped_column(String(8))
    loneliness_score: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)

    match: Mapped[Match] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        UniqueConstraint("match_id", "milestone"),
        CheckConstraint(_in("milestone", MILESTONES), name="milestone"),
        CheckConstraint(_in("decision", REVIEW_DECISIONS, nullable=True), name="decision"),
        CheckConstraint(
            "volunteer_satisfaction IS NULL OR volunteer_satisfaction BETWEEN 1 AND 5",
            name="volunteer_satisfaction_range",
        ),
        CheckConstraint(
            "resident_satisfaction IS NULL OR resident_satisfaction BETWEEN 1 AND 5",
            name="resident_satisfaction_range",
        ),
        CheckConstraint(
            "loneliness_score IS NULL OR loneliness_score BETWEEN 0 AND 6", name="loneliness_range"
        ),
        Index("ix_milestone_review_open", "done_at", "due_on"),
    )


class ExitInterview(Base):
    """One side's answer to the exit question of an ended match, by e-mail or via a coordinator."""

    __tablename__ = "exit_interview"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    match_id: Mapped[str] = mapped_column(ForeignKey("match.id"))
    side: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id"))
    rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)

    match: Mapped[Match] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        UniqueConstraint("match_id", "side"),
        CheckConstraint(_in("side", EXIT_SIDES), name="side"),
        CheckConstraint(_in("channel", EXIT_CHANNELS), name="channel"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
    )
