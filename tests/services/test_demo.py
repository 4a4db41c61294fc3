import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import config
from matching.errors import ValidationFailed
from demo import people as demo_people
from demo import population as demo
from matching.services import taxonomy, validation
from matching.store import (
    END_REASONS, OPEN_MATCH_STATUSES, CheckIn, Consent, Exclusion, Match, MatchRun, PostcodeArea,
    Resident, Volunteer, make_engine, make_session_factory,
)
from matching.store.people import (
    GENDERS, REFERRAL_SOURCES, RESIDENT_STATUSES, TARGET_GROUPS, VOLUNTEER_STATUSES,
)
from tests.conftest import ROOT, shared_file
from tests.logins import login

TODAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
GEONAMES_ROWS = [
    ("3511", "Utrecht", "52.0884", "5.1175"),
    ("3563", "Utrecht", "52.1187", "5.0994"),
    ("3527", "Utrecht", "52.0771", "5.0923"),
    ("3451", "De Meern", "52.0909", "5.0335"),
    ("3451", "Vleuten", "52.1057", "5.0133"),
    ("1012", "Amsterdam", "52.3738", "4.8910"),
    ("3581", "Utrecht", "52.0904", "5.1342"),
    ("3601", "Maarssen", "52.1385", "5.0406"),
]


