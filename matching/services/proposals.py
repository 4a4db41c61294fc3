"""The coordinator's review of proposals: approve (offer by e-mail), reject, swap, lock."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from matching import engine
from matching.errors import Conflict, NotFound, ValidationFailed
from matching.services import audit, links, mail, pairing, profiles, runs
from matching.services.scope import HOST, Scope
from matching.store import (
    OPEN_MATCH_STATUSES, Activity, Exclusion, Interest, Match, MatchRun, Resident, Volunteer,
)

OFFER_TTL = timedelta(days=7)
LINK_PATH = "/koppeling/"
REASON_MAX = 500
PAGE_SIZE = 50


def link_url(base_url: str, token: str) -> str:
    """The address of a proposal link page (web/links.py serves it)."""
    return f"{base_url.rstrip('/')}{LINK_PATH}{token}"


def volunteer_locale(volunteer: Volunteer) -> str:
    """Dutch, unless the volunteer speaks English and no Dutch."""
    languages = volunteer.languages or []
    return "en" if "en" in languages and "nl" not in languages else "nl"


def _get(session: Session, match_id: str, scope: Scope) -> Match:
    return scope.match(session, match_id)


def _still_proposed(match: Match, expected_version: int | None) -> None:
    if match.status != "proposed" or (
        expected_version is not None and match.version != expected_version
    ):
        raise Conflict("proposal_already_handled")


def offer_mail(
    session: Session, match: Match, *, now: datetime, secret: str, base_url: str,
    template: str, dedupe: str, expires_at: datetime,
) -> None:
    """A new link for the volunteer and the one e-mail that carries it."""
    volunteer = match.volunteer
    if not volunteer.email:
        raise ValidationFailed({"email": "volunteer_has_no_email"})
    token = links.issue(
        session, purpose="proposal", subject=("match", match.id),
        person=("volunteer", volunteer.id), now=now, ttl=expires_at - now, secret=secret,
    )
    locale = volunteer_locale(volunteer)
    mail.enqueue(
        session, dedupe_key=dedupe, to=(volunteer.full_name, volunteer.email),
        template=template, locale=locale, now=now, subject_kind="match", subject_id=match.id,
        context={
            "name": volunteer.first_name, "resident": match.resident.first_name,
            "link": link_url(base_url, token), "expires": expires_at.date().isoformat(),
        },
    )


def approve(
    session: Session,
    match_id: str,
    *,
    actor: str | None,
    now: datetime,
    secret: str,
    base_url: str,
    expected_version: int | None = None,
    via: str | None = None,
    scope: Scope = HOST,
) -> Match:
    """Offer the proposal to the volunteer: status offered, a 7-day link, one e-mail.

    `actor` is the staff member (or None); `via` names another caller (an API token) in the
    audit log.
    """
    match = _get(session, match_id, scope)
    _still_proposed(match, expected_version)
    if not match.volunteer.email:
        raise ValidationFailed({"email": "volunteer_has_no_email"})
    try:
        match = pairing.move(
            session, match_id, from_status="proposed", to_status="offered",
            expected_version=match.version, offered_at=now, offered_by=actor, acted_by=actor,
            reminded_at=None,
        )
    except Conflict:
        raise Conflict("proposal_already_handled") from None
    offer_mail(session, match, now=now, secret=secret, base_url=base_url, template="proposal",
               dedupe=f"proposal:{match.id}", expires_at=now + OFFER_TTL)
    audit.record(session, actor=via or actor, action="match.offered",
                 subject=("match", match.id), now=now)
    return match


@dataclass
class BulkResult:
    approved: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # match id -> reason key


def approve_many(
    session: Session,
    match_ids: list[str],
    *,
    actor: str | None,
    now: datetime,
    secret: str,
    base_url: str,
    scope: Scope = HOST,
) -> BulkResult:
    """Approve each proposal that can be; the others are reported, not fatal."""
    result = BulkResult()
    for match_id in dict.fromkeys(match_ids):
        try:
            with session.begin_nested():
                approve(session, match_id, actor=actor, now=now, secret=secret,
                        base_url=base_url, scope=scope)
        except (Conflict, NotFound, ValidationFailed) as error:
            reason = next(iter(error.errors.values())) if isinstance(
                error, ValidationFailed) else error.message
            result.refused[match_id] = reason
        else:
            result.approved.append(match_id)
    return result


def exclude(
    session: Session, volunteer_id: str, resident_id: str, *, reason: str, actor: str | None,
    now: datetime,
) -> None:
    """Keep the pair out of every later run (once; a second exclusion is a no-op)."""
    exists = session.scalar(select(Exclusion.id).where(
        Exclusion.volunteer_id == volunteer_id, Exclusion.resident_id == resident_id))
    if exists is None:
        session.add(Exclusion(volunteer_id=volunteer_id, resident_id=resident_id,
                              reason=reason[:200], created_at=now, created_by=actor))
        session.flush()


def reject(
    session: Session,
    match_id: str,
    *,
    reason: str,
    actor: str | None,
    now: datetime,
    expected_version: int | None = None,
    via: str | None = None,
    scope: Scope = HOST,
) -> Match:
    """Withdraw the proposal and exclude the pair; the resident waits again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "required"})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": "too_long"})
    match = _get(session, match_id, scope)
    _still_proposed(match, expected_version)
    try:
        pairing.close_match(session, match, "withdrawn", now)
    except Conflict:
        raise Conflict("proposal_already_handled") from None
    match.decline_reason = reason
    match.acted_by = actor
    exclude(session, match.volunteer_id, match.resident_id, reason="rejected_by_coordinator",
            actor=actor, now=now)
    profiles.set_resident_status(session, [match.resident_id], "waiting")
    session.flush()
    audit.record(session, actor=via or actor, action="match.rejected",
                 subject=("match", match.id), now=now)
    return match


