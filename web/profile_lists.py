"""The staff lists of volunteers and residents: query-string filters in, one page out.

The query itself is the directory service's (the API and the exports use the same one).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from matching.services import directory
from matching.services.profiles import Kind

from . import staff_scope
from .edge import whole_number

PAGE_SIZE = 50
SORTS = {kind: sorts[1:] for kind, sorts in directory.SORTS.items()}  # "created": the API's

# The query parameters a list understands; exports carry these and nothing else.
FILTER_KEYS = ("q", "status", "pc4", "neighbourhood", "interest", "language", "activity",
               "target_group", "min_wait", "sort", "dir")


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int
    page: int
    pages: int


def filters_of(args: MultiDict[str, str]) -> dict[str, str]:
    """The list's filters from the query string, for links that keep them (export)."""
    return {key: args[key] for key in FILTER_KEYS if args.get(key)}


def filters(kind: Kind, args: MultiDict[str, str]) -> directory.Filters:
    """The directory's filters for a list page's query string (unknown values are ignored)."""
    area = "".join(args.get("pc4", "").split())[:4]
    sort = args.get("sort", "name")
    return directory.Filters(
        text=args.get("q") or None, status=args.get("status") or None,
        postcode=area if area.isdigit() else None, neighbourhood=args.get("neighbourhood"),
        interest=args.get("interest"), language=args.get("language"),
        activity=args.get("activity"), target_group=args.get("target_group") or None,
        min_wait=whole_number(args.get("min_wait")) if kind == "resident" else None,
        sort=sort if sort in SORTS[kind] else "name", descending=args.get("dir") == "desc",
    )


def page(session: Session, kind: Kind, args: MultiDict[str, str], today: date) -> Page:
    """One page of the list: the count over the filtered rows, then that page of the sorted ones."""
    statement = directory.select_profiles(kind, filters(kind, args), scope=staff_scope.scope(), today=today,
                                          include_erased=True)
    total = directory.count(session, statement)
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, whole_number(args.get("page")) or 1), pages)
    rows = list(session.scalars(statement.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)))
    return Page(rows, total, number, pages)
