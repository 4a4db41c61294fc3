"""Runs and the review page through the browser's HTTP: start, review, act, race, introduce."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from matching.store import Exclusion, Match, MatchRun, OutboxMessage, Resident, utcnow
from tests import queued_runs
from tests.logins import csrf_token


def people(make_volunteer, make_resident, session, **resident):
    make_volunteer()
    make_volunteer(first_name="Bram", last_name="Bos", email="bram@example.org",
                   interests=["koken"])
    found = make_resident(neighbourhood="Lombok", **resident)
    session.commit()
    return found


def start_run(client, **form):
    """Start a run on the run page, then let the scheduler's executor do it."""
    token = csrf_token(client, "/koppelen/")
    response = client.post("/koppelen/", data={"csrf_token": token, "scope": "all", **form})
    queued_runs.execute_for(client)
    return response


def only_match(session) -> Match:
    session.expire_all()
    found = session.scalar(select(Match).where(Match.status == "proposed"))
    session.commit()  # SQLite: an open transaction would hold the write lock the app needs
    return found


def reload(session, thing) -> None:
    session.refresh(thing)
    session.commit()


def test_a_coordinator_starts_a_run_and_sees_its_result(
    logged_in, session, make_volunteer, make_resident
):
    client = logged_in("coordinator")
    people(make_volunteer, make_resident, session)
    response = start_run(client)
    assert response.status_code == 303
    detail = client.get(response.location)
    page = detail.get_data(as_text=True)
    assert detail.status_code == 200 and 'data-status="done"' in page
    assert 'data-count="proposed">1<' in page
    assert "http-equiv" not in page  # no refresh once done
    run = session.scalar(select(MatchRun))
    assert run.started_by is not None and len(run.input_hash) == 64


