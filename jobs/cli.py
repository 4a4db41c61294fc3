"""`maatwerk jobs ...` (and `python -m jobs ...`): list the registered jobs, run one now."""
from __future__ import annotations

import click
from apscheduler.util import ref_to_obj

from config import from_environment

from .scheduler import JOBS, definition, run


@click.group("jobs")
def jobs() -> None:
    """Scheduled jobs."""


@jobs.command("list")
def list_jobs() -> None:
    """Show each registered job: its id, function and trigger."""
    for job_id, (func_ref, trigger_kwargs) in sorted(JOBS.items()):
        click.echo(f"{job_id}\t{definition(func_ref, trigger_kwargs)}")


@jobs.command("run")
@click.argument("job_id")
def run_job(job_id: str) -> None:
    """Run JOB_ID once, now, in this process."""
    if job_id not in JOBS:
        raise click.ClickException(f"unknown job {job_id!r}; see `jobs list`")
    ref_to_obj(JOBS[job_id][0])()
    click.echo(f"{job_id} done")


@jobs.command("scheduler")
def scheduler() -> None:
    """Run the one scheduler process (never inside web workers)."""
    run(from_environment())
