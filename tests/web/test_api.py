"""The partner JSON API: tokens, scopes, CRUD with version checks, filters, problems, privacy."""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, ignored_auth, response_headers_conformance,
    response_schema_conformance, status_code_conformance,
)
from sqlalchemy import select

import config
from matching.errors import ValidationFailed
from matching.services import api_tokens
from matching.store import ApiToken, AuditEvent, GroupActivity, Resident, Volunteer, schema, utcnow

ORGANISATION = "Buurtteam Overvecht"
API = "/api/v1"


@pytest.fixture
def issue(session):
    """Issue a token of this scope; returns (row, Authorization headers)."""

    def make(scope: str = "write", organisation: str = ORGANISATION):
        row, token = api_tokens.issue(session, organisation=organisation, scope=scope,
                                      created_by="admin@vcu.example", now=utcnow())
        session.commit()
        return row, {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def writer(issue):
    return issue("write")[1]


def problem_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    return body


NEW_VOLUNTEER = {"first_name": "Fatima", "last_name": "El Amrani", "email": "fatima@example.org",
                 "phone": "06-1234 5678", "postcode": "3561ab", "birth_year": 1985,
                 "interests": ["wandelen"], "languages": ["nl", "ar"], "availability": [4, 1]}
NEW_RESIDENT = {"first_name": "Kees", "last_name": "Bakker", "postcode": "3562 CD",
                "birth_year": 1938, "referrer_name": "Sanne Visser",
                "referrer_email": "sanne@buurtteam.example", "target_group": "older_person",
                "health_note": "HEALTHCANARY", "health_note_consent": True}


def test_a_token_is_stored_only_as_its_hash(session, issue):
    row, headers = issue("read")
    token = headers["Authorization"].removeprefix("Bearer ")
    stored = session.get(ApiToken, row.id)
    assert token.startswith(f"mw_{stored.prefix}_") and len(token) > 50
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(getattr(stored, column.key))
               for column in ApiToken.__table__.columns)
    assert (stored.scope, stored.organisation, stored.created_by) == (
        "read", ORGANISATION, "admin@vcu.example")
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.subject_id == row.id)) == (
        "api_token.issued")


def test_issue_refuses_an_unknown_scope_and_a_missing_organisation(session):
    with pytest.raises(ValidationFailed) as failure:
        api_tokens.issue(session, organisation=" ", scope="admin", created_by=None, now=utcnow())
    assert failure.value.errors == {"organisation": "required", "scope": "invalid_choice"}


