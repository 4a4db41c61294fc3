"""Match runs: the waiting pool from the database -> the engine -> stored, explained proposals.

A run is prepared (read only), solved by the engine, then finished in one short write: nothing is
locked while the engine works, and each stage can be reported from other transactions.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from matching import engine
from matching.errors import Conflict, NotFound, ValidationFailed
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
# A run's stages in order, with where each starts on the run page's bar: the share of a national
# run's time (50,000 x 50,000 on PostgreSQL, benchmarks/match_run.py) spent before it.
STAGE_PROGRESS = {"queued": 0, "loading": 1, "pairs": 19, "solving": 31, "explaining": 63,
                  "storing": 67, "done": 100}
STAGES = tuple(STAGE_PROGRESS)
# A stage that has not reported for this long was cut off (its process stopped).
STALLED_AFTER = timedelta(minutes=15)

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
    stage: str = "queued",
) -> MatchRun:
    """Record a new run in state "running" for the host or one partner `organisation`.

    It waits in `stage` "queued" for the scheduler's executor (match_runs.execute); a caller that
    executes it itself starts it at "loading".

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
        started_at=now, status="running", stage=stage, progress=STAGE_PROGRESS[stage],
        reported_at=now, organisation=organisation, model_id=model.id if model else None,
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
    """Start, solve and record a run in the caller's transaction (the partner API).

    A run that cannot finish is recorded as failed with its reason, never left running; bad
    scope or settings raise ValidationFailed before anything is written.
    """
    run = start_run(session, scope=scope, settings=settings, started_by=started_by, now=now,
                    via=via, organisation=organisation, stage="loading")
    return execute_run(session, run.id, now=now, today=profiles.local_date(now))


def execute_run(session: Session, run_id: str, *, now: datetime, today: date) -> MatchRun:
    """Prepare, solve and finish a run in this one transaction."""
    try:
        prepared = prepare(session, run_id, today=today)
    except Conflict:  # no longer running
        return session.get_one(MatchRun, run_id)
    try:
        result = engine.solve(prepared.problem)
    except Exception as error:
        return fail_run(session, run_id, now=now, error=failure(error), hashed=prepared.hashed)
    return finish(session, prepared, result, now=now)


def failure(error: Exception) -> str:
    """What a failed run records: the engine's refusal (it names no person), else only "unexpected"."""
    if isinstance(error, ValueError):
        return str(error)
    # The type only: a message or traceback could carry a person's data into the log.
    log.error("match_run.unexpected_error type=%s", type(error).__name__)
    return "unexpected error"


@dataclass(frozen=True)
class Prepared:
    """What a run read: the engine's input and the proposals it replaces."""

    run_id: str
    problem: dict[str, Any]
    unknown: dict[str, list[str]]
    hashed: str
    replaces: frozenset[str]  # ids of the unlocked proposals in scope, withdrawn when it finishes


def prepare(session: Session, run_id: str, *, today: date) -> Prepared:
    """Read the run's pool as it will be once its scope's unlocked proposals are withdrawn.

    Reads only. Conflict("not_running") when the run has ended meanwhile.
    """
    run = session.get(MatchRun, run_id)
    if run is None:
        raise NotFound("match_run")
    if run.status != "running":
        raise Conflict("not_running")
    problem, unknown = build_problem(session, run.scope, engine_settings(session, run), today,
                                     organisation=run.organisation, replaced=_replaced(run))
    return Prepared(run.id, problem, unknown, input_hash(problem),
                    frozenset(session.scalars(_replaced(run).with_only_columns(Match.id))))


def finish(session: Session, prepared: Prepared, result: dict[str, Any], *, now: datetime) -> MatchRun:
    """Withdraw the proposals the run replaces and store its own, in the caller's transaction.

    Conflict("pool_changed") when those proposals changed since `prepare` (one was approved,
    locked or withdrawn): the run's input is then out of date and nothing is written.
    """
    run = session.get_one(MatchRun, prepared.run_id)
    if run.status != "running":
        raise Conflict("not_running")
    replaced = session.execute(_replaced(run)).all()
    if frozenset(row.id for row in replaced) != prepared.replaces:
        raise Conflict("pool_changed")
    pairing.close_many(session, [row.id for row in replaced], "withdrawn", now)
    profiles.set_resident_status(session, [row.resident_id for row in replaced], "waiting")
    _store(session, run, result, prepared.unknown, prepared.hashed, now)
    audit.record(session, actor=run.started_by, action="match_run.done",
                 subject=("match_run", run.id), now=now)
    session.flush()
    return run


