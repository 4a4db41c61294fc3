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

import numpy as np

from matching import lasting, scoring
from matching.problem import Pairs, Pool, Solution

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
FACTORS = 3  # features named per pair for its predicted durability


def round_cost(cost: float) -> float:
    """Costs as reported: 6 decimals, so totals are sums of what is shown."""
    return round(float(cost), 6)


def slot_name(slot: int) -> str:
    """'Mon morning' for slot 0."""
    return f"{DAY_NAMES[slot // 3]} {PART_NAMES[slot % 3]}"


def bits(words: list[int]) -> list[int]:
    """The positions of the set bits of packed 64-bit words, lowest first."""
    out = []
    for w, word in enumerate(words):
        while word:
            low = word & -word
            out.append(w * 64 + low.bit_length() - 1)
            word ^= low
    return out


def pair_parts(pool: Pool, vi: np.ndarray, ri: np.ndarray, km: np.ndarray) -> dict[str, np.ndarray]:
    """Points per score part for the given pairs (they add up to the score)."""
    if pool.objective == "durability":
        return lasting.score_parts(pool.model, pool.vols, pool.res, vi, ri, km, pool.weights)
    return scoring.score_parts(pool.vols, pool.res, vi, ri, km, pool.weights)


def _durability(model: lasting.Model, pool: Pool, vi: np.ndarray, ri: np.ndarray, km: np.ndarray):
    """Per pair: predicted P(lasting 26 weeks) and the FACTORS features that move it most, largest first."""
    features = model.features(pool.vols, pool.res, vi, ri, km)
    probability = np.round(model.probability(features), 3).tolist()
    effect = model.contributions(features)
    top = np.argsort(-np.abs(effect), axis=1, kind="stable")[:, :FACTORS]
    factors = []
    for row, (values, effects) in enumerate(zip(features.tolist(), effect.tolist())):
        factors.append(
            [
                {
                    "feature": lasting.FEATURES[k],
                    "value": round(values[k], 2),
                    # A smaller hazard means a longer match.
                    "effect": "raises" if effects[k] < 0 else "lowers",
                }
                for k in top[row].tolist()
                if abs(effects[k]) >= 0.01
            ]
        )
    return probability, factors


def _pair_records(solution: Solution, pairs: Pairs, idx: np.ndarray, locked: bool) -> list[dict]:
    """Output records for the given pairs, built from arrays gathered once."""
    pool = solution.pool
    vols, res = pool.vols, pool.res
    vi, ri = pairs.vi[idx], pairs.ri[idx]
    interests = (vols.interests[vi] & res.interests[ri]).tolist()
    activities = (vols.activities[vi] & res.activities[ri]).tolist()
    slots = (vols.slots[vi] & res.slots[ri]).tolist()
    parts = pair_parts(pool, vi, ri, pairs.km[idx])
    keys = tuple(pool.weights)
    part_rows = list(zip(*(np.round(parts[k], 2).tolist() for k in keys)))
    if pool.model is not None:
        durability, factors = _durability(pool.model, pool, vi, ri, pairs.km[idx])
    scores = np.round(pairs.score[idx], 2).tolist()
    costs = np.round(pairs.cost[idx], 6).tolist()
    kms = pairs.km[idx].tolist()
    days = res.waiting_days[ri].astype(np.int64).tolist()
    # Few distinct shared sets occur: name each once.
    named: dict[tuple[int, tuple[int, ...]], tuple[list, str | None]] = {}

    def shared(kind: int, words: list[int]) -> tuple[list, str | None]:
        key = (kind, tuple(words))
        found = named.get(key)
        if found is None:
            positions = bits(words)
            if kind == 2:
                found = positions, f"{len(positions)} shared time slot(s): {', '.join(slot_name(s) for s in positions)}"
            else:
                names = [(pool.interests, pool.activities)[kind][b] for b in positions]
                label = ("interest(s)", "activit(y/ies)")[kind]
                found = names, f"{len(names)} shared {label}: {', '.join(names)}" if names else None
            named[key] = found
        return found

    records = []
    for n, (v, r) in enumerate(zip(vi.tolist(), ri.tolist())):
        shared_interests, interest_reason = shared(0, interests[n])
        shared_activities, activity_reason = shared(1, activities[n])
        shared_slots, slot_reason = shared(2, [slots[n]])
        reasons = ["locked by staff"] if locked else []
        if interest_reason:
            reasons.append(interest_reason)
        if activity_reason:
            reasons.append(activity_reason)
        reasons.append(slot_reason)
        reasons.append(f"{kms[n]:.1f} km apart")
        if days[n]:
            reasons.append(f"resident waiting {days[n]} days")
        extra = {}
        if pool.model is not None:
            reasons.append(f"expected chance this lasts 26 weeks: {durability[n]:.0%}")
            extra = {"durability": durability[n], "durability_factors": factors[n]}
        records.append(
            {
                "volunteer": pool.volunteer_ids[v],
                "resident": pool.resident_ids[r],
                "score": scores[n],
                "cost": costs[n],
                "distance_km": round(kms[n], 3),
                "shared_interests": list(shared_interests),
                "shared_activities": list(shared_activities),
                "shared_slots": list(shared_slots),
                "reasons": reasons,
                "parts": dict(zip(keys, part_rows[n])),
                "locked": locked,
                "alternatives": [],
                **extra,
            }
        )
    return records


