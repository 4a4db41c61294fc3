"""OR-Library assignment instances: the assignment core reaches every published optimum.

Run: PYTHONPATH=. python benchmarks/orlib.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from matching.solver import assign  # noqa: E402

ORLIB = HERE.parent.parent / "shared" / "orlib"
OPTIMA = {100: 305, 200: 475, 300: 626, 400: 804, 500: 991, 600: 1176, 700: 1362, 800: 1552}


def main() -> None:
    if not ORLIB.exists():
        print("../shared/orlib is absent: nothing to run")
        return
    print("| instance | n | published optimum | dense (s) | dense cost | sparse (s) | sparse cost | both optimal |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for n, optimum in OPTIMA.items():
        values = np.array((ORLIB / f"assign{n}.txt").read_text().split(), dtype=np.float64)
        cost = values[1:].reshape(int(values[0]), -1)
        row = []
        for method in ("dense", "sparse"):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                rows, cols = assign(cost, method=method)
                times.append(time.perf_counter() - start)
            row.append((min(times), cost[rows, cols].sum(), len(rows)))
        good = all(total == optimum and matched == n for _, total, matched in row)
        print(f"| assign{n} | {n} | {optimum} | {row[0][0]:.3f} | {row[0][1]:.0f} | {row[1][0]:.3f} | {row[1][1]:.0f} | {'yes' if good else 'NO'} |")
    print("\n(seconds: best of 3, from the cost matrix to the pairs; 'sparse' is the per-component LAPJVsp path)")


if __name__ == "__main__":
    main()
