"""People's features -> hard rules and a 0-100 score per pair (numpy only).

A pair's score is the sum of its parts; each part is ``100 * weight / sum(weights) * similarity``
with a similarity in [0, 1]:

- interests, activities: shared tags / tags of the person with fewer tags (0 if either has none);
- availability: shared weekly slots / slots of the person with fewer slots;
- distance: ``1 - km / reach`` with reach the smaller of both travel limits (closer is better);
- waiting: ``days / (days + WAITING_HALF_DAYS)`` of the resident, strictly increasing, so of two
  otherwise alike residents the one who waited longer has the cheaper pairs.

The cost the solver minimises is ``(100 - score) / 100``, in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.geo import Points

DEFAULT_WEIGHTS: dict[str, float] = {
    "interests": 30.0,
    "activities": 15.0,
    "availability": 20.0,
    "distance": 20.0,
    "waiting": 15.0,
}
WAITING_HALF_DAYS = 180.0
SLOTS = 21  # day * 3 + part; day 0 = Monday; part 0/1/2 = morning/afternoon/evening

# The hard rules in the order the "why unmatched" funnel applies them.
RULES = ("reach", "language", "time", "preferences", "excluded", "min_score")
ALLOWED = len(RULES)


@dataclass(frozen=True)
class People:
    """One side of the pool as arrays; tag sets are bit-packed uint64 rows."""

    lat: np.ndarray
    lon: np.ndarray
    reach: np.ndarray  # km; inf = no limit of their own
    languages: np.ndarray  # uint64 (n, words)
    interests: np.ndarray
    activities: np.ndarray
    slots: np.ndarray  # int64, bit s set = available in slot s
    gender: np.ndarray  # int64, one bit per gender code; 0 = unknown
    age: np.ndarray  # float64; nan = unknown
    pref_gender: np.ndarray  # int64 mask of accepted gender bits; 0 = no preference
    pref_min_age: np.ndarray  # float64; -inf = none
    pref_max_age: np.ndarray  # float64; inf = none
    capacity: np.ndarray  # int64
    waiting_days: np.ndarray  # float64
    commitment: np.ndarray  # float64 months the person means to keep a match going; nan = unknown
    points: Points  # the homes in radians with their distance scales

    def __len__(self) -> int:
        return len(self.lat)


def pack_tags(tag_lists: list[list[str]], vocabulary: dict[str, int]) -> np.ndarray:
    """Bit-pack tag lists into a (n, words) uint64 matrix, one bit per vocabulary entry."""
    words = max(1, -(-len(vocabulary) // 64))
    bit = {tag: 1 << i for tag, i in vocabulary.items()}
    known: dict[tuple[str, ...], int] = {}  # many people share a tag list (languages, activities)
    masks = []
    for tags in tag_lists:
        key = tuple(tags)
        mask = known.get(key)
        if mask is None:
            mask = 0
            for tag in tags:
                mask |= bit[tag]
            known[key] = mask
        masks.append(mask)
    if words == 1:
        return np.array(masks, dtype=np.uint64).reshape(len(masks), 1)
    low = (1 << 64) - 1
    return np.array([[(m >> (64 * w)) & low for w in range(words)] for m in masks], dtype=np.uint64).reshape(
        len(masks), words
    )


def _shared(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Number of common bits per row pair of two packed matrices."""
    if a.shape[1] == 1:
        return np.bitwise_count(a[:, 0] & b[:, 0]).astype(np.float64)
    return np.bitwise_count(a & b).sum(axis=1, dtype=np.float64)


def _tag_counts(packed: np.ndarray) -> np.ndarray:
    return np.bitwise_count(packed).sum(axis=1, dtype=np.float64)


