"""The partner API for runs and proposals on the token's own residents: start, list, approve, reject.

Which organisation's people a token may reach is tested in test_api_scope_matrix.py.
"""
from __future__ import annotations

from sqlalchemy import func, select

from matching.store import AuditEvent, Exclusion, Match, MatchRun, OutboxMessage
from tests.web.test_api import (  # noqa: F401 (fixtures)
    API, ORGANISATION, issue, problem_of, writer,
)

OWN = {"referrer_organisation": ORGANISATION, "organisation": ORGANISATION}


def count(session, model) -> int:
    value = session.scalar(select(func.count()).select_from(model))
    session.commit()  # SQLite: no open transaction may hold the write lock the app needs
    return value


def people(session, make_volunteer, make_resident) -> None:
    make_volunteer()
    make_resident(neighbourhood="Lombok", **OWN)
    session.commit()


def test_start_a_run_and_read_it(client, session, writer, make_volunteer,  # noqa: F811
                                 make_resident):
    people(session, make_volunteer, make_resident)
    response = client.post(f"{API}/runs", json={"scope": {"neighbourhood": "Lombok"},
                                                "settings": {"min_score": 10}}, headers=writer)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "done" and len(body["input_hash"]) == 64
    assert body["stats"]["proposed"] == 1 and body["scope"] == {"neighbourhood": "Lombok"}
    assert list(body["unmatched"]) == []
    assert response.headers["Location"] == f"/api/v1/runs/{body['id']}"
    again = client.get(f"{API}/runs/{body['id']}", headers=writer)
    assert again.get_json()["id"] == body["id"]
    assert session.scalar(select(AuditEvent.actor).where(
        AuditEvent.action == "match_run.started")) == "api:Buurtteam Overvecht"


def test_a_bad_scope_is_a_422_problem(client, writer):  # noqa: F811
    response = client.post(f"{API}/runs", json={"scope": {"target_group": "aliens"}},
                           headers=writer)
    problem_of(response, 422)


def test_list_approve_and_reject(client, session, writer, make_volunteer,  # noqa: F811
                                 make_resident):
    make_volunteer(capacity=2)
    make_resident(first_name="A", **OWN)
    make_resident(first_name="B", **OWN)
    session.commit()
    client.post(f"{API}/runs", json={}, headers=writer)
    listed = client.get(f"{API}/proposals", headers=writer).get_json()
    assert listed["total"] == 2 and listed["items"][0]["shared_interests"] == ["wandelen"]
    first, second = listed["items"]
    approved = client.post(f"{API}/proposals/{first['id']}/approve",
                           json={"version": first["version"]}, headers=writer)
    assert approved.status_code == 200 and approved.get_json()["status"] == "offered"
    assert count(session, OutboxMessage) == 1
    rejected = client.post(f"{API}/proposals/{second['id']}/reject",
                           json={"reason": "te ver"}, headers=writer)
    assert rejected.get_json()["status"] == "withdrawn"
    assert count(session, Exclusion) == 1
    again = client.post(f"{API}/proposals/{first['id']}/approve", json={}, headers=writer)
    problem_of(again, 409)
    offered = client.get(f"{API}/proposals?status=offered", headers=writer).get_json()
    assert [p["id"] for p in offered["items"]] == [first["id"]]


def test_reject_needs_a_reason(client, session, writer, make_volunteer,  # noqa: F811
                               make_resident):
    people(session, make_volunteer, make_resident)
    client.post(f"{API}/runs", json={}, headers=writer)
    match_id = session.scalar(select(Match.id))
    session.commit()
    problem_of(client.post(f"{API}/proposals/{match_id}/reject", json={}, headers=writer), 422)


def test_read_tokens_cannot_start_runs_or_approve(client, issue):  # noqa: F811
    _row, reader = issue("read")
    problem_of(client.post(f"{API}/runs", json={}, headers=reader), 403)
    assert client.get(f"{API}/proposals", headers=reader).status_code == 200


def test_unknown_proposal_is_404(client, writer):  # noqa: F811
    problem_of(client.post(f"{API}/proposals/{'0' * 32}/approve", json={}, headers=writer), 404)


def test_a_run_that_fails_is_recorded_as_failed_not_left_running(client, session, writer,  # noqa: F811
                                                                make_volunteer, make_resident,
                                                                monkeypatch):
    people(session, make_volunteer, make_resident)
    from matching import engine

    def broken(problem):
        raise RuntimeError("the solver crashed")

    monkeypatch.setattr(engine, "solve", broken)
    response = client.post(f"{API}/runs", json={}, headers=writer)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["progress"]) == ("failed", 100)
    run = session.get(MatchRun, body["id"])
    assert (run.status, run.error) == ("failed", "unexpected error")
    assert run.finished_at is not None and count(session, Match) == 0


def test_the_reasons_of_a_proposal_are_words_not_codes(client, session, writer,  # noqa: F811
                                                        make_volunteer, make_resident):
    people(session, make_volunteer, make_resident)
    client.post(f"{API}/runs", json={}, headers=writer)
    [item] = client.get(f"{API}/proposals", headers=writer).get_json()["items"]
    assert "1 gedeelde activiteit: Koffie drinken" in item["reasons"]
    assert item["shared_interests"] == ["wandelen"]  # the codes stay, for systems
    assert not any("koffie_drinken" in reason or "shared" in reason for reason in item["reasons"])


def test_a_run_on_the_learned_model_through_the_api(client, session, writer,  # noqa: F811
                                                    make_volunteer, make_resident):
    from matching.services import durability_models
    from matching.store import DurabilityModel, utcnow
    from tests import history

    people(session, make_volunteer, make_resident)
    refused = client.post(f"{API}/runs", json={"settings": {"objective": "durability"}}, headers=writer)
    assert problem_of(refused, 422)
    assert count(session, MatchRun) == 0
    history.load(session, seed=51, matches=200)
    durability_models.refit(session, today=utcnow().date(), now=utcnow(), actor=None)
    session.commit()
    model_id = session.scalar(select(DurabilityModel.id))
    session.commit()
    response = client.post(f"{API}/runs", json={"settings": {"objective": "durability"}}, headers=writer)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["model_id"] == model_id and body["settings"]["objective"] == "durability"
    listed = client.get(f"{API}/proposals", headers=writer).get_json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert 0 < item["durability"] < 1
    assert (item["resident_organisation"], item["volunteer_organisation"]) == (ORGANISATION, None)
    assert any(reason.startswith("verwachte kans dat dit 6 maanden duurt") for reason in item["reasons"])


def test_the_intended_commitment_through_the_api(client, session, writer):  # noqa: F811
    person = {"first_name": "Ria", "postcode": "3581 KL", "languages": ["nl"], "commitment_months": "12"}
    created = client.post(f"{API}/volunteers", json=person, headers=writer)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["commitment_months"] == "12"
    bad = client.post(f"{API}/volunteers", json={**person, "commitment_months": "9"}, headers=writer)
    assert problem_of(bad, 422)
