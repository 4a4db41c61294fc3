"""The weekly check-in: one e-mail per active match and ISO week, answered through a link.

Each Monday every active match gets one CheckIn row for the ISO week (Europe/Amsterdam), one
link and one e-mail to the volunteer. The (match, week) unique constraint makes a second run in
the same week, or a run after downtime, send nothing twice. An answer counts for the week of its
check-in whenever it arrives, as long as the link lives (CHECK_IN_LINK_DAYS).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from matching.errors import Conflict, InvalidLink, ValidationFailed
from matching.store import CheckIn, Link, Match, Volunteer
from matching.store.base import new_id
from matching.store.bulk import insert_new

from . import links, mail
from .profiles import LOCAL_TIME

MET_CHOICES = ("yes", "no", "not_planned")
RATINGS = range(1, 6)
COMMENT_MAX = 2000
CHUNK = 1000
PURPOSE = "check_in"


@dataclass(frozen=True)
class SendReport:
    week: str
    sent: int
    without_email: int


@dataclass(frozen=True)
class Answers:
    met: str
    rating: int | None
    call_requested: bool
    comment: str | None

    @property
    def choice(self) -> str:
        """What the link records: equal answers compare equal, the comment aside."""
        return f"met={self.met};rating={self.rating};call={int(self.call_requested)}"


def iso_week(now: datetime) -> str:
    """The ISO week in Utrecht at this moment, e.g. "2026-W48"."""
    year, week, _day = now.astimezone(LOCAL_TIME).isocalendar()
    return f"{year}-W{week:02d}"


def week_before(week: str, weeks: int = 1) -> str:
    """The ISO week `weeks` before `week`."""
    year, number = week.split("-W")
    monday = datetime.fromisocalendar(int(year), int(number), 1)
    earlier = (monday - timedelta(weeks=weeks)).isocalendar()
    return f"{earlier[0]}-W{earlier[1]:02d}"


def _locale(languages: list[str] | None) -> str:
    return "nl" if not languages or "nl" in languages else "en"


def send_weekly(
    session: Session, *, now: datetime, base_url: str, secret: str, link_days: int = 21,
    chunk: int = CHUNK,
) -> SendReport:
    """Create this week's check-in, link and e-mail for every active match that has none yet."""
    week = iso_week(now)
    ttl = timedelta(days=link_days)
    valid_until = (now + ttl).astimezone(LOCAL_TIME).date().isoformat()
    pending = (
        select(Match.id.label("match_id"), Volunteer.id.label("volunteer_id"),
               Volunteer.first_name, Volunteer.last_name, Volunteer.email, Volunteer.languages)
        .join(Volunteer, Volunteer.id == Match.volunteer_id)
        .outerjoin(CheckIn, and_(CheckIn.match_id == Match.id, CheckIn.week == week))
        .where(Match.status == "active", Match.activated_at <= now, CheckIn.id.is_(None))
        .order_by(Match.id)
    )
    rows = session.execute(pending).all()
    reachable = [row for row in rows if row.email]
    sent = 0
    for start in range(0, len(reachable), chunk):
        sent += _send_chunk(session, reachable[start:start + chunk], week=week, now=now, ttl=ttl,
                            valid_until=valid_until, base_url=base_url, secret=secret)
    return SendReport(week=week, sent=sent, without_email=len(rows) - len(reachable))


def _send_chunk(
    session: Session, rows: list[Any], *, week: str, now: datetime, ttl: timedelta,
    valid_until: str, base_url: str, secret: str,
) -> int:
    table = CheckIn.__table__
    ids = {row.match_id: new_id() for row in rows}
    created = set(insert_new(
        session, table,
        [{"id": ids[row.match_id], "match_id": row.match_id, "week": week, "sent_at": now,
          "call_requested": False} for row in rows],
        unique=["match_id", "week"], returning=table.c.match_id,
    ))
    # A concurrent run may have taken some (match, week) keys: only ours get a link and a mail.
    rows = [row for row in rows if row.match_id in created]
    tokens = links.issue_many(
        session, purpose=PURPOSE,
        pairs=[(("check_in", ids[row.match_id]), ("volunteer", row.volunteer_id))
               for row in rows],
        now=now, ttl=ttl, secret=secret,
    )
    week_number = int(week.split("-W")[1])
    drafts = [
        mail.Draft(
            dedupe_key=f"check_in:{row.match_id}:{week}", template="check_in",
            to=(f"{row.first_name} {row.last_name}".strip(), row.email),
            context={"name": row.first_name, "link": f"{base_url.rstrip('/')}/check-in/{token}",
                     "week_number": week_number, "valid_until": valid_until},
            locale=_locale(row.languages), subject_kind="match", subject_id=row.match_id,
        )
        for row, token in zip(rows, tokens, strict=True)
    ]
    mail.enqueue_many(session, drafts, now=now)
    return len(rows)


