"""Whose people, matches and runs a caller may read and act on: the one place that knows.

The callers are the host (the VCU's own staff: everything), and a partner organisation, through
its API token or its own coordinators alike. A partner owns:
- the volunteers it registered (`Volunteer.partner_organisation`),
- the residents it serves (`Resident.organisation`: its referrals, its intake, those routed or
  handed over to it),
- the matches with one of its own people on either side,
- the runs it started (`MatchRun.organisation`).
A partner's run pools its own waiting residents with the host's volunteers and its own; an
organisation that agreed to share (`Organisation.shares_pool`) may also propose the volunteers
of every other sharing organisation. It withdraws only its own residents' open proposals.
Whatever lies outside a scope is NotFound, so its existence is not revealed either.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from matching.errors import NotFound
from matching.store import Match, MatchRun, Organisation, Resident, Volunteer


@dataclass(frozen=True)
class Scope:
    """`organisation` None is the host; otherwise the partner organisation's name."""

    organisation: str | None = None
    # Other organisations whose volunteers this one's runs may propose (both agreed to share).
    partners: frozenset[str] = frozenset()

    @property
    def is_host(self) -> bool:
        return self.organisation is None

    def volunteers(self) -> ColumnElement[bool]:
        """Volunteers this caller owns."""
        if self.is_host:
            return true()
        return Volunteer.partner_organisation == self.organisation

    def residents(self) -> ColumnElement[bool]:
        """Residents this caller owns."""
        if self.is_host:
            return true()
        return Resident.organisation == self.organisation

    def pool_volunteers(self) -> ColumnElement[bool]:
        """Volunteers a run started by this caller may propose: the host's and its own."""
        if self.is_host:
            return true()
        return or_(Volunteer.partner_organisation.is_(None),
                   Volunteer.partner_organisation.in_([self.organisation, *sorted(self.partners)]))

    def matches(self) -> ColumnElement[bool]:
        """Matches with one of the caller's own people on either side."""
        if self.is_host:
            return true()
        return or_(
            Match.volunteer_id.in_(select(Volunteer.id).where(self.volunteers())),
            Match.resident_id.in_(select(Resident.id).where(self.residents())),
        )

    def runs(self) -> ColumnElement[bool]:
        """Runs the caller started (every run, for the host)."""
        if self.is_host:
            return true()
        return MatchRun.organisation == self.organisation

    def owns_volunteer(self, volunteer: Volunteer) -> bool:
        return self.is_host or volunteer.partner_organisation == self.organisation

    def owns_resident(self, resident: Resident) -> bool:
        return self.is_host or resident.organisation == self.organisation

    def in_pool(self, volunteer_organisation: str | None) -> bool:
        return (self.is_host or volunteer_organisation in (None, self.organisation)
                or volunteer_organisation in self.partners)

    def owns_match(self, match: Match) -> bool:
        return self.owns_volunteer(match.volunteer) or self.owns_resident(match.resident)

    def match(self, session: Session, match_id: str) -> Match:
        """The match if it lies in this scope, else NotFound."""
        match = session.get(Match, match_id)
        if match is None or not self.owns_match(match):
            raise NotFound("match not found", field="match_id")
        return match

    def run(self, session: Session, run_id: str) -> MatchRun:
        """The run if this caller may see it, else NotFound."""
        run = session.get(MatchRun, run_id)
        if run is None or not (self.is_host or run.organisation == self.organisation):
            raise NotFound("match_run")
        return run

    def visible_alternatives(self, alternatives: list[dict[str, Any]],
                             organisations: dict[str, str | None]) -> list[dict[str, Any]]:
        """Runner-up volunteers this caller may hear of: those its runs could propose."""
        return [a for a in alternatives if self.in_pool(organisations.get(a.get("volunteer", "")))]


HOST = Scope()


def of(session: Session, organisation: str | None) -> Scope:
    """The scope of an organisation (None: the host), with the partners it shares its pool with."""
    if organisation is None:
        return HOST
    sharing = set(session.scalars(select(Organisation.name).where(Organisation.shares_pool.is_(True))))
    partners = frozenset(sharing - {organisation}) if organisation in sharing else frozenset()
    return Scope(organisation, partners)

