"""Bad input is refused up front (API and CLI), the CLI is deterministic, the core stays pure."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from geopy.distance import geodesic

from matching import engine
from matching.geo import Points, pair_distance_km, pairs_within
from tests.matching.records import problem, resident, volunteer

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, stdin: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "matching", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=60)


def base() -> dict:
    return problem([volunteer("v1"), volunteer("v2")], [resident("r1"), resident("r2")])


def mutate(path: str, value):
    """A function that sets (or deletes, value=...) one field of the base problem."""
    def apply(p: dict) -> dict:
        keys = path.split(".")
        target = p
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is ...:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
        return p
    return apply


BAD = [
    ("missing volunteer id", mutate("volunteers.1.id", ...), "volunteers[1]"),
    ("missing resident id", mutate("residents.0.id", ...), "residents[0]"),
    ("duplicate volunteer id", mutate("volunteers.1.id", "v1"), "'v1'"),
    ("duplicate resident id", mutate("residents.1.id", "r1"), "'r1'"),
    ("NaN latitude", mutate("volunteers.1.lat", float("nan")), "'v2'"),
    ("null longitude", mutate("residents.1.lon", None), "'r2'"),
    ("latitude out of range", mutate("residents.1.lat", 123.0), "'r2'"),
    ("unknown slot", mutate("residents.1.availability", [3, 21]), "'r2'"),
    ("slot not an integer", mutate("volunteers.0.availability", ["mon"]), "'v1'"),
    ("capacity zero", mutate("volunteers.1.capacity", 0), "'v2'"),
    ("capacity not an integer", mutate("volunteers.1.capacity", 1.5), "'v2'"),
    ("travel not positive", mutate("volunteers.0.max_travel_km", 0), "'v1'"),
    ("missing travel limit", mutate("volunteers.0.max_travel_km", ...), "'v1'"),
    ("bad waiting date", mutate("residents.0.waiting_since", "01-05-2026"), "'r1'"),
    ("tags not a list", mutate("residents.0.interests", "koken"), "'r1'"),
    ("min_age above max_age", mutate("residents.0.prefers", {"min_age": 80, "max_age": 40}), "'r1'"),
    ("unknown weight", mutate("settings.weights", {"humour": 5}), "humour"),
    ("negative weight", mutate("settings.weights", {"distance": -1}), "distance"),
    ("min_score out of range", mutate("settings.min_score", 120), "min_score"),
    ("missing today", mutate("today", ...), "today"),
    ("locked unknown volunteer", mutate("locked", [["v9", "r1"]]), "'v9'"),
    ("excluded unknown resident", mutate("excluded", [["v1", "r9"]]), "'r9'"),
    ("locked pair not a pair", mutate("locked", [["v1"]]), "locked[0]"),
    ("locked pair breaks language", lambda p: {**mutate("residents.0.languages", ["tr"])(p), "locked": [["v1", "r1"]]}, "'r1'"),
    ("locked pair out of reach", lambda p: {**mutate("residents.0.lat", 52.5)(p), "locked": [["v1", "r1"]]}, "'r1'"),
    ("locked pair also excluded", lambda p: {**p, "locked": [["v1", "r1"]], "excluded": [["v1", "r1"]]}, "'r1'"),
    ("locked over capacity", mutate("locked", [["v1", "r1"], ["v1", "r2"]]), "'v1'"),
    ("resident locked twice", mutate("locked", [["v1", "r1"], ["v2", "r1"]]), "'r1'"),
    ("locked with unavailable volunteer", lambda p: {**mutate("volunteers.0.available", False)(p), "locked": [["v1", "r1"]]}, "'v1'"),
]


@pytest.mark.parametrize("name, change, needle", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_value_error_naming_it(name, change, needle):
    p = change(copy.deepcopy(base()))
    with pytest.raises(ValueError) as error:
        engine.solve(p)
    assert needle in str(error.value)
    with pytest.raises(ValueError):
        engine.cost_matrix(p)


@pytest.mark.parametrize("name, change, needle", BAD[::3], ids=[b[0] for b in BAD[::3]])
def test_cli_refuses_bad_input(name, change, needle):
    done = run_cli("solve", stdin=json.dumps(change(copy.deepcopy(base()))))
    assert done.returncode == 2
    assert done.stdout == ""
    assert needle in done.stderr


def test_cli_refuses_broken_json():
    done = run_cli("costs", stdin="{not json")
    assert done.returncode == 2 and done.stdout == "" and "input" in done.stderr


def test_cli_is_deterministic_and_files_work(tmp_path):
    rng = np.random.default_rng(5)
    vols = [volunteer(f"v{i}", lat=52.09 + rng.normal(0, 0.01), capacity=int(rng.integers(1, 3))) for i in range(12)]
    ress = [resident(f"r{i}", lat=52.09 + rng.normal(0, 0.01)) for i in range(15)]
    source = tmp_path / "in.json"
    source.write_text(json.dumps(problem(vols, ress)))
    outputs = []
    for n in range(2):
        target = tmp_path / f"out{n}.json"
        done = run_cli("solve", "--input", str(source), "--output", str(target), stdin="")
        assert done.returncode == 0, done.stderr
        result = json.loads(target.read_text())
        result["stats"].pop("seconds")
        outputs.append(json.dumps(result))
    assert outputs[0] == outputs[1]
    costs = run_cli("costs", "--input", str(source), stdin="")
    assert costs.returncode == 0
    table = json.loads(costs.stdout)
    result = json.loads(outputs[0])
    total = sum(table["cost"][table["residents"].index(q["resident"])][table["volunteers"].index(q["volunteer"])]
                for q in result["pairs"])
    assert result["stats"]["total_cost"] == pytest.approx(total, abs=1e-9)
    again = run_cli("costs", "--input", str(source), stdin="")
    assert again.stdout == costs.stdout


def test_pure_core_imports_no_web_stack():
    code = (
        "import sys\n"
        "import matching.scoring, matching.solver, matching.explain, matching.geo, matching.engine\n"
        "import matching.problem, matching.lasting, matching.survival, matching.learning, matching.activity_fit\n"
        "import matching.__main__\n"
        "bad = [m for m in ('flask', 'sqlalchemy', 'geopy') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_distance_against_geodesic():
    rng = np.random.default_rng(11)
    lat1 = rng.uniform(50.7, 53.6, 400)
    lon1 = rng.uniform(3.3, 7.3, 400)
    bearing = rng.uniform(0, 2 * np.pi, 400)
    km = rng.uniform(0, 25, 400)
    lat2 = lat1 + km * np.cos(bearing) / 111.2
    lon2 = lon1 + km * np.sin(bearing) / (111.2 * np.cos(np.radians(lat1)))
    ours = pair_distance_km(lat1, lon1, lat2, lon2)
    reference = np.array([geodesic((a, b), (c, d)).km for a, b, c, d in zip(lat1, lon1, lat2, lon2)])
    assert np.abs(ours - reference).max() < 0.05


@pytest.mark.parametrize("seed", range(4))
def test_pairs_within_finds_exactly_the_pairs_in_reach(seed):
    rng = np.random.default_rng(seed)
    n_a, n_b = 300, 400
    lat_a, lon_a = rng.uniform(50.8, 53.4, n_a), rng.uniform(3.4, 7.1, n_a)
    lat_b, lon_b = rng.uniform(50.8, 53.4, n_b), rng.uniform(3.4, 7.1, n_b)
    reach = rng.uniform(1, 40, n_a)
    ia, ib, km = pairs_within(Points.from_degrees(lat_a, lon_a), reach, Points.from_degrees(lat_b, lon_b))
    grid_a, grid_b = np.meshgrid(np.arange(n_a), np.arange(n_b), indexing="ij")
    all_km = pair_distance_km(lat_a[grid_a], lon_a[grid_a], lat_b[grid_b], lon_b[grid_b])
    want = set(zip(*np.nonzero(all_km <= reach[:, None])))
    assert set(zip(ia.tolist(), ib.tolist())) == {(int(a), int(b)) for a, b in want}
    assert np.allclose(km, all_km[ia, ib])


def test_pairs_within_drops_pairs_without_shared_bits():
    rng = np.random.default_rng(7)
    n_a, n_b = 300, 400
    lat_a, lon_a = rng.uniform(51.9, 52.3, n_a), rng.uniform(4.9, 5.4, n_a)
    lat_b, lon_b = rng.uniform(51.9, 52.3, n_b), rng.uniform(4.9, 5.4, n_b)
    reach = rng.uniform(1, 10, n_a)
    words_a, words_b = rng.integers(0, 64, n_a).astype(np.uint64), rng.integers(0, 64, n_b).astype(np.uint64)
    a, b = Points.from_degrees(lat_a, lon_a), Points.from_degrees(lat_b, lon_b)
    ia, ib, km = pairs_within(a, reach, b)
    fa, fb, fkm = pairs_within(a, reach, b, (words_a, words_b, (0b000111, 0b111000)))
    both = words_a[ia] & words_b[ib]
    keep = ((both & 0b000111) != 0) & ((both & 0b111000) != 0)
    assert 0 < keep.sum() < len(ia)
    assert np.array_equal(fa, ia[keep]) and np.array_equal(fb, ib[keep]) and np.array_equal(fkm, km[keep])