def swap(
    session: Session,
    match_id: str,
    volunteer_id: str,
    *,
    actor: str | None,
    now: datetime,
    today: date,
    expected_version: int | None = None,
    scope: Scope = HOST,
) -> Match:
    """Replace the proposal's volunteer by one of its listed alternatives."""
    match = _get(session, match_id, scope)
    _still_proposed(match, expected_version)
    alternatives = match.explanation.get("alternatives") or []
    if volunteer_id not in {a.get("volunteer") for a in alternatives}:
        raise ValidationFailed({"volunteer_id": "not_an_alternative"})
    run = session.get(MatchRun, match.run_id) if match.run_id else None
    # Scored as the run scored its pairs: with its weights, or its learned model.
    settings = runs.engine_settings(session, run) if run else {}
    explanation = _pair_explanation(session, volunteer_id, match.resident_id, today, settings)
    if explanation is None:
        raise Conflict("alternative_not_possible", field="volunteer_id")
    explanation["alternatives"] = [
        a for a in alternatives if a.get("volunteer") != volunteer_id
    ] + [{"volunteer": match.volunteer_id, "score": match.score, "why_not_code": "swapped",
          "why_not": "swapped by the coordinator"}]
    resident_id, run_id = match.resident_id, match.run_id
    try:
        pairing.close_match(session, match, "withdrawn", now)
    except Conflict:
        raise Conflict("proposal_already_handled") from None
    match.acted_by = actor
    session.flush()
    new = pairing.open_match(
        session, volunteer_id=volunteer_id, resident_id=resident_id, status="proposed",
        run_id=run_id, score=explanation["score"], cost=explanation["cost"],
        distance_km=explanation["distance_km"], durability=explanation.get("durability"),
        explanation=explanation, proposed_at=now, acted_by=actor,
    )
    audit.record(session, actor=actor, action="match.swapped", subject=("match", new.id),
                 now=now)
    return new


def _pair_explanation(
    session: Session, volunteer_id: str, resident_id: str, today: date, settings: dict | None = None
) -> dict | None:
    """The engine's explanation for this one pair, or None if the pair breaks a hard rule."""
    volunteer = session.get(Volunteer, volunteer_id)
    resident = session.get(Resident, resident_id)
    if volunteer is None or resident is None or volunteer.lat is None or resident.lat is None:
        return None
    one = {
        "today": today.isoformat(), "settings": {**(settings or {}), "min_score": 0},
        "volunteers": [{**runs.engine_record(_row(volunteer)), "capacity": 1}],
        "residents": [{**runs.engine_record(_row(resident)),
                       "waiting_since": resident.waiting_since.isoformat()
                       if resident.waiting_since else None}],
    }
    result = engine.solve(one)
    if not result["pairs"]:
        return None
    pair = result["pairs"][0]
    return {key: pair.get(key) for key in runs.EXPLANATION_KEYS}


def _row(person: Volunteer | Resident) -> tuple:
    return tuple(getattr(person, name) for name in runs.PROFILE_COLUMNS)