def test_a_running_run_refreshes_itself(logged_in, session):
    client = logged_in("coordinator")
    session.add(MatchRun(id="a" * 32, status="running", progress=30))
    session.commit()
    page = client.get(f"/koppelen/runs/{'a' * 32}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and "30%" in page and "<script" not in page


def test_a_run_for_one_neighbourhood(logged_in, session, make_volunteer, make_resident):
    client = logged_in("coordinator")
    people(make_volunteer, make_resident, session)
    make_resident(first_name="Truus", neighbourhood="Overvecht")
    session.commit()
    start_run(client, scope="neighbourhood", neighbourhood="Overvecht")
    assert [m.resident.first_name for m in session.scalars(select(Match)).unique()] == ["Truus"]


def test_review_page_shows_score_explanation_distance_shared_and_alternatives(
    logged_in, session, make_volunteer, make_resident
):
    client = logged_in("coordinator")
    people(make_volunteer, make_resident, session)
    start_run(client)
    page = client.get("/koppelen/voorstellen/").get_data(as_text=True)
    assert "Henk Jansen" in page and "Anne de Vries" in page
    assert "Score" in page and "km" in page and "Wandelen" in page
    assert "maandag middag, dinsdag middag" in page  # slots 1 and 4
    assert "Bram Bos" in page  # the alternative, by name
    assert "Wisselen naar dit alternatief" in page
    assert "data-stale" not in page


def test_approve_from_the_page_offers_and_mails(logged_in, session, make_volunteer,
                                                make_resident):
    client = logged_in("coordinator")
    people(make_volunteer, make_resident, session)
    start_run(client)
    match = only_match(session)
    token = csrf_token(client, "/koppelen/voorstellen/")
    response = client.post(f"/koppelen/voorstellen/{match.id}/goedkeuren",
                           data={"csrf_token": token, "version": match.version})
    assert response.status_code == 303
    session.refresh(match)
    assert match.status == "offered"
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_the_second_coordinator_gets_a_clear_message(
    app, logged_in, make_staff, session, make_volunteer, make_resident
):
    from tests.logins import login

    first = logged_in("coordinator")
    people(make_volunteer, make_resident, session)
    start_run(first)
    match = only_match(session)
    second = app.test_client()
    other = make_staff()
    assert login(second, other.email).status_code == 302
    token_one = csrf_token(first, "/koppelen/voorstellen/")
    token_two = csrf_token(second, "/koppelen/voorstellen/")
    # Both pages show version N; the first approves, the second rejects from its old page.
    first.post(f"/koppelen/voorstellen/{match.id}/goedkeuren",
               data={"csrf_token": token_one, "version": match.version})
    response = second.post(f"/koppelen/voorstellen/{match.id}/afwijzen",
                           data={"csrf_token": token_two, "version": match.version,
                                 "reason": "past niet"}, follow_redirects=True)
    assert "door iemand anders behandeld" in response.get_data(as_text=True)
    session.refresh(match)
    assert match.status == "offered"
    assert session.scalar(select(func.count()).select_from(Exclusion)) == 0


def test_reject_with_a_reason_excludes(logged_in, session, make_volunteer, make_resident):
    client = logged_in("coordinator")
    resident = people(make_volunteer, make_resident, session)
    start_run(client)
    match = only_match(session)
    token = csrf_token(client, "/koppelen/voorstellen/")
    missing = client.post(f"/koppelen/voorstellen/{match.id}/afwijzen",
                          data={"csrf_token": token, "version": match.version},
                          follow_redirects=True)
    assert "Vul een reden in." in missing.get_data(as_text=True)
    client.post(f"/koppelen/voorstellen/{match.id}/afwijzen",
                data={"csrf_token": token, "version": match.version, "reason": "te ver"})
    session.expire_all()
    assert match.status == "withdrawn"
    assert session.get(Resident, resident.id).status == "waiting"
    assert session.scalar(select(func.count()).select_from(Exclusion)) == 1


def test_swap_lock_and_bulk_approve(logged_in, session, make_volunteer, make_resident):
    client = logged_in("coordinator")
    people(make_volunteer, make_resident, session)
    start_run(client)
    match = only_match(session)
    alternative = match.explanation["alternatives"][0]["volunteer"]
    token = csrf_token(client, "/koppelen/voorstellen/")
    client.post(f"/koppelen/voorstellen/{match.id}/wisselen",
                data={"csrf_token": token, "version": match.version, "volunteer_id": alternative})
    swapped = only_match(session)
    assert swapped.volunteer_id == alternative
    client.post(f"/koppelen/voorstellen/{swapped.id}/vastzetten",
                data={"csrf_token": token, "version": swapped.version, "locked": "1"})
    reload(session, swapped)
    assert swapped.locked
    client.post("/koppelen/voorstellen/bulk", data={"csrf_token": token,
                                                     "match_id": [swapped.id]})
    session.refresh(swapped)
    assert swapped.status == "offered"


def test_stale_proposals_are_flagged(logged_in, session, make_volunteer, make_resident):
    client = logged_in("coordinator")
    resident = people(make_volunteer, make_resident, session)
    start_run(client)
    run = session.scalar(select(MatchRun))
    run.started_at = utcnow() - timedelta(hours=1)
    session.get(Resident, resident.id).interests = ["wandelen", "koken"]
    session.commit()
    page = client.get("/koppelen/voorstellen/").get_data(as_text=True)
    assert "data-stale" in page


def test_introduction_from_the_accepted_tab_makes_it_active(
    logged_in, session, make_volunteer, make_resident
):
    client = logged_in("coordinator")
    resident = people(make_volunteer, make_resident, session)
    start_run(client)
    match = only_match(session)
    match.status = "accepted"
    session.commit()
    page = client.get("/koppelen/voorstellen/?status=accepted").get_data(as_text=True)
    assert "Kennismaking vastleggen" in page
    token = csrf_token(client, "/koppelen/voorstellen/?status=accepted")
    client.post(f"/koppelen/voorstellen/{match.id}/kennismaking", data={
        "csrf_token": token, "intro_date": utcnow().date().isoformat(), "volunteer_go": "1",
        "resident_go": "1", "status": "accepted"})
    session.expire_all()
    assert match.status == "active"
    assert session.get(Resident, resident.id).status == "matched"


def test_review_is_paginated_by_fifty(logged_in, session, make_volunteer, make_resident):
    client = logged_in("coordinator")
    for n in range(19):
        make_volunteer(email=f"v{n}@example.org", capacity=3)
    for n in range(55):
        make_resident(first_name=f"R{n}")
    session.commit()
    start_run(client)
    first = client.get("/koppelen/voorstellen/").get_data(as_text=True)
    second = client.get("/koppelen/voorstellen/?page=2").get_data(as_text=True)
    assert first.count("data-match=") == 50 and second.count("data-match=") == 5
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_analysts_cannot_reach_runs_or_proposals(logged_in):
    client = logged_in("analyst")
    assert client.get("/koppelen/").status_code == 403
    assert client.get("/koppelen/voorstellen/").status_code == 403


def test_the_nav_has_koppelen(logged_in):
    page = logged_in("coordinator").get("/").get_data(as_text=True)
    assert re.search(r'href="/koppelen/">Koppelen<', page)


def test_the_review_page_explains_in_dutch_and_offers_only_swaps_with_a_place(
    logged_in, session, make_volunteer, make_resident
):
    from matching.services.profiles import local_date
    from matching.store import Volunteer

    client = logged_in("coordinator")
    make_volunteer(first_name="Anne", availability=[1, 4])
    other = make_volunteer(first_name="Bram", last_name="Bos", email="bram@example.org",
                           interests=["koken"], activities=[], availability=[4])
    # Utrecht's date, not the machine's: between 23:00 and 24:00 UTC they differ.
    make_resident(first_name="Henk", waiting_since=local_date(utcnow()) - timedelta(days=10))
    session.commit()
    start_run(client)
    page = client.get("/koppelen/voorstellen/").get_data(as_text=True)
    assert "Deelnemer: Henk Jansen" in page and "Vrijwilliger: Anne de Vries" in page
    assert "1 gedeelde interesse: Wandelen" in page
    assert "1 gedeelde activiteit: Koffie drinken" in page
    assert "2 gedeelde momenten: maandag middag, dinsdag middag" in page
    assert "km uit elkaar" in page and "de deelnemer wacht 10 dagen" in page
    assert "lagere score: " in page
    assert re.search(r'<td class="num">\d+,\d</td>', page)  # a decimal comma in Dutch
    for raw in ("koffie_drinken", "shared", "lower score", "km apart", "waiting", "Mon "):
        assert raw not in page, raw
    assert f'data-alternative="{other.id}"' in page and "Wisselen naar dit alternatief" in page
    # Once the runner-up has no place left, the page no longer offers the swap.
    session.execute(Volunteer.__table__.update().where(Volunteer.id == other.id)
                    .values(capacity=1, open_matches=1))
    session.commit()
    full = client.get("/koppelen/voorstellen/").get_data(as_text=True)
    assert "geen plek meer: wisselen kan niet" in full
    assert "Wisselen naar dit alternatief" not in full


def test_a_coordinator_sets_weights_for_one_run_and_compares_it_with_the_previous(
    logged_in, session, make_volunteer, make_resident
):
    client = logged_in("coordinator")
    people(make_volunteer, make_resident, session)
    page = client.get("/koppelen/").get_data(as_text=True)
    assert 'name="weight_interests"' in page and "standaard 30" in page
    assert 'name="min_score"' in page
    first = start_run(client)
    assert 'data-compare' not in client.get(first.location).get_data(as_text=True)

    refused = start_run(client, weight_distance="honderd")
    assert refused.status_code == 422 and "een getal van 0 tot 100" in refused.get_data(as_text=True)
    all_zero = start_run(client, **{f"weight_{k}": "0" for k in (
        "interests", "activities", "availability", "distance", "waiting")})
    assert all_zero.status_code == 422 and "niet allemaal 0" in all_zero.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(MatchRun)) == 1
    session.commit()  # SQLite: the app needs the write lock back

    second = start_run(client, weight_distance="60", min_score="10,5")
    assert second.status_code == 303
    run = session.scalars(select(MatchRun).order_by(MatchRun.started_at.desc())).first()
    session.commit()
    assert run.settings == {"objective": "weights", "weights": {"distance": 60.0}, "min_score": 10.5}
    shown = client.get(second.location).get_data(as_text=True)
    assert 'data-weight="distance">60,0<' in shown and "data-min-score>10,5<" in shown
    assert 'data-compare="gained"' in shown and "Gemiddelde score" in shown
    assert "Ander maatje voorgesteld: 0" in shown


