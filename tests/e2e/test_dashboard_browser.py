"""A real browser logs in, opens the dashboard and downloads the indicators as CSV."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import TestConfig as AppConfig
from demo import population as demo
from matching.services import staff as staff_service
from matching.services.profiles import local_date
from matching.store import make_engine, make_session_factory, schema, utcnow

from ..conftest import CHEAP_HASH, SHARED
from ..logins import PASSWORD
from .conftest import CHROMIUM, LAUNCH_ARGS, serving

EMAIL = "coordinator@browser.example"

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path, translations: str) -> Iterator[str]:
    """The app on a file SQLite database with the demo population, served from a thread."""
    from web import create_app

    url = f"sqlite:///{tmp_path / 'browser.sqlite'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    postcodes = SHARED / "geo" / "NL.txt"
    with make_session_factory(engine)() as session:
        demo.load(session, seed=7, today=local_date(utcnow()),
                  postcode_file=str(postcodes) if postcodes.exists() else None)
        staff_service.create_user(session, email=EMAIL, name="Browser", role="coordinator",
                                  password=PASSWORD, profile=CHEAP_HASH)
        session.commit()
    engine.dispose()
    app = create_app(AppConfig(url, BABEL_TRANSLATION_DIRECTORIES=translations))
    with serving(app) as base:
        yield base


def test_dashboard_opens_and_its_csv_downloads(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_context(accept_downloads=True).new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if "Refused" in m.text else None)
            page.on("response", lambda r: errors.append(r.url) if r.status >= 400
                    and not r.url.endswith("/favicon.ico") else None)
            page.goto(f"{server}/login")
            page.fill("input[name=email]", EMAIL)
            page.fill("input[name=password]", PASSWORD)
            page.press("input[name=password]", "Enter")
            page.click("nav >> text=Dashboard")
            page.wait_for_url(f"{server}/dashboard")
            assert page.locator("h1").inner_text() == "Dashboard"
            assert page.locator("figure.chart[data-split] svg").count() == 4
            assert page.locator("figure.chart[data-trend] svg").count() == 4
            assert page.locator("figure.chart path[stroke-width='2']").count() >= 4
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            with page.expect_download() as download_info:
                page.click("text=Download alle indicatoren (CSV)")
            download = download_info.value
            assert download.suggested_filename.startswith("indicatoren-")
            text = Path(download.path()).read_text(encoding="utf-8-sig")
            with page.expect_download() as curve_info:
                figure = page.locator("figure[data-split=score_band]")
                figure.locator("text=Download de curve (CSV)").click()
            curve = Path(curve_info.value.path()).read_text(encoding="utf-8-sig")
            assert errors == []  # no CSP refusals, no failed requests
        finally:
            browser.close()

    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:2] == ["Indicator", "Totaal"]
    by_label = {row[0]: row[1:] for row in rows[1:]}
    assert int(by_label["Vrijwilligers ingeschreven"][0]) > 100
    assert int(by_label["Actieve koppelingen"][0]) > 20
    assert by_label["Acceptatiegraad"][0].endswith("%")
    curve_rows = list(csv.reader(io.StringIO(curve), delimiter=";"))
    assert curve_rows[0][:3] == ["Groep", "Dagen", "Nog samen"]
    assert {row[0] for row in curve_rows[1:]} >= {"Score 80 of hoger"}
