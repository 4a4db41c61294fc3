"""Field validation: targeted cases and random text per field."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.errors import ValidationFailed
from matching.services import validation
from matching.services.validation import KEYS, Taxonomy, clean

TODAY = date(2026, 11, 29)
TAXONOMY = Taxonomy(
    languages=frozenset({"nl", "en", "ar"}), interests=frozenset({"wandelen", "koken"}),
    activities=frozenset({"koffie_drinken"}),
)


def errors_of(kind: str, data: dict) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failure:
        clean(kind, data, today=TODAY, taxonomy=TAXONOMY)
    return failure.value.errors


@pytest.mark.parametrize("raw, expected", [
    ("1234ab", "1234 AB"), ("1234 ab", "1234 AB"), (" 3511  AB ", "3511 AB"), ("9999ZZ", "9999 ZZ"),
    ("", None), (None, None),
])
def test_postcodes_are_normalised(raw, expected):
    assert validation.postcode(raw) == expected


@pytest.mark.parametrize("raw", [
    "0123 AB", "1234 SA", "1234SD", "1234 ss", "123 AB", "12345 AB", "1234 A", "1234 A1", "ABCD EF",
])
def test_bad_postcodes_are_refused(raw):
    assert errors_of("volunteer", {"first_name": "A", "postcode": raw}) == {
        "postcode": "invalid_postcode"
    }


@pytest.mark.parametrize("raw, expected", [
    ("0612345678", "+31612345678"), ("06-1234 5678", "+31612345678"),
    ("+31 6 12345678", "+31612345678"), ("0031612345678", "+31612345678"),
    ("+31 (0)6 12345678", "+31612345678"), ("030-1234567", "+31301234567"),
    ("020 123 45 67", "+31201234567"), ("0881234567", "+31881234567"),
])
def test_phones_are_normalised_to_e164(raw, expected):
    assert validation.phone(raw) == expected


@pytest.mark.parametrize("raw", [
    "06123456", "061234567890", "0800123456", "0900123456", "+32612345678", "phone", "0012345678",
    "0661234567",
])
def test_bad_phones_are_refused(raw):
    assert errors_of("volunteer", {"first_name": "A", "phone": raw}) == {"phone": "invalid_phone"}


def test_email_is_lower_cased_and_checked_without_dns():
    assert validation.email(" Anne.Vries@Example.ORG ") == "anne.vries@example.org"
    assert errors_of("volunteer", {"first_name": "A", "email": "anne@"}) == {
        "email": "invalid_email"
    }


def test_ranges_and_enums():
    errors = errors_of("volunteer", {
        "first_name": "", "birth_year": TODAY.year - 15, "capacity": 4, "max_travel_km": "0,4",
        "gender": "v", "availability": [3, 21], "languages": ["nl", "xx"],
        "prefers_min_age": 70, "prefers_max_age": 60, "last_name": "x" * 121,
    })
    assert errors == {
        "first_name": "required", "birth_year": "out_of_range", "capacity": "out_of_range",
        "max_travel_km": "out_of_range", "gender": "invalid_choice", "availability": "out_of_range",
        "languages": "unknown_code", "prefers_min_age": "min_above_max", "last_name": "too_long",
    }
    assert errors_of("resident", {"first_name": "A", "target_group": "kids",
                                  "referral_source": "gp2", "loneliness_score": 7}) == {
        "target_group": "invalid_choice", "referral_source": "invalid_choice",
        "loneliness_score": "out_of_range",
    }


def test_limits_are_inclusive():
    cleaned = clean("volunteer", {
        "first_name": "A" * 80, "birth_year": TODAY.year - 16, "capacity": "3",
        "max_travel_km": "25", "availability": "20;0;0", "interests": "koken, wandelen",
    }, today=TODAY, taxonomy=TAXONOMY)
    assert cleaned["capacity"] == 3 and cleaned["max_travel_km"] == 25.0
    assert cleaned["availability"] == [0, 20]
    assert cleaned["interests"] == ["koken", "wandelen"]
    assert clean("volunteer", {"first_name": "A", "max_travel_km": 0.5, "birth_year": TODAY.year - 110},
                 today=TODAY, taxonomy=TAXONOMY)["max_travel_km"] == 0.5


def test_fields_a_caller_may_not_set_are_ignored():
    cleaned = clean("volunteer", {
        "first_name": "Anne", "id": "x", "status": "stopped", "version": 9, "open_matches": 3,
        "is_returning": True, "lat": 1.0,
    }, today=TODAY, taxonomy=TAXONOMY)
    assert cleaned == {"first_name": "Anne"}


def test_an_update_checks_only_the_given_fields_but_cross_checks_with_stored_values():
    assert clean("volunteer", {"capacity": 2}, today=TODAY, taxonomy=TAXONOMY, current={}) == {
        "capacity": 2
    }
    with pytest.raises(ValidationFailed) as failure:
        clean("volunteer", {"prefers_min_age": 80}, today=TODAY, taxonomy=TAXONOMY,
              current={"prefers_min_age": 20, "prefers_max_age": 60})
    assert failure.value.errors == {"prefers_min_age": "min_above_max"}


def test_control_characters_are_refused_but_notes_keep_newlines():
    assert errors_of("volunteer", {"first_name": "An\x00ne"}) == {"first_name": "invalid_characters"}
    assert clean("volunteer", {"first_name": "A", "notes": "regel 1\nregel 2"}, today=TODAY,
                 taxonomy=TAXONOMY)["notes"] == "regel 1\nregel 2"


def test_manual_coordinates_come_in_pairs():
    assert errors_of("volunteer", {"first_name": "A", "manual_lat": "52.1"}) == {
        "manual_lon": "required"
    }


def test_every_key_used_is_documented():
    for key in ("required", "too_long", "invalid_postcode", "invalid_phone", "out_of_range",
                "consent_required", "unknown_code", "min_above_max"):
        assert key in KEYS


FIELDS = sorted(set(validation.VOLUNTEER_FIELDS) | set(validation.RESIDENT_FIELDS))


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["volunteer", "resident"]), name=st.sampled_from(FIELDS),
       value=st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.booleans(),
                       st.lists(st.text(max_size=5), max_size=3)))
def test_random_input_per_field_never_crashes(kind, name, value):
    data = {"first_name": "Anne", name: value}
    try:
        cleaned = clean(kind, data, today=TODAY, taxonomy=TAXONOMY)
    except ValidationFailed as failure:
        assert set(failure.errors) <= set(FIELDS)
        assert all(key in KEYS for key in failure.errors.values())
        return
    # What passes is a canonical value that validates to itself.
    again = clean(kind, {**data, **cleaned}, today=TODAY, taxonomy=TAXONOMY)
    assert again == cleaned
