"""Which of the network's group activities suit which waiting residents (numpy only).

All residents x all activities in one pass, with the engine's own distance (geo) and its
overlap measure (scoring: shared / the smaller set). Hard rules: the activity lies within the
resident's reach (their own travel limit, else REACH_KM), it meets at a time the resident is
free, it is meant for the resident's target group (no groups named: for everyone), and, when a
resident's need is given, it is wheelchair accessible. The score is 0-100:
``100 * (WEIGHTS . (interest overlap, time overlap, 1 - km / reach))``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching import geo

REACH_KM = 3.0
WEIGHTS = {"interests": 0.5, "times": 0.25, "distance": 0.25}
TOP = 5


@dataclass(frozen=True)
class Group:
    """One side as arrays: residents or activities."""

    lat: np.ndarray
    lon: np.ndarray
    interests: np.ndarray  # uint64 (n, words), bit-packed over a shared vocabulary
    slots: np.ndarray  # int64 bit mask of the 21 weekly slots
    groups: np.ndarray  # int64 bit mask of target groups (activities: 0 = everyone)
    reach: np.ndarray | None = None  # residents: km (nan = REACH_KM)
    wheelchair: np.ndarray | None = None  # residents: needs it; activities: accessible


@dataclass(frozen=True)
class Ranking:
    activity: np.ndarray  # (residents, top) index, -1 where fewer fit
    score: np.ndarray  # (residents, top), nan where none
    km: np.ndarray
    shared_interests: np.ndarray  # (residents, top, words) uint64
    shared_slots: np.ndarray  # (residents, top) int64 mask


def _count(words: np.ndarray) -> np.ndarray:
    return np.bitwise_count(words).sum(axis=-1).astype(np.float64)


def rank(residents: Group, activities: Group, top: int = TOP) -> Ranking:
    """The `top` best-fitting activities per resident, best first (ties: the lower index)."""
    n, m = len(residents.lat), len(activities.lat)
    if n == 0 or m == 0:
        empty = np.full((n, top), -1, dtype=np.int64)
        return Ranking(empty, np.full((n, top), np.nan), np.full((n, top), np.nan),
                       np.zeros((n, top, residents.interests.shape[1]), np.uint64), np.zeros((n, top), np.int64))
    a = geo.Points.from_degrees(residents.lat, residents.lon)
    b = geo.Points.from_degrees(activities.lat, activities.lon)
    km = geo.indexed_distance_km(a, b, np.repeat(np.arange(n), m), np.tile(np.arange(m), n)).reshape(n, m)
    own = residents.reach if residents.reach is not None else np.full(n, np.nan)
    reach = np.where(np.isnan(own), REACH_KM, own)[:, None]
    slots = residents.slots[:, None] & activities.slots[None, :]
    ok = (km <= reach) & (slots != 0)
    ok &= (activities.groups[None, :] == 0) | ((activities.groups[None, :] & residents.groups[:, None]) != 0)
    if residents.wheelchair is not None:
        ok &= ~residents.wheelchair[:, None] | activities.wheelchair[None, :]
    shared = np.zeros((n, m))
    for w in range(residents.interests.shape[1]):
        shared += np.bitwise_count(residents.interests[:, w][:, None] & activities.interests[:, w][None, :])
    interests = shared / np.maximum(np.minimum(_count(residents.interests)[:, None],
                                               _count(activities.interests)[None, :]), 1.0)
    times = np.bitwise_count(slots) / np.maximum(np.minimum(
        np.bitwise_count(residents.slots)[:, None], np.bitwise_count(activities.slots)[None, :]), 1)
    score = 100.0 * (WEIGHTS["interests"] * interests + WEIGHTS["times"] * times
                     + WEIGHTS["distance"] * np.clip(1.0 - km / reach, 0.0, 1.0))
    score = np.where(ok, score, -np.inf)
    k = min(top, m)
    # Best first; the stable sort on -score keeps the lower index first among equals.
    order = np.argsort(-score, axis=1, kind="stable")[:, :k]
    best = np.take_along_axis(score, order, axis=1)
    found = np.isfinite(best)
    activity = np.where(found, order, -1)
    rows = np.arange(n)[:, None]
    out_activity = np.full((n, top), -1, dtype=np.int64)
    out_activity[:, :k] = activity
    out_score = np.full((n, top), np.nan)
    out_score[:, :k] = np.where(found, best, np.nan)
    out_km = np.full((n, top), np.nan)
    out_km[:, :k] = np.where(found, km[rows, order], np.nan)
    out_shared = np.zeros((n, top, residents.interests.shape[1]), np.uint64)
    out_shared[:, :k] = np.where(found[..., None], residents.interests[:, None, :] & activities.interests[order], 0)
    out_slots = np.zeros((n, top), np.int64)
    out_slots[:, :k] = np.where(found, slots[rows, order], 0)
    return Ranking(out_activity, out_score, out_km, out_shared, out_slots)
