"""marshmallow schemas of the partner API: they shape and document; the services validate.

The profile fields are derived from matching.services.validation, where each field is written
once (its rule and its JSON shape), so the API, the staff forms and the import agree; input
schemas only check JSON types. Fields not listed here (id,
status, version in a POST, open_matches, ...) are dropped, never assigned. Coordinators' notes
are internal: not read, not returned. Who owns a row (referrer_organisation of a resident,
partner_organisation of a volunteer) is the token's organisation, returned but never accepted.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from matching.services import validation
from matching.services.directory import MAX_PAGE_SIZE
from matching.store import (
    RESIDENT_STATUSES, TARGET_GROUPS, VOLUNTEER_STATUSES,
)

_CODE = r"^[a-z0-9_-]{1,40}$"


class _Input(Schema):
    class Meta:
        unknown = EXCLUDE


# Documentation only: a field without a line here is still in the API (validation.py decides).
_DESCRIPTIONS = {
    "first_name": "Voornaam", "last_name": "Achternaam", "email": "E-mailadres",
    "phone": "Telefoonnummer; opgeslagen als +31...", "postcode": "Postcode, 1234 AB",
    "house_number": "Huisnummer met eventuele toevoeging", "neighbourhood": "Wijk",
    "languages": "Taalcodes", "interests": "Interessecodes", "activities": "Activiteitcodes",
    "availability": "Dagdelen 0-20: dag * 3 + dagdeel, maandag = 0",
    "referrer_name": "Naam van de verwijzer", "referrer_email": "E-mailadres van de verwijzer",
    "referrer_phone": "Telefoonnummer van de verwijzer",
}
# Write-only: the API never returns a health note (or whether consent for one was given).
_WRITE_ONLY = {"health_note", "health_note_consent"}


def _field(name: str, rule: validation.Rule) -> fields.Field:
    """The marshmallow field for a validation rule: JSON types only; the rule checks values."""
    options: dict[str, Any] = {"allow_none": True, "load_only": name in _WRITE_ONLY}
    metadata: dict[str, Any] = {}
    if name in _DESCRIPTIONS:
        metadata["description"] = _DESCRIPTIONS[name]
    if rule.choices:
        metadata["enum"] = list(rule.choices)
    if rule.shape in ("codes", "slots"):
        item = fields.String() if rule.shape == "codes" else fields.Integer()
        return fields.List(item, metadata=metadata, load_only=options["load_only"])
    kind = {"text": fields.String, "choice": fields.String, "integer": fields.Integer,
            "number": fields.Float, "boolean": fields.Boolean, "date": fields.Date}[rule.shape]
    return kind(metadata=metadata, **options)  # type: ignore[no-any-return]


def _fields_of(rules: dict[str, validation.Rule], name: str, *, write_only: bool = False
               ) -> type[Schema]:
    """A schema of the rules' fields that partners may send and read (or only send)."""
    return _Input.from_dict({
        field: _field(field, rule) for field, rule in rules.items()
        if not rule.internal and (field in _WRITE_ONLY) == write_only
    }, name=name)


_RULES_TODAY = date(2000, 1, 1)  # the shapes do not depend on the day or the taxonomy
_VolunteerFields = _fields_of(validation.volunteer_fields(_RULES_TODAY, validation.Taxonomy()),
                              "VolunteerFields")
_RESIDENT_RULES = validation.resident_fields(_RULES_TODAY, validation.Taxonomy())
_ResidentFields = _fields_of(_RESIDENT_RULES, "ResidentFields")
_ResidentWriteOnly = _fields_of(_RESIDENT_RULES, "ResidentWriteOnly", write_only=True)


class VolunteerCreate(_VolunteerFields, _Input):
    first_name = fields.String(required=True)


class VolunteerUpdate(_VolunteerFields, _Input):
    version = fields.Integer(
        load_only=True, metadata={"description": "De versie die u wijzigt (of de If-Match-header)"}
    )


class _ResidentInput(_ResidentFields, _ResidentWriteOnly, _Input):  # type: ignore[valid-type, misc]
    pass


class ResidentCreate(_ResidentInput):
    first_name = fields.String(required=True)


class ResidentUpdate(_ResidentInput):
    version = fields.Integer(
        load_only=True, metadata={"description": "De versie die u wijzigt (of de If-Match-header)"}
    )


class _Stored(Schema):
    id = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    location_source = fields.String(dump_only=True, allow_none=True)
    location_problem = fields.String(dump_only=True, allow_none=True)


class Volunteer(_VolunteerFields, _Stored):
    status = fields.String(dump_only=True, metadata={"enum": list(VOLUNTEER_STATUSES)})
    open_matches = fields.Integer(dump_only=True)
    source = fields.String(dump_only=True)
    paused_until = fields.Date(dump_only=True, allow_none=True)
    partner_organisation = fields.String(
        dump_only=True, allow_none=True,
        metadata={"description": "De organisatie die de vrijwilliger via de API aanmaakte"})


class Resident(_ResidentFields, _Stored):
    status = fields.String(dump_only=True, metadata={"enum": list(RESIDENT_STATUSES)})
    waiting_since = fields.Date(dump_only=True, allow_none=True)
    referrer_organisation = fields.String(
        dump_only=True, allow_none=True,
        metadata={"description": "Organisatie van de verwijzer: altijd die van de sleutel"})


class _Page(Schema):
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class VolunteerPage(_Page):
    items = fields.List(fields.Nested(Volunteer))


class ResidentPage(_Page):
    items = fields.List(fields.Nested(Resident))


class _ListQuery(_Input):
    postcode = fields.String(
        validate=validate.Regexp(r"^[1-9][0-9]{0,3}( ?[A-Za-z]{1,2})?$"),
        metadata={"description": "Postcode of het begin ervan: 3511, 35, 3511 AB"},
    )
    interest = fields.String(validate=validate.Regexp(_CODE))
    language = fields.String(validate=validate.Regexp(_CODE))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class VolunteerQuery(_ListQuery):
    status = fields.String(validate=validate.OneOf(VOLUNTEER_STATUSES))


class ResidentQuery(_ListQuery):
    status = fields.String(validate=validate.OneOf(RESIDENT_STATUSES))
    target_group = fields.String(validate=validate.OneOf(TARGET_GROUPS))


class IfMatch(_Input):
    if_match = fields.String(
        data_key="If-Match",
        metadata={"description": 'De versie die u wijzigt, zoals de ETag: "3"'},
    )


class FieldError(Schema):
    code = fields.String(metadata={"description": "Vaste sleutel, bv. invalid_postcode"})
    message = fields.String()


class Problem(Schema):
    """RFC 9457 problem details."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.Nested(FieldError))
