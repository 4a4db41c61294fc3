"""Reviewing proposals: approve (one link, one e-mail), reject, swap, lock, bulk, races."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from matching.errors import Conflict, ValidationFailed
from matching.services import proposals
from matching.store import Exclusion, Link, Match, Resident, Volunteer, make_session_factory

from .workflow import BASE_URL, NOW, SECRET, approve, messages, run, tokens_in


@pytest.fixture
def proposal(session, make_volunteer, make_resident, make_staff):
    make_volunteer()
    make_resident()
    [match] = run(session)
    return match


def test_approve_offers_with_one_link_in_one_email(session, proposal, make_staff):
    coordinator = make_staff()
    offered = approve(session, proposal, actor=coordinator.id)
    assert offered.status == "offered" and offered.offered_at == NOW
    assert offered.offered_by == coordinator.id and offered.version == proposal.version
    [message] = messages(session)
    assert message.to_address.endswith("<anne@example.org>")
    assert message.subject == "Voorstel voor een maatje: Henk"
    assert len(tokens_in(session)) == 1
    assert message.body_html.count('href="') == 1
    [link] = session.scalars(select(Link))
    assert (link.subject_id, link.person_id) == (proposal.id, proposal.volunteer_id)
    assert link.expires_at == NOW + timedelta(days=7)
    for private in ("0301234567", "3512 CD", "Jansen"):
        assert private not in message.body_text and private not in message.body_html


def test_english_mail_for_a_volunteer_without_dutch(session, make_volunteer, make_resident):
    make_volunteer(languages=["en"])
    make_resident(languages=["en", "nl"])
    [match] = run(session)
    approve(session, match)
    assert messages(session)[0].subject == "A buddy proposal: Henk"


def test_approving_twice_is_a_conflict_and_sends_one_mail(session, proposal):
    approve(session, proposal)
    with pytest.raises(Conflict, match="proposal_already_handled"):
        approve(session, proposal)
    assert len(messages(session)) == 1


def test_a_stale_version_from_the_page_is_refused(session, proposal):
    version = proposal.version
    proposals.set_locked(session, proposal.id, True, actor=None, now=NOW)
    session.commit()
    with pytest.raises(Conflict):
        proposals.reject(session, proposal.id, reason="x", actor=None, now=NOW,
                         expected_version=version)


def test_reject_withdraws_excludes_and_the_resident_waits_again(session, proposal):
    resident = session.get(Resident, proposal.resident_id)
    waiting_since = resident.waiting_since
    rejected = proposals.reject(session, proposal.id, reason="Past niet", actor=None, now=NOW)
    session.commit()
    assert rejected.status == "withdrawn" and rejected.decline_reason == "Past niet"
    assert session.scalar(select(func.count()).select_from(Exclusion)) == 1
    session.refresh(resident)
    assert resident.status == "waiting" and resident.waiting_since == waiting_since
    assert session.get(Volunteer, proposal.volunteer_id).open_matches == 0
    assert run(session, now=NOW + timedelta(hours=1)) == []


def test_reject_needs_a_reason(session, proposal):
    with pytest.raises(ValidationFailed):
        proposals.reject(session, proposal.id, reason="  ", actor=None, now=NOW)


def test_swap_to_an_alternative(session, make_volunteer, make_resident):
    make_volunteer()
    make_volunteer(first_name="Bram", email="bram@example.org", interests=["koken"])
    make_resident()
    [match] = run(session)
    [alternative] = match.explanation["alternatives"]
    swapped = proposals.swap(session, match.id, alternative["volunteer"], actor=None, now=NOW,
                             today=NOW.date())
    session.commit()
    assert swapped.volunteer_id == alternative["volunteer"] and swapped.status == "proposed"
    assert session.get(Match, match.id).status == "withdrawn"
    assert swapped.explanation["score"] == swapped.score
    assert [a["volunteer"] for a in swapped.explanation["alternatives"]] == [match.volunteer_id]
    assert session.get(Volunteer, match.volunteer_id).open_matches == 0
    assert session.get(Volunteer, swapped.volunteer_id).open_matches == 1


def test_swap_only_to_a_listed_alternative(session, proposal, make_volunteer):
    other = make_volunteer(email="z@example.org")
    with pytest.raises(ValidationFailed):
        proposals.swap(session, proposal.id, other.id, actor=None, now=NOW, today=NOW.date())


def test_locked_proposals_survive_a_new_run(session, proposal):
    proposals.set_locked(session, proposal.id, True, actor=None, now=NOW)
    session.commit()
    run(session, now=NOW + timedelta(hours=1))
    kept = session.get(Match, proposal.id)
    assert kept.status == "proposed" and kept.locked


def test_bulk_approve_reports_what_it_could_not_do(
    session, make_volunteer, make_resident
):
    make_volunteer(capacity=3)
    make_resident(first_name="A")
    make_resident(first_name="B")
    found = run(session)
    approve(session, found[0])
    result = proposals.approve_many(session, [m.id for m in found] + ["0" * 32], actor=None,
                                    now=NOW, secret=SECRET, base_url=BASE_URL)
    session.commit()
    assert result.approved == [found[1].id]
    assert set(result.refused) == {found[0].id, "0" * 32}
    assert len(messages(session, "proposal:")) == 2


def test_review_page_is_paginated_best_first(session, make_volunteer, make_resident):
    make_volunteer(capacity=3)
    for name in "ABC":
        make_resident(first_name=name)
    run(session)
    page = proposals.review(session, page=1, page_size=2)
    assert page.total == 3 and page.pages == 2 and len(page.items) == 2
    assert page.items[0].score >= page.items[1].score
    assert len(proposals.review(session, page=2, page_size=2).items) == 1


def test_two_coordinators_at_once_one_wins(engine, session, proposal):
    session.rollback()  # SQLite: BEGIN IMMEDIATE would hold the write lock for the test
    sessions = make_session_factory(engine)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(kind: str) -> None:
        barrier.wait()
        with sessions() as own:
            try:
                if kind == "approve":
                    proposals.approve(own, proposal.id, actor=None, now=NOW, secret=SECRET,
                                      base_url=BASE_URL, expected_version=proposal.version)
                else:
                    proposals.reject(own, proposal.id, reason="nee", actor=None, now=NOW,
                                     expected_version=proposal.version)
                own.commit()
                outcomes.append(kind)
            except Conflict as error:
                own.rollback()
                outcomes.append(error.message)

    threads = [threading.Thread(target=act, args=(k,)) for k in ("approve", "reject")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 2 and outcomes.count("proposal_already_handled") == 1
    session.expire_all()
    status = session.get(Match, proposal.id).status
    assert status in {"offered", "withdrawn"}
    assert len(messages(session)) == (1 if status == "offered" else 0)
