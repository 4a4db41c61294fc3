"""`make demo` as a newcomer runs it, on another port: the app answers there, the printed login
works, and the link in a proposal e-mail points at that port."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import select

from config import TestConfig as MaatwerkConfig
from matching.store import Match, OutboxMessage
from tests.conftest import ROOT
from tests.logins import login


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_make_demo_on_another_port_serves_there_and_mails_links_to_it(tmp_path: Path):
    port = _free_port()
    database = tmp_path / "demo.sqlite"
    env = {**os.environ, "MAATWERK_INSTANCE": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{database}"}
    for name in ("BASE_URL", "MAATWERK_ENV", "GEO_POSTCODES_FILE"):
        env.pop(name, None)
    log = (tmp_path / "make.log").open("w")
    process = subprocess.Popen(["make", "demo", f"PORT={port}"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "make.log").read_text()) from None
                time.sleep(0.5)
        printed = (tmp_path / "make.log").read_text()
        assert f"http://127.0.0.1:{port}/login" in printed
        password = re.search(r"wachtwoord: (\S+)", printed).group(1)

        from web import create_app

        app = create_app(MaatwerkConfig(f"sqlite:///{database}", BASE_URL=f"http://127.0.0.1:{port}"))
        try:
            assert login(app.test_client(), "coordinator@demo.maatwerk.example",
                         password).status_code == 302
            with app.extensions["maatwerk.sessions"]() as session:
                match = session.scalars(select(Match).where(Match.status == "proposed")).first()
                match_id, version = match.id, match.version
            # Approved through the running demo itself, so its own BASE_URL writes the link.
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
            page = opener.open(f"http://127.0.0.1:{port}/login").read().decode()
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            opener.open(f"http://127.0.0.1:{port}/login", data=urllib.parse.urlencode({
                "email": "coordinator@demo.maatwerk.example", "password": password,
                "csrf_token": token}).encode())
            review = opener.open(f"http://127.0.0.1:{port}/koppelen/voorstellen/").read().decode()
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', review).group(1)
            opener.open(f"http://127.0.0.1:{port}/koppelen/voorstellen/{match_id}/goedkeuren",
                        data=urllib.parse.urlencode({"csrf_token": token,
                                                     "version": version}).encode())
            with app.extensions["maatwerk.sessions"]() as session:
                body = session.scalar(select(OutboxMessage.body_text).where(
                    OutboxMessage.dedupe_key == f"proposal:{match_id}"))
            assert body and f"http://127.0.0.1:{port}/koppeling/" in body
        finally:
            app.extensions["maatwerk.engine"].dispose()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
