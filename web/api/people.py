"""Volunteers and residents for partner organisations: list, read, create, update, erase.

A token sees only its organisation's people (services/scope.py); coordinators' notes never leave.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask_smorest import Blueprint

from matching.errors import NotFound, ValidationFailed
from matching.services import directory, privacy, profiles
from matching.services.profiles import Kind
from matching.store import utcnow

from ..db import db_session
from ..placing import geocoder
from . import schemas
from .problems import documented
from .tokens import actor, current_token, scope

bp = Blueprint("people", __name__, description="Vrijwilligers en deelnemers (verwezen bewoners)")
F = TypeVar("F", bound=Callable[..., Any])

_ID = re.compile(r"[0-9a-f]{32}")
_VERSION = re.compile(r'(?:W/)?"?([0-9]{1,9})"?')
# Set by the server only: who owns the row, and the coordinators' internal notes.
_NOT_WRITABLE = {"referrer_organisation", "partner_organisation", "notes"}
_DESCRIPTIONS = {404: "Onbekend of verwijderd profiel", 409: "Verouderde versie: iemand anders wijzigde het profiel"}


def _problems(*codes: int) -> Callable[[F], F]:
    """Document the problem responses an operation can give."""
    return documented(bp, *codes, descriptions=_DESCRIPTIONS)


def _etag(profile: profiles.Profile) -> dict[str, str]:
    return {"ETag": f'"{profile.version}"'}


def _checked(kind: Kind, id: str) -> str:
    if not _ID.fullmatch(id):
        raise NotFound(f"{kind} {id}")
    return id


def _expected_version(headers: Mapping[str, Any], body: Mapping[str, Any]) -> int:
    if headers.get("if_match") is not None:
        found = _VERSION.fullmatch(headers["if_match"].strip())
        if not found:
            raise ValidationFailed({"If-Match": "invalid_number"})
        return int(found.group(1))
    if body.get("version") is None:
        raise ValidationFailed({"version": "required"})
    return int(body["version"])


def _organisation() -> str:
    return current_token().organisation


def _list(kind: Kind, query: Mapping[str, Any]) -> dict[str, Any]:
    session = db_session()
    filters = directory.Filters(**{name: query.get(name) for name in (
        "status", "postcode", "interest", "language", "target_group")}, sort="created")
    found = directory.search(session, kind, filters, page=query["page"],
                             page_size=query["page_size"], scope=scope(),
                             actor=actor(), now=utcnow())
    session.commit()
    return {"items": found.items, "page": found.page, "page_size": found.page_size,
            "total": found.total}


def _read(kind: Kind, id: str) -> tuple[profiles.Profile, dict[str, str]]:
    session = db_session()
    profile = directory.view(session, kind, _checked(kind, id), scope=scope(),
                             actor=actor(), now=utcnow())
    session.commit()
    return profile, _etag(profile)


def _create(kind: Kind, body: Mapping[str, Any]) -> tuple[profiles.Profile, dict[str, str]]:
    session = db_session()
    if kind == "volunteer":
        profile: profiles.Profile = profiles.create_volunteer(
            session, _partner_fields_dropped(body), actor=actor(), now=utcnow(), source="api",
            partner_organisation=_organisation(), geocoder=geocoder())
    else:
        # A partner's new resident is a referral by that partner, whatever the body says.
        data = {**_partner_fields_dropped(body), "referrer_organisation": _organisation()}
        profile = profiles.create_resident(session, data, actor=actor(), now=utcnow(),
                                           referral=True, geocoder=geocoder(),
                                           organisation=_organisation())
    session.commit()
    location = f"/api/v1/{kind}s/{profile.id}"
    return profile, {**_etag(profile), "Location": location}


def _partner_fields_dropped(body: Mapping[str, Any]) -> dict[str, Any]:
    # The schemas already leave these out; the scope must not hang on a schema detail.
    return {name: value for name, value in body.items() if name not in _NOT_WRITABLE}


def _update(kind: Kind, id: str, body: Mapping[str, Any],
            headers: Mapping[str, Any]) -> tuple[profiles.Profile, dict[str, str]]:
    session = db_session()
    directory.present(session, kind, _checked(kind, id), scope=scope())
    version = _expected_version(headers, body)
    update = profiles.update_volunteer if kind == "volunteer" else profiles.update_resident
    profile = update(session, id, _partner_fields_dropped(body), expected_version=version,
                     actor=actor(), now=utcnow(), geocoder=geocoder())
    session.commit()
    return profile, _etag(profile)


def _erase(kind: Kind, id: str) -> None:
    session = db_session()
    directory.present(session, kind, _checked(kind, id), scope=scope())
    privacy.erase_person(session, kind, id, actor=actor(), now=utcnow())
    session.commit()


@bp.get("/volunteers")
@bp.arguments(schemas.VolunteerQuery, location="query")
@bp.response(200, schemas.VolunteerPage)
@_problems(401, 422, 429)
def list_volunteers(query: dict[str, Any]) -> dict[str, Any]:
    """Vrijwilligers, een pagina tegelijk, oudste eerst"""
    return _list("volunteer", query)


@bp.post("/volunteers")
@bp.arguments(schemas.VolunteerCreate)
@bp.response(201, schemas.Volunteer)
@_problems(400, 401, 403, 422, 429)
def create_volunteer(body: dict[str, Any]) -> Any:
    """Een nieuwe vrijwilliger (status new, bron api)"""
    return _create("volunteer", body)


@bp.get("/volunteers/<string(length=32):id>")
@bp.response(200, schemas.Volunteer)
@_problems(401, 404, 429)
def read_volunteer(id: str) -> Any:
    """Eén vrijwilliger; de ETag is de versie"""
    return _read("volunteer", id)


@bp.route("/volunteers/<string(length=32):id>", methods=["PATCH"])
@bp.arguments(schemas.IfMatch, location="headers")
@bp.arguments(schemas.VolunteerUpdate)
@bp.response(200, schemas.Volunteer)
@_problems(400, 401, 403, 404, 409, 422, 429)
def update_volunteer(headers: dict[str, Any], body: dict[str, Any], id: str) -> Any:
    """Wijzig de meegestuurde velden; versie via If-Match of het veld version"""
    return _update("volunteer", id, body, headers)


@bp.route("/volunteers/<string(length=32):id>", methods=["DELETE"])
@bp.response(204)
@_problems(401, 403, 404, 429)
def erase_volunteer(id: str) -> None:
    """Wis de persoonsgegevens (recht op vergetelheid); anonieme statistiek blijft"""
    _erase("volunteer", id)


@bp.get("/residents")
@bp.arguments(schemas.ResidentQuery, location="query")
@bp.response(200, schemas.ResidentPage)
@_problems(401, 422, 429)
def list_residents(query: dict[str, Any]) -> dict[str, Any]:
    """Deelnemers, een pagina tegelijk, oudste eerst"""
    return _list("resident", query)


@bp.post("/residents")
@bp.arguments(schemas.ResidentCreate)
@bp.response(201, schemas.Resident)
@_problems(400, 401, 403, 422, 429)
def create_resident(body: dict[str, Any]) -> Any:
    """Verwijs een deelnemer door (status referred; verwijzer met e-mail of telefoon verplicht)"""
    return _create("resident", body)


@bp.get("/residents/<string(length=32):id>")
@bp.response(200, schemas.Resident)
@_problems(401, 404, 429)
def read_resident(id: str) -> Any:
    """Eén deelnemer (nooit de gezondheidsnotitie); de ETag is de versie"""
    return _read("resident", id)


@bp.route("/residents/<string(length=32):id>", methods=["PATCH"])
@bp.arguments(schemas.IfMatch, location="headers")
@bp.arguments(schemas.ResidentUpdate)
@bp.response(200, schemas.Resident)
@_problems(400, 401, 403, 404, 409, 422, 429)
def update_resident(headers: dict[str, Any], body: dict[str, Any], id: str) -> Any:
    """Wijzig de meegestuurde velden; versie via If-Match of het veld version"""
    return _update("resident", id, body, headers)


@bp.route("/residents/<string(length=32):id>", methods=["DELETE"])
@bp.response(204)
@_problems(401, 403, 404, 429)
def erase_resident(id: str) -> None:
    """Wis de persoonsgegevens (recht op vergetelheid); anonieme statistiek blijft"""
    _erase("resident", id)
