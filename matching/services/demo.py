"""A deterministic demo population of Utrecht: volunteers, residents and 18 months of matches."""
from __future__ import annotations

import hashlib
import math
import random
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.errors import ValidationFailed
from matching.store import (
    END_REASONS, CheckIn, Consent, Exclusion, Match, MatchRun, PostcodeArea, Resident, Volunteer,
)
from matching.store.base import new_id

from . import taxonomy
from .demo_catalogue import (
    BACKGROUNDS, CHECK_IN_COMMENTS, CLOSED_REASONS, DECLINE_REASONS, END_NOTES, HEALTH_NOTES,
    MIGRANT_WIJKEN, ON_HOLD_NOTES, REFERRER_ROLES, REFERRERS, RESIDENT_BACKGROUNDS,
    RESIDENT_NOTES, STOP_REASONS, THIN_POSTCODES, UTRECHT_BOUNDS, VOLUNTEER_BACKGROUNDS,
    WIJK_BY_POSTCODE, WIJK_CENTRES, WIJK_POSTCODES, Background, is_utrecht_postcode,
)

VOLUNTEERS = 320
RESIDENTS = 270
HISTORY_DAYS = 548  # 18 months
CONSENT_TEXT_VERSION = "2026-01"
JITTER_METRES = 300.0
CHUNK = 2000
# Letters used in Dutch postcodes (F, I, O, Q, U and Y are not), and combinations never issued.
POSTCODE_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
UNUSED_LETTER_PAIRS = {"SA", "SD", "SS"}
OLDER_INTERESTS = {"handwerken", "kaarten", "geschiedenis", "tuinieren", "puzzelen", "zingen",
                   "geloof", "koffie_drinken", "markt", "nieuws", "bakken"}
YOUNGER_INTERESTS = {"computers", "voetbal", "film", "muziek", "fotografie", "sport_kijken",
                     "reizen", "dansen", "talen", "koken", "fietsen"}
ACTIVITY_WEIGHTS = {"koffie_drinken": 5, "wandeling": 4, "boodschappen": 2, "samen_koken": 2,
                    "spelletje": 3, "uitstapje": 2, "bibliotheek": 1, "markt": 2, "museum": 1.5,
                    "telefoongesprek": 1.5, "fietstocht": 1, "taal_oefenen": 1}
WEEKDAY_DAYTIME = [day * 3 + part for day in range(5) for part in (0, 1)]
WEEKDAY_EVENINGS = [day * 3 + 2 for day in range(5)]
WEEKEND_DAYTIME = [15, 16, 18, 19]


@dataclass(frozen=True)
class Area:
    """One row of a postcode file inside Utrecht."""

    postcode: str
    place: str
    lat: float
    lon: float


@dataclass
class _Taxonomy:
    interests: list[str]
    activities: list[str]


@dataclass
class _World:
    """Everything the history simulation reads and writes."""

    rng: random.Random
    today: date
    now: datetime
    volunteers: list[Volunteer]
    runs: list[MatchRun]
    matches: list[Match] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)
    pairs: set[tuple[str, str]] = field(default_factory=set)
    open_count: Counter[str] = field(default_factory=Counter)


def load(session: Session, *, seed: int, today: date, postcode_file: str | None) -> dict[str, int]:
    """Add the demo population for this seed and day; the caller commits."""
    rng = random.Random(seed)
    now = datetime.combine(today, time(12, 0), UTC)
    areas = read_utrecht_areas(postcode_file) if postcode_file else None
    stored_areas = _store_areas(session, areas) if areas else 0
    terms = _Taxonomy(taxonomy.codes(session, "interest"), taxonomy.codes(session, "activity"))
    volunteers = [_volunteer(rng, today, areas, terms) for _ in range(VOLUNTEERS)]
    residents = [_resident(rng, today, areas, terms) for _ in range(RESIDENTS)]
    _add(session, [*volunteers, *residents])
    world = _World(rng, today, now, volunteers, _runs(seed, now))
    for resident in residents:
        _story(world, resident)
    for volunteer in volunteers:
        volunteer.open_matches = world.open_count[volunteer.id]
    _finish_runs(world)
    consents = _consents(rng, now, volunteers, residents)
    _add(session, world.runs)
    _add(session, world.matches)
    _add(session, [*world.check_ins, *world.exclusions, *consents])
    statuses = Counter(match.status for match in world.matches)
    return {
        "volunteers": len(volunteers), "residents": len(residents),
        "matches": len(world.matches), "match_runs": len(world.runs),
        "check_ins": len(world.check_ins), "exclusions": len(world.exclusions),
        "consents": len(consents), "postcode_areas": stored_areas,
        **{f"matches_{status}": count for status, count in sorted(statuses.items())},
    }


