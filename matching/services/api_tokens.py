"""Partner API tokens: issue (the secret is shown once), verify a presented token, revoke.

A token reads "mw_<prefix>_<secret>": the prefix finds the row, the SHA-256 of the whole token is
what is stored. A plain hash is enough here, unlike for passwords: the secret is 32 random bytes
(256 bits), so a leaked hash cannot be brute-forced or looked up in a dictionary, and a slow KDF
would only add latency to every API request.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.store import API_SCOPES, ApiToken, Organisation

from .audit import record

log = logging.getLogger("maatwerk.security")

_TOKEN = re.compile(r"mw_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
# Written to the audit log as "api:<organisation>" in a 64-character column.
ORGANISATION_LENGTH = 60


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor(token: ApiToken) -> str:
    """How the audit log names a request made with this token."""
    return f"api:{token.organisation}"


def issue(
    session: Session, *, organisation: str, scope: str, name: str = "", created_by: str | None,
    now: datetime,
) -> tuple[ApiToken, str]:
    """A new token row and the token itself, which is not stored and cannot be shown again."""
    organisation, name = organisation.strip(), name.strip()
    errors: dict[str, str] = {}
    if not organisation:
        errors["organisation"] = "required"
    elif len(organisation) > ORGANISATION_LENGTH:
        errors["organisation"] = "too_long"
    if len(name) > 80:
        errors["name"] = "too_long"
    if scope not in API_SCOPES:
        errors["scope"] = "invalid_choice"
    if errors:
        raise ValidationFailed(errors)
    prefix = secrets.token_hex(6)
    token = f"mw_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(organisation=organisation, name=name, prefix=prefix, token_hash=_digest(token),
                   scope=scope, created_at=now, created_by=created_by)
    if session.get(Organisation, organisation) is None:  # a token's organisation is a partner
        session.add(Organisation(name=organisation, created_at=now))
    session.add(row)
    session.flush()
    record(session, actor=created_by, action="api_token.issued", subject=("api_token", row.id),
           now=now)
    session.flush()
    return row, token


def verify(session: Session, presented: str, *, now: datetime) -> ApiToken | None:
    """The live token row matching the presented token (and its last use noted), else None."""
    match = _TOKEN.fullmatch(presented)
    row = None
    if match:
        row = session.scalar(select(ApiToken).where(ApiToken.prefix == match.group(1)))
    if row is None or not hmac.compare_digest(row.token_hash, _digest(presented)):
        log.warning("security.api_token_refused reason=unknown at=%s", now.isoformat())
        return None
    if row.revoked_at is not None:
        log.warning("security.api_token_refused reason=revoked prefix=%s at=%s", row.prefix,
                    now.isoformat())
        return None
    row.last_used_at = now
    return row


def revoke(session: Session, prefix: str, *, actor: str | None, now: datetime) -> ApiToken:
    """Make the token with this prefix unusable from now on."""
    row = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix.strip()))
    if row is None:
        raise NotFound(f"api token {prefix}")
    if row.revoked_at is not None:
        raise Conflict("the token was already revoked")
    row.revoked_at = now
    record(session, actor=actor, action="api_token.revoked", subject=("api_token", row.id),
           now=now)
    session.flush()
    return row


def tokens(session: Session) -> list[ApiToken]:
    """Every token, newest first (for the admin's overview; no secrets in them)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))
