"""Synthetic volunteer / resident pools as the engine's input records (seeded, reproducible)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
NL_TXT = SHARED / "geo" / "NL.txt"
UTRECHT_BOX = (52.03, 52.14, 4.97, 5.20)
INTERESTS = [
    "wandelen", "koken", "lezen", "tuinieren", "muziek", "schilderen", "fietsen", "schaken", "puzzelen",
    "voetbal", "geschiedenis", "natuur", "film", "theater", "handwerken", "fotografie", "dieren", "reizen",
    "bakken", "dansen", "zingen", "kaarten", "computers", "techniek", "religie", "politiek", "mode",
    "kunst", "sport kijken", "vissen",
]
ACTIVITIES = ["koffie drinken", "wandelen", "boodschappen", "spelletjes", "uitstapje", "praten", "museum", "markt"]
LANGUAGES = ["nl", "en", "tr", "ar", "pl", "de", "ber", "pap"]
LANGUAGE_P = [0.80, 0.07, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01]


def postcode_points(utrecht_only: bool) -> np.ndarray | None:
    """(lat, lon) rows of the postcode areas in ../shared/geo/NL.txt, or None when it is absent."""
    if not NL_TXT.exists():
        return None
    points = []
    for line in NL_TXT.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        code = int(cols[1][:4])
        if utrecht_only and not (3511 <= code <= 3585 or 3451 <= code <= 3455):
            continue
        points.append((float(cols[9]), float(cols[10])))
    return np.array(points)


def homes(rng: np.random.Generator, n: int, points: np.ndarray | None, jitter_km: float) -> np.ndarray:
    """n homes around random postcode areas (or uniform in Utrecht's box without the gazetteer)."""
    if points is None:
        lat0, lat1, lon0, lon1 = UTRECHT_BOX
        return np.column_stack([rng.uniform(lat0, lat1, n), rng.uniform(lon0, lon1, n)])
    base = points[rng.integers(0, len(points), n)]
    offset = rng.normal(0.0, jitter_km, (n, 2))
    return base + offset / np.array([111.2, 111.2 * np.cos(np.radians(52.1))])


def _tags(rng: np.random.Generator, vocab: list[str], low: int, high: int) -> list[str]:
    k = int(rng.integers(low, high + 1))
    return sorted(rng.choice(vocab, size=k, replace=False).tolist())


def _slots(rng: np.random.Generator) -> list[int]:
    # Weekdays daytime are more common than evenings and weekends.
    weight = np.array([3.0 if (s // 3 < 5 and s % 3 < 2) else 1.0 for s in range(21)])
    k = int(rng.integers(2, 8))
    return sorted(rng.choice(21, size=k, replace=False, p=weight / weight.sum()).tolist())


def _languages(rng: np.random.Generator) -> list[str]:
    first = str(rng.choice(LANGUAGES, p=LANGUAGE_P))
    langs = {first}
    if first != "nl" and rng.random() < 0.6:
        langs.add("nl")
    if rng.random() < 0.3:
        langs.add("en")
    return sorted(langs)


def _prefers(rng: np.random.Generator) -> dict:
    prefers = {"gender": None, "min_age": None, "max_age": None}
    if rng.random() < 0.1:
        prefers["gender"] = str(rng.choice(["f", "m"]))
    if rng.random() < 0.05:
        prefers["max_age"] = 85
    return prefers


def make_problem(n_volunteers: int, n_residents: int, region: str = "utrecht", seed: int = 0) -> dict:
    """A problem dict for the engine: homes in Utrecht's or all Dutch postcode areas."""
    rng = np.random.default_rng(seed)
    points = postcode_points(utrecht_only=region == "utrecht")
    jitter = 0.4 if region == "utrecht" else 0.8
    today = dt.date(2026, 11, 29)
    vhomes = homes(rng, n_volunteers, points, jitter)
    rhomes = homes(rng, n_residents, points, jitter)
    genders = ["f", "m", "x"]
    volunteers = [
        {
            "id": f"v{i}",
            "lat": round(float(vhomes[i, 0]), 6),
            "lon": round(float(vhomes[i, 1]), 6),
            "languages": _languages(rng),
            "interests": _tags(rng, INTERESTS, 2, 6),
            "activities": _tags(rng, ACTIVITIES, 1, 3),
            "availability": _slots(rng),
            "capacity": int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1])),
            "max_travel_km": float(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
            "gender": str(rng.choice(genders, p=[0.6, 0.38, 0.02])),
            "birth_year": int(rng.integers(1950, 2006)),
            "prefers": _prefers(rng),
        }
        for i in range(n_volunteers)
    ]
    residents = [
        {
            "id": f"r{i}",
            "lat": round(float(rhomes[i, 0]), 6),
            "lon": round(float(rhomes[i, 1]), 6),
            "languages": _languages(rng),
            "interests": _tags(rng, INTERESTS, 1, 5),
            "activities": _tags(rng, ACTIVITIES, 0, 3),
            "availability": _slots(rng),
            "waiting_since": (today - dt.timedelta(days=int(rng.integers(0, 720)))).isoformat(),
            "gender": str(rng.choice(genders, p=[0.6, 0.38, 0.02])),
            "birth_year": int(rng.integers(1930, 1970)),
            "max_travel_km": None if rng.random() < 0.9 else float(rng.choice([2, 5])),
            "prefers": _prefers(rng),
        }
        for i in range(n_residents)
    ]
    return {"today": today.isoformat(), "settings": {"weights": {}, "min_score": 0},
            "volunteers": volunteers, "residents": residents, "locked": [], "excluded": []}
