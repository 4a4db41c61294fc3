"""What a signed-in staff member may reach: the host's staff everything; a partner organisation's
coordinators only their organisation's people, matches and runs, through the same Scope as the
organisation's API token (matching/services/scope.py)."""
from __future__ import annotations

from flask import abort, g, request
from flask_login import current_user

from matching.services import scope as scopes
from matching.services.scope import Scope
from matching.store import ExitInterview, Match, MatchRun, MilestoneReview, Resident, Volunteer

from .db import db_session


def scope() -> Scope:
    if "maatwerk_staff_scope" not in g:
        organisation = current_user.organisation if current_user.is_authenticated else None
        g.maatwerk_staff_scope = scopes.of(db_session(), organisation)
    return g.maatwerk_staff_scope


def host_only() -> None:
    """before_request of the host's own pages (outbox, imports, staff, audit log)."""
    if current_user.is_authenticated and current_user.organisation is not None:
        abort(403)


def _profiles(kind: str) -> None:
    model = Volunteer if kind == "volunteer" else Resident
    mine = scope()
    if mine.is_host:
        return
    session = db_session()
    for id in ((request.view_args or {}).get("id"), request.values.get("met")):
        profile = session.get(model, id) if id else None
        if profile is None:
            continue
        owned = mine.owns_volunteer(profile) if kind == "volunteer" else mine.owns_resident(profile)
        if not owned:
            abort(404)


def volunteers_guard() -> None:
    """before_request: a volunteer outside the scope is not found."""
    _profiles("volunteer")


def residents_guard() -> None:
    """before_request: a resident outside the scope is not found."""
    _profiles("resident")


def matches_guard() -> None:
    """before_request: a match, review, exit interview or run outside the scope is not found."""
    mine = scope()
    if mine.is_host:
        return
    session = db_session()
    args = request.view_args or {}
    match = None
    if args.get("match_id"):
        match = session.get(Match, args["match_id"])
    elif args.get("review_id"):
        review = session.get(MilestoneReview, args["review_id"])
        match = session.get(Match, review.match_id) if review else None
    elif args.get("interview_id"):
        interview = session.get(ExitInterview, args["interview_id"])
        match = session.get(Match, interview.match_id) if interview and interview.match_id else None
    if match is not None and not mine.owns_match(match):
        abort(404)
    run_id = args.get("run_id") or request.args.get("run")
    if run_id:
        run = session.get(MatchRun, run_id)
        if run is not None and run.organisation != mine.organisation:
            abort(404)
