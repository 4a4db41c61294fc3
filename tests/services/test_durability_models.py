"""The learned model in the service: fitted from the database's history, kept per fit, used by runs
reproducibly, and compared between runs."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from matching import engine, learning
from matching.errors import Conflict, ValidationFailed
from matching.services import durability_models, runs
from matching.store import AuditEvent, DurabilityModel, Match, Resident
from tests import history as stored

TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_refit_learns_from_the_stored_history(session):
    history = stored.load(session, seed=21, matches=300)
    done = durability_models.refit(session, today=TODAY, now=NOW, actor=None)
    assert done.created
    expected = learning.learn(history)
    model = done.model
    assert (model.n, model.events, model.left_out) == (expected["n"], expected["events"], 0)
    assert model.model["coef"] == pytest.approx(expected["model"]["coef"], abs=1e-9)
    assert model.c_index == expected["c_index"]
    assert [t["name"] for t in model.terms] == [t["name"] for t in expected["terms"]]
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "durability_model.fitted")) == 1
    # Unchanged data: the same model, nothing stored again.
    again = durability_models.refit(session, today=TODAY, now=NOW + timedelta(days=31), actor=None)
    assert not again.created and again.model.id == model.id
    assert session.scalar(select(func.count()).select_from(DurabilityModel)) == 1


def test_anonymised_people_leave_the_history(session):
    stored.load(session, seed=22, matches=200)
    first = durability_models.refit(session, today=TODAY, now=NOW, actor=None).model
    gone = session.scalars(select(Resident).where(Resident.status == "closed").limit(3)).all()
    for resident in gone:
        resident.anonymised_at = NOW
    session.flush()
    second = durability_models.refit(session, today=TODAY, now=NOW + timedelta(days=1), actor=None)
    assert second.created
    assert second.model.left_out == 3 and second.model.n == first.n - 3
    assert [c.name for c in durability_models.changes(second.model, first)]


def test_too_little_history_is_a_conflict_and_stores_nothing(session):
    history = stored.load(session, seed=23, matches=40)
    assert sum(1 for m in history["matches"] if m["ended"]) < learning.MIN_ENDED
    with pytest.raises(Conflict):
        durability_models.refit(session, today=TODAY, now=NOW, actor=None)
    assert session.scalar(select(func.count()).select_from(DurabilityModel)) == 0


def _waiting_pool(session, make_volunteer, make_resident, n=12):
    for k in range(n):
        make_volunteer(first_name=f"Vrij{k}", email=f"v{k}@example.org", lat=52.09 + k * 0.002, lon=5.12,
                       commitment_months=("3", "12", "open")[k % 3], interests=["wandelen", "koken"][: 1 + k % 2],
                       availability=[0, 1, 4])
        make_resident(first_name=f"Wacht{k}", lat=52.091 + k * 0.0015, lon=5.121,
                      commitment_months=("12", "6", None)[k % 3], interests=["wandelen"], availability=[1, 4])
    session.flush()


def test_a_run_with_the_model_is_reproducible_after_a_refit(session, make_volunteer, make_resident):
    stored.load(session, seed=24, matches=300)
    _waiting_pool(session, make_volunteer, make_resident)
    model = durability_models.refit(session, today=TODAY, now=NOW, actor=None).model
    pool_before, _unknown = runs.build_problem(session, {}, {}, TODAY)
    run = runs.run_matching(session, scope={}, settings={"objective": "durability", "weights": {"interests": 50}},
                            started_by=None, now=NOW)
    assert run.status == "done", run.error
    assert run.model_id == model.id
    # The content weights do not apply to the learned objective: they are not kept either.
    assert run.settings == {"objective": "durability", "weights": {}, "min_score": 0}
    proposals = session.scalars(select(Match).where(Match.run_id == run.id)).all()
    assert proposals and all(0 < p.durability < 1 for p in proposals)
    assert all(p.explanation["durability"] == p.durability for p in proposals)
    # A later fit on more history does not change what the run used: its input (the pool as it
    # was, with the run's recorded settings and model) hashes the same and solves the same.
    stored.load(session, seed=25, matches=100)
    newer = durability_models.refit(session, today=TODAY, now=NOW + timedelta(days=1), actor=None)
    assert newer.created and newer.model.id != model.id
    problem = {**pool_before, "settings": runs.engine_settings(session, run)}
    assert problem["settings"]["model"]["version"] == model.version != newer.model.version
    assert runs.input_hash(problem) == run.input_hash
    again = engine.solve(problem)
    assert {(p["volunteer"], p["resident"], p["durability"]) for p in again["pairs"]} == {
        (p.volunteer_id, p.resident_id, p.durability) for p in proposals}
    # The newest model gives the next run.
    assert runs.run_matching(session, scope={}, settings={"objective": "durability"}, started_by=None,
                             now=NOW + timedelta(days=1)).model_id == newer.model.id


def test_durability_objective_needs_a_model(session, make_volunteer, make_resident):
    _waiting_pool(session, make_volunteer, make_resident, n=3)
    with pytest.raises(ValidationFailed) as refused:
        runs.run_matching(session, scope={}, settings={"objective": "durability"}, started_by=None, now=NOW)
    assert refused.value.errors == {"objective": "no_model"}
    with pytest.raises(ValidationFailed):
        runs.run_matching(session, scope={}, settings={"objective": "luck"}, started_by=None, now=NOW)
    # Fixed weights without any model: no durability anywhere.
    run = runs.run_matching(session, scope={}, settings={}, started_by=None, now=NOW)
    assert run.model_id is None
    assert all(p.durability is None for p in session.scalars(select(Match).where(Match.run_id == run.id)))


def test_comparing_runs_shows_expected_lasting_for_each(session, make_volunteer, make_resident):
    stored.load(session, seed=26, matches=300)
    _waiting_pool(session, make_volunteer, make_resident)
    durability_models.refit(session, today=TODAY, now=NOW, actor=None)
    fixed = runs.run_matching(session, scope={}, settings={}, started_by=None, now=NOW)
    learned = runs.run_matching(session, scope={}, settings={"objective": "durability", "weights": {"waiting": 0}},
                                started_by=None, now=NOW + timedelta(minutes=5))
    comparison = runs.compare(session, learned)
    assert comparison.previous.id == fixed.id
    sums = []
    for run in (fixed, learned):
        rows = session.scalars(select(Match.durability).where(Match.run_id == run.id)).all()
        sums.append(sum(rows))
    assert comparison.expected_lasting == pytest.approx(tuple(sums))
    assert comparison.expected_lasting[1] >= comparison.expected_lasting[0] - 1e-9


def test_a_swap_is_scored_as_its_run_scored(session, make_volunteer, make_resident):
    from matching.services import proposals

    stored.load(session, seed=27, matches=300)
    _waiting_pool(session, make_volunteer, make_resident)
    durability_models.refit(session, today=TODAY, now=NOW, actor=None)
    run = runs.run_matching(session, scope={}, settings={"objective": "durability"}, started_by=None, now=NOW)
    from matching.store import Volunteer

    match = next(m for m in session.scalars(select(Match).where(Match.run_id == run.id))
                 if m.explanation["alternatives"])
    other = match.explanation["alternatives"][0]["volunteer"]
    session.expire_all()
    session.get(Volunteer, other).capacity = 3  # room for one more
    session.flush()
    new = proposals.swap(session, match.id, other, actor=None, now=NOW, today=TODAY)
    assert new.volunteer_id == other and 0 < new.durability < 1
    assert set(new.explanation["parts"]) == {"durability", "waiting"}
