"""The reminder and expiry jobs, run as the scheduler would: twice in a row does it once."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from jobs.scheduler import JOBS
from matching.store import Match, OutboxMessage, Resident, make_session_factory, utcnow
from tests.services.workflow import approve, run

ROOT = Path(__file__).resolve().parents[2]


def run_job(job_id: str, database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT),
           "MAATWERK_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": "k" * 48}
    done = subprocess.run([sys.executable, "-m", "jobs", "run", job_id], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def offered_days_ago(session, days: float):
    now = utcnow() - timedelta(days=days)
    [match] = run(session, now=now)
    approve(session, match, now=now)
    return match


def test_the_jobs_are_registered():
    assert JOBS["proposals.remind"][0] == "jobs.tasks:remind_proposals"
    assert JOBS["proposals.expire"][0] == "jobs.tasks:expire_proposals"
    assert JOBS["proposals.expire"][1] == {"trigger": "interval", "hours": 1}


def test_remind_job_sends_one_reminder(session, engine, database_url, tmp_path,
                                       make_volunteer, make_resident):
    make_volunteer()
    make_resident()
    match = offered_days_ago(session, 4)
    for _ in range(2):
        run_job("proposals.remind", database_url, tmp_path)
    with make_session_factory(engine)() as fresh:
        reminders = fresh.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"reminder:{match.id}"))
        assert reminders == 1
        assert fresh.get(Match, match.id).reminded_at is not None


def test_expire_job_expires_once_and_the_resident_waits(session, engine, database_url, tmp_path,
                                                        make_volunteer, make_resident):
    make_volunteer()
    resident = make_resident()
    match = offered_days_ago(session, 8)
    for _ in range(2):
        run_job("proposals.expire", database_url, tmp_path)
    with make_session_factory(engine)() as fresh:
        assert fresh.get(Match, match.id).status == "expired"
        assert fresh.get(Resident, resident.id).status == "waiting"
