"""The assignment core: capacities, forbidden pairs, lexicographic objective, OR-Library optima."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from matching.solver import assign, assign_edges, unmatched_penalty
from tests.conftest import shared_file

OPTIMA = {100: 305, 200: 475, 300: 626, 400: 804, 500: 991, 600: 1176, 700: 1362, 800: 1552}


def brute(cost: np.ndarray, capacity: np.ndarray) -> tuple[int, float]:
    """(matched, total cost) of the lexicographic optimum by enumeration."""
    best = (0, 0.0)
    options = [[None] + [j for j in range(cost.shape[1]) if np.isfinite(cost[i, j])] for i in range(cost.shape[0])]
    for choice in itertools.product(*options):
        used = np.bincount([j for j in choice if j is not None], minlength=cost.shape[1])
        if (used > capacity).any():
            continue
        matched = sum(j is not None for j in choice)
        total = sum(cost[i, j] for i, j in enumerate(choice) if j is not None)
        if (matched, -total) > (best[0], -best[1]):
            best = (matched, total)
    return best


@pytest.mark.parametrize("method", ["dense", "sparse"])
def test_more_matches_beat_lower_cost(method):
    cost = np.array([[0.0, 100.0], [0.0, np.inf]])
    rows, cols = assign(cost, method=method)
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0)]


@pytest.mark.parametrize("method", ["dense", "sparse"])
def test_capacity_copies_a_column(method):
    cost = np.array([[0.1, 0.9], [0.2, 0.8], [0.3, 0.7]])
    rows, cols = assign(cost, np.array([2, 1]), method=method)
    assert np.bincount(cols, minlength=2).tolist() == [2, 1]
    assert cost[rows, cols].sum() == pytest.approx(0.1 + 0.2 + 0.7)


def test_rows_may_stay_unmatched():
    cost = np.array([[0.5], [0.4], [np.inf]])
    rows, cols = assign(cost)
    assert rows.tolist() == [1] and cols.tolist() == [0]


@pytest.mark.parametrize("seed", range(40))
def test_random_small_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n_rows, n_cols = rng.integers(1, 6), rng.integers(1, 5)
    cost = rng.integers(0, 10, (n_rows, n_cols)).astype(float) / 10
    cost[rng.random((n_rows, n_cols)) < 0.4] = np.inf
    capacity = rng.integers(0, 3, n_cols)
    want = brute(cost, capacity)
    for method in ("dense", "sparse", "auto"):
        rows, cols = assign(cost, capacity, method=method)
        assert (len(rows), round(cost[rows, cols].sum(), 9)) == (want[0], round(want[1], 9))


def test_penalty_exceeds_any_cost_difference():
    cost = np.array([0.0, 1.0, 0.5])
    assert unmatched_penalty(cost, 10) > 10 * 1.0 + 1.0 - 1e-9


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.array([0]), np.array([0]), np.array([np.nan]), 1, np.array([1])), "finite"),
        ((np.array([0]), np.array([3]), np.array([0.5]), 1, np.array([1])), "column index"),
        ((np.array([2]), np.array([0]), np.array([0.5]), 1, np.array([1])), "row index"),
        ((np.array([0]), np.array([0]), np.array([0.5]), 1, np.array([-1])), "capacity"),
        ((np.array([0, 0]), np.array([0, 0]), np.array([0.5, 0.4]), 1, np.array([1])), "more than once"),
    ],
)
def test_bad_edges_raise(args, message):
    with pytest.raises(ValueError, match=message):
        assign_edges(*args)


def test_bad_matrix_raises():
    with pytest.raises(ValueError, match="2-D"):
        assign(np.zeros(3))
    with pytest.raises(ValueError, match="capacity"):
        assign(np.zeros((2, 2)), np.array([1, 1, 1]))


def load_orlib(n: int) -> np.ndarray:
    values = np.array(shared_file("orlib", f"assign{n}.txt").read_text().split(), dtype=np.float64)
    size = int(values[0])
    return values[1:].reshape(size, size)


@pytest.mark.parametrize("n", [100, 200, 300])  # 300: the priced path (90,000 edges)
@pytest.mark.parametrize("method", ["dense", "sparse"])
def test_orlib_published_optimum(n, method):
    cost = load_orlib(n)
    rows, cols = assign(cost, method=method)
    assert len(rows) == n
    assert cost[rows, cols].sum() == OPTIMA[n]


@pytest.mark.parametrize("seed", range(20))
def test_components_equal_scipy_labels(seed):
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    from matching import solver

    rng = np.random.default_rng(seed)
    n_rows, n_cols = int(rng.integers(1, 60)), int(rng.integers(1, 60))
    dense = rng.random((n_rows, n_cols)) < rng.choice([0.02, 0.05, 0.2, 0.6])
    dense[0, 0] = True
    rows, cols = np.nonzero(dense)
    starts, lengths = solver._groups(rows)
    lrow = np.repeat(np.arange(len(starts)), lengths)
    size = len(starts) + n_cols
    graph = csr_matrix((np.ones(len(rows)), (lrow, len(starts) + cols)), shape=(size, size))
    want = connected_components(graph, directed=False)
    for seed_edges in (1, 2, 8):
        solver.COMPONENT_SEED_EDGES, before = seed_edges, solver.COMPONENT_SEED_EDGES
        try:
            got = solver._components(starts, lengths, lrow, cols, n_cols)
        finally:
            solver.COMPONENT_SEED_EDGES = before
        assert got[0] == want[0] and np.array_equal(got[1], want[1])
