"""The durability jobs run end to end from the registry against the configured database."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from matching.store import CheckIn, MilestoneReview, OutboxMessage, Resident

ROOT = Path(__file__).resolve().parents[2]


def run(database_url: str, tmp_path: Path, *job_ids: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT),
           "MAATWERK_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": "j" * 40,
           "RETENTION_MONTHS": "24"}
    code = "from jobs.scheduler import JOBS\nfrom apscheduler.util import ref_to_obj\n" + "".join(
        f"ref_to_obj(JOBS[{job_id!r}][0])()\n" for job_id in job_ids)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def test_each_durability_job_runs_and_is_idempotent(database_url, tmp_path, session,
                                                    make_active_match, make_resident):
    long_ago = datetime.now(UTC) - timedelta(days=100)
    make_active_match(long_ago)
    make_resident(status="closed", closed_at=long_ago - timedelta(days=900),
                  first_name="Oud", notes="weg ermee")
    session.commit()
    durability_jobs = ("check_ins.weekly", "reviews.due", "volunteers.reengage", "retention.apply")
    run(database_url, tmp_path, *durability_jobs, *durability_jobs)
    assert count(session, CheckIn) == 1
    assert count(session, MilestoneReview) == 1  # the 3-month review
    assert count(session, OutboxMessage) == 1
    assert session.scalar(select(func.count()).select_from(Resident).where(
        Resident.anonymised_at.is_not(None))) == 1


def test_the_monthly_refit_learns_once_per_new_history(database_url, tmp_path, session):
    from matching.store import DurabilityModel
    from tests import history

    run(database_url, tmp_path, "durability.refit")  # an empty history: skipped, not an error
    assert count(session, DurabilityModel) == 0
    history.load(session, seed=31, matches=200)
    session.commit()
    run(database_url, tmp_path, "durability.refit", "durability.refit")
    assert count(session, DurabilityModel) == 1
    model = session.scalars(select(DurabilityModel)).one()
    assert model.n > 150 and model.events >= 30
