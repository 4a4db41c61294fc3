"""Finding profiles: the one query behind the staff lists, their exports and the partner API.

Erased profiles are left out: to a reader they no longer exist. Every profile returned is
recorded in the audit trail as viewed by the actor. A caller sees only the people of its scope
(scope.py): anyone else's answer NotFound, so their existence is not revealed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import Session

from matching.errors import NotFound
from matching.store import Resident, Volunteer

from . import profiles
from .audit import record_view
from .profiles import Kind, Profile
from .scope import Scope

MAX_PAGE_SIZE = 100
SORTS = {
    "volunteer": ("created", "name", "registered", "postcode"),
    "resident": ("created", "name", "waiting", "postcode"),
}
_CODE = re.compile(r"[a-z0-9_\-]{1,40}")


@dataclass(frozen=True)
class Filters:
    """Optional conditions. Codes are taxonomy codes; postcode is a prefix ("3511", "35",
    "3511 AB"); text searches names and e-mail, and phone numbers and postcodes when it looks
    like one; min_wait (residents) is in days."""

    text: str | None = None
    status: str | None = None
    postcode: str | None = None
    neighbourhood: str | None = None
    interest: str | None = None
    language: str | None = None
    activity: str | None = None
    target_group: str | None = None
    min_wait: int | None = None
    sort: str = "created"
    descending: bool = False


@dataclass(frozen=True)
class ResultPage:
    items: list[Profile]
    page: int
    page_size: int
    total: int


def _not_erased(model: Any) -> Any:
    reason = model.stop_reason if model is Volunteer else model.closed_reason
    return or_(reason.is_(None), reason != profiles.ERASED)


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _holds(column: Any, code: str) -> Any:
    # Lists are JSON arrays of taxonomy codes; matching the quoted code in the JSON text works
    # the same on SQLite and PostgreSQL.
    return cast(column, String).like(f'%"{_like(code)}"%', escape="\\")


def _text_search(model: Any, text: str) -> Any:
    pattern = f"%{_like(text.lower())}%"
    conditions = [
        func.lower(model.first_name).like(pattern, escape="\\"),
        func.lower(model.last_name).like(pattern, escape="\\"),
        func.lower(model.first_name + " " + model.last_name).like(pattern, escape="\\"),
        func.lower(model.email).like(pattern, escape="\\"),
    ]
    digits = re.sub(r"[\s\-]", "", text)
    if re.fullmatch(r"\+?[0-9]{3,15}", digits):
        national = digits[1:] if digits.startswith("0") else digits.removeprefix("+31")
        conditions.append(model.phone.like(f"%{national}%"))
    compact = re.sub(r"\s", "", text).upper()
    if re.fullmatch(r"[0-9]{4}[A-Z]{0,2}", compact):
        prefix = compact[:4] + (" " + compact[4:] if len(compact) > 4 else "")
        conditions.append(model.postcode.like(f"{prefix}%"))
    return or_(*conditions)


def select_profiles(kind: Kind, filters: Filters, *, scope: Scope, today: date,
                    include_erased: bool = False) -> Select[Any]:
    """The scope's profiles that pass the filters, in the filters' order (the id breaks ties,
    so pages never repeat or skip a row): the one query behind lists, exports and the API."""
    model = profiles.MODELS[kind]
    owned = scope.volunteers() if kind == "volunteer" else scope.residents()
    conditions = [owned] if include_erased else [owned, _not_erased(model)]
    if text := (filters.text or "").strip()[:100]:
        conditions.append(_text_search(model, text))
    if filters.status:
        conditions.append(model.status == filters.status)
    if filters.postcode:
        prefix = filters.postcode.replace(" ", "").upper()[:6]
        normalised = prefix if len(prefix) <= 4 else f"{prefix[:4]} {prefix[4:]}"
        conditions.append(model.postcode.like(f"{_like(normalised)}%", escape="\\"))
    if neighbourhood := (filters.neighbourhood or "").strip()[:80]:
        conditions.append(func.lower(model.neighbourhood) == neighbourhood.lower())
    for code, column in ((filters.interest, model.interests), (filters.language, model.languages),
                         (filters.activity, model.activities)):
        if code and _CODE.fullmatch(code):
            conditions.append(_holds(column, code))
    if kind == "resident":
        if filters.target_group:
            conditions.append(Resident.target_group == filters.target_group)
        if filters.min_wait is not None:
            conditions.append(Resident.waiting_since <= today - timedelta(days=filters.min_wait))
    return select(model).where(*conditions).order_by(*_order(kind, filters), model.id)


def _order(kind: Kind, filters: Filters) -> list[Any]:
    model = profiles.MODELS[kind]
    sort = filters.sort if filters.sort in SORTS[kind] else "created"
    columns: list[Any] = {
        "created": [model.created_at],
        "name": [model.last_name, model.first_name],
        "registered": [Volunteer.registered_at],
        "waiting": [Resident.waiting_since],
        "postcode": [model.postcode],
    }[sort]
    # Empty values (not yet waiting, no postcode) go last either way, on both databases.
    return [(c.desc() if filters.descending else c.asc()).nulls_last() for c in columns]


def count(session: Session, statement: Select[Any]) -> int:
    """How many rows a select_profiles() statement finds."""
    return session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0


def search(
    session: Session, kind: Kind, filters: Filters, *, page: int, page_size: int,
    scope: Scope, actor: str | None, now: datetime,
) -> ResultPage:
    """One page of the scope's profiles, with the total over all pages, each recorded as viewed."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page {page} / page_size {page_size} out of range")
    statement = select_profiles(kind, filters, scope=scope, today=profiles.local_date(now))
    total = count(session, statement)
    items = list(session.scalars(statement.limit(page_size).offset((page - 1) * page_size)))
    for item in items:
        record_view(session, actor, kind, item.id, now=now)
    session.flush()
    return ResultPage(items=items, page=page, page_size=page_size, total=total)


def present(session: Session, kind: Kind, id: str, *, scope: Scope) -> Profile:
    """The scope's profile, or NotFound when it does not exist, was erased or is not theirs."""
    profile = profiles.get_profile(session, kind, id)
    erased = (profile.stop_reason if kind == "volunteer" else profile.closed_reason) == profiles.ERASED
    owned = (scope.owns_volunteer(profile) if isinstance(profile, Volunteer)
             else scope.owns_resident(profile))
    if erased or not owned:
        raise NotFound(f"{kind} {id}")
    return profile


def view(session: Session, kind: Kind, id: str, *, scope: Scope, actor: str | None,
         now: datetime) -> Profile:
    """The scope's profile (recorded as viewed), or NotFound as for present()."""
    present(session, kind, id, scope=scope)
    return profiles.view_profile(session, kind, id, actor=actor, now=now)
