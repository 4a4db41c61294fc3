"""A live server on a file SQLite database and a Playwright page driving Debian's chromium."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from config import TestConfig
from matching.store import make_engine, make_session_factory
from matching.store import schema

from ..conftest import unavailable

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(autouse=True)
def _needs_chromium() -> None:
    """Every test here drives Debian's chromium."""
    if not Path(CHROMIUM).exists():
        unavailable("Debian's chromium")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash.setdefault(FAILED, False)
        if report.failed:
            item.stash[FAILED] = True


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, Callable[[], Session]]]:
    """The app served on 127.0.0.1 in a thread; returns its base URL and a session factory."""
    from web import create_app

    url = f"sqlite:///{tmp_path / 'e2e.sqlite'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    app = create_app(TestConfig(url))
    try:
        with serving(app) as base:
            yield base, make_session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve the app on 127.0.0.1 from a thread (BASE_URL set for its e-mails); yields the URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["maatwerk.engine"].dispose()


@pytest.fixture
def page(request: pytest.FixtureRequest) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            if request.node.stash.get(FAILED, False):
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
            browser.close()
