"""On a 375 px phone no public, link or check-in page scrolls sideways."""
from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import config
from matching.services import check_ins, pairing, proposals
from matching.store import (
    OutboxMessage, Resident, Volunteer, make_engine, make_session_factory, utcnow,
)
from tests.conftest import RESIDENT_DEFAULTS, VOLUNTEER_DEFAULTS

from .conftest import CHROMIUM, LAUNCH_ARGS, serving

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def pages(sqlite_template: Path, tmp_path: Path, translations: str) -> Iterator[tuple[str, list]]:
    """The app with an offered proposal and a sent check-in; the paths a volunteer opens."""
    path = tmp_path / "phone.sqlite"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    from web import create_app

    app = create_app(config.TestConfig(url, BABEL_TRANSLATION_DIRECTORIES=translations))
    engine = make_engine(url)
    with serving(app) as base, make_session_factory(engine)() as session:
        now = utcnow()
        offered_to = Volunteer(**{**VOLUNTEER_DEFAULTS, "email": "anne@example.org"})
        active_with = Volunteer(**{**VOLUNTEER_DEFAULTS, "email": "bram@example.org"})
        waiting = Resident(**RESIDENT_DEFAULTS)
        matched = Resident(**{**RESIDENT_DEFAULTS, "status": "matched"})
        session.add_all([offered_to, active_with, waiting, matched])
        session.flush()
        offer = pairing.open_match(session, volunteer_id=offered_to.id, resident_id=waiting.id,
                                   status="proposed", score=70.0)
        proposals.approve(session, offer.id, actor=None, now=now, secret=app.secret_key,
                          base_url=base)
        pairing.open_match(session, volunteer_id=active_with.id, resident_id=matched.id,
                           status="active", activated_at=now - timedelta(days=30))
        check_ins.send_weekly(session, now=now, base_url=base, secret=app.secret_key)
        session.commit()
        bodies = " ".join(session.scalars(select(OutboxMessage.body_text)))
        linked = sorted({m.split("?")[0] for m in re.findall(
            r"/(?:koppeling|check-in)/[^\s?]+", bodies)})
        session.commit()  # SQLite: no open transaction may hold the lock the app needs
        assert len(linked) == 2, bodies
        yield base, ["/", "/login", "/aanmelden", "/verwijzen", "/privacy", *linked]
    engine.dispose()


def test_no_volunteer_page_scrolls_sideways_on_a_phone(pages):
    from playwright.sync_api import sync_playwright

    base, paths = pages
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport=PHONE)
            widths = {}
            for path in paths:
                page.goto(base + path)
                widths[path] = page.evaluate("document.documentElement.scrollWidth")
        finally:
            browser.close()
    too_wide = {path: width for path, width in widths.items() if width > PHONE["width"]}
    assert not too_wide, too_wide
