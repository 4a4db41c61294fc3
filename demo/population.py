"""A deterministic demo population of Utrecht: volunteers, residents and 18 months of matches."""
from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.lasting import OPEN_ENDED_MONTHS
from matching.services import check_ins, proposals, taxonomy
from matching.store import (
    COMMITMENTS,
    END_REASONS,
    CheckIn,
    GroupActivity,
    Exclusion,
    Match,
    MatchRun,
    PostcodeArea,
    Resident,
    Volunteer,
)
from matching.store.base import new_id

from .catalogue import (
    CHECK_IN_COMMENTS,
    GROUP_ACTIVITIES,
    WIJK_CENTRES,
    CLOSED_REASONS,
    DECLINE_REASONS,
    END_NOTES,
    ON_HOLD_NOTES,
)
from .people import (
    HISTORY_DAYS,
    Area,
    Terms,
    consent_rows,
    invent_resident,
    invent_volunteer,
    km,
    moment,
    read_utrecht_areas,
)

VOLUNTEERS = 320
RESIDENTS = 270
# Residents who had a match that ended before their current state; the closed ones whose match
# ended before they closed. Enough endings for a first durability model (matching.learning).
EARLIER_MATCH_SHARE = 0.45
CLOSED_AFTER_MATCH = 0.8
CHUNK = 2000


@dataclass
class _World:
    """Everything the history simulation reads and writes."""

    rng: random.Random
    today: date
    now: datetime
    volunteers: list[Volunteer]
    runs: list[MatchRun]
    matches: list[Match] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)
    pairs: set[tuple[str, str]] = field(default_factory=set)
    open_count: Counter[str] = field(default_factory=Counter)


def load(session: Session, *, seed: int, today: date, postcode_file: str | None) -> dict[str, int]:
    """Add the demo population for this seed and day; the caller commits."""
    rng = random.Random(seed)
    now = datetime.combine(today, time(12, 0), UTC)
    areas = read_utrecht_areas(postcode_file) if postcode_file else None
    stored_areas = _store_areas(session, areas) if areas else 0
    terms = Terms(taxonomy.codes(session, "interest"), taxonomy.codes(session, "activity"))
    volunteers = [invent_volunteer(rng, today, areas, terms) for _ in range(VOLUNTEERS)]
    residents = [invent_resident(rng, today, areas, terms) for _ in range(RESIDENTS)]
    _commitments(seed, volunteers, residents)
    _add(session, [*volunteers, *residents])
    world = _World(rng, today, now, volunteers, _runs(seed, now))
    for resident in residents:
        _story(world, resident)
    for volunteer in volunteers:
        volunteer.open_matches = world.open_count[volunteer.id]
    _finish_runs(world)
    consents = consent_rows(rng, now, volunteers, residents)
    _add(session, world.runs)
    _add(session, world.matches)
    _add(session, [*world.check_ins, *world.exclusions, *consents])
    activities = _group_activities(seed, now)
    _add(session, activities)
    statuses = Counter(match.status for match in world.matches)
    return {
        "volunteers": len(volunteers), "residents": len(residents),
        "matches": len(world.matches), "match_runs": len(world.runs),
        "check_ins": len(world.check_ins), "exclusions": len(world.exclusions),
        "consents": len(consents), "postcode_areas": stored_areas, "group_activities": len(activities),
        **{f"matches_{status}": count for status, count in sorted(statuses.items())},
    }


def _commitments(seed: int, volunteers: list[Volunteer], residents: list[Resident]) -> None:
    """How long each means to keep a match going; one resident in ten was never asked."""
    pick = random.Random(f"commitment-{seed}")
    for volunteer in volunteers:
        volunteer.commitment_months = pick.choices(COMMITMENTS, [10, 25, 35, 15, 15])[0]
    for resident in residents:
        if pick.random() >= 0.1:
            resident.commitment_months = pick.choices(COMMITMENTS, [5, 20, 35, 15, 25])[0]


def _months(commitment: str | None) -> float:
    return 12.0 if commitment is None else OPEN_ENDED_MONTHS if commitment == "open" else float(commitment)


