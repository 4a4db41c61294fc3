"""Activities in the staff pages and the partner API: kept current, suggested from the resident's
page by e-mail or as a printed letter, the outcome recorded."""
from __future__ import annotations

from sqlalchemy import func, select

from matching.store import ActivitySuggestion, GroupActivity, OutboxMessage, utcnow
from tests.logins import csrf_token
from tests.web.test_api import API, ORGANISATION, issue, problem_of, writer  # noqa: F401 (fixtures)

from .profile_fixtures import add_taxonomy


def count(session, model) -> int:
    found = session.scalar(select(func.count()).select_from(model))
    session.commit()
    return found


def test_staff_add_an_activity_and_bad_input_is_refused(logged_in, session):
    add_taxonomy(session)
    session.commit()
    client = logged_in("coordinator")
    token = csrf_token(client, "/activiteiten/nieuw")
    bad = client.post("/activiteiten/nieuw", data={"csrf_token": token, "name": "", "organiser": "Koks"})
    assert bad.status_code == 422 and count(session, GroupActivity) == 0
    assert "Naam" in bad.get_data(as_text=True)
    done = client.post("/activiteiten/nieuw", data={
        "csrf_token": token, "name": "Koks koken", "organiser": "Koks", "availability": ["4", "10"],
        "interests": ["wandelen"], "target_groups": ["older_person"], "wheelchair": "yes"})
    assert done.status_code == 303
    assert "Koks koken" in client.get("/activiteiten/").get_data(as_text=True)
    activity = session.scalars(select(GroupActivity)).one()
    assert (activity.availability, activity.wheelchair) == ([4, 10], True)
    session.commit()


def test_the_resident_page_suggests_and_records(logged_in, session, make_resident):
    resident = make_resident(status="waiting", email="henk@example.org")
    session.add(GroupActivity(name="Wandelclub", organiser="Resto van Harte", lat=52.0860, lon=5.1300,
                              availability=[4], interests=["wandelen"], created_at=utcnow(), updated_at=utcnow()))
    session.commit()
    activity_id = session.scalar(select(GroupActivity.id))
    session.commit()
    client = logged_in("coordinator")
    page = client.get(f"/deelnemers/{resident.id}").get_data(as_text=True)
    assert f'data-activity="{activity_id}"' in page and "Wandelclub" in page
    token = csrf_token(client, f"/deelnemers/{resident.id}")
    url = f"/deelnemers/{resident.id}/activiteiten/{activity_id}/voorstellen"
    assert client.get(url).status_code == 405  # a GET never suggests
    assert client.post(url, data={"csrf_token": token, "channel": "email"}).status_code == 303
    assert count(session, OutboxMessage) == 1
    letter = client.post(url, data={"csrf_token": token, "channel": "letter"})
    assert letter.status_code == 200 and letter.mimetype == "application/pdf" and letter.data[:4] == b"%PDF"
    assert count(session, ActivitySuggestion) == 1
    suggestion_id = session.scalar(select(ActivitySuggestion.id))
    session.commit()
    done = client.post(f"/deelnemers/{resident.id}/activiteiten/uitkomst/{suggestion_id}",
                       data={"csrf_token": token, "status": "went"})
    assert done.status_code == 303
    assert session.scalar(select(ActivitySuggestion.status)) == "went"
    session.commit()


def test_partners_keep_their_own_activities_through_the_api(client, session, writer):  # noqa: F811
    add_taxonomy(session)
    session.commit()
    body = {"name": "Taalcafé", "organiser": ORGANISATION, "availability": [2, 13], "interests": ["talen"]}
    created = client.post(f"{API}/activities", json=body, headers=writer)
    assert created.status_code == 201, created.get_data(as_text=True)
    mine = created.get_json()
    assert mine["organisation"] == ORGANISATION and mine["availability"] == [2, 13]
    assert [a["id"] for a in client.get(f"{API}/activities", headers=writer).get_json()] == [mine["id"]]
    changed = client.patch(f"{API}/activities/{mine['id']}", json={"cost": "gratis"}, headers=writer)
    assert changed.status_code == 200 and changed.get_json()["cost"] == "gratis"
    session.add(GroupActivity(id="b" * 32, name="Van de VCU", organiser="VCU", availability=[1],
                              created_at=utcnow(), updated_at=utcnow()))
    session.commit()
    problem_of(client.patch(f"{API}/activities/{'b' * 32}", json={"cost": "€ 9"}, headers=writer), 404)
    assert session.get(GroupActivity, "b" * 32).cost is None
    session.commit()
    problem_of(client.post(f"{API}/activities", json={**body, "availability": [99]}, headers=writer), 422)