def report(session: Session, run_id: str, stage: str, *, now: datetime) -> None:
    """Record the stage a running run has reached (and that it is alive)."""
    session.execute(
        update(MatchRun).where(MatchRun.id == run_id, MatchRun.status == "running")
        .values(stage=stage, progress=STAGE_PROGRESS[stage], reported_at=now)
    )


def record_stage_seconds(session: Session, run_id: str, seconds: dict[str, float]) -> None:
    """Keep how long each stage of a finished run took (on the run page, and to tune the bar)."""
    run = session.get_one(MatchRun, run_id)
    run.stats = {**run.stats, "stage_seconds": seconds}


def claim_next(session: Session, *, now: datetime) -> str | None:
    """The oldest queued run, moved to "loading" so that no other executor takes it; or None."""
    run_id = session.scalar(
        select(MatchRun.id).where(MatchRun.status == "running", MatchRun.stage == "queued")
        .order_by(MatchRun.started_at, MatchRun.id).limit(1)
    )
    if run_id is None:
        return None
    claimed = session.execute(
        update(MatchRun).where(MatchRun.id == run_id, MatchRun.stage == "queued")
        .values(stage="loading", progress=STAGE_PROGRESS["loading"], reported_at=now)
    ).rowcount
    return run_id if claimed == 1 else None


def fail_stalled(session: Session, *, now: datetime) -> list[str]:
    """Fail the runs that stopped reporting mid-way (their process ended); their ids."""
    stalled = session.scalars(
        select(MatchRun.id).where(MatchRun.status == "running", MatchRun.stage != "queued",
                                  MatchRun.reported_at < now - STALLED_AFTER)
    ).all()
    for run_id in stalled:
        fail_run(session, run_id, now=now, error="interrupted")
    return list(stalled)


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
    run.status, run.stage, run.progress, run.finished_at = "done", "done", 100, now


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
    *, organisation: str | None = None, replaced: Select[Any] | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The engine's input for this scope and the ids left out for lack of coordinates.

    A partner organisation's run pools its own residents with the host's and its own volunteers.
    `replaced` selects proposals that count as withdrawn: their residents wait again and their
    volunteers' places are free.
    """
    withdrawn: Counter[str] = Counter() if replaced is None else Counter(
        session.scalars(replaced.with_only_columns(Match.volunteer_id)))
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
                Volunteer.id.in_(list(locked_volunteers)),
                *([] if replaced is None else
                  [Volunteer.id.in_(replaced.with_only_columns(Match.volunteer_id))])),
        )
        .order_by(Volunteer.id)
    ).all()
    rcols = [getattr(Resident, name) for name in PROFILE_COLUMNS]
    resident_query = select(*rcols, Resident.waiting_since).where(
        owner.residents(),
        or_(Resident.status == "waiting", Resident.id.in_(list(locked_residents)),
            *([] if replaced is None else
              [Resident.id.in_(replaced.with_only_columns(Match.resident_id))])),
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
        record["capacity"] = (row.capacity - row.open_matches + kept_per_volunteer[row.id]
                              + withdrawn[row.id])
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


def _replaced(run: MatchRun) -> Select[Any]:
    """The unlocked proposals in the run's scope that its own proposals replace."""
    query = (
        select(Match.id, Match.resident_id, Match.volunteer_id)
        .join(Resident, Resident.id == Match.resident_id)
        .where(Match.status == "proposed", Match.locked.is_(False),
               Scope(run.organisation).residents())
    )
    if run.scope.get("neighbourhood"):
        query = query.where(Resident.neighbourhood == run.scope["neighbourhood"])
    if run.scope.get("target_group"):
        query = query.where(Resident.target_group == run.scope["target_group"])
    return query


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
