"""Domain errors; the web layer maps them to pages and JSON problems."""
from __future__ import annotations


class MatchingError(Exception):
    """Base of every error a use case raises on purpose."""

    status = 400
    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(MatchingError):
    status = 422
    code = "invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotFound(MatchingError):
    status = 404
    code = "not_found"


class Conflict(MatchingError):
    status = 409
    code = "conflict"


class InvalidLink(MatchingError):
    """A link that cannot be used; `reason` says why, so the page can offer a fresh one."""

    status = 400
    code = "invalid_link"
    REASONS = ("bad_signature", "wrong_purpose", "expired", "unknown")

    def __init__(self, reason: str, *, link_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason if reason in self.REASONS else "unknown"
        # Set only for an expired link: enough to issue a new one, and no personal data.
        self.link_id = link_id
