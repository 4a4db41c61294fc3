"""The waiting list: longest first, the latest finished run's reasons, aggregates without names."""
from __future__ import annotations

from datetime import UTC, date, datetime

from matching.services import waiting
from matching.store import MatchRun

TODAY = date(2026, 11, 29)


def test_reasons_are_read_from_every_stored_shape():
    assert waiting.reasons_by_resident({"r1": "no_shared_language"}) == {"r1": "no_shared_language"}
    assert waiting.reasons_by_resident({"r1": {"reason": "excluded", "text": "x"}}) == {
        "r1": "excluded"}
    assert waiting.reasons_by_resident(
        {"unmatched": [{"resident": "r1", "reason": "no_shared_time"}]}) == {"r1": "no_shared_time"}
    assert waiting.reasons_by_resident({"count": 3}) == {}


def test_longest_waiting_first_with_the_latest_finished_runs_reason(session, make_resident):
    old = make_resident(first_name="Oud", waiting_since=date(2025, 1, 1), neighbourhood="Oost")
    new = make_resident(first_name="Nieuw", waiting_since=date(2026, 11, 1), neighbourhood="Oost")
    make_resident(first_name="Klaar", status="matched", waiting_since=date(2024, 1, 1))
    session.add_all([
        MatchRun(started_at=datetime(2026, 11, 2, 7, tzinfo=UTC), status="done",
                 unmatched={old.id: "below_min_score"}),
        MatchRun(started_at=datetime(2026, 11, 16, 7, tzinfo=UTC), status="done",
                 unmatched={old.id: {"reason": "no_shared_language"}}),
        MatchRun(started_at=datetime(2026, 11, 23, 7, tzinfo=UTC), status="failed",
                 unmatched={old.id: "excluded"}),
    ])
    session.flush()
    people = waiting.waiting_list(session, TODAY, with_names=True)
    assert [p.resident_id for p in people] == [old.id, new.id]
    assert [p.reason for p in people] == ["no_shared_language", "not_in_run"]
    assert people[0].days == (TODAY - date(2025, 1, 1)).days
    assert people[0].name == "Oud Jansen"
    assert all(p.name is None for p in waiting.waiting_list(session, TODAY))


def test_summary_counts_per_wijk_and_reason_with_small_groups_hidden(session, make_resident):
    ids = [make_resident(neighbourhood="Oost").id for _ in range(6)]
    ids += [make_resident(neighbourhood="West").id for _ in range(2)]
    session.add(MatchRun(status="done", unmatched={i: "no_volunteer_in_reach" for i in ids[:5]}))
    session.flush()
    summary = waiting.waiting_summary(session, TODAY)
    assert summary["total"] == 8
    assert summary["by_wijk"] == {"Oost": 6, "West": None}
    assert summary["reasons"] == ["no_volunteer_in_reach", "not_in_run"]
    assert summary["by_reason"] == {"no_volunteer_in_reach": 5, "not_in_run": None}
    assert summary["by_wijk_and_reason"]["Oost"] == {"no_volunteer_in_reach": 5, "not_in_run": None}
    assert summary["by_wijk_and_reason"]["West"] == {"no_volunteer_in_reach": 0, "not_in_run": None}
