"""Match runs: the pool from the database, the stored proposals, the hash, scope and staleness."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from matching.errors import ValidationFailed
from matching.services import runs
from matching.store import Exclusion, Match, MatchRun, Resident, Volunteer

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def run(session, scope=None, settings=None, now=NOW):
    started = runs.start_run(session, scope=scope or {}, settings=settings or {},
                             started_by=None, now=now)
    session.commit()
    done = runs.execute_run(session, started.id, now=now, today=now.date())
    session.commit()
    return done


def proposals(session, status="proposed"):
    return list(session.scalars(select(Match).where(Match.status == status)).unique())


def test_a_run_proposes_pairs_and_stores_settings_hash_stats(
    session, make_volunteer, make_resident
):
    volunteer = make_volunteer()
    resident = make_resident(waiting_since=date(2025, 1, 1))
    done = run(session, settings={"min_score": 5})
    assert done.status == "done" and done.progress == 100 and done.finished_at == NOW
    assert done.settings == {"objective": "weights", "weights": {}, "min_score": 5}
    assert len(done.input_hash) == 64
    assert done.stats["proposed"] == 1 and done.stats["matched"] == 1
    [match] = proposals(session)
    assert (match.volunteer_id, match.resident_id, match.run_id) == (
        volunteer.id, resident.id, done.id)
    assert match.explanation["shared_interests"] == ["wandelen"]
    assert match.explanation["shared_slots"] == [1, 4]
    assert match.explanation["reasons"] and "alternatives" in match.explanation
    assert match.distance_km == pytest.approx(0.85, abs=0.1)
    session.refresh(volunteer)
    session.refresh(resident)
    assert volunteer.open_matches == 1
    assert resident.status == "proposed" and resident.waiting_since == date(2025, 1, 1)


def test_the_same_inputs_give_the_same_hash_and_a_change_another(
    session, make_volunteer, make_resident
):
    make_volunteer()
    resident = make_resident()
    first, _ = runs.build_problem(session, {}, {"weights": {}, "min_score": 0}, TODAY)
    again, _ = runs.build_problem(session, {}, {"weights": {}, "min_score": 0}, TODAY)
    assert runs.input_hash(first) == runs.input_hash(again)
    resident.interests = ["koken"]
    session.flush()
    changed, _ = runs.build_problem(session, {}, {"weights": {}, "min_score": 0}, TODAY)
    assert runs.input_hash(changed) != runs.input_hash(first)


def test_people_without_coordinates_are_left_out_and_reported(
    session, make_volunteer, make_resident
):
    make_volunteer()
    make_volunteer(email="b@example.org", lat=None, lon=None)
    nowhere = make_resident(lat=None, lon=None)
    done = run(session)
    assert done.unmatched[nowhere.id] == "location_unknown"
    assert done.stats["volunteers_location_unknown"] == 1
    assert done.stats["residents_location_unknown"] == 1


def test_exclusions_full_volunteers_and_other_statuses_are_respected(
    session, make_volunteer, make_resident
):
    volunteer = make_volunteer()
    full = make_volunteer(email="full@example.org", capacity=1, open_matches=1)
    make_volunteer(email="paused@example.org", status="paused")
    resident = make_resident()
    make_resident(first_name="Referred", status="referred")
    session.add(Exclusion(volunteer_id=volunteer.id, resident_id=resident.id, reason="x"))
    session.flush()
    done = run(session)
    assert proposals(session) == []
    assert done.unmatched == {resident.id: "excluded"}
    problem, _ = runs.build_problem(session, {}, {}, TODAY)
    assert [v["id"] for v in problem["volunteers"]] == [volunteer.id]
    assert full.id not in str(problem)


def test_remaining_capacity_is_passed(session, make_volunteer, make_resident):
    volunteer = make_volunteer(capacity=3, open_matches=1)
    make_resident()
    problem, _ = runs.build_problem(session, {}, {}, TODAY)
    assert problem["volunteers"][0]["id"] == volunteer.id
    assert problem["volunteers"][0]["capacity"] == 2


def test_scope_limits_residents_to_a_neighbourhood_or_target_group(
    session, make_volunteer, make_resident
):
    make_volunteer(capacity=3)
    inside = make_resident(neighbourhood="Zuilen", target_group="informal_carer")
    outside = make_resident(first_name="Truus", neighbourhood="Overvecht")
    run(session, scope={"neighbourhood": "Zuilen"})
    assert [m.resident_id for m in proposals(session)] == [inside.id]
    problem, _ = runs.build_problem(session, {"target_group": "older_person"}, {}, TODAY)
    assert [r["id"] for r in problem["residents"]] == [outside.id]


@pytest.mark.parametrize("scope", [{"target_group": "aliens"},
                                   {"neighbourhood": "A", "target_group": "other"}])
def test_a_bad_scope_is_refused(session, scope):
    with pytest.raises(ValidationFailed):
        runs.start_run(session, scope=scope, settings={}, started_by=None, now=NOW)


def test_bad_settings_are_refused(session):
    with pytest.raises(ValidationFailed):
        runs.start_run(session, scope={}, settings={"min_score": 500}, started_by=None, now=NOW)


def test_a_new_run_withdraws_unapproved_proposals_but_keeps_locked_and_offered(
    session, make_volunteer, make_resident
):
    make_volunteer(capacity=3)
    a = make_resident(first_name="A")
    b = make_resident(first_name="B")
    c = make_resident(first_name="C")
    run(session)
    by_resident = {m.resident_id: m for m in proposals(session)}
    by_resident[a.id].locked = True
    by_resident[b.id].status = "offered"
    session.commit()
    second = run(session, now=NOW + timedelta(hours=1))
    old_c = session.get(Match, by_resident[c.id].id)
    assert old_c.status == "withdrawn"
    assert session.get(Match, by_resident[a.id].id).status == "proposed"
    assert session.get(Match, by_resident[b.id].id).status == "offered"
    fresh = [m for m in proposals(session) if m.run_id == second.id]
    assert [m.resident_id for m in fresh] == [c.id]
    volunteer = session.scalar(select(Volunteer))
    session.refresh(volunteer)
    open_count = session.scalar(select(func.count()).select_from(Match).where(
        Match.status.in_(("proposed", "offered"))))
    assert volunteer.open_matches == open_count == 3


def test_stale_when_a_profile_changed_after_the_run(session, make_volunteer, make_resident):
    started = datetime.now(UTC) - timedelta(minutes=5)
    make_volunteer(updated_at=started - timedelta(days=1))
    resident = make_resident(updated_at=started - timedelta(days=1))
    done = run(session, now=started)
    [match] = proposals(session)
    assert not runs.is_stale(match, done.started_at)
    session.get(Resident, resident.id).interests = ["koken", "wandelen"]
    session.commit()
    session.refresh(match)
    assert runs.is_stale(match, done.started_at)


def test_a_run_on_an_empty_pool_finishes(session):
    done = run(session)
    assert done.status == "done" and done.stats["proposed"] == 0
    assert session.scalar(select(func.count()).select_from(MatchRun)) == 1


def test_a_run_the_engine_refuses_fails_and_keeps_the_old_proposals(
    session, make_volunteer, make_resident
):
    make_volunteer(capacity=2)
    make_resident(first_name="A")
    make_resident(first_name="B")
    first = run(session)
    locked, other = sorted(
        proposals(session), key=lambda m: m.resident.first_name)
    locked.locked = True
    # The locked pair now breaks a hard rule (no shared language): the engine refuses it.
    session.get(Resident, locked.resident_id).languages = ["ar"]
    session.commit()
    second = run(session, now=NOW + timedelta(hours=1))
    assert second.status == "failed" and "locked" in second.error
    assert second.input_hash and len(second.input_hash) == 64
    session.expire_all()
    assert session.get(Match, other.id).status == "proposed"
    assert session.get(Match, locked.id).status == "proposed"
    assert session.get(Resident, other.resident_id).status == "proposed"
    assert first.status == "done"


def test_fail_run_records_the_reason(session):
    started = runs.start_run(session, scope={}, settings={}, started_by=None, now=NOW)
    failed = runs.fail_run(session, started.id, now=NOW, error="x" * 600)
    assert failed.status == "failed" and len(failed.error) == 500 and failed.finished_at == NOW


def test_a_locked_pair_whose_volunteer_left_the_pool_keeps_its_resident_out(
    session, make_volunteer, make_resident
):
    make_volunteer()
    make_volunteer(email="b@example.org")
    make_resident()
    run(session)
    [locked] = proposals(session)
    locked.locked = True
    session.get(Volunteer, locked.volunteer_id).status = "paused"
    session.commit()
    second = run(session, now=NOW + timedelta(hours=1))
    assert second.status == "done" and second.stats["proposed"] == 0
    assert session.get(Match, locked.id).status == "proposed"
    problem, _ = runs.build_problem(session, {}, {}, TODAY)
    assert problem["residents"] == [] and problem["locked"] == []


def test_a_locked_pair_in_the_pool_is_handed_to_the_engine_with_its_place(
    session, make_volunteer, make_resident
):
    volunteer = make_volunteer(capacity=2)
    make_resident()
    run(session)
    [locked] = proposals(session)
    locked.locked = True
    session.commit()
    problem, _ = runs.build_problem(session, {}, {}, TODAY)
    assert problem["locked"] == [[volunteer.id, locked.resident_id]]
    assert problem["volunteers"][0]["capacity"] == 2
    again = run(session, now=NOW + timedelta(hours=1))
    assert again.status == "done" and again.stats["locked"] == 1 and again.stats["proposed"] == 0


# ---------------------------------------------------------------- stages: prepare, solve, finish


def _withdraw_then_build(session, run):
    """The pool the old single-transaction run read: after really withdrawing the proposals."""
    from matching.services import pairing, profiles

    old = proposals(session)
    pairing.close_many(session, [m.id for m in old], "withdrawn", NOW)
    profiles.set_resident_status(session, [m.resident_id for m in old], "waiting")
    session.flush()
    return runs.build_problem(session, run.scope, runs.engine_settings(session, run), TODAY)[0]


def test_prepare_reads_the_pool_as_after_the_withdrawal_without_writing(
    session, make_volunteer, make_resident
):
    make_volunteer(capacity=2)
    make_volunteer(email="b@example.org", capacity=1, open_matches=0)
    make_resident()
    make_resident(first_name="Truus", waiting_since=date(2025, 6, 1))
    make_resident(first_name="Kees", waiting_since=date(2025, 7, 1))
    run(session)  # three proposals, the volunteers' places taken
    second = runs.start_run(session, scope={}, settings={}, started_by=None, now=NOW)
    session.commit()
    before = {(m.id, m.status) for m in proposals(session)}
    prepared = runs.prepare(session, second.id, today=TODAY)
    assert {(m.id, m.status) for m in proposals(session)} == before  # nothing written
    assert prepared.replaces == {m.id for m in proposals(session)} and len(prepared.replaces) == 3
    assert _withdraw_then_build(session, second) == prepared.problem
    session.rollback()


def test_finish_refuses_when_a_replaced_proposal_changed_meanwhile(
    session, make_volunteer, make_resident
):
    from matching import engine
    from matching.errors import Conflict

    make_volunteer(capacity=2)
    make_resident()
    make_resident(first_name="Truus")
    run(session)
    approved = proposals(session)[0]
    second = runs.start_run(session, scope={}, settings={}, started_by=None, now=NOW)
    session.commit()
    prepared = runs.prepare(session, second.id, today=TODAY)
    result = engine.solve(prepared.problem)
    approved.status = "offered"  # a coordinator approved it while the engine solved
    session.commit()
    with pytest.raises(Conflict, match="pool_changed"):
        runs.finish(session, prepared, result, now=NOW)
    session.rollback()
    assert session.get(MatchRun, second.id).status == "running"
    assert len(proposals(session)) == 1 and session.get(Match, approved.id).status == "offered"


def test_runs_are_claimed_oldest_first_and_once(session):
    first = runs.start_run(session, scope={}, settings={}, started_by=None, now=NOW)
    second = runs.start_run(session, scope={}, settings={}, started_by=None,
                            now=NOW + timedelta(seconds=1))
    direct = runs.start_run(session, scope={}, settings={}, started_by=None, now=NOW,
                            stage="loading")
    assert (first.stage, first.progress, direct.stage) == ("queued", 0, "loading")
    assert runs.claim_next(session, now=NOW) == first.id
    assert runs.claim_next(session, now=NOW) == second.id
    assert runs.claim_next(session, now=NOW) is None
    session.refresh(first)
    assert (first.stage, first.progress) == ("loading", runs.STAGE_PROGRESS["loading"])


def test_a_run_reports_its_stage_and_a_silent_one_is_failed_as_interrupted(session):
    quiet = runs.start_run(session, scope={}, settings={}, started_by=None, now=NOW, stage="loading")
    queued = runs.start_run(session, scope={}, settings={}, started_by=None, now=NOW)
    runs.report(session, quiet.id, "solving", now=NOW + timedelta(minutes=1))
    session.refresh(quiet)
    assert (quiet.stage, quiet.progress) == ("solving", runs.STAGE_PROGRESS["solving"])
    assert runs.fail_stalled(session, now=NOW + timedelta(minutes=15)) == []
    assert runs.fail_stalled(session, now=NOW + timedelta(minutes=17)) == [quiet.id]
    session.refresh(quiet)
    session.refresh(queued)
    assert (quiet.status, quiet.error) == ("failed", "interrupted")
    assert queued.status == "running"  # waiting for the scheduler is not being cut off


def test_the_stages_progress_in_order_and_end_at_done():
    assert runs.STAGES == ("queued", "loading", "pairs", "solving", "explaining", "storing", "done")
    values = [runs.STAGE_PROGRESS[s] for s in runs.STAGES]
    assert values == sorted(values) and len(set(values)) == len(values) and values[-1] == 100
