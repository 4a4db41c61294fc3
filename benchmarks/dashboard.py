"""How fast the dashboard renders with 10,000 matches and 100,000 check-ins (SQLite, PostgreSQL).

    PYTHONPATH=. python benchmarks/dashboard.py [--postgresql URL] [--repeat 5]

The PostgreSQL database given is WIPED (its public schema is dropped), as the test suite does.
Prints one table: the full dashboard page over HTTP (logged in, every indicator and all four
survival splits), the services on their own, and a baseline measured in the same run: the
naive computation that loads every match and check-in as objects and counts in Python loops.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from config import TestConfig
from matching.services import durability, reports
from matching.services import staff as staff_service
from matching.services.passwords import HashProfile
from matching.services.periods import ZONE, Period
from matching.store import (
    END_REASONS, CheckIn, Match, MatchRun, Resident, Volunteer, make_engine, make_session_factory,
    schema, utcnow,
)
from matching.store.base import new_id

WIJKEN = ("Binnenstad", "Oost", "Noordoost", "Overvecht", "Noordwest", "West", "Zuidwest",
          "Zuid", "Leidsche Rijn", "Vleuten-De Meern")
GROUPS = ("older_person", "migrant_elder", "informal_carer", "young_person", "other")
PASSWORD = "zeven-lange-paarden-draven"


def populate(session: Session, matches: int, check_ins: int, seed: int = 1) -> dict[str, int]:
    """Volunteers, residents, one match per resident and weekly check-ins, by bulk insert."""
    rng, now = random.Random(seed), utcnow()
    volunteers = [{
        "id": new_id(), "first_name": "V", "last_name": str(i), "status": "available",
        "neighbourhood": rng.choice(WIJKEN),
        "registered_at": now - timedelta(days=rng.randint(0, 900)),
        "is_returning": rng.random() < 0.05,
        "returned_at": now - timedelta(days=rng.randint(0, 300)),
        "languages": ["nl"], "interests": [], "activities": [], "availability": [],
    } for i in range(matches // 3)]
    residents = [{
        "id": new_id(), "first_name": "R", "last_name": str(i), "target_group": rng.choice(GROUPS),
        "neighbourhood": rng.choice(WIJKEN), "status": "matched" if i < matches else "waiting",
        "created_at": now - timedelta(days=rng.randint(0, 700)),
        "waiting_since": (now - timedelta(days=rng.randint(0, 500))).date(),
        "loneliness_score": rng.randint(0, 6),
        "languages": ["nl"], "interests": [], "activities": [], "availability": [],
    } for i in range(matches + matches // 5)]
    match_rows, check_in_rows = [], []
    for resident in residents[:matches]:
        activated = now - timedelta(days=rng.randint(1, 540))
        state = rng.choices(["active", "ended", "declined", "expired"], [45, 40, 10, 5])[0]
        row = {
            "id": new_id(), "volunteer_id": rng.choice(volunteers)["id"],
            "resident_id": resident["id"], "status": state,
            "score": rng.uniform(30, 99), "distance_km": rng.uniform(0.1, 8),
            "proposed_at": activated - timedelta(days=20),
            "decided_at": activated - timedelta(days=14),
            "activated_at": None, "ended_at": None, "end_reason": None,
            "decline_reason": (rng.choice(["Te ver weg", "Geen klik", "Geen tijd"])
                               if state == "declined" else None),
            "explanation": {},
        }
        if state in ("active", "ended"):
            row["activated_at"] = activated
        if state == "ended":
            lasted = rng.randint(7, max(7, (now - activated).days))
            row["ended_at"] = activated + timedelta(days=lasted)
            row["end_reason"] = rng.choice(END_REASONS)
        match_rows.append(row)
    started = max(1, sum(r["activated_at"] is not None for r in match_rows))
    per_match = max(1, -(-check_ins // started))
    for row in match_rows:
        if row["activated_at"] is None or len(check_in_rows) >= check_ins:
            continue
        until = row["ended_at"] or now
        monday = (until - timedelta(days=until.weekday())).replace(hour=8, minute=0)
        for week in range(4 * per_match):
            sent = monday - timedelta(weeks=week)
            if sent <= row["activated_at"] or len(check_in_rows) >= check_ins:
                break
            answered = rng.random() < 0.9
            year, number, _day = sent.isocalendar()
            check_in_rows.append({
                "id": new_id(), "match_id": row["id"], "week": f"{year}-W{number:02d}",
                "sent_at": sent, "answered_at": sent + timedelta(hours=5) if answered else None,
                "met": rng.choice(["yes", "yes", "yes", "no", "not_planned"]) if answered else None,
                "rating": rng.randint(1, 5) if answered else None,
                "call_requested": rng.random() < 0.03,
            })
    waiting_ids = [r["id"] for r in residents[matches:]]
    runs = [{"id": new_id(), "status": "done", "started_at": now - timedelta(days=14 * n),
             "scope": {}, "settings": {}, "stats": {}, "progress": 100,
             "unmatched": {i: rng.choice(["no_shared_language", "no_volunteer_in_reach"])
                           for i in waiting_ids}} for n in range(40)]
    for model, rows in ((Volunteer, volunteers), (Resident, residents), (MatchRun, runs),
                        (Match, match_rows), (CheckIn, check_in_rows)):
        for start in range(0, len(rows), 5000):
            session.execute(insert(model.__table__), rows[start:start + 5000])
    session.commit()
    return {"matches": len(match_rows), "check_ins": len(check_in_rows),
            "residents": len(residents), "volunteers": len(volunteers)}


def naive_indicators(session: Session, period: Period) -> dict[str, Any]:
    """The baseline: every match and check-in loaded as objects, counted in Python loops."""
    starts, ends, as_of, now = period.starts, period.ends, period.as_of, period.now
    counts: defaultdict[tuple[str, str], defaultdict[str, float]] = defaultdict(
        lambda: defaultdict(float))
    all_matches = session.scalars(select(Match)).unique().all()
    by_match: defaultdict[str, list[CheckIn]] = defaultdict(list)
    for check_in in session.scalars(select(CheckIn)):
        by_match[check_in.match_id].append(check_in)
    for match in all_matches:
        resident = match.resident
        for key in (("all", ""), ("wijk", resident.neighbourhood or ""),
                    ("group", resident.target_group)):
            c = counts[key]
            if starts <= match.proposed_at < ends:
                c["proposals"] += 1
            active = (match.activated_at is not None and match.activated_at < as_of
                      and (match.ended_at is None or match.ended_at >= as_of))
            c["active"] += active
            if match.ended_at and starts <= match.ended_at < ends:
                c[f"ended:{match.end_reason}"] += 1
            for days in (91, 182):
                mark = timedelta(days=days)
                if (match.activated_at and starts - mark <= match.activated_at < ends - mark
                        and match.activated_at <= now - mark):
                    c[f"eligible{days}"] += 1
                    if match.ended_at is None or match.ended_at - match.activated_at >= mark:
                        c[f"durable{days}"] += 1
            weeks = sorted(by_match[match.id], key=lambda ci: ci.sent_at, reverse=True)
            for check_in in weeks:
                if starts <= check_in.sent_at < as_of:
                    c["sent"] += 1
                    c["answered"] += check_in.answered_at is not None
            if active:
                recent = [ci for ci in weeks if ci.sent_at < as_of][:3]
                missed = len(recent) >= 2 and all(ci.answered_at is None for ci in recent[:2])
                not_met = len(recent) == 3 and all(ci.met in ("no", "not_planned") for ci in recent)
                last = recent[0] if recent else None
                if missed or not_met or (last and ((last.rating or 5) <= 2 or last.call_requested)):
                    c["at_risk"] += 1
    return {f"{k[0]}:{k[1]}": dict(v) for k, v in counts.items()}


def timed(work: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and worst wall time in milliseconds, after one warm-up run."""
    work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def measure(url: str, label: str, matches: int, check_ins: int, repeat: int) -> list[tuple]:
    from web import create_app

    engine = make_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    schema.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        sizes = populate(session, matches, check_ins)
        staff_service.create_user(session, email="meting@vcu.example", name="Meting",
                                  role="coordinator", password=PASSWORD,
                                  profile=HashProfile(1, 8, 1))
        session.commit()
    if url.startswith("postgresql"):
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    app = create_app(TestConfig(url))
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "no CSRF token on the login page"
    token = found.group(1)
    client.post("/login", data={"email": "meting@vcu.example", "password": PASSWORD,
                                "csrf_token": token})
    assert client.get("/dashboard").status_code == 200

    today = utcnow().astimezone(ZONE).date()
    period = Period(date(today.year - 1, today.month, min(today.day, 28)) + timedelta(days=1),
                    today + timedelta(days=1), utcnow())

    def services() -> None:
        with sessions() as session:
            reports.indicators(session, period)
            durability.every_split(session, period)

    def indicators_only() -> None:
        with sessions() as session:
            reports.indicators(session, period)

    def naive() -> None:
        with sessions() as session:
            naive_indicators(session, period)

    rows = []
    for what, work in [
        ("dashboard page, HTTP GET /dashboard", lambda: client.get("/dashboard")),
        ("indicators + 4 survival splits (services)", services),
        ("indicators only (SQL aggregates)", indicators_only),
        ("baseline: naive Python loops over objects", naive),
    ]:
        median, worst = timed(work, repeat)
        rows.append((label, what, sizes["matches"], sizes["check_ins"], median, worst))
    app.extensions["maatwerk.engine"].dispose()
    engine.dispose()
    return rows