def test_the_review_table_sorts_and_filters(logged_in, session, make_volunteer, make_resident):
    client = logged_in("coordinator")
    for n, (name, wijk, lat) in enumerate((("Ans", "Lombok", 52.0851), ("Bep", "Zuilen", 52.095),
                                           ("Cor", "Lombok", 52.09))):
        make_volunteer(first_name=f"V{name}", last_name=f"Maat{n}", email=f"v{n}@example.org",
                       lat=lat)
        make_resident(first_name=name, last_name=f"Zoon{n}", neighbourhood=wijk, lat=lat)
    session.commit()
    start_run(client)

    def order(query: str) -> list[str]:
        page = client.get(f"/koppelen/voorstellen/?{query}").get_data(as_text=True)
        return re.findall(r"Deelnemer: (\w+) Zoon", page)

    assert sorted(order("")) == ["Ans", "Bep", "Cor"]
    assert order("sorteer=resident&richting=op") == ["Ans", "Bep", "Cor"]
    assert order("sorteer=resident&richting=af") == ["Cor", "Bep", "Ans"]
    assert order("sorteer=wijk&richting=op")[-1] == "Bep"
    assert sorted(order("wijk=lombok")) == ["Ans", "Cor"]
    assert order("naam=VBep") == ["Bep"]
    assert order("naam=%25") == []  # a LIKE wildcard is a character, not "anything"
    assert order("gewijzigd=1") == []
    page = client.get("/koppelen/voorstellen/?sorteer=score").get_data(as_text=True)
    assert 'aria-sort="descending"' in page and 'form="bulk"' in page
