"""The dashboard's headline figures and its monthly trends over the last 12 calendar months.

Months are Utrecht calendar months. Every count of people under five is suppressed and every
share over fewer than five people is None, as everywhere else (reports.suppress / share).
"Duurzaam" has the dashboard's one definition: still running DURABLE_DAYS after the start.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching.store import Match, Resident

from .periods import ZONE, midnight
from .reports import DURABLE_DAYS, _people, share, suppress

MONTHS = 12


@dataclass(frozen=True)
class Month:
    label: str  # "2026-11"
    start: date
    end: date  # the first day of the next month


@dataclass(frozen=True)
class Trends:
    months: list[Month]
    new_matches: list[int | None]  # matches that became active in the month
    waiting: list[int | None]  # residents waiting at the end of the month
    durable_3m: list[float | None]  # share still running on day 91, of those reaching it
    durable_6m: list[float | None]


@dataclass(frozen=True)
class Headline:
    waiting_now: int | None
    matched_this_month: int | None
    active_now: int | None
    durable_6m: float | None  # over the last 12 months


def last_months(today: date, count: int = MONTHS) -> list[Month]:
    """The `count` calendar months up to and including today's, oldest first."""
    out = []
    year, month = today.year, today.month
    for _ in range(count):
        start = date(year, month, 1)
        end = date(year + month // 12, month % 12 + 1, 1)
        out.append(Month(f"{year:04d}-{month:02d}", start, end))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def _local_day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


def trends(session: Session, today: date, *, wijk: str | None = None,
           target_group: str | None = None) -> Trends:
    """New matches, waiting-list length and durable shares per month, for the last 12 months."""
    months = last_months(today)
    first = midnight(months[0].start)
    longest = max(DURABLE_DAYS.values())
    matches = [
        (_local_day(started), _local_day(ended) if ended else None)
        for started, ended in session.execute(_people(
            select(Match.activated_at, Match.ended_at)
            .join(Resident, Match.resident_id == Resident.id)
            .where(Match.activated_at.is_not(None),
                   Match.activated_at >= first - timedelta(days=longest + 31)),
            wijk, target_group))
    ]
    new = [suppress(sum(m.start <= s < m.end for s, _e in matches)) for m in months]
    durable: dict[str, list[float | None]] = {}
    for label, days in DURABLE_DAYS.items():
        row = []
        for month in months:
            # Matches whose day `days` falls in this month and has passed by today.
            span = timedelta(days=days)
            reached = [(s, e) for s, e in matches
                       if month.start <= s + span < month.end and s + span <= today]
            lasted = sum(e is None or (e - s).days >= days for s, e in reached)
            row.append(share(lasted, len(reached)))
        durable[label] = row
    return Trends(months, new, _waiting_at_month_ends(session, months, today, wijk, target_group),
                  durable["3m"], durable["6m"])


def _waiting_at_month_ends(session: Session, months: list[Month], today: date,
                           wijk: str | None, target_group: str | None) -> list[int | None]:
    """Residents waiting at each month's end (today for this month): waiting since before it,
    not closed and without a match that started by then."""
    first_match = (select(Match.resident_id, func.min(Match.activated_at).label("matched"))
                   .group_by(Match.resident_id).subquery())
    rows = [
        (since, _local_day(closed) if closed else None, _local_day(matched) if matched else None)
        for since, closed, matched in session.execute(_people(
            select(Resident.waiting_since, Resident.closed_at, first_match.c.matched)
            .outerjoin(first_match, first_match.c.resident_id == Resident.id)
            .where(Resident.waiting_since.is_not(None)), wijk, target_group))
    ]
    out = []
    for month in months:
        day = min(month.end, today)
        out.append(suppress(sum(
            since < day and (closed is None or closed >= day)
            and (matched is None or matched >= day)
            for since, closed, matched in rows)))
    return out


def headline(session: Session, today: date, found: Trends, *,
             wijk: str | None = None, target_group: str | None = None) -> Headline:
    """The four tiles: waiting now, matched this month, active now, durable after 6 months."""
    waiting = session.scalar(_people(
        select(func.count()).select_from(Resident).where(Resident.status == "waiting"),
        wijk, target_group)) or 0
    active = session.scalar(_people(
        select(func.count()).select_from(Match).join(Resident, Match.resident_id == Resident.id)
        .where(Match.status == "active"), wijk, target_group)) or 0
    # Over the whole 12 months: the months' own shares may each be too small to show.
    reached = lasted = 0
    days = DURABLE_DAYS["6m"]
    first = found.months[0].start
    for started, ended in session.execute(_people(
            select(Match.activated_at, Match.ended_at)
            .join(Resident, Match.resident_id == Resident.id)
            .where(Match.activated_at.is_not(None)), wijk, target_group)):
        start = _local_day(started)
        turned = start + timedelta(days=days)
        if first <= turned <= today:
            reached += 1
            lasted += ended is None or (_local_day(ended) - start).days >= days
    return Headline(suppress(waiting), found.new_matches[-1], suppress(active),
                    share(lasted, reached))
