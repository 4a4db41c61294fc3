"""Match runs and proposals for partner systems: start a run, list proposals, approve, reject.

Everything passes through the token's scope (services/scope.py): a partner reads and acts on
matches that involve its own people and on the runs it started; the rest is 404.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from matching.services import proposals, runs
from matching.store import TARGET_GROUPS, Volunteer, utcnow

from ..db import db_session
from .problems import MEDIA_TYPE
from .schemas import Problem
from ..explanations import reasons
from .tokens import actor, current_token, scope

bp = Blueprint("matching", __name__, description="Koppelrondes en voorstellen")

_DESCRIPTIONS = {
    400: "Onleesbaar verzoek", 401: "Geen of een ongeldige API-sleutel",
    403: "De sleutel mag alleen lezen", 404: "Onbekende ronde of onbekend voorstel",
    409: "Het voorstel is intussen al behandeld of gewijzigd", 422: "Ongeldige velden",
    429: "Te veel verzoeken met deze sleutel",
}


def _problems(*codes: int):  # type: ignore[no-untyped-def]
    def decorate(view):  # type: ignore[no-untyped-def]
        for code in codes:
            view = bp.alt_response(code, schema=Problem, content_type=MEDIA_TYPE,
                                   description=_DESCRIPTIONS[code])(view)
        return view

    return decorate


class _Input(Schema):
    class Meta:
        unknown = EXCLUDE


class Scope(_Input):
    neighbourhood = fields.String(validate=validate.Length(max=80))
    target_group = fields.String(validate=validate.OneOf(TARGET_GROUPS))


class Settings(_Input):
    objective = fields.String(validate=validate.OneOf(runs.OBJECTIVES), metadata={
        "description": "weights: vaste gewichten (standaard); durability: het geleerde model "
                       "(verwachte kans dat een koppeling 26 weken duurt) plus de wachttijd"})
    min_score = fields.Float(validate=validate.Range(min=0, max=100))
    weights = fields.Dict(keys=fields.String(), values=fields.Float())


class RunStart(_Input):
    scope = fields.Nested(Scope, load_default=dict)
    settings = fields.Nested(Settings, load_default=dict)


class Run(Schema):
    id = fields.String()
    status = fields.String(metadata={"enum": ["running", "done", "failed"]})
    progress = fields.Integer()
    stage = fields.String(metadata={"enum": list(runs.STAGES), "description": (
        "de stap waar een lopende ronde is: in de wachtrij, laden, paren, verdelen, uitleg, "
        "opslaan, klaar")})
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    scope = fields.Dict()
    settings = fields.Dict()
    input_hash = fields.String(allow_none=True, metadata={"description": "sha256 van de invoer"})
    stats = fields.Dict()
    unmatched = fields.Dict(metadata={"description": "deelnemer-id -> reden zonder voorstel"})
    model_id = fields.String(allow_none=True, metadata={
        "description": "het geleerde duurzaamheidsmodel dat de ronde gebruikte of erbij gaf"})


class Alternative(Schema):
    volunteer = fields.String()
    score = fields.Float(allow_none=True)
    why_not_code = fields.String()


class Proposal(Schema):
    id = fields.String()
    run_id = fields.String(allow_none=True)
    volunteer_id = fields.String()
    resident_id = fields.String()
    volunteer_organisation = fields.String(allow_none=True, metadata={
        "description": "de partner van de vrijwilliger (leeg: de VCU)"})
    resident_organisation = fields.String(allow_none=True, metadata={
        "description": "de partner die de deelnemer begeleidt (leeg: de VCU)"})
    status = fields.String()
    score = fields.Float(allow_none=True)
    distance_km = fields.Float(allow_none=True)
    durability = fields.Float(allow_none=True, metadata={
        "description": "verwachte kans dat dit paar 26 weken duurt (geleerd model); leeg zonder model"})
    shared_interests = fields.List(fields.String())
    shared_slots = fields.List(fields.Integer())
    reasons = fields.List(fields.String(), metadata={"description": "Waarom dit paar, in woorden"})
    alternatives = fields.List(fields.Nested(Alternative))
    locked = fields.Boolean()
    stale = fields.Boolean(metadata={"description": "een profiel is na de ronde gewijzigd"})
    version = fields.Integer()


class ProposalPage(Schema):
    items = fields.List(fields.Nested(Proposal))
    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()


class ProposalQuery(_Input):
    status = fields.String(load_default="proposed",
                           validate=validate.OneOf(proposals.REVIEW_STATUSES))
    run = fields.String(validate=validate.Length(equal=32))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class Approve(_Input):
    version = fields.Integer(metadata={"description": "versie zoals gelezen; anders 409"})


class Reject(Approve):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


def _alternatives(matches: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """Each match's runner-ups that the caller may hear of (scope.visible_alternatives)."""
    caller = scope()
    listed = {m.id: (m.explanation or {}).get("alternatives") or [] for m in matches}
    if caller.is_host:
        return listed
    ids = {a.get("volunteer") for alternatives in listed.values() for a in alternatives}
    organisations = dict(db_session().execute(
        select(Volunteer.id, Volunteer.partner_organisation).where(Volunteer.id.in_(ids))
    ).all()) if ids else {}
    return {id: caller.visible_alternatives(alternatives, organisations)
            for id, alternatives in listed.items()}


