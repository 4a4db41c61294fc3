"""The jobs commands, run through click as the console would."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from jobs.cli import jobs
from jobs.scheduler import JOBS
from matching.services import mail
from matching.store import OutboxMessage, make_session_factory

ROOT = Path(__file__).resolve().parents[2]


def test_list_shows_every_registered_job():
    result = CliRunner().invoke(jobs, ["list"])
    assert result.exit_code == 0
    assert [line.split("\t")[0] for line in result.output.splitlines()] == sorted(JOBS)
    assert "jobs.tasks:dispatch_outbox" in result.output


def test_unknown_job_is_refused():
    result = CliRunner().invoke(jobs, ["run", "nope"])
    assert result.exit_code != 0
    assert "unknown job" in result.output


def test_run_outbox_dispatch_writes_the_files(engine, session, database_url, tmp_path):
    mail.enqueue(session, dedupe_key="k", to="anne@example.org", template="notice",
                 context={"subject": "s", "name": "Anne", "lines": [], "link": ""}, locale="nl",
                 now=datetime(2026, 1, 1, tzinfo=UTC))
    session.commit()
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT),
           "MAATWERK_INSTANCE": str(tmp_path / "instance"), "MAIL_SERVER": "",
           "MAIL_OUTBOX_DIR": str(tmp_path / "outbox")}
    done = subprocess.run([sys.executable, "-m", "jobs", "run", "outbox.dispatch"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    with make_session_factory(engine)() as fresh:
        assert fresh.query(OutboxMessage.status).scalar() == "sent"


def test_jobs_and_web_do_not_import_each_other_and_services_not_flask():
    code = (
        "import sys\n"
        "import jobs.cli, jobs.scheduler, jobs.tasks, jobs.lock\n"
        "import matching.services.mail, matching.services.links, jobs.outbox\n"
        "assert not [m for m in sys.modules if m == 'web' or m.startswith(('web.', 'flask'))]\n"
    )
    check = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert check.returncode == 0, check.stderr
    code = (
        "import sys\n"
        "import web, web.outbox\n"
        "assert not [m for m in sys.modules if m == 'jobs' or m.startswith('jobs.')]\n"
    )
    check = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert check.returncode == 0, check.stderr


def test_matching_imports_neither_web_nor_jobs_nor_demo():
    code = (
        "import importlib, pkgutil, sys\n"
        "import matching\n"
        "for found in pkgutil.walk_packages(matching.__path__, 'matching.'):\n"
        "    importlib.import_module(found.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('web', 'jobs', 'demo', 'flask')]\n"
        "assert not bad, bad\n"
    )
    check = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert check.returncode == 0, check.stderr
