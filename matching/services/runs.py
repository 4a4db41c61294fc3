"""Match runs: the waiting pool from the database -> the engine -> stored, explained proposals."""
from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from matching import engine
from matching.errors import NotFound, ValidationFailed
from matching.problem import parse
from matching.services import audit, durability_models, pairing, profiles
from matching.services import scope as scopes
from matching.services.scope import Scope
from matching.store import (
    TARGET_GROUPS,
    DurabilityModel,
    Exclusion,
    Match,
    MatchRun,
    Resident,
    Volunteer,
)

log = logging.getLogger("maatwerk.runs")

SCOPE_KEYS = ("neighbourhood", "target_group")
# Explanation keys kept on each proposal (the engine's pair record minus the ids).
EXPLANATION_KEYS = (
    "score", "cost", "distance_km", "shared_interests", "shared_activities", "shared_slots",
    "reasons", "parts", "alternatives", "durability", "durability_factors",
)
OBJECTIVES = ("weights", "durability")

PROFILE_COLUMNS = (
    "id", "lat", "lon", "languages", "interests", "activities", "availability", "gender",
    "birth_year", "prefers_gender", "prefers_min_age", "prefers_max_age", "max_travel_km",
    "commitment_months",
)


def check_scope(scope: dict[str, Any]) -> dict[str, str]:
    """The scope with only known keys: all residents, one neighbourhood or one target group."""
    clean = {k: str(v).strip() for k, v in scope.items() if k in SCOPE_KEYS and v}
    if len(clean) > 1:
        raise ValidationFailed({"scope": "one_scope_only"})
    if "target_group" in clean and clean["target_group"] not in TARGET_GROUPS:
        raise ValidationFailed({"target_group": "invalid_choice"})
    if "neighbourhood" in clean and len(clean["neighbourhood"]) > 80:
        raise ValidationFailed({"neighbourhood": "too_long"})
    return clean


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Engine settings ({objective, weights, min_score}); the engine itself validates the values.

    With the objective "durability" the learned model scores the pairs and only the waiting
    weight applies; the content weights are dropped.
    """
    objective = settings.get("objective") or "weights"
    if objective not in OBJECTIVES:
        raise ValidationFailed({"objective": "invalid_choice"})
    weights = dict(settings.get("weights") or {})
    if objective == "durability":
        weights = {k: v for k, v in weights.items() if k == "waiting"}
    clean = {"objective": objective, "weights": weights, "min_score": settings.get("min_score", 0)}
    try:
        # The objective's own weights are checked when the run has its model; here the values.
        parse({"today": "2000-01-01", "settings": {"weights": weights, "min_score": clean["min_score"]}})
    except ValueError:
        raise ValidationFailed({"settings": "invalid_settings"}) from None
    return clean


def start_run(
    session: Session,
    *,
    scope: dict[str, Any],
    settings: dict[str, Any],
    started_by: str | None,
    now: datetime,
    via: str | None = None,
    organisation: str | None = None,
) -> MatchRun:
    """Record a new run in state "running" for the host or one partner `organisation`.

    The newest learned model, if any, goes with the run: as its objective, or to annotate every
    proposal with its predicted durability. ValidationFailed({"objective": "no_model"}) when the
    objective "durability" is asked before any model was learned.
    """
    clean = check_settings(settings)
    model = durability_models.current(session)
    if clean["objective"] == "durability" and model is None:
        raise ValidationFailed({"objective": "no_model"})
    run = MatchRun(
        scope=check_scope(scope), settings=clean, started_by=started_by,
        started_at=now, status="running", progress=0, organisation=organisation,
        model_id=model.id if model else None,
    )
    session.add(run)
    session.flush()
    audit.record(session, actor=via or started_by, action="match_run.started",
                 subject=("match_run", run.id), now=now)
    return run


def run_matching(
    session: Session,
    *,
    scope: dict[str, Any],
    settings: dict[str, Any],
    started_by: str | None,
    now: datetime,
    via: str | None = None,
    organisation: str | None = None,
) -> MatchRun:
    """Start, solve and record a run in the caller's transaction (the run page and the API).

    A run that cannot finish is recorded as failed with its reason, never left running; bad
    scope or settings raise ValidationFailed before anything is written.
    """
    run = start_run(session, scope=scope, settings=settings, started_by=started_by, now=now,
                    via=via, organisation=organisation)
    return execute_run(session, run.id, now=now, today=profiles.local_date(now))


def execute_run(session: Session, run_id: str, *, now: datetime, today: date) -> MatchRun:
    """Withdraw old unlocked proposals in scope, solve the pool and store the new proposals."""
    run = session.get(MatchRun, run_id)
    if run is None:
        raise NotFound("match_run")
    if run.status != "running":
        return run
    # A savepoint: when the run fails, the old proposals stay as they were and the failure is
    # recorded in the caller's transaction.
    hashed = None
    try:
        with session.begin_nested():
            _withdraw_previous(session, run, now)
            problem, unknown = build_problem(session, run.scope, engine_settings(session, run), today,
                                             organisation=run.organisation)
            hashed = input_hash(problem)
            result = engine.solve(problem)
            _store(session, run, result, unknown, hashed, now)
    except ValueError as error:  # the engine refused its input: the reason names no person
        return fail_run(session, run_id, now=now, error=str(error), hashed=hashed)
    except Exception as error:
        # The type only: a message or traceback could carry a person's data into the log.
        log.error("match_run.unexpected_error run=%s type=%s", run_id, type(error).__name__)
        return fail_run(session, run_id, now=now, error="unexpected error", hashed=hashed)
    audit.record(session, actor=run.started_by, action="match_run.done",
                 subject=("match_run", run.id), now=now)
    session.flush()
    return run


def engine_settings(session: Session, run: MatchRun) -> dict[str, Any]:
    """The run's settings as the engine takes them: with the model it recorded, if any."""
    settings = dict(run.settings)
    settings.setdefault("objective", "weights")
    if run.model_id is not None:
        settings["model"] = session.get_one(DurabilityModel, run.model_id).model
    return settings


