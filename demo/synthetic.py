"""A synthetic VCU whose matches end by a hazard we choose: for the learning tests and the
durability benchmark.

People are `solve` records scattered around Utrecht's centre. A match between volunteer v and
resident r ends after an exponential time with rate ``BASE_RATE * exp(TRUE_COEF . (x - TRUE_CENTRE))``,
x being the pair's features in `matching.lasting.FEATURES` order. The chosen hazard (per feature,
per unit):

- shared interests -0.25, shared activities -0.15, shared time slots -0.05: common ground keeps
  pairs together;
- distance +0.15 per km: travel wears matches down;
- each side's intended commitment -0.03 per month, and agreeing on it -0.6: what people intend at
  the start predicts how long they stay (as in the STAR study of Big Brothers Big Sisters);
- the fewest slots of the two -0.04: time to meet.

At the centre about a third of matches end within 26 weeks.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from matching import geo, lasting
from matching.problem import parse

CENTRE = (52.0907, 5.1214)
INTERESTS = ("wandelen", "koken", "muziek", "tuinieren", "lezen", "film", "sport", "kaarten",
             "geschiedenis", "fotografie", "handwerken", "talen")
ACTIVITIES = ("koffie_drinken", "wandeling", "boodschappen", "samen_koken", "spelletje", "museum",
              "fietstocht", "bibliotheek")
COMMITMENTS = (3, 6, 12, 24, "open")
TRUE_COEF = np.array([-0.25, -0.15, -0.05, 0.15, -0.03, -0.03, -0.6, -0.04])
TRUE_CENTRE = np.array([1.0, 1.0, 3.0, 2.5, 14.0, 14.0, 0.2, 5.0])
BASE_RATE = 0.4 / lasting.HORIZON_DAYS  # per day at the centre: S(26 weeks) = exp(-0.4) = 0.67


def people(rng: np.random.Generator, n: int, prefix: str, volunteers: bool) -> list[dict]:
    """n `solve` records within about 7 km of the centre."""
    out = []
    for i in range(n):
        radius = 7.0 * np.sqrt(rng.random())
        angle = rng.random() * 2 * np.pi
        lat = CENTRE[0] + radius * np.cos(angle) / 111.2
        lon = CENTRE[1] + radius * np.sin(angle) / (111.2 * np.cos(np.radians(CENTRE[0])))
        record = {
            "id": f"{prefix}{i}",
            "lat": round(float(lat), 6),
            "lon": round(float(lon), 6),
            "languages": ["nl"],
            "interests": sorted(rng.choice(INTERESTS, size=rng.integers(1, 6), replace=False).tolist()),
            "activities": sorted(rng.choice(ACTIVITIES, size=rng.integers(1, 4), replace=False).tolist()),
            "availability": sorted(rng.choice(21, size=rng.integers(2, 10), replace=False).tolist()),
            "commitment_months": COMMITMENTS[rng.integers(len(COMMITMENTS))],
            "gender": ["f", "m"][rng.integers(2)],
            "birth_year": int(rng.integers(1935, 2004)),
        }
        if volunteers:
            record["max_travel_km"] = float(rng.choice([3.0, 5.0, 8.0]))
        out.append(record)
    return out


def true_log_hazard(features: np.ndarray) -> np.ndarray:
    return (features - TRUE_CENTRE) @ TRUE_COEF


def true_durability(features: np.ndarray) -> np.ndarray:
    """P(a pair with these features lasts 26 weeks) under the chosen hazard."""
    return np.exp(-BASE_RATE * lasting.HORIZON_DAYS * np.exp(true_log_hazard(features)))


def features(problem: dict, vi: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """The pairs' features (commitments are always known here)."""
    pool = parse({"today": problem["today"], "volunteers": problem["volunteers"], "residents": problem["residents"]})
    km = geo.indexed_distance_km(pool.vols.points, pool.res.points, vi, ri)
    return lasting.raw_features(pool.vols, pool.res, vi, ri, km)


def history(seed: int, matches: int, today: str = "2026-11-30", years: float = 2.0) -> dict:
    """A `learn` input: people and `matches` matches started over `years`, ended by the chosen hazard.

    Each resident is paired with a volunteer in reach who shares a time slot, picked at random
    among a handful, as coordinators without a model would.
    """
    rng = np.random.default_rng(seed)
    vols = people(rng, max(50, matches // 2), "v", True)
    res = people(rng, matches, "r", False)
    problem = {"today": today, "volunteers": vols, "residents": res}
    pool = parse(problem)
    vi, ri = [], []
    for r in range(len(res)):
        for v in rng.choice(len(vols), size=40, replace=False).tolist():
            km = float(geo.indexed_distance_km(pool.vols.points, pool.res.points, np.array([v]), np.array([r]))[0])
            if km <= pool.vols.reach[v] and pool.vols.slots[v] & pool.res.slots[r]:
                vi.append(v)
                ri.append(r)
                break
    vi, ri = np.array(vi), np.array(ri)
    x = features(problem, vi, ri)
    duration = rng.exponential(1.0 / (BASE_RATE * np.exp(true_log_hazard(x))))
    end_day = dt.date.fromisoformat(today)
    started_ago = rng.integers(0, int(365 * years), size=len(vi))
    records = []
    for v, r, ago, days in zip(vi.tolist(), ri.tolist(), started_ago.tolist(), duration.tolist()):
        started = end_day - dt.timedelta(days=ago)
        ended = None if days >= ago else (started + dt.timedelta(days=int(days))).isoformat()
        records.append({"volunteer": vols[v]["id"], "resident": res[r]["id"], "started": started.isoformat(),
                        "ended": ended})
    problem["matches"] = records
    return problem
