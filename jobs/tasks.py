"""Job functions: thin, each opens its sessions from the configuration and calls one service."""
from __future__ import annotations

import logging
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from config import from_environment
from matching.errors import Conflict
from matching.services import (
    check_ins, decisions, durability_models, reengagement, referrals, retention, reviews,
)
from jobs import match_runs
from jobs.outbox import send_due, transport_from_config
from matching.services.profiles import local_date
from matching.store import make_engine, make_session_factory, utcnow

log = logging.getLogger("maatwerk.jobs")


@cache
def sessions(database_url: str) -> sessionmaker[Session]:
    """One engine per database for the life of the scheduler process, made on first use."""
    return make_session_factory(make_engine(database_url))


def dispatch_outbox() -> None:
    """Send the e-mails whose time has come."""
    config = from_environment()
    report = send_due(sessions(config.DATABASE_URL), transport_from_config(config), now=utcnow())
    if report.sent or report.retrying or report.failed:
        log.info("outbox.dispatch sent=%d retrying=%d failed=%d skipped=%d",
                 report.sent, report.retrying, report.failed, report.skipped)


def execute_match_runs() -> None:
    """Execute the match runs started on the run page, oldest first, stage by stage."""
    config = from_environment()
    executed = match_runs.execute_queued(sessions(config.DATABASE_URL))
    if executed:
        log.info("match_runs.execute executed=%d", executed)


def remind_proposals() -> None:
    """Remind volunteers who have not answered a proposal for three days (once each)."""
    config = from_environment()
    with sessions(config.DATABASE_URL).begin() as session:
        sent = decisions.remind_due(session, now=utcnow(), secret=config.SECRET_KEY,
                                    base_url=config.BASE_URL)
    log.info("proposals.remind sent=%d", sent)


def expire_proposals() -> None:
    """Let proposals unanswered for seven days expire; their residents wait again."""
    config = from_environment()
    with sessions(config.DATABASE_URL).begin() as session:
        expired = decisions.expire_due(session, now=utcnow())
    log.info("proposals.expire expired=%d", expired)


def send_check_ins() -> None:
    """This ISO week's check-in e-mail for every active match that has not had one."""
    config = from_environment()
    with sessions(config.DATABASE_URL)() as session, session.begin():
        report = check_ins.send_weekly(
            session, now=utcnow(), base_url=config.BASE_URL, secret=config.SECRET_KEY,
            link_days=config.CHECK_IN_LINK_DAYS,
        )
    log.info("check_ins.weekly week=%s sent=%d without_email=%d",
             report.week, report.sent, report.without_email)


def create_review_tasks() -> None:
    """Review tasks for the matches that reached a milestone (6 weeks, 3, 6, 12 months)."""
    config = from_environment()
    with sessions(config.DATABASE_URL)() as session, session.begin():
        created = reviews.create_due(session, now=utcnow())
    log.info("reviews.due created=%d", created)


def reengage_volunteers() -> None:
    """One friendly 'still available?' e-mail to volunteers inactive for six months."""
    config = from_environment()
    with sessions(config.DATABASE_URL)() as session, session.begin():
        invited = reengagement.invite_inactive(
            session, now=utcnow(), base_url=config.BASE_URL, secret=config.SECRET_KEY,
            link_days=config.REPLY_LINK_DAYS,
        )
    log.info("volunteers.reengage invited=%d", invited)


def apply_retention() -> None:
    """Anonymise the closed records whose retention period has passed."""
    config = from_environment()
    with sessions(config.DATABASE_URL)() as session, session.begin():
        report = retention.apply(session, now=utcnow(), months=config.RETENTION_MONTHS)
    log.info("retention.apply residents=%d volunteers=%d", report.residents, report.volunteers)


def refit_durability_model() -> None:
    """Learn again, monthly, what makes matches last; a fit on unchanged data stores nothing."""
    config = from_environment()
    now = utcnow()
    try:
        with sessions(config.DATABASE_URL)() as session, session.begin():
            done = durability_models.refit(session, today=local_date(now), now=now, actor=None)
            log.info("durability.refit version=%s created=%s n=%d events=%d", done.model.version,
                     done.created, done.model.n, done.model.events)
    except Conflict:
        log.info("durability.refit skipped: too little history")


def notify_referrers() -> None:
    """Tell referrers that their referral moved (received; further only with consent)."""
    config = from_environment()
    with sessions(config.DATABASE_URL)() as session, session.begin():
        sent = referrals.notify_moves(session, now=utcnow(), base_url=config.BASE_URL,
                                      secret=config.SECRET_KEY)
    log.info("referrals.notify sent=%d", sent)
