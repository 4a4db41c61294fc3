"""Finding profiles a page at a time (status, postcode area, interest, language, target group).

Erased profiles are left out: to a reader they no longer exist. Every profile returned is
recorded in the audit trail as viewed by the actor. A caller sees only the people of its scope
(scope.py): anyone else's answer NotFound, so their existence is not revealed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from matching.errors import NotFound
from matching.store import Resident, Volunteer

from . import profiles
from .audit import record_view
from .profiles import Kind, Profile
from .scope import Scope

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Filters:
    """Optional conditions; codes are taxonomy codes, postcode a prefix such as "3511" or "35"."""

    status: str | None = None
    postcode: str | None = None
    interest: str | None = None
    language: str | None = None
    target_group: str | None = None


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


def search(
    session: Session, kind: Kind, filters: Filters, *, page: int, page_size: int,
    scope: Scope, actor: str | None, now: datetime,
) -> ResultPage:
    """One page of the scope's profiles, oldest first, with the total over all pages."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page {page} / page_size {page_size} out of range")
    model = profiles.MODELS[kind]
    owned = scope.volunteers() if kind == "volunteer" else scope.residents()
    conditions = [_not_erased(model), owned]
    if filters.status:
        conditions.append(model.status == filters.status)
    if filters.postcode:
        prefix = filters.postcode.replace(" ", "").upper()
        normalised = prefix if len(prefix) <= 4 else f"{prefix[:4]} {prefix[4:]}"
        conditions.append(model.postcode.like(f"{_like(normalised)}%", escape="\\"))
    if filters.interest:
        conditions.append(_holds(model.interests, filters.interest))
    if filters.language:
        conditions.append(_holds(model.languages, filters.language))
    if filters.target_group and kind == "resident":
        conditions.append(Resident.target_group == filters.target_group)
    total = session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    items = list(session.scalars(
        select(model).where(*conditions).order_by(model.created_at, model.id)
        .limit(page_size).offset((page - 1) * page_size)
    ))
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
