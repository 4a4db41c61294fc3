"""Intake in a real browser: a volunteer signs up, a referred resident gets an intake, a typo."""
from __future__ import annotations

import re

from sqlalchemy import select

from matching.services import staff as staff_service
from matching.store import OutboxMessage, Resident, Volunteer
from tests.conftest import CHEAP_HASH
from tests.logins import PASSWORD
from tests.web.profile_fixtures import add_taxonomy


def _prepare(sessions) -> None:
    with sessions() as session:
        add_taxonomy(session)
        staff_service.create_user(session, profile=CHEAP_HASH, email="coord@vcu.example",
                                  name="Coördinator", role="coordinator", password=PASSWORD)
        session.commit()


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", "coord@vcu.example")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]:has-text('Log in'), main button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_volunteer_signs_up_and_verifies_the_address(live_server, page):
    base, sessions = live_server
    _prepare(sessions)
    page.goto(f"{base}/aanmelden")
    page.fill("#first_name", "Sanne")
    page.fill("#last_name", "de Boer")
    page.fill("#email", "sanne@example.org")
    page.fill("#postcode", "3581 KL")
    page.fill("#house_number", "21")
    page.fill("#birth_year", "1990")
    page.check("input[name=languages][value=nl]")
    page.check("input[name=interests][value=wandelen]")
    page.check("#slot-2")
    page.check("#slot-14")
    page.check("input[name=consent]")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/aanmelden/bedankt")
    assert "We hebben je aanmelding ontvangen" in page.content()
    with sessions() as session:
        volunteer = session.scalars(select(Volunteer)).one()
        assert (volunteer.status, volunteer.source, volunteer.availability) == ("new", "signup", [2, 14])
        body = session.scalars(select(OutboxMessage.body_text)).one()
    link = re.search(r"(http://127\.0\.0\.1:[0-9]+/aanmelden/bevestig/\S+)", body)
    assert link, body
    page.goto(link.group(1))
    with sessions() as session:
        assert session.scalars(select(Volunteer.email_verified_at)).one() is None
    page.click("#verify")
    assert "is bevestigd" in page.inner_text("#verified")
    with sessions() as session:
        assert session.scalars(select(Volunteer.email_verified_at)).one() is not None


def test_referred_resident_goes_through_intake(live_server, page):
    base, sessions = live_server
    _prepare(sessions)
    page.goto(f"{base}/verwijzen")
    page.fill("#first_name", "Gerrit")
    page.fill("#last_name", "Mulder")
    page.fill("#phone", "030 1112233")
    page.fill("#postcode", "3581 KL")
    page.fill("#referrer_name", "Dr. Jansen")
    page.fill("#referrer_email", "praktijk@example.org")
    page.select_option("#referral_source", "gp")
    page.check("input[name=agreed]")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/verwijzen/bedankt")

    _log_in(page, base)
    page.click("nav >> text=Deelnemers")
    page.click("text=Gerrit Mulder")
    assert page.inner_text("#status") == "Aangemeld"
    page.click("#intake-done")
    page.wait_for_selector("#waiting")
    assert page.inner_text("#status") == "Wachtend"
    assert "wacht al 0 dagen" in page.inner_text("#waiting")
    with sessions() as session:
        resident = session.scalars(select(Resident)).one()
        assert resident.status == "waiting" and resident.waiting_since is not None


def test_validation_error_is_shown_and_corrected(live_server, page):
    base, sessions = live_server
    _prepare(sessions)
    _log_in(page, base)
    page.goto(f"{base}/vrijwilligers/nieuw")
    page.fill("#first_name", "Piet")
    page.fill("#postcode", "0123 AB")
    page.check("#slot-0")
    page.click("main form button[type=submit]")
    assert "Vul een geldige postcode in, zoals 1234 AB." in page.inner_text("#postcode-error")
    assert page.input_value("#first_name") == "Piet" and page.is_checked("#slot-0")
    with sessions() as session:
        assert session.scalars(select(Volunteer)).first() is None
    page.fill("#postcode", "3511 AB")
    page.click("main form button[type=submit]")
    page.wait_for_selector("h1:has-text('Piet')")
    with sessions() as session:
        volunteer = session.scalars(select(Volunteer)).one()
        assert (volunteer.postcode, volunteer.availability) == ("3511 AB", [0])