def read_utrecht_areas(path: str) -> list[Area]:
    """The Utrecht rows of a GeoNames postal-code file (tab-separated, one area per row)."""
    areas = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            cells = line.rstrip("\n").split("\t")
            if len(cells) < 11 or not is_utrecht_postcode(cells[1].strip()):
                continue
            try:
                lat, lon = float(cells[9]), float(cells[10])
            except ValueError:
                continue
            areas.append(Area(cells[1].strip(), cells[2].strip(), lat, lon))
    if not areas:
        raise ValidationFailed({"postcode_file": "no_utrecht_areas"})
    return areas


def _add(session: Session, objects: Sequence[Any]) -> None:
    for start in range(0, len(objects), CHUNK):
        session.add_all(objects[start:start + CHUNK])
        session.flush()


def _store_areas(session: Session, areas: list[Area]) -> int:
    """Add the areas whose postcode the table does not know yet."""
    known = set(session.scalars(select(PostcodeArea.postcode).distinct()))
    rows = [PostcodeArea(postcode=a.postcode, place=a.place, lat=a.lat, lon=a.lon)
            for a in areas if a.postcode not in known]
    _add(session, rows)
    return len(rows)


# People ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Place:
    postcode: str
    wijk: str | None
    lat: float
    lon: float
    source: str


def _place(rng: random.Random, areas: list[Area] | None) -> _Place:
    if areas:
        # A code spanning several places has a row per place: each code weighs the same.
        rows = Counter(a.postcode for a in areas)
        weights = [THIN_POSTCODES.get(a.postcode, 1.0) / rows[a.postcode] for a in areas]
        area = rng.choices(areas, weights)[0]
        distance = JITTER_METRES * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        lat = area.lat + distance * math.cos(angle) / 111_320
        lon = area.lon + distance * math.sin(angle) / (111_320 * math.cos(math.radians(area.lat)))
        pc4, source = area.postcode, "postcode_area"
        wijk = WIJK_BY_POSTCODE.get(pc4)
    else:
        (south, north), (west, east) = UTRECHT_BOUNDS
        lat, lon = rng.uniform(south, north), rng.uniform(west, east)
        wijk = min(WIJK_CENTRES, key=lambda w: _km(lat, lon, *WIJK_CENTRES[w]))
        pc4, source = rng.choice(WIJK_POSTCODES[wijk]), "manual"
    return _Place(f"{pc4} {_postcode_letters(rng)}", wijk, round(lat, 6), round(lon, 6), source)


def _postcode_letters(rng: random.Random) -> str:
    while True:
        letters = rng.choice(POSTCODE_LETTERS) + rng.choice(POSTCODE_LETTERS)
        if letters not in UNUSED_LETTER_PAIRS:
            return letters


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def _background(rng: random.Random, weights: dict[str, float], wijk: str | None) -> str:
    boost = MIGRANT_WIJKEN.get(wijk or "", 1.0)
    names = list(weights)
    return rng.choices(names, [weights[n] * (1.0 if n == "dutch" else boost) for n in names])[0]


def _name(
    rng: random.Random, background: Background, gender: str, birth_year: int
) -> tuple[str, str]:
    female = gender == "f" or (gender == "x" and rng.random() < 0.5)
    if birth_year < 1962 and background.older_female:
        first = rng.choice(background.older_female if female else background.older_male)
    else:
        first = rng.choice(background.female if female else background.male)
    last = rng.choice(background.surnames)
    if female:
        for ending, female_ending in background.female_endings:
            if last.endswith(ending):
                last = last[: -len(ending)] + female_ending
                break
    return first, last


def _languages(rng: random.Random, background: Background, age: int, volunteer: bool) -> list[str]:
    languages = list(background.languages)
    dutch = 0.97 if volunteer else (background.elder_dutch if age >= 60 else 0.95)
    if "nl" not in languages and rng.random() < dutch:
        languages.insert(0, "nl")
    for code, chance in background.extra:
        younger = 1.3 if age < 50 and code == "en" else 1.0
        if code not in languages and rng.random() < chance * younger:
            languages.append(code)
    return languages


