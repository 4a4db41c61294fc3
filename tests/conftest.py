"""Fixtures: every database-facing test runs on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from config import TestConfig
from matching.services.passwords import HashProfile
from matching.services import staff as staff_service
from matching.store import Base, Resident, StaffUser, Volunteer, make_engine, make_session_factory
from matching.store import schema

from .logins import PASSWORD, login

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CHEAP_HASH = HashProfile(time_cost=1, memory_cost=8, parallelism=1)
# Reference data seeded by a migration: kept between tests, as in the migrated SQLite template.
MIGRATED_DATA_TABLES = frozenset({"interest", "activity", "language"})
IN_CI = os.environ.get("CI") == "true"


def unavailable(what: str) -> NoReturn:
    """Skip a test whose server or browser is absent, except in CI, where that is a failure."""
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true, and it is missing", pytrace=False)
    pytest.skip(f"{what} is not available here")


def shared_file(*parts: str) -> Path:
    """A file of ../shared (reference data kept outside the repository): skipped when absent,
    except in CI, where the machine has it and its absence is a failure."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        unavailable(f"../shared/{'/'.join(parts)}")
    return path


def table_digest(engine: Engine, *, skip: frozenset[str] = frozenset()) -> str:
    """A digest of every row of every table but those in skip: equal digests, no row changed."""
    import hashlib

    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            for row in connection.execute(table.select().order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file brought to the latest migration once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        unavailable("PostgreSQL (TEST_DATABASE_URL)")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    schema.upgrade(engine)
    engine.dispose()
    yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database for this test, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "maatwerk.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    migrated = request.getfixturevalue("migrated_rows")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        # Everything, the seeded taxonomy too: a test that adds a term must not leave it behind.
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for table in Base.metadata.sorted_tables:
            if migrated.get(table.name):
                connection.execute(table.insert(), migrated[table.name])
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def migrated_rows(postgres_url: str) -> dict[str, list[dict[str, Any]]]:
    """The rows the migrations seed (the taxonomy), as freshly migrated."""
    engine = make_engine(postgres_url)
    with engine.connect() as connection:
        rows = {name: [dict(row._mapping) for row in connection.execute(
                    Base.metadata.tables[name].select())]
                for name in MIGRATED_DATA_TABLES}
    engine.dispose()
    return rows


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_session_factory(engine)() as session:
        yield session


@pytest.fixture(scope="session")
def translations(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The catalogs under web/translations compiled afresh, so tests never read stale .mo files."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    target = tmp_path_factory.mktemp("translations")
    for po in (ROOT / "web" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = target / po.relative_to(ROOT / "web" / "translations").with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source, mo.open("wb") as out:
            write_mo(out, read_po(source, locale=po.parts[-3]))
    return str(target)


@pytest.fixture
def app(database_url: str, translations: str) -> Iterator[Flask]:
    from web import create_app

    app = create_app(TestConfig(database_url, BABEL_TRANSLATION_DIRECTORIES=translations))
    yield app
    app.extensions["maatwerk.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_staff(session: Session) -> Callable[..., StaffUser]:
    def make(**fields: Any) -> StaffUser:
        n = session.query(StaffUser).count() + 1
        values = {"email": f"staff{n}@vcu.example", "name": f"Staff {n}", "role": "coordinator",
                  "password": PASSWORD, **fields}
        user = staff_service.create_user(session, profile=CHEAP_HASH, **values)
        session.commit()
        return user

    return make


VOLUNTEER_DEFAULTS: dict[str, Any] = {
    "first_name": "Anne", "last_name": "de Vries", "email": "anne@example.org",
    "phone": "0612345678", "postcode": "3511 AB", "house_number": "12", "lat": 52.0907,
    "lon": 5.1214, "location_source": "manual", "birth_year": 1960, "gender": "f",
    "languages": ["nl"], "interests": ["wandelen"], "activities": ["koffie_drinken"],
    "availability": [0, 1, 4], "max_travel_km": 5.0, "capacity": 1, "status": "available",
}
RESIDENT_DEFAULTS: dict[str, Any] = {
    "first_name": "Henk", "last_name": "Jansen", "phone": "0301234567", "postcode": "3512 CD",
    "house_number": "3", "lat": 52.0850, "lon": 5.1300, "location_source": "manual",
    "birth_year": 1940, "gender": "m", "languages": ["nl"], "interests": ["wandelen"],
    "activities": ["koffie_drinken"], "availability": [1, 4], "status": "waiting",
    "target_group": "older_person", "referral_source": "gp",
}


@pytest.fixture
def make_volunteer(session: Session) -> Callable[..., Volunteer]:
    def make(**fields: Any) -> Volunteer:
        volunteer = Volunteer(**{**VOLUNTEER_DEFAULTS, **fields})
        session.add(volunteer)
        session.flush()
        return volunteer

    return make


@pytest.fixture
def make_resident(session: Session) -> Callable[..., Resident]:
    def make(**fields: Any) -> Resident:
        resident = Resident(**{**RESIDENT_DEFAULTS, **fields})
        session.add(resident)
        session.flush()
        return resident

    return make


@pytest.fixture
def logged_in(client: FlaskClient, make_staff: Callable[..., StaffUser]) -> Callable[..., FlaskClient]:
    """Log the test client in as a new staff member with the given role."""

    def as_role(role: str = "coordinator") -> FlaskClient:
        user = make_staff(role=role)
        response = login(client, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return as_role


@pytest.fixture
def make_active_match(
    session: Session,
    make_volunteer: Callable[..., Volunteer],
    make_resident: Callable[..., Resident],
) -> Callable[..., Any]:
    """An active match of a new volunteer and a new resident, activated at `activated_at`."""
    from matching.services.pairing import open_match

    count = 0

    def make(activated_at: Any, volunteer: dict[str, Any] | None = None,
             resident: dict[str, Any] | None = None) -> Any:
        nonlocal count
        count += 1
        v = make_volunteer(**{"email": f"maatje{count}@example.org", **(volunteer or {})})
        r = make_resident(**{"status": "matched", **(resident or {})})
        return open_match(session, volunteer_id=v.id, resident_id=r.id, status="active",
                          activated_at=activated_at, proposed_at=activated_at)

    return make
