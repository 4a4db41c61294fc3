"""Match runs, matches (proposal to ending), exclusions and weekly check-ins."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, new_id, utcnow
from .people import Resident, Volunteer, _in

MATCH_STATUSES = (
    "proposed", "offered", "accepted", "active", "ended", "declined", "expired", "withdrawn",
)
OPEN_MATCH_STATUSES = ("proposed", "offered", "accepted", "active")
END_REASONS = (
    "moved", "health", "no_click", "goal_reached", "volunteer_stopped", "resident_died", "other",
)
_OPEN = "status IN ('proposed', 'offered', 'accepted', 'active')"


class MatchRun(Base):
    """One solver run: its settings, a hash of its inputs and its results, for audit."""

    __tablename__ = "match_run"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    started_by: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id"))
    # The partner organisation whose API token started the run; None for the host's staff.
    organisation: Mapped[str | None] = mapped_column(String(60))
    # The learned model the run used (objective "durability") or annotated its pairs with.
    model_id: Mapped[str | None] = mapped_column(ForeignKey("durability_model.id"))
    scope: Mapped[dict[str, Any]] = mapped_column(default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    input_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="running")
    progress: Mapped[int] = mapped_column(default=0)
    # queued, loading, pairs, solving, explaining, storing, done (services.runs.STAGES)
    stage: Mapped[str] = mapped_column(String(12), default="queued")
    # When the run last reported a stage: a running run silent for long was cut off.
    reported_at: Mapped[datetime | None]
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    unmatched: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("status", ("running", "done", "failed")), name="status"),
        Index("ix_match_run_organisation", "organisation"),
    )


class Match(Base):
    """A pair of a volunteer and a resident, from proposal to its ending."""

    __tablename__ = "match"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("match_run.id"))
    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteer.id"))
    resident_id: Mapped[str] = mapped_column(ForeignKey("resident.id"))
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    score: Mapped[float | None]
    cost: Mapped[float | None]
    distance_km: Mapped[float | None]
    durability: Mapped[float | None]  # predicted P(lasting 26 weeks) when the run had a model
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    locked: Mapped[bool] = mapped_column(default=False)
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    offered_at: Mapped[datetime | None]
    offered_by: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id"))
    reminded_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    intro_date: Mapped[date | None]
    intro_volunteer_go: Mapped[bool | None]
    intro_resident_go: Mapped[bool | None]
    activated_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    end_note: Mapped[str | None] = mapped_column(Text)
    acted_by: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    volunteer: Mapped[Volunteer] = relationship(lazy="joined", innerjoin=True)
    resident: Mapped[Resident] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(_in("status", MATCH_STATUSES), name="status"),
        CheckConstraint(_in("end_reason", END_REASONS, nullable=True), name="end_reason"),
        # At most one open match per resident, held by the database on SQLite and PostgreSQL.
        Index(
            "uq_match_one_open_per_resident", "resident_id", unique=True,
            sqlite_where=text(_OPEN), postgresql_where=text(_OPEN),
        ),
        Index("ix_match_volunteer_status", "volunteer_id", "status"),
        Index("ix_match_status_activated_at", "status", "activated_at"),
        Index("ix_match_run_id", "run_id"),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_MATCH_STATUSES


class Exclusion(Base):
    """A pair the solver must never propose again (declined, ended, or excluded by staff)."""

    __tablename__ = "exclusion"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteer.id"))
    resident_id: Mapped[str] = mapped_column(ForeignKey("resident.id"))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id"))

    __table_args__ = (UniqueConstraint("volunteer_id", "resident_id"),)


class CheckIn(Base):
    """The volunteer's answer for one match and ISO week (one row each, by constraint)."""

    __tablename__ = "check_in"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    match_id: Mapped[str] = mapped_column(ForeignKey("match.id"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, e.g. "2026-W48"
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    met: Mapped[str | None] = mapped_column(String(12))
    rating: Mapped[int | None]
    call_requested: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("match_id", "week"),
        CheckConstraint(_in("met", ("yes", "no", "not_planned"), nullable=True), name="met"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
    )
