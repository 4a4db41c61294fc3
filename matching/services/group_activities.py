"""The network's group activities: kept by staff and partners, ranked for every waiting resident
with the engine's distance and overlap (matching/activity_fit.py), suggested by e-mail or letter,
and followed up ("went", "not for me")."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching import activity_fit, explain
from matching.errors import Conflict, NotFound, ValidationFailed
from matching.scoring import pack_tags
from matching.store import (
    SUGGESTION_STATUSES,
    TARGET_GROUPS,
    ActivitySuggestion,
    GroupActivity,
    Resident,
)

from . import mail, profiles, validation
from .audit import record
from .geocoding import Geocoder, locate
from .reports import suppress
from .scope import HOST, Scope
from .validation import Taxonomy

_GROUP_BIT = {group: 1 << n for n, group in enumerate(TARGET_GROUPS)}
LETTER_KINDS = ("email", "letter")


def clean(data: Mapping[str, Any], taxonomy: Taxonomy) -> dict[str, Any]:
    """Validated activity fields; ValidationFailed names every bad field."""
    rules = {
        "name": lambda v: validation.text_field(v, 120),
        "organiser": lambda v: validation.text_field(v, 120),
        "address": lambda v: validation.text_field(v, 200, required=False),
        "postcode": validation.postcode,
        "neighbourhood": lambda v: validation.text_field(v, 80, required=False),
        "availability": validation.slots,
        "interests": lambda v: validation.codes(v, taxonomy.interests),
        "target_groups": lambda v: sorted(set(validation.codes(v, frozenset(TARGET_GROUPS)))),
        "cost": lambda v: validation.text_field(v, 60, required=False),
        "contact": lambda v: validation.text_field(v, 200, required=False),
        "wheelchair": validation.boolean,
        "description": lambda v: validation.note_field(v, 2000),
    }
    out, errors = {}, {}
    for name, rule in rules.items():
        if name not in data:
            continue
        try:
            out[name] = validation.single(rule, name, data[name])
        except ValidationFailed as failure:
            errors.update(failure.errors)
    for name in ("name", "organiser"):
        if name not in data:
            errors.setdefault(name, "required")
    if not out.get("availability") and "availability" not in errors:
        errors["availability"] = "required"
    if errors:
        raise ValidationFailed(errors)
    return out


def save(session: Session, data: Mapping[str, Any], *, activity_id: str | None = None,
         organisation: str | None = None, scope: Scope = HOST, actor: str | None, now: datetime,
         geocoder: Geocoder | None = None) -> GroupActivity:
    """Create (activity_id None) or update an activity; a partner changes only its own."""
    cleaned = clean(data, profiles.taxonomy(session))
    if activity_id is None:
        activity = GroupActivity(organisation=organisation, created_at=now)
        session.add(activity)
    else:
        activity = get(session, activity_id, scope)
    for name, value in cleaned.items():
        setattr(activity, name, value)
    activity.updated_at = now
    if activity.postcode:
        location = locate(session, activity.postcode, None, geocoder=geocoder, manual=None, now=now)
        activity.lat, activity.lon = location.lat, location.lon
    session.flush()
    record(session, actor=actor, action="activity.saved", subject=("activity", activity.id),
           fields=sorted(cleaned), now=now)
    return activity


def get(session: Session, activity_id: str, scope: Scope = HOST) -> GroupActivity:
    activity = session.get(GroupActivity, activity_id)
    if activity is None or not (scope.is_host or activity.organisation == scope.organisation):
        raise NotFound("activity")
    return activity


def listing(session: Session, *, only_active: bool = True) -> list[GroupActivity]:
    query = select(GroupActivity).order_by(GroupActivity.name, GroupActivity.id)
    if only_active:
        query = query.where(GroupActivity.active.is_(True))
    return list(session.scalars(query))


def set_active(session: Session, activity_id: str, active: bool, *, scope: Scope = HOST,
               actor: str | None, now: datetime) -> GroupActivity:
    activity = get(session, activity_id, scope)
    activity.active, activity.updated_at = active, now
    session.flush()
    record(session, actor=actor, action="activity.activated" if active else "activity.deactivated",
           subject=("activity", activity.id), now=now)
    return activity


@dataclass(frozen=True)
class Fit:
    activity: GroupActivity
    score: float
    km: float
    shared_interests: list[str]
    shared_slots: list[int]


def rank(session: Session, residents: list[Resident], top: int = activity_fit.TOP) -> dict[str, list[Fit]]:
    """Per resident (with a place), the best-fitting active activities: all in one pass."""
    placed = [r for r in residents if r.lat is not None and r.lon is not None]
    activities = [a for a in listing(session) if a.lat is not None and a.lon is not None]
    if not placed or not activities:
        return {r.id: [] for r in residents}
    vocabulary = sorted({t for a in activities for t in a.interests} | {t for r in placed for t in r.interests})
    index = {t: i for i, t in enumerate(vocabulary)}
    resident_side = activity_fit.Group(
        lat=np.array([r.lat for r in placed]), lon=np.array([r.lon for r in placed]),
        interests=pack_tags([r.interests for r in placed], index),
        slots=np.array([sum(1 << s for s in set(r.availability)) for r in placed], dtype=np.int64),
        groups=np.array([_GROUP_BIT.get(r.target_group, 0) for r in placed], dtype=np.int64),
        reach=np.array([r.max_travel_km if r.can_travel and r.max_travel_km else np.nan for r in placed]),
    )
    activity_side = activity_fit.Group(
        lat=np.array([a.lat for a in activities]), lon=np.array([a.lon for a in activities]),
        interests=pack_tags([a.interests for a in activities], index),
        slots=np.array([sum(1 << s for s in set(a.availability)) for a in activities], dtype=np.int64),
        groups=np.array([sum(_GROUP_BIT[g] for g in a.target_groups) for a in activities], dtype=np.int64),
        wheelchair=np.array([a.wheelchair for a in activities], dtype=bool),
    )
    found = activity_fit.rank(resident_side, activity_side, top)
    out: dict[str, list[Fit]] = {r.id: [] for r in residents}
    for row, resident in enumerate(placed):
        for k, a in enumerate(found.activity[row].tolist()):
            if a < 0:
                break
            out[resident.id].append(Fit(
                activities[a], round(float(found.score[row, k]), 1), round(float(found.km[row, k]), 2),
                [vocabulary[b] for b in explain.bits(found.shared_interests[row, k].tolist())],
                explain.bits([int(found.shared_slots[row, k])]),
            ))
    return out


def waiting_residents(session: Session, scope: Scope = HOST) -> list[Resident]:
    return list(session.scalars(select(Resident).where(
        Resident.status == "waiting", Resident.anonymised_at.is_(None), scope.residents())
        .order_by(Resident.id)))


def suggest(session: Session, resident_id: str, activity_id: str, *, channel: str, actor: str | None,
            now: datetime) -> ActivitySuggestion:
    """Record the suggestion (once per resident and activity); by e-mail, write the letter to the outbox."""
    if channel not in LETTER_KINDS:
        raise ValidationFailed({"channel": "invalid_choice"})
    resident = session.get(Resident, resident_id)
    activity = session.get(GroupActivity, activity_id)
    if resident is None or activity is None or not activity.active:
        raise NotFound("activity")
    if channel == "email" and not resident.email:
        raise Conflict("no_email")
    suggestion = session.scalar(select(ActivitySuggestion).where(
        ActivitySuggestion.resident_id == resident_id, ActivitySuggestion.activity_id == activity_id))
    if suggestion is None:
        suggestion = ActivitySuggestion(resident_id=resident_id, activity_id=activity_id, status="suggested",
                                        created_at=now, updated_at=now, by=actor)
        session.add(suggestion)
        session.flush()
        record(session, actor=actor, action="activity.suggested", subject=("resident", resident_id), now=now)
    if channel == "email":
        mail.enqueue(session, dedupe_key=f"activity:{suggestion.id}", to=(resident.full_name, resident.email or ""),
                     template="activity_suggestion", locale="nl", subject_kind="resident", subject_id=resident.id,
                     context=letter(resident, activity), now=now)
    return suggestion


def letter(resident: Resident, activity: GroupActivity) -> dict[str, Any]:
    """What the suggestion letter (e-mail or PDF) says."""
    return {"name": resident.first_name, "activity": activity.name, "organiser": activity.organiser,
            "address": " ".join(x for x in (activity.address, activity.postcode) if x),
            "times": activity.availability, "cost": activity.cost or "", "contact": activity.contact or "",
            "wheelchair": activity.wheelchair, "description": activity.description or ""}


def set_outcome(session: Session, suggestion_id: str, status: str, *, actor: str | None,
                now: datetime) -> ActivitySuggestion:
    if status not in SUGGESTION_STATUSES:
        raise ValidationFailed({"status": "invalid_choice"})
    suggestion = session.get(ActivitySuggestion, suggestion_id)
    if suggestion is None:
        raise NotFound("suggestion")
    suggestion.status, suggestion.updated_at = status, now
    session.flush()
    record(session, actor=actor, action=f"activity.{status}", subject=("resident", suggestion.resident_id), now=now)
    return suggestion


def names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(GroupActivity.id, GroupActivity.name)).all())


def suggestions_of(session: Session, resident_id: str) -> list[ActivitySuggestion]:
    return list(session.scalars(select(ActivitySuggestion).where(ActivitySuggestion.resident_id == resident_id)
                                .order_by(ActivitySuggestion.created_at)))


@dataclass(frozen=True)
class WijkCount:
    wijk: str
    waiting: int | None
    suggested: int | None
    went: int | None


def counts_per_wijk(session: Session) -> list[WijkCount]:
    """Among the residents waiting now, per wijk: how many got a suggestion and how many went (<5 hidden)."""
    rows = session.execute(
        select(Resident.id, Resident.neighbourhood).where(Resident.status == "waiting", Resident.anonymised_at.is_(None))
    ).all()
    wijk = {r.id: r.neighbourhood or "onbekend" for r in rows}
    suggested: dict[str, set[str]] = {}
    went: dict[str, set[str]] = {}
    for resident_id, status in session.execute(select(ActivitySuggestion.resident_id, ActivitySuggestion.status)
                                               .where(ActivitySuggestion.resident_id.in_(list(wijk)))):
        suggested.setdefault(wijk[resident_id], set()).add(resident_id)
        if status == "went":
            went.setdefault(wijk[resident_id], set()).add(resident_id)
    waiting = Counter(wijk.values())
    return [WijkCount(name, suppress(n), suppress(len(suggested.get(name, ()))), suppress(len(went.get(name, ()))))
            for name, n in sorted(waiting.items())]