def set_locked(
    session: Session,
    match_id: str,
    locked: bool,
    *,
    actor: str | None,
    now: datetime,
    expected_version: int | None = None,
    scope: Scope = HOST,
) -> Match:
    """Lock a proposal so later runs keep it (or unlock it)."""
    match = _get(session, match_id, scope)
    _still_proposed(match, expected_version)
    try:
        match = pairing.move(session, match_id, from_status="proposed", to_status="proposed",
                             expected_version=match.version, locked=locked, acted_by=actor)
    except Conflict:
        raise Conflict("proposal_already_handled") from None
    audit.record(session, actor=actor, action="match.locked" if locked else "match.unlocked",
                 subject=("match", match.id), now=now)
    return match


@dataclass(frozen=True)
class ReviewPage:
    items: list[Match]
    stale: set[str]
    total: int
    page: int
    pages: int
    names: dict[str, str]  # alternative volunteer id -> display name
    interests: dict[str, str]  # interest code -> label in the requested locale
    activities: dict[str, str]  # activity code -> label in the requested locale
    free: set[str]  # alternative volunteers with a free place now (a swap can only go there)
    taken_by: dict[tuple[str, str], str]  # (run id, volunteer id) -> the resident it went to


REVIEW_STATUSES = OPEN_MATCH_STATUSES
REVIEW_SORTS = ("score", "distance", "resident", "volunteer", "wijk")


@dataclass(frozen=True)
class ReviewFilter:
    """What the review table shows: a wijk, a name (resident or volunteer), only stale pairs;
    sorted by one of REVIEW_SORTS."""

    wijk: str | None = None
    name: str | None = None
    stale_only: bool = False
    sort: str = "score"
    descending: bool = True


def _review_conditions(shown: ReviewFilter) -> list[Any]:
    """The filters on Match: the wijk and the name as semi-joins, so that the people need not be
    joined to every match (at 50,000 proposals the joins cost more than the rest of the page)."""
    conditions: list[Any] = []
    if wijk := (shown.wijk or "").strip()[:80]:
        conditions.append(Match.resident_id.in_(
            select(Resident.id).where(func.lower(Resident.neighbourhood) == wijk.lower())))
    if name := (shown.name or "").strip()[:100]:
        pattern = "%" + name.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        conditions.append(or_(
            Match.resident_id.in_(select(Resident.id).where(
                func.lower(Resident.first_name + " " + Resident.last_name).like(pattern, escape="\\"))),
            Match.volunteer_id.in_(select(Volunteer.id).where(
                func.lower(Volunteer.first_name + " " + Volunteer.last_name).like(pattern, escape="\\")))))
    if shown.stale_only:
        conditions.append(or_(Volunteer.updated_at > MatchRun.started_at,
                              Resident.updated_at > MatchRun.started_at))
    return conditions


def _sort_column(shown: ReviewFilter) -> Any:
    return {"score": Match.score, "distance": Match.distance_km,
            "resident": Resident.last_name, "volunteer": Volunteer.last_name,
            "wijk": Resident.neighbourhood}.get(shown.sort, Match.score)


def _ordered(column: Any, id_column: Any, shown: ReviewFilter) -> list[Any]:
    ordered = column.desc() if shown.descending else column.asc()
    return [ordered.nulls_last(), id_column]


