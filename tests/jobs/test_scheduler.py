"""The scheduler process: one leader per database, takeover, misfire grace, Amsterdam time."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from jobs import scheduler as scheduler_module
from jobs.scheduler import JOB_DEFAULTS, JOBS, build
from matching.store import make_engine, schema

from .ticker import TABLE

ROOT = Path(__file__).resolve().parents[2]
AMSTERDAM = "Europe/Amsterdam"
TICK = "tests.jobs.ticker:tick"


@pytest.fixture
def job_database(database_url):
    """The test database with an empty job store and an empty tick table."""
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
        connection.execute(text("DROP TABLE IF EXISTS scheduler_tick"))
        connection.execute(text(TABLE))
    yield database_url
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
        connection.execute(text("DROP TABLE IF EXISTS scheduler_tick"))
    engine.dispose()


def _ticks(url: str) -> list[tuple[int, float]]:
    engine = make_engine(url)
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT pid, at FROM scheduler_tick ORDER BY at")).all()
    engine.dispose()
    return [(int(pid), float(at)) for pid, at in rows]


def _start(url: str, tmp_path: Path, jobs: dict, name: str) -> subprocess.Popen:
    code = (
        "from jobs import scheduler\n"
        f"scheduler.run(jobs={jobs!r}, retry_seconds=0.5)\n"
    )
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT),
           "MAATWERK_INSTANCE": str(tmp_path / "instance"), "MAIL_OUTBOX_DIR": str(tmp_path)}
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def _wait_for(condition, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_two_schedulers_run_each_job_once_and_the_second_takes_over(job_database, tmp_path):
    jobs = {"test.tick": (TICK, {"trigger": "interval", "seconds": 1})}
    first = _start(job_database, tmp_path, jobs, "first")
    second = None
    try:
        assert _wait_for(lambda: len(_ticks(job_database)) >= 2), (tmp_path / "first.log").read_text()
        second = _start(job_database, tmp_path, jobs, "second")
        time.sleep(4)
        assert second.poll() is None  # alive, standing by
        both_running = _ticks(job_database)
        assert {pid for pid, _ in both_running} == {first.pid}

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = time.time()
        assert _wait_for(lambda: any(pid == second.pid for pid, _ in _ticks(job_database))), (
            (tmp_path / "second.log").read_text())
        time.sleep(2)
    finally:
        _stop(first, *([second] if second else []))
    ticks = _ticks(job_database)
    pids = [pid for pid, _ in ticks]
    # All of the first leader's runs come before all of the second's; none ran twice.
    assert pids == sorted(pids, key=lambda pid: pid != first.pid)
    assert all(at < killed_at for pid, at in ticks if pid == first.pid)
    gaps = [b - a for (_, a), (_, b) in zip(ticks, ticks[1:])]
    assert min(gaps) > 0.5, gaps
    assert "scheduler.standby" in (tmp_path / "second.log").read_text()


def test_a_slot_missed_three_hours_ago_runs_once_on_start(job_database, tmp_path):
    zone = ZoneInfo(AMSTERDAM)
    now = datetime.now(zone).replace(second=0, microsecond=0)
    slot_minute = (now + timedelta(minutes=20)).minute
    jobs = {"test.hourly": (TICK, {"trigger": "cron", "minute": slot_minute})}
    missed = now + timedelta(minutes=20) - timedelta(hours=3)

    # The state a scheduler leaves behind when it stopped before the slot three hours ago.
    seeding = build(job_database, AMSTERDAM, jobs)
    thread = threading.Thread(target=seeding.start, kwargs={"paused": True})
    thread.start()
    assert _wait_for(lambda: seeding.running, 10)
    seeding.modify_job("test.hourly", next_run_time=missed)
    seeding.shutdown()
    thread.join(10)

    process = _start(job_database, tmp_path, jobs, "late")
    try:
        assert _wait_for(lambda: len(_ticks(job_database)) >= 1), (tmp_path / "late.log").read_text()
        time.sleep(3)
    finally:
        _stop(process)
    # Three slots were missed (-2h40, -1h40, -0h40): coalesced into a single run.
    assert len(_ticks(job_database)) == 1
    after = build(job_database, AMSTERDAM, jobs)
    stored = scheduler_module._stored_jobs(after, after._jobstores["default"], keep=set(jobs))
    assert stored["test.hourly"][1] == now + timedelta(minutes=20)


def test_changed_job_definition_is_replaced_not_kept(job_database):
    old = {"test.job": (TICK, {"trigger": "cron", "hour": 3})}
    seeding = build(job_database, AMSTERDAM, old)
    thread = threading.Thread(target=seeding.start, kwargs={"paused": True})
    thread.start()
    assert _wait_for(lambda: seeding.running, 10)
    seeding.modify_job("test.job", next_run_time=datetime(2020, 1, 1, tzinfo=UTC))
    seeding.shutdown()
    thread.join(10)
    new = {"test.job": (TICK, {"trigger": "cron", "hour": 4})}
    rebuilt = build(job_database, AMSTERDAM, new)
    pending = {job.id: job for job in rebuilt.get_jobs()}
    assert not hasattr(pending["test.job"], "next_run_time")  # computed afresh on start
    kept = build(job_database, AMSTERDAM, old)
    assert kept.get_jobs()[0].next_run_time == datetime(2020, 1, 1, tzinfo=UTC)


MONDAY_NINE = {"checkins.weekly": (TICK, {"trigger": "cron", "day_of_week": "mon", "hour": 9,
                                          "minute": 0})}


@pytest.mark.parametrize(("after", "expected_utc"), [
    # 2026: summer time from Sunday 29 March, winter time from Sunday 25 October.
    (datetime(2026, 3, 23, 7, 0, tzinfo=UTC), datetime(2026, 3, 23, 8, 0, tzinfo=UTC)),
    (datetime(2026, 3, 23, 8, 0, 1, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
    (datetime(2026, 10, 19, 8, 0, tzinfo=UTC), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
    (datetime(2026, 10, 18, 12, 0, tzinfo=UTC), datetime(2026, 10, 19, 7, 0, tzinfo=UTC)),
    # 2027: 28 March and 31 October.
    (datetime(2027, 3, 27, 12, 0, tzinfo=UTC), datetime(2027, 3, 29, 7, 0, tzinfo=UTC)),
    (datetime(2027, 3, 22, 7, 30, tzinfo=UTC), datetime(2027, 3, 22, 8, 0, tzinfo=UTC)),
    (datetime(2027, 10, 30, 12, 0, tzinfo=UTC), datetime(2027, 11, 1, 8, 0, tzinfo=UTC)),
    (datetime(2027, 10, 24, 12, 0, tzinfo=UTC), datetime(2027, 10, 25, 7, 0, tzinfo=UTC)),
])
def test_monday_nine_follows_amsterdam_across_daylight_saving(after, expected_utc):
    scheduler = build("sqlite://", AMSTERDAM, MONDAY_NINE)
    job = scheduler.get_jobs()[0]
    fire = job.trigger.get_next_fire_time(None, after)
    assert fire.astimezone(UTC) == expected_utc
    assert (fire.astimezone(ZoneInfo(AMSTERDAM)).hour, fire.weekday()) == (9, 0)


def test_registry_jobs_carry_the_durable_settings():
    scheduler = build("sqlite://", AMSTERDAM)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == set(JOBS)
    for job_id, (func_ref, _trigger) in JOBS.items():
        job = jobs[job_id]
        assert job.func_ref == func_ref
        assert (job.coalesce, job.max_instances) == (True, 1)
        assert job.misfire_grace_time >= 3 * 3600
    assert JOB_DEFAULTS["misfire_grace_time"] >= 3 * 3600
    assert str(scheduler.timezone) == AMSTERDAM


def test_job_table_is_invisible_to_alembic_check(job_database):
    engine = make_engine(job_database)
    build(job_database, AMSTERDAM, {})  # creates apscheduler_jobs
    with engine.connect() as connection:
        assert "apscheduler_jobs" in engine.dialect.get_table_names(connection)
        connection.execute(text("DROP TABLE scheduler_tick"))
        connection.commit()
    schema.check(engine)  # raises when models and migrations differ
    engine.dispose()


def test_lock_kind_follows_the_database(tmp_path):
    from jobs.lock import AdvisoryLock, FileLock, lock_for

    sqlite_lock = lock_for(f"sqlite:///{tmp_path}/db/maatwerk.sqlite")
    assert isinstance(sqlite_lock, FileLock)
    assert sqlite_lock.path == tmp_path / "db" / "scheduler.lock"
    assert isinstance(lock_for("postgresql://u:p@localhost/x"), AdvisoryLock)
    assert isinstance(lock_for("postgres://u:p@localhost/x"), AdvisoryLock)
    with pytest.raises(ValueError, match="no scheduler lock"):
        lock_for("mysql://u:p@localhost/x")


def test_file_lock_admits_one_holder_at_a_time(tmp_path):
    from jobs.lock import FileLock

    first, second = FileLock(tmp_path / "scheduler.lock"), FileLock(tmp_path / "scheduler.lock")
    assert first.acquire() and first.held()
    assert not second.acquire() and not second.held()
    first.release()
    assert second.acquire()
    second.release()


def test_advisory_lock_is_exclusive_and_its_loss_is_noticed(postgres_url):
    from jobs.lock import ADVISORY_KEY, AdvisoryLock

    leader, standby = AdvisoryLock(postgres_url), AdvisoryLock(postgres_url)
    try:
        assert leader.acquire() and leader.held()
        assert not standby.acquire()
        # The database drops the leader's session (restart, network): the lock goes with it.
        engine = make_engine(postgres_url)
        with engine.begin() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND objid = :key"), {"key": ADVISORY_KEY})
        engine.dispose()
        assert not leader.held()
        assert standby.acquire()
    finally:
        leader.release()
        standby.release()


WEEKLY = "check_ins.weekly"


def _check_in_counts(url: str) -> tuple[int, int, set[str]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        check_ins = connection.execute(text("SELECT week FROM check_in")).scalars().all()
        mails = connection.execute(text(
            "SELECT count(*) FROM outbox_message WHERE dedupe_key LIKE 'check_in:%'")).scalar()
    engine.dispose()
    return len(check_ins), int(mails), set(check_ins)


def _active_matches(session, make_active_match, n: int) -> None:
    for _ in range(n):
        make_active_match(datetime.now(UTC) - timedelta(days=30))
    session.commit()


def test_two_schedulers_send_each_weekly_check_in_once(job_database, tmp_path, session,
                                                      make_active_match):
    _active_matches(session, make_active_match, 3)
    # The real job, fired every second by whichever scheduler leads.
    jobs = {WEEKLY: (JOBS[WEEKLY][0], {"trigger": "interval", "seconds": 1})}
    first = _start(job_database, tmp_path, jobs, "first")
    second = _start(job_database, tmp_path, jobs, "second")
    try:
        assert _wait_for(lambda: _check_in_counts(job_database)[0] >= 3), (
            (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text())
        time.sleep(4)  # several more firings
    finally:
        _stop(first, second)
    count, mails, weeks = _check_in_counts(job_database)
    assert (count, mails) == (3, 3)
    from matching.services.check_ins import iso_week

    assert weeks == {iso_week(datetime.now(UTC))}


def test_a_scheduler_down_over_monday_nine_sends_that_weeks_check_ins_once(
    job_database, tmp_path, session, make_active_match,
):
    _active_matches(session, make_active_match, 2)
    jobs = {WEEKLY: JOBS[WEEKLY]}
    # The slot passed two days ago while no scheduler ran: well past the 12 h default grace.
    missed = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    seeding = build(job_database, AMSTERDAM, jobs)
    thread = threading.Thread(target=seeding.start, kwargs={"paused": True})
    thread.start()
    assert _wait_for(lambda: seeding.running, 10)
    seeding.modify_job(WEEKLY, next_run_time=missed)
    seeding.shutdown()
    thread.join(10)

    for restart in ("late", "again"):
        process = _start(job_database, tmp_path, jobs, restart)
        try:
            assert _wait_for(lambda: _check_in_counts(job_database)[0] >= 2), (
                (tmp_path / f"{restart}.log").read_text())
            time.sleep(2)
        finally:
            _stop(process)
        assert _check_in_counts(job_database)[:2] == (2, 2)
    after = build(job_database, AMSTERDAM, jobs)
    stored = scheduler_module._stored_jobs(after, after._jobstores["default"], keep=set(jobs))
    next_run = stored[WEEKLY][1].astimezone(ZoneInfo(AMSTERDAM))
    assert (next_run.weekday(), next_run.hour, next_run.minute) == (0, 9, 0)
    assert next_run > datetime.now(UTC)


def test_weekly_check_in_job_is_registered_for_monday_nine_in_amsterdam():
    scheduler = build("sqlite://", AMSTERDAM)
    job = scheduler.get_job(WEEKLY)
    # Summer time ends on 25 October 2026: 09:00 is 07:00 UTC before, 08:00 UTC after.
    before = job.trigger.get_next_fire_time(None, datetime(2026, 10, 19, 12, 0, tzinfo=UTC))
    after = job.trigger.get_next_fire_time(None, before + timedelta(minutes=1))
    assert before.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    spring = job.trigger.get_next_fire_time(None, datetime(2027, 3, 24, tzinfo=UTC))
    assert spring.astimezone(UTC) == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    assert job.misfire_grace_time >= 6 * 24 * 3600 and job.coalesce


def test_the_ticking_jobs_do_not_fill_the_log_but_their_failures_do():
    import logging

    from jobs.scheduler import QuietTicks

    def record(level: int, message: str) -> logging.LogRecord:
        return logging.LogRecord("apscheduler.executors.default", level, __file__, 1, message, (), None)

    quiet = QuietTicks()
    ticking = 'Job "jobs.tasks:execute_match_runs [seconds=2, trigger=\'interval\']" executed successfully'
    assert not quiet.filter(record(logging.INFO, ticking))
    assert not quiet.filter(record(logging.INFO, 'Running job "_watch (trigger: interval[0:00:30])"'))
    assert quiet.filter(record(logging.ERROR, ticking.replace("executed successfully", "raised an exception")))
    assert quiet.filter(record(logging.INFO, 'Job "jobs.tasks:send_check_ins" executed successfully'))