def _cheapest(cost: np.ndarray, starts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(segment, position) of the k cheapest entries of each segment, cheapest first; ties: first position."""
    cost = cost.copy()
    segment = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(cost)]))
    picked_seg, picked_pos = [], []
    for _ in range(k):
        low = np.minimum.reduceat(cost, starts)
        hit = np.flatnonzero(cost == low[segment])
        first = hit[np.r_[True, segment[hit][1:] != segment[hit][:-1]]]
        first = first[np.isfinite(cost[first])]
        picked_seg.append(segment[first])
        picked_pos.append(first)
        cost[first] = np.inf
    seg, pos = np.concatenate(picked_seg), np.concatenate(picked_pos)
    order = np.argsort(seg, kind="stable")
    return seg[order], pos[order]


def _runner_up_edges(solution: Solution, residents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(resident, pair) of each resident's ALTERNATIVES + 1 cheapest allowed pairs, grouped, cheapest first."""
    pairs = solution.pairs
    wanted = np.zeros(len(solution.pool.res), dtype=bool)
    wanted[residents] = True
    allowed = np.flatnonzero(pairs.allowed & wanted[pairs.ri])
    if len(allowed) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    every = len(allowed) == len(pairs.ri)  # then the gathers below would only copy
    # Pairs come grouped by resident. The k-th smallest of a resident's block minima bounds its k-th
    # cheapest pair from above, so only the pairs up to that bound (ties included, order kept) need
    # the rounds of segment minima: the same picks from a small part of the pairs.
    k, block = ALTERNATIVES + 1, 16
    ri = pairs.ri if every else pairs.ri[allowed]
    starts = np.flatnonzero(np.r_[True, ri[1:] != ri[:-1]])
    lengths = np.diff(np.r_[starts, len(ri)])
    cost = pairs.cost if every else pairs.cost[allowed]
    n_blocks = -(-lengths // block)
    first_block = np.cumsum(n_blocks) - n_blocks
    block_starts = np.repeat(starts - first_block * block, n_blocks) + np.arange(int(n_blocks.sum())) * block
    block_min = np.minimum.reduceat(cost, block_starts)
    bound = np.full(len(starts), np.inf)
    seg, pos = _cheapest(block_min, first_block, k)
    last = np.flatnonzero(np.r_[seg[1:] != seg[:-1], True])
    full = last[np.bincount(seg, minlength=len(starts))[seg[last]] == k]
    bound[seg[full]] = block_min[pos[full]]
    near = np.flatnonzero(cost <= np.repeat(bound, lengths))
    near_ri = ri[near]
    near_starts = np.flatnonzero(np.r_[True, near_ri[1:] != near_ri[:-1]])
    seg, pos = _cheapest(cost[near], near_starts, k)
    return near_ri[near_starts[seg]], allowed[near[pos]]


def _runner_ups(solution: Solution, residents: np.ndarray) -> dict[int, list[int]]:
    """Per resident, its ALTERNATIVES + 1 cheapest allowed pairs, cheapest first (ties: volunteer order)."""
    out: dict[int, list[int]] = {}
    for r, e in zip(*(a.tolist() for a in _runner_up_edges(solution, residents))):
        out.setdefault(r, []).append(e)
    return out


def _alternatives(solution: Solution, chosen: np.ndarray) -> dict[int, list[dict]]:
    """Per matched resident, up to ALTERNATIVES runner-up volunteers with why each was not chosen."""
    pairs, pool = solution.pairs, solution.pool
    res_of, edge = _runner_up_edges(solution, pairs.ri[chosen])
    chosen_of = np.zeros(len(pool.res), dtype=np.int64)
    chosen_of[pairs.ri[chosen]] = chosen
    n = chosen_of[res_of]
    v = pairs.vi[edge]
    keep = np.flatnonzero(v != pairs.vi[n])
    res_of, edge, v, n = res_of[keep], edge[keep], v[keep], n[keep]
    starts = np.flatnonzero(np.r_[True, res_of[1:] != res_of[:-1]])
    rank = np.arange(len(res_of)) - np.repeat(starts, np.diff(np.r_[starts, len(res_of)]))
    keep = np.flatnonzero(rank < ALTERNATIVES)
    res_of, edge, v, n = res_of[keep], edge[keep], v[keep], n[keep]
    capacity = pool.vols.capacity[v]
    code = np.where(
        pairs.cost[edge] > pairs.cost[n] + 1e-12, 0,
        np.where(solution.locked_count[v] >= capacity, 1, np.where(solution.load[v] >= capacity, 2, 3)),
    )
    codes = ("lower_score", "at_capacity_with_locked_pairs", "taken_by_other_resident", "tie")
    names = [(c, WHY_NOT[c]) for c in codes]
    out: dict[int, list[dict]] = {}
    ids = pool.volunteer_ids
    for r, vol, score, c in zip(res_of.tolist(), v.tolist(), pairs.score[edge].tolist(), code.tolist()):
        out.setdefault(r, []).append(
            {"volunteer": ids[vol], "score": round(score, 2), "why_not_code": names[c][0], "why_not": names[c][1]}
        )
    return out


def unmatched_reasons(solution: Solution, residents: np.ndarray) -> list[str]:
    """Reason code per given (unmatched) resident: the first funnel rule nobody gets past."""
    if not solution.pool.available.any():
        return ["no_volunteers"] * len(residents)
    return [_FUNNEL[int(s)] for s in solution.funnel[residents].tolist()]


def describe(solution: Solution) -> dict:
    """The JSON-ready result: pairs in resident order, unmatched residents, stats."""
    pool, pairs, locked = solution.pool, solution.pairs, solution.locked_pairs
    chosen = solution.chosen
    alternatives = _alternatives(solution, chosen)
    records = _pair_records(solution, pairs, chosen, locked=False)
    for record, r in zip(records, pairs.ri[chosen].tolist()):
        record["alternatives"] = alternatives.get(r, [])
    locked_records = _pair_records(solution, locked, np.arange(len(locked.vi)), locked=True)
    resident_of = np.concatenate([pairs.ri[chosen], locked.ri])
    every = records + locked_records
    records = [every[i] for i in np.argsort(resident_of, kind="stable").tolist()]
    matched = np.zeros(len(pool.res), dtype=bool)
    matched[resident_of] = True
    left = np.flatnonzero(~matched)
    unmatched = [
        {"resident": pool.resident_ids[r], "reason": code, "text": UNMATCHED_REASONS[code]}
        for r, code in zip(left.tolist(), unmatched_reasons(solution, left))
    ]
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
