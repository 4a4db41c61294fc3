"""Who may reach what: the anonymous allow-list, roles, CSRF, safe methods, response headers."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from matching.services.pairing import open_match
from matching.store import StaffUser
from tests.conftest import table_digest as table_hash
from tests.logins import PASSWORD, csrf_token, login
from web.auth import PUBLIC_ENDPOINTS

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or endpoint.startswith(("public.", "api."))


def routes(app: Flask) -> Iterator[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule, with placeholder values for its arguments."""
    for rule in app.url_map.iter_rules():
        placeholder = "maatwerk.css" if rule.endpoint == "static" else "x"
        values = dict.fromkeys(rule.arguments, placeholder)
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"OPTIONS"}):
            yield rule.endpoint, method, url


def sign_in(app: Flask, make_staff, role: str) -> tuple[FlaskClient, StaffUser]:
    user = make_staff(role=role)
    client = app.test_client()
    assert login(client, user.email).status_code == 302
    return client, user


def test_the_allow_list_is_small_and_known():
    assert PUBLIC_ENDPOINTS == {
        "auth.login", "static", "home.healthz", "i18n.switch", "api-docs.openapi_json",
        "links.show", "links.decide", "links.renew",
        "check_ins.show", "check_ins.submit", "check_ins.renew",
        "referral_status.show", "referral_status.note", "referral_status.renew",
        "replies.available", "replies.answer_available", "replies.exit_question",
        "replies.answer_exit",
        "privacy.statement",
    }


def test_every_route_refuses_anonymous_visitors_except_the_allow_list(app, client):
    token = csrf_token(client, "/login")
    checked = 0
    for endpoint, method, url in routes(app):
        if is_public(endpoint):
            continue
        data = {"csrf_token": token} if method in STATE_CHANGING else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert response.location.startswith("/login"), (endpoint, method)
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("role", ["coordinator", "analyst"])
def test_staff_management_is_for_admins_only(app, make_staff, engine, role):
    client, _user = sign_in(app, make_staff, role)
    victim = make_staff()
    token = csrf_token(client, "/")
    assert client.get("/beheer/medewerkers").status_code == 403
    create = client.post("/beheer/medewerkers", data={
        "csrf_token": token, "name": "Indringer", "email": "in@vcu.example", "role": "admin",
        "password": "een-heel-lange-wachtzin",
    })
    assert create.status_code == 403
    assert client.post(f"/beheer/medewerkers/{victim.id}/actief",
                       data={"csrf_token": token, "active": "0"}).status_code == 403
    assert staff_row(engine, email="in@vcu.example") is None
    assert staff_row(engine, id=victim.id)["active"]


def staff_row(engine, **where):
    """Read outside any long-lived session, so SQLite's write lock is released at once."""
    table = StaffUser.__table__
    query = select(table).where(*(table.c[k] == v for k, v in where.items()))
    with engine.connect() as connection:
        return connection.execute(query).mappings().first()


def test_admin_lists_creates_and_disables_staff(app, make_staff, engine):
    admin, me = sign_in(app, make_staff, "admin")
    colleague, other = sign_in(app, make_staff, "coordinator")
    page = admin.get("/beheer/medewerkers")
    assert page.status_code == 200
    assert other.email in page.get_data(as_text=True)

    token = csrf_token(admin, "/beheer/medewerkers")
    form = {"csrf_token": token, "name": "Nieuwe Collega", "email": "Nieuw@VCU.example",
            "role": "analyst", "password": "password123"}
    weak = admin.post("/beheer/medewerkers", data=form)
    assert weak.status_code == 422
    assert "minstens 12 tekens" in weak.get_data(as_text=True)
    assert staff_row(engine, email="nieuw@vcu.example") is None
    # An address the mailer would refuse could never receive a notice: refused here already.
    unsendable = admin.post("/beheer/medewerkers", data={
        **form, "password": PASSWORD, "email": "nieuw@vcu.local"})
    assert unsendable.status_code == 422
    assert "Vul een geldig e-mailadres in." in unsendable.get_data(as_text=True)
    assert staff_row(engine, email="nieuw@vcu.local") is None

    assert admin.post("/beheer/medewerkers", data={**form, "password": PASSWORD}).status_code == 302
    new = staff_row(engine, email="nieuw@vcu.example")
    assert new["role"] == "analyst" and new["password_hash"].startswith("$argon2id$")
    assert admin.post("/beheer/medewerkers", data={**form, "password": PASSWORD}).status_code == 409

    def toggle(user_id: str, active: str) -> int:
        data = {"csrf_token": token, "active": active}
        return admin.post(f"/beheer/medewerkers/{user_id}/actief", data=data).status_code

    assert toggle(other.id, "0") == 302
    assert not staff_row(engine, id=other.id)["active"]
    kicked = colleague.get("/")
    assert kicked.status_code == 302 and kicked.location.startswith("/login")
    assert toggle(me.id, "0") == 409, "an admin cannot lock themselves out"
    assert toggle(other.id, "1") == 302
    assert staff_row(engine, id=other.id)["active"] and staff_row(engine, id=me.id)["active"]


