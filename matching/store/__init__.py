"""SQLAlchemy models and the engine / session factory."""
from .base import Base, utcnow
from .matches import (
    END_REASONS, MATCH_STATUSES, OPEN_MATCH_STATUSES, CheckIn, Exclusion, Match, MatchRun,
)
from .links import LINK_PURPOSES, Link
from .outbox import OUTBOX_STATUSES, OutboxMessage
from .people import (
    GENDERS, REFERRAL_SOURCES, RESIDENT_STATUSES, TARGET_GROUPS, VOLUNTEER_STATUSES, Activity,
    Consent, Interest, Language, Resident, Volunteer,
)
from .places import GeocodeCache, PostcodeArea
from .session import make_engine, make_session_factory
from .staff import ROLES, AuditEvent, StaffUser

__all__ = [
    "Activity", "AuditEvent", "Base", "CheckIn", "Consent", "END_REASONS", "Exclusion", "GENDERS",
    "GeocodeCache", "Interest", "LINK_PURPOSES", "Language", "Link", "MATCH_STATUSES", "Match",
    "MatchRun",
    "OPEN_MATCH_STATUSES", "OUTBOX_STATUSES", "OutboxMessage", "PostcodeArea", "REFERRAL_SOURCES",
    "RESIDENT_STATUSES", "ROLES", "Resident", "StaffUser", "TARGET_GROUPS", "VOLUNTEER_STATUSES",
    "Volunteer", "make_engine", "make_session_factory", "utcnow",
]
