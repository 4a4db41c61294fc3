"""Durable matches: three and six months active, whether still running or ended since."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from matching.services import durability
from matching.services.pairing import close_match

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_lasted_by_calendar_months():
    start = datetime(2026, 5, 31, 10, 0, tzinfo=UTC)
    assert not durability.lasted(start, None, datetime(2026, 8, 30, 12, 0, tzinfo=UTC), 3)
    assert durability.lasted(start, None, datetime(2026, 8, 31, 12, 0, tzinfo=UTC), 3)
    assert durability.lasted(start, datetime(2026, 9, 1, tzinfo=UTC), NOW, 3)
    assert not durability.lasted(start, datetime(2026, 9, 1, tzinfo=UTC), NOW, 6)
    assert not durability.lasted(start, datetime(2026, 8, 1, tzinfo=UTC), NOW, 3)


def test_counts_over_time(session, make_active_match):
    young = make_active_match(NOW - timedelta(days=40))
    make_active_match(datetime(2026, 8, 1, tzinfo=UTC))  # 3 months, not 6
    make_active_match(datetime(2026, 3, 1, tzinfo=UTC))  # 6 months and more
    short = make_active_match(datetime(2026, 1, 5, tzinfo=UTC))
    close_match(session, short, "ended", datetime(2026, 3, 1, tzinfo=UTC))  # ended after 8 weeks
    assert durability.durable_counts(session, now=NOW) == {
        "activated": 4, "durable_3m": 2, "durable_6m": 1}
    later = NOW + timedelta(days=60)
    assert durability.durable_counts(session, now=later)["durable_3m"] == 3
    assert young.status == "active"
