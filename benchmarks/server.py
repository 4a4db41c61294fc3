"""A populated PostgreSQL database and gunicorn on 127.0.0.1, for the load test and the scan.

WARNING: prepare() empties the database it is given (schema dropped and recreated).
"""
from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo import population as demo_service  # noqa: E402
from matching.services import links, signups  # noqa: E402
from matching.services import staff as staff_service  # noqa: E402
from matching.services.passwords import HashProfile  # noqa: E402
from matching.store import (  # noqa: E402
    Resident, Volunteer, make_engine, make_session_factory, utcnow,
)
from matching.store import schema  # noqa: E402
from matching.store.base import new_id  # noqa: E402

PASSWORD = "lange-wachtzin-voor-metingen"
# Staff accounts get the cheapest argon2 profile: logins are not what is measured.
CHEAP = HashProfile(time_cost=1, memory_cost=8, parallelism=1)
FIRST = ["Anne", "Bram", "Cor", "Daan", "Eva", "Fatma", "Gerrit", "Hanna", "Ilse", "Jan", "Karim"]
LAST = ["Jansen", "de Vries", "Bakker", "Visser", "Smit", "Meijer", "Yilmaz", "El Amrani", "Bos"]
LETTERS = "ABCDEFGHJKLMNPRTVWXZ"


@dataclass
class Population:
    """What the load test needs to know about the prepared database."""

    accounts: list[str] = field(default_factory=list)  # staff e-mail addresses
    editable: list[list[str]] = field(default_factory=list)  # volunteer ids per account
    tokens: list[str] = field(default_factory=list)  # e-mail confirmation link tokens

    def as_dict(self) -> dict[str, Any]:
        return {"password": PASSWORD, "accounts": self.accounts, "editable": self.editable,
                "tokens": self.tokens}


def _person(rng: random.Random, n: int) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": new_id(), "first_name": rng.choice(FIRST), "last_name": f"{rng.choice(LAST)} {n}",
        "email": f"p{n}@example.org", "phone": f"+316{rng.randint(10000000, 59999999)}",
        "postcode": f"{rng.randint(3500, 3585)} {rng.choice(LETTERS)}{rng.choice(LETTERS)}",
        "house_number": str(rng.randint(1, 200)), "birth_year": rng.randint(1930, 2004),
        "languages": ["nl"], "interests": ["wandelen"], "activities": [],
        "availability": sorted(rng.sample(range(21), 4)), "created_at": now, "updated_at": now,
        "version": 1,
    }


def prepare(url: str, *, secret: str, people: int = 5000, accounts: int = 50,
            links_count: int = 500, seed: int = 20261129) -> Population:
    """Migrate, load the demo population, add `people` volunteers and residents, staff and links."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    schema.upgrade(engine)
    rng = random.Random(seed)
    population = Population()
    now = utcnow()
    with make_session_factory(engine)() as session:
        demo_service.load(session, seed=7, today=date.today(), postcode_file=None)
        session.commit()
        session.execute(insert(Volunteer), [
            {**_person(rng, n), "status": rng.choice(["new", "available", "available", "paused"]),
             "registered_at": now - timedelta(days=rng.randint(0, 2000))} for n in range(people)])
        session.execute(insert(Resident), [
            {**_person(rng, n), "status": rng.choice(["referred", "waiting", "waiting"]),
             "waiting_since": (now - timedelta(days=rng.randint(0, 400))).date(),
             "target_group": rng.choice(["older_person", "migrant_elder", "informal_carer"])}
            for n in range(people, 2 * people)])
        for n in range(accounts):
            email = f"coordinator{n}@bench.example"
            staff_service.create_user(session, email=email, name=f"Coördinator {n}",
                                      role="coordinator", password=PASSWORD, profile=CHEAP)
            population.accounts.append(email)
        # Each account edits its own demo volunteers, so that edits never collide.
        ids = session.scalars(select(Volunteer.id).where(Volunteer.source == "demo",
                                                         Volunteer.status != "stopped")
                              .order_by(Volunteer.id)).all()
        population.editable = [list(ids[n::accounts]) for n in range(accounts)]
        unverified = session.scalars(select(Volunteer.id).where(Volunteer.status == "new")
                                     .limit(links_count)).all()
        population.tokens = [
            links.issue(session, purpose=signups.PURPOSE, subject=("volunteer", id),
                        person=("volunteer", id), now=now, ttl=signups.LINK_TTL, secret=secret)
            for id in unverified]
        session.commit()
    engine.dispose()
    return population


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base_url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:  # nosec B310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base_url} did not become healthy in {timeout} s")


@contextmanager
def gunicorn(url: str, *, secret: str, workers: int = 4, port: int | None = None,
             log: Path | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run the app under gunicorn on 127.0.0.1 until the block ends; yields (base URL, process)."""
    port = port or free_port()
    env = {**os.environ, "MAATWERK_ENV": "development", "DATABASE_URL": url, "SECRET_KEY": secret,
           "PYTHONPATH": str(ROOT), "BASE_URL": f"http://127.0.0.1:{port}",
           "MAIL_SERVER": ""}
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
               "--access-logfile", "-", "web:create_app()"]
    out = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url)
        yield base_url, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log:
            out.close()  # type: ignore[union-attr]


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: children of the master process."""
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def new_secret() -> str:
    return secrets.token_urlsafe(48)