def profile(url: str, matches: int, check_ins: int) -> None:
    """Time each indicator query on its own (for finding the slow one)."""
    engine = make_engine(url)
    schema.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        populate(session, matches, check_ins)
    today = utcnow().astimezone(ZONE).date()
    period = Period(today - timedelta(days=365), today + timedelta(days=1), utcnow())
    for name in ("_volunteers", "_waiting", "_matches", "_check_ins", "_at_risk", "_loneliness"):
        function = getattr(reports, name)
        with sessions() as session:
            args = (session, reports._Tally(), period, None)
            args += () if name == "_volunteers" else (None,)
            print(name, f"{timed(lambda: function(*args), 3)[0]:.0f} ms")
    with sessions() as session:
        print("durations", f"{timed(lambda: durability.durations(session, period), 3)[0]:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--postgresql", default="",
                        help="URL of a PostgreSQL database to WIPE and use")
    parser.add_argument("--matches", type=int, default=10_000)
    parser.add_argument("--check-ins", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += measure(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", "SQLite", args.matches,
                        args.check_ins, args.repeat)
    if args.postgresql:
        rows += measure(args.postgresql, "PostgreSQL", args.matches, args.check_ins, args.repeat)
    # Wall times: on a shared machine they grow with the load, the baseline's as much as ours.
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"median of {args.repeat} runs after one warm-up")
    print("| database | what | matches | check-ins | median ms | worst ms |")
    print("|---|---|---:|---:|---:|---:|")
    for label, what, matches, check_ins, median, worst in rows:
        print(f"| {label} | {what} | {matches:,} | {check_ins:,} | {median:.0f} | {worst:.0f} |")


if __name__ == "__main__":
    main()
