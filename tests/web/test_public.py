"""Public volunteer sign-up and the professionals' referral form."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from config import TestConfig as MaatwerkTestConfig
from matching.services.consents import CURRENT_VERSION
from matching.store import Consent, Link, OutboxMessage, Resident, Volunteer

from .profile_fixtures import add_taxonomy, fetch, post_form, scalar, token

SIGNUP = {
    "first_name": "Sanne", "last_name": "de Boer", "email": "Sanne@Example.org",
    "phone": "06 11122233", "postcode": "3581 KL", "house_number": "21", "birth_year": "1990",
    "languages": ["nl", "ar"], "interests": ["wandelen"], "activities": ["koffie_drinken"],
    "availability": ["2", "14"], "max_travel_km": "4", "capacity": "1", "prefers_gender": "f",
    "consent": "yes",
}
REFERRAL = {
    "first_name": "Gerrit", "last_name": "Mulder", "phone": "030 1112233", "postcode": "3581 KL",
    "house_number": "2", "birth_year": "1935", "target_group": "older_person", "languages": ["nl"],
    "notes": "Weinig contacten sinds overlijden partner", "referrer_name": "Dr. Jansen",
    "referrer_organisation": "Huisartsenpraktijk Oost", "referrer_email": "praktijk@example.org",
    "referral_source": "gp", "agreed": "yes",
}


def volunteers(session) -> int:
    return scalar(session, select(func.count()).select_from(Volunteer))


def residents(session) -> int:
    return scalar(session, select(func.count()).select_from(Resident))


def test_signup_page_is_public_with_consent_text_and_honeypot(client, session):
    add_taxonomy(session)
    response = client.get("/aanmelden")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ik meld mij aan als vrijwilliger" in page and 'name="website"' in page
    assert page.count('name="availability"') == 21 and "Arabisch" in page
    assert 'name="notes"' not in page and 'name="vog_status"' not in page
    assert "<script" not in page and "style=" not in page
    referral = client.get("/verwijzen").get_data(as_text=True)
    assert "De deelnemer is op de hoogte" in referral and "style=" not in referral


def test_signup_creates_a_new_volunteer_with_consent(client, session):
    add_taxonomy(session)
    response = post_form(client, "/aanmelden", {**SIGNUP, "status": "available", "vog_status": "valid"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/aanmelden/bedankt")
    volunteer = scalar(session, select(Volunteer))
    assert (volunteer.status, volunteer.source, volunteer.email) == ("new", "signup", "sanne@example.org")
    assert volunteer.vog_status == "none" and volunteer.availability == [2, 14]
    consent = scalar(session, select(Consent))
    assert (consent.subject_id, consent.purpose, consent.text_version) == (
        volunteer.id, "profile", CURRENT_VERSION)
    assert "We hebben je aanmelding ontvangen" in client.get("/aanmelden/bedankt").get_data(as_text=True)


def test_signup_validation_and_missing_consent_store_nothing(client, session):
    add_taxonomy(session)
    bad = {**SIGNUP, "postcode": "12345", "consent": ""}
    response = post_form(client, "/aanmelden", bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Vul een geldige postcode in, zoals 1234 AB." in page
    assert "Geef toestemming om je aan te melden." in page
    assert 'value="Sanne"' in page and 'value="14"' in page
    assert volunteers(session) == 0
    response = post_form(client, "/aanmelden", {k: v for k, v in SIGNUP.items() if k != "consent"})
    assert response.status_code == 422 and volunteers(session) == 0


def test_honeypot_shows_thanks_and_stores_nothing(client, session):
    add_taxonomy(session)
    response = post_form(client, "/aanmelden", {**SIGNUP, "website": "http://spam.example"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/aanmelden/bedankt")
    assert volunteers(session) == 0
    response = post_form(client, "/verwijzen", {**REFERRAL, "website": "x"})
    assert response.status_code == 302 and residents(session) == 0


def test_signup_without_csrf_token_is_refused(client, session):
    add_taxonomy(session)
    response = client.post("/aanmelden", data=SIGNUP)
    assert response.status_code == 400
    assert volunteers(session) == 0


def test_signup_is_rate_limited_per_ip(database_url, session):
    from web import create_app

    add_taxonomy(session)
    app = create_app(MaatwerkTestConfig(database_url, PUBLIC_FORM_LIMIT="2 per hour"))
    client = app.test_client()
    try:
        statuses = [post_form(client, "/aanmelden", {**SIGNUP, "email": f"s{n}@example.org",
                                                     "phone": ""}).status_code for n in range(3)]
        assert statuses == [302, 302, 429]
        assert volunteers(session) == 2
        assert client.get("/aanmelden").status_code == 200  # only POST is limited
    finally:
        app.extensions["maatwerk.engine"].dispose()


def test_referral_creates_a_referred_resident_with_consent(client, session):
    add_taxonomy(session)
    response = post_form(client, "/verwijzen", REFERRAL)
    assert response.status_code == 302 and response.headers["Location"].endswith("/verwijzen/bedankt")
    resident = scalar(session, select(Resident))
    assert (resident.status, resident.referral_source, resident.referrer_name) == (
        "referred", "gp", "Dr. Jansen")
    consent = scalar(session, select(Consent))
    assert (consent.subject_id, consent.purpose) == (resident.id, "referral")


def test_referral_without_agreement_is_refused(client, session):
    add_taxonomy(session)
    response = post_form(client, "/verwijzen", {**REFERRAL, "agreed": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Een verwijzing kan alleen als de deelnemer ermee instemt." in page
    assert 'value="Gerrit"' in page
    assert residents(session) == 0


def test_referral_needs_a_professional_source_and_referrer_contact(client, session):
    add_taxonomy(session)
    data = {**REFERRAL, "referral_source": "self", "referrer_email": ""}
    response = post_form(client, "/verwijzen", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Kies een van de mogelijkheden." in page
    assert "Vul een e-mailadres of telefoonnummer van de verwijzer in." in page
    assert residents(session) == 0


def test_every_validation_key_has_a_dutch_message():
    from matching.services.validation import KEYS
    from web.labels import ERRORS

    assert set(KEYS) <= set(ERRORS)


def _signed_up_link(client, session) -> tuple[Volunteer, str]:
    add_taxonomy(session)
    assert post_form(client, "/aanmelden", SIGNUP).status_code == 302
    volunteer = scalar(session, select(Volunteer))
    message = scalar(session, select(OutboxMessage))
    assert (message.subject_kind, message.subject_id) == ("volunteer", volunteer.id)
    assert "sanne@example.org" in message.to_address and message.status == "pending"
    found = re.search(r"https?://\S+(/aanmelden/bevestig/\S+)", message.body_text)
    assert found, message.body_text
    return volunteer, found.group(1)


def test_signup_mails_a_link_that_verifies_on_post_only(client, session):
    volunteer, path = _signed_up_link(client, session)
    page = client.get(path)
    assert page.status_code == 200 and 'id="verify"' in page.get_data(as_text=True)
    assert "Sanne" not in page.get_data(as_text=True)
    assert fetch(session, Volunteer, volunteer.id).email_verified_at is None
    response = client.post(path, data={"csrf_token": token(page.get_data(as_text=True))})
    assert response.status_code == 200 and "is bevestigd" in response.get_data(as_text=True)
    assert fetch(session, Volunteer, volunteer.id).email_verified_at is not None
    again = client.post(path, data={"csrf_token": token(page.get_data(as_text=True))})
    assert again.status_code == 200 and "was al bevestigd" in again.get_data(as_text=True)
    assert scalar(session, select(func.count()).select_from(Link)) == 1


def test_verify_link_is_refused_when_tampered_or_without_csrf(client, session):
    volunteer, path = _signed_up_link(client, session)
    assert client.post(path).status_code == 400
    bad = client.get(path[:-3] + "xyz")
    assert bad.status_code == 400 and 'id="invalid"' in bad.get_data(as_text=True)
    assert fetch(session, Volunteer, volunteer.id).email_verified_at is None


def test_signup_without_email_sends_no_mail(client, session):
    add_taxonomy(session)
    assert post_form(client, "/aanmelden", {**SIGNUP, "email": ""}).status_code == 302
    assert scalar(session, select(func.count()).select_from(OutboxMessage)) == 0


def test_every_profile_field_has_a_label_for_the_error_summary():
    from matching.services.validation import RESIDENT_FIELDS, VOLUNTEER_FIELDS
    from web.labels import FIELDS

    assert set(VOLUNTEER_FIELDS) | set(RESIDENT_FIELDS) <= set(FIELDS)


def test_expired_link_shows_no_data_and_sends_one_new_link(client, session):
    from datetime import timedelta

    from matching.store import utcnow

    volunteer, path = _signed_up_link(client, session)
    link = scalar(session, select(Link))
    link.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    page = client.get(path)
    body = page.get_data(as_text=True)
    assert page.status_code == 400 and "verlopen" in body and 'id="renew"' in body
    assert "Sanne" not in body and "sanne@example.org" not in body
    csrf = token(body)
    for _attempt in range(2):
        renewed = client.post(path + "/opnieuw", data={"csrf_token": csrf})
        assert renewed.status_code == 200 and 'id="renewed"' in renewed.get_data(as_text=True)
    assert scalar(session, select(func.count()).select_from(OutboxMessage)) == 2
    assert scalar(session, select(func.count()).select_from(Link)) == 2
    bodies = list(session.scalars(select(OutboxMessage.body_text).order_by(OutboxMessage.created_at)))
    session.commit()
    fresh = re.search(r"https?://\S+(/aanmelden/bevestig/\S+)", bodies[-1]).group(1)
    assert fresh != path
    page = client.get(fresh)
    client.post(fresh, data={"csrf_token": token(page.get_data(as_text=True))})
    assert fetch(session, Volunteer, volunteer.id).email_verified_at is not None


def _posted_twice(client, path: str, form: dict) -> tuple:
    """The form as a browser posts it after Back: the same values, the same page's CSRF token."""
    page = client.get(path).get_data(as_text=True)
    data = {**form, "csrf_token": token(page), "text_version": CURRENT_VERSION}
    return client.post(path, data=data), client.post(path, data=data)


def test_a_signup_posted_twice_makes_one_volunteer_and_one_mail(client, session):
    add_taxonomy(session)
    first, second = _posted_twice(client, "/aanmelden", SIGNUP)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert volunteers(session) == 1
    assert scalar(session, select(func.count()).select_from(OutboxMessage)) == 1
    assert scalar(session, select(func.count()).select_from(Consent)) == 1
    # A different person (or a corrected form) is a new submission.
    post_form(client, "/aanmelden", {**SIGNUP, "first_name": "Sanna", "email": "sanna@example.org"})
    assert volunteers(session) == 2


def test_a_referral_posted_twice_makes_one_resident(client, session):
    add_taxonomy(session)
    first, second = _posted_twice(client, "/verwijzen", REFERRAL)
    assert first.status_code == second.status_code == 302
    assert residents(session) == 1


def test_a_refused_first_post_does_not_block_the_corrected_one(client, session):
    add_taxonomy(session)
    refused, again = _posted_twice(client, "/aanmelden", {**SIGNUP, "consent": ""})
    assert refused.status_code == again.status_code == 422
    assert post_form(client, "/aanmelden", SIGNUP).status_code == 302
    assert volunteers(session) == 1
