"""Shared steps for the workflow tests: a run, an approval, the token from the outbox."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.services import proposals, runs
from matching.store import Match, OutboxMessage

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SECRET = "test-secret-" + "x" * 40
BASE_URL = "http://maatwerk.test"
_TOKEN = re.compile(re.escape(BASE_URL + proposals.LINK_PATH) + r"([A-Za-z0-9_.\-]+)")


def run(session: Session, now: datetime = NOW, **scope: str) -> list[Match]:
    """Start and execute a run; the proposals it made."""
    started = runs.start_run(session, scope=scope, settings={}, started_by=None, now=now)
    runs.execute_run(session, started.id, now=now, today=now.date())
    found = list(session.scalars(select(Match).where(Match.run_id == started.id)).unique())
    session.commit()  # and so no open transaction holds SQLite's write lock
    return found


def approve(session: Session, match: Match, actor: str | None = None,
            now: datetime = NOW) -> Match:
    approved = proposals.approve(session, match.id, actor=actor, now=now, secret=SECRET,
                                 base_url=BASE_URL)
    session.commit()
    return approved


def tokens_in(session: Session, dedupe_prefix: str = "") -> list[str]:
    """The link tokens in outbox messages, oldest first."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)
    found = []
    for message in session.scalars(query):
        if message.dedupe_key.startswith(dedupe_prefix):
            found += _TOKEN.findall(message.body_text)
    return found


def messages(session: Session, prefix: str = "") -> list[OutboxMessage]:
    return [m for m in session.scalars(select(OutboxMessage)) if m.dedupe_key.startswith(prefix)]