def test_csrf_missing_or_foreign_token_is_refused_and_changes_nothing(app, make_staff, engine):
    admin, _me = sign_in(app, make_staff, "admin")
    stranger, _other = sign_in(app, make_staff, "admin")
    foreign = csrf_token(stranger, "/beheer/medewerkers")
    before = table_hash(engine)
    form = {"name": "Via CSRF", "email": "csrf@vcu.example", "role": "admin", "password": PASSWORD}
    for data in (form, {**form, "csrf_token": foreign}, {**form, "csrf_token": "onzin"}):
        assert admin.post("/beheer/medewerkers", data=data).status_code == 400
        assert admin.post("/logout", data=data).status_code == 400
    anonymous = app.test_client().post("/login", data={"email": "x@y.nl", "password": "z"})
    assert anonymous.status_code == 400
    assert table_hash(engine) == before
    assert admin.get("/").status_code == 200, "the refused logout left the session alone"


def test_get_and_head_never_change_state(app, make_staff, make_volunteer, make_resident, session,
                                         engine):
    client, _user = sign_in(app, make_staff, "admin")
    open_match(session, volunteer_id=make_volunteer().id, resident_id=make_resident().id)
    session.commit()
    before = table_hash(engine)
    requested = 0
    for _endpoint, method, url in routes(app):
        if method in {"GET", "HEAD"}:
            client.open(url, method=method)
            app.test_client().open(url, method=method)
            requested += 1
    assert requested >= 6
    assert table_hash(engine) == before


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)|\son[a-z]+\s*=", re.IGNORECASE)


def assert_headers(response, url: str, production: bool = False) -> None:
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, url
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
    assert h.get("X-Content-Type-Options") == "nosniff", url
    assert h.get("Referrer-Policy") == "same-origin", url
    assert ("Strict-Transport-Security" in h) == production, url
    if not url.startswith("/static/"):
        assert h.get("Cache-Control") == "no-store", url
    if response.mimetype == "text/html":
        assert not INLINE_SCRIPT.search(response.get_data(as_text=True)), url


def crawl(app: Flask, client: FlaskClient) -> Iterator[tuple[str, object]]:
    for _endpoint, method, url in routes(app):
        if method == "GET":
            yield url, client.get(url)
            yield url, client.get(url, follow_redirects=True)
    yield "/bestaat-niet", client.get("/bestaat-niet")


def test_security_headers_on_every_response_of_a_crawl(app, make_staff):
    staff_client, _user = sign_in(app, make_staff, "admin")
    seen = 0
    for client in (app.test_client(), staff_client):
        for url, response in crawl(app, client):
            assert_headers(response, url)
            seen += 1
    assert seen >= 10


def test_healthz_answers_anonymously(client, engine):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1


def test_analyst_home_shows_counts_but_no_names(app, make_staff, make_volunteer, make_resident,
                                                session):
    make_volunteer(first_name="Kanarievrijwilliger", email="kanarie-v@example.org")
    make_resident(first_name="Kanariedeelnemer", notes="kanarie-notitie")
    session.commit()
    client, _user = sign_in(app, make_staff, "analyst")
    page = client.get("/").get_data(as_text=True)
    assert 'data-count="volunteers">1<' in page
    assert "kanarie" not in page.lower()
