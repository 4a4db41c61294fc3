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

from matching.scoring import ALLOWED, DEFAULT_WEIGHTS

if TYPE_CHECKING:
    from matching.engine import Solution

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


def _bits(words: np.ndarray) -> list[int]:
    out = []
    for w, word in enumerate(words.tolist()):
        while word:
            low = word & -word
            out.append(w * 64 + low.bit_length() - 1)
            word ^= low
    return out


def _pair_record(solution: Solution, pairs, n: int, locked: bool) -> dict:
    pool = solution.pool
    v, r = int(pairs.vi[n]), int(pairs.ri[n])
    vols, res = pool.vols, pool.res
    interests = [pool.interests[b] for b in _bits(vols.interests[v] & res.interests[r])]
    activities = [pool.activities[b] for b in _bits(vols.activities[v] & res.activities[r])]
    slots = _bits(np.array([int(vols.slots[v]) & int(res.slots[r])], dtype=np.uint64))
    km = float(pairs.km[n])
    days = int(res.waiting_days[r])
    reasons = []
    if locked:
        reasons.append("locked by staff")
    if interests:
        reasons.append(f"{len(interests)} shared interest(s): {', '.join(interests)}")
    if activities:
        reasons.append(f"{len(activities)} shared activit(y/ies): {', '.join(activities)}")
    reasons.append(f"{len(slots)} shared time slot(s): {', '.join(slot_name(s) for s in slots)}")
    reasons.append(f"{km:.1f} km apart")
    if days:
        reasons.append(f"resident waiting {days} days")
    return {
        "volunteer": pool.volunteer_ids[v],
        "resident": pool.resident_ids[r],
        "score": round(float(pairs.score[n]), 2),
        "cost": round_cost(pairs.cost[n]),
        "distance_km": round(km, 3),
        "shared_interests": interests,
        "shared_activities": activities,
        "shared_slots": slots,
        "reasons": reasons,
        "parts": {k: round(float(pairs.parts[k][n]), 2) for k in DEFAULT_WEIGHTS},
        "locked": locked,
        "alternatives": [],
    }


def _alternatives(solution: Solution, by_resident: dict[int, np.ndarray], n: int) -> list[dict]:
    pairs, pool = solution.pairs, solution.pool
    r, chosen_v, chosen_cost = int(pairs.ri[n]), int(pairs.vi[n]), float(pairs.cost[n])
    options = by_resident.get(r)
    if options is None:
        return []
    out = []
    for m in options.tolist():
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
            {"volunteer": pool.volunteer_ids[v], "score": round(float(pairs.score[m]), 2), "why_not_code": code, "why_not": WHY_NOT[code]}
        )
        if len(out) == ALTERNATIVES:
            break
    return out


def _runner_ups(solution: Solution, residents: np.ndarray) -> dict[int, np.ndarray]:
    """Per resident, the ALTERNATIVES + 1 cheapest allowed pairs, cheapest first."""
    pairs = solution.pairs
    allowed = np.flatnonzero(pairs.stage == ALLOWED)
    wanted = np.zeros(len(solution.pool.res), dtype=bool)
    wanted[residents] = True
    allowed = allowed[wanted[pairs.ri[allowed]]]
    # One sort by (resident, cost, volunteer) instead of one per resident.
    order = allowed[np.lexsort((pairs.vi[allowed], pairs.cost[allowed], pairs.ri[allowed]))]
    r_sorted = pairs.ri[order]
    starts = np.flatnonzero(np.r_[True, r_sorted[1:] != r_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    return {
        int(r_sorted[s]): order[s : min(e, s + ALTERNATIVES + 1)] for s, e in zip(starts.tolist(), ends.tolist())
    }


def unmatched_reasons(solution: Solution, residents: np.ndarray) -> list[str]:
    """Reason code per given (unmatched) resident: the first funnel rule nobody gets past."""
    pool, pairs = solution.pool, solution.pairs
    if not pool.available.any():
        return ["no_volunteers"] * len(residents)
    reached = np.zeros(len(pool.res), dtype=np.int64)
    np.maximum.at(reached, pairs.ri, pairs.stage.astype(np.int64))
    return [_FUNNEL[min(int(reached[r]), ALLOWED)] for r in residents.tolist()]


def describe(solution: Solution) -> dict:
    """The JSON-ready result: pairs in resident order, unmatched residents, stats."""
    pool, pairs, locked = solution.pool, solution.pairs, solution.locked_pairs
    entries: list[tuple[int, dict]] = []
    by_resident = _runner_ups(solution, pairs.ri[solution.chosen])
    for n in solution.chosen.tolist():
        record = _pair_record(solution, pairs, n, locked=False)
        record["alternatives"] = _alternatives(solution, by_resident, n)
        entries.append((int(pairs.ri[n]), record))
    for n in range(len(locked.vi)):
        entries.append((int(locked.ri[n]), _pair_record(solution, locked, n, locked=True)))
    entries.sort(key=lambda e: e[0])
    matched = np.zeros(len(pool.res), dtype=bool)
    matched[[r for r, _ in entries]] = True
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