def _proposal(match: Any, alternatives: list[dict[str, Any]], stale: bool = False,
              labels: proposals.Labels | proposals.ReviewPage | None = None) -> dict[str, Any]:
    explanation = match.explanation or {}
    # Reasons in words (Dutch), as a coordinator reads them; the codes stay in their own fields.
    words = reasons(match, labels or proposals.labels_for(db_session(), [match]))
    return {
        "id": match.id, "run_id": match.run_id, "volunteer_id": match.volunteer_id,
        "resident_id": match.resident_id, "status": match.status, "score": match.score,
        "volunteer_organisation": match.volunteer.partner_organisation,
        "resident_organisation": match.resident.organisation,
        "distance_km": match.distance_km, "durability": match.durability,
        "shared_interests": explanation.get("shared_interests") or [],
        "shared_slots": explanation.get("shared_slots") or [],
        "reasons": words,
        "alternatives": alternatives,
        "locked": match.locked, "stale": stale, "version": match.version,
    }


@bp.post("/runs")
@bp.arguments(RunStart)
@bp.response(201, Run)
@_problems(400, 401, 403, 422, 429)
def start_run(body: dict[str, Any]) -> Any:
    """Start een koppelronde voor de eigen wachtende deelnemers (alle, één wijk of één doelgroep)

    De ronde gebruikt de vrijwilligers van de VCU en de eigen vrijwilligers, en trekt alleen
    open voorstellen voor de eigen deelnemers in.
    """
    session = db_session()
    run = runs.run_matching(session, scope=body["scope"], settings=body["settings"],
                            started_by=None, now=utcnow(), via=actor(),
                            organisation=current_token().organisation)
    session.commit()
    return run, {"Location": f"/api/v1/runs/{run.id}"}


@bp.get("/runs/<string(length=32):id>")
@bp.response(200, Run)
@_problems(401, 404, 429)
def read_run(id: str) -> Any:
    """Eén eigen koppelronde: status, voortgang, invoerhash, statistiek"""
    return scope().run(db_session(), id)


@bp.get("/proposals")
@bp.arguments(ProposalQuery, location="query")
@bp.response(200, ProposalPage)
@_problems(401, 422, 429)
def list_proposals(query: dict[str, Any]) -> dict[str, Any]:
    """Voorstellen (of koppelingen in een andere status) met eigen mensen, hoogste score eerst"""
    found = proposals.review(db_session(), run_id=query.get("run"), status=query["status"],
                             page=query["page"], page_size=query["page_size"], scope=scope())
    alternatives = _alternatives(found.items)
    return {"items": [_proposal(m, alternatives[m.id], m.id in found.stale, found)
                      for m in found.items],
            "page": found.page, "pages": found.pages, "total": found.total}


@bp.post("/proposals/<string(length=32):id>/approve")
@bp.arguments(Approve)
@bp.response(200, Proposal)
@_problems(400, 401, 403, 404, 409, 422, 429)
def approve(body: dict[str, Any], id: str) -> dict[str, Any]:
    """Keur goed: de vrijwilliger krijgt het voorstel per e-mail (één link, 7 dagen geldig)"""
    session = db_session()
    config = current_app.config
    match = proposals.approve(
        session, id, actor=None, via=actor(), now=utcnow(), secret=config["SECRET_KEY"],
        base_url=config["BASE_URL"], expected_version=body.get("version"), scope=scope(),
    )
    session.commit()
    return _proposal(match, _alternatives([match])[match.id])


@bp.post("/proposals/<string(length=32):id>/reject")
@bp.arguments(Reject)
@bp.response(200, Proposal)
@_problems(400, 401, 403, 404, 409, 422, 429)
def reject(body: dict[str, Any], id: str) -> dict[str, Any]:
    """Wijs af met een reden: het paar wordt uitgesloten, de deelnemer wacht weer"""
    session = db_session()
    match = proposals.reject(session, id, reason=body["reason"], actor=None, via=actor(),
                             now=utcnow(), expected_version=body.get("version"), scope=scope())
    session.commit()
    return _proposal(match, _alternatives([match])[match.id])
