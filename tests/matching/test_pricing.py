"""Solving on each row's cheapest edges first: the prices must prove the result for all edges."""

from __future__ import annotations

import numpy as np
import pytest

from matching import pricing, solver
from matching.solver import assign_edges, unmatched_penalty


def random_edges(seed: int, n_rows: int = 120, n_cols: int = 90, density: float = 0.5):
    """Edges in canonical order (grouped by row, columns ascending), costs, capacities 0..3."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n_rows, n_cols)) < density
    rows, cols = np.nonzero(dense)
    # A shared cheap favourite makes the cheapest edges compete, so left-out edges matter.
    cost = rng.random(len(rows)) + np.where(cols < 5, -0.5, 0.0)
    capacity = rng.integers(0, 4, n_cols)
    return rows, cols, cost, capacity


def optimum(rows, cols, cost, n_rows, capacity, method):
    chosen = assign_edges(rows, cols, cost, n_rows, capacity, method)
    assert (np.bincount(cols[chosen], minlength=len(capacity)) <= capacity).all()
    assert len(np.unique(rows[chosen])) == len(chosen)
    return len(chosen), round(float(cost[chosen].sum()), 9)


@pytest.fixture
def priced(monkeypatch):
    """The priced path for small instances, with few candidates per row."""
    monkeypatch.setattr(solver, "PRICED_MIN_EDGES", 1)
    monkeypatch.setattr(solver, "CANDIDATES", 2)
    return monkeypatch


@pytest.mark.parametrize("seed", range(25))
def test_priced_path_reaches_the_dense_optimum(priced, seed):
    rows, cols, cost, capacity = random_edges(seed, density=[0.2, 0.5, 0.9][seed % 3])
    calls = []
    real = pricing.violations
    priced.setattr(pricing, "violations", lambda *a: calls.append(real(*a)) or calls[-1])
    want = optimum(rows, cols, cost, 120, capacity, "dense")
    assert optimum(rows, cols, cost, 120, capacity, "auto") == want
    assert optimum(rows, cols, cost, 120, capacity, "sparse") == want
    assert calls, "the priced path was not taken"


def test_left_out_edges_join_when_the_prices_reject_the_candidates(priced):
    # Every row ranks the columns alike (column 0 first, one place each): the candidates hold only
    # the first few columns, so most rows must be matched over edges that were left out.
    n = 30
    rows = np.repeat(np.arange(n), n)
    cols = np.tile(np.arange(n), n)
    cost = np.where(cols == 0, 0.45, 0.5 + 0.01 * cols + 0.0001 * ((rows * 7 + cols * 3) % n))
    rounds = []
    real = pricing.violations
    priced.setattr(pricing, "violations", lambda *a: rounds.append(real(*a)) or rounds[-1])
    chosen = assign_edges(rows, cols, cost, n, np.ones(n, dtype=np.int64))
    assert len(chosen) == n
    assert len(rounds[0]) > 0 and len(rounds[-1]) == 0
    dense = assign_edges(rows, cols, cost, n, np.ones(n, dtype=np.int64), "dense")
    assert cost[chosen].sum() == pytest.approx(cost[dense].sum(), abs=1e-12)


def test_the_full_graph_is_solved_when_the_rounds_run_out(priced):
    priced.setattr(solver, "PRICING_ROUNDS", 1)
    priced.setattr(solver, "CANDIDATES", 1)
    rows, cols, cost, capacity = random_edges(3)
    assert optimum(rows, cols, cost, 120, capacity, "auto") == optimum(rows, cols, cost, 120, capacity, "dense")


def test_a_suboptimal_assignment_gets_no_certificate():
    # Two rows, two columns: the crossed assignment costs 2.0, the straight one 0.2. Given the
    # crossed one as "optimal for the candidates", the prices cannot settle without going negative.
    lrow = np.array([0, 0, 1, 1], dtype=np.int32)
    cols = np.array([0, 1, 0, 1])
    cost = np.array([0.1, 1.0, 1.0, 0.1])
    capacity = np.array([1, 1])
    crossed = np.array([1, 2])
    penalty = unmatched_penalty(cost, 2)
    assert pricing.violations(lrow, cols, cost, np.ones(4, bool), crossed, capacity, penalty, 50) is None
    straight = np.array([0, 3])
    assert len(pricing.violations(lrow, cols, cost, np.ones(4, bool), straight, capacity, penalty, 50)) == 0


def test_an_unmatched_row_with_a_left_out_free_column_is_a_violation():
    # Row 1 stays unmatched on the candidates (both want column 0), but its left-out edge to the
    # free column 1 would match it: that edge must come back.
    lrow = np.array([0, 1, 1], dtype=np.int32)
    cols = np.array([0, 0, 1])
    cost = np.array([0.1, 0.2, 0.9])
    candidate = np.array([True, True, False])
    chosen = np.array([0])
    penalty = unmatched_penalty(cost, 2)
    got = pricing.violations(lrow, cols, cost, candidate, chosen, np.array([1, 1]), penalty, 50)
    assert got.tolist() == [2]


@pytest.mark.parametrize("k", [1, 3, 10])
def test_cheapest_keeps_at_least_k_cheapest_edges_per_row(k):
    rows, _cols, cost, _ = random_edges(7, density=0.7)
    starts, lengths = solver._groups(rows)
    mask = pricing.cheapest(cost, starts, lengths, k)
    for start, length in zip(starts.tolist(), lengths.tolist()):
        row_cost, row_mask = cost[start : start + length], mask[start : start + length]
        wanted = np.sort(row_cost)[: min(k, length)]
        assert np.isin(wanted, row_cost[row_mask]).all()
        # Nothing kept is dearer than something dropped.
        if (~row_mask).any():
            assert row_cost[row_mask].max() <= row_cost[~row_mask].min()


@pytest.mark.parametrize("seed", range(15))
def test_a_local_repair_reaches_the_dense_optimum(priced, seed):
    # Tiny neighbourhoods, so that repairs happen, succeed, fail and fall back on small pools.
    priced.setattr(solver, "REPAIR_ROWS", (3, 10, 30))
    rows, cols, cost, capacity = random_edges(100 + seed, n_rows=150, n_cols=110, density=[0.3, 0.6][seed % 2])
    assert optimum(rows, cols, cost, 150, capacity, "auto") == optimum(rows, cols, cost, 150, capacity, "dense")


def test_repairs_are_used_and_some_succeed(priced):
    priced.setattr(solver, "REPAIR_ROWS", (3, 10, 30))
    outcomes = []
    real = solver._repair
    priced.setattr(solver, "_repair", lambda *a: outcomes.append(real(*a)) or outcomes[-1])
    for seed in range(100, 115):
        rows, cols, cost, capacity = random_edges(seed, n_rows=150, n_cols=110, density=[0.3, 0.6][seed % 2])
        assert optimum(rows, cols, cost, 150, capacity, "auto") == optimum(rows, cols, cost, 150, capacity, "dense")
    assert any(o is not None for o in outcomes), "no repair succeeded: the local path is not exercised"


def test_neighbourhood_grows_through_the_rows_sitting_on_candidate_columns():
    # Row 0 -> column 0, where row 1 sits; row 1 -> column 1, where row 2 sits; row 3 is apart.
    lrow = np.array([0, 1, 1, 2, 3])
    cols = np.array([0, 0, 1, 1, 2])
    chosen = np.array([1, 3, 4])  # row 1 on column 0, row 2 on column 1, row 3 on column 2
    candidate = np.ones(5, dtype=bool)
    one = pricing.neighbourhood(np.array([0]), lrow, cols, candidate, chosen, 4, 3, 2)
    assert one.tolist() == [True, True, False, False]
    all_near = pricing.neighbourhood(np.array([0]), lrow, cols, candidate, chosen, 4, 3, 100)
    assert all_near.tolist() == [True, True, True, False]
