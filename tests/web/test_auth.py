"""Staff login: rate limits, lockout, password policy, sessions that really end, cookies."""
from __future__ import annotations

import json

from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from matching.services import staff as staff_service
from matching.store import StaffUser
from tests.conftest import CHEAP_HASH
from tests.logins import PASSWORD, csrf_token, login

CANARY_NAME = "Kanarie Zq7xw"
CANARY_EMAIL = "kanarie-zq7xw@vcu.example"


def attempt(client, email: str, password: str, address: str):
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token},
        environ_base=environ,
    )


ADDR = "10.0.0.7"


def test_eleventh_bad_password_from_one_address_gets_429_and_so_does_the_right_one(
    app, make_staff
):
    user = make_staff()
    for n in range(10):
        response = attempt(app.test_client(), f"iemand{n}@vcu.example", "fout-wachtwoord-1", ADDR)
        assert response.status_code == 200, n
    assert attempt(app.test_client(), "nog-iemand@vcu.example", "fout", ADDR).status_code == 429
    right = attempt(app.test_client(), user.email, PASSWORD, ADDR)
    assert right.status_code == 429
    assert "_user_id" not in right.headers.get("Set-Cookie", "")
    # Another address is not affected by this one's limit.
    assert attempt(app.test_client(), user.email, PASSWORD, "10.0.0.8").status_code == 302


def test_successful_logins_do_not_use_up_the_address_limit(app, make_staff):
    user = make_staff()
    for _n in range(12):
        assert attempt(app.test_client(), user.email, PASSWORD, "10.0.0.9").status_code == 302


def test_account_locks_after_ten_failures_from_many_addresses_even_for_the_right_password(
    app, make_staff, session
):
    user = make_staff()
    for n in range(10):
        wrong = attempt(app.test_client(), user.email, "fout-wachtwoord-1", f"10.1.0.{n}")
        assert wrong.status_code == 200
    client = app.test_client()
    response = attempt(client, user.email, PASSWORD, "10.1.0.99")
    assert response.status_code == 200
    assert "geblokkeerd" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    session.expire_all()
    assert session.get(StaffUser, user.id).locked_until is not None


def test_passwords_are_argon2id_and_common_or_short_ones_refused(session, make_staff):
    user = make_staff()
    assert user.password_hash.startswith("$argon2id$")
    for bad, key in [("password123", "too_short"), ("password1234", "too_common"),
                     ("Welkom123456!", "too_common"), ("kort", "too_short")]:
        try:
            staff_service.create_user(
                session, email="x@vcu.example", name="X", role="admin", password=bad,
                profile=CHEAP_HASH,
            )
        except staff_service.ValidationFailed as error:
            assert error.errors["password"] == key, bad
        else:
            raise AssertionError(f"{bad!r} accepted")
    assert session.scalar(select(StaffUser).where(StaffUser.email == "x@vcu.example")) is None


