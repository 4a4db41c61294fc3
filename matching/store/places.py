"""Postcode areas (from a GeoNames file) and cached geocoder answers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class PostcodeArea(Base):
    """A four-digit Dutch postcode area; a code spanning several places has a row per place."""

    __tablename__ = "postcode_area"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    postcode: Mapped[str] = mapped_column(String(4))
    place: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float]
    lon: Mapped[float]

    __table_args__ = (Index("ix_postcode_area_postcode", "postcode"),)


class GeocodeCache(Base):
    __tablename__ = "geocode_cache"

    query: Mapped[str] = mapped_column(String(200), primary_key=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