def _store(session: Session, run: MatchRun, result: dict[str, Any],
           unknown: dict[str, list[str]], hashed: str, now: datetime) -> None:
    run.input_hash = hashed
    new_pairs = [pair for pair in result["pairs"] if not pair.get("locked")]
    pairing.open_many(session, [
        {
            "run_id": run.id, "volunteer_id": pair["volunteer"], "resident_id": pair["resident"],
            "score": pair["score"], "cost": pair["cost"], "distance_km": pair["distance_km"],
            "durability": pair.get("durability"),
            "explanation": {key: pair.get(key) for key in EXPLANATION_KEYS},
            "proposed_at": now, "updated_at": now,
        }
        for pair in new_pairs
    ])
    profiles.set_resident_status(session, [pair["resident"] for pair in new_pairs], "proposed")
    unmatched = {row["resident"]: row["reason"] for row in result["unmatched"]}
    unmatched.update(dict.fromkeys(unknown["residents"], "location_unknown"))
    run.unmatched = unmatched
    run.stats = {
        **result["stats"], "proposed": len(new_pairs),
        "volunteers_location_unknown": len(unknown["volunteers"]),
        "residents_location_unknown": len(unknown["residents"]),
    }
    run.status, run.progress, run.finished_at = "done", 100, now


def fail_run(session: Session, run_id: str, *, now: datetime, error: str,
             hashed: str | None = None) -> MatchRun:
    """Mark a run that could not finish as failed, with the reason (no personal data)."""
    run = session.get(MatchRun, run_id)
    if run is None:
        raise NotFound("match_run")
    if hashed is not None:
        run.input_hash = hashed
    run.status, run.error, run.finished_at, run.progress = "failed", error[:500], now, 100
    session.flush()
    log.warning("match_run.failed run=%s", run.id)
    return run


