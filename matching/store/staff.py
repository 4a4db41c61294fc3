"""Staff accounts and the audit trail of what they did."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow
from .people import _in

ROLES = ("coordinator", "admin", "analyst")


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(12))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated on logout, password change and disabling: every copied cookie dies with it.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # A partner organisation's coordinator sees only its people, matches and runs; None: host.
    organisation: Mapped[str | None] = mapped_column(String(60))

    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)


class AuditEvent(Base):
    """Who viewed or changed what: field names only, never values."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str | None] = mapped_column(String(20))
    subject_id: Mapped[str | None] = mapped_column(String(32))
    fields: Mapped[list[str]] = mapped_column(default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (
        Index("ix_audit_event_subject", "subject_kind", "subject_id"),
        Index("ix_audit_event_at", "at"),
    )
