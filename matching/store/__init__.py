"""SQLAlchemy models and the engine / session factory."""
from .activities import SUGGESTION_STATUSES, ActivitySuggestion, GroupActivity
from .api_tokens import API_SCOPES, ApiToken
from .base import Base, utcnow
from .matches import (
    END_REASONS, MATCH_STATUSES, OPEN_MATCH_STATUSES, CheckIn, Exclusion, Match, MatchRun,
)
from .learned import DurabilityModel
from .links import LINK_PURPOSES, Link
from .organisations import Organisation, RoutingRule
from .outbox import OUTBOX_STATUSES, OutboxMessage
from .referrals import ReferralNote, ReferralUpdate
from .people import (
    COMMITMENTS, GENDERS, REFERRAL_SOURCES, RESIDENT_STATUSES, TARGET_GROUPS, VOG_STATUSES, VOLUNTEER_STATUSES,
    Activity,
    Consent, Interest, Language, Resident, Volunteer,
)
from .reviews import (
    EXIT_CHANNELS, EXIT_SIDES, MILESTONES, REVIEW_DECISIONS, ExitInterview, MilestoneReview,
)
from .places import GeocodeCache, PostcodeArea
from .session import make_engine, make_session_factory
from .submissions import SUBMISSION_KINDS, FormSubmission
from .staff import ROLES, AuditEvent, StaffUser

__all__ = [
    "Activity", "ActivitySuggestion", "API_SCOPES", "GroupActivity", "SUGGESTION_STATUSES", "ApiToken", "AuditEvent", "Base", "CheckIn", "Consent",
    "COMMITMENTS", "DurabilityModel",
    "END_REASONS", "Exclusion", "EXIT_CHANNELS", "EXIT_SIDES", "ExitInterview", "FormSubmission",
    "GENDERS",
    "GeocodeCache", "Interest", "Language", "Link", "LINK_PURPOSES", "make_engine",
    "make_session_factory", "Match", "MATCH_STATUSES", "MatchRun", "MilestoneReview", "MILESTONES",
    "OPEN_MATCH_STATUSES", "Organisation", "OUTBOX_STATUSES", "OutboxMessage", "PostcodeArea", "REFERRAL_SOURCES",
    "ReferralNote", "ReferralUpdate", "Resident", "RESIDENT_STATUSES", "REVIEW_DECISIONS", "ROLES", "RoutingRule", "StaffUser", "SUBMISSION_KINDS",
    "TARGET_GROUPS",
    "utcnow", "VOG_STATUSES", "Volunteer", "VOLUNTEER_STATUSES",
]
