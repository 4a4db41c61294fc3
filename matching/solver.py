"""Min-cost assignment with capacities where rows may stay unmatched (numpy/scipy only).

Objective, in this order: (1) as many matched rows as possible, (2) the lowest total cost.
A row that may stay unmatched gets a private "stay unmatched" column at cost U (the dense path
gives every row one; the sparse path only the rows a maximum matching can leave exposed, see
_sparse). With finite pair costs in
[cmin, cmax], k + 1 pairs cost at most k * (cmax - cmin) + max(cmax, 0) more than k pairs, so
``U = n_rows * (cmax - cmin) + max(cmax, 0) + 1`` makes one more match always worth it: a min-cost
solution is lexicographically optimal. Capacities are exact: a column is copied once per place.
Independent parts of the graph (connected components) are solved separately; small ones together.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import (
    breadth_first_order,
    connected_components,
    maximum_bipartite_matching,
    min_weight_full_bipartite_matching,
)

from matching import pricing

DENSE_MAX_CELLS = 250_000  # rows x (places + rows) up to which "auto" solves a part densely
BATCH_ROWS = 2_000  # small components are solved together up to this many rows
COMPONENT_SEED_EDGES = 8  # edges per row that components are first found from
METHODS = ("auto", "dense", "sparse")
CANDIDATES = 32  # cheapest edges per row solved first (rows with > 3x as many); the rest join if the prices ask
PRICED_MIN_EDGES = 50_000  # below this the full graph is solved directly
PRICING_ROUNDS = 4  # candidate rounds before the full graph is solved instead
PRICING_PASSES = 2_000  # Bellman-Ford rounds before the prices count as unsettled
REPAIR_ROWS = (2_000, 16_000)  # rows re-solved around a few rejected candidates, before a full re-solve


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
    if (capacity < 0).any():
        raise ValueError(f"capacity must be >= 0; column {int(np.flatnonzero(capacity < 0)[0])} is negative")
    if len(rows) == 0:
        return
    if rows.min() < 0 or rows.max() >= n_rows:
        raise ValueError(f"row index out of range 0..{n_rows - 1}")
    if cols.min() < 0 or cols.max() >= len(capacity):
        raise ValueError(f"column index out of range 0..{len(capacity) - 1}")
    if not np.isfinite(cost).all():
        raise ValueError(f"cost must be finite on edges; edge {int(np.flatnonzero(~np.isfinite(cost))[0])} is not")


def _indices(values: np.ndarray, name: str) -> np.ndarray:
    """Integer indices as int32 or int64 (whichever they are; other integers become int64)."""
    values = np.asarray(values)
    if values.dtype not in (np.int32, np.int64):
        if values.size and values.dtype.kind not in "iu":
            raise ValueError(f"{name} must be integers, got {values.dtype}")
        values = values.astype(np.int64)
    return values


def _groups(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each run of equal rows."""
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    return starts, np.diff(np.r_[starts, len(rows)])


