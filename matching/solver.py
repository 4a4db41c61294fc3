"""Min-cost assignment with capacities where rows may stay unmatched (numpy/scipy only).

Objective, in this order: (1) as many matched rows as possible, (2) the lowest total cost.
Every row gets a private "stay unmatched" column at cost U. With finite pair costs in
[cmin, cmax], k + 1 pairs cost at most k * (cmax - cmin) + max(cmax, 0) more than k pairs, so
``U = n_rows * (cmax - cmin) + max(cmax, 0) + 1`` makes one more match always worth it: a min-cost
solution is lexicographically optimal. Capacities are exact: a column is copied once per place.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

DENSE_MAX_CELLS = 250_000  # rows x columns up to which "auto" solves one dense matrix
BATCH_ROWS = 2_000  # small components are solved together up to this many rows


def unmatched_penalty(cost: np.ndarray, n_rows: int) -> float:
    """The cost U of leaving a row unmatched that makes maximum cardinality win."""
    if len(cost) == 0:
        return 1.0
    cmin, cmax = float(cost.min()), float(cost.max())
    return n_rows * (cmax - cmin) + max(cmax, 0.0) + 1.0


def _check_edges(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, n_rows: int, capacity: np.ndarray) -> None:
    if not (rows.shape == cols.shape == cost.shape) or rows.ndim != 1:
        raise ValueError(f"rows, cols and cost must be 1-D of one length, got {rows.shape}, {cols.shape}, {cost.shape}")
    if capacity.ndim != 1:
        raise ValueError(f"capacity must be 1-D, got shape {capacity.shape}")
    if len(rows) == 0:
        return
    if rows.min() < 0 or rows.max() >= n_rows:
        raise ValueError(f"row index out of range 0..{n_rows - 1}")
    if cols.min() < 0 or cols.max() >= len(capacity):
        raise ValueError(f"column index out of range 0..{len(capacity) - 1}")
    if not np.isfinite(cost).all():
        raise ValueError(f"cost must be finite on edges; edge {int(np.flatnonzero(~np.isfinite(cost))[0])} is not")
    if (capacity < 0).any():
        raise ValueError(f"capacity must be >= 0; column {int(np.flatnonzero(capacity < 0)[0])} is negative")


def _dense(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, n_rows: int, capacity: np.ndarray, penalty: float) -> np.ndarray:
    """Chosen edge indices via one dense rectangular linear_sum_assignment."""
    slot_col = np.repeat(np.arange(len(capacity)), capacity)
    n_slots = len(slot_col)
    forbidden = 2.0 * penalty + 1.0  # worse than the row's own dummy, so never chosen
    matrix = np.full((n_rows, n_slots + n_rows), forbidden)
    edge_of = np.full((n_rows, len(capacity)), -1, dtype=np.int64)
    edge_of[rows, cols] = np.arange(len(rows))
    block = np.full((n_rows, len(capacity)), forbidden)
    block[rows, cols] = cost
    matrix[:, :n_slots] = block[:, slot_col]
    matrix[np.arange(n_rows), n_slots + np.arange(n_rows)] = penalty
    r, c = linear_sum_assignment(matrix)
    real = c < n_slots
    return np.sort(edge_of[r[real], slot_col[c[real]]])


def _sparse(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, n_rows: int, capacity: np.ndarray, penalty: float) -> np.ndarray:
    """Chosen edge indices via LAPJVsp on the slot-expanded graph plus one dummy per row."""
    first_slot = np.concatenate([[0], np.cumsum(capacity)[:-1]])
    n_slots = int(capacity.sum())
    copies = capacity[cols]
    edge = np.repeat(np.arange(len(rows)), copies)
    within = np.arange(len(edge)) - np.repeat(np.cumsum(copies) - copies, copies)
    slot = first_slot[cols[edge]] + within
    # LAPJVsp drops zero weights, so every weight is shifted by +1 (a constant per row).
    graph = coo_matrix(
        (
            np.concatenate([cost[edge] + 1.0, np.full(n_rows, penalty + 1.0)]),
            (np.concatenate([rows[edge], np.arange(n_rows)]), np.concatenate([slot, n_slots + np.arange(n_rows)])),
        ),
        shape=(n_rows, n_slots + n_rows),
    ).tocsr()
    r, c = min_weight_full_bipartite_matching(graph)
    real = c < n_slots
    slot_col = np.repeat(np.arange(len(capacity)), capacity)
    chosen_cols = slot_col[c[real]]
    chosen_rows = r[real]
    # Map (row, column) back to the edge; each pair occurs once among the edges.
    key = rows.astype(np.int64) * len(capacity) + cols
    order = np.argsort(key, kind="stable")
    pos = order[np.searchsorted(key[order], chosen_rows.astype(np.int64) * len(capacity) + chosen_cols)]
    return np.sort(pos)


def _solve_part(rows, cols, cost, capacity, method: str, penalty: float | None = None) -> np.ndarray:
    """Renumber one part's rows and columns densely, solve it, return local edge indices."""
    urows, lrows = np.unique(rows, return_inverse=True)
    ucols, lcols = np.unique(cols, return_inverse=True)
    cap = capacity[ucols]
    if penalty is None:
        penalty = unmatched_penalty(cost, len(urows))
    if method == "auto":
        method = "dense" if len(urows) * (int(cap.sum()) + len(urows)) <= DENSE_MAX_CELLS else "sparse"
    solve = _dense if method == "dense" else _sparse
    return solve(lrows, lcols, cost, len(urows), cap, penalty)


