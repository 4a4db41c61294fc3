"""The scope matrix: every API endpoint x {own, another organisation's, staff-entered} x {read, write}.

A partner token reads and acts only on its own organisation's people, on matches that involve
them and on the runs it started; the rest answers 404 and changes no row. A read token never
writes (403). A run it starts considers only its own residents and leaves other proposals alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from matching.services import pairing
from matching.store import Match, MatchRun, Resident, Volunteer, utcnow
from tests.conftest import table_digest

from .test_api import API, ORGANISATION, issue, problem_of  # noqa: F401 (fixture)

OTHER = "Stichting Elders"
OWNERS = ("own", "other", "staff")
ORGANISATIONS = {"own": ORGANISATION, "other": OTHER, "staff": None}


@dataclass
class World:
    volunteer: dict[str, str]
    resident: dict[str, str]
    proposal: dict[str, str]
    active: dict[str, str]
    run: dict[str, str]


@pytest.fixture
def world(session, make_volunteer, make_resident) -> World:
    """For each owner: a volunteer, a resident, a proposed and an active match, a run."""
    found = World({}, {}, {}, {}, {})
    now = utcnow()
    for n, owner in enumerate(OWNERS):
        organisation = ORGANISATIONS[owner]
        run = MatchRun(organisation=organisation, status="done", progress=100, started_at=now,
                       scope={}, settings={}, unmatched={})
        session.add(run)
        session.flush()
        volunteer = make_volunteer(first_name=f"V{owner}", email=f"v{n}@example.org", capacity=3,
                                   partner_organisation=organisation, lat=52.09 + n, lon=5.12)
        resident = make_resident(first_name=f"R{owner}", referrer_organisation=organisation, organisation=organisation,
                                 status="proposed", lat=52.09 + n, lon=5.12)
        matched = make_resident(first_name=f"M{owner}", referrer_organisation=organisation, organisation=organisation,
                                status="matched", lat=52.09 + n, lon=5.12)
        waiting = make_resident(first_name=f"W{owner}", referrer_organisation=organisation, organisation=organisation,
                                status="waiting", lat=52.09 + n, lon=5.121)
        proposal = pairing.open_match(session, volunteer_id=volunteer.id, resident_id=resident.id,
                                      status="proposed", run_id=run.id, score=50.0,
                                      proposed_at=now)
        active = pairing.open_match(session, volunteer_id=volunteer.id, resident_id=matched.id,
                                    status="active", activated_at=now, proposed_at=now)
        found.volunteer[owner], found.resident[owner] = volunteer.id, resident.id
        found.proposal[owner], found.active[owner], found.run[owner] = (
            proposal.id, active.id, run.id)
        assert waiting.id
    session.commit()
    return found


def rows(engine) -> str:
    """Every row but the token's last use (which every request notes)."""
    return table_digest(engine, skip=frozenset({"api_token"}))


PERSON_WRITES = {
    "volunteers": {"first_name": "Gekaapt"},
    "residents": {"first_name": "Gekaapt"},
}


def person_requests(world: World, owner: str) -> list[tuple[str, str, dict[str, Any], bool]]:
    """(method, url, json, writes) for each person endpoint on the owner's records."""
    out = []
    for kind, ids in (("volunteers", world.volunteer), ("residents", world.resident)):
        url = f"{API}/{kind}/{ids[owner]}"
        out += [("GET", url, {}, False),
                ("PATCH", url, {**PERSON_WRITES[kind], "version": 1}, True),
                ("DELETE", url, {}, True)]
    return out


def match_requests(world: World, owner: str) -> list[tuple[str, str, dict[str, Any], bool]]:
    proposal = world.proposal[owner]
    return [
        ("GET", f"{API}/runs/{world.run[owner]}", {}, False),
        ("POST", f"{API}/proposals/{proposal}/approve", {}, True),
        ("POST", f"{API}/proposals/{proposal}/reject", {"reason": "te ver"}, True),
    ]


def send(client, method: str, url: str, body: dict[str, Any], headers: dict[str, str]):
    return client.open(url, method=method, headers=headers,
                       json=body if method != "GET" else None)


@pytest.mark.parametrize("scope", ["read", "write"])
@pytest.mark.parametrize("owner", ["other", "staff"])
def test_records_outside_the_scope_answer_404_and_change_nothing(client, engine, world, issue,
                                                                 scope, owner):
    _row, headers = issue(scope)
    before = rows(engine)
    for method, url, body, writes in person_requests(world, owner) + match_requests(world, owner):
        response = send(client, method, url, body, headers)
        expected = 403 if writes and scope == "read" else 404
        problem_of(response, expected)
    assert rows(engine) == before


@pytest.mark.parametrize("scope", ["read", "write"])
def test_own_records_can_be_read_with_either_token(client, world, issue, scope):
    _row, headers = issue(scope)
    for method, url, body, writes in person_requests(world, "own") + match_requests(world, "own"):
        if not writes:
            assert send(client, method, url, body, headers).status_code == 200, url


