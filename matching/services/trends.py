"""The dashboard's headline figures and its monthly trends over the last 12 calendar months.

Months are Utrecht calendar months. Every count of people under five is suppressed and every
share over fewer than five people is None, as everywhere else (reports.suppress / share).
"Duurzaam" has the dashboard's one definition: still running DURABLE_DAYS after the start.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from matching.store import Match, Resident

from .periods import midnight
from .profiles import local_date
from .reports import DURABLE_DAYS, _people, share, suppress

MONTHS = 12
_NEVER = date.max.toordinal()  # an end that has not come


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
    durable_6m_year: float | None  # the same over all 12 months at once


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


def trends(session: Session, today: date, *, wijk: str | None = None,
           target_group: str | None = None) -> Trends:
    """New matches, waiting-list length and durable shares per month, for the last 12 months."""
    months = last_months(today)
    first = midnight(months[0].start)
    longest = max(DURABLE_DAYS.values())
    rows = session.execute(_people(
        select(Match.activated_at, Match.ended_at)
        .join(Resident, Match.resident_id == Resident.id)
        .where(Match.activated_at.is_not(None),
               Match.activated_at >= first - timedelta(days=longest + 31)),
        wijk, target_group)).all()
    # Days as ordinals, so a year of months is a handful of array comparisons.
    started = np.array([local_date(a).toordinal() for a, _e in rows], dtype=np.int64)
    ended = np.array([local_date(e).toordinal() if e else _NEVER for _a, e in rows],
                     dtype=np.int64)
    bounds = np.array([m.start.toordinal() for m in months] + [months[-1].end.toordinal()])
    now_day = today.toordinal()
    new = [suppress(int(n)) for n in np.histogram(started, bins=bounds)[0]]
    durable: dict[str, list[float | None]] = {}
    year: dict[str, float | None] = {}
    for label, days in DURABLE_DAYS.items():
        turned = started + days
        reached = (turned >= bounds[0]) & (turned <= now_day)
        lasted = ended - started >= days  # still running: _NEVER is far ahead
        month_of = np.searchsorted(bounds, turned, side="right") - 1
        durable[label] = [
            share(int((lasted & reached & (month_of == n)).sum()),
                  int((reached & (month_of == n)).sum()))
            for n in range(len(months))]
        year[label] = share(int((lasted & reached).sum()), int(reached.sum()))
    return Trends(months, new, _waiting_at_month_ends(session, months, today, wijk, target_group),
                  durable["3m"], durable["6m"], year["6m"])


def _waiting_at_month_ends(session: Session, months: list[Month], today: date,
                           wijk: str | None, target_group: str | None) -> list[int | None]:
    """Residents waiting at each month's end (today for this month): waiting since before it,
    not closed and without a match that started by then."""
    first_match = (select(Match.resident_id, func.min(Match.activated_at).label("matched"))
                   .group_by(Match.resident_id).subquery())
    first = midnight(months[0].start)
    # Only who may have been waiting at some month end of the year.
    rows = session.execute(_people(
        select(Resident.waiting_since, Resident.closed_at, first_match.c.matched)
        .outerjoin(first_match, first_match.c.resident_id == Resident.id)
        .where(Resident.waiting_since.is_not(None), Resident.waiting_since < today,
               or_(Resident.closed_at.is_(None), Resident.closed_at >= first),
               or_(first_match.c.matched.is_(None), first_match.c.matched >= first)),
        wijk, target_group)).all()
    since = np.array([s.toordinal() for s, _c, _m in rows], dtype=np.int64)
    closed = np.array([local_date(c).toordinal() if c else _NEVER for _s, c, _m in rows],
                      dtype=np.int64)
    matched = np.array([local_date(m).toordinal() if m else _NEVER for _s, _c, m in rows],
                       dtype=np.int64)
    out = []
    for month in months:
        day = min(month.end, today).toordinal()
        out.append(suppress(int(((since < day) & (closed >= day) & (matched >= day)).sum())))
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
    return Headline(suppress(waiting), found.new_matches[-1], suppress(active),
                    found.durable_6m_year)
