"""Profile input validation: pure functions that normalise values or raise ValidationFailed.

Every error is a stable English key (see KEYS) per field, all fields at once; the web layer maps
each key to a Dutch message. Only the fields named in VOLUNTEER_FIELDS / RESIDENT_FIELDS are read:
anything else a caller sends (id, status, version, open_matches, ...) is ignored.

Canonical forms: postcode "1234 AB"; phone E.164 "+31612345678"; e-mail lower-cased;
lists of codes de-duplicated in the given order; availability sorted ascending.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email

from matching.errors import ValidationFailed
from matching.scoring import SLOTS as SLOT_COUNT
from matching.store import (
    COMMITMENTS, GENDERS, REFERRAL_SOURCES, RESIDENT_STATUSES, TARGET_GROUPS, VOG_STATUSES, VOLUNTEER_STATUSES,
)

KEYS: dict[str, str] = {
    "required": "A value is required.",
    "too_long": "The value is longer than the field allows.",
    "invalid_characters": "The value contains control characters or invalid Unicode.",
    "invalid_postcode": "Not a Dutch postcode (1234 AB; no 0 first, not SA/SD/SS).",
    "invalid_phone": "Not a Dutch landline or mobile number (+31, 0031 or 0 prefix).",
    "invalid_email": "Not a valid e-mail address.",
    "invalid_house_number": "Not a house number (digits, optionally a letter or addition).",
    "invalid_number": "Not a number.",
    "out_of_range": "The number is outside the allowed range.",
    "invalid_choice": "Not one of the allowed values.",
    "invalid_boolean": "Not yes/no.",
    "invalid_date": "Not a date (YYYY-MM-DD).",
    "invalid_list": "Not a list of values.",
    "unknown_code": "One or more codes are not in the list of interests/activities/languages.",
    "min_above_max": "The minimum age is above the maximum age.",
    "consent_required": "A health note needs the resident's explicit consent.",
    "date_in_past": "The date must be after today.",
}

# Volunteers must be at least 16, residents (young people included) at least 12; nobody over 110.
MAX_AGE = 110
MIN_AGE = {"volunteer": 16, "resident": 12}
NOTE_LENGTH = 5000
SLOTS = range(SLOT_COUNT)
INITIAL_STATUSES = {"volunteer": ("new", "available"), "resident": ("referred", "waiting")}
STATUSES = {"volunteer": VOLUNTEER_STATUSES, "resident": RESIDENT_STATUSES}

_POSTCODE = re.compile(r"([1-9][0-9]{3})([A-Z]{2})")
_HOUSE_NUMBER = re.compile(r"[1-9][0-9]{0,4}(?:[ -]?[A-Za-z0-9]{1,4})?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# National significant numbers (9 digits after the 0): geographic areas 1x-5x and 7x, mobile
# 6x (not 66, pagers), and the location-independent 85, 88 and 91. Service numbers (0800, 0900)
# are not a way to reach a person.
_PHONE = re.compile(r"(?:[1-57][0-9]|6[1-58]|8[58]|91)[0-9]{7}")


@dataclass(frozen=True)
class Taxonomy:
    """The known codes per list field, loaded from the interest/activity/language tables."""

    languages: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()
    activities: frozenset[str] = frozenset()

    def codes(self, name: str) -> frozenset[str]:
        return getattr(self, name)


class _Invalid(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _text(value: Any, length: int, *, required: bool = False, multiline: bool = False) -> str | None:
    if value is None:
        value = ""
    if not isinstance(value, str):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid("invalid_characters")
        value = str(value)
    value = value.strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Invalid("invalid_characters") from None
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(value):
        raise _Invalid("invalid_characters")
    if not value:
        if required:
            raise _Invalid("required")
        return None
    if len(value) > length:
        raise _Invalid("too_long")
    return value


def _optional(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def postcode(value: Any) -> str | None:
    """'1234ab', '1234 ab' -> '1234 AB'; None for empty."""
    text = _text(value, 20)
    if text is None:
        return None
    match = _POSTCODE.fullmatch(re.sub(r"\s+", "", text).upper())
    if not match or match.group(2) in {"SA", "SD", "SS"}:
        raise _Invalid("invalid_postcode")
    return f"{match.group(1)} {match.group(2)}"


def phone(value: Any) -> str | None:
    """A Dutch number in E.164: '06-1234 5678', '0031 6 12345678' -> '+31612345678'."""
    text = _text(value, 40)
    if text is None:
        return None
    digits = re.sub(r"[\s\-./()]", "", text)
    for prefix in ("+31", "0031", "0"):
        if digits.startswith(prefix):
            national = digits.removeprefix(prefix)
            # "+31 (0)6 ..." is a common way of writing it.
            if prefix != "0" and national.startswith("0"):
                national = national[1:]
            break
    else:
        raise _Invalid("invalid_phone")
    if not _PHONE.fullmatch(national):
        raise _Invalid("invalid_phone")
    return "+31" + national


def email(value: Any) -> str | None:
    """A syntactically valid address, lower-cased; no DNS lookup."""
    text = _text(value, 254)
    if text is None:
        return None
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise _Invalid("invalid_email") from None
    normalised = info.normalized.lower()
    if len(normalised) > 254:
        raise _Invalid("too_long")
    return normalised


def house_number(value: Any) -> str | None:
    text = _text(value, 12)
    if text is None:
        return None
    if not _HOUSE_NUMBER.fullmatch(text):
        raise _Invalid("invalid_house_number")
    return text.upper()


def integer(value: Any, low: int, high: int) -> int | None:
    if _optional(value):
        return None
    if isinstance(value, bool):
        raise _Invalid("invalid_number")
    if isinstance(value, float):
        if not value.is_integer():
            raise _Invalid("invalid_number")
        value = int(value)
    if isinstance(value, str):
        if not re.fullmatch(r"\s*[+-]?[0-9]{1,9}\s*", value):
            raise _Invalid("invalid_number")
        value = int(value)
    if not isinstance(value, int):
        raise _Invalid("invalid_number")
    if not low <= value <= high:
        raise _Invalid("out_of_range")
    return value


def decimal(value: Any, low: float, high: float) -> float | None:
    """Accepts a Dutch decimal comma ('2,5')."""
    if _optional(value):
        return None
    if isinstance(value, bool):
        raise _Invalid("invalid_number")
    if isinstance(value, str):
        if not re.fullmatch(r"\s*[+-]?[0-9]{1,6}([.,][0-9]{1,6})?\s*", value):
            raise _Invalid("invalid_number")
        value = float(value.replace(",", "."))
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise _Invalid("invalid_number")
    if not low <= value <= high:
        raise _Invalid("out_of_range")
    return float(value)


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in {"1", "true", "ja", "yes", "on", "j", "y", "waar"}:
            return True
        if word in {"", "0", "false", "nee", "no", "off", "n", "onwaar"}:
            return False
    raise _Invalid("invalid_boolean")


def choice(value: Any, allowed: Iterable[str], *, required: bool = False) -> str | None:
    text = _text(value, 40, required=required)
    if text is None:
        return None
    if text not in tuple(allowed):
        raise _Invalid("invalid_choice")
    return text


def a_date(value: Any) -> date | None:
    if _optional(value):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _Invalid("invalid_date")


def _items(value: Any) -> list[Any]:
    if _optional(value):
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,;]", value) if part.strip()]
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    raise _Invalid("invalid_list")


def codes(value: Any, known: frozenset[str]) -> list[str]:
    """Known taxonomy codes, de-duplicated in order; a string may be comma/semicolon separated."""
    result: list[str] = []
    for item in _items(value):
        if not isinstance(item, str):
            raise _Invalid("invalid_list")
        item = item.strip()
        if item not in known:
            raise _Invalid("unknown_code")
        if item not in result:
            result.append(item)
    return result


def slots(value: Any) -> list[int]:
    """Availability slots 0-20 (day * 3 + part of day), sorted and unique."""
    result: set[int] = set()
    for item in _items(value):
        slot = integer(item, SLOTS.start, SLOTS.stop - 1)
        if slot is None:
            raise _Invalid("invalid_list")
        result.add(slot)
    return sorted(result)


def status(kind: str, value: Any, *, initial: bool = False) -> str:
    """A status of this kind of profile; initial=True allows only the statuses to create with."""
    allowed = INITIAL_STATUSES[kind] if initial else STATUSES[kind]
    return choice(value, allowed, required=True)  # type: ignore[return-value]


def check_status(kind: str, value: Any, *, initial: bool = False) -> str:
    """status() that raises ValidationFailed({"status": key})."""
    try:
        return status(kind, value, initial=initial)
    except _Invalid as error:
        raise ValidationFailed({"status": error.key}) from None


Cleaner = Callable[[Any], Any]
# The JSON shape of a field, for the partner API's schema (web/api/schemas.py derives it).
Shape = Literal["text", "integer", "number", "boolean", "date", "codes", "slots", "choice"]


@dataclass(frozen=True)
class Rule:
    """One profile field, written once: how to clean it and what shape it has in JSON."""

    shape: Shape
    clean: Cleaner
    choices: tuple[str, ...] = ()
    internal: bool = False  # the staff's own (notes, hand-set coordinates): never in the API


def _choice(values: tuple[str, ...]) -> Rule:
    return Rule("choice", lambda v: choice(v, values), choices=values)


def _common(kind: str, today: date, taxonomy: Taxonomy) -> dict[str, Rule]:
    year = today.year
    return {
        "first_name": Rule("text", lambda v: _text(v, 80, required=True)),
        "last_name": Rule("text", lambda v: _text(v, 120) or ""),
        "email": Rule("text", email),
        "phone": Rule("text", phone),
        "postcode": Rule("text", postcode),
        "house_number": Rule("text", house_number),
        "neighbourhood": Rule("text", lambda v: _text(v, 80)),
        "birth_year": Rule("integer", lambda v: integer(v, year - MAX_AGE, year - MIN_AGE[kind])),
        "gender": _choice(GENDERS),
        "languages": Rule("codes", lambda v: codes(v, taxonomy.languages)),
        "interests": Rule("codes", lambda v: codes(v, taxonomy.interests)),
        "activities": Rule("codes", lambda v: codes(v, taxonomy.activities)),
        "availability": Rule("slots", slots),
        "prefers_gender": _choice(GENDERS),
        "prefers_min_age": Rule("integer", lambda v: integer(v, 0, MAX_AGE)),
        "prefers_max_age": Rule("integer", lambda v: integer(v, 0, MAX_AGE)),
        "commitment_months": _choice(COMMITMENTS),
        "notes": Rule("text", lambda v: _text(v, NOTE_LENGTH, multiline=True), internal=True),
        # Coordinates a coordinator enters by hand (roughly the Netherlands).
        "manual_lat": Rule("number", lambda v: decimal(v, 50.5, 53.7), internal=True),
        "manual_lon": Rule("number", lambda v: decimal(v, 3.2, 7.3), internal=True),
    }


def volunteer_fields(today: date, taxonomy: Taxonomy) -> dict[str, Rule]:
    return {
        **_common("volunteer", today, taxonomy),
        "max_travel_km": Rule("number", lambda v: decimal(v, 0.5, 25.0)),
        "capacity": Rule("integer", lambda v: integer(v, 1, 3)),
        "vog_status": _choice(VOG_STATUSES),
        "vog_date": Rule("date", a_date),
    }


def resident_fields(today: date, taxonomy: Taxonomy) -> dict[str, Rule]:
    return {
        **_common("resident", today, taxonomy),
        "contact_via_referrer": Rule("boolean", boolean),
        "referrer_name": Rule("text", lambda v: _text(v, 120)),
        # Set by the server for a partner's referral (its token's organisation), never by the API.
        "referrer_organisation": Rule("text", lambda v: _text(v, 120), internal=True),
        "referrer_email": Rule("text", email),
        "referrer_phone": Rule("text", phone),
        "can_travel": Rule("boolean", boolean),
        "max_travel_km": Rule("number", lambda v: decimal(v, 0.5, 25.0)),
        "target_group": _choice(TARGET_GROUPS),
        "referral_source": _choice(REFERRAL_SOURCES),
        "loneliness_score": Rule("integer", lambda v: integer(v, 0, 6)),
        "health_note": Rule("text", lambda v: _text(v, NOTE_LENGTH, multiline=True)),
        "health_note_consent": Rule("boolean", boolean),
    }


VOLUNTEER_FIELDS = tuple(volunteer_fields(date(2000, 1, 1), Taxonomy()))
RESIDENT_FIELDS = tuple(resident_fields(date(2000, 1, 1), Taxonomy()))
# Fields that must hold a value after a create; None-able ones default to the model default.
_DEFAULTED = {"max_travel_km", "capacity", "vog_status", "target_group", "referral_source"}


def clean(
    kind: str,
    data: Mapping[str, Any],
    *,
    today: date,
    taxonomy: Taxonomy,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Normalised values for the known fields present in data (all required ones on create).

    current holds the stored values on an update (None on create): only the fields present in
    data are validated and returned, and cross-field rules use the merged values.
    """
    rules = volunteer_fields(today, taxonomy) if kind == "volunteer" else resident_fields(
        today, taxonomy
    )
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, rule in rules.items():
        if name not in data and (current is not None or name != "first_name"):
            continue
        try:
            value = rule.clean(data.get(name))
        except _Invalid as error:
            errors[name] = error.key
            continue
        if value is None and name in _DEFAULTED and not (
            kind == "resident" and name == "max_travel_km"
        ):
            continue  # an empty value keeps the default (or the stored value)
        cleaned[name] = value
    merged = {**(current or {}), **cleaned}
    low, high = merged.get("prefers_min_age"), merged.get("prefers_max_age")
    if low is not None and high is not None and low > high and "prefers_min_age" not in errors:
        errors["prefers_min_age"] = "min_above_max"
    lat, lon = cleaned.get("manual_lat"), cleaned.get("manual_lon")
    if (lat is None) != (lon is None) and not {"manual_lat", "manual_lon"} & errors.keys():
        errors["manual_lon" if lat is not None else "manual_lat"] = "required"
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def single(cleaner: Cleaner, name: str, value: Any) -> Any:
    """Apply one cleaner, raising ValidationFailed({name: key})."""
    try:
        return cleaner(value)
    except _Invalid as error:
        raise ValidationFailed({name: error.key}) from None


def text_field(value: Any, length: int, *, required: bool = True) -> str | None:
    """A single-line text of at most length characters (reasons and the like); use via single()."""
    return _text(value, length, required=required)


def note_field(value: Any, length: int) -> str | None:
    """A text of at most length characters that may span lines; use via single()."""
    return _text(value, length, multiline=True)