def _edges_of(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Edge indices of the given groups, in group order."""
    total = int(lengths.sum())
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts, lengths) + (np.arange(total) - np.repeat(offsets, lengths))


def _slot_pattern(
    lcol: np.ndarray, lrow: np.ndarray, n_rows: int, cap: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR indices and indptr of rows x places (each column copied once per place), and the
    number of copies of each edge."""
    # int32 indices halve the memory of the expanded graph (national pools reach ~10 M places).
    # Edges come grouped by row with columns ascending, so the copies of a row's edges are already
    # in CSR order: no sorting.
    copies = cap.astype(np.int32)[lcol]
    n_exp = int(copies.sum(dtype=np.int64))
    if n_exp >= 2**31:
        raise ValueError(f"too many places x pairs for int32 indices: {n_exp}")
    end = np.cumsum(copies, dtype=np.int32)
    # Place of copy k of edge e = first place of its column + k = that + position - first position of e.
    slot = (np.cumsum(cap) - cap).astype(np.int32)[lcol]
    slot -= end
    slot += copies
    slot = np.repeat(slot, copies)
    slot += np.arange(n_exp, dtype=np.int32)
    # Every row 0..n_rows-1 has edges: its places end where its last edge's copies end.
    row_len = np.diff(end[np.searchsorted(lrow, np.arange(n_rows), side="right") - 1], prepend=0)
    return slot, np.r_[0, np.cumsum(row_len)], copies


def _weights(cost: np.ndarray, copies: np.ndarray) -> np.ndarray:
    """Each edge's cost once per copy, +1: LAPJVsp drops zero weights (a constant per row)."""
    weight = np.repeat(cost, copies)
    weight += 1.0
    return weight


def _pattern_matrix(indices: np.ndarray, indptr: np.ndarray, n_cols: int) -> csr_matrix:
    """The graph's shape only (one byte per edge), for the matchings that ignore weights."""
    return csr_matrix((np.ones(len(indices), dtype=np.int8), indices, indptr),
                      shape=(len(indptr) - 1, n_cols))


def _sparse(
    lrow: np.ndarray, lcol: np.ndarray, cost: np.ndarray, n_rows: int, cap: np.ndarray, n_slots: int, penalty: float
) -> tuple[np.ndarray, np.ndarray]:
    """LAPJVsp on the place-expanded graph; "stay unmatched" dummies only for rows that may need one.

    A maximum matching (Hopcroft-Karp) shows which rows can be left exposed: exactly those reached
    from an exposed row by an alternating path (Dulmage-Mendelsohn). Every other row is matched in
    every maximum matching, so it needs no dummy; fewer dummies at cost U make LAPJVsp much faster.
    The weights are made once, after the dummies are known: at national scale a second weighted
    copy of the graph would be the run's peak of memory.
    """
    indices, indptr, copies = _slot_pattern(lcol, lrow, n_rows, cap)
    mate = maximum_bipartite_matching(_pattern_matrix(indices, indptr, n_slots), perm_type="column")
    exposed = np.flatnonzero(mate < 0)
    if len(exposed) == 0:
        weight = _weights(cost, copies)
        del copies
        return min_weight_full_bipartite_matching(csr_matrix((weight, indices, indptr), shape=(n_rows, n_slots)))
    # Alternating search: row -> any of its places, place -> the row matched to it.
    matched = np.flatnonzero(mate >= 0)
    place_row = np.full(n_slots, -1, dtype=np.int64)
    place_row[mate[matched]] = matched
    has_mate = place_row >= 0
    size = n_rows + n_slots + 1
    search_ptr = np.r_[indptr, indptr[-1] + np.cumsum(has_mate), indptr[-1] + has_mate.sum() + len(exposed)]
    search_to = np.concatenate([indices + np.int32(n_rows), place_row[has_mate].astype(np.int32),
                                exposed.astype(np.int32)])
    reached = breadth_first_order(_pattern_matrix(search_to, search_ptr, size), size - 1, directed=True,
                                  return_predecessors=False)
    del search_to
    dummy = np.zeros(n_rows, dtype=bool)
    dummy[reached[reached < n_rows]] = True
    flagged = np.flatnonzero(dummy)
    # Each flagged row ends with its private "stay unmatched" column (weight U + 1).
    at = indptr[flagged + 1]
    indices = np.insert(indices, at, (n_slots + np.arange(len(flagged))).astype(np.int32))
    weight = np.insert(_weights(cost, copies), at, penalty + 1.0)
    del copies
    indptr = indptr + np.r_[0, np.cumsum(dummy)]
    return min_weight_full_bipartite_matching(
        csr_matrix((weight, indices, indptr), shape=(n_rows, n_slots + len(flagged))))


def _solve_part(lrow: np.ndarray, cols: np.ndarray, cost: np.ndarray, capacity: np.ndarray, method: str, penalty: float) -> np.ndarray:
    """Chosen edges of one part; lrow is 0..g-1 ascending, cols ascending within a row."""
    n_rows = int(lrow[-1]) + 1
    present = np.zeros(len(capacity), dtype=bool)
    present[cols] = True
    ucols = np.flatnonzero(present)
    lcol = cols if len(ucols) == len(capacity) else (np.cumsum(present, dtype=np.int32) - 1)[cols]
    cap = capacity[ucols]
    n_slots = int(cap.sum())
    slot_col = np.repeat(np.arange(len(ucols)), cap)
    if method == "auto":
        method = "dense" if n_rows * (n_slots + n_rows) <= DENSE_MAX_CELLS else "sparse"
    if method == "dense":
        forbidden = 2.0 * penalty + 1.0  # worse than the row's own dummy, so never chosen
        block = np.full((n_rows, len(ucols)), forbidden)
        block[lrow, lcol] = cost
        matrix = np.full((n_rows, n_slots + n_rows), forbidden)
        matrix[:, :n_slots] = block[:, slot_col]
        matrix[np.arange(n_rows), n_slots + np.arange(n_rows)] = penalty
        r, c = linear_sum_assignment(matrix)
    else:
        r, c = _sparse(lrow, lcol, cost, n_rows, cap, n_slots, penalty)
    real = c < n_slots
    key = lrow.astype(np.int64) * len(ucols) + lcol
    return np.searchsorted(key, r[real].astype(np.int64) * len(ucols) + slot_col[c[real]])


def _components(
    starts: np.ndarray, lengths: np.ndarray, lrow: np.ndarray, cols: np.ndarray, n_cols: int
) -> tuple[int, np.ndarray]:
    """connected_components of the graph groups + columns (groups first), from a few edges per group.

    The components of a few edges per group are connected in the full graph; if no other edge joins
    two of them they are its components, else adding just the joining edges gives them. Labels come
    out the same either way: scipy numbers components in the order of their lowest node.
    """
    n_groups = len(starts)
    size = n_groups + n_cols

    def label_edges(edges: np.ndarray) -> tuple[int, np.ndarray]:
        per_group = np.bincount(lrow[edges], minlength=n_groups)
        indptr = np.r_[0, np.cumsum(per_group), np.full(n_cols, len(edges))].astype(np.int32)
        indices = (cols[edges] + n_groups).astype(np.int32)
        graph = csr_matrix((np.ones(len(edges), dtype=np.int8), indices, indptr), shape=(size, size))
        return connected_components(graph, directed=False)

    few = _edges_of(starts, np.minimum(lengths, COMPONENT_SEED_EDGES))
    if len(few) == len(cols):
        return label_edges(few)
    # Plus one edge of each column (any: with repeated indices one write wins), so none is left alone.
    one_each = np.full(n_cols, -1, dtype=np.int64)
    one_each[cols] = np.arange(len(cols))
    seed = np.zeros(len(cols), dtype=bool)
    seed[few] = True
    seed[one_each[one_each >= 0]] = True
    few = np.flatnonzero(seed)
    n_labels, label = label_edges(few)
    joining = np.repeat(label[:n_groups], lengths) != label[n_groups:][cols]
    if not joining.any():
        return n_labels, label
    joining |= seed
    return label_edges(np.flatnonzero(joining))


def _input_order(index: np.ndarray | None, chosen: np.ndarray) -> np.ndarray:
    """The chosen edges (sorted positions in canonical order) as sorted positions in the caller's arrays."""
    return chosen if index is None else np.sort(index[chosen])


def assign_edges(
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    n_rows: int,
    capacity: np.ndarray,
    method: str = "auto",
) -> np.ndarray:
    """Indices of the chosen edges: max matched rows, then min total cost; column j takes <= capacity[j]."""
    # int32 indices are kept as they are (half the memory of a national pool's edges).
    rows, cols = _indices(rows, "rows"), _indices(cols, "cols")
    cost = np.asarray(cost, dtype=np.float64)
    capacity = np.asarray(capacity, dtype=np.int64)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    _check_edges(rows, cols, cost, n_rows, capacity)
    positive = capacity[cols] > 0
    index = None  # positions of the kept edges in the input; None: all, in input order
    if not positive.all():
        index = np.flatnonzero(positive)
        rows, cols, cost = rows[index], cols[index], cost[index]
    del positive
    if len(rows) == 0:
        return np.empty(0, dtype=np.int64)
    # Canonical order: grouped by row, columns ascending in a group. Callers that already deliver
    # it (the engine does) skip the sort.
    starts, lengths = _groups(rows)
    ascending = np.diff(cols) > 0
    ascending[starts[1:] - 1] = True  # a new group may start anywhere
    if len(np.unique(rows[starts])) != len(starts) or not ascending.all():
        order = np.lexsort((cols, rows))
        if (np.diff(rows[order].astype(np.int64) * len(capacity) + cols[order]) == 0).any():
            raise ValueError("an edge (row, column) occurs more than once")
        index = order if index is None else index[order]
        rows, cols, cost = rows[order], cols[order], cost[order]
        starts, lengths = _groups(rows)
    del ascending
    lrow = np.repeat(np.arange(len(starts), dtype=np.int32), lengths)
    if method != "dense" and len(cols) >= PRICED_MIN_EDGES and len(cols) > 3 * CANDIDATES * len(starts):
        return _input_order(index, _assign_priced(starts, lengths, lrow, cols, cost, capacity, method))
    return _input_order(index, _assign_grouped(starts, lengths, lrow, cols, cost, capacity, method))


def _assign_priced(
    starts: np.ndarray, lengths: np.ndarray, lrow: np.ndarray, cols: np.ndarray, cost: np.ndarray,
    capacity: np.ndarray, method: str
) -> np.ndarray:
    """Solve on each row's cheapest edges, add the left-out edges the prices reject, until none.

    The scipy solver pays per row for every column of its part, whatever the edges, so fewer edges
    save the building of the place-expanded graph and its memory, not that; at city scale (dense
    rows) they save most of the solve.
    """
    candidate = pricing.cheapest(cost, starts, lengths, CANDIDATES)
    penalty = unmatched_penalty(cost, len(starts))
    for _ in range(PRICING_ROUNDS):
        part = np.flatnonzero(candidate)
        chosen = _solve_edges(part, lrow[part], cols, cost, capacity, method)
        del part
        missing = pricing.violations(lrow, cols, cost, candidate, chosen, capacity, penalty, PRICING_PASSES)
        if missing is None:
            break
        if len(missing) == 0:
            return chosen
        _add_rows_of(candidate, lrow, missing)
        repaired = _repair(lrow, cols, cost, capacity, method, candidate, chosen, missing, penalty)
        if repaired is not None:
            return repaired
    return _assign_grouped(starts, lengths, lrow, cols, cost, capacity, method)


def _repair(
    lrow: np.ndarray, cols: np.ndarray, cost: np.ndarray, capacity: np.ndarray, method: str,
    candidate: np.ndarray, chosen: np.ndarray, missing: np.ndarray, penalty: float
) -> np.ndarray | None:
    """The optimum after a few left-out edges joined, re-solving only the rows near them; None if
    the prices do not prove it (the caller then solves all candidates again).

    A handful of violations at national scale would otherwise cost a whole second solve.
    """
    n_rows, n_cols = int(lrow[-1]) + 1, len(capacity)
    for min_rows in REPAIR_ROWS:
        if len(missing) > min_rows or min_rows > n_rows // 2:
            return None
        near = pricing.neighbourhood(lrow[missing], lrow, cols, candidate, chosen, n_rows, n_cols, min_rows)
        keep = chosen[~near[lrow[chosen]]]
        free = capacity - np.bincount(cols[keep], minlength=n_cols)
        part = np.flatnonzero(candidate & near[lrow])
        local_row = (np.cumsum(near, dtype=np.int32) - 1)[lrow[part]]
        trial = np.sort(np.concatenate([keep, _solve_edges(part, local_row, cols, cost, free, method)]))
        left = pricing.violations(lrow, cols, cost, candidate, trial, capacity, penalty, PRICING_PASSES)
        if left is None:
            continue  # the fix reaches beyond these rows: more rows around the same ones
        if len(left) == 0:
            return trial
        chosen, missing = trial, left
        _add_rows_of(candidate, lrow, missing)
    return None


def _solve_edges(
    part: np.ndarray, part_rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, capacity: np.ndarray,
    method: str
) -> np.ndarray:
    """The chosen edges among `part` (ascending edge positions; part_rows numbers their rows 0..)."""
    starts, lengths = _groups(part_rows)
    return part[_assign_grouped(starts, lengths, part_rows, cols[part], cost[part], capacity, method)]


def _add_rows_of(candidate: np.ndarray, lrow: np.ndarray, missing: np.ndarray) -> None:
    """Every edge of the rows a rejected edge belongs to joins the candidates: such a row's best
    options were not among its cheapest, and one more round costs more than its other edges."""
    hit = np.zeros(int(lrow[-1]) + 1, dtype=bool)
    hit[lrow[missing]] = True
    candidate |= hit[lrow]


def _assign_grouped(
    starts: np.ndarray, lengths: np.ndarray, lrow: np.ndarray, cols: np.ndarray, cost: np.ndarray,
    capacity: np.ndarray, method: str
) -> np.ndarray:
    """Chosen edges (sorted positions) of edges in canonical order; lrow numbers the row groups."""
    n_groups = len(starts)
    if method == "dense":
        penalty = unmatched_penalty(cost, n_groups)
        return np.sort(_solve_part(lrow, cols, cost, capacity, "dense", penalty))
    n_labels, label = _components(starts, lengths, lrow, cols, len(capacity))
    group_label = label[:n_groups]
    if len(np.unique(group_label)) == 1:
        penalty = unmatched_penalty(cost, n_groups)
        return np.sort(_solve_part(lrow, cols, cost, capacity, method, penalty))
    # Components are independent, so several small ones can share a solve; U only has to exceed
    # what the largest of them needs (costs are bounded over the whole instance).
    comp_rows = np.bincount(group_label, minlength=n_labels)
    comp_batch = np.zeros(n_labels, dtype=np.int64)
    batch, filled = 0, 0
    for comp in np.flatnonzero(comp_rows).tolist():
        if filled and filled + comp_rows[comp] > BATCH_ROWS:
            batch, filled = batch + 1, 0
        comp_batch[comp] = batch
        filled += int(comp_rows[comp])
    group_batch = comp_batch[group_label]
    group_order = np.argsort(group_batch, kind="stable")
    bounds = np.searchsorted(group_batch[group_order], np.arange(batch + 2))
    cmin, cmax = float(cost.min()), float(cost.max())
    chosen = []
    for b in range(batch + 1):
        gs = group_order[bounds[b] : bounds[b + 1]]  # ascending: the sort is stable
        if 4 * int(lengths[gs].sum()) > len(cols):  # a big part: a mask is cheaper than index arithmetic
            in_part = np.zeros(n_groups, dtype=bool)
            in_part[gs] = True
            part = np.flatnonzero(np.repeat(in_part, lengths)).astype(np.int32 if len(cols) < 2**31 else np.int64)
        else:
            part = _edges_of(starts[gs], lengths[gs])
        largest = int(comp_rows[np.unique(group_label[gs])].max())
        penalty = largest * (cmax - cmin) + max(cmax, 0.0) + 1.0
        local_row = np.repeat(np.arange(len(gs), dtype=np.int32), lengths[gs])
        chosen.append(part[_solve_part(local_row, cols[part], cost[part], capacity, method, penalty)])
    return np.sort(np.concatenate(chosen))


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
