"""National scale: 50,000 volunteers x 50,000 residents over all Dutch postcode areas.

Times the engine end to end (records -> explained proposals) in a fresh process with its peak
memory, then verifies the optimum with an independent exact method on the same allowed pairs:
OR-Tools' max-flow-min-cost (costs scaled to integers) when importable, else scipy's dense
linear_sum_assignment per component for the components small enough for a dense matrix.

Run: PYTHONPATH=. python benchmarks/engine_national.py [--size 50000] [--repeat 1]
(OR-Tools is not a project dependency: put it on PYTHONPATH to verify the largest components.)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from pools import NL_TXT, make_problem  # noqa: E402
from matching import engine, solver  # noqa: E402

COST_SCALE = 10**9


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: across fork and exec a child's
    ru_maxrss starts at its parent's size, so a small child of a big parent reports the parent."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def child(path: str, out: str) -> None:
    """Solve once in this (fresh) process; print time and memory as JSON."""
    with open(path, encoding="utf-8") as f:
        problem = json.load(f)
    rss_before = peak_mb()
    marks: list[tuple[str, float]] = []
    start, start_cpu = time.perf_counter(), time.process_time()
    result = engine.solve(problem, progress=lambda stage: marks.append((stage, time.perf_counter())))
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    ends = [t for _, t in marks[1:]] + [start + seconds]
    stages = {name: end - begun for (name, begun), end in zip(marks, ends)}
    peak = peak_mb()
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"pairs": [[p["volunteer"], p["resident"], p["cost"]] for p in result["pairs"]],
                   "stats": result["stats"]}, f)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak, "input_mb": rss_before,
                      "load": os.getloadavg()[0], "stages": stages}))


def verify_ortools(ri: np.ndarray, vi: np.ndarray, cost: np.ndarray, cap: np.ndarray, n_res: int) -> tuple[int, float, float]:
    """(matched, total cost, seconds) of the maximum flow of minimum cost, by OR-Tools."""
    from ortools.graph.python import min_cost_flow

    start = time.perf_counter()
    n_vol = len(cap)
    source, sink = n_res + n_vol, n_res + n_vol + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    res_nodes = np.unique(ri)
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(len(res_nodes), source), ri, n_res + np.arange(n_vol)]),
        np.concatenate([res_nodes, n_res + vi, np.full(n_vol, sink)]),
        np.concatenate([np.ones(len(res_nodes)), np.ones(len(ri)), cap]).astype(np.int64),
        np.concatenate([np.zeros(len(res_nodes)), np.rint(cost * COST_SCALE), np.zeros(n_vol)]).astype(np.int64),
    )
    flow.set_node_supply(source, len(res_nodes))
    flow.set_node_supply(sink, -len(res_nodes))
    status = flow.solve_max_flow_with_min_cost()
    assert status == flow.OPTIMAL, status
    return flow.maximum_flow(), flow.optimal_cost() / COST_SCALE, time.perf_counter() - start


def verify_dense(ri: np.ndarray, vi: np.ndarray, cost: np.ndarray, cap: np.ndarray, n_res: int, limit: int) -> tuple[int, int, float, float, int, np.ndarray]:
    """Per component small enough, dense linear_sum_assignment: (components, matched, cost, seconds, skipped rows, rows checked)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    start = time.perf_counter()
    n_vol = len(cap)
    graph = coo_matrix((np.ones(len(ri)), (ri, n_res + vi)), shape=(n_res + n_vol,) * 2).tocsr()
    _, label = connected_components(graph, directed=False)
    order = np.argsort(label[ri], kind="stable")
    bounds = np.flatnonzero(np.diff(label[ri][order])) + 1
    done = matched = skipped = 0
    total = 0.0
    checked = []
    for part in np.split(order, bounds):
        rows = np.unique(ri[part])
        if len(rows) * (cap[np.unique(vi[part])].sum() + len(rows)) > limit:
            skipped += len(rows)
            continue
        chosen = part[solver.assign_edges(ri[part], vi[part], cost[part], n_res, cap, method="dense")]
        done += 1
        checked.append(rows)
        matched += len(chosen)
        total += float(cost[chosen].sum())
    rows = np.concatenate(checked) if checked else np.empty(0, np.int64)
    return done, matched, total, time.perf_counter() - start, skipped, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("INPUT", "OUTPUT"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if not NL_TXT.exists():
        print("../shared/geo/NL.txt is absent: homes fall back to Utrecht's box, which is not a national pool")
    start = time.perf_counter()
    problem = make_problem(args.size, args.size, "national", args.seed)
    made = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        source, target = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        with open(source, "w", encoding="utf-8") as f:
            json.dump(problem, f)
        runs = []
        env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
        for _ in range(args.repeat):
            done = subprocess.run([sys.executable, __file__, "--child", source, target], capture_output=True,
                                  text=True, env=env, check=True)
            runs.append(json.loads(done.stdout))
        with open(target, encoding="utf-8") as f:
            result = json.load(f)

    # The allowed pairs and costs the engine optimised over, rebuilt here for the checks.
    pool = engine.parse(problem)
    pairs = engine.candidate_pairs(pool)
    ok = np.flatnonzero(pairs.allowed)
    ri, vi, cost = pairs.ri[ok], pairs.vi[ok], pairs.cost[ok]
    cap = pool.vols.capacity
    key = {(pool.volunteer_ids[v], pool.resident_ids[r]): c for v, r, c in zip(vi.tolist(), ri.tolist(), cost.tolist())}
    load: dict[str, int] = {}
    ours_cost = 0.0
    for v, r, _ in result["pairs"]:
        ours_cost += key[(v, r)]  # KeyError = a proposal outside the allowed pairs
        load[v] = load.get(v, 0) + 1
    capacity = dict(zip(pool.volunteer_ids, cap.tolist()))
    assert all(n <= capacity[v] for v, n in load.items()), "capacity exceeded"
    ours_matched = len(result["pairs"])

    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(ri)), (ri, len(pool.res) + vi)), shape=(len(pool.res) + len(cap),) * 2).tocsr()
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label[np.unique(ri)])
    sizes = np.sort(sizes[sizes > 0])[::-1]

    print(f"# National scale: {args.size:,} volunteers x {args.size:,} residents over {'all Dutch postcode areas (NL.txt)' if NL_TXT.exists() else 'Utrecht box'}, seed {args.seed} (pool built in {made:.0f} s)")
    print(f"# pairs in reach sharing a slot and a language {pairs.candidates:,}; allowed pairs {len(ok):,}; components {len(sizes):,}, "
          f"largest {sizes[0]:,} residents, next {', '.join(str(s) for s in sizes[1:4])}")
    print()
    print("| what | value |")
    print("|---|---:|")
    seconds = [r["seconds"] for r in runs]
    print(f"| engine end to end (records -> explained proposals), fresh process, median of {len(runs)} "
          f"(CPU time {statistics.median([r['cpu'] for r in runs]):.2f} s; 1-min load average "
          f"{statistics.median([r['load'] for r in runs]):.1f} on 2 cores) | {statistics.median(seconds):.2f} s |")
    solve_s = statistics.median([r["stages"]["solving"] for r in runs])
    print("| its stages: parse, pairs and scores / solve (and the unmatched's reasons) / explanations | "
          + " / ".join(f"{statistics.median([r['stages'][k] for r in runs]):.2f} s" for k in ("pairs", "solving", "explaining"))
          + " |")
    print(f"| peak RSS of that process (input records loaded: {runs[0]['input_mb']:.0f} MB) | {max(r['peak_mb'] for r in runs):.0f} MB |")
    print(f"| matched / residents | {ours_matched:,} / {args.size:,} |")
    print(f"| total cost (ours) | {ours_cost:.6f} |")
    ortools_s = None
    try:
        m, c, t = verify_ortools(ri, vi, cost, cap, len(pool.res))
        ortools_s = t
        # Rounding each cost to 1e-9 moves a total by at most matched * 0.5e-9.
        same = m == ours_matched and abs(c - ours_cost) <= ours_matched * 1e-9 + 1e-9
        print(f"| OR-Tools max-flow-min-cost on the same allowed pairs (costs x 1e9 as integers), {t:.1f} s | "
              f"{m:,} matched, cost {c:.6f}: {'SAME optimum' if same else 'DIFFERENT'} |")
    except ImportError:
        print("| OR-Tools | not importable: skipped |")
    n, m, c, t, skipped, rows = verify_dense(ri, vi, cost, cap, len(pool.res), limit=60_000_000)
    names = {pool.resident_ids[r] for r in rows.tolist()}
    mine = [p for p in result["pairs"] if p[1] in names]
    mine_cost = sum(key[(v, r)] for v, r, _ in mine)
    same = len(mine) == m and abs(mine_cost - c) < 1e-6
    print(f"| dense linear_sum_assignment per component ({n} components, {len(names):,} residents, {t:.1f} s; "
          f"{skipped:,} residents in components too big for a dense matrix not checked this way) | "
          f"{m:,} matched, cost {c:.6f} vs ours {len(mine):,}, {mine_cost:.6f}: {'SAME' if same else 'DIFFERENT'} |")
    print()
    peak = max(r["peak_mb"] for r in runs)
    ratio = "OR-Tools absent" if ortools_s is None else (
        f"{solve_s / ortools_s:.2f} of OR-Tools: {'met' if solve_s <= ortools_s / 2 else 'NOT met'}")
    print(f"targets (#18): end to end <= 4 s {'met' if statistics.median(seconds) <= 4 else 'NOT met'}; "
          f"peak <= 1 GB {'met' if peak <= 1024 else 'NOT met'}; solve stage <= 1/2 of OR-Tools' time: {ratio}")


if __name__ == "__main__":
    main()
