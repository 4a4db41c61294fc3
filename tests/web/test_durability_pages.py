""""Wat houdt koppelingen vast?", runs with the learned model, and the intended commitment at intake."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from matching.store import DurabilityModel, Match, MatchRun, Volunteer
from tests import history
from tests import queued_runs
from tests.logins import csrf_token

from .profile_fixtures import post_form
from .test_public import SIGNUP, volunteers


def _refit(client):
    token = csrf_token(client, "/analyse/duurzaamheid/")
    return client.post("/analyse/duurzaamheid/opnieuw", data={"csrf_token": token})


def _models(session) -> int:
    session.rollback()
    found = session.scalar(select(func.count()).select_from(DurabilityModel))
    session.commit()  # SQLite: an open transaction would hold the lock the app needs
    return found


def test_without_history_the_page_says_so_and_a_refit_is_refused(logged_in, session):
    client = logged_in("coordinator")
    page = client.get("/analyse/duurzaamheid/").get_data(as_text=True)
    assert "data-no-model" in page and "minstens 30 beëindigde koppelingen" in page
    response = _refit(client)
    assert response.status_code == 303
    assert "te weinig beëindigde koppelingen" in client.get(response.location).get_data(as_text=True)
    assert _models(session) == 0


def test_a_coordinator_refits_and_everyone_reads_the_model(logged_in, session, client):
    history.load(session, seed=41, matches=400)
    session.commit()
    coordinator = logged_in("coordinator")
    assert _refit(coordinator).status_code == 303
    assert _models(session) == 1
    page = coordinator.get("/analyse/duurzaamheid/").get_data(as_text=True)
    model = session.scalars(select(DurabilityModel)).one()
    session.commit()
    for term in model.terms:
        assert f'data-term="{term["name"]}"' in page
    assert page.count("<rect ") == len(model.terms)  # one estimate per row of the forest plot
    assert f'data-n>{model.n}<' in page and f'data-events>{model.events}<' in page
    assert f'data-c-index="{model.c_index:.3f}"' in page
    assert "50% is gokken" in page
    assert len(re.findall(r"<circle ", page)) == len(model.calibration) == 5
    assert "Dit is het eerste geleerde model." in page
    assert 'data-warning="few"' not in page  # well over 100 endings
    # An analyst reads it but cannot refit.
    coordinator.get("/logout")
    analyst = logged_in("analyst")
    assert analyst.get("/analyse/duurzaamheid/").status_code == 200
    assert analyst.post("/analyse/duurzaamheid/opnieuw", data={
        "csrf_token": csrf_token(analyst, "/analyse/duurzaamheid/")}).status_code == 403
    assert _models(session) == 1


def test_little_data_and_a_weak_model_are_flagged(logged_in, session):
    history.load(session, seed=42, matches=70)
    session.commit()
    client = logged_in("coordinator")
    assert _refit(client).status_code == 303
    model = session.scalars(select(DurabilityModel)).one()
    assert model.events < 100
    model.c_low = 0.48
    session.commit()
    page = client.get("/analyse/duurzaamheid/").get_data(as_text=True)
    assert 'data-warning="few"' in page and 'data-warning="uncertain"' in page


def test_a_run_with_the_learned_model_explains_each_proposal(logged_in, session, make_volunteer, make_resident):
    history.load(session, seed=43, matches=300)
    make_resident(first_name="Wachtend", commitment_months="12")
    session.commit()
    client = logged_in("coordinator")
    form = client.get("/koppelen/").get_data(as_text=True)
    assert 'name="objective" value="durability"' not in form  # no model yet
    assert _refit(client).status_code == 303
    assert 'name="objective" value="durability"' in client.get("/koppelen/").get_data(as_text=True)
    token = csrf_token(client, "/koppelen/")
    fixed = client.post("/koppelen/", data={"csrf_token": token, "scope": "all", "objective": "weights"})
    learned = client.post("/koppelen/", data={"csrf_token": token, "scope": "all", "objective": "durability"})
    assert fixed.status_code == learned.status_code == 303
    assert queued_runs.execute_for(client) == 2
    page = client.get(learned.location).get_data(as_text=True)
    model = session.scalars(select(DurabilityModel)).one()
    session.commit()
    assert 'data-objective="durability"' in page and f'data-model="{model.version}"' in page
    assert "Verwacht aantal koppelingen dat 6 maanden duurt" in page
    runs = session.scalars(select(MatchRun).order_by(MatchRun.started_at)).all()
    assert [r.model_id for r in runs] == [model.id, model.id]
    session.commit()
    match = session.scalars(select(Match).where(Match.status == "proposed")).first()
    session.commit()
    review = client.get("/koppelen/voorstellen/").get_data(as_text=True)
    assert "verwachte kans dat dit 6 maanden duurt: " in review
    assert f"{round(match.durability * 100)}%" in review
    bad = client.post("/koppelen/", data={"csrf_token": token, "scope": "all", "objective": "geluk"})
    assert bad.status_code == 422 and "Kies vaste gewichten of het geleerde model." in bad.get_data(as_text=True)


def test_the_intended_commitment_is_asked_at_sign_up(client, session):
    page = client.get("/aanmelden").get_data(as_text=True)
    assert 'name="commitment_months"' in page and "Zolang het klikt" in page
    refused = post_form(client, "/aanmelden", {**SIGNUP, "commitment_months": "7"})
    assert refused.status_code == 422 and volunteers(session) == 0
    assert post_form(client, "/aanmelden", {**SIGNUP, "commitment_months": "open"}).status_code == 302
    assert session.scalar(select(Volunteer.commitment_months)) == "open"
