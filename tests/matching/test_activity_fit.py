"""The activity ranking against a plain loop over every (resident, activity) pair."""
from __future__ import annotations

import math

import numpy as np
import pytest

from matching import activity_fit, geo


def _random(rng, n, words=1, groups=5):
    return dict(
        lat=52.09 + rng.uniform(-0.05, 0.05, n), lon=5.12 + rng.uniform(-0.08, 0.08, n),
        interests=rng.integers(0, 2**12, size=(n, words), dtype=np.uint64),
        slots=rng.integers(0, 2**21, size=n, dtype=np.int64) & rng.integers(0, 2**21, size=n, dtype=np.int64),
        groups=np.where(rng.random(n) < 0.5, 0, 1 << rng.integers(0, groups, size=n)).astype(np.int64),
    )


def _plain(res, act, top):
    out = []
    for r in range(len(res["lat"])):
        reach = res["reach"][r] if not math.isnan(res["reach"][r]) else activity_fit.REACH_KM
        found = []
        for a in range(len(act["lat"])):
            km = float(geo.pair_distance_km(np.array([res["lat"][r]]), np.array([res["lon"][r]]),
                                            np.array([act["lat"][a]]), np.array([act["lon"][a]]))[0])
            shared_slots = int(res["slots"][r]) & int(act["slots"][a])
            if km > reach or not shared_slots:
                continue
            if act["groups"][a] and not (int(act["groups"][a]) & int(res["groups"][r])):
                continue
            if res["wheelchair"][r] and not act["wheelchair"][a]:
                continue
            ri, ai = int(res["interests"][r, 0]), int(act["interests"][a, 0])
            interests = bin(ri & ai).count("1") / max(min(bin(ri).count("1"), bin(ai).count("1")), 1)
            times = bin(shared_slots).count("1") / max(min(bin(int(res["slots"][r])).count("1"),
                                                           bin(int(act["slots"][a])).count("1")), 1)
            score = 100 * (0.5 * interests + 0.25 * times + 0.25 * max(0.0, min(1.0, 1 - km / reach)))
            found.append((-score, a, km))
        found.sort()
        out.append(found[:top])
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_ranking_equals_a_plain_loop(seed):
    rng = np.random.default_rng(seed)
    res = _random(rng, 40)
    res["groups"] = (1 << rng.integers(0, 5, size=40)).astype(np.int64)
    res["reach"] = np.where(rng.random(40) < 0.5, np.nan, rng.uniform(1, 6, 40))
    res["wheelchair"] = rng.random(40) < 0.2
    act = _random(rng, 25)
    act["wheelchair"] = rng.random(25) < 0.5
    found = activity_fit.rank(activity_fit.Group(**res), activity_fit.Group(**act), top=5)
    expected = _plain(res, act, 5)
    for r, rows in enumerate(expected):
        got = [a for a in found.activity[r].tolist() if a >= 0]
        assert got == [a for _s, a, _km in rows]
        for k, (score, _a, km) in enumerate(rows):
            assert found.score[r, k] == pytest.approx(-score, abs=1e-9)
            assert found.km[r, k] == pytest.approx(km, abs=1e-9)
            assert int(found.shared_slots[r, k]) == int(res["slots"][r]) & int(act["slots"][rows[k][1]])
        assert np.isnan(found.score[r, len(rows):]).all()


def test_no_activities_or_residents():
    rng = np.random.default_rng(0)
    res = activity_fit.Group(**_random(rng, 3), reach=np.full(3, np.nan))
    none = activity_fit.Group(**{k: v[:0] for k, v in _random(rng, 1).items()})
    assert (activity_fit.rank(res, none).activity == -1).all()
