"""The learned durability model in the service: fit it on our own history, keep every fit, name
what changed.

The history is every match that started (activated), with the profiles as they are now: a match
whose volunteer or resident was anonymised or has no place is left out (and counted), so erased
people never enter a later fit. A fit whose training data are unchanged (same data hash) is not
stored again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from matching import learning
from matching.errors import Conflict
from matching.store import DurabilityModel, Match, Resident, Volunteer

from . import audit, runs

STARTED = ("active", "ended")


@dataclass(frozen=True)
class Refit:
    model: DurabilityModel
    created: bool  # False: the data had not changed since the last fit


def history(session: Session, today: date) -> tuple[dict[str, Any], int]:
    """learn's input from the matches that started, and how many were left out."""
    vol, res = aliased(Volunteer), aliased(Resident)
    rows = session.execute(
        select(Match.activated_at, Match.ended_at, Match.status,
               *(getattr(vol, c) for c in runs.PROFILE_COLUMNS), vol.anonymised_at,
               *(getattr(res, c) for c in runs.PROFILE_COLUMNS), res.anonymised_at)
        .join(vol, vol.id == Match.volunteer_id)
        .join(res, res.id == Match.resident_id)
        .where(Match.status.in_(STARTED), Match.activated_at.is_not(None))
        .order_by(Match.activated_at, Match.id)
    ).all()
    width = len(runs.PROFILE_COLUMNS) + 1
    volunteers: dict[str, dict] = {}
    residents: dict[str, dict] = {}
    matches, left_out = [], 0
    for row in rows:
        started, ended_at, status = row[0], row[1], row[2]
        v_row, r_row = row[3:3 + width], row[3 + width:3 + 2 * width]
        v, r = runs.engine_record(v_row), runs.engine_record(r_row)
        if v_row[-1] or r_row[-1] or None in (v["lat"], v["lon"], r["lat"], r["lon"]):
            left_out += 1
            continue
        start = started.date()
        stop = ended_at.date() if status == "ended" and ended_at else None
        if start > today or (stop is not None and (stop < start or stop > today)):
            left_out += 1
            continue
        v["max_travel_km"] = v["max_travel_km"] or 5.0
        volunteers.setdefault(v["id"], v)
        residents.setdefault(r["id"], r)
        matches.append({"volunteer": v["id"], "resident": r["id"], "started": start.isoformat(),
                        "ended": None if stop is None else stop.isoformat()})
    problem = {"today": today.isoformat(), "volunteers": list(volunteers.values()),
               "residents": list(residents.values()), "matches": matches}
    return problem, left_out


def refit(session: Session, *, today: date, now: datetime, actor: str | None) -> Refit:
    """Learn from the history; Conflict("too_little_history") when there is too little of it."""
    problem, left_out = history(session, today)
    try:
        result = learning.learn(problem)
    except learning.TooLittleHistory:
        raise Conflict("too_little_history") from None
    previous = current(session)
    if previous is not None and previous.data_hash == result["model"]["data_hash"]:
        return Refit(previous, created=False)
    model = DurabilityModel(
        created_at=now, version=result["model"]["version"], data_hash=result["model"]["data_hash"],
        n=result["n"], events=result["events"], left_out=left_out,
        period_from=date.fromisoformat(result["period"]["from"]), period_to=today,
        c_index=result["c_index"], c_low=result["c_index_interval"][0], c_high=result["c_index_interval"][1],
        baseline_survival=result["baseline_survival"], model=result["model"], terms=result["terms"],
        calibration=result["calibration"],
    )
    session.add(model)
    session.flush()
    audit.record(session, actor=actor, action="durability_model.fitted", subject=("durability_model", model.id),
                 now=now)
    return Refit(model, created=True)


def current(session: Session) -> DurabilityModel | None:
    """The newest fit."""
    return session.scalars(
        select(DurabilityModel).order_by(DurabilityModel.created_at.desc(), DurabilityModel.id.desc()).limit(1)
    ).first()


def fits(session: Session, limit: int = 12) -> list[DurabilityModel]:
    """The latest fits, newest first."""
    return list(session.scalars(
        select(DurabilityModel).order_by(DurabilityModel.created_at.desc(), DurabilityModel.id.desc()).limit(limit)
    ))


@dataclass(frozen=True)
class Change:
    name: str
    before: float  # hazard ratio
    after: float
    crossed: bool  # the direction of the effect changed (or became / stopped being clear)


def changes(new: DurabilityModel, previous: DurabilityModel | None) -> list[Change]:
    """Per feature, the hazard ratio before and after; largest relative change first."""
    if previous is None:
        return []
    before = {t["name"]: t for t in previous.terms}
    out = []
    for term in new.terms:
        old = before.get(term["name"])
        if old is None:
            continue

        def side(t: dict) -> int:
            return 1 if t["ci_low"] > 1 else -1 if t["ci_high"] < 1 else 0

        out.append(Change(term["name"], old["hazard_ratio"], term["hazard_ratio"], side(old) != side(term)))
    return sorted(out, key=lambda c: -abs(c.after / c.before - 1))
