"""Monitoring indicators for a period, overall and per wijk and target group, small groups hidden.

Everything is counted in SQL, grouped by (wijk, target group); only those few grouped rows are
rolled up here into the overall figure and the per-wijk and per-target-group figures. The result
is a JSON-ready dict: the partner API can return it as it is.

Definitions (period = [start, end) in Utrecht dates; "as of" = the end, or now if earlier):
- volunteers: registered = signed up before "as of" and not stopped by then; active = had a
  match that was active at some moment in the period; new = signed up in the period; returning
  = came back (is_returning) in the period. Volunteers have no target group: with a target
  group filter, and in the per-target-group figures, the volunteer indicators are left out.
- residents waiting: status 'waiting' now (the model keeps no history of statuses) and waiting
  since before the end; waiting days counted up to "as of".
- runs: finished solver runs started in the period; proposals: matches proposed in the period;
  acceptance rate = accepted / (accepted + declined) among those decided in the period.
- active matches: active at "as of". Durable at 3 (6) months: matches whose 91st (182nd) day fell
  in the period and before now; durable when not ended before that day.
- check-in response rate: answered / sent among the check-ins sent in the period.
- at risk (as of "as of", active matches only; check-ins of the last four weeks): the last two
  check-ins unanswered, the last three answered "not met" (no or not planned), a rating of 2 or
  less in the last one, or a call asked for in the last one.
- loneliness: the intake score of residents referred in the period; no later measurements exist
  yet, so the change at 6 and 12 months is reported as "no_measurements".
Privacy: every count of 1-4 people becomes None (the page shows "<5"); a rate, mean or percentile
over fewer than 5 people becomes None as well; 0 is shown.
"""
from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Select, and_, case, distinct, func, literal, or_, select
from sqlalchemy.orm import Session

from matching.store import CheckIn, Match, MatchRun, Resident, Volunteer

from .periods import Period, days_between
from .spreadsheets import neutralise

MIN_GROUP = 5
UNKNOWN = "unknown"
OTHER = "other"
DURABLE_DAYS = {"3m": 91, "6m": 182}
NOT_MET = ("no", "not_planned")
ACCEPTED = ("accepted", "active", "ended")
RECENT_CHECK_INS = timedelta(weeks=4)

Group = tuple[str, str]
OVERALL: Group = ("all", "")


def suppress(count: int | None) -> int | None:
    """A count of people as it may be shown: 1-4 become None (shown as '<5'); 0 stays 0."""
    if count is None:
        return None
    return None if 0 < count < MIN_GROUP else int(count)


def share(part: float, whole: float) -> float | None:
    """part / whole to three decimals, or None when the whole is fewer than 5 people."""
    return None if whole < MIN_GROUP else round(part / whole, 3)


class _Tally:
    """Sums of grouped SQL rows, rolled up into overall, per wijk and per target group."""

    def __init__(self) -> None:
        self.sums: defaultdict[Group, Counter[str]] = defaultdict(Counter)
        self.waits: defaultdict[Group, list[int]] = defaultdict(list)

    @staticmethod
    def keys(wijk: str | None, group: str | None, by_target_group: bool) -> list[Group]:
        keys = [OVERALL, ("wijk", wijk or UNKNOWN)]
        if by_target_group:
            keys.append(("target_group", group or UNKNOWN))
        return keys

    def add(self, rows: Iterable[Sequence[Any]], names: Sequence[str], *,
            by_target_group: bool = True) -> None:
        for wijk, group, *values in rows:
            for key in self.keys(wijk, group, by_target_group):
                for name, value in zip(names, values):
                    self.sums[key][name] += int(value or 0)  # PostgreSQL sums are Decimals

    def add_keyed(self, rows: Iterable[Sequence[Any]], prefix: str) -> None:
        """Rows of (wijk, target group, key, count): counts per key, e.g. per end reason."""
        for wijk, group, key, count in rows:
            for group_key in self.keys(wijk, group, True):
                self.sums[group_key][f"{prefix}:{key or UNKNOWN}"] += int(count)


def _people(stmt: Select[Any], wijk: str | None, target_group: str | None) -> Select[Any]:
    if wijk is not None:
        stmt = stmt.where(Resident.neighbourhood == wijk)
    if target_group is not None:
        stmt = stmt.where(Resident.target_group == target_group)
    return stmt