def _lasting_days(rng: random.Random, volunteer: Volunteer, resident: Resident) -> int:
    """How long an ended demo match ran: an exponential time that is shorter the farther apart
    they live and longer with shared interests, a longer intended commitment and agreeing on it,
    so that the demo's history has something to learn (`Wat houdt koppelingen vast?`)."""
    distance = km(resident.lat or 0, resident.lon or 0, volunteer.lat or 0, volunteer.lon or 0)
    shared = len(set(volunteer.interests) & set(resident.interests))
    agree = volunteer.commitment_months is not None and volunteer.commitment_months == resident.commitment_months
    months = min(_months(volunteer.commitment_months), _months(resident.commitment_months))
    rate = math.exp(0.6 * distance - 0.4 * shared - 0.9 * agree - 0.03 * months) / 220.0
    return max(14, min(500, round(rng.expovariate(rate))))


def _group_activities(seed: int, now: datetime) -> list[GroupActivity]:
    """The network's activities, placed near the centre of their wijk."""
    pick = random.Random(f"activities-{seed}")
    out = []
    for name, organiser, wijk, slots, interests, groups, cost, wheelchair in GROUP_ACTIVITIES:
        lat, lon = WIJK_CENTRES[wijk]
        out.append(GroupActivity(
            id=new_id(), name=name, organiser=organiser, neighbourhood=wijk, postcode=None,
            address=f"Buurtcentrum {wijk}", lat=round(lat + pick.uniform(-0.006, 0.006), 6),
            lon=round(lon + pick.uniform(-0.009, 0.009), 6), availability=list(slots),
            interests=list(interests), target_groups=list(groups), cost=cost, wheelchair=wheelchair,
            contact="030 123 45 67", created_at=now, updated_at=now,
        ))
    return out


def _add(session: Session, objects: Sequence[Any]) -> None:
    for start in range(0, len(objects), CHUNK):
        session.add_all(objects[start:start + CHUNK])
        session.flush()


def _store_areas(session: Session, areas: list[Area]) -> int:
    """Add the areas whose postcode the table does not know yet."""
    known = set(session.scalars(select(PostcodeArea.postcode).distinct()))
    rows = [PostcodeArea(postcode=a.postcode, place=a.place, lat=a.lat, lon=a.lon)
            for a in areas if a.postcode not in known]
    _add(session, rows)
    return len(rows)


def _runs(seed: int, now: datetime) -> list[MatchRun]:
    """A solver run every other Monday morning over the last 18 months."""
    start = (now - timedelta(days=HISTORY_DAYS)).date()
    day = start + timedelta(days=-start.weekday() % 7)
    runs = []
    while (at := datetime.combine(day, time(7, 0), UTC)) < now:
        digest = hashlib.sha256(f"demo:{seed}:{day.isoformat()}".encode()).hexdigest()
        runs.append(MatchRun(
            id=new_id(), started_at=at, finished_at=at + timedelta(seconds=42),
            scope={"residents": "waiting"}, settings={"max_distance_km": 10.0},
            input_hash=digest, status="done", progress=100,
        ))
        day += timedelta(days=14)
    return runs


def _finish_runs(world: _World) -> None:
    proposals = Counter(match.run_id for match in world.matches)
    for run in world.runs:
        run.stats = {"proposals": proposals[run.id]}


def _run_after(world: _World, earliest: datetime, latest: datetime) -> MatchRun | None:
    for run in world.runs:
        if earliest <= run.started_at <= latest:
            return run
    return None


def _story(world: _World, resident: Resident) -> None:
    """Give one resident a referral date, earlier attempts and a current state."""
    rng, today = world.rng, world.today
    goal = rng.choices(["referred", "waiting", "on_hold", "proposed", "matched", "closed"],
                       [7, 22, 5, 8, 40, 18])[0]
    back = {"referred": (1, 21), "waiting": (10, 420), "on_hold": (30, 300), "proposed": (30, 300),
            "matched": (60, 540), "closed": (120, 540)}[goal]
    referred = today - timedelta(days=rng.randint(*back))
    resident.created_at = resident.updated_at = moment(referred, rng)
    resident.waiting_since = referred
    resident.status = "referred" if goal == "referred" else "waiting"
    resident.last_active_at = resident.created_at
    first = len(world.matches)
    if goal == "referred":
        return
    cursor = resident.created_at + timedelta(days=rng.randint(7, 21))  # intake done
    if goal in ("waiting", "on_hold", "proposed", "matched") and rng.random() < 0.3:
        cursor = _failed_proposal(world, resident, cursor) or cursor
    if goal in ("waiting", "proposed", "matched") and rng.random() < EARLIER_MATCH_SHARE:
        ended = _ended_match(world, resident, cursor, closing=False)
        if ended:
            cursor = ended + timedelta(days=1)
            resident.waiting_since = cursor.date()
    if resident.status == "matched":  # that earlier match is still running
        goal = "matched"
    elif goal == "matched":
        _active_match(world, resident, cursor)
    elif goal == "proposed":
        _open_proposal(world, resident, cursor)
    elif goal == "on_hold":
        resident.status = "on_hold"
        resident.notes = rng.choice(ON_HOLD_NOTES)
    elif goal == "closed":
        ended = _ended_match(world, resident, cursor, closing=True) if rng.random() < CLOSED_AFTER_MATCH else None
        if resident.status != "matched":  # a match that outlived the plan to close runs on
            if ended:
                closed = ended + timedelta(days=rng.randint(1, 10))
            else:
                closed = cursor + timedelta(days=rng.randint(20, 150))
                resident.closed_reason = rng.choice(CLOSED_REASONS)
            resident.status = "closed"
            resident.closed_at = min(closed, world.now - timedelta(hours=1))
    if resident.status == "closed" and not resident.closed_reason:
        resident.closed_reason = rng.choice(CLOSED_REASONS)
    resident.last_active_at = resident.updated_at = max(
        [resident.created_at, *(m.updated_at for m in world.matches[first:])]
    )


