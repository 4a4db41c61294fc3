"""Time the weekly check-in job for N active matches, next to a naive per-match ORM loop.

    PYTHONPATH=. python benchmarks/weekly_check_ins.py [--matches 10000] [--database URL]

Without --database it uses a fresh SQLite file. A PostgreSQL database is emptied first (its
public schema dropped and migrated again), so point it at a scratch database only. The job
(check_ins.send_weekly) runs for one week, the naive loop for the next, so both start from the
same state: N active matches without a check-in for their week.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from matching.services import check_ins, links, mail
from matching.store import (
    CheckIn, Match, OutboxMessage, Resident, Volunteer, make_engine, make_session_factory, schema,
)
from matching.store.base import new_id

SECRET = "benchmark-secret-" + "x" * 40
BASE = "https://maatwerk.example"
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def populate(session: Session, n: int) -> None:
    """N available volunteers, N matched residents, N active matches, inserted in bulk."""
    now = MONDAY - timedelta(days=120)
    volunteers = [
        {"id": new_id(), "first_name": f"Vrijwilliger{i}", "last_name": "Test",
         "email": f"v{i}@example.org", "languages": ["nl"], "interests": [], "activities": [],
         "availability": [], "status": "available", "capacity": 1, "open_matches": 1,
         "max_travel_km": 5.0, "vog_status": "valid", "source": "demo", "is_returning": False,
         "registered_at": now, "created_at": now, "updated_at": now, "version": 1}
        for i in range(n)
    ]
    residents = [
        {"id": new_id(), "first_name": f"Deelnemer{i}", "last_name": "Test", "languages": ["nl"],
         "interests": [], "activities": [], "availability": [], "status": "matched",
         "target_group": "older_person", "referral_source": "gp", "can_travel": False,
         "contact_via_referrer": False, "created_at": now, "updated_at": now, "version": 1}
        for i in range(n)
    ]
    matches = [
        {"id": new_id(), "volunteer_id": v["id"], "resident_id": r["id"], "status": "active",
         "explanation": {}, "locked": False, "proposed_at": now, "activated_at": now,
         "updated_at": now, "version": 1}
        for v, r in zip(volunteers, residents, strict=True)
    ]
    for table, rows in ((Volunteer, volunteers), (Resident, residents), (Match, matches)):
        session.execute(insert(table.__table__), rows)
    session.commit()


def naive(session: Session, now: datetime) -> int:
    """The obvious version: one ORM object, one link and one enqueue per match."""
    week = check_ins.iso_week(now)
    sent = 0
    for match in session.scalars(select(Match).where(Match.status == "active")):
        exists = session.scalar(
            select(CheckIn.id).where(CheckIn.match_id == match.id, CheckIn.week == week))
        if exists or not match.volunteer.email:
            continue
        check_in = CheckIn(match_id=match.id, week=week, sent_at=now)
        session.add(check_in)
        session.flush()
        token = links.issue(session, purpose="check_in", subject=("check_in", check_in.id),
                            person=("volunteer", match.volunteer_id), now=now,
                            ttl=timedelta(days=21), secret=SECRET)
        mail.enqueue(
            session, dedupe_key=f"check_in:{match.id}:{week}",
            to=(match.volunteer.full_name, match.volunteer.email), template="check_in",
            context={"name": match.volunteer.first_name, "link": f"{BASE}/check-in/{token}",
                     "week_number": int(week[-2:]), "valid_until": "2026-12-21"},
            locale="nl", subject_kind="match", subject_id=match.id, now=now,
        )
        sent += 1
    session.commit()
    return sent


def timed(label: str, run) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    sent = run()
    seconds = time.perf_counter() - started
    print(f"{label:<34} {sent:>6} check-ins in {seconds:6.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=10_000)
    parser.add_argument("--database", default="")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/benchmark.sqlite"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    schema.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        populate(session, args.matches)
    print(f"{engine.dialect.name}: {args.matches} active matches")

    def job() -> int:
        with sessions() as session, session.begin():
            return check_ins.send_weekly(session, now=MONDAY, base_url=BASE, secret=SECRET).sent

    def again() -> int:
        with sessions() as session, session.begin():
            return check_ins.send_weekly(session, now=MONDAY, base_url=BASE, secret=SECRET).sent

    job_seconds = timed("send_weekly (bulk, chunks of 1000)", job)
    timed("send_weekly again (nothing to do)", again)
    if not args.skip_naive:
        with sessions() as session:
            naive_seconds = timed("naive per-match ORM loop", lambda: naive(
                session, MONDAY + timedelta(weeks=1)))
        print(f"speed-up: {naive_seconds / job_seconds:.1f}x")
    with sessions() as session:
        print("outbox rows:", session.scalar(select(func.count()).select_from(OutboxMessage)))
    engine.dispose()


if __name__ == "__main__":
    main()
