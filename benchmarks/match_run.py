"""A match run end to end (load, solve, store) and the review page, on SQLite and PostgreSQL.

    PYTHONPATH=$PWD python benchmarks/match_run.py [--postgres URL] [--volunteers 2200]
        [--residents 2000] [--repeat 3] [--region utrecht|national] [--postgres-only]

National scale through the service (issue 18): --volunteers 50000 --residents 50000
--region national --postgres URL --postgres-only --repeat 1.

The baseline, measured in the same process, is the pure engine on the same problem
(engine.solve on the dict: no database). Targets: run <= 3 s; each view of the review table
(first page, a sort, a filter, a deep page) <= 0.3 s; at national scale the run <= 30 s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pools import make_problem  # noqa: E402

from config import TestConfig  # noqa: E402
from jobs import match_runs  # noqa: E402
from matching import engine  # noqa: E402
from matching.services import runs, staff  # noqa: E402
from matching.services.passwords import HashProfile  # noqa: E402
from matching.store import (  # noqa: E402
    Match, MatchRun, Resident, Volunteer, make_engine, make_session_factory, schema, utcnow,
)

TODAY = dt.date(2026, 11, 29)
PASSWORD = "lange-wachtzin-voor-metingen"


def fill(url: str, problem: dict) -> None:
    """A fresh schema holding the problem's people as volunteers and residents."""
    db = make_engine(url)
    if url.startswith("postgresql"):
        with db.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    schema.upgrade(db)
    now = utcnow()

    def common(rec: dict, n: int) -> dict:
        prefers = rec.get("prefers") or {}
        return {
            "id": f"{rec['id']:0>32}"[-32:], "first_name": f"P{n}", "last_name": "Bench",
            "email": f"p{n}@example.org", "lat": rec["lat"], "lon": rec["lon"],
            "languages": rec["languages"], "interests": rec["interests"],
            "activities": rec["activities"], "availability": rec["availability"],
            "gender": rec["gender"], "birth_year": rec["birth_year"],
            "prefers_gender": prefers.get("gender"), "prefers_min_age": prefers.get("min_age"),
            "prefers_max_age": prefers.get("max_age"), "created_at": now, "updated_at": now,
            "version": 1, "neighbourhood": "Binnenstad",
        }

    volunteers = [
        {**common(v, n), "capacity": v["capacity"], "max_travel_km": v["max_travel_km"],
         "status": "available", "open_matches": 0}
        for n, v in enumerate(problem["volunteers"])
    ]
    residents = [
        {**common(r, n), "max_travel_km": r["max_travel_km"], "status": "waiting",
         "waiting_since": dt.date.fromisoformat(r["waiting_since"])}
        for n, r in enumerate(problem["residents"])
    ]
    with make_session_factory(db)() as session:
        session.execute(insert(Volunteer), volunteers)
        session.execute(insert(Resident), residents)
        staff.create_user(session, email="bench@vcu.example", name="Bench", role="coordinator",
                          password=PASSWORD, profile=HashProfile(1, 8, 1))
        session.commit()
    db.dispose()


def reset(url: str) -> None:
    """Undo a run: no matches, everyone waiting again, counters at zero."""
    db = make_engine(url)
    with db.begin() as connection:
        connection.execute(Match.__table__.delete())
        connection.execute(MatchRun.__table__.delete())
        connection.execute(text("UPDATE volunteer SET open_matches = 0"))
        connection.execute(text("UPDATE resident SET status = 'waiting'"))
    db.dispose()


def time_run(url: str) -> tuple[float, dict[str, float], int]:
    """Seconds end to end as the run page's run takes them (queued, then the scheduler's
    executor), the seconds of each stage, proposals stored."""
    db = make_engine(url)
    sessions = make_session_factory(db)
    start = time.perf_counter()
    with sessions.begin() as session:
        run_id = runs.start_run(session, scope={}, settings={}, started_by=None, now=utcnow()).id
    assert match_runs.execute_queued(sessions) == 1
    seconds = time.perf_counter() - start
    with sessions() as session:
        run = session.get_one(MatchRun, run_id)
        assert run.status == "done", run.error
        proposed, stages = run.stats["proposed"], run.stats["stage_seconds"]
    db.dispose()
    return seconds, stages, proposed


REVIEW_VIEWS = {
    "first page": "",
    "sorted by distance": "sorteer=distance&richting=op",
    "filtered by a name": "naam=an",
    "only changed profiles": "gewijzigd=1",
    "deep page (page 35)": "page=35",
}


def time_review(url: str, repeat: int) -> dict[str, float]:
    """Median seconds per view of the review table (HTTP, templates included)."""
    from web import create_app

    from tests.logins import login  # type: ignore[import-not-found]

    app = create_app(TestConfig(url, RATELIMIT_ENABLED=False))
    client = app.test_client()
    assert login(client, "bench@vcu.example", PASSWORD).status_code == 302
    client.get("/koppelen/voorstellen/")  # the first request pays for template compilation
    medians = {}
    for label, query in REVIEW_VIEWS.items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(f"/koppelen/voorstellen/?{query}")
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
        medians[label] = statistics.median(times)
    app.extensions["maatwerk.engine"].dispose()
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", default="")
    parser.add_argument("--volunteers", type=int, default=2200)
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--region", choices=["utrecht", "national"], default="utrecht")
    parser.add_argument("--postgres-only", action="store_true")
    args = parser.parse_args()
    problem = make_problem(args.volunteers, args.residents, args.region, seed=7)
    problem["today"] = TODAY.isoformat()

    baseline: list[float] = []

    def solve_alone() -> None:
        # Interleaved with the runs, so a busy machine slows both alike.
        start = time.perf_counter()
        engine.solve(problem)
        baseline.append(time.perf_counter() - start)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        urls = [] if args.postgres_only else [("SQLite (file)", f"sqlite:///{tmp}/bench.sqlite")]
        if args.postgres:
            urls.append(("PostgreSQL", args.postgres))
        for name, url in urls:
            fill(url, problem)
            measured, stages = [], []
            for _ in range(args.repeat):
                solve_alone()
                reset(url)
                seconds, stage_seconds, proposed = time_run(url)
                measured.append(seconds)
                stages.append(stage_seconds)
            rows.append((f"{name}: run end to end ({proposed} proposals)",
                         statistics.median(measured), "<= 3.0" if args.region == "utrecht" else "<= 30"))
            for stage in stages[0]:
                rows.append((f"{name}:   stage {stage}", statistics.median(s[stage] for s in stages), "-"))
            for label, seconds in time_review(url, args.repeat).items():
                rows.append((f"{name}: review table of {proposed}, {label}", seconds, "<= 0.3"))
    rows.insert(0, ("baseline: engine.solve on the dict (no database)",
                    statistics.median(baseline), "-"))
    print(f"{args.volunteers} volunteers x {args.residents} residents, median of {args.repeat}")
    print(f"{'measurement':<62} {'seconds':>8} {'target':>8}")
    for label, seconds, target in rows:
        print(f"{label:<62} {seconds:>8.3f} {target:>8}")
    with open("/proc/self/status", encoding="ascii") as f:
        peak = next((int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:")), 0.0)
    print(f"peak memory of this process (problem dict, engine, service): {peak:,.0f} MB")


if __name__ == "__main__":
    main()
