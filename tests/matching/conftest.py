"""Factories for engine input records and the path to the shared reference data."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
TODAY = "2026-11-29"


def volunteer(id: str = "v1", **fields) -> dict:
    """A volunteer record in Utrecht centre that matches the default resident."""
    return {
        "id": id, "lat": 52.0907, "lon": 5.1214, "languages": ["nl"], "interests": ["koken"],
        "activities": ["wandelen"], "availability": [0, 1], "capacity": 1, "max_travel_km": 5.0,
        "gender": "f", "birth_year": 1970, "prefers": {"gender": None, "min_age": None, "max_age": None},
        **fields,
    }


def resident(id: str = "r1", **fields) -> dict:
    """A resident record 1 km from the default volunteer."""
    return {
        "id": id, "lat": 52.0997, "lon": 5.1214, "languages": ["nl"], "interests": ["koken"],
        "activities": ["wandelen"], "availability": [0, 5], "waiting_since": "2026-05-01",
        "gender": "m", "birth_year": 1940, "max_travel_km": None,
        "prefers": {"gender": None, "min_age": None, "max_age": None}, **fields,
    }


def problem(volunteers: list[dict], residents: list[dict], **fields) -> dict:
    """A full problem dict around the given records."""
    return {"today": TODAY, "settings": {"weights": {}, "min_score": 0}, "volunteers": volunteers,
            "residents": residents, "locked": [], "excluded": [], **fields}


@pytest.fixture
def make_volunteer():
    return volunteer


@pytest.fixture
def make_resident():
    return resident


@pytest.fixture
def make_problem():
    return problem
