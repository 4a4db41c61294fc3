"""Searching, filtering, sorting and paging the volunteer and resident lists in SQL."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, Select, cast, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from matching.store import Resident, Volunteer

PAGE_SIZE = 50
SORTS = {
    "volunteer": ("name", "registered", "postcode"),
    "resident": ("name", "waiting", "postcode"),
}


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int
    page: int
    pages: int


# The query parameters a list understands; exports carry these and nothing else.
FILTER_KEYS = ("q", "status", "pc4", "neighbourhood", "interest", "language", "activity",
               "target_group", "min_wait", "sort", "dir")


def filters_of(args: MultiDict[str, str]) -> dict[str, str]:
    """The list's filters from the query string, for links that keep them (export)."""
    return {key: args[key] for key in FILTER_KEYS if args.get(key)}


def _code(value: str) -> str:
    # Codes are identifiers; anything else could smuggle LIKE wildcards into the pattern.
    return value if re.fullmatch(r"[a-z0-9_\-]{1,40}", value) else ""


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 6 else None


def query(kind: str, args: MultiDict[str, str], today: date) -> tuple[Select[Any], str, bool]:
    """The filtered select for the list's arguments, the sort key and whether it is descending."""
    model = Volunteer if kind == "volunteer" else Resident
    statement = select(model)
    text = (args.get("q") or "").strip()[:100]
    if text:
        pattern = "%" + text.lower().replace("\\", "").replace("%", "").replace("_", "\\_") + "%"
        digits = re.sub(r"[\s\-]", "", text)
        compact = re.sub(r"\s", "", text).upper()
        conditions = [
            func.lower(model.first_name).like(pattern, escape="\\"),
            func.lower(model.last_name).like(pattern, escape="\\"),
            func.lower(model.first_name + " " + model.last_name).like(pattern, escape="\\"),
            func.lower(model.email).like(pattern, escape="\\"),
        ]
        if re.fullmatch(r"\+?[0-9]{3,15}", digits):
            national = digits[1:] if digits.startswith("0") else digits.removeprefix("+31")
            conditions.append(model.phone.like(f"%{national}%"))
        if re.fullmatch(r"[0-9]{4}[A-Z]{0,2}", compact):
            prefix = compact[:4] + (" " + compact[4:] if len(compact) > 4 else "")
            conditions.append(model.postcode.like(f"{prefix}%"))
        statement = statement.where(or_(*conditions))
    status = args.get("status", "")
    if status:
        statement = statement.where(model.status == status)
    area = re.sub(r"\s", "", args.get("pc4", ""))[:4]
    if area.isdigit():
        statement = statement.where(model.postcode.like(f"{area}%"))
    neighbourhood = (args.get("neighbourhood") or "").strip()[:80]
    if neighbourhood:
        statement = statement.where(func.lower(model.neighbourhood) == neighbourhood.lower())
    for name, column in (("interest", model.interests), ("language", model.languages),
                         ("activity", model.activities)):
        code = _code(args.get(name, ""))
        if code:
            statement = statement.where(cast(column, String).like(f'%"{code}"%'))
    if kind == "resident":
        group = _code(args.get("target_group", ""))
        if group:
            statement = statement.where(Resident.target_group == group)
        days = _number(args.get("min_wait"))
        if days is not None:
            statement = statement.where(Resident.waiting_since <= today - timedelta(days=days))
    sort = args.get("sort", "name")
    if sort not in SORTS[kind]:
        sort = "name"
    return statement, sort, args.get("dir") == "desc"


def _ordered(kind: str, statement: Select[Any], sort: str, descending: bool) -> Select[Any]:
    model = Volunteer if kind == "volunteer" else Resident
    columns: list[Any] = {
        "name": [model.last_name, model.first_name],
        "registered": [Volunteer.registered_at],
        "waiting": [Resident.waiting_since],
        "postcode": [model.postcode],
    }[sort]
    # Empty values (not yet waiting, no postcode) go last either way, on both databases.
    ordered = [(c.desc() if descending else c.asc()).nulls_last() for c in columns]
    # The id makes the order total, so pages never repeat or skip a row.
    return statement.order_by(*ordered, model.id)


def page(session: Session, kind: str, args: MultiDict[str, str], today: date) -> Page:
    """One page of the list: COUNT over the filtered rows, then LIMIT/OFFSET on the sorted ones."""
    statement, sort, descending = query(kind, args, today)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, _number(args.get("page")) or 1), pages)
    rows = list(session.scalars(
        _ordered(kind, statement, sort, descending).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)
    ))
    return Page(rows, total, number, pages)