def _by_resident(*columns: ColumnElement[Any]) -> Select[Any]:
    """A match query grouped by its resident's wijk and target group."""
    return (select(Resident.neighbourhood, Resident.target_group, *columns)
            .select_from(Match).join(Resident, Match.resident_id == Resident.id)
            .group_by(Resident.neighbourhood, Resident.target_group))


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _active_at(moment: Any) -> ColumnElement[bool]:
    still = or_(Match.ended_at.is_(None), Match.ended_at >= moment)
    return and_(Match.activated_at < moment, still)


def _volunteers(session: Session, tally: _Tally, period: Period, wijk: str | None) -> None:
    starts, ends, as_of = period.starts, period.ends, period.as_of
    stmt = select(
        Volunteer.neighbourhood, literal(None),
        _count_if(and_(Volunteer.registered_at < as_of,
                       or_(Volunteer.stopped_at.is_(None), Volunteer.stopped_at >= as_of))),
        _count_if(and_(Volunteer.registered_at >= starts, Volunteer.registered_at < ends)),
        _count_if(and_(Volunteer.is_returning, Volunteer.returned_at >= starts,
                       Volunteer.returned_at < ends)),
    ).group_by(Volunteer.neighbourhood)
    active = (select(Volunteer.neighbourhood, literal(None),
                     func.count(distinct(Match.volunteer_id)))
              .select_from(Match).join(Volunteer, Match.volunteer_id == Volunteer.id)
              .where(Match.activated_at < ends,
                     or_(Match.ended_at.is_(None), Match.ended_at >= starts))
              .group_by(Volunteer.neighbourhood))
    if wijk is not None:
        stmt, active = (s.where(Volunteer.neighbourhood == wijk) for s in (stmt, active))
    tally.add(session.execute(stmt), ["volunteers_registered", "volunteers_new",
                                      "volunteers_returning"], by_target_group=False)
    tally.add(session.execute(active), ["volunteers_active"], by_target_group=False)


def _waiting(session: Session, tally: _Tally, period: Period, wijk: str | None,
             target_group: str | None) -> None:
    stmt = _people(select(Resident.neighbourhood, Resident.target_group, Resident.waiting_since)
                   .where(Resident.status == "waiting",
                          or_(Resident.waiting_since.is_(None),
                              Resident.waiting_since < period.end)),
                   wijk, target_group)
    day = period.as_of_day
    for wijk_name, group, since in session.execute(stmt):
        for key in tally.keys(wijk_name, group, True):
            tally.sums[key]["residents_waiting"] += 1
            if since is not None:  # waiting, but since when was not recorded
                tally.waits[key].append(max(0, (day - since).days))


def _matches(session: Session, tally: _Tally, period: Period, wijk: str | None,
             target_group: str | None) -> None:
    starts, ends, as_of, now = period.starts, period.ends, period.as_of, period.now
    in_period = lambda column: and_(column >= starts, column < ends)  # noqa: E731
    decided = in_period(Match.decided_at)
    columns = [
        _count_if(in_period(Match.proposed_at)),
        _count_if(and_(decided, Match.status.in_(ACCEPTED))),
        _count_if(and_(decided, Match.status == "declined")),
        _count_if(_active_at(as_of)),
        _count_if(in_period(Match.ended_at)),
    ]
    names = ["proposals", "accepted", "declined", "active_matches", "endings_total"]
    for label, days in DURABLE_DAYS.items():
        mark = timedelta(days=days)
        # The day the match turns `days` old falls in the period and has already passed.
        eligible = and_(Match.activated_at >= starts - mark, Match.activated_at < ends - mark,
                        Match.activated_at <= now - mark)
        lasted = or_(Match.ended_at.is_(None),
                     days_between(Match.activated_at, Match.ended_at) >= days)
        columns += [_count_if(eligible), _count_if(and_(eligible, lasted))]
        names += [f"durable_{label}_eligible", f"durable_{label}"]
    tally.add(session.execute(_people(_by_resident(*columns), wijk, target_group)), names)
    reasons = _people(_by_resident(Match.decline_reason, func.count())
                      .where(decided, Match.status == "declined")
                      .group_by(Match.decline_reason), wijk, target_group)
    tally.add_keyed(session.execute(reasons), "decline_reasons")
    endings = _people(_by_resident(Match.end_reason, func.count())
                      .where(in_period(Match.ended_at)).group_by(Match.end_reason),
                      wijk, target_group)
    tally.add_keyed(session.execute(endings), "endings")


