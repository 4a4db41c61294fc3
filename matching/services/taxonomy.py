"""The reference lists (interests, activities, languages) with their labels per locale."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.store import Activity, Interest, Language

KINDS: dict[str, type[Interest] | type[Activity] | type[Language]] = {
    "interest": Interest, "activity": Activity, "language": Language,
}


def labels(session: Session, locale: str) -> dict[str, dict[str, str]]:
    """Every term's label in this locale, per kind, in display order.

    Inactive terms are included so that people who still carry an old code keep a readable label.
    """
    result: dict[str, dict[str, str]] = {}
    for kind, model in KINDS.items():
        terms = session.scalars(select(model).order_by(model.position, model.code))
        result[kind] = {term.code: term.label(locale) for term in terms}
    return result


def codes(session: Session, kind: str) -> list[str]:
    """The active codes of one kind, in display order."""
    if kind not in KINDS:
        raise ValueError(f"unknown taxonomy kind {kind!r}; expected one of {sorted(KINDS)}")
    model = KINDS[kind]
    query = select(model.code).where(model.active.is_(True)).order_by(model.position, model.code)
    return list(session.scalars(query))
