"""`maatwerk jobs ...` (and `python -m jobs ...`): list the registered jobs, run one now."""
from __future__ import annotations

import time

import click
from apscheduler.util import ref_to_obj

from config import from_environment
from matching.errors import ValidationFailed
from matching.services import runs
from matching.store import MatchRun, utcnow

from . import match_runs
from .scheduler import JOBS, definition, run
from .tasks import sessions


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


@click.command("match-run")
@click.option("--neighbourhood", default=None, help="Only the residents of this wijk.")
@click.option("--target-group", default=None, help="Only this target group (older_person, ...).")
@click.option("--objective", type=click.Choice(runs.OBJECTIVES), default="weights", show_default=True)
def match_run(neighbourhood: str | None, target_group: str | None, objective: str) -> None:
    """Run matching for the host's waiting pool now, in this process, printing each stage."""
    scope = {"neighbourhood": neighbourhood} if neighbourhood else (
        {"target_group": target_group} if target_group else {})
    factory = sessions(from_environment().DATABASE_URL)
    try:
        with factory.begin() as session:
            run_id = runs.start_run(session, scope=scope, settings={"objective": objective},
                                    started_by=None, via="cli", now=utcnow(), stage="loading").id
    except ValidationFailed as error:
        raise click.ClickException(f"refused: {error.message}") from None
    started = time.perf_counter()

    def heard(stage: str) -> None:
        click.echo(f"{time.perf_counter() - started:7.2f} s  {stage}")

    status = match_runs.execute(factory, run_id, heard=heard)
    with factory() as session:
        found = session.get_one(MatchRun, run_id)
        click.echo(f"run {run_id}: {status}, {found.stats.get('proposed', 0)} proposals"
                   + (f" ({found.error})" if found.error else ""))
    if status != "done":
        raise SystemExit(1)
