"""The network's group activities for partners: every token reads them all; a write token adds
activities and changes only its own organisation's."""
from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from matching.services import group_activities
from matching.store import TARGET_GROUPS, utcnow

from ..db import db_session
from ..placing import geocoder
from .problems import documented
from .schemas import _Input
from .tokens import actor, current_token, scope

bp = Blueprint("activities", __name__, description="Groepsactiviteiten voor wie op een maatje wacht")


class ActivityInput(_Input):
    name = fields.String(metadata={"description": "Naam (verplicht bij aanmaken)"})
    organiser = fields.String(metadata={"description": "Organisator (verplicht bij aanmaken)"})
    address = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True, metadata={"description": "Nederlandse postcode; plaatst de activiteit"})
    neighbourhood = fields.String(allow_none=True)
    availability = fields.List(fields.Integer(validate=validate.Range(min=0, max=20)),
                               metadata={"description": "Wekelijkse momenten 0-20 (dag * 3 + dagdeel)"})
    interests = fields.List(fields.String())
    target_groups = fields.List(fields.String(validate=validate.OneOf(TARGET_GROUPS)),
                                metadata={"description": "Leeg: voor iedereen"})
    cost = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    wheelchair = fields.Boolean()
    description = fields.String(allow_none=True)


class Activity(Schema):
    id = fields.String()
    name = fields.String()
    organiser = fields.String()
    address = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    neighbourhood = fields.String(allow_none=True)
    located = fields.Boolean(metadata={"description": "of de postcode gevonden is"})
    availability = fields.List(fields.Integer())
    interests = fields.List(fields.String())
    target_groups = fields.List(fields.String())
    cost = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    wheelchair = fields.Boolean()
    description = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True, metadata={"description": "wie haar bijhoudt (leeg: de VCU)"})
    active = fields.Boolean()


def _out(activity: Any) -> dict[str, Any]:
    return {**{name: getattr(activity, name) for name in Activity().fields if name != "located"},
            "located": activity.lat is not None}


@bp.get("/activities")
@bp.response(200, Activity(many=True))
@documented(bp, 401, 429)
def listing() -> list[dict[str, Any]]:
    """Alle actieve groepsactiviteiten van het netwerk"""
    return [_out(a) for a in group_activities.listing(db_session())]


@bp.post("/activities")
@bp.arguments(ActivityInput)
@bp.response(201, Activity)
@documented(bp, 401, 403, 422, 429)
def create(body: dict[str, Any]) -> dict[str, Any]:
    """Een activiteit toevoegen; zij hoort bij de organisatie van de sleutel"""
    session = db_session()
    activity = group_activities.save(session, body, organisation=current_token().organisation, actor=actor(),
                                     now=utcnow(), geocoder=geocoder())
    session.commit()
    return _out(activity)


@bp.patch("/activities/<string(length=32):id>")
@bp.arguments(ActivityInput)
@bp.response(200, Activity)
@documented(bp, 401, 403, 404, 422, 429)
def update(body: dict[str, Any], id: str) -> dict[str, Any]:
    """Een eigen activiteit wijzigen (die van anderen: 404)"""
    session = db_session()
    current = group_activities.get(session, id, scope())
    merged = {name: getattr(current, name) for name in ("name", "organiser", "availability")} | body
    activity = group_activities.save(session, merged, activity_id=id, scope=scope(), actor=actor(), now=utcnow(),
                                     geocoder=geocoder())
    session.commit()
    return _out(activity)