def parse(form: Mapping[str, Any]) -> Answers:
    """The answers from a form, or ValidationFailed with a key per bad field."""
    errors: dict[str, str] = {}
    met = str(form.get("met") or "")
    if met not in MET_CHOICES:
        errors["met"] = "invalid_choice"
    # The rating is optional: a volunteer who only says whether they met has answered.
    raw_rating = str(form.get("rating") or "").strip()
    rating: int | None = None
    if raw_rating:
        rating = int(raw_rating) if raw_rating.isdigit() and len(raw_rating) == 1 else 0
        if rating not in RATINGS:
            errors["rating"] = "invalid_choice"
    call = str(form.get("call") or "no")
    if call not in ("yes", "no"):
        errors["call"] = "invalid_choice"
    comment = str(form.get("comment") or "").strip() or None
    if comment is not None and len(comment) > COMMENT_MAX:
        errors["comment"] = "too_long"
    if errors:
        raise ValidationFailed(errors)
    return Answers(met=met, rating=rating, call_requested=call == "yes", comment=comment)


def open_link(session: Session, token: str, *, now: datetime, secret: str) -> tuple[Link, CheckIn]:
    """The link and its check-in, for showing the question page (changes nothing)."""
    link = links.read(session, token, purpose=PURPOSE, now=now, secret=secret)
    check_in = session.get(CheckIn, link.subject_id)
    if check_in is None or link.subject_kind != "check_in":
        raise InvalidLink("unknown")
    return link, check_in


def answer(
    session: Session, link: Link, answers: Answers, *, now: datetime
) -> tuple[links.Outcome, CheckIn]:
    """Record the answers once; the same answers again are harmless, different ones never win."""
    check_in = session.get(CheckIn, link.subject_id)
    if check_in is None:
        raise InvalidLink("unknown")
    match = session.get(Match, check_in.match_id)
    if match is None or match.volunteer_id != link.person_id:
        raise Conflict("link does not belong to this match")
    outcome = links.use(session, link, answers.choice, now)
    if outcome.recorded:
        check_in.met, check_in.rating = answers.met, answers.rating
        check_in.call_requested, check_in.comment = answers.call_requested, answers.comment
        check_in.answered_at = now
        session.execute(
            update(Volunteer.__table__).where(Volunteer.id == link.person_id)
            .values(last_active_at=now)
        )
        session.flush()
    return outcome, check_in


def renew(
    session: Session, link_id: str, *, now: datetime, base_url: str, secret: str,
    link_days: int = 21,
) -> bool:
    """Mail a fresh link for an expired, unanswered check-in; at most one a day. Sent or not."""
    old = session.get(Link, link_id)
    if old is None or old.purpose != PURPOSE:
        raise InvalidLink("unknown")
    check_in = session.get(CheckIn, old.subject_id)
    volunteer = session.get(Volunteer, old.person_id)
    if check_in is None or volunteer is None or old.used_at or check_in.answered_at:
        return False
    day = now.astimezone(LOCAL_TIME).date().isoformat()
    return _mail_link(session, check_in, volunteer, now=now, base_url=base_url, secret=secret,
                      link_days=link_days,
                      dedupe_key=f"check_in:{check_in.match_id}:{check_in.week}:renewed:{day}")


def mail_open(session: Session, *, now: datetime, base_url: str, secret: str,
              link_days: int = 21) -> bool:
    """Mail a link for one unanswered check-in of this week (the demo's first check-in mail)."""
    row = session.execute(
        select(CheckIn, Volunteer).join(Match, Match.id == CheckIn.match_id)
        .join(Volunteer, Volunteer.id == Match.volunteer_id)
        .where(CheckIn.week == iso_week(now), CheckIn.answered_at.is_(None),
               Match.status == "active", Volunteer.email.is_not(None))
        .order_by(CheckIn.id).limit(1)
    ).first()
    if row is None:
        return False
    check_in, volunteer = row
    return _mail_link(session, check_in, volunteer, now=now, base_url=base_url, secret=secret,
                      link_days=link_days, dedupe_key=f"check_in:{check_in.match_id}:{check_in.week}")


def _mail_link(session: Session, check_in: CheckIn, volunteer: Volunteer, *, now: datetime,
               base_url: str, secret: str, link_days: int, dedupe_key: str) -> bool:
    if not volunteer.email:
        return False
    ttl = timedelta(days=link_days)
    token = links.issue(session, purpose=PURPOSE, subject=("check_in", check_in.id),
                        person=("volunteer", volunteer.id), now=now, ttl=ttl, secret=secret)
    queued = mail.enqueue(
        session, dedupe_key=dedupe_key,
        to=(volunteer.full_name, volunteer.email), template="check_in",
        context={"name": volunteer.first_name, "link": f"{base_url.rstrip('/')}/check-in/{token}",
                 "week_number": int(check_in.week.split("-W")[1]),
                 "valid_until": (now + ttl).astimezone(LOCAL_TIME).date().isoformat()},
        locale=_locale(volunteer.languages), subject_kind="match", subject_id=check_in.match_id,
        now=now,
    )
    return queued is not None
