"""Why this pair, what the runner-up volunteers were, and why a resident stayed unmatched.

Reason codes are stable; the web app translates them. Unmatched residents get the first rule of
the funnel that no volunteer gets past (checked over available volunteers, capacity aside):

- ``no_volunteers``: there is no available volunteer at all;
- ``no_volunteer_in_reach``: no volunteer lives within both travel limits;
- ``no_shared_language``: volunteers in reach exist, none shares a language;
- ``no_shared_time``: ... none of those shares an availability slot;
- ``preferences_conflict``: ... none of those passes both sides' gender and age preferences;
- ``excluded``: ... the remaining pairs were excluded (declined, ended before, or by staff);
- ``below_min_score``: ... the remaining pairs score below settings.min_score;
- ``all_reachable_volunteers_full``: allowed volunteers exist but all their places are taken.

Runner-up ``why_not`` codes: ``lower_score``, ``at_capacity_with_locked_pairs``,
``taken_by_other_resident`` (its places went to residents for whom the gain was larger),
``tie`` (equal score, broken by input order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from matching import scoring
from matching.scoring import ALLOWED, DEFAULT_WEIGHTS

if TYPE_CHECKING:
    from matching.engine import Pairs, Solution

UNMATCHED_REASONS: dict[str, str] = {
    "no_volunteers": "there are no available volunteers",
    "no_volunteer_in_reach": "no volunteer lives within the travel distance",
    "no_shared_language": "no volunteer in reach shares a language",
    "no_shared_time": "no volunteer in reach with a shared language shares a time slot",
    "preferences_conflict": "the remaining volunteers conflict with gender or age preferences",
    "excluded": "the remaining pairs were excluded before",
    "below_min_score": "the remaining pairs score below the minimum score",
    "all_reachable_volunteers_full": "suitable volunteers exist but all their places are taken",
}
# Funnel stage reached (rules passed) -> reason code.
_FUNNEL = [
    "no_volunteer_in_reach",
    "no_shared_language",
    "no_shared_time",
    "preferences_conflict",
    "excluded",
    "below_min_score",
    "all_reachable_volunteers_full",
]
WHY_NOT: dict[str, str] = {
    "lower_score": "lower score",
    "at_capacity_with_locked_pairs": "at capacity with locked pairs",
    "taken_by_other_resident": "taken by another resident, for whom the gain was larger",
    "tie": "equal score; the tie was broken by input order",
}
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PART_NAMES = ("morning", "afternoon", "evening")
ALTERNATIVES = 3


def round_cost(cost: float) -> float:
    """Costs as reported: 6 decimals, so totals are sums of what is shown."""
    return round(float(cost), 6)


def slot_name(slot: int) -> str:
    """'Mon morning' for slot 0."""
    return f"{DAY_NAMES[slot // 3]} {PART_NAMES[slot % 3]}"


def _bits(words: list[int]) -> list[int]:
    out = []
    for w, word in enumerate(words):
        while word:
            low = word & -word
            out.append(w * 64 + low.bit_length() - 1)
            word ^= low
    return out


def _pair_records(solution: Solution, pairs: Pairs, idx: np.ndarray, locked: bool) -> list[dict]:
    """Output records for the given pairs, built from arrays gathered once."""
    pool = solution.pool
    vols, res = pool.vols, pool.res
    vi, ri = pairs.vi[idx], pairs.ri[idx]
    interests = (vols.interests[vi] & res.interests[ri]).tolist()
    activities = (vols.activities[vi] & res.activities[ri]).tolist()
    slots = (vols.slots[vi] & res.slots[ri]).tolist()
    parts = scoring.score_parts(vols, res, vi, ri, pairs.km[idx], pool.weights)
    parts = {k: np.round(parts[k], 2).tolist() for k in DEFAULT_WEIGHTS}
    scores = np.round(pairs.score[idx], 2).tolist()
    costs = np.round(pairs.cost[idx], 6).tolist()
    kms = pairs.km[idx].tolist()
    days = res.waiting_days[ri].astype(np.int64).tolist()
    records = []
    for n, (v, r) in enumerate(zip(vi.tolist(), ri.tolist())):
        shared_interests = [pool.interests[b] for b in _bits(interests[n])]
        shared_activities = [pool.activities[b] for b in _bits(activities[n])]
        shared_slots = _bits([slots[n]])
        reasons = ["locked by staff"] if locked else []
        if shared_interests:
            reasons.append(f"{len(shared_interests)} shared interest(s): {', '.join(shared_interests)}")
        if shared_activities:
            reasons.append(f"{len(shared_activities)} shared activit(y/ies): {', '.join(shared_activities)}")
        reasons.append(f"{len(shared_slots)} shared time slot(s): {', '.join(slot_name(s) for s in shared_slots)}")
        reasons.append(f"{kms[n]:.1f} km apart")
        if days[n]:
            reasons.append(f"resident waiting {days[n]} days")
        records.append(
            {
                "volunteer": pool.volunteer_ids[v],
                "resident": pool.resident_ids[r],
                "score": scores[n],
                "cost": costs[n],
                "distance_km": round(kms[n], 3),
                "shared_interests": shared_interests,
                "shared_activities": shared_activities,
                "shared_slots": shared_slots,
                "reasons": reasons,
                "parts": {k: parts[k][n] for k in DEFAULT_WEIGHTS},
                "locked": locked,
                "alternatives": [],
            }
        )
    return records


def _runner_ups(solution: Solution, residents: np.ndarray) -> dict[int, list[int]]:
    """Per resident, its ALTERNATIVES + 1 cheapest allowed pairs, cheapest first (ties: volunteer order)."""
    pairs = solution.pairs
    wanted = np.zeros(len(solution.pool.res), dtype=bool)
    wanted[residents] = True
    allowed = np.flatnonzero(pairs.allowed & wanted[pairs.ri])
    if len(allowed) == 0:
        return {}
    # Pairs come grouped by resident: a few rounds of segment minima instead of a full sort.
    ri = pairs.ri[allowed]
    starts = np.flatnonzero(np.r_[True, ri[1:] != ri[:-1]])
    segment = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(ri)]))
    cost = pairs.cost[allowed].copy()
    picked_seg, picked_edge = [], []
    for _ in range(ALTERNATIVES + 1):
        low = np.minimum.reduceat(cost, starts)
        hit = np.flatnonzero(cost == low[segment])
        first = hit[np.r_[True, segment[hit][1:] != segment[hit][:-1]]]
        first = first[np.isfinite(cost[first])]
        picked_seg.append(segment[first])
        picked_edge.append(allowed[first])
        cost[first] = np.inf
    seg = np.concatenate(picked_seg)
    edge = np.concatenate(picked_edge)
    order = np.argsort(seg, kind="stable")
    out: dict[int, list[int]] = {}
    for s, e in zip(seg[order].tolist(), edge[order].tolist()):
        out.setdefault(int(ri[starts[s]]), []).append(e)
    return out


def _alternatives(solution: Solution, options: list[int], n: int) -> list[dict]:
    pairs, pool = solution.pairs, solution.pool
    chosen_v, chosen_cost = int(pairs.vi[n]), float(pairs.cost[n])
    out = []
    for m in options:
        v = int(pairs.vi[m])
        if v == chosen_v:
            continue
        cost = float(pairs.cost[m])
        if cost > chosen_cost + 1e-12:
            code = "lower_score"
        elif solution.locked_count[v] >= pool.vols.capacity[v]:
            code = "at_capacity_with_locked_pairs"
        elif solution.load[v] >= pool.vols.capacity[v]:
            code = "taken_by_other_resident"
        else:
            code = "tie"
        out.append(
            {
                "volunteer": pool.volunteer_ids[v],
                "score": round(float(pairs.score[m]), 2),
                "why_not_code": code,
                "why_not": WHY_NOT[code],
            }
        )
        if len(out) == ALTERNATIVES:
            break
    return out


def funnel_stage(solution: Solution, residents: np.ndarray) -> np.ndarray:
    """Per given resident, how many RULES their best candidate pair passes (ALLOWED = all)."""
    pool, pairs = solution.pool, solution.pairs
    wanted = np.zeros(len(pool.res), dtype=bool)
    wanted[residents] = True
    vi, ri, km = pairs.candidates
    some = np.flatnonzero(wanted[ri])
    stage = scoring.hard_rule_stage(pool.vols, pool.res, vi[some], ri[some], km[some], pool.excluded_keys)
    reached = np.zeros(len(pool.res), dtype=np.int64)
    np.maximum.at(reached, ri[some], stage.astype(np.int64))
    reached[pairs.ri[pairs.allowed & wanted[pairs.ri]]] = ALLOWED
    return reached[residents]


def unmatched_reasons(solution: Solution, residents: np.ndarray) -> list[str]:
    """Reason code per given (unmatched) resident: the first funnel rule nobody gets past."""
    pool, pairs = solution.pool, solution.pairs
    if not pool.available.any():
        return ["no_volunteers"] * len(residents)
    return [_FUNNEL[int(s)] for s in funnel_stage(solution, residents).tolist()]


def describe(solution: Solution) -> dict:
    """The JSON-ready result: pairs in resident order, unmatched residents, stats."""
    pool, pairs, locked = solution.pool, solution.pairs, solution.locked_pairs
    chosen = solution.chosen
    by_resident = _runner_ups(solution, pairs.ri[chosen])
    records = _pair_records(solution, pairs, chosen, locked=False)
    for record, n, r in zip(records, chosen.tolist(), pairs.ri[chosen].tolist()):
        record["alternatives"] = _alternatives(solution, by_resident.get(r, []), n)
    locked_records = _pair_records(solution, locked, np.arange(len(locked.vi)), locked=True)
    resident_of = np.concatenate([pairs.ri[chosen], locked.ri]).tolist()
    entries = sorted(zip(resident_of, records + locked_records), key=lambda e: e[0])
    matched = np.zeros(len(pool.res), dtype=bool)
    matched[np.asarray(resident_of, dtype=np.int64)] = True
    left = np.flatnonzero(~matched)
    unmatched = [
        {"resident": pool.resident_ids[r], "reason": code, "text": UNMATCHED_REASONS[code]}
        for r, code in zip(left.tolist(), unmatched_reasons(solution, left))
    ]
    records = [e[1] for e in entries]
    total = sum(p["cost"] for p in records)
    return {
        "pairs": records,
        "unmatched": unmatched,
        "stats": {
            "residents": len(pool.res),
            "volunteers": len(pool.vols),
            "allowed_pairs": int(solution.usable.sum()),
            "locked": len(locked.vi),
            "matched": len(records),
            "unmatched": len(unmatched),
            "total_cost": round(total, 6),
            "seconds": 0.0,
        },
    }
