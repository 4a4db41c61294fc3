"""The referral funnel per source: referrals, share matched, median days to a match, reasons; <5 hidden."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from matching.services import pairing, referral_funnel
from matching.services.periods import Period
from matching.store import MatchRun

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
PERIOD = Period(date(2026, 11, 1), date(2026, 12, 1), NOW)


def test_funnel_counts_shares_medians_and_hides_small_groups(session, make_resident, make_volunteer):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    gp = [make_resident(first_name=f"G{n}", referral_source="gp", created_at=start + timedelta(days=n),
                        status="waiting") for n in range(8)]
    for n in range(3):
        make_resident(first_name=f"B{n}", referral_source="neighbourhood_team", created_at=start, status="waiting")
    make_resident(first_name="Oud", referral_source="gp", created_at=start - timedelta(days=40))
    volunteer = make_volunteer(capacity=3)
    other = make_volunteer(email="b@example.org", capacity=3)
    for n, resident in enumerate(gp[:6]):
        pairing.open_match(session, volunteer_id=(volunteer if n < 3 else other).id, resident_id=resident.id,
                           status="accepted", proposed_at=resident.created_at,
                           decided_at=resident.created_at + timedelta(days=10 + n))
    session.add(MatchRun(status="done", progress=100, started_at=NOW, finished_at=NOW,
                         unmatched={gp[6].id: "no_shared_time", gp[7].id: "no_shared_time"}))
    session.flush()
    rows = {row.source: row for row in referral_funnel.funnel(session, PERIOD)}
    assert rows["gp"].referrals == 8 and rows["gp"].matched_share == 0.75
    assert rows["gp"].median_days == 12.5  # 10..15 days
    assert rows["gp"].reasons == {"no_shared_time": None}  # 2 people: shown as <5
    assert rows["neighbourhood_team"].referrals is None  # 3 referrals: hidden
    assert rows["neighbourhood_team"].matched_share is None and rows["neighbourhood_team"].median_days is None
    assert rows["nizu"].referrals == 0
