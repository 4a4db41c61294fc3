"""Invented volunteers and residents of Utrecht, placed in its postcode areas or wijken."""
from __future__ import annotations

import math
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from matching import geo
from matching.errors import ValidationFailed
from matching.store import Consent, Resident, Volunteer
from matching.store.base import new_id

from .catalogue import (
    BACKGROUNDS,
    HEALTH_NOTES,
    MIGRANT_WIJKEN,
    REFERRER_ROLES,
    REFERRERS,
    RESIDENT_BACKGROUNDS,
    RESIDENT_NOTES,
    STOP_REASONS,
    THIN_POSTCODES,
    UTRECHT_BOUNDS,
    VOLUNTEER_BACKGROUNDS,
    WIJK_BY_POSTCODE,
    WIJK_CENTRES,
    WIJK_POSTCODES,
    Background,
    is_utrecht_postcode,
)

HISTORY_DAYS = 548  # 18 months
CONSENT_TEXT_VERSION = "2026-01"
JITTER_METRES = 300.0
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
class Terms:
    """The taxonomy codes that interests and activities are drawn from."""

    interests: list[str]
    activities: list[str]


def read_utrecht_areas(path: str) -> list[Area]:
    """The Utrecht rows of a GeoNames postal-code file (tab-separated, one area per row)."""
    areas = []
    try:
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
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationFailed({"postcode_file": "unreadable"}) from error
    if not areas:
        raise ValidationFailed({"postcode_file": "no_utrecht_areas"})
    return areas


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
        wijk = min(WIJK_CENTRES, key=lambda w: km(lat, lon, *WIJK_CENTRES[w]))
        pc4, source = rng.choice(WIJK_POSTCODES[wijk]), "manual"
    return _Place(f"{pc4} {_postcode_letters(rng)}", wijk, round(lat, 6), round(lon, 6), source)


def _postcode_letters(rng: random.Random) -> str:
    while True:
        letters = rng.choice(POSTCODE_LETTERS) + rng.choice(POSTCODE_LETTERS)
        if letters not in UNUSED_LETTER_PAIRS:
            return letters


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance between two points, by the engine's own formula (matching/geo.py)."""
    return float(geo.pair_distance_km(np.array([lat1]), np.array([lon1]), np.array([lat2]),
                                      np.array([lon2]))[0])


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


def _interests(rng: random.Random, terms: Terms, age: int) -> list[str]:
    liked = OLDER_INTERESTS if age >= 60 else YOUNGER_INTERESTS
    weights = {code: 2.5 if code in liked else 1.0 for code in terms.interests}
    return _pick(rng, weights, rng.randint(2, 5))


def _activities(rng: random.Random, terms: Terms, languages: list[str]) -> list[str]:
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
    # 06 numbers start 061-065 (the ranges the validation accepts); one draw keeps the seed's
    # population otherwise unchanged.
    n = rng.randrange(10**8)
    return f"06{'12345'[n // 10**7 % 5]}{n % 10**7:07d}"


def _house_number(rng: random.Random) -> str:
    number = str(rng.choices([rng.randint(1, 40), rng.randint(41, 250)], [3, 1])[0])
    return number + rng.choices(["", "A", "bis", "-2"], [20, 2, 1, 2])[0]


def moment(day: date, rng: random.Random, start: int = 9, end: int = 17) -> datetime:
    return datetime.combine(day, time(rng.randint(start, end - 1), rng.randrange(60)), UTC)


def invent_volunteer(
    rng: random.Random, today: date, areas: list[Area] | None, terms: Terms
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
        volunteer.stopped_at = moment(stopped, rng)
        volunteer.stop_reason = rng.choice(STOP_REASONS)
    elif status == "available" and age >= 60 and rng.random() < 0.3:
        # Older volunteers who stopped when corona started and came back since.
        registered = date(rng.randint(2011, 2019), rng.randint(1, 12), rng.randint(1, 28))
        volunteer.stopped_at = moment(date(2020, 3, 16) + timedelta(days=rng.randint(0, 120)), rng)
        volunteer.stop_reason = "Gestopt tijdens corona (risicogroep)"
        back = today - timedelta(days=rng.randint(30, HISTORY_DAYS - 30))
        volunteer.returned_at = max(moment(back, rng), volunteer.stopped_at + timedelta(days=60))
        volunteer.is_returning = True
    volunteer.registered_at = volunteer.created_at = volunteer.updated_at = moment(registered, rng)
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


def invent_resident(
    rng: random.Random, today: date, areas: list[Area] | None, terms: Terms
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


def consent_rows(
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


