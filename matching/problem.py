"""The engine's input: records (plain dicts) validated and parsed into arrays, and the types
that carry a problem through the engine (Pool, Pairs, Solution)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from matching import geo, lasting, scoring
from matching.lasting import Model
from matching.scoring import DEFAULT_WEIGHTS, SLOTS, People

# With a learned model the score is the predicted chance of lasting plus the waiting priority.
MODEL_WEIGHTS: dict[str, float] = {"durability": 85.0, "waiting": 15.0}
OBJECTIVES = ("weights", "durability")

@dataclass(frozen=True)
class Pool:
    """The validated problem as arrays plus what explanations need to name things."""

    volunteer_ids: list[str]
    resident_ids: list[str]
    vols: People
    res: People
    available: np.ndarray  # bool per volunteer
    interests: list[str]  # vocabulary, bit order
    activities: list[str]
    weights: dict[str, float]
    min_score: float
    locked: np.ndarray  # (k, 2) volunteer index, resident index
    excluded_keys: np.ndarray  # sorted volunteer * n_residents + resident
    model: Model | None = None  # a learned model: every pair gets its predicted durability
    objective: str = "weights"  # "durability": the model's prediction is the score


@dataclass(frozen=True)
class Pairs:
    """The pairs that pass every hard rule (min_score aside), grouped by resident, with their scores."""

    vi: np.ndarray
    ri: np.ndarray
    km: np.ndarray
    score: np.ndarray
    cost: np.ndarray
    allowed: np.ndarray  # bool: score >= min_score
    candidates: int  # pairs screened: in the volunteers' reach (grid path: sharing a slot and a language)


@dataclass(frozen=True)
class Solution:
    """Everything explanations need: pairs evaluated, which were chosen, and the loads."""

    pool: Pool
    pairs: Pairs
    locked_pairs: Pairs
    usable: np.ndarray  # per pair: allowed and the volunteer has free places
    chosen: np.ndarray  # indices into pairs
    locked_count: np.ndarray  # per volunteer
    load: np.ndarray  # per volunteer, locked + chosen
    funnel: np.ndarray  # per resident: funnel stage if unmatched, -1 if matched or locked


def _number(value: object, where: str, field: str = "", *, allow_none: bool = False) -> float | None:
    # where + field name the value in the message; joined only on error (this runs per record).
    if value is None and allow_none:
        return None
    if type(value) is not float and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ValueError(f"{where}{field} must be a finite number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{where}{field} must be a finite number, got {value!r}")
    return float(value)


def _date(value: object, where: str, field: str = "") -> dt.date:
    if not isinstance(value, str):
        raise ValueError(f"{where}{field} must be an ISO date 'YYYY-MM-DD', got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}{field} must be an ISO date 'YYYY-MM-DD', got {value!r}") from None


def _tags(record: dict, key: str, where: str) -> list[str]:
    value = record.get(key) or []
    if not isinstance(value, list) or not all(map(isinstance, value, repeat(str))):
        raise ValueError(f"{where}: {key} must be a list of strings, got {value!r}")
    return value


FIELDS = (
    "lat", "lon", "languages", "interests", "activities", "slots", "reach", "capacity", "available",
    "gender", "age", "pref_gender", "pref_min_age", "pref_max_age", "waiting", "commitment",
)


def _records(problem: dict, side: str, today: dt.date) -> tuple[list[str], dict[str, tuple]]:
    """Ids and one column per field (a tuple per record while validating: a dict each costs more)."""
    records = problem.get(side, [])
    if not isinstance(records, list):
        raise ValueError(f"{side} must be a list of records")
    ids: list[str] = []
    seen: set[str] = set()
    parsed = []
    kind = side[:-1]
    for n, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise ValueError(f"{side}[{n}] must be an object, got {type(rec).__name__}")
        rid = rec.get("id")
        if not isinstance(rid, str) or not rid:
            raise ValueError(f"{side}[{n}]: missing or empty id")
        if rid in seen:
            raise ValueError(f"duplicate {kind} id {rid!r}")
        seen.add(rid)
        where = f"{kind} {rid!r}"
        lat = _number(rec.get("lat"), where, ": lat")
        lon = _number(rec.get("lon"), where, ": lon")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"{where}: coordinates out of range ({lat}, {lon})")
        slots = rec.get("availability") or []
        if not isinstance(slots, list):
            raise ValueError(f"{where}: availability must be a list of slots 0-{SLOTS - 1}")
        mask = 0
        for s in slots:
            if type(s) is not int and (isinstance(s, bool) or not isinstance(s, int)) or not 0 <= s < SLOTS:
                raise ValueError(f"{where}: unknown availability slot {s!r} (slots are 0-{SLOTS - 1})")
            mask |= 1 << s
        travel = rec.get("max_travel_km")
        if side == "volunteers" or travel is not None:
            travel = _number(travel, where, ": max_travel_km")
            if travel <= 0:
                raise ValueError(f"{where}: max_travel_km must be > 0, got {travel}")
        capacity = rec.get("capacity", 1) if side == "volunteers" else 1
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"{where}: capacity must be an integer >= 1, got {capacity!r}")
        available = rec.get("available", True)
        if not isinstance(available, bool):
            raise ValueError(f"{where}: available must be true or false, got {available!r}")
        gender = rec.get("gender")
        if gender is not None and not isinstance(gender, str):
            raise ValueError(f"{where}: gender must be a string or null, got {gender!r}")
        birth = rec.get("birth_year")
        if birth is not None and (isinstance(birth, bool) or not isinstance(birth, int) or not 1880 <= birth <= today.year):
            raise ValueError(f"{where}: birth_year must be a year up to {today.year} or null, got {birth!r}")
        prefers = rec.get("prefers") or {}
        if not isinstance(prefers, dict):
            raise ValueError(f"{where}: prefers must be an object, got {prefers!r}")
        pref_gender = prefers.get("gender")
        if isinstance(pref_gender, str):
            pref_gender = [pref_gender]
        if pref_gender is not None and (
            not isinstance(pref_gender, list) or not all(isinstance(g, str) for g in pref_gender)
        ):
            raise ValueError(f"{where}: prefers.gender must be a string, a list of strings or null")
        min_age = _number(prefers.get("min_age"), where, ": prefers.min_age", allow_none=True)
        max_age = _number(prefers.get("max_age"), where, ": prefers.max_age", allow_none=True)
        if min_age is not None and max_age is not None and min_age > max_age:
            raise ValueError(f"{where}: prefers.min_age {min_age} > prefers.max_age {max_age}")
        commitment = rec.get("commitment_months")
        if commitment == "open":
            commitment = lasting.OPEN_ENDED_MONTHS
        elif commitment is not None:
            if isinstance(commitment, bool) or not isinstance(commitment, int) or not 1 <= commitment <= 120:
                raise ValueError(
                    f"{where}: commitment_months must be a number of months 1-120, \"open\" or null, got {commitment!r}"
                )
            commitment = float(commitment)
        waiting = 0.0
        if side == "residents" and rec.get("waiting_since") is not None:
            waiting = max(0.0, float((today - _date(rec["waiting_since"], where, ": waiting_since")).days))
        parsed.append((  # in FIELDS' order
            lat, lon, _tags(rec, "languages", where), _tags(rec, "interests", where),
            _tags(rec, "activities", where), mask, math.inf if travel is None else travel, capacity,
            available, gender, math.nan if birth is None else float(today.year - birth), pref_gender,
            -math.inf if min_age is None else min_age, math.inf if max_age is None else max_age,
            waiting, math.nan if commitment is None else commitment,
        ))
        ids.append(rid)
    columns = tuple(zip(*parsed)) if parsed else ((),) * len(FIELDS)
    return ids, dict(zip(FIELDS, columns))


def _people(cols: dict[str, tuple], vocab: dict[str, dict[str, int]], genders: dict[str, int]) -> People:
    def col(key: str, dtype: type) -> np.ndarray:
        return np.array(cols[key], dtype=dtype)

    def gender_mask(values: list[str] | None) -> int:
        return 0 if values is None else sum(1 << genders[g] for g in set(values))

    lat, lon = col("lat", np.float64), col("lon", np.float64)
    return People(
        lat=lat,
        lon=lon,
        reach=col("reach", np.float64),
        languages=scoring.pack_tags(list(cols["languages"]), vocab["languages"]),
        interests=scoring.pack_tags(list(cols["interests"]), vocab["interests"]),
        activities=scoring.pack_tags(list(cols["activities"]), vocab["activities"]),
        slots=col("slots", np.int64),
        gender=np.array([0 if g is None else 1 << genders[g] for g in cols["gender"]], dtype=np.int64),
        age=col("age", np.float64),
        pref_gender=np.array([gender_mask(g) for g in cols["pref_gender"]], dtype=np.int64),
        pref_min_age=col("pref_min_age", np.float64),
        pref_max_age=col("pref_max_age", np.float64),
        capacity=col("capacity", np.int64),
        waiting_days=col("waiting", np.float64),
        commitment=col("commitment", np.float64),
        points=geo.Points.from_degrees(lat, lon),
    )


def _pair_list(problem: dict, key: str, vindex: dict[str, int], rindex: dict[str, int]) -> list[tuple[int, int]]:
    value = problem.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list of [volunteer id, resident id] pairs")
    out = []
    for n, item in enumerate(value):
        if isinstance(item, dict):
            item = [item.get("volunteer"), item.get("resident")]
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValueError(f"{key}[{n}] must be [volunteer id, resident id], got {item!r}")
        v, r = item
        if v not in vindex:
            raise ValueError(f"{key}[{n}]: unknown volunteer id {v!r}")
        if r not in rindex:
            raise ValueError(f"{key}[{n}]: unknown resident id {r!r}")
        out.append((vindex[v], rindex[r]))
    return out


def parse(problem: dict) -> Pool:
    """Validate a problem dict up front and turn it into arrays; ValueError names the bad record."""
    if not isinstance(problem, dict):
        raise ValueError("problem must be an object")
    if "today" not in problem:
        raise ValueError("today is required (an ISO date), so that ages and waiting times are reproducible")
    today = _date(problem["today"], "today")
    settings = problem.get("settings") or {}
    if not isinstance(settings, dict):
        raise ValueError("settings must be an object")
    model = None if settings.get("model") is None else Model.from_dict(settings["model"])
    objective = settings.get("objective") or ("weights" if model is None else "durability")
    if objective not in OBJECTIVES:
        raise ValueError(f"settings.objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if objective == "durability" and model is None:
        raise ValueError("settings.objective 'durability' needs settings.model")
    raw_weights = settings.get("weights") or {}
    if not isinstance(raw_weights, dict):
        raise ValueError("settings.weights must be an object")
    weights = dict(DEFAULT_WEIGHTS if objective == "weights" else MODEL_WEIGHTS)
    for key, value in raw_weights.items():
        if key not in weights:
            extra = " with the objective 'durability'" if objective == "durability" else ""
            raise ValueError(f"settings.weights: unknown weight {key!r}{extra} (known: {', '.join(weights)})")
        value = _number(value, f"settings.weights.{key}")
        if value < 0:
            raise ValueError(f"settings.weights.{key} must be >= 0, got {value}")
        weights[key] = value
    if sum(weights.values()) <= 0:
        raise ValueError("settings.weights must not all be zero")
    min_score = settings.get("min_score")
    min_score = 0.0 if min_score is None else _number(min_score, "settings.min_score")
    if not 0 <= min_score <= 100:
        raise ValueError(f"settings.min_score must be within 0-100, got {min_score}")

    vids, vcols = _records(problem, "volunteers", today)
    rids, rcols = _records(problem, "residents", today)
    vocab = {
        key: {t: i for i, t in enumerate(sorted({t for tags in vcols[key] + rcols[key] for t in tags}))}
        for key in ("languages", "interests", "activities")
    }
    genders = sorted(
        {g for g in vcols["gender"] + rcols["gender"] if g is not None}
        | {g for prefs in vcols["pref_gender"] + rcols["pref_gender"] if prefs for g in prefs}
    )
    if len(genders) > 62:
        raise ValueError(f"at most 62 distinct genders are supported, got {len(genders)}")
    gindex = {g: i for i, g in enumerate(genders)}
    vindex = {v: i for i, v in enumerate(vids)}
    rindex = {r: i for i, r in enumerate(rids)}
    locked = _pair_list(problem, "locked", vindex, rindex)
    excluded = _pair_list(problem, "excluded", vindex, rindex)
    excluded_set = set(excluded)
    for v, r in locked:
        if (v, r) in excluded_set:
            raise ValueError(f"locked pair ({vids[v]!r}, {rids[r]!r}) is also excluded")
    return Pool(
        volunteer_ids=vids,
        resident_ids=rids,
        vols=_people(vcols, vocab, gindex),
        res=_people(rcols, vocab, gindex),
        available=np.array(vcols["available"], dtype=bool),
        interests=list(vocab["interests"]),
        activities=list(vocab["activities"]),
        weights=weights,
        min_score=min_score,
        locked=np.array(locked, dtype=np.int64).reshape(-1, 2),
        excluded_keys=np.unique(np.array([v * len(rids) + r for v, r in excluded], dtype=np.int64)),
        model=model,
        objective=objective,
    )
