"""The engine end to end: brute-force optimum, hard rules, locks, waiting priority, determinism."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest
from geopy.distance import geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import engine
from tests.matching.records import problem, resident, volunteer

TAGS = ["koken", "lezen", "wandelen", "muziek", "tuin"]


@st.composite
def small_problems(draw):
    """<= 4 volunteers, <= 5 residents within ~6 km, capacities 1-2, random rules and locks."""
    def person(prefix: str, i: int) -> dict:
        record = {
            "id": f"{prefix}{i}",
            "lat": 52.09 + draw(st.integers(-20, 20)) / 1000,
            "lon": 5.12 + draw(st.integers(-30, 30)) / 1000,
            "languages": draw(st.sampled_from([["nl"], ["nl"], ["nl", "en"], ["en"], ["tr"]])),
            "interests": draw(st.lists(st.sampled_from(TAGS), max_size=3, unique=True)),
            "activities": draw(st.lists(st.sampled_from(["koffie", "markt"]), max_size=2, unique=True)),
            "availability": draw(st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True)),
            "gender": draw(st.sampled_from(["f", "m", None])),
            "birth_year": draw(st.sampled_from([1940, 1960, 1990, None])),
            "prefers": {
                "gender": draw(st.sampled_from([None] * 6 + ["f", "m"])),
                "min_age": None,
                "max_age": draw(st.sampled_from([None] * 6 + [70])),
            },
        }
        if prefix == "v":
            record["capacity"] = draw(st.integers(1, 2))
            record["max_travel_km"] = float(draw(st.integers(1, 6)))
        else:
            record["waiting_since"] = f"2026-{draw(st.integers(1, 11)):02d}-{draw(st.integers(1, 28)):02d}"
            record["max_travel_km"] = draw(st.sampled_from([None, None, 3.0]))
        return record

    vols = [person("v", i) for i in range(draw(st.integers(0, 4)))]
    ress = [person("r", i) for i in range(draw(st.integers(0, 5)))]
    excluded = draw(st.lists(st.tuples(st.sampled_from(vols), st.sampled_from(ress)), max_size=3)) if vols and ress else []
    p = problem(vols, ress, excluded=[[v["id"], r["id"]] for v, r in excluded])
    p["settings"]["min_score"] = draw(st.sampled_from([0, 0, 0, 30, 50]))
    # Lock some pairs that pass the hard rules, within capacity, one per resident.
    costs = engine.cost_matrix(p)["cost"]
    locked, load, taken = [], {}, set()
    for ri, row in enumerate(costs):
        for vi, c in enumerate(row):
            v = vols[vi]
            if c is not None and ri not in taken and load.get(vi, 0) < v["capacity"] and draw(st.integers(0, 4)) == 0:
                locked.append([v["id"], ress[ri]["id"]])
                load[vi] = load.get(vi, 0) + 1
                taken.add(ri)
    p["locked"] = locked
    return p


def brute_force(p: dict) -> tuple[int, float]:
    """(matched, total cost) of the lexicographic optimum, locks fixed, by enumeration."""
    table = engine.cost_matrix(p)
    cost, vols, ress = table["cost"], table["volunteers"], table["residents"]
    cap = {v["id"]: v["capacity"] for v in p["volunteers"]}
    locked = {r: v for v, r in p["locked"]}
    options = []
    for ri, rid in enumerate(ress):
        if rid in locked:
            options.append([vols.index(locked[rid])])
        else:
            options.append([None] + [vi for vi, c in enumerate(cost[ri]) if c is not None])
    best = (-1, 0.0)
    for choice in itertools.product(*options):
        used = {}
        for vi in choice:
            if vi is not None:
                used[vols[vi]] = used.get(vols[vi], 0) + 1
        if any(n > cap[v] for v, n in used.items()):
            continue
        matched = sum(vi is not None for vi in choice)
        total = sum(cost[ri][vi] for ri, vi in enumerate(choice) if vi is not None)
        if matched > best[0] or (matched == best[0] and total < best[1] - 1e-12):
            best = (matched, total)
    return best


def age(record: dict) -> int | None:
    return None if record["birth_year"] is None else 2026 - record["birth_year"]


def accepts(chooser: dict, other: dict) -> bool:
    pref = chooser["prefers"]
    if pref["gender"] is not None and other["gender"] != pref["gender"]:
        return False
    if pref["max_age"] is not None and (age(other) is None or age(other) > pref["max_age"]):
        return False
    return True


def check_rules(p: dict, result: dict) -> None:
    """Every proposal obeys the hard rules, capacities and locks (checked independently)."""
    vols = {v["id"]: v for v in p["volunteers"]}
    ress = {r["id"]: r for r in p["residents"]}
    excluded = {tuple(e) for e in p["excluded"]}
    locked = {tuple(e) for e in p["locked"]}
    seen_res = set()
    load = {}
    for pair in result["pairs"]:
        v, r = vols[pair["volunteer"]], ress[pair["resident"]]
        assert r["id"] not in seen_res
        seen_res.add(r["id"])
        load[v["id"]] = load.get(v["id"], 0) + 1
        assert pair["locked"] == ((v["id"], r["id"]) in locked)
        km = geodesic((v["lat"], v["lon"]), (r["lat"], r["lon"])).km
        limit = min(v["max_travel_km"], r["max_travel_km"] or math.inf)
        assert km <= limit + 0.01
        assert set(v["languages"]) & set(r["languages"])
        assert set(v["availability"]) & set(r["availability"])
        assert accepts(v, r) and accepts(r, v)
        assert (v["id"], r["id"]) not in excluded
        if not pair["locked"]:
            assert pair["score"] >= p["settings"]["min_score"] - 0.01
        assert sum(pair["parts"].values()) == pytest.approx(pair["score"], abs=0.03)
        assert pair["cost"] == pytest.approx((100 - pair["score"]) / 100, abs=1e-4)
    assert all(n <= vols[v]["capacity"] for v, n in load.items())
    assert locked <= {(q["volunteer"], q["resident"]) for q in result["pairs"]}
    assert result["stats"]["total_cost"] == pytest.approx(sum(q["cost"] for q in result["pairs"]), abs=1e-9)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_matches_brute_force_and_rules(p):
    want = brute_force(p)
    for method in ("dense", "sparse"):
        result = engine.solve(copy.deepcopy(p), method=method)
        check_rules(p, result)
        assert result["stats"]["matched"] == max(want[0], 0)
        assert result["stats"]["total_cost"] == pytest.approx(want[1], abs=1e-5)
        assert len(result["pairs"]) + len(result["unmatched"]) == len(p["residents"])


def test_longer_waiting_resident_gets_the_only_volunteer():
    residents = [resident("r1", waiting_since="2026-10-01"), resident("r2", waiting_since="2025-10-01")]
    result = engine.solve(problem([volunteer()], residents))
    assert [(q["volunteer"], q["resident"]) for q in result["pairs"]] == [("v1", "r2")]
    assert result["unmatched"] == [{"resident": "r1", "reason": "all_reachable_volunteers_full",
                                    "text": result["unmatched"][0]["text"]}]
    assert result["pairs"][0]["alternatives"] == []


def test_waiting_priority_never_costs_a_match():
    # r_old only fits v1; r_new fits v1 and v2: both get matched, whoever waited longer.
    vols = [volunteer("v1"), volunteer("v2", languages=["tr"])]
    ress = [resident("r_new", waiting_since="2026-11-01", languages=["nl", "tr"]),
            resident("r_old", waiting_since="2024-01-01")]
    result = engine.solve(problem(vols, ress))
    assert {(q["volunteer"], q["resident"]) for q in result["pairs"]} == {("v1", "r_old"), ("v2", "r_new")}


def test_hand_computed_score():
    # Same interest and activity sets, 1 of 2 slots shared, 1.0 km of 5 km, 212 days waited.
    result = engine.solve(problem([volunteer()], [resident()]))
    pair = result["pairs"][0]
    km = pair["distance_km"]
    assert km == pytest.approx(geodesic((52.0907, 5.1214), (52.0997, 5.1214)).km, abs=0.001)
    expect = {
        "interests": 30.0, "activities": 15.0, "availability": 10.0,
        "distance": round(20 * (1 - km / 5), 2), "waiting": round(15 * 212 / (212 + 180), 2),
    }
    assert pair["parts"] == pytest.approx(expect, abs=0.011)
    assert pair["shared_interests"] == ["koken"] and pair["shared_slots"] == [0]
    assert pair["score"] == pytest.approx(sum(expect.values()), abs=0.02)


def test_weights_are_configurable():
    p = problem([volunteer()], [resident()])
    p["settings"]["weights"] = {"interests": 1, "activities": 0, "availability": 0, "distance": 0, "waiting": 0}
    pair = engine.solve(p)["pairs"][0]
    assert pair["score"] == 100.0 and pair["cost"] == 0.0


def test_locked_pair_is_kept_even_when_a_better_one_exists():
    vols = [volunteer("v1"), volunteer("v2", lat=52.12)]
    p = problem(vols, [resident()], locked=[["v2", "r1"]])
    result = engine.solve(p)
    assert [(q["volunteer"], q["locked"]) for q in result["pairs"]] == [("v2", True)]


def test_why_not_codes():
    # v1 is the best for both r1 and r2 but has one place; v2 is full with a locked pair.
    vols = [volunteer("v1"), volunteer("v2", lat=52.0950), volunteer("v3", lat=52.0600, max_travel_km=8.0)]
    ress = [
        resident("r1", waiting_since="2025-01-01"),
        resident("r2", lat=52.0850),
        resident("r3", lat=52.0951),
    ]
    result = engine.solve(problem(vols, ress, locked=[["v2", "r3"]]))
    pairs = {q["resident"]: q for q in result["pairs"]}
    assert pairs["r1"]["volunteer"] == "v1" and pairs["r2"]["volunteer"] == "v3"
    codes = {a["volunteer"]: a["why_not_code"] for a in pairs["r2"]["alternatives"]}
    assert codes["v1"] == "taken_by_other_resident"
    assert codes["v2"] == "at_capacity_with_locked_pairs"
    assert {a["why_not_code"] for a in pairs["r1"]["alternatives"]} <= {"lower_score", "at_capacity_with_locked_pairs"}


@pytest.mark.parametrize(
    "vols, res_fields, extra, reason",
    [
        ([], {}, {}, "no_volunteers"),
        ([volunteer(available=False)], {}, {}, "no_volunteers"),
        ([volunteer(lat=52.5)], {}, {}, "no_volunteer_in_reach"),
        ([volunteer()], {"max_travel_km": 0.5}, {}, "no_volunteer_in_reach"),
        ([volunteer()], {"languages": ["tr"]}, {}, "no_shared_language"),
        ([volunteer()], {"availability": [20]}, {}, "no_shared_time"),
        ([volunteer(prefers={"gender": "f"})], {}, {}, "preferences_conflict"),
        ([volunteer()], {"prefers": {"max_age": 40}}, {}, "preferences_conflict"),
        ([volunteer()], {}, {"excluded": [["v1", "r1"]]}, "excluded"),
        ([volunteer()], {}, {"settings": {"min_score": 99}}, "below_min_score"),
    ],
)
def test_unmatched_reason_codes(vols, res_fields, extra, reason):
    result = engine.solve(problem(vols, [resident(**res_fields)], **extra))
    assert result["pairs"] == []
    assert [u["reason"] for u in result["unmatched"]] == [reason]


def test_cost_matrix_and_total_cost_agree():
    vols = [volunteer("v1", capacity=2), volunteer("v2", languages=["en"])]
    ress = [resident("r1"), resident("r2", lat=52.08), resident("r3", languages=["en"])]
    p = problem(vols, ress)
    table = engine.cost_matrix(p)
    assert table["volunteers"] == ["v1", "v2"] and table["residents"] == ["r1", "r2", "r3"]
    assert table["cost"][2] == [None, pytest.approx(table["cost"][2][1])] and table["cost"][0][1] is None
    result = engine.solve(p)
    total = sum(table["cost"][table["residents"].index(q["resident"])][table["volunteers"].index(q["volunteer"])]
                for q in result["pairs"])
    assert result["stats"]["total_cost"] == pytest.approx(total, abs=1e-9)


def test_deterministic():
    rng = np.random.default_rng(3)
    vols = [volunteer(f"v{i}", lat=52.09 + rng.normal(0, 0.01), capacity=int(rng.integers(1, 3))) for i in range(15)]
    ress = [resident(f"r{i}", lat=52.09 + rng.normal(0, 0.01), interests=[TAGS[i % 5]]) for i in range(20)]
    a, b = engine.solve(problem(vols, ress)), engine.solve(problem(vols, ress))
    a["stats"].pop("seconds"), b["stats"].pop("seconds")
    assert a == b


def random_pool(seed: int, n_vol: int, n_res: int) -> dict:
    rng = np.random.default_rng(seed)

    def common(i: int) -> dict:
        return {
            "lat": float(52.09 + rng.normal(0, 0.03)), "lon": float(5.12 + rng.normal(0, 0.05)),
            "languages": ["nl"] if rng.random() < 0.8 else ["tr"],
            "interests": sorted(set(rng.choice(TAGS, 2).tolist())),
            "availability": sorted(set(rng.integers(0, 8, 3).tolist())),
            "waiting_since": f"2026-{int(rng.integers(1, 12)):02d}-01",
        }

    vols = [volunteer(f"v{i}", **common(i), capacity=int(rng.integers(1, 4)),
                      max_travel_km=float(rng.integers(1, 6))) for i in range(n_vol)]
    ress = [resident(f"r{i}", **common(i)) for i in range(n_res)]
    return problem(vols, ress)


@pytest.mark.parametrize("seed", range(6))
def test_sparse_components_match_dense_objective(seed):
    p = random_pool(seed, 60 + 20 * seed, 120)
    dense = engine.solve(p, method="dense")["stats"]
    sparse = engine.solve(p, method="sparse")["stats"]
    assert sparse["matched"] == dense["matched"]
    assert sparse["total_cost"] == pytest.approx(dense["total_cost"], abs=1e-5)
    assert sparse["allowed_pairs"] == dense["allowed_pairs"]


@pytest.mark.parametrize("seed", range(120))
def test_crowded_small_instances_against_brute_force(seed):
    # Seeded instances where most pairs are allowed, so residents compete for places.
    rng = np.random.default_rng(1000 + seed)
    p = random_pool(seed, int(rng.integers(1, 5)), int(rng.integers(1, 6)))
    for v in p["volunteers"]:
        v["capacity"] = int(rng.integers(1, 3))
        v["max_travel_km"] = 8.0
        v["availability"] = [0, 1]
        v["languages"] = ["nl", "tr"]
    if rng.random() < 0.3:
        p["excluded"] = [[p["volunteers"][0]["id"], p["residents"][0]["id"]]]
    p["settings"]["min_score"] = float(rng.choice([0, 0, 40]))
    costs = engine.cost_matrix(p)["cost"]
    if rng.random() < 0.4 and costs[-1][0] is not None:
        p["locked"] = [[p["volunteers"][0]["id"], p["residents"][-1]["id"]]]
    want = brute_force(p)
    for method in ("dense", "sparse"):
        result = engine.solve(copy.deepcopy(p), method=method)
        check_rules(p, result)
        assert result["stats"]["matched"] == want[0]
        assert result["stats"]["total_cost"] == pytest.approx(want[1], abs=1e-5)


def test_many_tags_and_languages_use_several_words():
    tags = [f"tag{i}" for i in range(150)]
    languages = [f"l{i}" for i in range(70)]
    v = volunteer(interests=tags[:100], languages=languages[:40] + ["nl"])
    r = resident(interests=tags[90:], languages=["nl", "l69"])
    pair = engine.solve(problem([v], [r]))["pairs"][0]
    assert pair["shared_interests"] == sorted(tags[90:100])
    assert pair["parts"]["interests"] == pytest.approx(30 * 10 / 60, abs=0.01)


def test_no_residents_and_no_volunteers():
    empty = engine.solve(problem([volunteer()], []))
    assert empty["pairs"] == [] and empty["unmatched"] == [] and empty["stats"]["matched"] == 0
    assert engine.cost_matrix(problem([], [resident()]))["cost"] == [[]]


def test_garbage_collector_state_is_restored():
    import gc

    engine.solve(problem([volunteer()], [resident()]))
    assert gc.isenabled()
    gc.disable()
    try:
        engine.solve(problem([volunteer()], [resident()]))
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValueError):
        engine.solve(problem([volunteer(capacity=0)], []))
    assert gc.isenabled()


def test_min_score_null_means_zero():
    p = problem([volunteer()], [resident()])
    p["settings"]["min_score"] = None
    assert engine.solve(p)["stats"]["matched"] == 1


@pytest.mark.parametrize("seed", range(3))
def test_score_equals_the_sum_of_its_parts_bit_for_bit(seed):
    p = random_pool(seed, 40, 60)
    rng = np.random.default_rng(seed)
    tags = [f"tag{i}" for i in range(70 * seed + 5)]  # seed 2: two words per tag set
    for record in p["volunteers"] + p["residents"]:
        record["interests"] = sorted(set(rng.choice(tags, int(rng.integers(0, 6))).tolist()))
        record["max_travel_km"] = float(rng.integers(1, 6)) if rng.random() < 0.5 else record["max_travel_km"]
    pool = engine.parse(p)
    vi, ri = (g.ravel() for g in np.meshgrid(np.arange(len(pool.vols)), np.arange(len(pool.res)), indexing="ij"))
    km = engine.geo.indexed_distance_km(pool.vols.points, pool.res.points, vi, ri)
    total = np.zeros(len(vi))
    for part in engine.pair_parts(pool, vi, ri, km).values():
        total += part
    assert np.array_equal(engine._score(pool, vi, ri, km), total)


@pytest.mark.parametrize("seed", range(5))
def test_runner_ups_are_the_cheapest_pairs_ties_in_order(seed):
    import types

    from matching import explain

    rng = np.random.default_rng(seed)
    for _ in range(200):
        n_res = int(rng.integers(1, 8))
        ri = np.repeat(np.arange(n_res), rng.integers(0, 80, n_res))
        cost = rng.integers(0, int(rng.integers(1, 6)), len(ri)) / 4  # many ties
        allowed = rng.random(len(ri)) < 0.8
        residents = np.flatnonzero(rng.random(n_res) < 0.7)
        solution = types.SimpleNamespace(pairs=types.SimpleNamespace(ri=ri, cost=cost, allowed=allowed),
                                         pool=types.SimpleNamespace(res=np.zeros(n_res)))
        want = {}
        for r in residents.tolist():
            edges = [e for e in np.flatnonzero((ri == r) & allowed).tolist()]
            if edges:
                want[r] = sorted(edges, key=lambda e: (cost[e], e))[: explain.ALTERNATIVES + 1]
        assert explain._runner_ups(solution, residents) == want


@pytest.mark.parametrize("languages", [2, 70])
def test_grid_and_all_pairs_give_the_same_output(languages):
    # The grid path drops pairs without a shared slot or language early (when the rule words fit
    # one uint64) and screens and scores in chunks; every pair path must give identical output.
    p = random_pool(3, 120, 150)
    rng = np.random.default_rng(languages)
    for record in p["volunteers"] + p["residents"]:
        record["languages"] = sorted({record["languages"][0], f"l{int(rng.integers(0, languages))}"})
    p["excluded"] = [[p["volunteers"][i]["id"], p["residents"][i]["id"]] for i in range(0, 100, 7)]
    grid, every = engine.solve(copy.deepcopy(p), method="sparse"), engine.solve(copy.deepcopy(p), method="dense")
    grid["stats"]["seconds"] = every["stats"]["seconds"] = 0
    assert grid["stats"]["matched"] > 0
    assert grid == every
