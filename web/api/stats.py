"""The city's indicators as JSON: aggregates only, every group under five suppressed."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from matching.services import reports
from matching.services.periods import FIRST_DAY, LAST_DAY, Period
from matching.services.profiles import local_date
from matching.store import TARGET_GROUPS, utcnow

from ..db import db_session
from .problems import documented
from .schemas import _Input

bp = Blueprint("stats", __name__, description="Indicatoren voor de gemeente en partners")


class StatsQuery(_Input):
    van = fields.Date(
        load_default=None, validate=validate.Range(min=FIRST_DAY, max=LAST_DAY),
        metadata={"description": "Eerste dag (standaard: 365 dagen terug)"}
    )
    tot = fields.Date(
        load_default=None, validate=validate.Range(min=FIRST_DAY, max=LAST_DAY),
        metadata={"description": "Dag na de laatste (standaard: morgen)"}
    )
    wijk = fields.String(load_default=None, metadata={"description": "Alleen deze wijk"})
    doelgroep = fields.String(
        load_default=None, validate=validate.OneOf(TARGET_GROUPS),
        metadata={"enum": list(TARGET_GROUPS)},
    )

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("van") and data.get("tot") and data["tot"] <= data["van"]:
            raise ValidationError("tot moet na van liggen", field_name="tot")


class Stats(Schema):
    period = fields.Dict(metadata={"description": "start, end (exclusief) en as_of"})
    filters = fields.Dict()
    min_group = fields.Integer(metadata={"description": "Kleinere groepen: null"})
    runs = fields.Integer()
    overall = fields.Dict()
    by_wijk = fields.Dict()
    by_target_group = fields.Dict()


@bp.get("/stats")
@bp.arguments(StatsQuery, location="query")
@bp.response(200, Stats)
@documented(bp, 401, 422, 429)
def indicators(query: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    end = query["tot"] or local_date(now) + timedelta(days=1)
    start = query["van"] or end - timedelta(days=365)
    if end <= start:
        start = end - timedelta(days=365)
    start = max(start, FIRST_DAY)
    if end <= start:
        end = start + timedelta(days=1)
    return reports.indicators(
        db_session(), Period(start, end, now), wijk=query["wijk"], target_group=query["doelgroep"]
    )