def test_a_read_token_writes_nothing_even_on_its_own_records(client, engine, world, issue):
    _row, headers = issue("read")
    before = rows(engine)
    for method, url, body, writes in person_requests(world, "own") + match_requests(world, "own"):
        if writes:
            problem_of(send(client, method, url, body, headers), 403)
    problem_of(client.post(f"{API}/runs", json={}, headers=headers), 403)
    for kind in ("volunteers", "residents"):
        problem_of(client.post(f"{API}/{kind}", json={"first_name": "X"}, headers=headers), 403)
    assert rows(engine) == before


def test_a_write_token_acts_on_its_own_records(client, session, world, issue):
    _row, headers = issue("write")
    approved = client.post(f"{API}/proposals/{world.proposal['own']}/approve", json={},
                           headers=headers)
    assert approved.status_code == 200 and approved.get_json()["status"] == "offered"
    for kind, ids in (("volunteers", world.volunteer), ("residents", world.resident)):
        url = f"{API}/{kind}/{ids['own']}"
        patched = client.patch(url, json={"first_name": "Nieuw", "version": 1}, headers=headers)
        assert patched.status_code == 200, patched.get_data(as_text=True)
    session.expire_all()
    assert session.get(Match, world.proposal["own"]).status == "offered"
    assert session.get(Volunteer, world.volunteer["own"]).first_name == "Nieuw"


@pytest.mark.parametrize("scope", ["read", "write"])
@pytest.mark.parametrize("status", ["proposed", "active"])
def test_lists_hold_only_matches_and_people_of_the_own_organisation(client, world, issue, scope,
                                                                    status):
    _row, headers = issue(scope)
    expected = {"proposed": world.proposal, "active": world.active}[status]
    listed = client.get(f"{API}/proposals?status={status}&page_size=200", headers=headers)
    assert [p["id"] for p in listed.get_json()["items"]] == [expected["own"]]
    for owner in ("other", "staff"):
        by_run = client.get(f"{API}/proposals?run={world.run[owner]}", headers=headers)
        assert by_run.get_json()["total"] == 0
    volunteers = client.get(f"{API}/volunteers", headers=headers).get_json()["items"]
    assert [v["id"] for v in volunteers] == [world.volunteer["own"]]
    residents = client.get(f"{API}/residents", headers=headers).get_json()["items"]
    assert {r["referrer_organisation"] for r in residents} == {ORGANISATION}


def test_a_match_involving_an_own_volunteer_is_in_scope(client, session, world, issue,
                                                       make_resident):
    """A staff resident proposed to the organisation's own volunteer: the match involves it."""
    resident = make_resident(first_name="Gemengd", status="proposed")
    mixed = pairing.open_match(session, volunteer_id=world.volunteer["own"],
                               resident_id=resident.id, status="proposed", score=10.0)
    session.commit()
    _row, headers = issue("read")
    ids = [p["id"] for p in client.get(f"{API}/proposals", headers=headers).get_json()["items"]]
    assert sorted(ids) == sorted([world.proposal["own"], mixed.id])
    problem_of(client.get(f"{API}/residents/{resident.id}", headers=headers), 404)


def test_a_partner_run_considers_only_its_own_residents_and_leaves_other_proposals(
        client, session, engine, world, issue):
    _row, headers = issue("write")
    untouched = {owner: world.proposal[owner] for owner in ("other", "staff")}
    response = client.post(f"{API}/runs", json={}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    run = session.get(MatchRun, body["id"])
    assert run.organisation == ORGANISATION and run.status == "done"
    session.expire_all()
    for match_id in untouched.values():
        assert session.get(Match, match_id).status == "proposed"
    # The own resident's old proposal made way; every new proposal is for an own resident,
    # with the host's or the organisation's own volunteers.
    assert session.get(Match, world.proposal["own"]).status == "withdrawn"
    new = list(session.scalars(select(Match).where(Match.run_id == run.id)))
    assert new, "the own waiting residents got proposals"
    for match in new:
        assert match.resident.organisation == ORGANISATION
        assert match.volunteer.partner_organisation in (None, ORGANISATION)
    unmatched_owners = {session.get(Resident, rid).organisation for rid in run.unmatched}
    assert unmatched_owners <= {ORGANISATION}
    # The other organisation cannot see the run.
    _other_row, other = issue("read", OTHER)
    problem_of(client.get(f"{API}/runs/{run.id}", headers=other), 404)


def test_the_scope_cannot_be_widened_by_parameters(client, world, issue):
    _row, headers = issue("write")
    for query in (f"organisation={OTHER}", "organisation=", f"run={world.run['staff']}"):
        listed = client.get(f"{API}/proposals?{query}", headers=headers).get_json()
        assert {p["id"] for p in listed["items"]} <= {world.proposal["own"]}
    body = {"scope": {"organisation": OTHER}, "organisation": OTHER}
    started = client.post(f"{API}/runs", json=body, headers=headers).get_json()
    assert started["status"] == "done"
    problem_of(client.get(f"{API}/runs/{world.run['other']}", headers=headers), 404)
