"""Errors of the partner API as RFC 9457 problem details (application/problem+json)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from werkzeug import Response
from werkzeug.exceptions import HTTPException

from matching.errors import MatchingError, ValidationFailed

MEDIA_TYPE = "application/problem+json"
F = TypeVar("F", bound=Callable[..., Any])

# The services' stable keys (matching.services.validation.KEYS and a few of the API's own).
FIELD_MESSAGES: dict[str, Any] = {
    "required": _l("Dit veld is verplicht."),
    "too_long": _l("De waarde is langer dan het veld toestaat."),
    "invalid_characters": _l("De waarde bevat stuurtekens of ongeldige Unicode."),
    "invalid_postcode": _l("Geen Nederlandse postcode (1234 AB; niet met 0 beginnend, niet SA/SD/SS)."),
    "invalid_phone": _l("Geen Nederlands vast of mobiel nummer (+31, 0031 of 0 ervoor)."),
    "invalid_email": _l("Geen geldig e-mailadres."),
    "invalid_house_number": _l("Geen huisnummer (cijfers, eventueel met letter of toevoeging)."),
    "invalid_number": _l("Geen getal."),
    "out_of_range": _l("Het getal valt buiten het toegestane bereik."),
    "invalid_choice": _l("Geen van de toegestane waarden."),
    "invalid_boolean": _l("Geen ja/nee-waarde."),
    "invalid_date": _l("Geen datum (JJJJ-MM-DD)."),
    "invalid_list": _l("Geen lijst van waarden."),
    "unknown_code": _l("Een of meer codes staan niet in de lijst van interesses/activiteiten/talen."),
    "min_above_max": _l("De minimumleeftijd is hoger dan de maximumleeftijd."),
    "consent_required": _l("Een gezondheidsnotitie kan alleen met uitdrukkelijke toestemming."),
    "date_in_past": _l("De datum moet na vandaag liggen."),
    "invalid": _l("Ongeldige waarde voor dit veld."),
}

TITLES: dict[int, Any] = {
    400: _l("Ongeldig verzoek"),
    401: _l("Niet geauthenticeerd"),
    403: _l("Geen toegang"),
    404: _l("Niet gevonden"),
    409: _l("Conflict"),
    422: _l("Ongeldige gegevens"),
    429: _l("Te veel verzoeken"),
    500: _l("Er ging iets mis"),
}

# marshmallow's default messages for a missing value; every other parser message is "invalid".
_MARSHMALLOW_REQUIRED = {"Missing data for required field.", "Field may not be null."}


def problem(
    status: int, detail: str, *, errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem+json response; errors maps each field to a key, sent with its Dutch message."""
    body: dict[str, Any] = {
        "type": "about:blank", "title": str(TITLES.get(status, TITLES[400])), "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = {
            name: {"code": key, "message": str(FIELD_MESSAGES.get(key, FIELD_MESSAGES["invalid"]))}
            for name, key in errors.items()
        }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = MEDIA_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _first(messages: Any) -> str:
    while isinstance(messages, dict | list) and messages:
        messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
    return str(messages)


def parser_errors(messages: Mapping[str, Any]) -> dict[str, str]:
    """webargs' {location: {field: [message, ...]}} as {field: key} (If-Match keeps its name)."""
    errors: dict[str, str] = {}
    for fields in messages.values():
        if not isinstance(fields, Mapping):
            continue
        for name, found in fields.items():
            errors[str(name)] = "required" if _first(found) in _MARSHMALLOW_REQUIRED else "invalid"
    return errors


def http_error(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    if status == 422 and "messages" in data:
        return problem(422, _("Een of meer velden zijn ongeldig."),
                       errors=parser_errors(data["messages"]))
    if status == 400:
        return problem(400, _("Het verzoek kon niet worden gelezen (is de body geldige JSON?)."))
    return problem(status, str(TITLES.get(status, _("Het verzoek kon niet worden afgehandeld."))))


def domain_error(error: MatchingError) -> Response:
    if isinstance(error, ValidationFailed):
        return problem(422, _("Een of meer velden zijn ongeldig."), errors=error.errors)
    details = {
        404: _("Dit profiel bestaat niet (meer)."),
        409: _("Het profiel is intussen door iemand anders gewijzigd; haal het opnieuw op."),
    }
    return problem(error.status, str(details.get(error.status, TITLES.get(error.status, ""))),
                   errors={error.field: error.code} if error.field else None)


DESCRIPTIONS = {
    400: "Onleesbaar verzoek", 401: "Geen of een ongeldige API-sleutel",
    403: "De sleutel mag alleen lezen", 404: "Niet gevonden", 409: "Conflict",
    422: "Ongeldige velden", 429: "Te veel verzoeken met deze sleutel",
}


def documented(
    bp: Blueprint, *codes: int, descriptions: Mapping[int, str] | None = None
) -> Callable[[F], F]:
    """Document the problem+json responses an operation of this blueprint can give."""
    def decorate(view: F) -> F:
        for code in codes:
            text = (descriptions or {}).get(code, DESCRIPTIONS[code])
            view = bp.alt_response(code, schema="Problem", content_type=MEDIA_TYPE, description=text)(view)
        return view

    return decorate