def _pick(rng: random.Random, weights: dict[str, float], k: int) -> list[str]:
    """k distinct codes drawn by weight, in draw order."""
    pool = dict(weights)
    chosen: list[str] = []
    while pool and len(chosen) < k:
        code = rng.choices(list(pool), list(pool.values()))[0]
        chosen.append(code)
        del pool[code]
    return chosen


def _interests(rng: random.Random, terms: _Taxonomy, age: int) -> list[str]:
    liked = OLDER_INTERESTS if age >= 60 else YOUNGER_INTERESTS
    weights = {code: 2.5 if code in liked else 1.0 for code in terms.interests}
    return _pick(rng, weights, rng.randint(2, 5))


def _activities(rng: random.Random, terms: _Taxonomy, languages: list[str]) -> list[str]:
    weights = {code: ACTIVITY_WEIGHTS.get(code, 1.0) for code in terms.activities}
    chosen = _pick(rng, weights, rng.randint(2, 4))
    if "nl" not in languages and "taal_oefenen" in weights and "taal_oefenen" not in chosen:
        if rng.random() < 0.6:
            chosen.append("taal_oefenen")
    return chosen


def _slots(rng: random.Random, kind: str) -> list[int]:
    """Weekly availability (day * 3 + part) for retirees, workers, students or carers."""
    if kind == "retired":
        slots = rng.sample(WEEKDAY_DAYTIME, rng.randint(3, 7))
        slots += [s for s in WEEKEND_DAYTIME if rng.random() < 0.1]
    elif kind == "worker":
        slots = rng.sample(WEEKDAY_EVENINGS, rng.randint(1, 3))
        slots += rng.sample(WEEKEND_DAYTIME, rng.randint(1, 3))
        if rng.random() < 0.3:  # part-timers have a free weekday afternoon
            slots.append(rng.randrange(5) * 3 + 1)
    elif kind == "student":
        slots = rng.sample([d * 3 + p for d in range(7) for p in (1, 2)], rng.randint(2, 5))
    else:  # carers: an evening, a weekend slot and a morning while someone else is there
        slots = rng.sample(WEEKDAY_EVENINGS, rng.randint(1, 2)) + rng.sample(WEEKEND_DAYTIME, 1)
        slots.append(rng.randrange(5) * 3)
    return sorted(set(slots))


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("ı", "i").replace("ł", "l"))
    return "".join(c for c in plain if c.isalnum() and c.isascii()).lower()


def _email(rng: random.Random, first: str, last: str) -> str:
    domain = rng.choice(("example.org", "example.net", "example.com"))
    return f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@{domain}"


def _mobile(rng: random.Random) -> str:
    return f"06{rng.randrange(10**8):08d}"


def _house_number(rng: random.Random) -> str:
    number = str(rng.choices([rng.randint(1, 40), rng.randint(41, 250)], [3, 1])[0])
    return number + rng.choices(["", "A", "bis", "-2"], [20, 2, 1, 2])[0]


def _moment(day: date, rng: random.Random, start: int = 9, end: int = 17) -> datetime:
    return datetime.combine(day, time(rng.randint(start, end - 1), rng.randrange(60)), UTC)