def _fits(volunteer: Volunteer, resident: Resident, today: date) -> bool:
    """The engine's hard rules for a pair a coordinator sees now: a shared language and time,
    within the volunteer's reach, and each side's stated preferences for the other."""
    if not (set(volunteer.languages) & set(resident.languages)):
        return False
    if not (set(volunteer.availability) & set(resident.availability)):
        return False
    distance = km(resident.lat or 0, resident.lon or 0, volunteer.lat or 0, volunteer.lon or 0)
    if distance > min(volunteer.max_travel_km, resident.max_travel_km or math.inf):
        return False
    for chooser, other in ((volunteer, resident), (resident, volunteer)):
        if chooser.prefers_gender and chooser.prefers_gender != other.gender:
            return False
        age = today.year - other.birth_year if other.birth_year else None
        # As in the engine: an unknown age does not meet an age preference.
        for bound, too_far in ((chooser.prefers_min_age, lambda a, b: a < b),
                               (chooser.prefers_max_age, lambda a, b: a > b)):
            if bound is not None and (age is None or too_far(age, bound)):
                return False
    return True


def _candidate(
    world: _World, resident: Resident, at: datetime, *, open_: bool
) -> Volunteer | None:
    """A plausible volunteer for this resident at this moment: near, shared language, free."""
    rng = world.rng
    best: tuple[float, Volunteer] | None = None
    for volunteer in rng.sample(world.volunteers, 60):
        if (volunteer.id, resident.id) in world.pairs or volunteer.status == "new":
            continue
        if volunteer.registered_at > at - timedelta(days=14):
            continue
        if volunteer.is_returning and volunteer.returned_at and volunteer.returned_at > at:
            continue
        if open_ and (volunteer.status != "available" or volunteer.vog_status != "valid"
                      or world.open_count[volunteer.id] >= volunteer.capacity
                      or not _fits(volunteer, resident, world.today)):
            continue
        if volunteer.status == "stopped" and (
            volunteer.stopped_at is None or volunteer.stopped_at < at + timedelta(days=60)
        ):
            continue
        distance = km(resident.lat or 0, resident.lon or 0, volunteer.lat or 0, volunteer.lon or 0)
        cost = distance + (0 if set(resident.languages) & set(volunteer.languages) else 20)
        cost += 3 * max(0.0, distance - volunteer.max_travel_km)
        if resident.prefers_gender and resident.prefers_gender != volunteer.gender:
            cost += 10
        cost -= 0.4 * len(set(resident.interests) & set(volunteer.interests))
        cost += rng.random()
        if best is None or cost < best[0]:
            best = (cost, volunteer)
    return best[1] if best else None


def _propose(world: _World, resident: Resident, volunteer: Volunteer, run: MatchRun) -> Match:
    distance = km(resident.lat or 0, resident.lon or 0, volunteer.lat or 0, volunteer.lon or 0)
    shared_interests = sorted(set(resident.interests) & set(volunteer.interests))
    shared_languages = sorted(set(resident.languages) & set(volunteer.languages))
    shared_slots = sorted(set(resident.availability) & set(volunteer.availability))
    score = max(0.05, min(0.98, 0.9 - 0.05 * distance + 0.04 * len(shared_interests)
                          + 0.02 * len(shared_slots) - (0 if shared_languages else 0.4)))
    proposed = run.finished_at or run.started_at
    match = Match(
        id=new_id(), run_id=run.id, volunteer_id=volunteer.id, resident_id=resident.id,
        # The engine's scale: a 0-100 score and a cost of (100 - score) / 100.
        status="proposed", score=round(100 * score, 1), cost=round(1 - score, 3),
        distance_km=round(distance, 2), proposed_at=proposed, updated_at=proposed,
        explanation={"distance_km": round(distance, 2), "shared_languages": shared_languages,
                     "shared_interests": shared_interests, "shared_slots": shared_slots},
    )
    world.matches.append(match)
    world.pairs.add((volunteer.id, resident.id))
    return match