def _check_ins(session: Session, tally: _Tally, period: Period, wijk: str | None,
               target_group: str | None) -> None:
    # Counted per match first: the join to residents then meets thousands of rows, not 100k.
    per_match = (select(CheckIn.match_id, func.count().label("sent"),
                        _count_if(CheckIn.answered_at.is_not(None)).label("answered"))
                 .where(CheckIn.sent_at >= period.starts, CheckIn.sent_at < period.as_of)
                 .group_by(CheckIn.match_id).subquery())
    stmt = (select(Resident.neighbourhood, Resident.target_group, func.sum(per_match.c.sent),
                   func.sum(per_match.c.answered))
            .select_from(per_match).join(Match, per_match.c.match_id == Match.id)
            .join(Resident, Match.resident_id == Resident.id)
            .group_by(Resident.neighbourhood, Resident.target_group))
    tally.add(session.execute(_people(stmt, wijk, target_group)),
              ["check_ins_sent", "check_ins_answered"])


def at_risk_condition(as_of: datetime) -> Select[Any]:
    """Ids of matches active at `as_of` whose latest check-ins give reason to call.

    Only the weekly check-ins of the last four weeks count: "in a row" means recent weeks,
    and a match whose check-ins stopped long ago is not judged on its old answers.
    """
    recent = (select(CheckIn.match_id, CheckIn.answered_at, CheckIn.met, CheckIn.rating,
                     CheckIn.call_requested,
                     func.row_number().over(partition_by=CheckIn.match_id,
                                            order_by=(CheckIn.sent_at.desc(),
                                                      CheckIn.week.desc())).label("rn"))
              .join(Match, CheckIn.match_id == Match.id)
              .where(_active_at(as_of), CheckIn.sent_at < as_of,
                     CheckIn.sent_at >= as_of - RECENT_CHECK_INS)
              .subquery())
    last = recent.c.rn == 1
    return (select(recent.c.match_id)
            .where(recent.c.rn <= 3)
            .group_by(recent.c.match_id)
            .having(or_(
                func.sum(case((and_(recent.c.rn <= 2, recent.c.answered_at.is_(None)), 1),
                              else_=0)) == 2,
                func.sum(case((recent.c.met.in_(NOT_MET), 1), else_=0)) == 3,
                func.max(case((and_(last, recent.c.rating <= 2), 1), else_=0)) == 1,
                func.max(case((and_(last, recent.c.call_requested), 1), else_=0)) == 1,
            )))


def _at_risk(session: Session, tally: _Tally, period: Period, wijk: str | None,
             target_group: str | None) -> None:
    stmt = _by_resident(func.count()).where(Match.id.in_(at_risk_condition(period.as_of)))
    tally.add(session.execute(_people(stmt, wijk, target_group)), ["at_risk"])


def _loneliness(session: Session, tally: _Tally, period: Period, wijk: str | None,
                target_group: str | None) -> None:
    stmt = (select(Resident.neighbourhood, Resident.target_group, func.count(),
                   func.sum(Resident.loneliness_score))
            .where(Resident.created_at >= period.starts, Resident.created_at < period.ends,
                   Resident.loneliness_score.is_not(None))
            .group_by(Resident.neighbourhood, Resident.target_group))
    tally.add(session.execute(_people(stmt, wijk, target_group)),
              ["loneliness_measured", "loneliness_sum"])


def _percentile(days: list[int], q: float) -> float | None:
    if len(days) < MIN_GROUP:
        return None
    return round(float(np.percentile(np.asarray(days), q)), 1)