def _volunteer(
    rng: random.Random, today: date, areas: list[Area] | None, terms: _Taxonomy
) -> Volunteer:
    place = _place(rng, areas)
    background = BACKGROUNDS[_background(rng, VOLUNTEER_BACKGROUNDS, place.wijk)]
    age = rng.choices([rng.randint(18, 30), rng.randint(31, 54), rng.randint(55, 75),
                       rng.randint(76, 80)], [15, 25, 50, 10])[0]
    gender = rng.choices("fmx", [64, 34, 2])[0]
    birth_year = today.year - age
    first, last = _name(rng, background, gender, birth_year)
    languages = _languages(rng, background, age, volunteer=True)
    kind = "retired" if age >= 66 else "student" if age <= 25 else rng.choice(
        ["worker", "worker", "worker", "retired"] if age >= 55 else ["worker"])
    status = rng.choices(["available", "new", "paused", "stopped"], [73, 7, 8, 12])[0]
    volunteer = Volunteer(
        id=new_id(), first_name=first, last_name=last, email=_email(rng, first, last),
        phone=_mobile(rng), postcode=place.postcode, house_number=_house_number(rng),
        neighbourhood=place.wijk, lat=place.lat, lon=place.lon, location_source=place.source,
        birth_year=birth_year, gender=gender, languages=languages,
        interests=_interests(rng, terms, age), activities=_activities(rng, terms, languages),
        availability=_slots(rng, kind),
        max_travel_km=float(rng.choice([1, 2, 2, 3, 3, 3, 4, 5, 5, 5, 6, 8, 10])),
        capacity=rng.choices([1, 2, 3], [76, 19, 5])[0], status=status, source="demo",
    )
    if rng.random() < 0.08:
        volunteer.prefers_gender = gender if gender != "x" else None
    if rng.random() < 0.1:
        volunteer.prefers_min_age = rng.choice([55, 65, 70])
    registered = today - timedelta(days=rng.randint(30, 6 * 365))
    if status == "new":
        registered = today - timedelta(days=rng.randint(2, 40))
        volunteer.vog_status = rng.choice(["none", "requested", "requested"])
    else:
        volunteer.vog_status = rng.choices(["valid", "requested", "expired"], [92, 4, 4])[0]
        if volunteer.vog_status == "expired":
            registered = min(registered, today - timedelta(days=rng.randint(3 * 365 + 60, 6 * 365)))
    if status == "paused":
        volunteer.paused_until = today + timedelta(days=rng.randint(14, 120))
        volunteer.notes = rng.choice(["Pauze wegens drukte op het werk.", "Lange reis, pauze.",
                                      "Zorgt tijdelijk voor een kleinkind."])
    elif status == "stopped":
        stopped = today - timedelta(days=rng.randint(10, HISTORY_DAYS))
        registered = min(registered, stopped - timedelta(days=rng.randint(120, 1500)))
        volunteer.stopped_at = _moment(stopped, rng)
        volunteer.stop_reason = rng.choice(STOP_REASONS)
    elif status == "available" and age >= 60 and rng.random() < 0.3:
        # Older volunteers who stopped when corona started and came back since.
        registered = date(rng.randint(2011, 2019), rng.randint(1, 12), rng.randint(1, 28))
        volunteer.stopped_at = _moment(date(2020, 3, 16) + timedelta(days=rng.randint(0, 120)), rng)
        volunteer.stop_reason = "Gestopt tijdens corona (risicogroep)"
        back = today - timedelta(days=rng.randint(30, HISTORY_DAYS - 30))
        volunteer.returned_at = max(_moment(back, rng), volunteer.stopped_at + timedelta(days=60))
        volunteer.is_returning = True
    volunteer.registered_at = volunteer.created_at = volunteer.updated_at = _moment(registered, rng)
    if volunteer.vog_status in ("valid", "expired"):
        vog = registered + timedelta(days=rng.randint(7, 40))
        if volunteer.returned_at:
            vog = volunteer.returned_at.date() + timedelta(days=rng.randint(0, 20))
            volunteer.vog_status = "valid"
        elif status == "stopped":
            stopped_on = volunteer.stopped_at.date()  # type: ignore[union-attr]
            volunteer.vog_status = "expired" if (stopped_on - vog).days > 3 * 365 else "valid"
        elif volunteer.vog_status == "valid" and (today - vog).days > 3 * 365:
            # Renewed every three years while active.
            vog += timedelta(days=3 * 365 * ((today - vog).days // (3 * 365)))
        volunteer.vog_date = min(vog, today)
    volunteer.last_active_at = volunteer.returned_at or volunteer.registered_at
    return volunteer


def _resident(
    rng: random.Random, today: date, areas: list[Area] | None, terms: _Taxonomy
) -> Resident:
    place = _place(rng, areas)
    background_name = _background(rng, RESIDENT_BACKGROUNDS, place.wijk)
    background = BACKGROUNDS[background_name]
    if background_name != "dutch" and rng.random() < 0.6:
        group = "migrant_elder"
    else:
        group = rng.choices(["older_person", "informal_carer", "young_person", "other"],
                            [64, 14, 15, 7])[0]
    age = {
        "older_person": round(rng.triangular(65, 96, 81)), "migrant_elder": rng.randint(58, 88),
        "informal_carer": rng.randint(40, 70), "young_person": rng.randint(16, 27),
        "other": rng.randint(28, 64),
    }[group]
    gender = rng.choices("fmx", [60, 39, 1] if age >= 65 else [52, 46, 2])[0]
    birth_year = today.year - age
    first, last = _name(rng, background, gender, birth_year)
    languages = _languages(rng, background, age, volunteer=False)
    kind = {"informal_carer": "carer", "young_person": "student"}.get(group, "retired")
    if group == "other":
        kind = "worker"
    source = rng.choices(["gp", "neighbourhood_team", "nizu", "self", "family", "partner"],
                         [24, 28, 8, 14, 14, 12])[0]
    if group == "informal_carer" and rng.random() < 0.5:
        source = "partner"
    resident = Resident(
        id=new_id(), first_name=first, last_name=last, postcode=place.postcode,
        house_number=_house_number(rng), neighbourhood=place.wijk, lat=place.lat, lon=place.lon,
        location_source=place.source, birth_year=birth_year, gender=gender, languages=languages,
        interests=_interests(rng, terms, age), activities=_activities(rng, terms, languages),
        availability=_slots(rng, kind), target_group=group, referral_source=source,
    )
    young = age < 60
    landline = f"030{rng.randrange(10**7):07d}"
    resident.phone = _mobile(rng) if young or rng.random() < 0.3 else landline
    if rng.random() < (0.85 if young else 0.25):
        resident.email = _email(rng, first, last)
    resident.can_travel = age < 80 and rng.random() < 0.5
    if resident.can_travel:
        resident.max_travel_km = float(rng.choice([1, 2, 3, 5]))
    _referrer(rng, resident, place.wijk)
    if rng.random() < 0.9:
        resident.loneliness_score = rng.choices(range(7), [2, 3, 6, 10, 14, 12, 8])[0]
    women_first = background_name in ("turkish", "moroccan", "afghan", "somali", "syrian")
    if gender == "f" and group == "migrant_elder" and women_first and rng.random() < 0.6:
        resident.prefers_gender = "f"
    elif gender in "fm" and rng.random() < 0.12:
        resident.prefers_gender = gender
    if group == "young_person" and rng.random() < 0.4:
        resident.prefers_max_age = 35
    elif rng.random() < 0.08:
        band = rng.choice([(30, 70), (40, 75), (50, 80)])
        resident.prefers_min_age, resident.prefers_max_age = band
    if rng.random() < 0.3:
        resident.notes = rng.choice(RESIDENT_NOTES)
    if group in ("older_person", "migrant_elder") and rng.random() < 0.1:
        resident.health_note = rng.choice(HEALTH_NOTES)
    return resident


def _referrer(rng: random.Random, resident: Resident, wijk: str | None) -> None:
    source = resident.referral_source
    if source in ("self",):
        return
    if source == "family":
        relative = rng.choice(["dochter", "zoon", "nicht", "buurvrouw"])
        first, last = _name(rng, BACKGROUNDS["dutch"], rng.choice("fm"), 1980)
        resident.referrer_name = f"{first} {resident.last_name} ({relative})"
        resident.referrer_phone = _mobile(rng)
        return
    if source == "neighbourhood_team":
        organisation = f"Buurtteam {wijk or 'Utrecht'}"
    else:
        organisation = rng.choice(REFERRERS[source])
    first, last = _name(rng, BACKGROUNDS[rng.choice(["dutch", "dutch", "moroccan", "turkish"])],
                        rng.choice("fm"), 1985)
    resident.referrer_name = f"{first} {last}, {rng.choice(REFERRER_ROLES)}"
    resident.referrer_organisation = organisation
    slug = _ascii(organisation.split()[-1])
    resident.referrer_email = f"{_ascii(first)}@{slug}.example.org"
    resident.referrer_phone = f"030{rng.randrange(10**7):07d}"
    resident.contact_via_referrer = source in ("gp", "neighbourhood_team") and rng.random() < 0.3


def _consents(
    rng: random.Random, now: datetime, volunteers: list[Volunteer], residents: list[Resident]
) -> list[Consent]:
    consents = [Consent(id=new_id(), subject_kind="volunteer", subject_id=v.id, purpose="profile",
                        text_version=CONSENT_TEXT_VERSION, given_at=v.registered_at,
                        recorded_by="demo") for v in volunteers]
    for resident in residents:
        consents.append(Consent(
            id=new_id(), subject_kind="resident", subject_id=resident.id, purpose="referral",
            text_version=CONSENT_TEXT_VERSION, given_at=resident.created_at, recorded_by="demo",
        ))
        if resident.health_note:
            given = min(resident.created_at + timedelta(days=rng.randint(0, 14)), now)
            consents.append(Consent(
                id=new_id(), subject_kind="resident", subject_id=resident.id,
                purpose="health_note", text_version=CONSENT_TEXT_VERSION, given_at=given,
                recorded_by="demo",
            ))
    return consents


# History --------------------------------------------------------------------------------------

def _runs(seed: int, now: datetime) -> list[MatchRun]:
    """A solver run every other Monday morning over the last 18 months."""
    start = (now - timedelta(days=HISTORY_DAYS)).date()
    day = start + timedelta(days=-start.weekday() % 7)
    runs = []
    while (at := datetime.combine(day, time(7, 0), UTC)) < now:
        digest = hashlib.sha256(f"demo:{seed}:{day.isoformat()}".encode()).hexdigest()
        runs.append(MatchRun(
            id=new_id(), started_at=at, finished_at=at + timedelta(seconds=42),
            scope={"residents": "waiting"}, settings={"max_distance_km": 10.0},
            input_hash=digest, status="done", progress=100,
        ))
        day += timedelta(days=14)
    return runs


def _finish_runs(world: _World) -> None:
    proposals = Counter(match.run_id for match in world.matches)
    for run in world.runs:
        run.stats = {"proposals": proposals[run.id]}


def _run_after(world: _World, moment: datetime, latest: datetime) -> MatchRun | None:
    for run in world.runs:
        if moment <= run.started_at <= latest:
            return run
    return None


def _story(world: _World, resident: Resident) -> None:
    """Give one resident a referral date, earlier attempts and a current state."""
    rng, today = world.rng, world.today
    goal = rng.choices(["referred", "waiting", "on_hold", "proposed", "matched", "closed"],
                       [7, 22, 5, 8, 40, 18])[0]
    back = {"referred": (1, 21), "waiting": (10, 420), "on_hold": (30, 300), "proposed": (30, 300),
            "matched": (60, 540), "closed": (120, 540)}[goal]
    referred = today - timedelta(days=rng.randint(*back))
    resident.created_at = resident.updated_at = _moment(referred, rng)
    resident.waiting_since = referred
    resident.status = "referred" if goal == "referred" else "waiting"
    resident.last_active_at = resident.created_at
    first = len(world.matches)
    if goal == "referred":
        return
    cursor = resident.created_at + timedelta(days=rng.randint(7, 21))  # intake done
    if goal in ("waiting", "on_hold", "proposed", "matched") and rng.random() < 0.3:
        cursor = _failed_proposal(world, resident, cursor) or cursor
    if goal in ("waiting", "proposed", "matched") and rng.random() < 0.15:
        ended = _ended_match(world, resident, cursor, closing=False)
        if ended:
            cursor = ended + timedelta(days=1)
            resident.waiting_since = cursor.date()
    if goal == "matched":
        _active_match(world, resident, cursor)
    elif goal == "proposed":
        _open_proposal(world, resident, cursor)
    elif goal == "on_hold":
        resident.status = "on_hold"
        resident.notes = rng.choice(ON_HOLD_NOTES)
    elif goal == "closed":
        ended = _ended_match(world, resident, cursor, closing=True) if rng.random() < 0.6 else None
        if ended:
            closed = ended + timedelta(days=rng.randint(1, 10))
        else:
            closed = cursor + timedelta(days=rng.randint(20, 150))
            resident.closed_reason = rng.choice(CLOSED_REASONS)
        resident.status = "closed"
        resident.closed_at = min(closed, world.now - timedelta(hours=1))
    if resident.status == "closed" and not resident.closed_reason:
        resident.closed_reason = rng.choice(CLOSED_REASONS)
    resident.last_active_at = max(
        [resident.created_at, *(m.updated_at for m in world.matches[first:])]
    )


def _candidate(
    world: _World, resident: Resident, at: datetime, *, open_: bool
) -> Volunteer | None:
    """A plausible volunteer for this resident at this moment: near, shared language, free."""
    rng = world.rng
    best: tuple[float, Volunteer] | None = None
    for volunteer in rng.sample(world.volunteers, 60):
        if (volunteer.id, resident.id) in world.pairs or volunteer.status == "new":
            continue
        if volunteer.registered_at > at - timedelta(days=14):
            continue
        if volunteer.is_returning and volunteer.returned_at and volunteer.returned_at > at:
            continue
        if open_ and (volunteer.status != "available" or volunteer.vog_status != "valid"
                      or world.open_count[volunteer.id] >= volunteer.capacity):
            continue
        if volunteer.status == "stopped" and (
            volunteer.stopped_at is None or volunteer.stopped_at < at + timedelta(days=60)
        ):
            continue
        distance = _km(resident.lat or 0, resident.lon or 0, volunteer.lat or 0, volunteer.lon or 0)
        cost = distance + (0 if set(resident.languages) & set(volunteer.languages) else 20)
        cost += 3 * max(0.0, distance - volunteer.max_travel_km)
        if resident.prefers_gender and resident.prefers_gender != volunteer.gender:
            cost += 10
        cost -= 0.4 * len(set(resident.interests) & set(volunteer.interests))
        cost += rng.random()
        if best is None or cost < best[0]:
            best = (cost, volunteer)
    return best[1] if best else None


def _propose(world: _World, resident: Resident, volunteer: Volunteer, run: MatchRun) -> Match:
    distance = _km(resident.lat or 0, resident.lon or 0, volunteer.lat or 0, volunteer.lon or 0)
    shared_interests = sorted(set(resident.interests) & set(volunteer.interests))
    shared_languages = sorted(set(resident.languages) & set(volunteer.languages))
    shared_slots = sorted(set(resident.availability) & set(volunteer.availability))
    score = max(0.05, min(0.98, 0.9 - 0.05 * distance + 0.04 * len(shared_interests)
                          + 0.02 * len(shared_slots) - (0 if shared_languages else 0.4)))
    proposed = run.finished_at or run.started_at
    match = Match(
        id=new_id(), run_id=run.id, volunteer_id=volunteer.id, resident_id=resident.id,
        status="proposed", score=round(score, 3), cost=round(1 - score, 3),
        distance_km=round(distance, 2), proposed_at=proposed, updated_at=proposed,
        explanation={"distance_km": round(distance, 2), "shared_languages": shared_languages,
                     "shared_interests": shared_interests, "shared_slots": shared_slots},
    )
    world.matches.append(match)
    world.pairs.add((volunteer.id, resident.id))
    return match


def _offer(world: _World, match: Match, latest: datetime) -> datetime:
    offered = match.proposed_at + timedelta(hours=world.rng.randint(20, 72))
    match.offered_at = max(match.proposed_at + timedelta(minutes=30), min(offered, latest))
    match.status, match.updated_at = "offered", match.offered_at
    return match.offered_at


def _exclude(world: _World, match: Match, reason: str, at: datetime) -> None:
    world.exclusions.append(Exclusion(
        id=new_id(), volunteer_id=match.volunteer_id, resident_id=match.resident_id,
        reason=reason, created_at=at,
    ))


def _failed_proposal(world: _World, resident: Resident, cursor: datetime) -> datetime | None:
    """A declined, expired or withdrawn proposal; returns when it was over."""
    rng = world.rng
    run = _run_after(world, cursor, world.now - timedelta(days=21))
    volunteer = _candidate(world, resident, run.started_at, open_=False) if run else None
    if run is None or volunteer is None:
        return None
    match = _propose(world, resident, volunteer, run)
    outcome = rng.choices(["declined", "expired", "withdrawn"], [60, 25, 15])[0]
    if outcome == "withdrawn":
        match.status = "withdrawn"
        match.updated_at = match.proposed_at + timedelta(hours=rng.randint(4, 96))
        return match.updated_at
    offered = _offer(world, match, world.now)
    if outcome == "declined":
        match.status = "declined"
        match.decided_at = offered + timedelta(hours=rng.randint(6, 160))
        match.decline_reason = rng.choice(DECLINE_REASONS)
        match.updated_at = match.decided_at
        _exclude(world, match, "declined", match.decided_at)
    else:
        match.status = "expired"
        match.reminded_at = offered + timedelta(days=7)
        match.updated_at = offered + timedelta(days=14)
    return match.updated_at


def _start(world: _World, match: Match, latest: datetime) -> None:
    """Offer, accept, meet and activate a proposal, all before `latest`."""
    rng = world.rng
    offered = _offer(world, match, latest)
    match.decided_at = offered + timedelta(hours=rng.randint(6, 120))
    match.intro_date = (match.decided_at + timedelta(days=rng.randint(4, 14))).date()
    match.intro_volunteer_go = match.intro_resident_go = True
    match.activated_at = datetime.combine(
        match.intro_date + timedelta(days=rng.randint(0, 2)), time(15, rng.randrange(60)), UTC
    )
    match.status = "active"
    match.updated_at = match.activated_at


def _ended_match(
    world: _World, resident: Resident, cursor: datetime, *, closing: bool
) -> datetime | None:
    """A match that ran for a while and ended; returns when it ended."""
    rng = world.rng
    run = _run_after(world, cursor, world.now - timedelta(days=100))
    volunteer = _candidate(world, resident, run.started_at, open_=False) if run else None
    if run is None or volunteer is None:
        return None
    match = _propose(world, resident, volunteer, run)
    _start(world, match, world.now)
    assert match.activated_at is not None
    if closing:
        reason = rng.choices(["moved", "health", "resident_died", "goal_reached", "other"],
                             [25, 20, 20, 25, 10])[0]
    else:
        reason = rng.choices(["no_click", "volunteer_stopped", "other", "health"],
                             [40, 30, 15, 15])[0]
    ended = match.activated_at + timedelta(days=rng.randint(30, 320))
    if volunteer.status == "stopped" and volunteer.stopped_at and volunteer.stopped_at < ended:
        ended, reason = volunteer.stopped_at, "volunteer_stopped"
    ended = min(ended, world.now - timedelta(days=2))
    assert reason in END_REASONS
    match.status, match.end_reason, match.end_note = "ended", reason, END_NOTES[reason]
    match.ended_at = match.updated_at = max(ended, match.activated_at + timedelta(days=7))
    _check_ins(world, match, match.ended_at)
    _exclude(world, match, f"ended: {reason}", match.ended_at)
    if reason in ("moved", "health", "resident_died", "goal_reached"):
        resident.closed_reason = match.end_note
    return match.ended_at


def _active_match(world: _World, resident: Resident, cursor: datetime) -> None:
    run = _run_after(world, cursor, world.now - timedelta(days=30))
    volunteer = _candidate(world, resident, run.started_at, open_=True) if run else None
    if run is None or volunteer is None:
        return
    match = _propose(world, resident, volunteer, run)
    _start(world, match, world.now - timedelta(days=14))
    world.open_count[volunteer.id] += 1
    resident.status = "matched"
    _check_ins(world, match, world.now)
    volunteer.last_active_at = max(volunteer.last_active_at or match.updated_at, match.updated_at)


def _open_proposal(world: _World, resident: Resident, cursor: datetime) -> None:
    """A current proposal: waiting for the coordinator, offered to both, or accepted."""
    rng = world.rng
    stage = rng.choices(["proposed", "offered", "accepted"], [35, 45, 20])[0]
    run = world.runs[-1] if stage != "accepted" else world.runs[-rng.randint(2, 3)]
    if run.started_at < cursor:
        return
    volunteer = _candidate(world, resident, run.started_at, open_=True)
    if volunteer is None:
        return
    match = _propose(world, resident, volunteer, run)
    world.open_count[volunteer.id] += 1
    resident.status = "proposed"
    if stage == "proposed":
        return
    offered = _offer(world, match, world.now - timedelta(hours=1))
    if stage == "accepted":
        match.status = "accepted"
        match.decided_at = min(offered + timedelta(hours=rng.randint(6, 96)), world.now)
        match.intro_date = world.today + timedelta(days=rng.randint(1, 10))
        match.updated_at = match.decided_at


def _check_ins(world: _World, match: Match, until: datetime) -> None:
    """One weekly check-in per ISO week from the week after activation until `until`."""
    rng = world.rng
    assert match.activated_at is not None
    start = match.activated_at.date()
    monday = start + timedelta(days=7 - start.weekday())
    weeks: list[CheckIn] = []
    while (sent := datetime.combine(monday, time(8, 0), UTC)) <= min(until, world.now):
        year, week, _day = monday.isocalendar()
        check_in = CheckIn(id=new_id(), match_id=match.id, week=f"{year}-W{week:02d}", sent_at=sent)
        answered = sent + timedelta(minutes=rng.randint(30, 3 * 24 * 60))
        recent = world.now - sent < timedelta(days=7)
        if answered <= world.now and rng.random() > (0.4 if recent else 0.08):
            check_in.answered_at = answered
            met = rng.choices(["yes", "no", "not_planned"],
                              [45, 30, 25] if match.end_reason == "no_click" else [72, 12, 16])[0]
            check_in.met = met
            if met == "yes":
                check_in.rating = rng.choices([1, 2, 3, 4, 5], [1, 3, 12, 40, 44])[0]
            low = check_in.rating is not None and check_in.rating <= 2
            check_in.call_requested = rng.random() < (0.4 if low else 0.03)
            if rng.random() < 0.12:
                check_in.comment = rng.choice(CHECK_IN_COMMENTS)
        weeks.append(check_in)
        monday += timedelta(days=7)
    world.check_ins.extend(weeks)

