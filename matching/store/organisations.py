"""The network's partner organisations and the rules that route referrals to them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow
from .people import TARGET_GROUPS, _in


class Organisation(Base):
    """A partner with its own coordinators or API tokens; the host (the VCU) is not one of them.

    shares_pool: the organisation agreed to match across the network: its runs may propose the
    volunteers of every other sharing organisation, and theirs its own.
    """

    __tablename__ = "organisation"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    shares_pool: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoutingRule(Base):
    """A referral to the network that fits (target group and/or wijk) goes to `organisation`;
    the lowest position that fits wins; no rule fits: it stays in the shared pool."""

    __tablename__ = "routing_rule"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    position: Mapped[int] = mapped_column(default=0)
    target_group: Mapped[str | None] = mapped_column(String(20))
    neighbourhood: Mapped[str | None] = mapped_column(String(80))
    organisation: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(_in("target_group", TARGET_GROUPS, nullable=True), name="target_group"),
        CheckConstraint("target_group IS NOT NULL OR neighbourhood IS NOT NULL", name="some_condition"),
    )
