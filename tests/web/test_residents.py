"""Coordinator pages for residents: intake, waiting time, lifecycle, and the lists' filters."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from matching.services.profiles import local_date
from matching.store import Resident, Volunteer, utcnow

from .profile_fixtures import add_taxonomy, fetch, post_form, scalar

NEW = {
    "status": "referred", "first_name": "Truus", "last_name": "Bakker", "phone": "030 2345678",
    "postcode": "3531 AA", "house_number": "4b", "birth_year": "1938", "target_group": "older_person",
    "referral_source": "neighbourhood_team", "referrer_name": "Buurtteam West",
    "languages": ["nl"], "interests": ["wandelen"], "availability": ["1", "4"],
}


def names(page: str) -> list[str]:
    return re.findall(r'<a href="/(?:deelnemers|vrijwilligers)/[0-9a-f]{32}">([^<]+)</a>', page)


def test_intake_creates_a_referred_resident(logged_in, session):
    add_taxonomy(session)
    client = logged_in("coordinator")
    response = post_form(client, "/deelnemers/nieuw", NEW)
    assert response.status_code == 302
    resident = scalar(session, select(Resident))
    assert (resident.status, resident.house_number, resident.referral_source) == (
        "referred", "4B", "neighbourhood_team")
    assert resident.waiting_since is None


def test_health_note_without_consent_is_refused(logged_in, session):
    add_taxonomy(session)
    client = logged_in("coordinator")
    response = post_form(client, "/deelnemers/nieuw", {**NEW, "health_note": "Slecht ter been"})
    assert response.status_code == 422
    assert "Een gezondheidsnotitie kan alleen met uitdrukkelijke toestemming." in response.get_data(as_text=True)
    assert scalar(session, select(func.count()).select_from(Resident)) == 0
    response = post_form(client, "/deelnemers/nieuw", {**NEW, "health_note": "Slecht ter been",
                                                        "health_note_consent": "yes"})
    assert response.status_code == 302


def test_intake_done_sets_waiting_and_shows_the_waiting_time(logged_in, session, make_resident):
    resident = make_resident(status="referred", waiting_since=None)
    session.commit()
    client = logged_in("coordinator")
    base = f"/deelnemers/{resident.id}"
    assert 'id="intake-done"' in client.get(base).get_data(as_text=True)
    assert post_form(client, f"{base}/wachtend", {}, form_path=base).status_code == 302
    stored = fetch(session, Resident, resident.id)
    assert (stored.status, stored.waiting_since) == ("waiting", local_date(utcnow()))
    assert "wacht al 0 dagen" in client.get(base).get_data(as_text=True)


def test_on_hold_and_close(logged_in, session, make_resident):
    resident = make_resident(status="waiting", waiting_since=date(2026, 1, 1))
    session.commit()
    client = logged_in("coordinator")
    base = f"/deelnemers/{resident.id}"
    post_form(client, f"{base}/on-hold", {}, form_path=base)
    assert fetch(session, Resident, resident.id).status == "on_hold"
    post_form(client, f"{base}/afsluiten", {"reason": ""}, form_path=base)
    assert fetch(session, Resident, resident.id).status == "on_hold"
    assert "Vul dit veld in." in client.get(base).get_data(as_text=True)
    post_form(client, f"{base}/afsluiten", {"reason": "verhuisd naar Zeist"}, form_path=base)
    stored = fetch(session, Resident, resident.id)
    assert (stored.status, stored.closed_reason) == ("closed", "verhuisd naar Zeist")
    # a closed file cannot be put on hold: a Dutch message, nothing changed
    post_form(client, f"{base}/on-hold", {}, form_path=base)
    assert fetch(session, Resident, resident.id).status == "closed"
    assert "Dit kan niet in de huidige status" in client.get(base).get_data(as_text=True)


def test_list_filters_and_waiting_time(logged_in, session, make_resident):
    add_taxonomy(session)
    today = local_date(utcnow())
    make_resident(first_name="Ali", last_name="Demir", languages=["tr"], postcode="3531 AB",
                  target_group="migrant_elder", waiting_since=today - timedelta(days=90))
    make_resident(first_name="Bep", last_name="Smit", languages=["nl"], postcode="3512 CD",
                  interests=["muziek"], waiting_since=today - timedelta(days=10))
    make_resident(first_name="Cor", last_name="Visser", status="referred", waiting_since=None,
                  email="cor@example.org", phone="0612340000", postcode="3531 XZ")
    session.commit()
    client = logged_in("coordinator")

    def listed(query: str) -> list[str]:
        response = client.get(f"/deelnemers/?{query}")
        assert response.status_code == 200
        return names(response.get_data(as_text=True))

    assert listed("") == ["Ali Demir", "Bep Smit", "Cor Visser"]
    assert listed("status=referred") == ["Cor Visser"]
    assert listed("pc4=3531") == ["Ali Demir", "Cor Visser"]
    assert listed("language=tr") == ["Ali Demir"]
    assert listed("interest=muziek") == ["Bep Smit"]
    assert listed("target_group=migrant_elder") == ["Ali Demir"]
    assert listed("min_wait=30") == ["Ali Demir"]
    assert listed("q=smit") == ["Bep Smit"]
    assert listed("q=cor%40example") == ["Cor Visser"]
    assert listed("q=06-1234+0000") == ["Cor Visser"]
    assert listed("q=3531xz") == ["Cor Visser"]
    assert listed("interest=%25") == ["Ali Demir", "Bep Smit", "Cor Visser"]  # not a code: ignored
    assert listed("sort=waiting") == ["Ali Demir", "Bep Smit", "Cor Visser"]
    assert listed("sort=postcode&dir=desc") == ["Cor Visser", "Ali Demir", "Bep Smit"]
    page = client.get("/deelnemers/").get_data(as_text=True)
    assert "90 dagen" in page and "10 dagen" in page


def test_list_pages_by_50(logged_in, session):
    session.add_all([Volunteer(first_name=f"V{n:03d}", last_name=f"Achternaam{n:03d}",
                               registered_at=utcnow() - timedelta(days=n)) for n in range(120)])
    session.commit()
    client = logged_in("coordinator")
    first = client.get("/vrijwilligers/").get_data(as_text=True)
    assert len(names(first)) == 50 and "120 resultaten" in first and "Pagina 1 van 3" in first
    assert names(first)[0] == "V000 Achternaam000"
    third = names(client.get("/vrijwilligers/?page=3").get_data(as_text=True))
    assert len(third) == 20 and third[-1] == "V119 Achternaam119"
    seen = set()
    for number in (1, 2, 3):
        seen |= set(names(client.get(f"/vrijwilligers/?sort=registered&page={number}").get_data(as_text=True)))
    assert len(seen) == 120
    newest_first = names(client.get("/vrijwilligers/?sort=registered&dir=desc").get_data(as_text=True))
    assert newest_first[0] == "V000 Achternaam000"
    assert len(names(client.get("/vrijwilligers/?page=99").get_data(as_text=True))) == 20


def test_analyst_gets_403_and_sees_no_names(logged_in, session, make_resident):
    resident = make_resident(first_name="Canaryname", notes="Canarynote")
    session.commit()
    client = logged_in("analyst")
    for path in ("/deelnemers/", f"/deelnemers/{resident.id}", "/deelnemers/nieuw",
                 f"/deelnemers/{resident.id}/export.json"):
        response = client.get(path)
        assert response.status_code == 403, path
        body = response.get_data(as_text=True)
        assert "Canaryname" not in body and "Canarynote" not in body
    response = post_form(client, f"/deelnemers/{resident.id}/wachtend", {}, form_path="/")
    assert response.status_code == 403


def test_admin_may_use_the_pages(logged_in, session, make_resident):
    resident = make_resident()
    session.commit()
    client = logged_in("admin")
    assert client.get(f"/deelnemers/{resident.id}").status_code == 200
    assert 'href="/deelnemers/"' in client.get("/").get_data(as_text=True)
