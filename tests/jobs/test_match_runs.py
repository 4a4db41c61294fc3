"""Runs started on the run page: executed by the scheduler's job, stage by stage, seen from outside."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy import func, select

from jobs import match_runs
from jobs.scheduler import JOBS
from matching.services import runs
from matching.store import Match, MatchRun, make_session_factory

from .test_tasks import ROOT
from .test_tasks import run as run_jobs

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _people(session, make_volunteer, make_resident) -> None:
    make_volunteer(capacity=2)
    make_resident()
    make_resident(first_name="Truus")
    session.commit()


def _queue(session, **scope: str) -> str:
    run_id = runs.start_run(session, scope=scope, settings={}, started_by=None, now=NOW).id
    session.commit()
    return run_id


def test_a_queued_run_goes_through_each_stage_visibly_from_another_connection(
    engine, session, make_volunteer, make_resident
):
    _people(session, make_volunteer, make_resident)
    run_id = _queue(session)
    sessions = make_session_factory(engine)
    seen: list[tuple[str, str, int]] = []

    def look(stage: str) -> None:
        # What the run page reads at this moment, through its own connection.
        with sessions() as other:
            found = other.get_one(MatchRun, run_id)
            seen.append((stage, found.stage, found.progress))

    with sessions.begin() as claiming:
        assert runs.claim_next(claiming, now=NOW) == run_id
    assert match_runs.execute(sessions, run_id, heard=look) == "done"
    assert [s for s, _, _ in seen] == ["loading", "pairs", "solving", "explaining", "storing", "done"]
    assert [(s, stage) for s, stage, _ in seen][:-1] == [(s, s) for s, _, _ in seen][:-1]
    progress = [p for _, _, p in seen]
    assert progress == sorted(progress) and progress[0] < 50 < progress[-1] == 100
    session.expire_all()
    done = session.get_one(MatchRun, run_id)
    assert (done.status, done.stage, done.stats["proposed"]) == ("done", "done", 2)
    assert set(done.stats["stage_seconds"]) == {"loading", "pairs", "solving", "explaining", "storing"}
    assert all(seconds >= 0 for seconds in done.stats["stage_seconds"].values())


def test_a_run_whose_pool_changed_while_it_solved_reads_it_again(
    engine, session, make_volunteer, make_resident
):
    _people(session, make_volunteer, make_resident)
    first = _queue(session)
    sessions = make_session_factory(engine)
    assert match_runs.execute_queued(sessions) == 1
    second = _queue(session)
    approved: list[str] = []

    def approve_one(stage: str) -> None:
        if stage == "solving" and not approved:  # a coordinator approves while the engine works
            with sessions.begin() as other:
                match = other.scalars(select(Match).where(Match.run_id == first)).first()
                match.status = "offered"
                approved.append(match.id)

    with sessions.begin() as claiming:
        assert runs.claim_next(claiming, now=NOW) == second
    assert match_runs.execute(sessions, second, heard=approve_one) == "done"
    session.expire_all()
    assert session.get_one(Match, approved[0]).status == "offered"
    open_pairs = session.execute(
        select(Match.resident_id, func.count()).where(Match.status.in_(("proposed", "offered")))
        .group_by(Match.resident_id)).all()
    assert len(open_pairs) == 2 and all(n == 1 for _, n in open_pairs)  # nobody proposed twice
    assert session.get_one(MatchRun, second).stats["proposed"] == 1


def test_a_run_the_engine_cannot_solve_is_recorded_as_failed(
    engine, session, make_volunteer, make_resident, monkeypatch
):
    from matching import engine as matching_engine

    _people(session, make_volunteer, make_resident)
    run_id = _queue(session)

    def broken(problem, progress):
        raise RuntimeError("the solver crashed on Henk Jansen")

    monkeypatch.setattr(matching_engine, "solve", broken)
    assert match_runs.execute_queued(make_session_factory(engine)) == 1
    session.expire_all()
    failed = session.get_one(MatchRun, run_id)
    assert (failed.status, failed.error, failed.progress) == ("failed", "unexpected error", 100)
    assert session.scalar(select(func.count()).select_from(Match)) == 0


def test_the_registered_job_executes_queued_runs(database_url, tmp_path, session,
                                                 make_volunteer, make_resident):
    assert JOBS["match_runs.execute"][0] == "jobs.tasks:execute_match_runs"
    _people(session, make_volunteer, make_resident)
    run_id = _queue(session)
    run_jobs(database_url, tmp_path, "match_runs.execute", "match_runs.execute")
    session.expire_all()
    done = session.get_one(MatchRun, run_id)
    assert (done.status, done.stats["proposed"]) == ("done", 2)
    assert session.scalar(select(func.count()).select_from(Match)) == 2


def _maatwerk(database_url: str, tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    """The `maatwerk` command in a fresh process, on this test's database."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT),
           "MAATWERK_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": "c" * 40}
    return subprocess.run([sys.executable, "-c", "from web.cli import main; main()", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_command_line_runs_the_pool_and_prints_the_stages(database_url, tmp_path, session,
                                                              make_volunteer, make_resident):
    _people(session, make_volunteer, make_resident)
    done = _maatwerk(database_url, tmp_path, "match-run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[-1] for line in lines[:-1]] == [
        "loading", "pairs", "solving", "explaining", "storing", "done"]
    assert "done, 2 proposals" in lines[-1]
    session.expire_all()
    [made] = session.scalars(select(MatchRun)).all()
    assert made.status == "done" and made.started_by is None
    session.commit()  # SQLite: an open transaction holds the write lock
    refused = _maatwerk(database_url, tmp_path, "match-run", "--target-group", "aliens")
    assert refused.returncode != 0 and "refused" in refused.stderr
    assert session.scalar(select(func.count()).select_from(MatchRun)) == 1