def _write_postcodes(path: Path) -> Path:
    lines = [f"NL\t{code}\t{place}\t\t\t\t\t\t\t{lat}\t{lon}\t"
             for code, place, lat, lon in GEONAMES_ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _fingerprint(session):
    people = [*session.scalars(select(Volunteer)), *session.scalars(select(Resident))]
    persons = sorted((p.first_name, p.last_name, p.birth_year, p.postcode, p.lat, p.lon, p.status,
                      tuple(p.languages), tuple(p.availability)) for p in people)
    statuses = Counter(session.scalars(select(Match.status)))
    return persons, statuses


def _load_into_copy(template: Path, tmp_path: Path, name: str, seed: int):
    path = tmp_path / f"{name}.sqlite"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    with make_session_factory(engine)() as session:
        demo.load(session, seed=seed, today=TODAY, postcode_file=None)
        session.commit()
        result = _fingerprint(session)
    engine.dispose()
    return result


def test_same_seed_gives_the_same_population_on_every_backend(session, sqlite_template, tmp_path):
    demo.load(session, seed=11, today=TODAY, postcode_file=None)
    session.commit()
    here = _fingerprint(session)
    assert here == _load_into_copy(sqlite_template, tmp_path, "again", seed=11)
    other = _load_into_copy(sqlite_template, tmp_path, "other", seed=12)
    assert other[0] != here[0]
    assert {p[:2] for p in other[0]} != {p[:2] for p in here[0]}


def test_population_is_large_varied_and_consistent(session):
    started = time.perf_counter()
    summary = demo.load(session, seed=7, today=TODAY, postcode_file=None)
    session.commit()
    elapsed = time.perf_counter() - started
    volunteers = list(session.scalars(select(Volunteer)))
    residents = list(session.scalars(select(Resident)))
    assert summary["volunteers"] == len(volunteers) >= 300
    assert summary["residents"] == len(residents) >= 250
    assert elapsed < 60  # the target is < 10 s on SQLite; this only catches a runaway

    assert {v.status for v in volunteers} == set(VOLUNTEER_STATUSES)
    assert {r.status for r in residents} == set(RESIDENT_STATUSES)
    assert {r.target_group for r in residents} == set(TARGET_GROUPS)
    assert {r.referral_source for r in residents} == set(REFERRAL_SOURCES)
    assert {p.gender for p in [*volunteers, *residents]} <= set(GENDERS)
    assert all(18 <= TODAY.year - v.birth_year <= 80 for v in volunteers)
    older = sum(55 <= TODAY.year - v.birth_year <= 75 for v in volunteers)
    assert older > len(volunteers) / 3
    assert all(65 <= TODAY.year - r.birth_year <= 96 for r in residents
               if r.target_group == "older_person")
    assert all(16 <= TODAY.year - r.birth_year <= 27 for r in residents
               if r.target_group == "young_person")
    kinds = ("interest", "activity", "language")
    codes = {kind: set(taxonomy.codes(session, kind)) for kind in kinds}
    for person in [*volunteers, *residents]:
        assert person.languages and set(person.languages) <= codes["language"]
        assert person.interests and set(person.interests) <= codes["interest"]
        assert person.activities and set(person.activities) <= codes["activity"]
        assert person.availability == sorted(set(person.availability))
        assert all(0 <= slot <= 20 for slot in person.availability)
        assert 52.05 <= person.lat <= 52.12 and 5.05 <= person.lon <= 5.16
        assert re.fullmatch(r"\d{4} [A-Z]{2}", person.postcode)
        assert person.location_source == "manual" and person.neighbourhood
    turkish = [r for r in residents if r.last_name in {"Yılmaz", "Kaya", "Demir", "Öztürk"}]
    assert turkish and all("tr" in r.languages for r in turkish)
    assert all(1 <= v.capacity <= 3 and 1 <= v.max_travel_km <= 10 for v in volunteers)
    assert all(v.vog_date for v in volunteers if v.vog_status == "valid")
    paused = [v for v in volunteers if v.status == "paused"]
    assert all(v.paused_until and v.paused_until > TODAY for v in paused)
    assert all(v.stop_reason and v.stopped_at for v in volunteers if v.status == "stopped")
    returning = [v for v in volunteers if v.is_returning]
    assert returning and all(v.returned_at and v.returned_at <= NOW for v in returning)
    assert any(r.referrer_organisation == "Buurtteam Overvecht" for r in residents) or any(
        (r.referrer_organisation or "").startswith("Buurtteam") for r in residents)
    assert sum(r.loneliness_score is not None for r in residents) > len(residents) * 0.8
    assert any(v.prefers_gender for v in volunteers) and any(r.prefers_gender for r in residents)


def test_database_invariants_hold(session):
    demo.load(session, seed=3, today=TODAY, postcode_file=None)
    session.commit()
    matches = list(session.scalars(select(Match)))
    open_matches = [m for m in matches if m.status in OPEN_MATCH_STATUSES]
    per_resident = Counter(m.resident_id for m in open_matches)
    assert per_resident and max(per_resident.values()) == 1
    per_volunteer = Counter(m.volunteer_id for m in open_matches)
    for volunteer in session.scalars(select(Volunteer)):
        assert volunteer.open_matches == per_volunteer[volunteer.id] <= volunteer.capacity
        if per_volunteer[volunteer.id]:
            assert volunteer.status == "available" and volunteer.vog_status == "valid"
    for resident in session.scalars(select(Resident)):
        current = [m for m in open_matches if m.resident_id == resident.id]
        if current and current[0].status == "active":
            assert resident.status == "matched"
        elif current:
            assert resident.status == "proposed"
        else:
            assert resident.status in {"referred", "waiting", "on_hold", "closed"}
        if resident.status == "closed":
            assert resident.closed_at and resident.closed_reason
    weeks = list(session.execute(select(CheckIn.match_id, CheckIn.week)))
    assert len(weeks) == len(set(weeks)) > 1000
    assert all(re.fullmatch(r"\d{4}-W\d{2}", week) for _match, week in weeks)
    assert session.scalar(select(func.count()).select_from(CheckIn).where(
        CheckIn.answered_at.is_(None))) > 0
    assert session.scalar(select(func.count()).select_from(CheckIn).where(
        CheckIn.call_requested.is_(True))) > 0


def test_every_demo_phone_number_passes_the_forms_validation(session):
    # Found by the load test: a coordinator could not save a demo volunteer with a 069 number.
    demo.load(session, seed=3, today=TODAY, postcode_file=None)
    session.commit()
    numbers = [*session.scalars(select(Volunteer.phone)), *session.scalars(select(Resident.phone)),
               *session.scalars(select(Resident.referrer_phone))]
    assert len([n for n in numbers if n]) > 300
    for number in numbers:
        validation.phone(number)


def test_history_covers_eighteen_months_with_coherent_matches(session):
    demo.load(session, seed=5, today=TODAY, postcode_file=None)
    session.commit()
    matches = list(session.scalars(select(Match)))
    assert {m.status for m in matches} >= {
        "proposed", "offered", "accepted", "active", "ended", "declined", "expired"}
    first = min(m.proposed_at for m in matches)
    assert NOW - timedelta(days=580) <= first <= NOW - timedelta(days=480)
    assert max(m.proposed_at for m in matches) >= NOW - timedelta(days=15)
    runs = {run.id: run for run in session.scalars(select(MatchRun))}
    assert runs and all(run.status == "done" for run in runs.values())
    excluded = set(session.execute(select(Exclusion.volunteer_id, Exclusion.resident_id)))
    for match in matches:
        assert match.run_id in runs and runs[match.run_id].started_at <= match.proposed_at
        moments = [match.proposed_at, match.offered_at, match.decided_at, match.activated_at,
                   match.ended_at]
        present = [m for m in moments if m is not None]
        assert present == sorted(present) and present[-1] <= NOW
        if match.status == "ended":
            assert match.end_reason in END_REASONS and match.activated_at and match.ended_at
        if match.status == "active":
            assert match.activated_at and match.ended_at is None
        if match.status == "declined":
            assert match.decline_reason and match.decided_at
            assert (match.volunteer_id, match.resident_id) in excluded
    check_ins = list(session.scalars(select(CheckIn)))
    activated = {m.id: m.activated_at for m in matches}
    assert all(c.sent_at > activated[c.match_id] and c.sent_at <= NOW for c in check_ins)
    assert all(c.rating is None or 1 <= c.rating <= 5 for c in check_ins)


def test_consent_rows_for_everyone_and_for_health_notes(session):
    demo.load(session, seed=7, today=TODAY, postcode_file=None)
    session.commit()
    consents = list(session.scalars(select(Consent)))
    assert all(c.text_version == "2026-01" for c in consents)
    given = {(c.subject_kind, c.subject_id, c.purpose) for c in consents}
    for volunteer in session.scalars(select(Volunteer)):
        assert ("volunteer", volunteer.id, "profile") in given
    noted = 0
    for resident in session.scalars(select(Resident)):
        assert ("resident", resident.id, "referral") in given
        if resident.health_note:
            noted += 1
            assert ("resident", resident.id, "health_note") in given
    assert noted >= 3


def test_a_postcode_file_places_everyone_in_its_utrecht_areas(session, tmp_path):
    postcodes = _write_postcodes(tmp_path / "NL.txt")
    summary = demo.load(session, seed=7, today=TODAY, postcode_file=str(postcodes))
    session.commit()
    centres = {}
    for code, _place, lat, lon in GEONAMES_ROWS:
        centres.setdefault(code, []).append((float(lat), float(lon)))
    stored = sorted(session.execute(select(PostcodeArea.postcode, PostcodeArea.place)))
    assert [tuple(row) for row in stored] == sorted(
        (code, place) for code, place, _lat, _lon in GEONAMES_ROWS if code not in {"1012", "3601"})
    assert summary["postcode_areas"] == 6
    seen = set()
    for person in [*session.scalars(select(Volunteer)), *session.scalars(select(Resident))]:
        code = person.postcode[:4]
        seen.add(code)
        assert code in {"3511", "3563", "3527", "3451", "3581"}
        assert person.location_source == "postcode_area"
        assert min(demo_people.km(person.lat, person.lon, *c) for c in centres[code]) <= 0.31
    assert seen == {"3511", "3563", "3527", "3451", "3581"}
    neighbourhoods = {p.neighbourhood for p in session.scalars(select(Resident))}
    assert neighbourhoods == {"Binnenstad", "Overvecht", "Zuidwest", "Vleuten-De Meern", "Oost"}


def test_loading_twice_does_not_duplicate_known_postcode_areas(session, tmp_path):
    postcodes = _write_postcodes(tmp_path / "NL.txt")
    session.add(PostcodeArea(postcode="3511", place="Utrecht", lat=52.0884, lon=5.1175))
    session.flush()
    summary = demo.load(session, seed=1, today=TODAY, postcode_file=str(postcodes))
    assert summary["postcode_areas"] == 5
    assert session.scalar(select(func.count()).select_from(PostcodeArea).where(
        PostcodeArea.postcode == "3511")) == 1


def test_a_postcode_file_without_utrecht_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("NL\t1012\tAmsterdam\t\t\t\t\t\t\t52.3738\t4.8910\t\n")
    with pytest.raises(ValidationFailed) as refused:
        demo_people.read_utrecht_areas(str(elsewhere))
    assert refused.value.errors == {"postcode_file": "no_utrecht_areas"}
    with pytest.raises(ValidationFailed) as missing:
        demo_people.read_utrecht_areas(str(tmp_path / "absent.txt"))
    assert missing.value.errors == {"postcode_file": "unreadable"}


def test_the_shared_geonames_file_places_everyone_in_utrecht(session):
    path = shared_file("geo", "NL.txt")
    demo.load(session, seed=7, today=TODAY, postcode_file=str(path))
    session.commit()
    people = [*session.scalars(select(Volunteer)), *session.scalars(select(Resident))]
    codes = {int(p.postcode[:4]) for p in people}
    assert all(3511 <= c <= 3585 or 3451 <= c <= 3455 for c in codes)
    assert len(codes) > 30
    assert len({p.neighbourhood for p in people}) == 10
    stored = set(session.scalars(select(PostcodeArea.postcode)))
    assert {str(c) for c in codes} <= stored


CLI = [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())"]


def _cli_env(tmp_path: Path, database: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
           "MAATWERK_INSTANCE": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    env.pop("GEO_POSTCODES_FILE", None)
    env.pop("MAATWERK_ENV", None)
    return env


def test_cli_demo_loads_prints_a_login_that_works(tmp_path, sqlite_template):
    database = tmp_path / "demo.sqlite"
    env = _cli_env(tmp_path, database)
    command = [*CLI, "demo", "--seed", "7", "--today", TODAY.isoformat()]
    first = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, first.stderr
    assert "coordinator@demo.maatwerk.example" in first.stdout
    password = re.search(r"wachtwoord: (\S+)", first.stdout).group(1)
    assert (tmp_path / "instance" / "demo-login.txt").stat().st_mode & 0o077 == 0

    again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert "not loaded again" in again.stdout and password in again.stdout

    from web import create_app

    app = create_app(config.TestConfig(f"sqlite:///{database}"))
    try:
        client = app.test_client()
        response = login(client, "coordinator@demo.maatwerk.example", password)
        assert response.status_code == 302
        home = client.get("/")
        assert home.status_code == 200
        with app.extensions["maatwerk.sessions"]() as session:
            volunteers = session.scalar(select(func.count()).select_from(Volunteer))
        assert f'data-count="volunteers">{volunteers}<' in home.get_data(as_text=True)
        assert login(app.test_client(), "coordinator@demo.maatwerk.example", "verkeerd-wachtwoord!"
                     ).status_code != 302
        with app.extensions["maatwerk.sessions"]() as session:
            loaded = _fingerprint(session)
    finally:
        app.extensions["maatwerk.engine"].dispose()
    # Another process (another hash seed) loads the very same population.
    assert loaded == _load_into_copy(sqlite_template, tmp_path, "in_process", seed=7)


def test_cli_demo_refuses_a_postcode_file_without_utrecht_and_loads_nothing(tmp_path):
    database = tmp_path / "demo.sqlite"
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("NL\t1012\tAmsterdam\t\t\t\t\t\t\t52.3738\t4.8910\t\n")
    env = {**_cli_env(tmp_path, database), "GEO_POSTCODES_FILE": str(elsewhere)}
    result = subprocess.run([*CLI, "demo"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 1
    assert "demo population not loaded" in result.stderr and "Traceback" not in result.stderr
    engine = make_engine(f"sqlite:///{database}")
    try:
        with make_session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(Volunteer)) == 0
    finally:
        engine.dispose()


def test_the_demos_open_proposals_obey_the_engines_hard_rules(session):
    """A coordinator opening the demo sees only pairs the engine itself could propose."""
    from matching.services import proposals

    demo.load(session, seed=7, today=TODAY, postcode_file=None)
    session.flush()
    open_pairs = session.execute(select(Match.volunteer_id, Match.resident_id).where(
        Match.status.in_(("proposed", "offered", "accepted")))).all()
    assert len(open_pairs) >= 10
    refused = [pair for pair in open_pairs
               if proposals._pair_explanation(session, *pair, TODAY) is None]
    assert refused == []
