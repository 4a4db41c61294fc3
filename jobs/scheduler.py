"""The one scheduler process; `maatwerk scheduler` runs it beside the web workers."""
from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler

from config import from_environment

log = logging.getLogger("maatwerk.scheduler")


def heartbeat() -> None:
    """Logs that the scheduler is alive; the durability jobs join it later."""
    log.info("scheduler alive")


def build(timezone: str) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone=timezone,
        job_defaults={"coalesce": True, "misfire_grace_time": 6 * 3600, "max_instances": 1},
    )
    scheduler.add_job(
        "jobs.scheduler:heartbeat", "interval", minutes=10, id="heartbeat", replace_existing=True
    )
    return scheduler


def run() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = from_environment()
    scheduler = build(config.TIMEZONE)
    log.info("scheduler starting (%s)", config.TIMEZONE)
    scheduler.start()