def _overlap(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    # shared is 0 whenever a set is empty, so dividing by max(smaller, 1) gives 0 there.
    return shared / np.maximum(np.minimum(size_a, size_b), 1.0)


def _accepts(chooser: People, ci: np.ndarray, other: People, oi: np.ndarray) -> np.ndarray:
    """Whether the chooser's gender and age preferences accept the other person."""
    pref = chooser.pref_gender[ci]
    ok = (pref == 0) | ((pref & other.gender[oi]) != 0)
    low, high, age = chooser.pref_min_age[ci], chooser.pref_max_age[ci], other.age[oi]
    with np.errstate(invalid="ignore"):
        ok &= np.isneginf(low) | (age >= low)
        ok &= np.isposinf(high) | (age <= high)
    return ok


def _has_preferences(people: People) -> np.ndarray:
    return (people.pref_gender != 0) | np.isfinite(people.pref_min_age) | np.isfinite(people.pref_max_age)


def _rule_checks(vols: People, res: People, excluded_keys: np.ndarray):
    """The hard rules as (v, r, km) -> ok predicates, in RULES order (min_score aside)."""
    pref_v, pref_r = _has_preferences(vols), _has_preferences(res)

    def reach(v, r, km):
        return km <= np.minimum(vols.reach[v], res.reach[r])

    def language(v, r, km):
        if vols.languages.shape[1] == 1:
            return (vols.languages[v, 0] & res.languages[r, 0]) != 0
        return ((vols.languages[v] & res.languages[r]) != 0).any(axis=1)

    def time(v, r, km):
        return (vols.slots[v] & res.slots[r]) != 0

    def preferences(v, r, km):
        # Most people state no preference: only pairs where someone does are checked.
        ok = np.ones(len(v), dtype=bool)
        some = np.flatnonzero(pref_v[v] | pref_r[r])
        sv, sr = v[some], r[some]
        ok[some] = _accepts(vols, sv, res, sr) & _accepts(res, sr, vols, sv)
        return ok

    def excluded(v, r, km):
        if len(excluded_keys) == 0:
            return np.ones(len(v), dtype=bool)
        keys = v.astype(np.int64) * len(res) + r
        pos = np.minimum(np.searchsorted(excluded_keys, keys), len(excluded_keys) - 1)
        return excluded_keys[pos] != keys

    return [reach, language, time, preferences, excluded]


def hard_rule_stage(
    vols: People, res: People, vi: np.ndarray, ri: np.ndarray, km: np.ndarray, excluded_keys: np.ndarray
) -> np.ndarray:
    """Per pair, how many hard rules (RULES order, min_score aside) it passes before the first failure."""
    stage = np.zeros(len(vi), dtype=np.int8)
    idx = np.arange(len(vi))
    for k, check in enumerate(_rule_checks(vols, res, excluded_keys), start=1):
        idx = idx[check(vi[idx], ri[idx], km[idx])]
        stage[idx] = k
    return stage


_LANGUAGE_SHIFT = SLOTS
_PREFERENCE_BIT = np.uint64(1 << 63)
_SLOT_BITS = np.uint64((1 << SLOTS) - 1)
_LANGUAGE_BITS = np.uint64(((1 << 63) - 1) ^ ((1 << SLOTS) - 1))


def _rule_words(people: People) -> np.ndarray | None:
    """Slots, languages and "has preferences" in one uint64 per person (None if too many languages)."""
    if people.languages.shape[1] != 1 or (people.languages[:, 0] >> np.uint64(63 - _LANGUAGE_SHIFT)).any():
        return None
    words = people.slots.astype(np.uint64) | (people.languages[:, 0] << np.uint64(_LANGUAGE_SHIFT))
    return words | np.where(_has_preferences(people), _PREFERENCE_BIT, np.uint64(0))


def shared_word_filter(vols: People, res: People) -> tuple[np.ndarray, np.ndarray, tuple[int, int]] | None:
    """Rule words per side and the bit groups a pair must share (slots, languages), for geo.pairs_within."""
    word_v, word_r = _rule_words(vols), _rule_words(res)
    if word_v is None or word_r is None:
        return None
    return word_v, word_r, (int(_SLOT_BITS), int(_LANGUAGE_BITS))


def screen(
    vols: People, res: People, vi: np.ndarray, ri: np.ndarray, km: np.ndarray, excluded_keys: np.ndarray,
    words_checked: bool = False,
) -> np.ndarray:
    """Indices of the pairs that pass every hard rule; the pairs must be within the volunteers' reach.

    words_checked: every pair is known to share a slot and a language (geo.pairs_within tested it).
    """
    if words_checked:
        ok = np.ones(len(vi), dtype=bool)
        has_pref = _has_preferences(vols).take(vi)
        has_pref |= _has_preferences(res).take(ri)
    else:
        word_v, word_r = _rule_words(vols), _rule_words(res)
        if word_v is None or word_r is None:
            return np.flatnonzero(hard_rule_stage(vols, res, vi, ri, km, excluded_keys) == len(RULES) - 1)
        # One gather per side for the cheap rules; preferences and exclusions only where they apply.
        gv, gr = word_v[vi], word_r[ri]
        both = gv & gr
        ok = (both & _SLOT_BITS) != 0
        ok &= (both & _LANGUAGE_BITS) != 0
        has_pref = ((gv | gr) & _PREFERENCE_BIT) != 0
    if np.isfinite(res.reach).any():
        ok &= km <= res.reach.take(ri)
    some = np.flatnonzero(ok & has_pref)
    if len(some):
        sv, sr = vi[some], ri[some]
        ok[some] = _accepts(vols, sv, res, sr) & _accepts(res, sr, vols, sv)
    if len(excluded_keys):
        some = np.flatnonzero(ok)
        keys = vi[some].astype(np.int64) * len(res) + ri[some]
        pos = np.minimum(np.searchsorted(excluded_keys, keys), len(excluded_keys) - 1)
        ok[some] = excluded_keys[pos] != keys
    return np.flatnonzero(ok)


def score_parts(
    vols: People,
    res: People,
    vi: np.ndarray,
    ri: np.ndarray,
    km: np.ndarray,
    weights: dict[str, float],
) -> dict[str, np.ndarray]:
    """Points per part for each pair; the parts add up to the pair's 0-100 score."""
    total = sum(weights.values())
    scale = {k: 100.0 * w / total for k, w in weights.items()}
    parts = {}
    for name in ("interests", "activities"):
        a, b = getattr(vols, name), getattr(res, name)
        sim = _overlap(_shared(a[vi], b[ri]), _tag_counts(a)[vi], _tag_counts(b)[ri])
        parts[name] = scale[name] * sim
    shared_slots = np.bitwise_count(vols.slots[vi] & res.slots[ri]).astype(np.float64)
    parts["availability"] = scale["availability"] * _overlap(
        shared_slots,
        np.bitwise_count(vols.slots).astype(np.float64)[vi],
        np.bitwise_count(res.slots).astype(np.float64)[ri],
    )
    reach = np.minimum(vols.reach[vi], res.reach[ri])
    parts["distance"] = scale["distance"] * np.clip(1.0 - km / reach, 0.0, 1.0)
    parts["waiting"] = scale["waiting"] * waiting_similarity(res, ri)
    return parts


def waiting_similarity(res: People, ri: np.ndarray) -> np.ndarray:
    """days / (days + WAITING_HALF_DAYS) of each pair's resident."""
    days = res.waiting_days[ri]
    return days / (days + WAITING_HALF_DAYS)


def _overlap_points(a: np.ndarray, b: np.ndarray, vi: np.ndarray, ri: np.ndarray, scale: float) -> np.ndarray:
    """scale * _overlap per pair, looked up in a table of (shared, smaller size): the same float ops."""
    size_a, size_b = np.bitwise_count(a).sum(axis=1), np.bitwise_count(b).sum(axis=1)
    k = int(max(size_a.max(initial=0), size_b.max(initial=0))) + 1
    # ndarray.take: the same gather as fancy indexing, with less overhead per element.
    if a.shape[1] == 1:
        shared = np.ascontiguousarray(a[:, 0]).take(vi)
        shared &= np.ascontiguousarray(b[:, 0]).take(ri)
        shared = np.bitwise_count(shared)
    else:
        shared = np.bitwise_count(a[vi] & b[ri]).sum(axis=1)
    if k > 1024:  # a huge vocabulary: the formula, not a k x k table
        sizes = size_a[vi].astype(np.float64), size_b[ri].astype(np.float64)
        return scale * _overlap(shared.astype(np.float64), *sizes)
    steps = np.arange(k, dtype=np.float64)
    table = scale * _overlap(steps[:, None], steps[None, :], steps[None, :])
    index = shared.astype(np.int32)
    index *= k
    index += np.minimum(size_a.astype(np.int32).take(vi), size_b.astype(np.int32).take(ri))
    return table.ravel().take(index)


def score(
    vols: People, res: People, vi: np.ndarray, ri: np.ndarray, km: np.ndarray, weights: dict[str, float]
) -> np.ndarray:
    """The 0-100 score per pair: the sum of score_parts, with equal bits, from small lookup tables."""
    total = sum(weights.values())
    scale = {k: 100.0 * w / total for k, w in weights.items()}
    out = _overlap_points(vols.interests, res.interests, vi, ri, scale["interests"])
    out += _overlap_points(vols.activities, res.activities, vi, ri, scale["activities"])
    slots_v, slots_r = vols.slots.astype(np.uint64)[:, None], res.slots.astype(np.uint64)[:, None]
    out += _overlap_points(slots_v, slots_r, vi, ri, scale["availability"])
    reach = vols.reach.take(vi)
    if np.isfinite(res.reach).any():
        np.minimum(reach, res.reach.take(ri), out=reach)
    part = np.divide(km, reach, out=reach)
    np.subtract(1.0, part, out=part)
    np.clip(part, 0.0, 1.0, out=part)
    part *= scale["distance"]
    out += part
    days = res.waiting_days
    out += (scale["waiting"] * (days / (days + WAITING_HALF_DAYS))).take(ri)
    return out


def score_to_cost(score: np.ndarray) -> np.ndarray:
    """Cost in [0, 1] the solver minimises: (100 - score) / 100."""
    return (100.0 - score) / 100.0
