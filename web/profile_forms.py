"""Reading a profile form into the plain mapping the profile services take, and its choices."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from matching.services.validation import RESIDENT_FIELDS, VOLUNTEER_FIELDS
from matching.store import Activity, Interest, Language

from .edge import whole_number

LIST_FIELDS = ("languages", "interests", "activities", "availability")
BOOLEAN_FIELDS = ("contact_via_referrer", "can_travel", "health_note_consent")
# What a volunteer may fill in on the public sign-up form (no notes, VOG or coordinates).
SIGNUP_FIELDS = (
    "first_name", "last_name", "email", "phone", "postcode", "house_number", "birth_year", "gender",
    "languages", "interests", "activities", "availability", "max_travel_km", "capacity",
    "prefers_gender", "prefers_min_age", "prefers_max_age", "commitment_months",
)
# What a professional gives about the resident on the referral form.
REFERRAL_FIELDS = (
    "first_name", "last_name", "phone", "postcode", "house_number", "birth_year", "target_group",
    "languages", "notes", "referrer_name", "referrer_organisation", "referrer_email",
    "referrer_phone", "referral_source",
)


def form_data(form: MultiDict[str, str], fields: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of a submitted form: lists via getlist, unticked checkboxes as False."""
    data: dict[str, Any] = {}
    for name in fields:
        if name in LIST_FIELDS:
            data[name] = form.getlist(name)
        elif name in BOOLEAN_FIELDS:
            data[name] = name in form
        elif name in form:
            data[name] = form.get(name, "")
    return data


def editable_fields(kind: str) -> tuple[str, ...]:
    """Every field a coordinator edits on the profile form."""
    return VOLUNTEER_FIELDS if kind == "volunteer" else RESIDENT_FIELDS


def profile_values(profile: Any, kind: str) -> dict[str, Any]:
    """A stored profile as form values."""
    values = {name: getattr(profile, name) for name in editable_fields(kind) if hasattr(profile, name)}
    values["version"] = profile.version
    return values


def submitted_values(form: MultiDict[str, str], kind: str) -> dict[str, Any]:
    """The user's input as form values, to show it again after an error."""
    values: dict[str, Any] = form_data(form, editable_fields(kind))
    values["availability"] = [n for s in form.getlist("availability")
                              if (n := whole_number(s)) is not None]
    values["version"] = form.get("version", "")
    return values


@dataclass(frozen=True)
class Tag:
    code: str
    label: str


def tags(session: Session) -> dict[str, list[Tag]]:
    """The active interest, activity and language codes with labels in the current locale."""
    locale = str(get_locale() or "nl")
    result: dict[str, list[Tag]] = {}
    for name, model in (("interests", Interest), ("activities", Activity), ("languages", Language)):
        terms = session.scalars(
            select(model).where(model.active.is_(True)).order_by(model.position, model.code)
        )
        result[name] = [Tag(term.code, term.label(locale)) for term in terms]
    return result