def test_create_user_command_makes_an_account_and_there_is_no_default_one(app, session):
    from web.cli import create_user

    assert session.scalars(select(StaffUser)).all() == []
    session.rollback()  # release SQLite's write lock (BEGIN IMMEDIATE) for the command
    runner = app.test_cli_runner()
    refused = runner.invoke(
        create_user, ["--email", "a@vcu.example", "--name", "Ans", "--role", "admin"],
        env={"MAATWERK_PASSWORD": "password123"},
    )
    assert refused.exit_code != 0 and "minstens 12 tekens" in refused.output
    personal = runner.invoke(
        create_user, ["--email", "annemarie@vcu.example", "--name", "Ans", "--role", "admin"],
        env={"MAATWERK_PASSWORD": "annemarie-zegt-hallo"},
    )
    assert "lijkt te veel op uw naam of e-mailadres" in personal.output
    assert "too_" not in refused.output + personal.output
    for address in ("coordinator@demo.maatwerk.local", "a@localhost", "a@b.test", "a@b@c.nl"):
        unsendable = runner.invoke(
            create_user, ["--email", address, "--name", "Ans", "--role", "admin"],
            env={"MAATWERK_PASSWORD": PASSWORD},
        )
        assert unsendable.exit_code != 0, address
        assert "Vul een geldig e-mailadres in." in unsendable.output, address
    result = runner.invoke(
        create_user, ["--email", "Beheer@VCU.example", "--name", "Ans", "--role", "admin"],
        env={"MAATWERK_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    [user] = session.scalars(select(StaffUser)).all()
    assert (user.email, user.role) == ("beheer@vcu.example", "admin")
    assert user.password_hash.startswith("$argon2id$")
    session.rollback()
    assert login(app.test_client(), "beheer@vcu.example").status_code == 302


def test_replayed_cookie_after_logout_gets_the_login_page(client, make_staff):
    user = make_staff()
    assert login(client, user.email).status_code == 302
    stolen = client.get_cookie("maatwerk_session").value
    assert client.get("/").status_code == 200
    logout = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert logout.status_code == 302
    client.set_cookie("maatwerk_session", stolen)
    replay = client.get("/")
    assert replay.status_code == 302 and replay.location.startswith("/login")


def test_disabling_a_user_or_changing_the_password_ends_other_sessions(app, make_staff, session):
    user = make_staff()
    changes = [
        ("een-nieuwe-lange-wachtzin", lambda u: staff_service.set_password(
            session, u, "een-nieuwe-lange-wachtzin", CHEAP_HASH)),
        (None, lambda u: staff_service.set_active(session, u, False)),
    ]
    password = PASSWORD
    for new_password, change in changes:
        client = app.test_client()
        assert login(client, user.email, password).status_code == 302
        assert client.get("/").status_code == 200
        change(session.get(StaffUser, user.id))
        session.commit()
        response = client.get("/")
        assert response.status_code == 302 and response.location.startswith("/login")
        password = new_password or password
    assert login(app.test_client(), user.email, password).status_code == 200, "disabled account"


def test_session_cookie_flags_and_no_personal_data(app, client, make_staff):
    user = make_staff(name=CANARY_NAME, email=CANARY_EMAIL)
    response = login(client, user.email)
    assert response.status_code == 302
    [cookie] = [c for c in response.headers.getlist("Set-Cookie")
                if c.startswith("maatwerk_session=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development and tests run over plain http
    client.get("/")  # the home page greets the user by name: still nothing in the cookie
    value = client.get_cookie("maatwerk_session").value
    data = SecureCookieSessionInterface().get_signing_serializer(app).loads(value)
    text = json.dumps(data, default=str).lower()
    for canary in ("kanarie", "zq7xw", CANARY_EMAIL):
        assert canary not in text
    assert data["_user_id"].startswith(user.id + ":")


def test_behind_a_trusted_proxy_the_limit_is_per_client_address(
    database_url, translations, make_staff
):
    from config import TestConfig as AppConfig
    from web import create_app

    app = create_app(AppConfig(database_url, TRUSTED_PROXIES=1,
                               BABEL_TRANSLATION_DIRECTORIES=translations))
    user = make_staff()

    def via_proxy(client_address: str, email: str, password: str) -> int:
        client = app.test_client()
        headers = {"X-Forwarded-For": client_address}
        page = client.get("/login", headers=headers).get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        form = {"email": email, "password": password, "csrf_token": token}
        return client.post("/login", headers=headers, data=form).status_code

    for _n in range(10):
        assert via_proxy("203.0.113.5", "niemand@vcu.example", "fout-wachtwoord-1") == 200
    assert via_proxy("203.0.113.5", "niemand@vcu.example", "fout-wachtwoord-1") == 429
    assert via_proxy("198.51.100.7", user.email, PASSWORD) == 302, "another client, same proxy"
    app.extensions["maatwerk.engine"].dispose()


def test_session_protection_drops_a_cookie_used_from_another_browser(client, make_staff):
    assert login(client, make_staff().email).status_code == 302
    assert client.get("/").status_code == 200
    moved = client.get("/", headers={"User-Agent": "Ander apparaat/1.0"})
    assert moved.status_code == 302 and moved.location.startswith("/login")


def test_lockout_ends_after_its_window(session, make_staff):
    from datetime import UTC, datetime, timedelta

    user = make_staff()
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    rules = {"profile": CHEAP_HASH, "lockout_attempts": 10, "lockout": timedelta(minutes=15)}
    for n in range(10):
        assert staff_service.authenticate(
            session, user.email, "fout-wachtwoord-1", now=start + timedelta(seconds=n), **rules
        ) is None
    later = start + timedelta(minutes=5)
    assert staff_service.authenticate(session, user.email, PASSWORD, now=later, **rules) is None
    after = start + timedelta(minutes=16)
    assert staff_service.authenticate(session, user.email, PASSWORD, now=after, **rules) is user
    session.commit()
    assert user.locked_until is None and user.failed_logins == 0