def review(
    session: Session,
    *,
    run_id: str | None = None,
    status: str = "proposed",
    page: int = 1,
    page_size: int = PAGE_SIZE,
    locale: str = "nl",
    scope: Scope = HOST,
    shown: ReviewFilter = ReviewFilter(),
) -> ReviewPage:
    """One page of the scope's matches in `status` (best score first unless `shown` sorts
    otherwise), filtered by `shown`, with stale flags."""
    if status not in REVIEW_STATUSES:
        raise ValidationFailed({"status": "invalid_choice"})
    conditions = _review_conditions(shown)
    where = [Match.status == status, scope.matches(), *conditions]
    if run_id:
        where.append(Match.run_id == run_id)
    # The people are joined only when the sort or the stale filter reads their rows.
    people = shown.stale_only or shown.sort in ("resident", "volunteer", "wijk")

    def joined(statement: Any) -> Any:
        if people:
            statement = (statement.join(Resident, Resident.id == Match.resident_id)
                         .join(Volunteer, Volunteer.id == Match.volunteer_id))
        if shown.stale_only:
            statement = statement.join(MatchRun, MatchRun.id == Match.run_id)
        return statement.where(*where)

    # Sort and page narrow rows (ids), then load the page's matches with their people: sorting
    # whole rows would drag every explanation through the sort. Filtered or joined rows are
    # materialised once and counted in the same pass (the filter is evaluated once, not for the
    # count and again for the page); otherwise the planner walks the sorted matches one by one
    # hoping the LIMIT stops it early (not when few fit).
    column = _sort_column(shown)
    page = max(1, page)
    if people or conditions:
        found = joined(select(Match.id.label("id"), column.label("key"))).cte("shown").prefix_with("MATERIALIZED")
        counted = select(found.c.id, func.count().over().label("total")).order_by(
            *_ordered(found.c.key, found.c.id, shown))
        rows = session.execute(counted.offset((page - 1) * page_size).limit(page_size)).all()
        if rows or page == 1:
            total = rows[0].total if rows else 0
        else:  # past the last page: count, then show the last page
            total = session.scalar(select(func.count()).select_from(found)) or 0
            page = max(1, math.ceil(total / page_size))
            rows = session.execute(counted.offset((page - 1) * page_size).limit(page_size)).all()
        ids = [row.id for row in rows]
    else:
        total = session.scalar(joined(select(func.count()).select_from(Match))) or 0
        page = min(page, max(1, math.ceil(total / page_size)))
        ids = list(session.scalars(joined(select(Match.id)).order_by(*_ordered(column, Match.id, shown))
                                   .offset((page - 1) * page_size).limit(page_size)))
    pages = max(1, math.ceil(total / page_size))
    loaded = {m.id: m for m in session.scalars(select(Match).where(Match.id.in_(ids))).unique()} if ids else {}
    items = [loaded[i] for i in ids]
    started = dict(session.execute(
        select(MatchRun.id, MatchRun.started_at).where(
            MatchRun.id.in_({m.run_id for m in items if m.run_id}))
    ).all())
    stale = {m.id for m in items if m.run_id in started and runs.is_stale(m, started[m.run_id])}
    alternative_ids = {
        a["volunteer"] for m in items for a in (m.explanation.get("alternatives") or [])
        if a.get("volunteer")
    }
    names = dict(session.execute(
        select(Volunteer.id, Volunteer.first_name + " " + Volunteer.last_name)
        .where(Volunteer.id.in_(alternative_ids))
    ).all()) if alternative_ids else {}
    return ReviewPage(items, stale, total, page, pages, names,
                      _labels(session, Interest, items, "shared_interests", locale),
                      _labels(session, Activity, items, "shared_activities", locale),
                      _free(session, alternative_ids), _taken_by(session, items, alternative_ids))


@dataclass(frozen=True)
class Labels:
    """Taxonomy labels for the codes some matches share (for their explanation in words)."""

    interests: dict[str, str]
    activities: dict[str, str]


def labels_for(session: Session, items: list[Match], locale: str = "nl") -> Labels:
    return Labels(_labels(session, Interest, items, "shared_interests", locale),
                  _labels(session, Activity, items, "shared_activities", locale))


def _labels(session: Session, model: Any, items: list[Match], key: str,
            locale: str) -> dict[str, str]:
    codes = {code for m in items for code in (m.explanation.get(key) or [])}
    return {term.code: term.label(locale)
            for term in session.scalars(select(model).where(model.code.in_(codes)))}


def _free(session: Session, volunteer_ids: set[str]) -> set[str]:
    """The volunteers among these who are available with a place left."""
    if not volunteer_ids:
        return set()
    return set(session.scalars(select(Volunteer.id).where(
        Volunteer.id.in_(volunteer_ids), Volunteer.status == "available",
        Volunteer.open_matches < Volunteer.capacity)))


def _taken_by(session: Session, items: list[Match],
              volunteer_ids: set[str]) -> dict[tuple[str, str], str]:
    """For runner-ups taken by another resident in the same run: that resident's name."""
    run_ids = {m.run_id for m in items if m.run_id}
    if not run_ids or not volunteer_ids:
        return {}
    rows = session.execute(
        select(Match.run_id, Match.volunteer_id, Resident.first_name, Resident.last_name)
        .join(Resident, Resident.id == Match.resident_id)
        .where(Match.run_id.in_(run_ids), Match.volunteer_id.in_(volunteer_ids),
               Match.status.in_(OPEN_MATCH_STATUSES))
    ).all()
    return {(row.run_id, row.volunteer_id): f"{row.first_name} {row.last_name}".strip()
            for row in rows}
