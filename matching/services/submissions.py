"""Public forms taken once: the same form posted again (a double click, Back and resubmit)
within a day makes no second record and no second e-mail.

Only a keyed hash of the submitted values is kept, never the values, and only for a day.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matching.store import SUBMISSION_KINDS, FormSubmission

WINDOW = timedelta(hours=24)


def fingerprint(kind: str, data: Mapping[str, Any], secret: str) -> str:
    """HMAC-SHA256 of the form's values: equal submissions, equal fingerprints."""
    canonical = json.dumps(dict(data), sort_keys=True, ensure_ascii=False, default=str)
    return hmac.new(secret.encode(), f"{kind}\n{canonical}".encode(), hashlib.sha256).hexdigest()


def claim(session: Session, kind: str, data: Mapping[str, Any], *, secret: str,
          now: datetime) -> FormSubmission | None:
    """Record this submission as taken; None when the same one was taken within the window."""
    if kind not in SUBMISSION_KINDS:
        raise ValueError(f"unknown form kind {kind!r}")
    key = fingerprint(kind, data, secret)
    earlier = session.scalar(select(FormSubmission).where(
        FormSubmission.kind == kind, FormSubmission.fingerprint == key))
    if earlier is not None:
        if earlier.created_at >= now - WINDOW:
            return None
        session.delete(earlier)
        session.flush()
    taken = FormSubmission(kind=kind, fingerprint=key, created_at=now)
    # Two posts at once: the unique key lets one in; the other finds the first's row taken.
    try:
        with session.begin_nested():
            session.add(taken)
    except IntegrityError:
        return None
    return taken


def forget_old(session: Session, *, now: datetime) -> int:
    """Remove fingerprints older than the window (the retention job); how many."""
    result = session.execute(delete(FormSubmission).where(FormSubmission.created_at < now - WINDOW))
    return result.rowcount or 0
