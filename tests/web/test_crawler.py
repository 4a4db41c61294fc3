"""No input gives a 5xx, on SQLite or PostgreSQL, and a refused request changes no row.

The crawler walks every rule of `app.url_map` (staff pages, public forms, link pages, the API)
as each role that can reach it, with real ids from the demo population and hostile values in
the path, the query string and the body: NUL and other control characters, dates out of range
or impossible, 5,000-digit numbers, repeated and unknown parameters, deep JSON and wrong
content types. CSRF and rate limits are off here so that the values reach the views (both are
tested on their own elsewhere).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import select

import config
from demo import population as demo
from matching.services import api_tokens, proposals
from matching.store import (
    GroupActivity,
    ExitInterview, Match, MatchRun, MilestoneReview, OutboxMessage, Resident, StaffUser,
    Volunteer, utcnow,
)
from tests.conftest import CHEAP_HASH, table_digest
from tests.logins import PASSWORD, login

TODAY = date(2026, 11, 29)
HOSTILE = [
    "a\x00b", "\x00", "x\x1b[31m\x07", "0001-01-01", "9999-12-31", "0000-13-45", "9" * 5000,
    "-1", "' OR 1=1 --", "%",
]
# 32 characters, for the API's id converters, so the value reaches the view.
HOSTILE_IDS = ["a\x00" + "0" * 30, "9" * 32, "\x7f" * 32]
QUERY_NAMES = [
    "q", "van", "tot", "maand", "wijk", "doelgroep", "soort", "status", "page", "page_size", "run",
    "sort", "dir", "pc4", "neighbourhood", "min_wait", "interest", "language", "target_group",
    "met", "scope", "choice",
]
FORM_NAMES = [
    "first_name", "last_name", "email", "phone", "postcode", "house_number", "birth_year",
    "reason", "choice", "version", "intro_date", "volunteer_id", "until", "confirm", "keep",
    "met", "rating", "comment", "scope", "neighbourhood", "target_group", "name", "role",
    "password", "active", "note", "decision", "loneliness_score", "volunteer_go", "resident_go",
    "end_reason", "match_id", "soort", "capacity", "max_travel_km", "availability", "languages",
    "interests", "consent", "agreed", "text_version", "referral_source", "purpose",
]
JSON_BODIES = [
    {"first_name": "a\x00b", "last_name": "x"},
    {"scope": {"neighbourhood": "a\x00"}, "settings": {"min_score": 1e308}},
    {"van": "0001-01-01", "reason": "9999-12-31", "version": "0000-13-45"},
]
RAW_JSON = ["[" * 50_000 + "]" * 50_000, '{"birth_year": %s, "version": %s}' % ("9" * 5000, "9" * 5000),
            '{"first_name": "\\u0000"}', "{not json"]
SKIPPED = {"static", "auth.logout"}  # logging the crawler out would end its own walk


@pytest.fixture
def world(database_url, translations):
    from web import create_app

    app = create_app(config.TestConfig(
        database_url, BABEL_TRANSLATION_DIRECTORIES=translations, WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False, DEMO_MODE=True,
    ))
    sessions = app.extensions["maatwerk.sessions"]
    with sessions() as session:
        demo.load(session, seed=7, today=TODAY, postcode_file=None)
        from matching.services import staff

        for role in ("coordinator", "admin", "analyst", "coordinator"):
            staff.create_user(session, email=f"{role}{session.query(StaffUser).count()}@vcu.example",
                              name=role, role=role, password=PASSWORD, profile=CHEAP_HASH)
        _row, token = api_tokens.issue(session, organisation="Stichting Elders", scope="write",
                                       created_by=None, now=utcnow())
        _row, reader = api_tokens.issue(session, organisation="Stichting Elders", scope="read",
                                        created_by=None, now=utcnow())
        # A partner organisation's coordinator: every page through its scope.
        staff.create_user(session, email="partner@elders.example", name="partner", role="coordinator",
                          password=PASSWORD, profile=CHEAP_HASH, organisation="Stichting Elders")
        proposed = session.scalars(select(Match.id).where(Match.status == "proposed")).first()
        proposals.approve(session, proposed, actor=None, now=utcnow(), secret=app.secret_key,
                          base_url="http://localhost")
        session.commit()
        link = re.search(r"/koppeling/(\S+)", session.scalar(select(OutboxMessage.body_text).where(
            OutboxMessage.dedupe_key == f"proposal:{proposed}")))
        ids = {
            "volunteer": session.scalars(select(Volunteer.id)).first(),
            "resident": session.scalars(select(Resident.id)).first(),
            "match_id": session.scalars(select(Match.id).where(Match.status == "active")).first(),
            "proposal": session.scalars(select(Match.id).where(Match.status == "proposed")).first(),
            "review_id": session.scalars(select(MilestoneReview.id)).first() or "0" * 32,
            "interview_id": session.scalars(select(ExitInterview.id)).first() or "0" * 32,
            "run_id": session.scalars(select(MatchRun.id)).first(),
            "message_id": session.scalars(select(OutboxMessage.id)).first(),
            # The second coordinator: never one of the crawler's own accounts.
            "user_id": session.scalar(select(StaffUser.id).where(StaffUser.email == "coordinator3@vcu.example")),
            "token": link.group(1), "upload_id": "0" * 32, "soort": "vrijwilligers",
            "file_format": "csv", "fmt": "csv", "lang": "en",
            "name": "Stichting Elders", "rule_id": "0" * 32,
            "activity_id": session.scalars(select(GroupActivity.id)).first(),
            "suggestion_id": "0" * 32,
            "resident_id": session.scalars(select(Resident.id).where(Resident.organisation.is_(None))).first(),
        }
    clients = {"anonymous": app.test_client()}
    for role, email in (("coordinator", "coordinator0@vcu.example"),
                        ("admin", "admin1@vcu.example"), ("analyst", "analyst2@vcu.example"),
                        ("partner coordinator", "partner@elders.example")):
        clients[role] = app.test_client()
        assert login(clients[role], email).status_code == 302
    api = {"api-write": {"Authorization": f"Bearer {token}"},
           "api-read": {"Authorization": f"Bearer {reader}"}, "api-none": {}}
    yield app, ids, clients, api
    app.extensions["maatwerk.engine"].dispose()


def digest(engine) -> str:
    """Every row but the API tokens' last use (which each authenticated request notes)."""
    return table_digest(engine, skip=frozenset({"api_token"}))


