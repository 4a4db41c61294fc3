"""Geocoding that production uses: with GEOCODER=nominatim an intake, an edit, a public form,
the API and an import place people through geopy's Nominatim (rate-limited, cached), with the
PC4 postcode areas as the fallback; whoever cannot be placed is flagged for the coordinator.
The Nominatim here is a local HTTP server that speaks its search API."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from config import TestConfig as MaatwerkConfig
from matching.store import PostcodeArea, Resident, StaffUser
from matching.services import staff
from tests.conftest import CHEAP_HASH
from tests.logins import PASSWORD, login
from tests.services.test_geocoding import nominatim  # noqa: F401 (fixture)

from .profile_fixtures import add_taxonomy, post_form, scalar
from .test_residents import NEW


@pytest.fixture
def geocoding_app(database_url, translations, nominatim, session):  # noqa: F811
    from web import create_app

    server, requests = nominatim
    app = create_app(MaatwerkConfig(
        database_url, BABEL_TRANSLATION_DIRECTORIES=translations, GEOCODER="nominatim",
        NOMINATIM_URL=f"http://127.0.0.1:{server.server_port}"))
    add_taxonomy(session)
    session.add(PostcodeArea(postcode="3531", place="Utrecht", lat=52.09, lon=5.10))
    staff.create_user(session, email="coordinator@vcu.example", name="C", role="coordinator",
                      password=PASSWORD, profile=CHEAP_HASH)
    session.commit()
    yield app, requests
    app.extensions["maatwerk.engine"].dispose()


def test_intake_is_placed_by_nominatim_with_the_postcode_areas_as_fallback(geocoding_app,
                                                                          session):
    app, requests = geocoding_app
    client = app.test_client()
    assert login(client, "coordinator@vcu.example").status_code == 302
    placed = {}
    for postcode in ("1012 AB", "3531 AA", "9999 ZZ"):
        response = post_form(client, "/deelnemers/nieuw",
                             {**NEW, "first_name": f"P{postcode[:4]}", "postcode": postcode,
                              "save_anyway": "yes"})
        assert response.status_code == 302, response.get_data(as_text=True)
        resident = scalar(session, select(Resident).where(
            Resident.first_name == f"P{postcode[:4]}"))
        placed[postcode] = (resident.lat, resident.location_source, resident.location_problem)
    assert placed["1012 AB"] == (52.37, "geocoder", None)
    assert placed["3531 AA"] == (52.09, "postcode_area", None)  # Nominatim knew nothing
    assert placed["9999 ZZ"] == (None, None, "unknown_postcode")
    assert [r["query"]["postalcode"] for r in requests] == ["1012 AB", "3531 AA", "9999 ZZ"]
    assert all(r["agent"] == "maatwerk (VCU Utrecht)" for r in requests)
    # The unplaced one is flagged on its page and in the list, with what to do.
    unplaced = scalar(session, select(Resident.id).where(Resident.first_name == "P9999"))
    page = client.get(f"/deelnemers/{unplaced}").get_data(as_text=True)
    assert 'data-location-problem="unknown_postcode"' in page and "postcode niet gevonden" in page
    assert "locatie onbekend" in client.get("/deelnemers/").get_data(as_text=True)


def test_a_second_person_in_the_same_postcode_is_placed_from_the_cache(geocoding_app, session):
    app, requests = geocoding_app
    client = app.test_client()
    assert login(client, "coordinator@vcu.example").status_code == 302
    for name in ("Een", "Twee"):
        post_form(client, "/deelnemers/nieuw", {**NEW, "first_name": name, "postcode": "1012 AB",
                                                "save_anyway": "yes"})
    sources = dict(session.execute(select(Resident.first_name, Resident.location_source)).all())
    session.commit()
    assert sources == {"Een": "geocoder", "Twee": "cache"} and len(requests) == 1


def test_without_a_geocoder_the_postcode_areas_alone_place_people(app, session):
    assert app.extensions["maatwerk.geocoder"] is None
    assert session.scalar(select(StaffUser.id)) is None


def test_an_unknown_geocoder_setting_is_refused_at_start(database_url, translations):
    from web import create_app

    with pytest.raises(ValueError, match="GEOCODER"):
        create_app(MaatwerkConfig(database_url, GEOCODER="google"))
    with pytest.raises(ValueError, match="NOMINATIM_URL"):
        create_app(MaatwerkConfig(database_url, GEOCODER="nominatim", NOMINATIM_URL="ftp://x"))