def _present(sums: Counter[str], waits: list[int], *, volunteers: bool) -> dict[str, Any]:
    """One group's indicators as they may be shown."""
    out: dict[str, Any] = {}
    if volunteers:
        for name in ("volunteers_registered", "volunteers_active", "volunteers_new",
                     "volunteers_returning"):
            out[name] = suppress(sums[name])
    out["residents_waiting"] = suppress(sums["residents_waiting"])
    out["waiting_days_median"] = _percentile(waits, 50)
    out["waiting_days_p90"] = _percentile(waits, 90)
    decided = sums["accepted"] + sums["declined"]
    out.update(
        proposals=suppress(sums["proposals"]), decided=suppress(decided),
        accepted=suppress(sums["accepted"]), declined=suppress(sums["declined"]),
        acceptance_rate=share(sums["accepted"], decided),
        decline_reasons=_keyed(sums, "decline_reasons", free_text=True),
        active_matches=suppress(sums["active_matches"]),
    )
    for label in DURABLE_DAYS:
        eligible, durable = sums[f"durable_{label}_eligible"], sums[f"durable_{label}"]
        out[f"durable_{label}_eligible"] = suppress(eligible)
        out[f"durable_{label}"] = suppress(durable)
        out[f"durable_{label}_share"] = share(durable, eligible)
    out.update(
        check_ins_sent=suppress(sums["check_ins_sent"]),
        check_ins_answered=suppress(sums["check_ins_answered"]),
        check_in_response_rate=share(sums["check_ins_answered"], sums["check_ins_sent"]),
        at_risk=suppress(sums["at_risk"]),
        endings_total=suppress(sums["endings_total"]),
        endings=_keyed(sums, "endings"),
        loneliness_measured=suppress(sums["loneliness_measured"]),
        loneliness_intake_mean=share(sums["loneliness_sum"], sums["loneliness_measured"]),
        loneliness_change="no_measurements",
    )
    return out


def _keyed(sums: Counter[str], prefix: str, *, free_text: bool = False) -> dict[str, int | None]:
    head = prefix + ":"
    found = {name[len(head):]: count for name, count in sums.items() if name.startswith(head)}
    if free_text:
        # Staff type these: a text is shown only when at least 5 decisions share it, so a
        # one-off remark (which may name someone) never leaves; the rest count as "other".
        rare = [text for text, count in found.items() if count < MIN_GROUP]
        rest = sum(found.pop(text) for text in rare)
        if rest:
            found[OTHER] = rest
    # Largest first; the hidden ones alphabetically, so their order tells nothing either.
    order = sorted(found, key=lambda key: (-(suppress(found[key]) or 0), key))
    return {key: suppress(found[key]) for key in order}


def indicators(session: Session, period: Period, *, wijk: str | None = None,
               target_group: str | None = None) -> dict[str, Any]:
    """The agreed indicators for a period: overall, per wijk and per target group."""
    tally = _Tally()
    with_volunteers = target_group is None
    if with_volunteers:
        _volunteers(session, tally, period, wijk)
    _waiting(session, tally, period, wijk, target_group)
    _matches(session, tally, period, wijk, target_group)
    _check_ins(session, tally, period, wijk, target_group)
    _at_risk(session, tally, period, wijk, target_group)
    _loneliness(session, tally, period, wijk, target_group)
    runs = session.scalar(select(func.count()).select_from(MatchRun).where(
        MatchRun.status == "done", MatchRun.started_at >= period.starts,
        MatchRun.started_at < period.ends))
    groups = set(tally.sums) | set(tally.waits) | {OVERALL}
    present = {key: _present(tally.sums[key], tally.waits[key],
                             volunteers=with_volunteers and key[0] != "target_group")
               for key in groups}
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(),
                   "as_of": period.as_of.isoformat()},
        "filters": {"wijk": wijk, "target_group": target_group},
        "min_group": MIN_GROUP,
        "runs": int(runs or 0),
        "overall": present[OVERALL],
        "by_wijk": {name: present[(kind, name)] for kind, name in sorted(groups)
                    if kind == "wijk"},
        "by_target_group": {name: present[(kind, name)] for kind, name in sorted(groups)
                            if kind == "target_group"},
    }


def neighbourhoods(session: Session) -> list[str]:
    """Every wijk a resident or volunteer lives in, for the filter."""
    names = select(Resident.neighbourhood).union(select(Volunteer.neighbourhood)).subquery()
    return sorted(n for n in session.scalars(select(names.c[0])) if n)


def table_csv(rows: Sequence[Sequence[Any]]) -> str:
    """Rows as ';'-separated CSV with a BOM for Excel; no cell can start a formula."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(_text(cell)) for cell in row])
    return "\ufeff" + out.getvalue()


def table_xlsx(rows: Sequence[Sequence[Any]], title: str) -> bytes:
    """Rows as a one-sheet workbook; text cells that look like formulas are neutralised."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for row in rows:
        sheet.append([cell if isinstance(cell, int | float) and not isinstance(cell, bool)
                      else neutralise(_text(cell)) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)
