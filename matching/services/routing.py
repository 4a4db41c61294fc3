"""Which organisation serves a resident: the routing rules an admin sets, and hand-overs.

A referral to the network (the public form, an import) goes to the organisation of the first
rule (lowest position) whose conditions all fit; none fits: it stays in the shared pool
(organisation None), which the host's coordinators serve. A hand-over moves a resident between
organisations (or to the pool) and keeps the waiting date and the history; both are audited.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.store import OPEN_MATCH_STATUSES, TARGET_GROUPS, Match, Organisation, Resident, RoutingRule

from .audit import record

NAME_LENGTH = 60


def destination(session: Session, resident: Resident) -> str | None:
    """The organisation the first fitting rule names, or None (the shared pool)."""
    for rule in session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.created_at)):
        if rule.target_group is not None and rule.target_group != resident.target_group:
            continue
        if rule.neighbourhood is not None and rule.neighbourhood != resident.neighbourhood:
            continue
        return rule.organisation
    return None


def route(session: Session, resident: Resident, *, actor: str | None, now: datetime) -> str | None:
    """Give a new referral to the organisation its rules name (audited); returns that name."""
    target = destination(session, resident)
    if target is not None:
        resident.organisation = target
        session.flush()
        record(session, actor=actor, action="resident.routed", subject=("resident", resident.id),
               fields=["organisation"], now=now)
    return target


def hand_over(session: Session, resident_id: str, organisation: str | None, *, actor: str | None,
              now: datetime) -> Resident:
    """Move a resident to another organisation (None: the shared pool). Not while a match is open:
    the proposal or match belongs to whoever made it. The waiting date and history stay."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise NotFound("resident")
    if organisation is not None and session.get(Organisation, organisation) is None:
        raise ValidationFailed({"organisation": "invalid_choice"})
    if organisation == resident.organisation:
        return resident
    open_match = session.scalar(select(Match.id).where(
        Match.resident_id == resident_id, Match.status.in_(OPEN_MATCH_STATUSES)).limit(1))
    if open_match is not None:
        raise Conflict("open_match")
    resident.organisation = organisation
    session.flush()
    record(session, actor=actor, action="resident.handed_over", subject=("resident", resident.id),
           fields=["organisation"], now=now)
    return resident


def shared_pool(session: Session) -> list[Resident]:
    """The residents no organisation serves yet and who wait for a buddy, longest waiting first."""
    return list(session.scalars(
        select(Resident).where(Resident.organisation.is_(None), Resident.status.in_(("referred", "waiting")),
                               Resident.anonymised_at.is_(None))
        .order_by(Resident.waiting_since.asc().nulls_last(), Resident.created_at, Resident.id)))


def take(session: Session, resident_id: str, organisation: str, *, actor: str | None, now: datetime) -> Resident:
    """A partner takes a resident from the shared pool (only from there: Conflict otherwise)."""
    resident = session.get(Resident, resident_id)
    if resident is None or resident.anonymised_at is not None:
        raise NotFound("resident")
    if resident.organisation is not None or resident.status not in ("referred", "waiting"):
        raise Conflict("not_in_shared_pool")
    return hand_over(session, resident_id, organisation, actor=actor, now=now)


def organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def add_organisation(session: Session, name: str, *, shares_pool: bool, actor: str | None,
                     now: datetime) -> Organisation:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationFailed({"name": "required"})
    if len(name) > NAME_LENGTH:
        raise ValidationFailed({"name": "too_long"})
    if session.get(Organisation, name) is not None:
        raise Conflict("organisation_exists")
    organisation = Organisation(name=name, shares_pool=shares_pool, created_at=now)
    session.add(organisation)
    session.flush()
    record(session, actor=actor, action="organisation.added", subject=("organisation", name), now=now)
    return organisation


def set_sharing(session: Session, name: str, shares_pool: bool, *, actor: str | None, now: datetime) -> Organisation:
    organisation = session.get(Organisation, name)
    if organisation is None:
        raise NotFound("organisation")
    organisation.shares_pool = shares_pool
    session.flush()
    record(session, actor=actor, action="organisation.sharing_changed", subject=("organisation", name),
           fields=["shares_pool"], now=now)
    return organisation


def add_rule(session: Session, *, organisation: str, target_group: str | None, neighbourhood: str | None,
             actor: str | None, now: datetime) -> RoutingRule:
    target_group = target_group or None
    neighbourhood = " ".join(str(neighbourhood or "").split()) or None
    errors = {}
    if session.get(Organisation, organisation) is None:
        errors["organisation"] = "invalid_choice"
    if target_group is not None and target_group not in TARGET_GROUPS:
        errors["target_group"] = "invalid_choice"
    if neighbourhood is not None and len(neighbourhood) > 80:
        errors["neighbourhood"] = "too_long"
    if target_group is None and neighbourhood is None:
        errors["target_group"] = "required"
    if errors:
        raise ValidationFailed(errors)
    last = session.scalar(select(RoutingRule.position).order_by(RoutingRule.position.desc()).limit(1))
    rule = RoutingRule(organisation=organisation, target_group=target_group, neighbourhood=neighbourhood,
                       position=(last or 0) + 1, created_at=now)
    session.add(rule)
    session.flush()
    record(session, actor=actor, action="routing_rule.added", subject=("routing_rule", rule.id), now=now)
    return rule


def remove_rule(session: Session, rule_id: str, *, actor: str | None, now: datetime) -> None:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("routing_rule")
    session.delete(rule)
    session.flush()
    record(session, actor=actor, action="routing_rule.removed", subject=("routing_rule", rule_id), now=now)


def rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.created_at)))
