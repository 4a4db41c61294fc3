"""axe-core (the npm package, injected by Playwright) on every public, link, check-in and staff
page, on a phone and a desktop viewport: no serious or critical violation."""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import config
from demo import population as demo
from matching.services import durability_models
from matching.services import staff as staff_service
from matching.services.profiles import local_date
from matching.store import OutboxMessage, make_engine, make_session_factory, utcnow
from tests.conftest import CHEAP_HASH, unavailable
from tests.logins import PASSWORD

from .conftest import CHROMIUM, LAUNCH_ARGS, serving

AXE = Path(os.environ.get("AXE_CORE_JS", Path.home() / ".cache" / "maatwerk-axe" /
                          "node_modules" / "axe-core" / "axe.min.js"))
VIEWPORTS = {"phone": {"width": 375, "height": 740}, "desktop": {"width": 1280, "height": 800}}
PUBLIC = ["/", "/login", "/aanmelden", "/verwijzen", "/privacy"]
STAFF = ["/", "/vrijwilligers/", "/deelnemers/", "/vrijwilligers/nieuw", "/deelnemers/nieuw",
         "/koppelen/", "/koppelen/voorstellen/", "/aandacht/", "/dashboard",
         "/dashboard/wachtlijst", "/dashboard/maandrapport", "/beheer/berichten/", "/import/",
         "/beheer/medewerkers", "/beheer/auditlog", "/analyse/duurzaamheid/", "/activiteiten/",
         "/activiteiten/nieuw", "/beheer/organisaties"]


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path, translations: str) -> Iterator[tuple[str, list]]:
    if not AXE.exists():
        unavailable("axe-core (npm install axe-core; AXE_CORE_JS names axe.min.js)")
    path = tmp_path / "axe.sqlite"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    from web import create_app

    app = create_app(config.TestConfig(url, BABEL_TRANSLATION_DIRECTORIES=translations,
                                       DEMO_MODE=True))
    engine = make_engine(url)
    with serving(app) as base:
        with make_session_factory(engine)() as session:
            demo.load(session, seed=7, today=local_date(utcnow()), postcode_file=None)
            durability_models.refit(session, today=local_date(utcnow()), now=utcnow(), actor=None)
            staff_service.create_user(session, email="admin@vcu.example", name="Beheer",
                                      role="admin", password=PASSWORD, profile=CHEAP_HASH)
            demo.first_mails(session, now=utcnow(), base_url=base, secret=app.secret_key)
            session.commit()
            bodies = " ".join(session.scalars(select(OutboxMessage.body_text)))
            session.commit()
        linked = sorted({m for m in re.findall(r"/(?:koppeling|check-in)/[^\s?]+", bodies)})
        assert len(linked) == 2, linked
        yield base, linked
    engine.dispose()


def test_no_serious_or_critical_violation_on_any_page(site):
    from playwright.sync_api import sync_playwright

    base, linked = site
    script = AXE.read_text()
    found: dict[str, list] = {}
    checked = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            for name, viewport in VIEWPORTS.items():
                # axe is injected as a script: let it past our own CSP in this test only.
                context = browser.new_context(viewport=viewport, bypass_csp=True)
                page = context.new_page()

                def check(path: str) -> None:
                    nonlocal checked
                    page.goto(base + path)
                    page.add_script_tag(content=script)
                    violations = page.evaluate(
                        "async () => (await axe.run(document, {resultTypes: ['violations']}))"
                        ".violations.map(v => [v.id, v.impact, v.nodes.length])")
                    checked += 1
                    bad = [v for v in violations if v[1] in ("serious", "critical")]
                    if bad:
                        found[f"{name} {path}"] = bad

                for path in [*PUBLIC, *linked]:
                    check(path)
                page.goto(f"{base}/login")
                page.fill("input[name=email]", "admin@vcu.example")
                page.fill("input[name=password]", PASSWORD)
                page.click("main form button[type=submit]")
                page.wait_for_url(f"{base}/")
                for path in STAFF:
                    check(path)
                context.close()
        finally:
            browser.close()
    print(f"axe: {checked} page views, serious or critical violations: {len(found)}")
    assert checked == 2 * (len(PUBLIC) + len(linked) + len(STAFF))
    assert not found, found
