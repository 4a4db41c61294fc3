"""The pipeline: parsed records (problem.py) -> allowed pairs and costs -> solve -> explained
proposals."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from matching import explain, geo, lasting, scoring, solver
from matching.problem import Pairs, Pool, Solution, parse
from matching.scoring import ALLOWED, RULES

DENSE_MAX_PAIRS = 40_000  # volunteers x residents up to which every pair is a candidate
EVAL_CHUNK_PAIRS = 200_000  # grid pairs screened and scored at once (a few MB per array: cache-sized)


# ---------------------------------------------------------------- pairs and costs


def _score(pool: Pool, vi: np.ndarray, ri: np.ndarray, km: np.ndarray) -> np.ndarray:
    if pool.objective == "durability":
        parts = lasting.score_parts(pool.model, pool.vols, pool.res, vi, ri, km, pool.weights)
        return parts["durability"] + parts["waiting"]
    return scoring.score(pool.vols, pool.res, vi, ri, km, pool.weights)


def _screened(
    pool: Pool, vi: np.ndarray, ri: np.ndarray, km: np.ndarray, words_checked: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(vi, ri, km, score) of the pairs that pass the hard rules (min_score aside)."""
    keep = scoring.screen(pool.vols, pool.res, vi, ri, km, pool.excluded_keys, words_checked)
    if len(keep) < len(vi):
        vi, ri, km = vi[keep], ri[keep], km[keep]
    return vi, ri, km, _score(pool, vi, ri, km)


def _pairs(pool: Pool, vi: np.ndarray, ri: np.ndarray, km: np.ndarray, score: np.ndarray, candidates: int) -> Pairs:
    # Scores a hair below min_score through rounding still count as reaching it.
    allowed = score >= pool.min_score - 1e-9
    return Pairs(vi, ri, km, score, scoring.score_to_cost(score), allowed, candidates)


def evaluate(pool: Pool, vi: np.ndarray, ri: np.ndarray, km: np.ndarray, words_checked: bool = False) -> Pairs:
    """Screen candidate pairs by the hard rules, then score the survivors."""
    return _pairs(pool, *_screened(pool, vi, ri, km, words_checked), len(vi))