def test_without_a_valid_token_the_api_answers_401(client, session, issue, caplog):
    row, headers = issue("write")
    token = headers["Authorization"].removeprefix("Bearer ")
    caplog.set_level(logging.INFO)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for sent in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": f"Bearer {forged}"},
                 {"Authorization": f"Basic {token}"}, {"Authorization": "Bearer "}):
        response = client.get(f"{API}/volunteers", headers=sent)
        problem_of(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get(f"{API}/volunteers", headers=headers).status_code == 200
    api_tokens.revoke(session, row.prefix, actor="admin@vcu.example", now=utcnow())
    session.commit()
    problem_of(client.get(f"{API}/volunteers", headers=headers), 401)
    assert token not in caplog.text and forged not in caplog.text
    assert "security.api_token_refused" in caplog.text


def test_every_api_route_but_the_openapi_document_needs_a_token(app, client, logged_in):
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<string(length=32):id>", "0" * 32)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, json={})
            if rule.endpoint == "api-docs.openapi_json":
                assert response.status_code == 200
            else:
                assert rule.endpoint.startswith("api."), rule.endpoint
                problem_of(response, 401)
                checked += 1
    assert checked == 19
    # A logged-in staff member's session cookie does not authorise API calls either.
    staff = logged_in("admin")
    problem_of(staff.get(f"{API}/volunteers"), 401)
    problem_of(staff.post(f"{API}/volunteers", json=NEW_VOLUNTEER), 401)


def test_unknown_api_paths_and_methods_get_problems_not_the_login_page(client, writer):
    problem_of(client.get(f"{API}/nothing-here", headers=writer), 404)
    response = client.put(f"{API}/volunteers", headers=writer, json={})
    problem_of(response, 405)


def test_the_openapi_document_lists_every_operation_with_bearer_security(client):
    document = client.get(f"{API}/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    operations = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    assert operations == {
        ("GET", f"{API}/volunteers"), ("POST", f"{API}/volunteers"),
        ("GET", f"{API}/volunteers/{{id}}"), ("PATCH", f"{API}/volunteers/{{id}}"),
        ("DELETE", f"{API}/volunteers/{{id}}"),
        ("GET", f"{API}/residents"), ("POST", f"{API}/residents"),
        ("GET", f"{API}/residents/{{id}}"), ("PATCH", f"{API}/residents/{{id}}"),
        ("DELETE", f"{API}/residents/{{id}}"),
        ("GET", f"{API}/stats"),
        ("POST", f"{API}/runs"), ("GET", f"{API}/runs/{{id}}"), ("GET", f"{API}/proposals"),
        ("POST", f"{API}/proposals/{{id}}/approve"), ("POST", f"{API}/proposals/{{id}}/reject"),
        ("GET", f"{API}/activities"), ("POST", f"{API}/activities"), ("PATCH", f"{API}/activities/{{id}}"),
    }
    assert document["security"] == [{"bearer": []}]
    assert "health_note" not in document["components"]["schemas"]["Resident"]["properties"]


def test_a_read_token_cannot_write(client, session, issue, make_volunteer):
    volunteer = make_volunteer(partner_organisation=ORGANISATION)
    session.commit()
    _row, headers = issue("read")
    url = f"{API}/volunteers/{volunteer.id}"
    assert client.get(url, headers=headers).status_code == 200
    problem_of(client.post(f"{API}/volunteers", headers=headers, json=NEW_VOLUNTEER), 403)
    problem_of(client.patch(url, headers=headers, json={"first_name": "X", "version": 1}), 403)
    problem_of(client.delete(url, headers=headers), 403)
    session.expire_all()
    assert session.scalar(select(Volunteer.first_name).where(Volunteer.id == volunteer.id)) == (
        "Anne")
    assert session.query(Volunteer).count() == 1


def test_volunteer_round_trip_with_version_checks_and_audit(client, session, writer):
    created = client.post(f"{API}/volunteers", headers=writer, json=NEW_VOLUNTEER)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    url = f"{API}/volunteers/{body['id']}"
    assert created.headers["Location"].endswith(url) and created.headers["ETag"] == '"1"'
    assert (body["postcode"], body["phone"], body["availability"]) == (
        "3561 AB", "+31612345678", [1, 4])
    assert (body["status"], body["source"], body["version"]) == ("new", "api", 1)
    assert "lat" not in body

    read = client.get(url, headers=writer)
    assert read.status_code == 200 and read.get_json() == body

    changed = client.patch(url, headers={**writer, "If-Match": '"1"'},
                           json={"first_name": "Fatma", "capacity": 2})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert (changed.get_json()["first_name"], changed.get_json()["version"]) == ("Fatma", 2)
    assert changed.headers["ETag"] == '"2"'
    stale = client.patch(url, headers=writer, json={"first_name": "Old", "version": 1})
    body = problem_of(stale, 409)
    assert body["detail"]
    problem_of(client.patch(url, headers={**writer, "If-Match": "1"}, json={"last_name": "X"}), 409)
    missing = problem_of(client.patch(url, headers=writer, json={"last_name": "X"}), 422)
    assert missing["errors"]["version"]["code"] == "required"
    bad = problem_of(client.patch(url, headers={**writer, "If-Match": "soon"}, json={}), 422)
    assert "If-Match" in bad["errors"]

    stored = session.get(Volunteer, changed.get_json()["id"])
    assert (stored.first_name, stored.capacity, stored.version) == ("Fatma", 2, 2)
    actions = session.execute(
        select(AuditEvent.action, AuditEvent.actor).where(AuditEvent.subject_id == stored.id)
        .order_by(AuditEvent.id)).all()
    assert actions == [("volunteer.created", f"api:{ORGANISATION}"),
                       ("volunteer.viewed", f"api:{ORGANISATION}"),
                       ("volunteer.updated", f"api:{ORGANISATION}")]
    session.rollback()  # end the read: SQLite's BEGIN IMMEDIATE would block the app's writes

    assert client.delete(url, headers=writer).status_code == 204
    problem_of(client.get(url, headers=writer), 404)
    problem_of(client.delete(url, headers=writer), 404)
    problem_of(client.patch(url, headers=writer, json={"version": 3}), 404)
    assert client.get(f"{API}/volunteers", headers=writer).get_json()["total"] == 0
    session.expire_all()
    erased = session.get(Volunteer, stored.id)
    assert (erased.first_name, erased.email, erased.phone, erased.status) == (
        "", None, None, "stopped")


def test_resident_referral_never_returns_the_health_note(client, session, writer):
    created = client.post(f"{API}/residents", headers=writer, json=NEW_RESIDENT)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["status"] == "referred"
    assert body["referrer_organisation"] == ORGANISATION
    url = f"{API}/residents/{body['id']}"
    for response in (created, client.get(url, headers=writer),
                     client.get(f"{API}/residents", headers=writer),
                     client.patch(url, headers=writer, json={"version": 1, "loneliness_score": 4})):
        assert response.status_code in (200, 201)
        assert "HEALTHCANARY" not in response.get_data(as_text=True)
        assert "health_note" not in response.get_data(as_text=True)
    assert session.get(Resident, body["id"]).health_note == "HEALTHCANARY"
    session.rollback()
    missing = problem_of(client.post(f"{API}/residents", headers=writer,
                                     json={"first_name": "Piet", "health_note": "x"}), 422)
    assert {"referrer_name", "referrer_email", "health_note"} <= set(missing["errors"])
    assert client.delete(url, headers=writer).status_code == 204
    session.expire_all()
    assert session.get(Resident, body["id"]).health_note is None


def test_problems_name_each_invalid_field_with_a_key_and_a_dutch_message(client, writer, session):
    response = client.post(f"{API}/volunteers", headers=writer, json={
        "first_name": "Jan", "postcode": "0123 AB", "email": "nope", "birth_year": "old"})
    body = problem_of(response, 422)
    # marshmallow refuses the wrong JSON type before the services see the rest.
    assert body["errors"] == {"birth_year": {"code": "invalid",
                                             "message": "Ongeldige waarde voor dit veld."}}
    body = problem_of(client.post(f"{API}/volunteers", headers=writer, json={
        "first_name": "Jan", "postcode": "0123 AB", "email": "nope"}), 422)
    assert body["errors"]["postcode"] == {
        "code": "invalid_postcode",
        "message": "Geen Nederlandse postcode (1234 AB; niet met 0 beginnend, niet SA/SD/SS).",
    }
    assert body["errors"]["email"]["code"] == "invalid_email"
    body = problem_of(client.post(f"{API}/volunteers", headers=writer, json={}), 422)
    assert body["errors"]["first_name"]["code"] == "required"
    problem_of(client.post(f"{API}/volunteers", headers={**writer, "Content-Type":
                                                          "application/json"}, data="{oops"), 400)
    assert session.query(Volunteer).count() == 0


def test_extra_fields_are_ignored_not_assigned(client, session, writer, make_volunteer):
    response = client.post(f"{API}/volunteers", headers=writer, json={
        "first_name": "Mo", "id": "f" * 32, "status": "available", "version": 7,
        "open_matches": 1, "source": "demo", "email_verified_at": "2026-01-01T00:00:00Z",
        "is_returning": True})
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = session.get(Volunteer, response.get_json()["id"])
    assert stored.id != "f" * 32 and session.get(Volunteer, "f" * 32) is None
    assert (stored.status, stored.version, stored.open_matches, stored.source) == (
        "new", 1, 0, "api")
    assert (stored.email_verified_at, stored.is_returning) == (None, False)
    volunteer_id = stored.id
    session.rollback()
    patched = client.patch(f"{API}/volunteers/{volunteer_id}", headers=writer, json={
        "version": 1, "status": "stopped", "open_matches": 1, "id": "e" * 32, "last_name": "Ali"})
    assert patched.status_code == 200
    session.expire_all()
    stored = session.get(Volunteer, volunteer_id)
    assert (stored.status, stored.open_matches, stored.last_name) == ("new", 0, "Ali")


def test_lists_filter_and_page_with_a_total(client, session, writer, make_volunteer,
                                            make_resident):
    now = utcnow()
    for n in range(5):
        make_volunteer(first_name=f"V{n}", postcode="3511 AB" if n < 3 else "3562 CD",
                       interests=["wandelen"] if n % 2 == 0 else ["koffie_drinken"],
                       languages=["nl", "ar"] if n == 4 else ["nl"],
                       status="available" if n != 1 else "paused",
                       created_at=now + timedelta(seconds=n), partner_organisation=ORGANISATION)
    make_resident(target_group="young_person", postcode="3511 CD",
                  referrer_organisation=ORGANISATION, organisation=ORGANISATION)
    make_resident(target_group="older_person", postcode="3562 CD",
                  referrer_organisation=ORGANISATION, organisation=ORGANISATION)
    session.commit()

    def names(query: str) -> tuple[list[str], int]:
        response = client.get(f"{API}/volunteers?{query}", headers=writer)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        return [item["first_name"] for item in body["items"]], body["total"]

    assert names("") == (["V0", "V1", "V2", "V3", "V4"], 5)
    assert names("page_size=2&page=2") == (["V2", "V3"], 5)
    assert names("page_size=2&page=4") == ([], 5)
    assert names("status=paused") == (["V1"], 1)
    assert names("postcode=3511") == (["V0", "V1", "V2"], 3)
    assert names("postcode=3562cd") == (["V3", "V4"], 2)
    assert names("interest=wandelen") == (["V0", "V2", "V4"], 3)
    # "_" is a LIKE wildcard: "koffie_drinken" must not match "koffieXdrinken" and vice versa.
    assert names("interest=koffie_drinken") == (["V1", "V3"], 2)
    assert names("language=ar&interest=wandelen") == (["V4"], 1)
    assert names("interest=wand") == ([], 0)
    residents = client.get(f"{API}/residents?target_group=young_person", headers=writer).get_json()
    assert [r["postcode"] for r in residents["items"]] == ["3511 CD"]
    for bad in ("page=0", "page_size=101", "status=busy", "postcode=abc", "interest=%00"):
        body = problem_of(client.get(f"{API}/volunteers?{bad}", headers=writer), 422)
        assert set(body["errors"]) == {bad.split("=")[0]}
    viewed = session.scalars(select(AuditEvent.subject_id).where(
        AuditEvent.action == "volunteer.viewed", AuditEvent.actor == f"api:{ORGANISATION}"))
    assert len(set(viewed)) == 5


def test_the_rate_limit_is_per_token(database_url, session, issue):
    from web import create_app

    app = create_app(config.TestConfig(database_url, API_RATE_LIMIT="3 per minute"))
    client = app.test_client()
    _row, first = issue("read")
    _row, second = issue("read")
    for _ in range(3):
        assert client.get(f"{API}/volunteers", headers=first).status_code == 200
    response = client.get(f"{API}/volunteers", headers=first)
    problem_of(response, 429)
    assert int(response.headers["Retry-After"]) >= 1
    assert client.get(f"{API}/volunteers", headers=second).status_code == 200
    app.extensions["maatwerk.engine"].dispose()


def test_the_models_match_the_migrations(engine):
    schema.check(engine)


def test_the_api_keeps_to_its_openapi_document(app, session, writer, make_volunteer,
                                               make_resident):
    """Generated requests with a write token: no 5xx, and every response as documented."""
    from tests.services.workflow import run

    known = {"volunteers": make_volunteer(partner_organisation=ORGANISATION,
                                          notes="NOTESCANARY").id,
             "residents": make_resident(health_note="HEALTHCANARY", notes="NOTESCANARY",
                                        referrer_organisation=ORGANISATION,
                                        organisation=ORGANISATION).id}
    session.commit()
    [proposal] = run(session)
    known.update(runs=proposal.run_id, proposals=proposal.id)
    activity = GroupActivity(name="Taalcafé", organiser=ORGANISATION, organisation=ORGANISATION,
                             availability=[2], created_at=utcnow(), updated_at=utcnow())
    session.add(activity)
    session.commit()
    known["activities"] = activity.id
    # schemathesis.pytest.from_fixture does not work with pytest 9 (request.node._nodeid), so
    # each operation gets its own hypothesis run here.
    document = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_headers_conformance, response_schema_conformance, ignored_auth]
    operations = [result.ok() for result in document.get_all_operations()]
    assert len(operations) == 19

    for operation in operations:
        @given(case=operation.as_strategy(), existing=st.booleans())
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def keeps_to_the_document(case: schemathesis.Case, existing: bool) -> None:
            if existing and case.path_parameters:
                case.path_parameters["id"] = known[case.path.split("/")[3]]
            response = case.call_and_validate(headers=writer, checks=checks)
            assert "HEALTHCANARY" not in response.text and "NOTESCANARY" not in response.text

        keeps_to_the_document()


