"""Logs over a whole scenario hold security events but never personal data, tokens or passwords.

SECURITY.md, "logs": a canary in every personal field of the people in the scenario, then a search
of everything logged from sign-up to the end of the match.
"""
from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from config import TestConfig as MaatwerkTestConfig
from matching.services import check_ins, decisions, endings, profiles
from matching.store import Match, OutboxMessage, PostcodeArea, Resident, Volunteer
from tests.logins import PASSWORD, csrf_token, login
from tests.services.workflow import approve, run
from tests.web.profile_fixtures import add_taxonomy, post_form

SECRET = "test-secret-" + "x" * 40
BASE_URL = "http://maatwerk.test"
CANARIES = ("kanarieqx", "vogelqx", "11122299", "98877766", "zorgqx", "huisartsqx", "bellenqx")
SIGNUP = {
    "first_name": "Kanarieqx", "last_name": "Vogelqx", "email": "kanarieqx@example.org",
    "phone": "06 11122299", "postcode": "3581 KL", "house_number": "21", "birth_year": "1970",
    "languages": ["nl"], "interests": ["wandelen"], "activities": ["koffie_drinken"],
    "availability": ["1", "4"], "max_travel_km": "5", "capacity": "1", "consent": "yes",
}
REFERRAL = {
    "first_name": "Zorgqx", "last_name": "Vogelqx", "phone": "030 9887776", "postcode": "3581 KL",
    "house_number": "2", "birth_year": "1938", "target_group": "older_person", "languages": ["nl"],
    "notes": "Kanarieqx notitie", "referrer_name": "Huisartsqx", "referral_source": "gp",
    "referrer_organisation": "Praktijk Kanarieqx", "referrer_email": "huisartsqx@example.org",
    "agreed": "yes",
}


def test_a_whole_scenario_logs_no_personal_data(database_url, session, make_staff, caplog):
    from web import create_app

    caplog.set_level(logging.DEBUG)
    app = create_app(MaatwerkTestConfig(database_url, SECRET_KEY=SECRET, BASE_URL=BASE_URL))
    client = app.test_client()
    add_taxonomy(session)
    session.add(PostcodeArea(postcode="3581", place="Utrecht", lat=52.0887, lon=5.1339))
    session.commit()
    coordinator = make_staff(name="Coördinator Kanarieqx", email="coord-kanarieqx@vcu.example")

    assert post_form(client, "/aanmelden", SIGNUP).status_code == 302
    assert post_form(client, "/verwijzen", REFERRAL).status_code == 302
    assert login(client, "coord-kanarieqx@vcu.example", "fout-wachtwoord-bellenqx").status_code == 200
    assert login(client, "coord-kanarieqx@vcu.example", PASSWORD).status_code == 302
    volunteer = session.scalar(select(Volunteer))
    resident = session.scalar(select(Resident))
    session.commit()
    assert client.get(f"/vrijwilligers/{volunteer.id}").status_code == 200
    assert client.get(f"/deelnemers/{resident.id}").status_code == 200

    now = datetime.now(UTC)
    profiles.reactivate(session, volunteer.id, actor=coordinator.id, now=now)
    profiles.set_waiting(session, resident.id, actor=coordinator.id, now=now)
    profiles.update_resident(session, resident.id, {"availability": [1, 4]},
                             expected_version=session.get(Resident, resident.id).version,
                             actor=coordinator.id, now=now)
    session.commit()
    [proposal] = run(session, now=now)
    approve(session, proposal, actor=coordinator.id, now=now)
    token = re.search(r"/koppeling/([A-Za-z0-9_.\-]+)", session.scalar(
        select(OutboxMessage.body_text).where(OutboxMessage.dedupe_key.startswith("proposal:"))
    )).group(1)
    session.commit()
    page = f"/koppeling/{token}"
    assert client.post(page, data={"csrf_token": csrf_token(client, page), "choice": "accept"}
                       ).status_code == 200
    assert client.post("/koppeling/vervalst-token", data={
        "csrf_token": csrf_token(client, "/login"), "choice": "accept"}).status_code in (400, 404)
    session.expire_all()  # the app changed the match; this session's copy is old
    decisions.record_introduction(session, proposal.id, intro_date=now.date(), volunteer_go=True,
                                  resident_go=True, actor=coordinator.id, now=now)
    check_ins.send_weekly(session, now=now + timedelta(days=7), base_url=BASE_URL, secret=SECRET)
    session.commit()
    check_in_token = re.search(r"/check-in/([A-Za-z0-9_.\-]+)", session.scalar(
        select(OutboxMessage.body_text).where(OutboxMessage.dedupe_key.startswith("check_in"))
    )).group(1)
    session.commit()
    page = f"/check-in/{check_in_token}"
    assert client.post(page, data={"csrf_token": csrf_token(client, page), "met": "yes",
                                   "rating": "4", "call": "yes", "comment": "Kanarieqx"}
                       ).status_code == 200
    session.expire_all()
    endings.end_match(session, proposal.id, "no_click", "Kanarieqx klikte niet", actor=coordinator.id,
                      now=now + timedelta(days=8), rematch=True, base_url=BASE_URL, secret=SECRET)
    session.commit()
    assert session.get(Match, proposal.id).status == "ended"
    session.commit()

    logged = caplog.text.lower()
    assert "login.failed" in logged and "login.ok" in logged  # security events are there
    for canary in (*CANARIES, token.lower(), check_in_token.lower(), PASSWORD, SECRET):
        assert canary.lower() not in logged, canary
