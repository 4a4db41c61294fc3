"""The README's production advice, tested: two app instances on one PostgreSQL and one Redis.

Two gunicorn processes (separate memory, as on two hosts) share the database, the secret key
and a real redis-server for the rate limits: the login limit counts across both, a session
made on one works on the other, and a link answered on both at once makes one decision.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, text

from matching.services import proposals, staff
from matching.store import (
    Base, Match, OutboxMessage, Resident, Volunteer, make_engine, make_session_factory, utcnow,
)
from tests.conftest import CHEAP_HASH, MIGRATED_DATA_TABLES, RESIDENT_DEFAULTS, ROOT
from tests.conftest import VOLUNTEER_DEFAULTS, unavailable
from tests.logins import PASSWORD

GUNICORN = Path(sys.executable).with_name("gunicorn")
SECRET = "scale-out-secret-key-that-is-long-enough-0123456789"
LOGIN_LIMIT = 4


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not start:\n{log.read_text()}")
        time.sleep(0.2)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        unavailable("Debian's redis-server")
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def sessions(postgres_url: str):
    engine = make_engine(postgres_url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables
                       if t.name not in MIGRATED_DATA_TABLES)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def instances(postgres_url: str, redis_url: str, sessions, tmp_path: Path) -> Iterator[list[str]]:
    """Two gunicorn processes, one worker each, on one database and one Redis."""
    bases, processes, logs = [], [], []
    try:
        for n in range(2):
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            env = {**os.environ, "DATABASE_URL": postgres_url, "SECRET_KEY": SECRET,
                   "RATELIMIT_STORAGE_URI": redis_url, "LOGIN_LIMIT": f"{LOGIN_LIMIT} per hour",
                   "LOGIN_LOCKOUT_ATTEMPTS": "100", "BASE_URL": bases[0] if bases else base,
                   "MAATWERK_INSTANCE": str(tmp_path / f"instance{n}"),
                   "MAIL_OUTBOX_DIR": str(tmp_path / f"outbox{n}"), "PYTHONPATH": str(ROOT)}
            env.pop("MAATWERK_ENV", None)
            log_path = tmp_path / f"gunicorn{n}.log"
            log = log_path.open("w")
            logs.append(log)
            process = subprocess.Popen(
                [str(GUNICORN), "-w", "1", "-b", f"127.0.0.1:{port}", "--no-control-socket",
                 "web:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            processes.append(process)
            _wait(f"{base}/healthz", process, log_path)
            bases.append(base)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def _csrf(client: requests.Session, url: str) -> str:
    page = client.get(url, timeout=10).text
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, url
    return found.group(1)


def _login(client: requests.Session, base: str, email: str, password: str) -> requests.Response:
    token = _csrf(client, f"{base}/login")
    return client.post(f"{base}/login", data={"email": email, "password": password,
                                              "csrf_token": token},
                       allow_redirects=False, timeout=10)


def test_the_login_limit_counts_across_both_instances(instances, sessions):
    statuses = []
    for attempt in range(LOGIN_LIMIT + 1):
        base = instances[attempt % 2]
        client = requests.Session()
        statuses.append(_login(client, base, f"nobody{attempt}@vcu.example",
                               "fout-wachtwoord-123").status_code)
    # Each instance alone saw at most 3 failures: only a shared count reaches the limit.
    assert statuses[:LOGIN_LIMIT] == [200] * LOGIN_LIMIT and statuses[-1] == 429, statuses


def test_a_session_made_on_one_instance_works_on_the_other(instances, sessions):
    with sessions() as session:
        staff.create_user(session, email="coordinator@vcu.example", name="Coördinator",
                          role="coordinator", password=PASSWORD, profile=CHEAP_HASH)
        session.commit()
    client = requests.Session()
    assert _login(client, instances[0], "coordinator@vcu.example", PASSWORD).status_code == 302
    other = client.get(f"{instances[1]}/vrijwilligers/", allow_redirects=False, timeout=10)
    assert other.status_code == 200 and "Vrijwilligers" in other.text
    token = _csrf(client, f"{instances[1]}/vrijwilligers/")
    client.post(f"{instances[1]}/logout", data={"csrf_token": token}, timeout=10)
    back = client.get(f"{instances[0]}/vrijwilligers/", allow_redirects=False, timeout=10)
    assert back.status_code == 302 and "/login" in back.headers["Location"]


def test_a_link_answered_on_both_instances_at_once_makes_one_decision(instances, sessions):
    with sessions() as session:
        volunteer = Volunteer(**{**VOLUNTEER_DEFAULTS, "email": "sanne@example.org"})
        resident = Resident(**{**RESIDENT_DEFAULTS, "status": "proposed"})
        session.add_all([volunteer, resident])
        session.flush()
        from matching.services import pairing

        match = pairing.open_match(session, volunteer_id=volunteer.id, resident_id=resident.id,
                                   status="proposed", score=60.0)
        proposals.approve(session, match.id, actor=None, now=utcnow(), secret=SECRET,
                          base_url=instances[0])
        session.commit()
        body = session.scalar(select(OutboxMessage.body_text).where(
            OutboxMessage.dedupe_key == f"proposal:{match.id}"))
        match_id = match.id
    path = re.search(r"(/koppeling/\S+)", body).group(1)
    clients = [requests.Session() for _ in range(6)]
    forms = [{"choice": "accept", "csrf_token": _csrf(c, f"{instances[0]}{path}")}
             for c in clients]
    barrier = threading.Barrier(len(clients))
    answers: list[int] = []

    def answer(n: int) -> None:
        barrier.wait()
        response = clients[n].post(f"{instances[n % 2]}{path}", data=forms[n], timeout=30)
        answers.append(response.status_code)

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status < 500 for status in answers), answers
    with sessions() as session:
        assert session.get(Match, match_id).status == "accepted"
        decisions = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"decision:{match_id}"))
        assert decisions == 1
