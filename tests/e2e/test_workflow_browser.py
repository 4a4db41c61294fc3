"""A real browser walks the loop: run -> approve -> the link from the outbox -> accept ->
introduction -> active."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import config
from jobs import match_runs
from matching.services import staff as staff_service
from matching.store import Match, Resident, Volunteer, make_engine, make_session_factory
from tests.conftest import CHEAP_HASH, RESIDENT_DEFAULTS, VOLUNTEER_DEFAULTS
from tests.logins import PASSWORD

from .conftest import CHROMIUM, LAUNCH_ARGS, serving


@pytest.fixture
def served(sqlite_template: Path, tmp_path: Path, translations: str) -> Iterator[tuple[str, str]]:
    """The app on a file SQLite database, served by werkzeug in a thread: (base url, db url)."""
    path = tmp_path / "e2e.sqlite"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        staff_service.create_user(session, email="coordinator@vcu.example", name="Coördinator",
                                  role="coordinator", password=PASSWORD, profile=CHEAP_HASH)
        session.add(Volunteer(**VOLUNTEER_DEFAULTS))
        session.add(Resident(**RESIDENT_DEFAULTS, neighbourhood="Lombok"))
        session.commit()
    engine.dispose()

    from web import create_app

    app = create_app(config.TestConfig(url, BABEL_TRANSLATION_DIRECTORIES=translations, DEMO_MODE=True))
    with serving(app) as base:
        yield base, url


def test_run_approve_link_accept_introduction_active(served: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, url = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            staff = browser.new_page()
            staff.goto(f"{base}/login")
            staff.fill("input[name=email]", "coordinator@vcu.example")
            staff.fill("input[name=password]", PASSWORD)
            staff.click("button[type=submit]:has-text('Inloggen')")
            staff.click("nav >> text=Koppelen")
            staff.click("text=Koppelronde starten")
            expect(staff.locator("[data-stage=queued]")).to_be_visible()
            assert match_runs.execute_queued(make_session_factory(make_engine(url))) == 1
            expect(staff.locator("[data-status=done]")).to_be_visible()
            expect(staff.locator("[data-count=proposed]")).to_have_text("1")
            staff.click("text=Voorstellen van deze ronde bekijken")
            expect(staff.locator("tr.proposal")).to_contain_text("Henk Jansen")
            staff.click("tr.proposal button[name=approve]")
            expect(staff.locator(".flash")).to_contain_text("Goedgekeurd")

            staff.goto(f"{base}/beheer/berichten/")
            staff.click("summary:has-text('Tekst van het bericht')")
            link = staff.locator("pre a[href*='/koppeling/']")
            expect(link).to_have_count(1)
            href = link.get_attribute("href")
            assert href and href.startswith(f"{base}/koppeling/")

            volunteer = browser.new_context().new_page()
            volunteer.goto(href)
            expect(volunteer.locator("[data-proposal]")).to_contain_text("Henk")
            expect(volunteer.locator("body")).not_to_contain_text("Jansen")
            volunteer.click("button:has-text('Ja, ik neem het voorstel aan')")
            expect(volunteer.locator("[data-result=recorded]")).to_contain_text("Dank u wel")

            staff.goto(f"{base}/koppelen/voorstellen/?status=accepted")
            staff.check("input[name=volunteer_go]")
            staff.check("input[name=resident_go]")
            staff.click("button:has-text('Kennismaking vastleggen')")
            expect(staff.locator(".flash")).to_contain_text("De koppeling is actief")
            staff.goto(f"{base}/koppelen/voorstellen/?status=active")
            expect(staff.locator("tr.proposal[data-status=active]")).to_have_count(1)
        finally:
            browser.close()

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        match = session.scalar(select(Match))
        assert match.status == "active" and match.intro_volunteer_go and match.intro_resident_go
        assert session.scalar(select(Resident.status)) == "matched"
    engine.dispose()


def test_bulk_approve_by_keyboard_alone(served: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, url = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            staff = browser.new_page()
            staff.goto(f"{base}/login")
            staff.fill("input[name=email]", "coordinator@vcu.example")
            staff.fill("input[name=password]", PASSWORD)
            staff.keyboard.press("Enter")
            staff.wait_for_url(f"{base}/")
            staff.goto(f"{base}/koppelen/")
            staff.click("text=Koppelronde starten")
            expect(staff.locator("[data-stage=queued]")).to_be_visible()
            assert match_runs.execute_queued(make_session_factory(make_engine(url))) == 1
            staff.goto(f"{base}/koppelen/voorstellen/")
            # Tab from the name filter to the row's checkbox, tick it with Space, submit the
            # bulk form with Enter: no mouse.
            checkbox = staff.locator("tr.proposal input[type=checkbox]")
            for _ in range(40):
                staff.keyboard.press("Tab")
                if checkbox.evaluate("element => element === document.activeElement"):
                    break
            else:
                raise AssertionError("the row's checkbox is not reachable by Tab")
            staff.keyboard.press("Space")
            expect(checkbox).to_be_checked()
            staff.locator("#bulk button").focus()
            staff.keyboard.press("Enter")
            expect(staff.locator(".flash")).to_contain_text("1 voorstel goedgekeurd")
        finally:
            browser.close()
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(Match.status)) == "offered"
    engine.dispose()
