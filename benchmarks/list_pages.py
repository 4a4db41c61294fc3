"""Time the volunteer and resident list pages at 10,000 profiles each, against a naive baseline.

    PYTHONPATH=. python benchmarks/list_pages.py          # temporary SQLite file
    BENCH_DATABASE_URL=postgresql://... python benchmarks/list_pages.py   # also PostgreSQL

The baseline is what the pages would cost without SQL filtering: load every row of the table
through the ORM and filter, sort and slice in Python (no HTTP or template work included).
WARNING: a PostgreSQL database given here is emptied (schema dropped and recreated).
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import TestConfig  # noqa: E402
from matching.services import staff as staff_service  # noqa: E402
from matching.services.passwords import HashProfile  # noqa: E402
from matching.store import Resident, Volunteer, make_engine, make_session_factory, utcnow  # noqa: E402
from matching.store.base import new_id  # noqa: E402
from matching.store import schema  # noqa: E402

PEOPLE = 10_000
RUNS = 5
PASSWORD = "lange-wachtzin-voor-metingen"
FIRST = ["Anne", "Bram", "Cor", "Daan", "Eva", "Fatma", "Gerrit", "Hanna", "Ilse", "Jan", "Karim", "Lotte"]
LAST = ["Jansen", "de Vries", "Bakker", "Visser", "Smit", "Meijer", "Yilmaz", "El Amrani", "Mulder", "Bos"]
LANGUAGES = ["nl", "tr", "ar", "en", "pap"]


def _person(rng: random.Random, n: int) -> dict[str, Any]:
    now = utcnow()
    pc4 = rng.randint(3500, 3585)
    return {
        "id": new_id(), "first_name": rng.choice(FIRST), "last_name": f"{rng.choice(LAST)} {n}",
        "email": f"p{n}@example.org", "phone": f"+316{rng.randint(10000000, 59999999)}",
        "postcode": f"{pc4} {rng.choice('ABCDEFGHJKLMNPRTVWXZ')}{rng.choice('ABCDEFGHJKLMNPRTVWXZ')}",
        "house_number": str(rng.randint(1, 200)), "birth_year": rng.randint(1930, 2004),
        "languages": rng.sample(LANGUAGES, rng.randint(1, 2)), "interests": ["wandelen"],
        "activities": [], "availability": sorted(rng.sample(range(21), 4)),
        "created_at": now, "updated_at": now, "version": 1,
    }


def populate(session: Session, rng: random.Random) -> None:
    # The languages used come from the taxonomy that migration 0002 seeds.
    now = utcnow()
    volunteers = [{**_person(rng, n), "status": rng.choice(["new", "available", "available", "paused"]),
                   "registered_at": now - timedelta(days=rng.randint(0, 2000))} for n in range(PEOPLE)]
    residents = [{**_person(rng, n), "status": rng.choice(["referred", "waiting", "waiting", "matched"]),
                  "waiting_since": (now - timedelta(days=rng.randint(0, 400))).date(),
                  "target_group": rng.choice(["older_person", "migrant_elder", "informal_carer"])}
                 for n in range(PEOPLE)]
    session.execute(insert(Volunteer), volunteers)
    session.execute(insert(Resident), residents)
    staff_service.create_user(session, profile=HashProfile(1, 8, 1), email="bench@vcu.example",
                              name="Bench", role="coordinator", password=PASSWORD)
    session.commit()


def _median_ms(action: Callable[[], Any]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _python_page(sessions: Any, model: type[Any], keep: Callable[[Any], bool], key: Callable[[Any], Any],
                 page: int = 1) -> list[Any]:
    with sessions() as session:
        rows = [row for row in session.scalars(select(model)) if keep(row)]
    rows.sort(key=key)
    return rows[(page - 1) * 50: page * 50]


def scenarios() -> list[tuple[str, str, type[Any], Callable[[Any], bool], Callable[[Any], Any], int]]:
    name = lambda r: (r.last_name, r.first_name, r.id)  # noqa: E731
    every = lambda r: True  # noqa: E731
    return [
        ("volunteers: first page", "/vrijwilligers/", Volunteer, every, name, 1),
        ("volunteers: status+language+PC4", "/vrijwilligers/?status=available&language=tr&pc4=352",
         Volunteer, lambda r: r.status == "available" and "tr" in r.languages
         and r.postcode.startswith("352"), name, 1),
        ("volunteers: sort postcode, page 150", "/vrijwilligers/?sort=postcode&page=150", Volunteer,
         every, lambda r: (r.postcode, r.id), 150),
        ("volunteers: search 'bakker 12'", "/vrijwilligers/?q=bakker+12", Volunteer,
         lambda r: "bakker 12" in r.last_name.lower(), name, 1),
        ("residents: first page", "/deelnemers/", Resident, every, name, 1),
        ("residents: waiting >= 180 days", "/deelnemers/?status=waiting&min_wait=180&sort=waiting",
         Resident, lambda r: r.status == "waiting" and (utcnow().date() - r.waiting_since).days >= 180,
         lambda r: (r.waiting_since, r.id), 1),
        ("residents: sort waiting, page 199", "/deelnemers/?sort=waiting&dir=desc&page=199", Resident,
         every, lambda r: (-r.waiting_since.toordinal(), r.id), 199),
        ("residents: search phone", "/deelnemers/?q=0612", Resident,
         lambda r: "612" in (r.phone or ""), name, 1),
    ]


def run(url: str, label: str) -> None:
    engine = make_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    schema.upgrade(engine)
    sessions = make_session_factory(engine)
    start = time.perf_counter()
    with sessions() as session:
        populate(session, random.Random(20261129))
    print(f"\n{label}: inserted {PEOPLE} volunteers + {PEOPLE} residents in "
          f"{time.perf_counter() - start:.1f} s; median of {RUNS} runs (ms)")

    from web import create_app

    app = create_app(TestConfig(url, WTF_CSRF_ENABLED=False))
    client = app.test_client()
    assert client.post("/login", data={"email": "bench@vcu.example", "password": PASSWORD}).status_code == 302
    print(f"{'scenario':<40} {'page (HTTP)':>12} {'baseline':>10} {'rows':>6}")
    for title, path, model, keep, key, page in scenarios():
        response = client.get(path)
        assert response.status_code == 200, path
        rows = response.get_data(as_text=True).count("<tr><td><a href=")
        page_ms = _median_ms(lambda: client.get(path))
        base_ms = _median_ms(lambda: _python_page(sessions, model, keep, key, page))
        print(f"{title:<40} {page_ms:>12.1f} {base_ms:>10.1f} {rows:>6}")
    app.extensions["maatwerk.engine"].dispose()
    engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        run(f"sqlite:///{Path(directory) / 'bench.sqlite'}", "SQLite")
    postgres = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if postgres:
        run(postgres, "PostgreSQL")


if __name__ == "__main__":
    main()
