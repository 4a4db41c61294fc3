"""The scope matrix for staff: coordinators of two partner organisations and of the host.

An organisation's coordinators see and act only on its own people, on the matches that involve
them and on the runs they started, through the same Scope as the organisation's API token; the
rest answers 404 and changes no row. The host's coordinators see all; analysts see aggregates
only; the host's own pages (outbox, imports, staff, organisations) refuse partners' staff.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from matching.services import pairing, routing
from matching.store import AuditEvent, Match, MatchRun, Organisation, Resident, Volunteer, utcnow
from tests import queued_runs
from tests.conftest import table_digest
from tests.logins import csrf_token, login

HUMANITAS, HANDJE = "Humanitas Utrecht", "Handjehelpen"
OWNERS = {"humanitas": HUMANITAS, "handje": HANDJE, "host": None}


@dataclass
class World:
    volunteer: dict[str, str] = field(default_factory=dict)
    resident: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)
    proposal: dict[str, str] = field(default_factory=dict)
    active: dict[str, str] = field(default_factory=dict)
    run: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def world(session, make_volunteer, make_resident) -> World:
    found = World()
    now = utcnow()
    for name in (HUMANITAS, HANDJE):
        session.add(Organisation(name=name, created_at=now))
    session.flush()
    for n, (owner, organisation) in enumerate(OWNERS.items()):
        run = MatchRun(status="done", progress=100, organisation=organisation, started_at=now, finished_at=now)
        session.add(run)
        session.flush()
        volunteer = make_volunteer(first_name=f"Vrij{owner}", email=f"v{n}@example.org", capacity=3,
                                   partner_organisation=organisation, lat=52.09 + n, lon=5.12)
        resident = make_resident(first_name=f"Deel{owner}", organisation=organisation, status="proposed",
                                 lat=52.09 + n, lon=5.12)
        matched = make_resident(first_name=f"Samen{owner}", organisation=organisation, status="matched",
                                lat=52.09 + n, lon=5.12)
        waiting = make_resident(first_name=f"Wacht{owner}", organisation=organisation, status="waiting",
                                lat=52.09 + n, lon=5.121)
        proposal = pairing.open_match(session, volunteer_id=volunteer.id, resident_id=resident.id,
                                      status="proposed", run_id=run.id, score=80.0, cost=0.2, distance_km=0.1,
                                      explanation={"alternatives": []}, proposed_at=now)
        active = pairing.open_match(session, volunteer_id=volunteer.id, resident_id=matched.id,
                                    status="active", activated_at=now, proposed_at=now)
        found.volunteer[owner], found.resident[owner], found.waiting[owner] = volunteer.id, resident.id, waiting.id
        found.proposal[owner], found.active[owner], found.run[owner] = proposal.id, active.id, run.id
        found.names[owner] = owner
    session.commit()
    return found


def staff_client(client, make_staff, role="coordinator", organisation=None):
    user = make_staff(role=role, organisation=organisation)
    assert login(client, user.email).status_code == 302
    return client


def reads(world: World, owner: str) -> list[str]:
    v, r = world.volunteer[owner], world.resident[owner]
    return [f"/vrijwilligers/{v}", f"/vrijwilligers/{v}/bewerken", f"/vrijwilligers/{v}/export.json",
            f"/deelnemers/{r}", f"/deelnemers/{r}/bewerken", f"/deelnemers/{r}/export.json",
            f"/vrijwilligers/{v}/samenvoegen?met={v}",
            f"/aandacht/koppeling/{world.active[owner]}/beeindigen",
            f"/koppelen/runs/{world.run[owner]}", f"/koppelen/voorstellen/?run={world.run[owner]}"]


def writes(world: World, owner: str) -> list[tuple[str, dict]]:
    v, r, w, p = world.volunteer[owner], world.resident[owner], world.waiting[owner], world.proposal[owner]
    return [
        (f"/vrijwilligers/{v}/pauzeren", {"until": "2027-01-01"}),
        (f"/vrijwilligers/{v}/stoppen", {"reason": "x"}),
        (f"/vrijwilligers/{v}/wissen", {"confirm": "yes"}),
        (f"/vrijwilligers/{v}/bewerken", {"first_name": "Gewijzigd", "version": "1"}),
        (f"/deelnemers/{w}/on-hold", {}),
        (f"/deelnemers/{w}/afsluiten", {"reason": "x"}),
        (f"/deelnemers/{w}/wissen", {"confirm": "yes"}),
        (f"/deelnemers/{w}/overdragen", {"organisation": ""}),
        (f"/deelnemers/{w}/toestemming-intrekken", {"purpose": "referral"}),
        (f"/koppelen/voorstellen/{p}/goedkeuren", {}),
        (f"/koppelen/voorstellen/{p}/afwijzen", {"reason": "past niet"}),
        (f"/koppelen/voorstellen/{p}/vastzetten", {"locked": "1"}),
        (f"/aandacht/koppeling/{world.active[owner]}/beeindigen", {"reason": "moved", "ended_on": "2026-12-01"}),
    ]


@pytest.mark.parametrize("me", ["humanitas", "handje"])
def test_a_partner_coordinator_reaches_only_its_own(client, session, engine, make_staff, world, me):
    web = staff_client(client, make_staff, organisation=OWNERS[me])
    for url in reads(world, me):
        assert web.get(url).status_code == 200, url
    token = csrf_token(web, "/koppelen/voorstellen/")
    for owner in OWNERS:
        if owner == me:
            continue
        for url in reads(world, owner):
            assert web.get(url).status_code == 404, url
        before = table_digest(engine, skip=frozenset({"audit_event"}))
        for url, form in writes(world, owner):
            assert web.post(url, data={**form, "csrf_token": token}).status_code == 404, url
        assert table_digest(engine, skip=frozenset({"audit_event"})) == before, owner
    # Lists, the review page, runs and the home page's counts hold only its own.
    pages = {url: web.get(url).get_data(as_text=True) for url in
             ("/vrijwilligers/", "/deelnemers/", "/koppelen/voorstellen/", "/aandacht/")}
    for owner in OWNERS:
        shown = owner == me
        assert (f"Vrij{owner}" in pages["/vrijwilligers/"]) is shown
        assert (f"Deel{owner}" in pages["/deelnemers/"]) is shown
        assert (f"Deel{owner}" in pages["/koppelen/voorstellen/"]) is shown
        assert (f"Samen{owner}" in pages["/aandacht/"]) is shown or "Samen" not in pages["/aandacht/"]
    waiting_names = web.get("/dashboard/wachtlijst").get_data(as_text=True)
    assert {owner for owner in OWNERS if f"Wacht{owner}" in waiting_names} == {me}
    runs_page = web.get("/koppelen/").get_data(as_text=True)
    assert {owner for owner in OWNERS if world.run[owner] in runs_page} == {me}
    # The host's own pages are not the partner's, nor in its menu.
    menu = web.get("/").get_data(as_text=True)
    assert "/beheer/berichten/" not in menu and "/import/" not in menu and "/deelnemers/gedeelde-pool" in menu
    for url in ("/beheer/berichten/", "/import/", "/beheer/medewerkers", "/beheer/organisaties"):
        assert web.get(url).status_code == 403, url


def test_own_actions_work_for_a_partner_coordinator(client, session, make_staff, world):
    web = staff_client(client, make_staff, organisation=HUMANITAS)
    token = csrf_token(web, "/koppelen/voorstellen/")
    done = web.post(f"/koppelen/voorstellen/{world.proposal['humanitas']}/afwijzen",
                    data={"reason": "past niet", "csrf_token": token})
    assert done.status_code in (302, 303)
    session.expire_all()
    assert session.get(Match, world.proposal["humanitas"]).status == "withdrawn"
    session.commit()
    created = web.post("/deelnemers/nieuw", data={
        "csrf_token": csrf_token(web, "/deelnemers/nieuw"), "first_name": "Nieuw", "postcode": "3511 AB",
        "languages": ["nl"], "target_group": "older_person", "referral_source": "partner"})
    assert created.status_code in (302, 303), created.get_data(as_text=True)[:400]
    new = session.scalar(select(Resident).where(Resident.first_name == "Nieuw"))
    assert new.organisation == HUMANITAS
    session.commit()


def test_the_host_sees_all_and_analysts_only_aggregates(client, session, make_staff, world):
    web = staff_client(client, make_staff)
    for owner in OWNERS:
        for url in reads(world, owner):
            assert web.get(url).status_code == 200, url
    page = web.get("/koppelen/voorstellen/").get_data(as_text=True)
    assert all(f"Deel{owner}" in page for owner in OWNERS)
    # Every proposal says whose volunteer and whose resident it pairs.
    assert f"({HUMANITAS})" in page and f"({HANDJE})" in page and "(VCU)" in page
    web.get("/logout")
    analyst = staff_client(client, make_staff, role="analyst")
    assert analyst.get("/dashboard").status_code == 200
    for url in ("/deelnemers/", f"/deelnemers/{world.resident['host']}", "/koppelen/voorstellen/"):
        assert analyst.get(url).status_code in (302, 403), url


def test_a_partner_run_pools_its_own_and_shares_only_by_agreement(client, session, make_staff, make_volunteer,
                                                                 make_resident):
    now = utcnow()
    for name in (HUMANITAS, HANDJE):
        session.add(Organisation(name=name, created_at=now))
    session.flush()
    # One waiting resident of Humanitas; the only volunteer near enough is Handjehelpen's.
    mine = make_resident(first_name="Eigen", organisation=HUMANITAS, status="waiting")
    make_resident(first_name="Ander", organisation=HANDJE, status="waiting", lat=52.2, lon=5.3)
    theirs = make_volunteer(first_name="Hunne", partner_organisation=HANDJE)
    session.commit()
    web = staff_client(client, make_staff, organisation=HUMANITAS)

    def start():
        token = csrf_token(web, "/koppelen/")
        assert web.post("/koppelen/", data={"csrf_token": token, "scope": "all"}).status_code == 303
        session.commit()  # SQLite: the executor writes
        assert queued_runs.execute_for(web) == 1
        session.expire_all()
        run = session.scalars(select(MatchRun).order_by(MatchRun.started_at.desc())).first()
        pairs = [(m.volunteer_id, m.resident_id) for m in session.scalars(select(Match).where(Match.run_id == run.id))]
        session.commit()
        return run, pairs

    run, pairs = start()
    assert run.organisation == HUMANITAS and pairs == []
    assert run.stats["residents"] == 1  # only its own resident was in the pool
    for name in (HUMANITAS, HANDJE):
        routing.set_sharing(session, name, True, actor=None, now=now)
    session.commit()
    run, pairs = start()
    assert pairs == [(theirs.id, mine.id)]


def test_routing_rules_and_hand_over(client, session, make_staff):
    now = utcnow()
    routing.add_organisation(session, HUMANITAS, shares_pool=False, actor=None, now=now)
    routing.add_rule(session, organisation=HUMANITAS, target_group="migrant_elder", neighbourhood=None,
                     actor=None, now=now)
    session.commit()
    from tests.web.test_public import REFERRAL
    from tests.web.profile_fixtures import post_form
    assert post_form(client, "/verwijzen", {**REFERRAL, "target_group": "migrant_elder"}).status_code == 302
    assert post_form(client, "/verwijzen", {**REFERRAL, "first_name": "Piet", "phone": "030 1112234"}).status_code == 302
    routed = session.scalar(select(Resident).where(Resident.target_group == "migrant_elder"))
    pooled = session.scalar(select(Resident).where(Resident.first_name == "Piet"))
    assert (routed.organisation, pooled.organisation) == (HUMANITAS, None)
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.subject_id == routed.id,
                                                          AuditEvent.action == "resident.routed"))
    routed.status, routed.waiting_since = "waiting", now.date()
    session.commit()
    web = staff_client(client, make_staff)
    token = csrf_token(web, f"/deelnemers/{routed.id}")
    assert web.post(f"/deelnemers/{routed.id}/overdragen", data={"organisation": "", "csrf_token": token}).status_code == 303
    session.expire_all()
    moved = session.get(Resident, routed.id)
    assert moved.organisation is None and moved.waiting_since == now.date()
    assert session.scalar(select(AuditEvent.fields).where(AuditEvent.action == "resident.handed_over")) == ["organisation"]
    session.commit()  # SQLite: no open transaction may hold the lock the app needs
    refused = web.post(f"/deelnemers/{routed.id}/overdragen", data={"organisation": "Nergens", "csrf_token": token})
    assert refused.status_code == 303 and session.get(Resident, routed.id).organisation is None
    session.commit()


def test_a_partner_takes_a_resident_from_the_shared_pool(client, session, make_staff, world):
    web = staff_client(client, make_staff, organisation=HANDJE)
    page = web.get("/deelnemers/gedeelde-pool").get_data(as_text=True)
    pooled = world.waiting["host"]
    assert f'data-resident="{pooled}"' in page
    assert "Wachthost" not in page and "Deelhost" not in page  # no names before taking someone on
    assert f'data-resident="{world.waiting["humanitas"]}"' not in page  # served by another organisation
    token = csrf_token(web, "/deelnemers/gedeelde-pool")
    taken = web.post(f"/deelnemers/gedeelde-pool/{pooled}/overnemen", data={"csrf_token": token})
    assert taken.status_code == 303
    session.expire_all()
    assert session.get(Resident, pooled).organisation == HANDJE
    session.commit()
    assert "Wachthost" in web.get(f"/deelnemers/{pooled}").get_data(as_text=True)
    other = world.waiting["humanitas"]
    refused = web.post(f"/deelnemers/gedeelde-pool/{other}/overnemen", data={"csrf_token": token})
    assert refused.status_code == 303
    session.expire_all()
    assert session.get(Resident, other).organisation == HUMANITAS
    session.commit()
    web.get("/logout")
    host = staff_client(client, make_staff)
    assert host.get("/deelnemers/gedeelde-pool").status_code == 404
