"""Models of what makes matches last, as learned from the service's own history."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow


class DurabilityModel(Base):
    """One fit of `python -m matching learn`; runs point at the one they used, so none is ever changed."""

    __tablename__ = "durability_model"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[str] = mapped_column(String(12))
    data_hash: Mapped[str] = mapped_column(String(64))
    n: Mapped[int]
    events: Mapped[int]
    left_out: Mapped[int] = mapped_column(default=0)  # matches without a place on either side
    period_from: Mapped[date]
    period_to: Mapped[date]
    c_index: Mapped[float]
    c_low: Mapped[float]
    c_high: Mapped[float]
    baseline_survival: Mapped[float]
    model: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what the engine takes
    terms: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    calibration: Mapped[list[dict[str, Any]]] = mapped_column(default=list)

    __table_args__ = (Index("ix_durability_model_created_at", "created_at"),)
