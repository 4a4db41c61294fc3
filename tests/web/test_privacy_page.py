"""The privacy statement at /privacy, and the link to it from every page."""
from __future__ import annotations

import re

from flask import Flask, url_for

from web.auth import PUBLIC_ENDPOINTS

from .profile_fixtures import add_taxonomy

LINK = re.compile(r'<a id="privacy-link" href="/privacy">')


def public_pages(app: Flask) -> list[str]:
    """Every anonymous GET page: the allow-list and the public blueprint, with placeholder args."""
    urls = []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        public = endpoint in PUBLIC_ENDPOINTS or endpoint.startswith("public.")
        if not public or "GET" not in rule.methods or endpoint in {"static", "home.healthz"}:
            continue
        if endpoint.startswith("api") or endpoint == "i18n.switch":
            continue  # JSON, or a POST-only language switch
        with app.test_request_context():
            urls.append(url_for(endpoint, **dict.fromkeys(rule.arguments, "x")))
    return urls


def test_statement_is_public_dutch_with_the_retention_table(client):
    response = client.get("/privacy")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Privacyverklaring</h1>" in page
    assert "Autoriteit Persoonsgegevens" in page and "artikel 9 lid 2 sub a" in page
    assert "24 maanden, daarna geanonimiseerd" in page
    assert page.count("<tr><td>") == 13
    assert response.headers["Cache-Control"] == "no-store"


def test_retention_period_follows_the_configuration(app, client):
    app.config["RETENTION_MONTHS"] = 36
    page = client.get("/privacy").get_data(as_text=True)
    assert "36 maanden, daarna geanonimiseerd" in page and "24 maanden" not in page


def test_statement_in_english(client):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/privacy").get_data(
        as_text=True)).group(1)
    client.post("/taal/en", data={"csrf_token": token})
    page = client.get("/privacy").get_data(as_text=True)
    assert '<html lang="en">' in page


def test_every_public_page_links_to_the_statement(app, client, session):
    add_taxonomy(session)
    session.commit()
    urls = public_pages(app)
    assert {"/login", "/aanmelden", "/verwijzen", "/aanmelden/bevestig/x", "/privacy"} <= set(urls)
    for url in urls:
        response = client.get(url)
        # A link page with a made-up token answers 400, 404 or 410: the footer is there all the same.
        assert response.status_code in {200, 400, 404, 410}, url
        assert LINK.search(response.get_data(as_text=True)), url


def test_error_and_staff_pages_link_to_the_statement(logged_in):
    client = logged_in("coordinator")
    for url, status in (("/", 200), ("/vrijwilligers/", 200), ("/bestaat-niet", 404)):
        response = client.get(url)
        assert response.status_code == status, url
        assert LINK.search(response.get_data(as_text=True)), url
