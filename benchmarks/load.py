"""Load test: 50 coordinators and 200 link clicks a minute against gunicorn on PostgreSQL.

    BENCH_DATABASE_URL=postgresql://maatwerk:maatwerk@localhost:5432/maatwerk_bench \
        python benchmarks/load.py [--run-time 60] [--soak]

Prepares the database (WARNING: emptied), starts gunicorn on 127.0.0.1, measures the unloaded
latency of the list pages with one user, then runs locust headless for --run-time seconds
(--soak: 600) while sampling the workers' resident memory every 10 s from /proc. Prints
p50/p95/p99 per request group, the error count and the memory trend; exits 1 when a list page's
p95 exceeds 300 ms or any request failed. Needs the "bench" extra (locust).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from server import gunicorn, new_secret, prepare, rss_kib, worker_pids

HERE = Path(__file__).resolve().parent
LIST_P95_LIMIT_MS = 300
BASELINE_PAGES = [
    "/vrijwilligers/", "/vrijwilligers/?status=available&pc4=352", "/deelnemers/",
    "/deelnemers/?status=waiting&min_wait=180&sort=waiting",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def baseline(base_url: str, account: str, password: str, rounds: int = 10) -> list[float]:
    """List-page latencies (ms) for one user alone: the unloaded reference."""
    client = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(base_url + "/login").text)
    assert token, "no CSRF token on the login page"
    login = client.post(base_url + "/login", allow_redirects=False,
                        data={"email": account, "password": password, "csrf_token": token.group(1)})
    assert login.status_code == 302, login.status_code
    times = []
    for _ in range(rounds):
        for path in BASELINE_PAGES:
            start = time.perf_counter()
            assert client.get(base_url + path).status_code == 200, path
            times.append((time.perf_counter() - start) * 1000)
    return times


class MemorySampler(threading.Thread):
    """Total and per-worker RSS of the gunicorn workers every `every` seconds."""

    def __init__(self, master: int, every: float) -> None:
        super().__init__(daemon=True)
        self.master, self.every = master, every
        self.samples: list[tuple[float, list[int]]] = []
        self.stop = threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        while not self.stop.is_set():
            pids = worker_pids(self.master)
            self.samples.append((time.monotonic() - self.started, [rss_kib(p) for p in pids]))
            self.stop.wait(self.every)


def run_locust(base_url: str, plan: Path, users: int, clickers: int, clicks: float, think: str,
               run_time: int, out: Path) -> Path:
    env = {**os.environ, "LOAD_PLAN": str(plan), "LOAD_CLICKERS": str(clickers),
           "LOAD_CLICKS_PER_MINUTE": str(clicks), "LOAD_THINK": think}
    prefix = out / "locust"
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
         "-u", str(users + clickers), "-r", "10", "-t", f"{run_time}s", "-H", base_url,
         "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"],
        env=env, check=False, timeout=run_time + 120,
    )
    return Path(f"{prefix}_stats.csv")


def report(stats: Path, unloaded: list[float], memory: MemorySampler, run_time: int) -> bool:
    rows = list(csv.DictReader(stats.open()))
    print(f"\nUnloaded list pages (1 user, {len(unloaded)} requests): "
          f"p50 {percentile(unloaded, 50):.0f} ms, p95 {percentile(unloaded, 95):.0f} ms, "
          f"p99 {percentile(unloaded, 99):.0f} ms")
    print(f"\nUnder load ({run_time} s):")
    print(f"{'group':<14}{'requests':>9}{'failures':>9}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}"
          f"{'max':>8}")
    ok = True
    for row in rows:
        name = row["Name"]
        print(f"{name:<14}{row['Request Count']:>9}{row['Failure Count']:>9}"
              f"{float(row['Requests/s']):>8.1f}{row['50%']:>7}{row['95%']:>7}{row['99%']:>7}"
              f"{float(row['Max Response Time']):>8.0f}")
        if name == "list" and float(row["95%"]) > LIST_P95_LIMIT_MS:
            print(f"  FAIL: list p95 above {LIST_P95_LIMIT_MS} ms")
            ok = False
        if name == "Aggregated" and int(row["Failure Count"]) > 0:
            print("  FAIL: requests failed")
            ok = False
    totals = [sum(rss) / 1024 for _t, rss in memory.samples if rss]
    if totals:
        print(f"\nWorkers' RSS (MiB, sum of {len(memory.samples[-1][1])} workers, every "
              f"{memory.every:.0f} s): " + " ".join(f"{t:.0f}" for t in totals))
        half = len(totals) // 2 or 1
        first, last = statistics.mean(totals[:half]), statistics.mean(totals[half:])
        print(f"first half mean {first:.0f} MiB, second half mean {last:.0f} MiB, "
              f"growth {100 * (last - first) / first:+.1f} %, max {max(totals):.0f} MiB")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--run-time", type=int, default=60, help="seconds under load")
    parser.add_argument("--soak", action="store_true", help="run 600 s and watch the memory")
    parser.add_argument("--users", type=int, default=50, help="concurrent coordinators")
    parser.add_argument("--clicks", type=float, default=200, help="link clicks per minute")
    parser.add_argument("--clickers", type=int, default=4, help="users sharing those clicks")
    parser.add_argument("--think", default="1,3", help="coordinators' think time, min,max s")
    parser.add_argument("--people", type=int, default=5000,
                        help="volunteers and residents each, on top of the demo population")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--out", default="", help="directory for the CSV and the server log")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("give a PostgreSQL database (--database-url or BENCH_DATABASE_URL)")
    run_time = 600 if args.soak else args.run_time
    out = Path(args.out or tempfile.mkdtemp(prefix="maatwerk-load-"))
    out.mkdir(parents=True, exist_ok=True)
    secret = new_secret()

    started = time.monotonic()
    population = prepare(args.database_url, secret=secret, people=args.people,
                         accounts=args.users)
    plan = out / "plan.json"
    plan.write_text(json.dumps(population.as_dict()))
    print(f"prepared in {time.monotonic() - started:.0f} s: {args.people} volunteers and "
          f"{args.people} residents on top of the demo, {args.users} staff accounts, "
          f"{len(population.tokens)} links; output in {out}")

    with gunicorn(args.database_url, secret=secret, workers=args.workers,
                  log=out / "gunicorn.log") as (base_url, process):
        baseline(base_url, population.accounts[0], population.as_dict()["password"], rounds=2)
        unloaded = baseline(base_url, population.accounts[0], population.as_dict()["password"])
        memory = MemorySampler(process.pid, every=10)
        memory.start()
        stats = run_locust(base_url, plan, args.users, args.clickers, args.clicks, args.think,
                           run_time, out)
        memory.stop.set()
        memory.join()
    log = (out / "gunicorn.log").read_text(errors="replace").splitlines()
    server_errors = sum(1 for line in log if re.search(r'" 5\d\d ', line) or "Traceback" in line)
    ok = report(stats, unloaded, memory, run_time)
    print(f"server log: {server_errors} 5xx responses or tracebacks")
    return 0 if ok and server_errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
