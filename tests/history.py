"""The synthetic VCU's history (demo/synthetic.py) stored as profiles and matches, for the services
and pages that learn from the database."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from demo import synthetic
from matching.store import Match, Resident, Volunteer


def _profile(record: dict) -> dict:
    commitment = record["commitment_months"]
    return {
        "first_name": record["id"], "lat": record["lat"], "lon": record["lon"],
        "languages": record["languages"], "interests": record["interests"],
        "activities": record["activities"], "availability": record["availability"],
        "gender": record["gender"], "birth_year": record["birth_year"],
        "commitment_months": None if commitment is None else str(commitment),
    }


def _moment(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(12), UTC)


def load(session: Session, seed: int, matches: int, today: str = "2026-11-30") -> dict:
    """Store synthetic.history(seed, matches) and return it; profile ids are the record ids with
    the seed before them, so several histories fit in one database."""
    history = synthetic.history(seed, matches, today=today)
    for side in ("volunteers", "residents"):
        for record in history[side]:
            record["id"] = f"s{seed}{record['id']}"
    for m in history["matches"]:
        m["volunteer"], m["resident"] = f"s{seed}{m['volunteer']}", f"s{seed}{m['resident']}"
    for record in history["volunteers"]:
        session.add(Volunteer(id=record["id"], **_profile(record), max_travel_km=record["max_travel_km"],
                              status="available", vog_status="valid", capacity=3))
    session.flush()
    ended = {m["resident"] for m in history["matches"] if m["ended"]}
    for record in history["residents"]:
        session.add(Resident(id=record["id"], **_profile(record), target_group="older_person",
                             status="closed" if record["id"] in ended else "matched"))
    session.flush()
    for m in history["matches"]:
        session.add(Match(
            volunteer_id=m["volunteer"], resident_id=m["resident"],
            status="ended" if m["ended"] else "active", proposed_at=_moment(m["started"]),
            activated_at=_moment(m["started"]), ended_at=_moment(m["ended"]) if m["ended"] else None,
            end_reason="no_click" if m["ended"] else None,
        ))
    session.flush()
    return history
