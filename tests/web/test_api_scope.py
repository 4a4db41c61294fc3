"""Data minimisation in the partner API: each organisation sees only its own people, no notes."""
from __future__ import annotations

from sqlalchemy import select

from matching.store import Resident, Volunteer

from .test_api import API, NEW_RESIDENT, NEW_VOLUNTEER, ORGANISATION, issue, problem_of, writer

__all__ = ["issue", "writer"]  # fixtures used here
OTHER = "Huisartsenpraktijk Zuilen"


def test_another_organisations_people_answer_404_and_are_not_listed(client, session, issue,
                                                                    writer):
    _row, other = issue("write", OTHER)
    volunteer = client.post(f"{API}/volunteers", headers=writer, json=NEW_VOLUNTEER).get_json()
    resident = client.post(f"{API}/residents", headers=writer, json=NEW_RESIDENT).get_json()
    for kind, body in (("volunteers", volunteer), ("residents", resident)):
        url = f"{API}/{kind}/{body['id']}"
        problem_of(client.get(url, headers=other), 404)
        problem_of(client.patch(url, headers={**other, "If-Match": '"1"'},
                                json={"first_name": "Gekaapt"}), 404)
        problem_of(client.delete(url, headers=other), 404)
        listed = client.get(f"{API}/{kind}", headers=other).get_json()
        assert (listed["items"], listed["total"]) == ([], 0)
        assert client.get(url, headers=writer).status_code == 200
        assert client.get(f"{API}/{kind}", headers=writer).get_json()["total"] == 1
    session.expire_all()
    assert session.get(Volunteer, volunteer["id"]).first_name == "Fatima"
    stored = session.get(Resident, resident["id"])
    assert (stored.first_name, stored.closed_reason) == ("Kees", None)


def test_staff_entered_people_are_invisible_to_every_token(client, session, writer,
                                                           make_volunteer, make_resident):
    volunteer = make_volunteer()
    resident = make_resident(referrer_organisation="Buurtteam Overvecht-Noord")
    session.commit()
    problem_of(client.get(f"{API}/volunteers/{volunteer.id}", headers=writer), 404)
    problem_of(client.get(f"{API}/residents/{resident.id}", headers=writer), 404)
    assert client.get(f"{API}/volunteers", headers=writer).get_json()["total"] == 0
    assert client.get(f"{API}/residents", headers=writer).get_json()["total"] == 0


def test_the_body_cannot_choose_or_change_the_owning_organisation(client, session, issue,
                                                                  writer):
    volunteer = client.post(f"{API}/volunteers", headers=writer, json={
        **NEW_VOLUNTEER, "partner_organisation": OTHER, "referrer_organisation": OTHER})
    resident = client.post(f"{API}/residents", headers=writer, json={
        **NEW_RESIDENT, "referrer_organisation": OTHER, "partner_organisation": OTHER})
    assert (volunteer.status_code, resident.status_code) == (201, 201)
    assert volunteer.get_json()["partner_organisation"] == ORGANISATION
    assert resident.get_json()["referrer_organisation"] == ORGANISATION
    for kind, body in (("volunteers", volunteer.get_json()), ("residents", resident.get_json())):
        patched = client.patch(f"{API}/{kind}/{body['id']}", headers={**writer, "If-Match": '"1"'},
                               json={"referrer_organisation": OTHER, "partner_organisation": OTHER,
                                     "last_name": "Anders"})
        assert patched.status_code == 200, patched.get_data(as_text=True)
    session.expire_all()
    stored_volunteer = session.get(Volunteer, volunteer.get_json()["id"])
    stored_resident = session.get(Resident, resident.get_json()["id"])
    assert (stored_volunteer.partner_organisation, stored_volunteer.last_name) == (
        ORGANISATION, "Anders")
    assert (stored_resident.referrer_organisation, stored_resident.last_name) == (
        ORGANISATION, "Anders")
    session.rollback()
    _row, other = issue("read", OTHER)
    assert client.get(f"{API}/residents", headers=other).get_json()["total"] == 0


def test_coordinators_notes_never_appear_in_an_api_response(client, session, writer):
    canary = "NOTESCANARY"
    responses = [client.post(f"{API}/volunteers", headers=writer,
                             json={**NEW_VOLUNTEER, "notes": canary}),
                 client.post(f"{API}/residents", headers=writer,
                             json={**NEW_RESIDENT, "notes": canary})]
    ids = {kind: response.get_json()["id"] for kind, response in zip(("volunteers", "residents"),
                                                                      responses)}
    session.expire_all()
    # A partner cannot write the coordinators' notes either.
    assert session.get(Volunteer, ids["volunteers"]).notes is None
    assert session.get(Resident, ids["residents"]).notes is None
    for model, id in ((Volunteer, ids["volunteers"]), (Resident, ids["residents"])):
        session.get(model, id).notes = canary
    session.commit()
    for kind, id in ids.items():
        url = f"{API}/{kind}/{id}"
        responses += [client.get(url, headers=writer), client.get(f"{API}/{kind}", headers=writer),
                      client.patch(url, headers={**writer, "If-Match": '"2"'},
                                   json={"notes": "overwritten", "first_name": "Nieuw"})]
    for response in responses:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        text = response.get_data(as_text=True)
        assert canary not in text and '"notes"' not in text
    session.expire_all()
    assert session.scalars(select(Volunteer.notes)).all() == [canary]
    assert session.scalars(select(Resident.notes)).all() == [canary]
    document = client.get(f"{API}/openapi.json").get_json()
    for name, schema in document["components"]["schemas"].items():
        assert "notes" not in schema.get("properties", {}), name
