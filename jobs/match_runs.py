"""Match runs outside the request: claim a queued run, then load, solve and store it in stages.

Each stage is reported in its own short transaction, so the run page follows a run as it works;
the pool is read in a read-only transaction and the proposals are written in one short one, so
nothing is locked while the engine solves.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from matching import engine
from matching.errors import Conflict
from matching.services import runs
from matching.services.profiles import local_date
from matching.store import MatchRun, utcnow

log = logging.getLogger("maatwerk.match_runs")

# The proposals a run replaces can change while it solves (a coordinator approves one): the run
# then reads its pool again, this many times at most.
ATTEMPTS = 3


def execute_queued(sessions: sessionmaker[Session], *, clock: Callable[[], datetime] = utcnow) -> int:
    """Fail runs whose process stopped, then execute the queued runs oldest first; how many ran."""
    with sessions.begin() as session:
        for run_id in runs.fail_stalled(session, now=clock()):
            log.warning("match_run.stalled run=%s", run_id)
    executed = 0
    while True:
        with sessions.begin() as session:
            run_id = runs.claim_next(session, now=clock())
        if run_id is None:
            return executed
        execute(sessions, run_id, clock=clock)
        executed += 1


def execute(sessions: sessionmaker[Session], run_id: str, *,
            clock: Callable[[], datetime] = utcnow,
            heard: Callable[[str], None] | None = None) -> str:
    """Execute a claimed run stage by stage; its final status. `heard` hears each stage too."""
    timer = _StageTimer()

    def stage(name: str) -> None:
        timer.begin(name)
        with sessions.begin() as session:
            runs.report(session, run_id, name, now=clock())
        if heard is not None:
            heard(name)

    for _attempt in range(ATTEMPTS):
        stage("loading")
        try:
            with sessions() as session:  # read only; ended (rolled back) before the engine starts
                prepared = runs.prepare(session, run_id, today=local_date(clock()))
        except Conflict:  # ended meanwhile (failed as stalled, say)
            return _status(sessions, run_id)
        try:
            result = engine.solve(prepared.problem, progress=stage)
        except Exception as error:  # recorded on the run; no person's data in the reason
            with sessions.begin() as session:
                runs.fail_run(session, run_id, now=clock(), error=runs.failure(error),
                              hashed=prepared.hashed)
            return "failed"
        stage("storing")
        try:
            with sessions.begin() as session:
                runs.finish(session, prepared, result, now=clock())
        except Conflict as error:
            if error.message == "not_running":
                return _status(sessions, run_id)
            log.info("match_run.pool_changed run=%s: reading it again", run_id)
            continue
        with sessions.begin() as session:
            runs.record_stage_seconds(session, run_id, timer.end())
        if heard is not None:
            heard("done")
        return "done"
    with sessions.begin() as session:
        runs.fail_run(session, run_id, now=clock(), error="pool_changed")
    return "failed"


class _StageTimer:
    """Seconds per stage (a stage repeated after a changed pool adds up)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.current: tuple[str, float] | None = None

    def begin(self, name: str) -> None:
        self.end()
        self.current = (name, time.perf_counter())

    def end(self) -> dict[str, float]:
        if self.current is not None:
            name, started = self.current
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - started, 3)
            self.current = None
        return self.seconds


def _status(sessions: sessionmaker[Session], run_id: str) -> str:
    with sessions() as session:
        return session.get_one(MatchRun, run_id).status
