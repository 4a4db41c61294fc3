"""A test job: one row per run in scheduler_tick, with the process that ran it."""
from __future__ import annotations

import os
import time

from sqlalchemy import text
from sqlalchemy.pool import NullPool

from matching.store import make_engine

TABLE = "CREATE TABLE scheduler_tick (pid INTEGER NOT NULL, at DOUBLE PRECISION NOT NULL)"


def tick() -> None:
    engine = make_engine(os.environ["DATABASE_URL"], poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO scheduler_tick (pid, at) VALUES (:pid, :at)"),
                           {"pid": os.getpid(), "at": time.time()})
    engine.dispose()