def _offer(world: _World, match: Match, latest: datetime) -> datetime:
    offered = match.proposed_at + timedelta(hours=world.rng.randint(20, 72))
    match.offered_at = max(match.proposed_at + timedelta(minutes=30), min(offered, latest))
    match.status, match.updated_at = "offered", match.offered_at
    return match.offered_at


def _exclude(world: _World, match: Match, reason: str, at: datetime) -> None:
    world.exclusions.append(Exclusion(
        id=new_id(), volunteer_id=match.volunteer_id, resident_id=match.resident_id,
        reason=reason, created_at=at,
    ))


def _failed_proposal(world: _World, resident: Resident, cursor: datetime) -> datetime | None:
    """A declined, expired or withdrawn proposal; returns when it was over."""
    rng = world.rng
    run = _run_after(world, cursor, world.now - timedelta(days=21))
    volunteer = _candidate(world, resident, run.started_at, open_=False) if run else None
    if run is None or volunteer is None:
        return None
    match = _propose(world, resident, volunteer, run)
    outcome = rng.choices(["declined", "expired", "withdrawn"], [60, 25, 15])[0]
    if outcome == "withdrawn":
        match.status = "withdrawn"
        match.updated_at = match.proposed_at + timedelta(hours=rng.randint(4, 96))
        return match.updated_at
    offered = _offer(world, match, world.now)
    if outcome == "declined":
        match.status = "declined"
        match.decided_at = offered + timedelta(hours=rng.randint(6, 160))
        match.decline_reason = rng.choice(DECLINE_REASONS)
        match.updated_at = match.decided_at
        _exclude(world, match, "declined", match.decided_at)
    else:
        match.status = "expired"
        match.reminded_at = offered + timedelta(days=7)
        match.updated_at = offered + timedelta(days=14)
    return match.updated_at


def _start(world: _World, match: Match, latest: datetime) -> None:
    """Offer, accept, meet and activate a proposal, all before `latest`."""
    rng = world.rng
    offered = _offer(world, match, latest)
    match.decided_at = offered + timedelta(hours=rng.randint(6, 120))
    match.intro_date = (match.decided_at + timedelta(days=rng.randint(4, 14))).date()
    match.intro_volunteer_go = match.intro_resident_go = True
    match.activated_at = datetime.combine(
        match.intro_date + timedelta(days=rng.randint(0, 2)), time(15, rng.randrange(60)), UTC
    )
    match.status = "active"
    match.updated_at = match.activated_at


def _ended_match(
    world: _World, resident: Resident, cursor: datetime, *, closing: bool, running: bool = False
) -> datetime | None:
    """A match whose length the hazard of _lasting_days decides; returns when it ended, or None
    when it was never made or is still running today (then the resident is "matched").

    running: the pair is made from the volunteers free today, late enough to still run.
    """
    rng = world.rng
    run = _run_after(world, cursor, world.now - timedelta(days=30 if running else 100))
    volunteer = _candidate(world, resident, run.started_at, open_=running) if run else None
    if run is None or volunteer is None:
        return None
    match = _propose(world, resident, volunteer, run)
    _start(world, match, world.now - timedelta(days=14) if running else world.now)
    assert match.activated_at is not None
    if closing:
        reason = rng.choices(["moved", "health", "resident_died", "goal_reached", "other"],
                             [25, 20, 20, 25, 10])[0]
    else:
        reason = rng.choices(["no_click", "volunteer_stopped", "other", "health"],
                             [40, 30, 15, 15])[0]
    ended = match.activated_at + timedelta(days=_lasting_days(rng, volunteer, resident))
    if volunteer.status == "stopped" and volunteer.stopped_at and volunteer.stopped_at < ended:
        ended, reason = volunteer.stopped_at, "volunteer_stopped"
    elif (ended > world.now - timedelta(days=2) and volunteer.status == "available"
          and volunteer.vog_status == "valid" and world.open_count[volunteer.id] < volunteer.capacity):
        # Still running today: censored as the hazard has it, not ended on an arbitrary date.
        world.open_count[volunteer.id] += 1
        resident.status = "matched"
        _check_ins(world, match, world.now)
        volunteer.last_active_at = max(volunteer.last_active_at or match.updated_at, match.updated_at)
        return None
    ended = min(ended, world.now - timedelta(days=2))
    assert reason in END_REASONS
    match.status, match.end_reason, match.end_note = "ended", reason, END_NOTES[reason]
    match.ended_at = match.updated_at = max(ended, match.activated_at + timedelta(days=7))
    _check_ins(world, match, match.ended_at)
    _exclude(world, match, f"ended: {reason}", match.ended_at)
    if closing:
        resident.closed_reason = match.end_note
    return match.ended_at


