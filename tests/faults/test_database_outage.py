"""PostgreSQL goes away during traffic: requests fail cleanly and the app recovers by itself.

The app runs in a real HTTP server (werkzeug, threaded) on 127.0.0.1. A restart is simulated on
the test's own database only, so other databases of a shared cluster are left alone: every
backend of the database is terminated (what a restart does to open connections), and for the
outage itself new connections are refused (ALTER DATABASE ... ALLOW_CONNECTIONS false) until
the database "comes back".
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import Connection, make_url, text
from werkzeug.serving import make_server

from matching.store import make_engine
from tests.logins import PASSWORD

LEAKS = ("Traceback", "psycopg", "OperationalError", "sqlalchemy", "SELECT ")


@pytest.fixture
def served(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@contextmanager
def _maintenance(database_url: str) -> Iterator[Connection]:
    """A connection to the cluster's maintenance database, outside the test database."""
    url = make_url(make_engine(database_url).url).set(database="postgres")
    engine = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _terminate(connection: Connection, name: str) -> None:
    """What a restart does to open connections: every backend of this database is ended."""
    connection.execute(text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})


@contextmanager
def _outage(database_url: str) -> Iterator[None]:
    """The database refuses new connections and loses its open ones until the block ends."""
    name = make_url(database_url).database
    # One connection, opened before the outage, also ends it: a full cluster (max_connections)
    # cannot then leave the test database closed to everyone.
    with _maintenance(database_url) as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        try:
            _terminate(connection, name)
            yield
        finally:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))


def _staff_session(base: str, email: str) -> requests.Session:
    import re

    client = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(base + "/login").text)
    assert token
    login = client.post(base + "/login", allow_redirects=False,
                        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert login.status_code == 302
    return client


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_dropped_connections_are_invisible_thanks_to_the_pre_ping(database_url, served, make_staff,
                                                                  make_volunteer, session):
    make_volunteer()
    session.commit()
    client = _staff_session(served, make_staff().email)
    assert client.get(served + "/vrijwilligers/").status_code == 200
    with _maintenance(database_url) as connection:
        _terminate(connection, make_url(database_url).database)  # the pool's connections die
    for _ in range(10):
        assert client.get(served + "/vrijwilligers/").status_code == 200
        assert requests.get(served + "/healthz").status_code == 200


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_outage_fails_cleanly_and_the_app_recovers_by_itself(database_url, served, make_staff,
                                                           make_volunteer, session):
    volunteer = make_volunteer()
    session.commit()
    session.close()
    client = _staff_session(served, make_staff().email)
    assert client.get(served + "/vrijwilligers/").status_code == 200

    with _outage(database_url):
        for path in ("/vrijwilligers/", f"/vrijwilligers/{volunteer.id}", "/", "/aanmelden"):
            for _ in range(3):
                response = client.get(served + path)
                body = response.text
                assert response.status_code == 503, (path, response.status_code)
                assert response.headers["Retry-After"] == "30"
                assert not any(leak in body for leak in LEAKS), (path, body[:500])
                assert "Tijdelijk niet beschikbaar" in body, path
                assert 'id="privacy-link"' in body, "the whole friendly page, not a bare 500"
        health = requests.get(served + "/healthz")
        assert health.status_code == 503
        assert health.json() == {"status": "database unavailable"}
        assert requests.get(served + "/login").status_code == 200  # needs no database

    deadline = time.monotonic() + 10
    while requests.get(served + "/healthz").status_code != 200:
        assert time.monotonic() < deadline, "no recovery within 10 s"
        time.sleep(0.2)
    for _ in range(5):
        assert client.get(served + "/vrijwilligers/").status_code == 200, "the session survives"
    assert client.get(served + f"/vrijwilligers/{volunteer.id}").status_code == 200
