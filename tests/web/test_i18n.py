"""Dutch by default; English after the language switch; the English catalog is complete."""
from __future__ import annotations

from babel.messages.pofile import read_po

from tests.conftest import ROOT
from tests.logins import csrf_token, login


def test_pages_are_dutch_by_default(client, make_staff):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "Inloggen" in page and "Wachtwoord" in page
    assert login(client, make_staff(name="Ans Beheer").email).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Goed u te zien, Ans Beheer" in home and "Vrijwilligers" in home


def test_switching_to_english_and_back(client, make_staff):
    token = csrf_token(client, "/login")
    switched = client.post("/taal/en", data={"csrf_token": token},
                           headers={"Referer": "http://localhost/login"})
    assert switched.status_code == 302 and switched.location.endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Log in" in page and "Password" in page and "Inloggen" not in page
    assert login(client, make_staff(name="Ans Beheer").email).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Good to see you, Ans Beheer" in home and "Volunteers" in home

    client.post("/taal/nl", data={"csrf_token": csrf_token(client, "/")})
    assert '<html lang="nl">' in client.get("/").get_data(as_text=True)


def test_switch_without_csrf_token_is_refused(client):
    assert client.post("/taal/en").status_code == 400
    assert '<html lang="nl">' in client.get("/login").get_data(as_text=True)


def test_english_catalog_translates_every_message():
    with (ROOT / "web/translations/en/LC_MESSAGES/messages.po").open("rb") as po:
        catalog = read_po(po, locale="en")
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []
