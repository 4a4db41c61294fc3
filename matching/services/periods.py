"""Reporting periods: [start, end) dates turned into UTC moments at Amsterdam midnight."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

ZONE = ZoneInfo("Europe/Amsterdam")
# The dates reports accept: wide enough for any real period, narrow enough that a day before
# or after never overflows Python's date or a database's range.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


def supported(day: date) -> bool:
    """Whether a report may start or end on this day."""
    return FIRST_DAY <= day <= LAST_DAY


def midnight(day: date) -> datetime:
    """The UTC moment a day starts in Utrecht."""
    return datetime.combine(day, time(0), ZONE).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """Dates from start up to (not including) end, seen from the moment `now`."""

    start: date
    end: date
    now: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"period end {self.end} is not after its start {self.start}")
        if not (supported(self.start) and supported(self.end)):
            raise ValueError(f"period {self.start} - {self.end} is outside the supported dates")
        if self.now.tzinfo is None:
            raise ValueError("now must be an aware datetime")

    @property
    def starts(self) -> datetime:
        return midnight(self.start)

    @property
    def ends(self) -> datetime:
        return midnight(self.end)

    @property
    def as_of(self) -> datetime:
        """The moment states are read at: the end of the period, or now if that comes first."""
        return min(self.ends, self.now)

    @property
    def as_of_day(self) -> date:
        return self.as_of.astimezone(ZONE).date()


def month(value: str, now: datetime) -> Period:
    """The calendar month 'YYYY-MM' as a period; ValueError for anything else."""
    year, _dash, number = value.partition("-")
    if not (len(year) == 4 and year.isdigit() and len(number) == 2 and number.isdigit()):
        raise ValueError(f"not a month: {value!r}")
    first = date(int(year), int(number), 1)
    if not supported(first) or first.replace(day=28) >= LAST_DAY.replace(day=1):
        raise ValueError(f"month outside the supported dates: {value!r}")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(first, following, now)


class days_between(FunctionElement[float]):  # noqa: N801 - used like a SQL function
    """Days (with fraction) from the first datetime expression to the second, on both databases."""

    type = Float()
    name = "days_between"
    inherit_cache = True


@compiles(days_between)
def _days_postgresql(element: days_between, compiler: SQLCompiler, **kw: object) -> str:
    start, end = list(element.clauses)
    return (f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
            f"{compiler.process(start, **kw)})) / 86400.0)")


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: object) -> str:
    start, end = list(element.clauses)
    end_sql, start_sql = compiler.process(end, **kw), compiler.process(start, **kw)
    return f"(julianday({end_sql}) - julianday({start_sql}))"