def real_id(rule: str, name: str, ids: dict[str, str]) -> str:
    if name == "id":
        if "volunteer" in rule or "vrijwilligers" in rule:
            return ids["volunteer"]
        return ids["resident"]
    if name == "match_id" and "voorstellen" in rule:
        return ids["proposal"]
    if name == "id" and "proposals" in rule:
        return ids["proposal"]
    return ids[name]


def path(rule, values: dict[str, str]) -> str:
    out = rule.rule
    for name in rule.arguments:
        out = re.sub(r"<(?:[^:<>]+:)?%s>" % name, quote(values[name], safe=""), out)
    return out


def requests_for(rule, ids):
    """(method, url, body kind, body) for each hostile variant of one rule."""
    names = sorted(rule.arguments)
    real = {name: real_id(rule.rule, name, ids) for name in names}
    if "proposals" in rule.rule:
        real = {name: ids["proposal"] for name in names}
    api = rule.rule.startswith("/api/")
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        for value in HOSTILE:
            query = urlencode([(n, value) for n in QUERY_NAMES] + [("page", "2"), ("zzz", value)])
            url = f"{path(rule, real)}?{query}"
            if method == "GET":
                yield method, url, None, None
            elif api:
                yield method, url, "json", {"first_name": value, "reason": value, "scope": value}
            else:
                yield method, url, "form", {n: value for n in FORM_NAMES}
        for name in names:
            for bad in (HOSTILE_IDS if api else HOSTILE[:3] + HOSTILE[6:7]):
                yield method, path(rule, {**real, name: bad}), None, None
        if method != "GET" and api:
            for body in JSON_BODIES:
                yield method, path(rule, real), "json", body
            for raw in RAW_JSON:
                yield method, path(rule, real), "raw-json", raw
            yield method, path(rule, real), "text", "first_name=x"
        elif method != "GET":
            yield method, path(rule, real), "json", {"first_name": "a\x00b"}
            yield method, path(rule, real), "raw-json", RAW_JSON[0]


def caller_name(client, headers, clients) -> str:
    if headers:
        return "api token"
    return next(name for name, known in clients.items() if known is client)


def send(client, method, url, kind, body, headers):
    if kind == "json":
        return client.open(url, method=method, headers=headers,
                           data=json.dumps(body), content_type="application/json")
    if kind == "raw-json":
        return client.open(url, method=method, headers=headers, data=body,
                           content_type="application/json")
    if kind == "text":
        return client.open(url, method=method, headers=headers, data=body,
                           content_type="text/plain")
    if kind == "form":
        return client.open(url, method=method, headers=headers, data=body)
    return client.open(url, method=method, headers=headers)


def test_no_input_gives_a_5xx_and_a_refused_request_changes_no_row(world, engine):
    app, ids, clients, api = world
    seen: Counter[int] = Counter()
    server_errors: list[str] = []
    changed: list[str] = []
    routes = checked_groups = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIPPED:
            continue
        routes += 1
        if rule.rule.startswith("/api/"):
            callers = [(clients["anonymous"], headers) for headers in api.values()]
        else:
            callers = [(client, {}) for client in clients.values()]
        for client, headers in callers:
            # Rows are compared per rule and caller: when every write was refused, none changed.
            writes = bool(rule.methods & {"POST", "PATCH", "DELETE"})
            before = digest(engine) if writes else None
            accepted = False
            for method, url, kind, body in requests_for(rule, ids):
                response = send(client, method, url, kind, body, headers)
                seen[response.status_code] += 1
                if response.status_code >= 500:
                    server_errors.append(f"{response.status_code} {method} {url[:120]!r}")
                accepted |= method != "GET" and response.status_code < 400
            if before is not None and not accepted and rule.endpoint != "auth.login":
                checked_groups += 1
                if digest(engine) != before:
                    changed.append(f"{rule.rule} as {caller_name(client, headers, clients)}")
    print(f"crawler: {routes} routes, {sum(seen.values())} requests, {checked_groups} refused "
          f"groups compared row by row, status counts {dict(sorted(seen.items()))}")
    assert not server_errors, server_errors[:20]
    assert not changed, changed[:20]
    assert sum(seen.values()) > 5000 and seen[200] > 100