def test_every_validation_key_has_a_dutch_message():
    from matching.services.validation import KEYS
    from web.api.problems import FIELD_MESSAGES

    assert set(KEYS) <= set(FIELD_MESSAGES)


def test_the_api_takes_a_bearer_token_instead_of_a_csrf_token(app, client, writer, logged_in):
    assert app.config["WTF_CSRF_ENABLED"]
    staff = logged_in("coordinator")
    assert staff.post("/logout").status_code == 400  # the staff side still demands CSRF tokens
    response = staff.post(f"{API}/volunteers", headers=writer, json={"first_name": "Lin"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_the_api_takes_exactly_the_fields_validation_defines_for_partners():
    """A field is written once, in matching.services.validation; the API schema follows it."""
    from datetime import date

    from matching.services import validation
    from web.api import schemas

    for kind, create, update in (("volunteer", schemas.VolunteerCreate, schemas.VolunteerUpdate),
                                 ("resident", schemas.ResidentCreate, schemas.ResidentUpdate)):
        table = validation.volunteer_fields if kind == "volunteer" else validation.resident_fields
        partners = {name for name, rule in table(date(2026, 1, 1), validation.Taxonomy()).items()
                    if not rule.internal}
        assert set(create().fields) == partners
        assert set(update().fields) == partners | {"version"}
    assert {"notes", "manual_lat", "referrer_organisation"}.isdisjoint(schemas.ResidentCreate().fields)
    assert "health_note" not in schemas.Resident().fields