def _in_reach(
    pool: Pool, residents: np.ndarray, method: str, shared_words: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(vi, ri, km, words_checked) of the given residents' pairs within the available volunteers' reach.

    With shared_words, the grid path may already drop the pairs without a shared slot or language
    (words_checked says whether it did), so their exact distances are never computed.
    """
    v_ok = np.flatnonzero(pool.available)
    if method == "dense" or (method == "auto" and len(v_ok) * len(residents) <= DENSE_MAX_PAIRS):
        ri = np.repeat(residents, len(v_ok))
        vi = np.tile(v_ok, len(residents))
        km = geo.indexed_distance_km(pool.vols.points, pool.res.points, vi, ri)
        keep = km <= pool.vols.reach[vi]
        return vi[keep], ri[keep], km[keep], False
    words = scoring.shared_word_filter(pool.vols, pool.res) if shared_words else None
    if words is not None:
        words = (words[0][v_ok], words[1][residents], words[2])
    a, b, km = geo.pairs_within(
        pool.vols.points.take(v_ok), pool.vols.reach[v_ok], pool.res.points.take(residents), words
    )
    return v_ok[a], residents[b], km, words is not None


def candidate_pairs(pool: Pool, method: str = "auto") -> Pairs:
    """Pairs within the volunteers' reach, grouped by resident, evaluated (all pairs when small or dense)."""
    v_ok = np.flatnonzero(pool.available)
    if method == "dense" or (method == "auto" and len(v_ok) * len(pool.res) <= DENSE_MAX_PAIRS) or not len(v_ok):
        return evaluate(pool, *_in_reach(pool, np.arange(len(pool.res)), method, shared_words=True))
    # The grid's chunks are screened and scored while they are still in the cache.
    words = scoring.shared_word_filter(pool.vols, pool.res)
    if words is not None:
        words = (words[0][v_ok], words[1], words[2])
    every = len(v_ok) == len(pool.vols)
    chunks, candidates = [], 0
    for a, ri, km in geo.iter_pairs_within(
        pool.vols.points.take(v_ok), pool.vols.reach[v_ok], pool.res.points, words, min_pairs=EVAL_CHUNK_PAIRS
    ):
        candidates += len(a)
        chunks.append(_screened(pool, a if every else v_ok[a], ri, km, words is not None))
    if not chunks:
        return evaluate(pool, *(np.empty(0, np.int64),) * 2, np.empty(0), words is not None)
    columns = [c[0] if len(chunks) == 1 else np.concatenate(c) for c in zip(*chunks)]
    del chunks
    return _pairs(pool, *columns, candidates)


def funnel_stage(pool: Pool, pairs: Pairs, residents: np.ndarray, method: str = "auto") -> np.ndarray:
    """Per given resident, how many RULES their best pair within reach passes (ALLOWED = all)."""
    if len(residents) == 0:
        return np.zeros(0, dtype=np.int64)
    vi, ri, km, _ = _in_reach(pool, residents, method)
    stage = scoring.hard_rule_stage(pool.vols, pool.res, vi, ri, km, pool.excluded_keys)
    reached = np.zeros(len(pool.res), dtype=np.int64)
    np.maximum.at(reached, ri, stage.astype(np.int64))
    wanted = np.zeros(len(pool.res), dtype=bool)
    wanted[residents] = True
    reached[pairs.ri[pairs.allowed & wanted[pairs.ri]]] = ALLOWED
    return reached[residents]


pair_parts = explain.pair_parts


def _check_locked(pool: Pool) -> Pairs:
    """Evaluate the locked pairs; ValueError if one breaks a hard rule or capacities overflow."""
    lv, lr = pool.locked[:, 0], pool.locked[:, 1]
    km = geo.indexed_distance_km(pool.vols.points, pool.res.points, lv, lr)
    stage = scoring.hard_rule_stage(pool.vols, pool.res, lv, lr, km, pool.excluded_keys)
    seen: set[int] = set()
    for n, (v, r) in enumerate(pool.locked.tolist()):
        name = f"locked pair ({pool.volunteer_ids[v]!r}, {pool.resident_ids[r]!r})"
        if r in seen:
            raise ValueError(f"{name}: resident {pool.resident_ids[r]!r} is in more than one locked pair")
        seen.add(r)
        if not pool.available[v]:
            raise ValueError(f"{name}: volunteer {pool.volunteer_ids[v]!r} is not available")
        if km[n] > pool.vols.reach[v] or stage[n] < ALLOWED - 1:
            rule = "reach" if km[n] > pool.vols.reach[v] else RULES[stage[n]]
            raise ValueError(f"{name} breaks the hard rule {rule!r} ({km[n]:.2f} km apart)")
    counts = np.bincount(lv, minlength=len(pool.vols))
    over = np.flatnonzero(counts > pool.vols.capacity)
    if len(over):
        v = over[0]
        raise ValueError(
            f"volunteer {pool.volunteer_ids[v]!r} has {counts[v]} locked pairs but capacity {pool.vols.capacity[v]}"
        )
    score = _score(pool, lv, lr, km)
    return Pairs(lv, lr, km, score, scoring.score_to_cost(score), np.ones(len(lv), bool), len(lv))


def _quiet(_stage: str) -> None:
    pass


def solve_pool(pool: Pool, method: str = "auto", progress: Callable[[str], None] = _quiet) -> Solution:
    """Allowed pairs, then the lexicographic optimum (max matched, then min cost) around locked pairs.

    `progress` hears "solving" once the pairs are scored.
    """
    locked_pairs = _check_locked(pool)
    pairs = candidate_pairs(pool, method)
    progress("solving")
    locked_count = np.bincount(pool.locked[:, 0], minlength=len(pool.vols))
    free = np.where(pool.available, pool.vols.capacity - locked_count, 0)
    locked_res = np.zeros(len(pool.res), dtype=bool)
    locked_res[pool.locked[:, 1]] = True
    usable = pairs.allowed & (free[pairs.vi] > 0)
    open_pairs = np.flatnonzero(usable & ~locked_res[pairs.ri])
    if len(open_pairs) == len(pairs.ri):  # every pair is open: no copies needed
        chosen = solver.assign_edges(pairs.ri, pairs.vi, pairs.cost, len(pool.res), free, method)
    else:  # the open pairs' copies as int32: at national scale they are the base of the solve's peak
        chosen = open_pairs[
            solver.assign_edges(
                pairs.ri[open_pairs].astype(np.int32), pairs.vi[open_pairs].astype(np.int32),
                pairs.cost[open_pairs], len(pool.res), free, method
            )
        ]
    load = locked_count + np.bincount(pairs.vi[chosen], minlength=len(pool.vols))
    funnel = np.full(len(pool.res), -1, dtype=np.int64)
    left = ~locked_res
    left[pairs.ri[chosen]] = False
    left = np.flatnonzero(left)
    funnel[left] = funnel_stage(pool, pairs, left, method)
    return Solution(pool, pairs, locked_pairs, usable, chosen, locked_count, load, funnel)


# ---------------------------------------------------------------- the dict API


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    # Parsing and describing allocate a container per record; each allocation threshold would make
    # the cyclic collector rescan the caller's (large) input: 2.3x slower at 100k records. Nothing
    # here creates reference cycles. Re-enabled only by whoever disabled it.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def solve(problem: dict, method: str = "auto", progress: Callable[[str], None] = _quiet) -> dict:
    """Proposals for a problem dict: pairs with explanations, unmatched residents with reasons, stats.

    `progress` hears each stage as it starts: "pairs" (parse, pairs in reach, scores), "solving",
    "explaining".
    """
    start = time.perf_counter()
    with _without_cyclic_gc():
        progress("pairs")
        pool = parse(problem)
        solution = solve_pool(pool, method, progress)
        progress("explaining")
        result = explain.describe(solution)
    result["stats"]["seconds"] = round(time.perf_counter() - start, 4)
    return result


def cost_matrix(problem: dict, method: str = "auto") -> dict:
    """The cost of every pair the solver may use (null where forbidden), one row per resident."""
    with _without_cyclic_gc():
        return _cost_matrix(problem, method)


def _cost_matrix(problem: dict, method: str) -> dict:
    pool = parse(problem)
    locked_pairs = _check_locked(pool)
    pairs = candidate_pairs(pool, method)
    locked_count = np.bincount(pool.locked[:, 0], minlength=len(pool.vols))
    free = np.where(pool.available, pool.vols.capacity - locked_count, 0)
    usable = np.flatnonzero(pairs.allowed & (free[pairs.vi] > 0))
    matrix: list[list[float | None]] = [[None] * len(pool.vols) for _ in pool.res.lat]
    for v, r, c in zip(pairs.vi[usable].tolist(), pairs.ri[usable].tolist(), pairs.cost[usable].tolist()):
        matrix[r][v] = explain.round_cost(c)
    for (v, r), c in zip(pool.locked.tolist(), locked_pairs.cost.tolist()):
        matrix[r][v] = explain.round_cost(c)
    return {"volunteers": pool.volunteer_ids, "residents": pool.resident_ids, "cost": matrix}
