"""The scheduler killed in the middle of the weekly check-in job: the rerun completes it once.

The job runs in one transaction, so a process killed halfway (SIGKILL: no clean-up at all)
leaves nothing behind, and the next run (what a restarted scheduler does with the missed slot)
sends every check-in exactly once.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select, text

from benchmarks.weekly_check_ins import populate
from matching.store import CheckIn, Link, OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
MATCHES = 6000


def _job(database_url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "k" * 48,
           "BASE_URL": "http://maatwerk.test", "MAATWERK_INSTANCE": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "jobs", "run", "check_ins.weekly"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _writing(engine, database_url: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether another process holds an open write transaction on this database right now."""
    if database_url.startswith("sqlite"):
        probe = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    with engine.connect() as connection:
        return bool(connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")))


def _counts(engine) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return (
            connection.scalar(select(func.count()).select_from(CheckIn)),
            connection.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.dedupe_key.like("check_in%"))),
            connection.scalar(select(func.count()).select_from(Link)),
        )


def test_a_weekly_job_killed_halfway_leaves_nothing_and_the_rerun_sends_once(
    database_url, engine, session, tmp_path
):
    populate(session, MATCHES)
    session.close()

    job = _job(database_url, tmp_path)
    deadline = time.monotonic() + 60
    while not _writing(engine, database_url):
        assert job.poll() is None, job.stdout.read().decode()  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the job never started writing"
        time.sleep(0.05)
    time.sleep(0.3)  # well inside the transaction: it takes seconds for this many matches
    assert job.poll() is None, "the job finished before it could be killed"
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=30)

    deadline = time.monotonic() + 30
    while _writing(engine, database_url):  # PostgreSQL rolls the dead client's work back
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert _counts(engine) == (0, 0, 0)

    rerun = _job(database_url, tmp_path)
    output = rerun.communicate(timeout=300)[0].decode()
    assert rerun.returncode == 0, output
    assert _counts(engine) == (MATCHES, MATCHES, MATCHES)

    again = _job(database_url, tmp_path)
    assert again.wait(timeout=300) == 0
    assert _counts(engine) == (MATCHES, MATCHES, MATCHES)
    engine.dispose()
