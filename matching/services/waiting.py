"""The waiting list: who waits longest, and why the latest solver run found nobody for them."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.store import Match, MatchRun, Resident

from .reports import MIN_GROUP, UNKNOWN, suppress
from .scope import HOST, Scope

# The engine's reasons for leaving a resident unmatched, in its funnel order.
REASONS = (
    "no_volunteers", "location_unknown", "no_volunteer_in_reach", "no_shared_language",
    "no_shared_time", "preferences_conflict", "excluded", "below_min_score",
    "all_reachable_volunteers_full",
)
NOT_IN_RUN = "not_in_run"


@dataclass(frozen=True)
class Waiting:
    """One waiting resident; the name only for staff who may see it."""

    resident_id: str
    name: str | None
    wijk: str
    target_group: str
    waiting_since: date | None
    days: int | None
    reason: str


def reasons_by_resident(unmatched: dict[str, Any]) -> dict[str, str]:
    """A run's stored unmatched residents as {resident id: reason code}.

    Accepts {id: code}, {id: {"reason": code, ...}} and the engine's list of
    {"resident": id, "reason": code} under any key.
    """
    found: dict[str, str] = {}
    for key, value in unmatched.items():
        if isinstance(value, str):
            found[key] = value
        elif isinstance(value, dict) and isinstance(value.get("reason"), str):
            found[key] = value["reason"]
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and "resident" in item and "reason" in item:
                    found[str(item["resident"])] = str(item["reason"])
    return found


def latest_reasons(session: Session) -> dict[str, str]:
    """The reasons of the latest finished run."""
    run = session.scalars(select(MatchRun).where(MatchRun.status == "done")
                          .order_by(MatchRun.started_at.desc()).limit(1)).first()
    return reasons_by_resident(run.unmatched or {}) if run is not None else {}


def recent_reasons(session: Session, runs: int = 20) -> dict[str, str]:
    """Per resident, the reason of the most recent of the last `runs` finished runs that considered
    them, if it left them without a proposal (a run of one wijk or group sees only some)."""
    found: dict[str, str] = {}
    seen: set[str] = set()
    for run in session.scalars(select(MatchRun).where(MatchRun.status == "done")
                               .order_by(MatchRun.started_at.desc()).limit(runs)):
        for resident_id, reason in reasons_by_resident(run.unmatched or {}).items():
            if resident_id not in seen:
                found[resident_id] = reason
                seen.add(resident_id)
        seen.update(session.scalars(select(Match.resident_id).where(Match.run_id == run.id)))
    return found


def waiting_list(session: Session, today: date, *, wijk: str | None = None,
                 target_group: str | None = None, with_names: bool = False,
                 scope: Scope = HOST) -> list[Waiting]:
    """The scope's waiting residents, longest waiting first, with the reason nobody fits yet."""
    stmt = select(Resident.id, Resident.first_name, Resident.last_name, Resident.neighbourhood,
                  Resident.target_group, Resident.waiting_since).where(Resident.status == "waiting",
                                                                       scope.residents())
    if wijk is not None:
        stmt = stmt.where(Resident.neighbourhood == wijk)
    if target_group is not None:
        stmt = stmt.where(Resident.target_group == target_group)
    stmt = stmt.order_by(Resident.waiting_since.asc().nulls_last(), Resident.id)
    reasons = latest_reasons(session)
    return [
        Waiting(
            resident_id=row.id,
            name=f"{row.first_name} {row.last_name}".strip() if with_names else None,
            wijk=row.neighbourhood or UNKNOWN, target_group=row.target_group,
            waiting_since=row.waiting_since,
            days=(today - row.waiting_since).days if row.waiting_since else None,
            reason=reasons.get(row.id, NOT_IN_RUN),
        )
        for row in session.execute(stmt)
    ]


def waiting_summary(session: Session, today: date, *, wijk: str | None = None,
                    target_group: str | None = None) -> dict[str, Any]:
    """Aggregates only: waiting residents per wijk and per reason, small groups hidden."""
    people = waiting_list(session, today, wijk=wijk, target_group=target_group)
    per_wijk = Counter(p.wijk for p in people)
    per_reason = Counter(p.reason for p in people)
    cells = Counter((p.wijk, p.reason) for p in people)
    codes = [c for c in (*REASONS, NOT_IN_RUN) if per_reason[c]]
    codes += sorted(set(per_reason) - set(codes))  # codes a newer engine may add
    return {
        "total": suppress(len(people)),
        "reasons": codes,
        "by_wijk": {name: suppress(count) for name, count in sorted(per_wijk.items())},
        "by_reason": {code: suppress(per_reason[code]) for code in codes},
        "by_wijk_and_reason": {
            name: {code: suppress(cells[name, code]) for code in codes}
            for name in sorted(per_wijk)
        },
        "min_group": MIN_GROUP,
    }