def build_problem(
    session: Session, scope: dict[str, Any], settings: dict[str, Any], today: date,
    *, organisation: str | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The engine's input for this scope and the ids left out for lack of coordinates.

    A partner organisation's run pools its own residents with the host's and its own volunteers.
    """
    owner = scopes.of(session, organisation)
    locked = session.execute(
        select(Match.volunteer_id, Match.resident_id).where(
            Match.status == "proposed", Match.locked.is_(True)
        )
    ).all()
    locked_volunteers = {row.volunteer_id for row in locked}
    locked_residents = {row.resident_id for row in locked}

    vcols = [getattr(Volunteer, name) for name in PROFILE_COLUMNS]
    volunteer_rows = session.execute(
        select(*vcols, Volunteer.capacity, Volunteer.open_matches)
        .where(
            owner.pool_volunteers(),
            Volunteer.status == "available",
            or_(Volunteer.open_matches < Volunteer.capacity,
                Volunteer.id.in_(list(locked_volunteers))),
        )
        .order_by(Volunteer.id)
    ).all()
    rcols = [getattr(Resident, name) for name in PROFILE_COLUMNS]
    resident_query = select(*rcols, Resident.waiting_since).where(
        owner.residents(),
        or_(Resident.status == "waiting", Resident.id.in_(list(locked_residents))),
    )
    if scope.get("neighbourhood"):
        resident_query = resident_query.where(Resident.neighbourhood == scope["neighbourhood"])
    if scope.get("target_group"):
        resident_query = resident_query.where(Resident.target_group == scope["target_group"])
    resident_rows = session.execute(resident_query.order_by(Resident.id)).all()

    unknown: dict[str, list[str]] = {"volunteers": [], "residents": []}
    placed_volunteers = {r.id for r in volunteer_rows if r.lat is not None and r.lon is not None}
    placed_residents = {r.id for r in resident_rows if r.lat is not None and r.lon is not None}
    # A locked pair goes to the engine only when both sides are in this pool; otherwise its
    # resident stays out (the locked proposal stands) and its place is not handed out twice.
    kept = [(row.volunteer_id, row.resident_id) for row in locked
            if row.volunteer_id in placed_volunteers and row.resident_id in placed_residents]
    kept_per_volunteer = Counter(v for v, _r in kept)
    kept_residents = {r for _v, r in kept}

    volunteers = []
    for row in volunteer_rows:
        if row.id not in placed_volunteers:
            unknown["volunteers"].append(row.id)
            continue
        record = engine_record(row)
        # Open matches hold their places already; the kept locked ones are handed back.
        record["capacity"] = row.capacity - row.open_matches + kept_per_volunteer[row.id]
        if record["capacity"] < 1:
            continue
        volunteers.append(record)
    residents = []
    for row in resident_rows:
        if row.id in locked_residents and row.id not in kept_residents:
            continue
        if row.id not in placed_residents:
            unknown["residents"].append(row.id)
            continue
        record = engine_record(row)
        record["waiting_since"] = row.waiting_since.isoformat() if row.waiting_since else None
        residents.append(record)

    volunteer_ids = {v["id"] for v in volunteers}
    resident_ids = {r["id"] for r in residents}
    excluded = [
        [row.volunteer_id, row.resident_id]
        for row in session.execute(
            select(Exclusion.volunteer_id, Exclusion.resident_id).order_by(
                Exclusion.volunteer_id, Exclusion.resident_id
            )
        )
        if row.volunteer_id in volunteer_ids and row.resident_id in resident_ids
    ]
    problem = {
        "today": today.isoformat(),
        "settings": settings,
        "volunteers": volunteers,
        "residents": residents,
        "locked": sorted([v, r] for v, r in kept),
        "excluded": excluded,
    }
    return problem, unknown


def engine_record(row: Any) -> dict[str, Any]:
    """A profile row (PROFILE_COLUMNS first) as the engine's input record."""
    (id_, lat, lon, languages, interests, activities, availability, gender, birth_year,
     prefers_gender, prefers_min_age, prefers_max_age, max_travel_km,
     commitment) = row[:len(PROFILE_COLUMNS)]
    return {
        "id": id_, "lat": lat, "lon": lon, "languages": languages or [],
        "interests": interests or [], "activities": activities or [],
        "availability": availability or [], "gender": gender, "birth_year": birth_year,
        "max_travel_km": max_travel_km,
        "commitment_months": commitment if commitment in (None, "open") else int(commitment),
        "prefers": {"gender": prefers_gender, "min_age": prefers_min_age,
                    "max_age": prefers_max_age},
    }


def input_hash(problem: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the engine's input: equal inputs, equal hash."""
    canonical = json.dumps(problem, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _withdraw_previous(session: Session, run: MatchRun, now: datetime) -> None:
    """Unlocked proposals not yet approved make way for the new run (within its scope)."""
    query = (
        select(Match.id, Match.resident_id)
        .join(Resident, Resident.id == Match.resident_id)
        .where(Match.status == "proposed", Match.locked.is_(False),
               Scope(run.organisation).residents())
    )
    if run.scope.get("neighbourhood"):
        query = query.where(Resident.neighbourhood == run.scope["neighbourhood"])
    if run.scope.get("target_group"):
        query = query.where(Resident.target_group == run.scope["target_group"])
    rows = session.execute(query).all()
    pairing.close_many(session, [row.id for row in rows], "withdrawn", now)
    profiles.set_resident_status(session, [row.resident_id for row in rows], "waiting")


def latest(session: Session, scope: Scope = scopes.HOST, limit: int = 20) -> list[MatchRun]:
    """The scope's most recent runs, newest first."""
    return list(session.scalars(
        select(MatchRun).where(scope.runs()).order_by(MatchRun.started_at.desc()).limit(limit)))


def proposal_counts(session: Session, run_id: str) -> dict[str, int]:
    """How many of the run's matches are in each status now."""
    rows = session.execute(
        select(Match.status, func.count()).where(Match.run_id == run_id).group_by(Match.status)
    ).all()
    return {status: count for status, count in rows}


def is_stale(match: Match, run_started_at: datetime) -> bool:
    """A profile on either side changed after the run that proposed this pair."""
    return bool(
        match.volunteer.updated_at > run_started_at or match.resident.updated_at > run_started_at
    )



@dataclass(frozen=True)
class Comparison:
    """What changed from the previous run of the same scope to this one."""

    previous: MatchRun | None
    gained: list[str]  # residents proposed now and not before (ids)
    lost: list[str]  # residents proposed before and not now
    changed: list[str]  # residents proposed in both, with another volunteer
    mean_score: tuple[float | None, float | None]  # (previous, this)
    mean_km: tuple[float | None, float | None]
    # Expected number of proposals lasting 26 weeks, as the run's model predicts (None: no model).
    expected_lasting: tuple[float | None, float | None] = (None, None)


def compare(session: Session, run: MatchRun) -> Comparison:
    """This run against the last earlier finished run with the same scope and organisation."""
    previous = session.scalars(
        select(MatchRun).where(
            MatchRun.status == "done", MatchRun.started_at < run.started_at,
            MatchRun.id != run.id,
            MatchRun.organisation.is_(None) if run.organisation is None
            else MatchRun.organisation == run.organisation)
        .order_by(MatchRun.started_at.desc())
    ).all()
    previous_run = next((p for p in previous if p.scope == run.scope), None)
    now_pairs, now_score, now_km, now_lasting = _proposals_of(session, run.id)
    if previous_run is None:
        return Comparison(None, [], [], [], (None, now_score), (None, now_km), (None, now_lasting))
    then_pairs, then_score, then_km, then_lasting = _proposals_of(session, previous_run.id)
    return Comparison(
        previous_run,
        sorted(now_pairs.keys() - then_pairs.keys()),
        sorted(then_pairs.keys() - now_pairs.keys()),
        sorted(r for r in now_pairs.keys() & then_pairs.keys() if now_pairs[r] != then_pairs[r]),
        (then_score, now_score), (then_km, now_km), (then_lasting, now_lasting),
    )


def _proposals_of(session: Session, run_id: str) -> tuple[dict[str, str], float | None,
                                                         float | None, float | None]:
    rows = session.execute(select(Match.resident_id, Match.volunteer_id, Match.score,
                                  Match.distance_km, Match.durability).where(Match.run_id == run_id)).all()
    scores = [r.score for r in rows if r.score is not None]
    kms = [r.distance_km for r in rows if r.distance_km is not None]
    lasting = [r.durability for r in rows]
    return ({r.resident_id: r.volunteer_id for r in rows},
            sum(scores) / len(scores) if scores else None, sum(kms) / len(kms) if kms else None,
            sum(lasting) if lasting and None not in lasting else None)
