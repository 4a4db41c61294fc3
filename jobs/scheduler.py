"""The one scheduler process; `maatwerk scheduler` runs it beside the web workers."""
from __future__ import annotations

import logging
import signal
import time
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler

from config import Config, from_environment
from matching.store import make_engine

from .lock import SchedulerLock, lock_for

log = logging.getLogger("maatwerk.scheduler")

JOB_TABLE = "apscheduler_jobs"
# Hours, not APScheduler's default second: a scheduler down over a slot still runs it once.
MISFIRE_GRACE_SECONDS = 12 * 3600
JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS, "max_instances": 1}

JobRegistry = dict[str, tuple[str, dict[str, Any]]]

WEEK_SECONDS = 7 * 24 * 3600
# job id -> ("module:function", trigger arguments, optionally a job default overridden);
# later issues add their jobs here.
JOBS: JobRegistry = {
    "outbox.dispatch": ("jobs.tasks:dispatch_outbox", {"trigger": "interval", "minutes": 1}),
    # Runs started on the run page wait at most this long before they start.
    "match_runs.execute": ("jobs.tasks:execute_match_runs", {"trigger": "interval", "seconds": 2}),
    "proposals.remind": ("jobs.tasks:remind_proposals", {"trigger": "cron", "hour": 9, "minute": 0}),
    "proposals.expire": ("jobs.tasks:expire_proposals", {"trigger": "interval", "hours": 1}),
    # A scheduler down over Monday 09:00 still sends that week's check-ins when it comes back,
    # any day of that week; the job itself sends at most one per match and ISO week.
    "check_ins.weekly": ("jobs.tasks:send_check_ins", {
        "trigger": "cron", "day_of_week": "mon", "hour": 9, "minute": 0,
        "misfire_grace_time": WEEK_SECONDS - 3600,
    }),
    "reviews.due": ("jobs.tasks:create_review_tasks", {"trigger": "cron", "hour": 7, "minute": 0}),
    "volunteers.reengage": ("jobs.tasks:reengage_volunteers", {
        "trigger": "cron", "day_of_week": "tue", "hour": 10, "minute": 0,
    }),
    "retention.apply": ("jobs.tasks:apply_retention", {"trigger": "cron", "hour": 3, "minute": 0}),
    # Referrers hear that their referral moved; at most this late (the page itself is live).
    "referrals.notify": ("jobs.tasks:notify_referrers", {"trigger": "interval", "minutes": 10}),
    # After the night's retention: erased people are out of the history before it is learned.
    "durability.refit": ("jobs.tasks:refit_durability_model", {
        "trigger": "cron", "day": 1, "hour": 4, "minute": 0, "misfire_grace_time": WEEK_SECONDS,
    }),
}


class Scheduler(BlockingScheduler):
    """A BlockingScheduler that processes no jobs once stopped.

    APScheduler 3's main loop makes one more pass after shutdown(); with the executors gone,
    that pass marks due jobs as run ("cannot schedule new futures") and so loses them.
    """

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


class QuietTicks(logging.Filter):
    """Drops APScheduler's "running / executed" lines of the jobs that tick every few seconds
    (the run queue, the watchdog): they would fill the log. Their failures still pass."""

    TICKING = ("jobs.tasks:execute_match_runs", "_watch")

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or not any(
            name in record.getMessage() for name in self.TICKING)


def definition(func_ref: str, trigger_kwargs: dict[str, Any]) -> str:
    """A job's registry entry as text: stored as the job's name to notice changes."""
    arguments = ", ".join(f"{k}={v!r}" for k, v in sorted(trigger_kwargs.items()))
    return f"{func_ref} [{arguments}]"


def build(database_url: str, timezone: str, jobs: JobRegistry | None = None) -> Scheduler:
    """A scheduler with the registry's jobs in the database job store; not started."""
    jobs = JOBS if jobs is None else jobs
    store = SQLAlchemyJobStore(engine=make_engine(database_url), tablename=JOB_TABLE)
    scheduler = Scheduler(
        jobstores={"default": store, "process": MemoryJobStore()},
        job_defaults=JOB_DEFAULTS,
        timezone=timezone,
    )
    stored = _stored_jobs(scheduler, store, keep=set(jobs))
    for job_id, (func_ref, trigger_kwargs) in jobs.items():
        arguments = dict(trigger_kwargs)
        trigger = arguments.pop("trigger")
        name = definition(func_ref, trigger_kwargs)
        # replace_existing alone would recompute the next run from now and so silently skip
        # a slot missed while the scheduler was down: an unchanged job keeps its stored time.
        if job_id in stored and stored[job_id][0] == name:
            arguments["next_run_time"] = stored[job_id][1]
        scheduler.add_job(
            func_ref, trigger, id=job_id, name=name, replace_existing=True,
            **{**JOB_DEFAULTS, **arguments},
        )
    return scheduler


def _stored_jobs(
    scheduler: Scheduler, store: SQLAlchemyJobStore, keep: set[str]
) -> dict[str, tuple[str, Any]]:
    """Name and next run time of each stored job; jobs no longer registered are removed."""
    store.start(scheduler, "default")  # creates the table when missing
    stored = {}
    for job in store.get_all_jobs():
        if job.id in keep:
            stored[job.id] = (job.name, job.next_run_time)
        else:
            log.info("scheduler.job_removed id=%s", job.id)
            store.remove_job(job.id)
    return stored


def _watch(scheduler: Scheduler, lock: SchedulerLock) -> None:
    """Stop leading when the lock is lost, so a second leader never runs beside this one."""
    if not lock.held():
        log.error("scheduler.lock_lost stopping")
        scheduler.shutdown(wait=False)


def _terminate(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def run(
    config: Config | None = None, *, jobs: JobRegistry | None = None,
    retry_seconds: float | None = None,
) -> None:
    """Lead when no other scheduler does; otherwise stand by and take over when it dies."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("apscheduler.executors.default").addFilter(QuietTicks())
    config = config or from_environment()
    retry = retry_seconds or config.SCHEDULER_RETRY_SECONDS
    signal.signal(signal.SIGTERM, _terminate)
    lock = lock_for(config.DATABASE_URL)
    standing_by = False
    while True:
        if not lock.acquire():
            if not standing_by:
                log.info("scheduler.standby another scheduler leads; retrying every %ss", retry)
                standing_by = True
            time.sleep(retry)
            continue
        standing_by = False
        scheduler = build(config.DATABASE_URL, config.TIMEZONE, jobs)
        scheduler.add_job(
            _watch, "interval", seconds=retry, args=[scheduler, lock], id="scheduler.watchdog",
            jobstore="process", replace_existing=True,
        )
        log.info("scheduler.leading (%s)", config.TIMEZONE)
        try:
            scheduler.start()
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            lock.release()
        log.warning("scheduler.stopped leading; trying to lead again")
