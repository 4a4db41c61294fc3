"""The volunteer's answer on the shipped demo itself (`maatwerk demo`), not on a fixture.

The demo coordinator approves a proposal, the volunteer opens the mailed link and accepts; then
another is approved and declined. Each answer stands, and the coordinator's notice about it is
in the outbox, addressed to an address the mailer accepts. Runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

import config
from matching.store import Match, OutboxMessage
from tests.conftest import ROOT
from tests.logins import csrf_token, login

CLI = [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())"]


@pytest.fixture
def demo(database_url: str, tmp_path: Path, translations: str):
    """`maatwerk demo` run as a user runs it; yields (app, demo login password)."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT),
           "MAATWERK_INSTANCE": str(tmp_path / "instance"), "MAATWERK_DEMO": "1"}
    env.pop("GEO_POSTCODES_FILE", None)
    env.pop("MAATWERK_ENV", None)
    loaded = subprocess.run([*CLI, "demo", "--seed", "7"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    password = re.search(r"wachtwoord: (\S+)", loaded.stdout).group(1)
    from web import create_app

    # The demo's own key (kept under its instance folder), so the links it mailed work here.
    secret = (tmp_path / "instance" / "secret_key").read_text().strip()
    app = create_app(config.TestConfig(database_url, BABEL_TRANSLATION_DIRECTORIES=translations,
                                       SECRET_KEY=secret, DEMO_MODE=True))
    yield app, password
    app.extensions["maatwerk.engine"].dispose()


def _approve_one(app, client) -> str:
    with app.extensions["maatwerk.sessions"]() as session:
        match = session.scalars(
            select(Match).where(Match.status == "proposed")
            .order_by(Match.id)
        ).first()
        match_id, version = match.id, match.version
    token = csrf_token(client, "/koppelen/voorstellen/")
    approved = client.post(f"/koppelen/voorstellen/{match_id}/goedkeuren",
                           data={"csrf_token": token, "version": str(version)})
    assert approved.status_code in (302, 303), approved.get_data(as_text=True)
    return match_id


def _mailed_link(app, match_id: str) -> str:
    with app.extensions["maatwerk.sessions"]() as session:
        body = session.scalar(select(OutboxMessage.body_text).where(
            OutboxMessage.dedupe_key == f"proposal:{match_id}"))
    link = re.search(r"https?://\S+/koppeling/(\S+)", body)
    assert link, body
    return f"/koppeling/{link.group(1)}"


@pytest.mark.parametrize("choice, status", [("accept", "accepted"), ("decline", "declined")])
def test_the_demo_volunteer_can_answer_and_the_answer_stands(demo, choice, status):
    app, password = demo
    coordinator = app.test_client()
    assert login(coordinator, "coordinator@demo.maatwerk.example", password).status_code == 302
    match_id = _approve_one(app, coordinator)
    path = _mailed_link(app, match_id)
    volunteer = app.test_client()
    page = volunteer.get(path)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    data = {"choice": choice, **({"csrf_token": token.group(1)} if token else {})}
    answered = volunteer.post(path, data=data)
    assert answered.status_code == 200, answered.get_data(as_text=True)
    with app.extensions["maatwerk.sessions"]() as session:
        assert session.get(Match, match_id).status == status
        notice = session.scalar(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"coordinator:{status}:{match_id}"))
        assert notice is not None and notice.status == "pending", "the coordinator is told"
        assert notice.to_address.endswith("<coordinator@demo.maatwerk.example>")


def test_the_demo_starts_with_an_offer_and_a_check_in_a_newcomer_can_open(demo):
    app, password = demo
    with app.extensions["maatwerk.sessions"]() as session:
        bodies = {key.split(":")[0]: body for key, body in session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.body_text)
            .where(OutboxMessage.status == "pending"))}
    assert {"proposal", "check_in"} <= bodies.keys()
    offer = re.search(r"https?://\S+(/koppeling/\S+)", bodies["proposal"]).group(1)
    check_in = re.search(r"https?://\S+(/check-in/[^\s?]+)", bodies["check_in"]).group(1)
    volunteer = app.test_client()
    assert "Ja, ik neem het voorstel aan" in volunteer.get(offer).get_data(as_text=True)
    assert volunteer.get(check_in).status_code == 200
    coordinator = app.test_client()
    assert login(coordinator, "coordinator@demo.maatwerk.example", password).status_code == 302
    outbox = coordinator.get("/beheer/berichten/").get_data(as_text=True)
    assert offer in outbox and check_in in outbox  # readable and clickable in demo mode
