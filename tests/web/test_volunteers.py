"""Coordinator pages for volunteers: intake, edit, validation, conflicts, duplicates, lifecycle."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from matching.store import AuditEvent, Consent, Volunteer, utcnow

from .profile_fixtures import add_taxonomy, fetch, post_form, scalar, token

NEW = {
    "status": "available", "first_name": "Fatma", "last_name": "Yilmaz", "email": "fatma@example.org",
    "phone": "06 18765432", "postcode": "3523ab", "house_number": "7", "birth_year": "1975",
    "gender": "f", "languages": ["nl", "tr"], "interests": ["muziek"], "activities": ["koken"],
    "availability": ["0", "5", "20"], "max_travel_km": "3,5", "capacity": "2", "vog_status": "none",
    "notes": "Houdt van zingen",
}


def count(session) -> int:
    return scalar(session, select(func.count()).select_from(Volunteer))


def test_intake_stores_every_field(logged_in, session):
    add_taxonomy(session)
    client = logged_in("coordinator")
    response = post_form(client, "/vrijwilligers/nieuw", NEW)
    assert response.status_code == 302
    volunteer = session.scalars(select(Volunteer)).one()
    assert response.headers["Location"].endswith(f"/vrijwilligers/{volunteer.id}")
    assert (volunteer.postcode, volunteer.phone) == ("3523 AB", "+31618765432")
    assert volunteer.languages == ["nl", "tr"] and volunteer.availability == [0, 5, 20]
    assert (volunteer.max_travel_km, volunteer.capacity, volunteer.status) == (3.5, 2, "available")
    assert volunteer.source == "coordinator"


def test_form_shows_grid_and_tag_labels_in_the_locale(logged_in, session):
    add_taxonomy(session)
    client = logged_in("coordinator")
    page = client.get("/vrijwilligers/nieuw").get_data(as_text=True)
    assert page.count('name="availability"') == 21
    assert 'value="20"' in page and "zondag" in page and "avond" in page
    assert "Turks" in page and "Koffie drinken" in page
    assert "<script" not in page and "style=" not in page
    client.post("/taal/en", data={"csrf_token": token(page)})
    english = client.get("/vrijwilligers/nieuw").get_data(as_text=True)
    assert "Turkish" in english and "Turks" not in english


def test_invalid_input_is_shown_in_dutch_kept_and_nothing_stored(logged_in, session):
    add_taxonomy(session)
    client = logged_in("coordinator")
    bad = {**NEW, "postcode": "0123 AB", "email": "geen-adres", "first_name": ""}
    response = post_form(client, "/vrijwilligers/nieuw", bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Vul een geldige postcode in, zoals 1234 AB." in page
    assert "Vul een geldig e-mailadres in" in page
    assert "Vul dit veld in." in page
    assert 'value="0123 AB"' in page and 'value="Yilmaz"' in page
    assert 'value="5" aria-label="maandag' not in page  # slot 5 is Tuesday
    assert 'id="slot-5"' in page and page.count("checked") >= 3
    assert count(session) == 0


def test_stale_edit_is_refused_with_409_and_input_kept(logged_in, session, make_volunteer):
    add_taxonomy(session)
    volunteer = make_volunteer()
    session.commit()
    client = logged_in("coordinator")
    form_page = client.get(f"/vrijwilligers/{volunteer.id}/bewerken").get_data(as_text=True)
    assert f'name="version" value="{volunteer.version}"' in form_page
    volunteer.notes = "changed meanwhile by a colleague"
    session.commit()
    response = client.post(f"/vrijwilligers/{volunteer.id}/bewerken", data={
        **NEW, "first_name": "Annemarie", "version": "1", "csrf_token": token(form_page)})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Iemand anders heeft dit profiel intussen gewijzigd" in page
    assert 'value="Annemarie"' in page
    assert fetch(session, Volunteer, volunteer.id).first_name == "Anne"


def test_edit_saves_with_the_current_version(logged_in, session, make_volunteer):
    add_taxonomy(session)
    volunteer = make_volunteer()
    session.commit()
    client = logged_in("coordinator")
    before = volunteer.version
    path = f"/vrijwilligers/{volunteer.id}/bewerken"
    extra = {"id": "f" * 32, "status": "stopped", "open_matches": "1", "source": "api"}
    response = post_form(client, path, {**NEW, **extra, "version": str(volunteer.version),
                                        "availability": ["2"]})
    assert response.status_code == 302
    stored = fetch(session, Volunteer, volunteer.id)
    assert (stored.first_name, stored.availability) == ("Fatma", [2]) and stored.version > before
    assert (stored.status, stored.open_matches, stored.source) == ("available", 0, "coordinator")
    fields = scalar(session, select(AuditEvent.fields).where(AuditEvent.action == "volunteer.updated"))
    assert "first_name" in fields


def test_duplicates_are_shown_before_saving_and_can_be_overridden(logged_in, session, make_volunteer):
    add_taxonomy(session)
    existing = make_volunteer(email="fatma@example.org")
    session.commit()
    client = logged_in("coordinator")
    response = post_form(client, "/vrijwilligers/nieuw", NEW)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="duplicates"' in page
    assert f"/vrijwilligers/{existing.id}" in page and 'name="save_anyway"' in page
    assert count(session) == 1
    response = post_form(client, "/vrijwilligers/nieuw", {**NEW, "save_anyway": "yes"})
    assert response.status_code == 302
    assert count(session) == 2


def test_merge_keeps_the_chosen_record(logged_in, session, make_volunteer):
    keep = make_volunteer(first_name="Anne")
    drop = make_volunteer(first_name="Anne", notes="dubbel")
    session.commit()
    client = logged_in("coordinator")
    detail = client.get(f"/vrijwilligers/{keep.id}").get_data(as_text=True)
    assert f"/vrijwilligers/{keep.id}/samenvoegen?met={drop.id}" in detail
    path = f"/vrijwilligers/{keep.id}/samenvoegen?met={drop.id}"
    response = post_form(client, path, {"keep": drop.id})
    assert response.status_code == 302 and response.headers["Location"].endswith(drop.id)
    assert fetch(session, Volunteer, keep.id) is None and fetch(session, Volunteer, drop.id) is not None


def test_lifecycle_pause_stop_and_return(logged_in, session, make_volunteer):
    volunteer = make_volunteer()
    session.commit()
    client = logged_in("coordinator")
    base = f"/vrijwilligers/{volunteer.id}"
    past = post_form(client, f"{base}/pauzeren", {"until": "2000-01-01"}, form_path=base)
    assert past.status_code == 302
    assert "Kies een datum na vandaag." in client.get(base).get_data(as_text=True)
    until = (utcnow() + timedelta(days=30)).date().isoformat()
    post_form(client, f"{base}/pauzeren", {"until": until}, form_path=base)
    assert fetch(session, Volunteer, volunteer.id).status == "paused"
    post_form(client, f"{base}/stoppen", {"reason": "verhuisd"}, form_path=base)
    stored = fetch(session, Volunteer, volunteer.id)
    assert (stored.status, stored.stop_reason) == ("stopped", "verhuisd")
    post_form(client, f"{base}/heractiveren", {}, form_path=base)
    stored = fetch(session, Volunteer, volunteer.id)
    assert (stored.status, stored.is_returning) == ("available", True)
    assert 'id="returning"' in client.get(base).get_data(as_text=True)


def test_a_new_volunteer_is_made_available_by_finishing_the_intake(logged_in, session,
                                                                   make_volunteer):
    volunteer = make_volunteer(status="new")
    session.commit()
    client = logged_in("coordinator")
    base = f"/vrijwilligers/{volunteer.id}"
    page = client.get(base).get_data(as_text=True)
    assert "Intake gedaan: beschikbaar" in page and "Heractiveren" not in page
    assert post_form(client, f"{base}/heractiveren", {}, form_path=base).status_code == 302
    assert fetch(session, Volunteer, volunteer.id).status == "available"
    post_form(client, f"{base}/stoppen", {"reason": "druk"}, form_path=base)
    page = client.get(base).get_data(as_text=True)
    assert "Heractiveren" in page and "Intake gedaan" not in page


def test_detail_records_a_view_and_export_downloads_json(logged_in, session, make_volunteer):
    volunteer = make_volunteer()
    session.commit()
    client = logged_in("coordinator")
    assert client.get(f"/vrijwilligers/{volunteer.id}").status_code == 200
    views = scalar(session, select(func.count()).select_from(AuditEvent)
                   .where(AuditEvent.action == "volunteer.viewed"))
    assert views == 1
    response = client.get(f"/vrijwilligers/{volunteer.id}/export.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert "anne@example.org" in json.dumps(response.get_json())


def test_erase_needs_confirmation(logged_in, session, make_volunteer):
    volunteer = make_volunteer(email="canary-erase@example.org")
    session.add(Consent(subject_kind="volunteer", subject_id=volunteer.id, purpose="profile",
                        text_version="2026-01"))
    session.commit()
    client = logged_in("coordinator")
    base = f"/vrijwilligers/{volunteer.id}"
    post_form(client, f"{base}/wissen", {}, form_path=base)
    assert fetch(session, Volunteer, volunteer.id).email == "canary-erase@example.org"
    response = post_form(client, f"{base}/wissen", {"confirm": "yes"}, form_path=base)
    assert response.status_code == 302
    assert fetch(session, Volunteer, volunteer.id).email != "canary-erase@example.org"


def test_erase_without_csrf_token_is_refused(logged_in, session, make_volunteer):
    volunteer = make_volunteer()
    session.commit()
    client = logged_in("coordinator")
    response = client.post(f"/vrijwilligers/{volunteer.id}/wissen", data={"confirm": "yes"})
    assert response.status_code == 400
    assert fetch(session, Volunteer, volunteer.id).email == "anne@example.org"


def test_analyst_gets_403_and_sees_no_names(logged_in, session, make_volunteer):
    volunteer = make_volunteer(first_name="Canaryname")
    session.commit()
    client = logged_in("analyst")
    for path in ("/vrijwilligers/", f"/vrijwilligers/{volunteer.id}", "/vrijwilligers/nieuw",
                 f"/vrijwilligers/{volunteer.id}/export.json", f"/vrijwilligers/{volunteer.id}/bewerken"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Canaryname" not in response.get_data(as_text=True)
    assert "/vrijwilligers/" not in client.get("/").get_data(as_text=True)


def test_anonymous_is_sent_to_login(client):
    response = client.get("/vrijwilligers/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_profile_is_404(logged_in):
    client = logged_in("coordinator")
    assert client.get("/vrijwilligers/" + "0" * 32).status_code == 404
    assert client.get("/deelnemers/" + "0" * 32 + "/bewerken").status_code == 404


def test_an_erased_persons_page_says_so_in_words(logged_in, session, make_volunteer):
    from matching.services import privacy
    from matching.store import utcnow

    client = logged_in("coordinator")
    volunteer = make_volunteer(status="stopped")
    privacy.erase_person(session, "volunteer", volunteer.id, actor=None, now=utcnow())
    session.commit()
    page = client.get(f"/vrijwilligers/{volunteer.id}").get_data(as_text=True)
    assert "persoonsgegevens gewist" in page and "erased" not in page
