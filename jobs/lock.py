"""The one-scheduler guard: a PostgreSQL advisory lock, or a file lock beside a SQLite database."""
from __future__ import annotations

import fcntl
import logging
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, make_url, text
from sqlalchemy.pool import NullPool

from config import INSTANCE
from matching.store import make_engine

log = logging.getLogger("maatwerk.scheduler")

# An arbitrary constant shared by every scheduler process of this application ("maat").
ADVISORY_KEY = 0x6D616174


class SchedulerLock(Protocol):
    def acquire(self) -> bool: ...

    def held(self) -> bool: ...

    def release(self) -> None: ...


class AdvisoryLock:
    """A session-level advisory lock on a connection kept open while the process leads."""

    def __init__(self, database_url: str) -> None:
        # NullPool: closing the connection really ends the session, and so frees the lock.
        self.engine = make_engine(database_url, poolclass=NullPool)
        self.connection: Connection | None = None

    def acquire(self) -> bool:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        if got.scalar():
            self.connection = connection
            return True
        connection.close()
        return False

    def held(self) -> bool:
        """False once the session is gone (database restart, network): the lock went with it."""
        if self.connection is None:
            return False
        try:
            self.connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means the session is lost
            log.exception("scheduler.lock_lost")
            return False
        return True

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY}
                )
            except Exception:  # noqa: BLE001 - closing below frees it in any case
                pass
            self.connection.close()
            self.connection = None


class FileLock:
    """An exclusive flock; the kernel frees it when the process ends, however it ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a")  # noqa: SIM115 - held open for the process lifetime
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self.handle = handle
        return True

    def held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def lock_for(database_url: str) -> SchedulerLock:
    """The guard that fits the database: schedulers sharing a database share its lock."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend in {"postgresql", "postgres"}:
        return AdvisoryLock(database_url)
    if backend != "sqlite":
        raise ValueError(f"no scheduler lock for {backend!r} databases")
    database = url.database
    directory = Path(database).resolve().parent if database and database != ":memory:" else INSTANCE
    return FileLock(directory / "scheduler.lock")
