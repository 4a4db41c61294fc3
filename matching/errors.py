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


class Forbidden(MatchingError):
    status = 403
    code = "forbidden"


class InvalidLink(MatchingError):
    status = 400
    code = "invalid_link"