def assign_edges(
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    n_rows: int,
    capacity: np.ndarray,
    method: str = "auto",
) -> np.ndarray:
    """Indices of the chosen edges: max matched rows, then min cost; columns take up to capacity."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    cost = np.asarray(cost, dtype=np.float64)
    capacity = np.asarray(capacity, dtype=np.int64)
    if method not in ("auto", "dense", "sparse"):
        raise ValueError(f"method must be 'auto', 'dense' or 'sparse', got {method!r}")
    _check_edges(rows, cols, cost, n_rows, capacity)
    usable = capacity[cols] > 0 if len(rows) else np.zeros(0, bool)
    index = np.flatnonzero(usable)
    rows, cols, cost = rows[index], cols[index], cost[index]
    if len(rows) == 0:
        return np.empty(0, dtype=np.int64)
    if method == "dense":
        return index[_solve_part(rows, cols, cost, capacity, "dense")]
    n_cols = len(capacity)
    graph = csr_matrix(
        (np.ones(len(rows), dtype=np.int8), (rows, n_rows + cols)), shape=(n_rows + n_cols, n_rows + n_cols)
    )
    _, label = connected_components(graph, directed=False)
    edge_label = label[rows]
    order = np.argsort(edge_label, kind="stable")
    bounds = np.flatnonzero(np.diff(edge_label[order])) + 1
    groups = np.split(order, bounds)
    sizes = [len(np.unique(rows[g])) for g in groups]
    chosen = []
    batch: list[np.ndarray] = []
    batch_rows = 0
    # Components are independent, so several small ones can share a solve; U only has to exceed
    # what the largest of them needs.
    def flush() -> None:
        if batch:
            part = np.concatenate(batch)
            penalty = max(unmatched_penalty(cost[g], s) for g, s in batch_sizes)
            chosen.append(part[_solve_part(rows[part], cols[part], cost[part], capacity, method, penalty)])

    batch_sizes: list[tuple[np.ndarray, int]] = []
    for group, size in zip(groups, sizes):
        if batch_rows + size > BATCH_ROWS and batch:
            flush()
            batch, batch_sizes, batch_rows = [], [], 0
        batch.append(group)
        batch_sizes.append((group, size))
        batch_rows += size
    flush()
    return index[np.sort(np.concatenate(chosen))]


def assign(cost: np.ndarray, capacity: np.ndarray | None = None, method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Pairs (rows, cols) of a dense cost matrix; np.inf marks a forbidden pair; rows may stay unmatched."""
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f"cost must be a 2-D matrix, got shape {cost.shape}")
    if np.isnan(cost).any() or np.isneginf(cost).any():
        raise ValueError("cost may hold finite values or +inf only")
    capacity = np.ones(cost.shape[1], dtype=np.int64) if capacity is None else np.asarray(capacity, dtype=np.int64)
    if capacity.shape != (cost.shape[1],):
        raise ValueError(f"capacity must have one entry per column ({cost.shape[1]}), got {capacity.shape}")
    rows, cols = np.nonzero(np.isfinite(cost))
    chosen = assign_edges(rows, cols, cost[rows, cols], cost.shape[0], capacity, method)
    return rows[chosen], cols[chosen]
