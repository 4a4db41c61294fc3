"""Candidate edges and the dual certificate that lets the solver work on a few edges per row (numpy only).

The optimum of a big pool uses, per row, one of its cheapest few edges. The solver therefore first
solves on each row's cheapest edges, then proves the result optimal for all edges: prices on the
columns (LP duals) under which every row sits on its cheapest edge and no edge left out is cheaper.
Edges that break that proof join the candidates and the solve repeats; the answer is the exact
optimum either way, only the work differs.
"""

from __future__ import annotations

import numpy as np

BINS = 64  # cost bands per row for picking its cheapest edges without sorting
BLOCK_EDGES = 1 << 19  # edges per block of work: its temporaries (a few MB) are reused, not refaulted


def cheapest(cost: np.ndarray, starts: np.ndarray, lengths: np.ndarray, k: int) -> np.ndarray:
    """Mask of at least each row's k cheapest edges (whole cost bands: ties and a few more).

    Edges come grouped by row. Bands are measured from each row's cheapest edge, so a row's band
    count answers "how far above its best must a row look to see k edges" without a sort.
    """
    spread = float(cost.max() - cost.min())
    scale = 2 * BINS / spread if spread > 0 else 1.0
    mask = np.empty(len(cost), dtype=bool)
    for lo, hi in _row_blocks(starts, lengths):
        first, end = int(starts[lo]), int(starts[hi - 1] + lengths[hi - 1])
        block_lengths = lengths[lo:hi]
        band = cost[first:end] - np.repeat(np.minimum.reduceat(cost[first:end], starts[lo:hi] - first), block_lengths)
        band *= scale
        np.minimum(band, BINS - 1, out=band)
        band = band.astype(np.int32)
        key = np.repeat(np.arange(0, (hi - lo) * BINS, BINS, dtype=np.int32), block_lengths)
        key += band
        reach = np.cumsum(np.bincount(key, minlength=(hi - lo) * BINS).reshape(hi - lo, BINS), axis=1)
        # The first band at which a row has seen k edges (its last band if it has fewer).
        last = np.minimum((reach < k).sum(axis=1), BINS - 1).astype(np.int32)
        mask[first:end] = band <= np.repeat(last, block_lengths)
    return mask


def _row_blocks(starts: np.ndarray, lengths: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive row ranges of about BLOCK_EDGES edges each (a row is never split).

    Temporaries of a block stay in memory the allocator reuses: one pass over all edges would
    allocate fresh pages for each temporary, and first touching them costs more than the arithmetic.
    """
    ends = np.cumsum(lengths)
    cuts = np.searchsorted(ends, np.arange(BLOCK_EDGES, int(ends[-1]), BLOCK_EDGES), side="left") + 1
    bounds = np.unique(np.r_[0, cuts, len(starts)])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def tolerance(penalty: float) -> float:
    """Slack for float rounding in prices that are sums of costs up to the unmatched penalty."""
    return 1e-12 * (abs(penalty) + 1.0)


def violations(
    lrow: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    candidate: np.ndarray,
    chosen: np.ndarray,
    capacity: np.ndarray,
    penalty: float,
    max_passes: int,
) -> np.ndarray | None:
    """Edges outside the candidates that are cheaper than the candidates' optimum allows.

    `chosen` must be an optimum (max rows matched, then min cost) of the candidate edges. Returns
    the indices of edges whose reduced cost is negative under that optimum's prices (empty: the
    optimum holds for all edges), or None if the prices did not settle within max_passes.

    Prices come from shortest paths (Bellman-Ford, one numpy pass per round of arcs): a row sitting
    on column a with a candidate edge to b gives the arc b -> a of length cost(b) - cost(a), so
    "a's price <= b's price + that length" says the row prefers a. Columns with a free place cost
    nothing; a root at price 0 with an arc of length U - cost(a) to each matched row's column says
    staying matched beats the unmatched penalty U; an unmatched row sits on its own dummy node.
    """
    n_rows, n_cols = int(lrow[-1]) + 1, len(capacity)
    tol = tolerance(penalty)
    where = np.full(n_rows, -1, dtype=np.int64)
    where[lrow[chosen]] = cols[chosen]
    own = np.full(n_rows, penalty)
    own[lrow[chosen]] = cost[chosen]
    matched = np.flatnonzero(where >= 0)
    # Nodes: columns, then one dummy per row (used by the unmatched), then the root.
    root = n_cols + n_rows
    node = np.where(where >= 0, where, n_cols + np.arange(n_rows))
    edge = np.flatnonzero(candidate)
    edge = edge[node[lrow[edge]] != cols[edge]]
    src = np.concatenate([cols[edge], np.full(len(matched), root)])
    dst = np.concatenate([node[lrow[edge]], where[matched]])
    length = np.concatenate([cost[edge] - own[lrow[edge]], penalty - own[matched]])
    del edge
    load = np.bincount(cols[chosen], minlength=n_cols)
    price = np.full(root + 1, np.inf)
    price[:n_cols][load < capacity] = 0.0
    price[root] = 0.0
    changed = np.isfinite(price)
    for _ in range(max_passes):
        active = np.flatnonzero(changed[src])
        if len(active) == 0:
            break
        lowered = price.copy()
        np.minimum.at(lowered, dst[active], price[src[active]] + length[active])
        changed = lowered < price - tol
        if not changed.any():
            break
        if lowered.min() < -tol:
            return None  # a price below zero: a cheaper solution of the candidates exists
        price = np.where(changed, lowered, price)
    else:
        return None
    if (price[: root] < -tol).any() or not np.isfinite(price[node]).all():
        return None  # a cheaper candidate solution exists: the candidates were not solved to optimum
    level = own + price[node]  # each row's price-adjusted cost where it sits
    col_price = np.where(np.isfinite(price[:n_cols]), price[:n_cols], 0.0)
    found = []
    for first in range(0, len(cols), BLOCK_EDGES):
        end = first + BLOCK_EDGES
        reduced = col_price[cols[first:end]]
        reduced += cost[first:end]
        reduced -= level[lrow[first:end]]
        hit = np.flatnonzero(reduced < -tol)
        found.append(first + hit[~candidate[first + hit]])
    return np.concatenate(found)


def neighbourhood(
    seed: np.ndarray, lrow: np.ndarray, cols: np.ndarray, candidate: np.ndarray, chosen: np.ndarray,
    n_rows: int, n_cols: int, min_rows: int
) -> np.ndarray:
    """Mask of the rows near the seed rows, at least min_rows of them if the graph holds that many.

    Near: a seed's candidate columns and the rows sitting on them, then theirs, and so on; the
    rows a repair may have to move when a seed row takes a left-out edge.
    """
    near = np.zeros(n_rows, dtype=bool)
    near[seed] = True
    edges = np.flatnonzero(candidate)
    sitting_col, sitting_row = cols[chosen], lrow[chosen]
    count = int(near.sum())
    while count < min_rows:
        touched = np.zeros(n_cols, dtype=bool)
        touched[cols[edges[near[lrow[edges]]]]] = True
        near[sitting_row[touched[sitting_col]]] = True
        grown = int(near.sum())
        if grown == count:
            break
        count = grown
    return near