def _active_match(world: _World, resident: Resident, cursor: datetime) -> None:
    """A match running today; pairs that the hazard ends first leave the resident waiting again."""
    for _attempt in range(3):
        ended = _ended_match(world, resident, cursor, closing=False, running=True)
        if ended is None:
            return
        cursor = ended + timedelta(days=1)
        resident.waiting_since = cursor.date()


def _open_proposal(world: _World, resident: Resident, cursor: datetime) -> None:
    """A current proposal: waiting for the coordinator, offered to both, or accepted."""
    rng = world.rng
    stage = rng.choices(["proposed", "offered", "accepted"], [35, 45, 20])[0]
    run = world.runs[-1] if stage != "accepted" else world.runs[-rng.randint(2, 3)]
    if run.started_at < cursor:
        return
    volunteer = _candidate(world, resident, run.started_at, open_=True)
    if volunteer is None:
        return
    match = _propose(world, resident, volunteer, run)
    world.open_count[volunteer.id] += 1
    resident.status = "proposed"
    if stage == "proposed":
        return
    offered = _offer(world, match, world.now - timedelta(hours=1))
    if stage == "accepted":
        match.status = "accepted"
        match.decided_at = min(offered + timedelta(hours=rng.randint(6, 96)), world.now)
        match.intro_date = world.today + timedelta(days=rng.randint(1, 10))
        match.updated_at = match.decided_at


def _check_ins(world: _World, match: Match, until: datetime) -> None:
    """One weekly check-in per ISO week from the week after activation until `until`."""
    rng = world.rng
    assert match.activated_at is not None
    start = match.activated_at.date()
    monday = start + timedelta(days=7 - start.weekday())
    weeks: list[CheckIn] = []
    while (sent := datetime.combine(monday, time(8, 0), UTC)) <= min(until, world.now):
        year, week, _day = monday.isocalendar()
        check_in = CheckIn(id=new_id(), match_id=match.id, week=f"{year}-W{week:02d}", sent_at=sent)
        answered = sent + timedelta(minutes=rng.randint(30, 3 * 24 * 60))
        recent = world.now - sent < timedelta(days=7)
        if answered <= world.now and rng.random() > (0.4 if recent else 0.08):
            check_in.answered_at = answered
            met = rng.choices(["yes", "no", "not_planned"],
                              [45, 30, 25] if match.end_reason == "no_click" else [72, 12, 16])[0]
            check_in.met = met
            if met == "yes":
                check_in.rating = rng.choices([1, 2, 3, 4, 5], [1, 3, 12, 40, 44])[0]
            low = check_in.rating is not None and check_in.rating <= 2
            check_in.call_requested = rng.random() < (0.4 if low else 0.03)
            if rng.random() < 0.12:
                check_in.comment = rng.choice(CHECK_IN_COMMENTS)
        weeks.append(check_in)
        monday += timedelta(days=7)
    world.check_ins.extend(weeks)



def first_mails(session: Session, *, now: datetime, base_url: str, secret: str) -> int:
    """An offer and a check-in in the outbox, with working links, for a newcomer to open at once."""
    offered = session.scalars(
        select(Match).where(Match.status == "offered").order_by(Match.offered_at.desc())
    ).first()
    written = 0
    if offered is not None and offered.volunteer.email:
        proposals.offer_mail(session, offered, now=now, secret=secret, base_url=base_url,
                             template="proposal", dedupe=f"proposal:{offered.id}",
                             expires_at=now + proposals.OFFER_TTL)
        written += 1
    # This week's check-ins exist in the history; one of them gets its e-mail and link now.
    if check_ins.mail_open(session, now=now, base_url=base_url, secret=secret):
        written += 1
    return written
