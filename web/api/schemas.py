"""marshmallow schemas of the partner API: they shape and document; the services validate.

Input schemas only check JSON types; the rules (postcode, phone, taxonomy codes, ranges) live in
matching.services.validation so the API and the staff forms agree. Fields not listed here (id,
status, version in a POST, open_matches, ...) are dropped, never assigned. Coordinators' notes
are internal: not read, not returned. Who owns a row (referrer_organisation of a resident,
partner_organisation of a volunteer) is the token's organisation, returned but never accepted.
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from matching.services.directory import MAX_PAGE_SIZE
from matching.store import (
    GENDERS, REFERRAL_SOURCES, RESIDENT_STATUSES, TARGET_GROUPS, VOG_STATUSES, VOLUNTEER_STATUSES,
)

_CODE = r"^[a-z0-9_-]{1,40}$"


def _text(description: str, **kwargs: object) -> fields.String:
    return fields.String(allow_none=True, metadata={"description": description}, **kwargs)


def _choice(values: tuple[str, ...], **kwargs: object) -> fields.String:
    return fields.String(allow_none=True, metadata={"enum": list(values)}, **kwargs)


class _Input(Schema):
    class Meta:
        unknown = EXCLUDE


class _ProfileFields(Schema):
    """What volunteers and residents share, for input and output alike."""

    first_name = fields.String(metadata={"description": "Voornaam"})
    last_name = _text("Achternaam")
    email = _text("E-mailadres")
    phone = _text("Telefoonnummer; opgeslagen als +31...")
    postcode = _text("Postcode, 1234 AB")
    house_number = _text("Huisnummer met eventuele toevoeging")
    neighbourhood = _text("Wijk")
    birth_year = fields.Integer(allow_none=True)
    gender = _choice(GENDERS)
    languages = fields.List(fields.String(), metadata={"description": "Taalcodes"})
    interests = fields.List(fields.String(), metadata={"description": "Interessecodes"})
    activities = fields.List(fields.String(), metadata={"description": "Activiteitcodes"})
    availability = fields.List(
        fields.Integer(), metadata={"description": "Dagdelen 0-20: dag * 3 + dagdeel, maandag = 0"}
    )
    prefers_gender = _choice(GENDERS)
    prefers_min_age = fields.Integer(allow_none=True)
    prefers_max_age = fields.Integer(allow_none=True)


class _VolunteerFields(_ProfileFields):
    max_travel_km = fields.Float(allow_none=True)
    capacity = fields.Integer(allow_none=True, metadata={"minimum": 1, "maximum": 3})
    vog_status = _choice(VOG_STATUSES)
    vog_date = fields.Date(allow_none=True)


class _ResidentFields(_ProfileFields):
    contact_via_referrer = fields.Boolean(allow_none=True)
    referrer_name = _text("Naam van de verwijzer")
    referrer_email = _text("E-mailadres van de verwijzer")
    referrer_phone = _text("Telefoonnummer van de verwijzer")
    can_travel = fields.Boolean(allow_none=True)
    max_travel_km = fields.Float(allow_none=True)
    target_group = _choice(TARGET_GROUPS)
    referral_source = _choice(REFERRAL_SOURCES)
    loneliness_score = fields.Integer(allow_none=True, metadata={"minimum": 0, "maximum": 6})


class VolunteerCreate(_VolunteerFields, _Input):
    first_name = fields.String(required=True)


class VolunteerUpdate(_VolunteerFields, _Input):
    version = fields.Integer(
        load_only=True, metadata={"description": "De versie die u wijzigt (of de If-Match-header)"}
    )


class _ResidentInput(_ResidentFields, _Input):
    # Write-only: the API never returns a health note.
    health_note = fields.String(allow_none=True, load_only=True)
    health_note_consent = fields.Boolean(allow_none=True, load_only=True)


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
