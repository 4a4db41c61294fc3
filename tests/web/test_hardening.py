"""Errors without tracebacks, logs without personal data, and the production configuration."""
from __future__ import annotations

import logging
import re

import pytest

from config import ProductionConfig
from config import TestConfig as AppConfig
from tests.logins import PASSWORD, csrf_token, login
from web import create_app

CANARY_NAME = "Kanarie Vb3kq"
CANARY_EMAIL = "kanarie-vb3kq@vcu.example"
WRONG_PASSWORD = "verkeerd-Vb3kq-wachtwoord"


def test_an_unhandled_exception_gives_the_generic_500_page(database_url, translations, make_staff):
    config = AppConfig(database_url, TESTING=False, BABEL_TRANSLATION_DIRECTORIES=translations)
    app = create_app(config)
    assert not app.debug

    def explode() -> str:
        raise RuntimeError("geheim-detail-uit-de-stacktrace")

    app.add_url_rule("/ontplof", "ontplof", explode)
    client = app.test_client()
    assert login(client, make_staff().email).status_code == 302
    response = client.get("/ontplof")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Er ging iets mis" in page
    for leak in ("Traceback", "geheim-detail", "RuntimeError", "File \""):
        assert leak not in page
    assert response.headers["Cache-Control"] == "no-store"
    app.extensions["maatwerk.engine"].dispose()


def test_logs_hold_security_events_but_no_passwords_or_personal_data(app, make_staff, caplog):
    caplog.set_level(logging.DEBUG)
    user = make_staff(name=CANARY_NAME, email=CANARY_EMAIL)
    client = app.test_client()
    assert login(client, CANARY_EMAIL, WRONG_PASSWORD).status_code == 200
    assert login(client, "onbekend-vb3kq@vcu.example", WRONG_PASSWORD).status_code == 200
    assert login(client, CANARY_EMAIL).status_code == 302
    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    assert client.post("/logout", data={}).status_code in (302, 400)

    logged = caplog.text.lower()
    for secret in (PASSWORD, WRONG_PASSWORD, "vb3kq", "kanarie"):
        assert secret.lower() not in logged, secret
    utc = r"at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00"
    for action, actor in [("login.failed", user.id), ("login.unknown_account", "None"),
                          ("login.ok", user.id), ("logout", user.id)]:
        assert re.search(rf"{re.escape(action)} actor={actor} .*{utc}", caplog.text), action


def production_env(monkeypatch, database_url: str, key: str | None = "k" * 48) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)


def test_production_configuration_is_safe(monkeypatch, database_url, make_staff):
    """Like Django's `check --deploy`: every hardening setting, checked on the running app."""
    for bad_key in (None, "", "x" * 31):
        production_env(monkeypatch, database_url, bad_key)
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            ProductionConfig()
    production_env(monkeypatch, database_url)
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        ProductionConfig()

    production_env(monkeypatch, database_url)
    app = create_app(ProductionConfig())
    c = app.config
    assert not app.debug and not c["DEBUG"] and not c["TESTING"]
    assert c["SECRET_KEY"] == "k" * 48
    assert c["SESSION_COOKIE_SECURE"] and c["SESSION_COOKIE_HTTPONLY"]
    assert c["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert c["WTF_CSRF_ENABLED"] and c["HSTS"] and not c["DEMO_MODE"]

    user = make_staff()
    client = app.test_client()
    https = {"base_url": "https://maatwerk.example"}
    page = client.get("/login", **https)
    assert "max-age=" in page.headers["Strict-Transport-Security"]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)[1]
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        headers={"Referer": "https://maatwerk.example/login"}, **https,
    )
    assert response.status_code == 302
    [cookie] = [c for c in response.headers.getlist("Set-Cookie")
                if c.startswith("maatwerk_session=")]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    app.extensions["maatwerk.engine"].dispose()
