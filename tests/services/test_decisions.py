"""The volunteer's answer, reminders, expiry, the introduction meeting, and the state machine."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import delete, func, select

from matching.errors import Conflict, InvalidLink, ValidationFailed
from matching.services import decisions, proposals
from matching.store import (
    Base, Exclusion, Link, Match, OutboxMessage, Resident, Volunteer,
    make_session_factory,
)

from .workflow import BASE_URL, NOW, SECRET, approve, messages, run, tokens_in

LATER = NOW + timedelta(hours=2)


@pytest.fixture
def offered(session, make_volunteer, make_resident, make_staff):
    coordinator = make_staff()
    make_volunteer()
    make_resident(waiting_since=date(2025, 3, 1), neighbourhood="Lombok", notes="NOTITIE")
    [match] = run(session)
    approve(session, match, actor=coordinator.id)
    [token] = tokens_in(session)
    return match, token


def decide(session, token, choice, now=LATER, reason=""):
    decision = decisions.decide(session, token, choice, reason=reason, now=now, secret=SECRET)
    session.commit()
    return decision


def test_show_gives_minimal_data_and_changes_nothing(session, offered):
    match, token = offered
    before = (match.version, session.scalar(select(Link.used_at)))
    view = decisions.show(session, token, now=LATER, secret=SECRET)
    session.commit()
    assert view.first_name == "Henk" and view.age_band == "80-89"
    assert view.neighbourhood == "Lombok" and view.state == "open"
    assert view.shared_interests == ["Wandelen"] and view.shared_slots == [1, 4]
    assert "Jansen" not in repr(view) and "0301234567" not in repr(view)
    assert "NOTITIE" not in repr(view)
    session.refresh(match)
    assert (match.version, session.scalar(select(Link.used_at))) == before


def test_accept_moves_to_accepted_and_sends_confirmation_contact_and_notice(session, offered):
    match, token = offered
    decision = decide(session, token, "accept")
    assert decision.result == "recorded" and decision.view.state == "accept"
    session.refresh(match)
    assert match.status == "accepted" and match.decided_at == LATER
    [confirmation] = messages(session, "decision:")
    assert "aanneemt" in confirmation.body_text
    [contact] = messages(session, "contact:")
    assert "0301234567" in contact.body_text and "3512 CD 3" in contact.body_text
    [notice] = messages(session, "coordinator:accepted:")
    assert notice.to_address.endswith("@vcu.example>")


def test_decline_excludes_the_pair_and_the_resident_waits_since_the_same_date(session, offered):
    match, token = offered
    decision = decide(session, token, "decline", reason="Te ver weg")
    assert decision.result == "recorded"
    session.refresh(match)
    assert match.status == "declined" and match.decline_reason == "Te ver weg"
    resident = session.get(Resident, match.resident_id)
    assert resident.status == "waiting" and resident.waiting_since == date(2025, 3, 1)
    assert session.get(Volunteer, match.volunteer_id).open_matches == 0
    assert session.scalar(select(func.count()).select_from(Exclusion)) == 1
    assert len(messages(session, "decision:")) == 1
    assert messages(session, "contact:") == []
    assert run(session, now=LATER) == []


def test_the_same_choice_twice_is_already_received(session, offered):
    _match, token = offered
    decide(session, token, "accept")
    again = decide(session, token, "accept", now=LATER + timedelta(minutes=1))
    assert again.result == "already_received" and again.choice == "accept"
    assert len(messages(session, "decision:")) == 1


def test_a_conflicting_second_choice_does_not_flip_the_first(session, offered):
    match, token = offered
    decide(session, token, "decline")
    second = decide(session, token, "accept", now=LATER + timedelta(minutes=1))
    assert second.result == "conflict" and second.choice == "decline"
    session.refresh(match)
    assert match.status == "declined"


def test_an_unknown_choice_is_refused(session, offered):
    with pytest.raises(ValidationFailed):
        decisions.decide(session, offered[1], "maybe", now=LATER, secret=SECRET)


def test_the_link_expires_after_seven_days(session, offered):
    _match, token = offered
    with pytest.raises(InvalidLink) as refused:
        decisions.show(session, token, now=NOW + timedelta(days=7), secret=SECRET)
    assert refused.value.reason == "expired" and refused.value.link_id


def test_a_token_for_another_purpose_or_tampered_is_refused(session, offered):
    _match, token = offered
    with pytest.raises(InvalidLink):
        # A character of the signature that carries six bits, surely changed (a last base64
        # character may carry padding bits only; overwriting with "xx" may leave it as it was).
        changed = "A" if token[-5] != "A" else "B"
        decisions.show(session, token[:-5] + changed + token[-4:], now=LATER, secret=SECRET)
    with pytest.raises(InvalidLink):
        decisions.show(session, token, now=LATER, secret="another-secret-" + "y" * 40)


def test_the_link_is_bound_to_the_volunteer_of_the_proposal(session, offered):
    match, token = offered
    link = session.scalar(select(Link))
    link.person_id = "f" * 32
    session.commit()
    with pytest.raises(InvalidLink) as refused:
        decisions.decide(session, token, "accept", now=LATER, secret=SECRET)
    assert refused.value.reason == "unknown"
    session.refresh(match)
    assert match.status == "offered"


def test_renew_an_expired_link_sends_a_fresh_one_that_works(session, offered):
    match, token = offered
    later = NOW + timedelta(days=7, hours=1)
    assert decisions.renew(session, token, now=later, secret=SECRET, base_url=BASE_URL) == "sent"
    session.commit()
    assert decisions.renew(session, token, now=later, secret=SECRET, base_url=BASE_URL) == "sent"
    session.commit()
    assert len(messages(session, "renewal:")) == 1
    fresh = tokens_in(session, "renewal:")[0]
    assert decide(session, fresh, "accept", now=later).result == "recorded"
    assert decisions.renew(session, fresh, now=later, secret=SECRET,
                           base_url=BASE_URL) == "not_expired"


def test_renew_after_the_offer_expired_has_nothing_to_renew(session, offered):
    _match, token = offered
    later = NOW + timedelta(days=8)
    decisions.expire_due(session, now=later)
    session.commit()
    assert decisions.renew(session, token, now=later, secret=SECRET, base_url=BASE_URL) == "closed"


def test_reminder_after_three_days_once(session, offered):
    match, _token = offered
    assert decisions.remind_due(session, now=NOW + timedelta(days=2, hours=23), secret=SECRET,
                                base_url=BASE_URL) == 0
    at = NOW + timedelta(days=3)
    assert decisions.remind_due(session, now=at, secret=SECRET, base_url=BASE_URL) == 1
    session.commit()
    assert decisions.remind_due(session, now=at + timedelta(hours=1), secret=SECRET,
                                base_url=BASE_URL) == 0
    [reminder] = messages(session, "reminder:")
    assert reminder.subject.startswith("Herinnering")
    [token] = tokens_in(session, "reminder:")
    link = session.get(Link, session.scalars(select(Link).order_by(Link.created_at)).all()[-1].id)
    assert link.expires_at == NOW + timedelta(days=7)
    assert decide(session, token, "accept", now=at).result == "recorded"


def test_expiry_after_seven_days_returns_the_resident_to_the_pool(session, offered):
    match, token = offered
    assert decisions.expire_due(session, now=NOW + timedelta(days=6, hours=23)) == 0
    assert decisions.expire_due(session, now=NOW + timedelta(days=7)) == 1
    session.commit()
    session.refresh(match)
    assert match.status == "expired"
    resident = session.get(Resident, match.resident_id)
    assert resident.status == "waiting" and resident.waiting_since == date(2025, 3, 1)
    assert session.get(Volunteer, match.volunteer_id).open_matches == 0
    assert decisions.expire_due(session, now=NOW + timedelta(days=8)) == 0
    assert len(messages(session, "coordinator:expired:")) == 1


def test_introduction_with_two_goes_makes_the_match_active(session, offered):
    match, token = offered
    decide(session, token, "accept")
    active = decisions.record_introduction(
        session, match.id, intro_date=LATER.date(), volunteer_go=True, resident_go=True,
        actor=None, now=LATER)
    session.commit()
    assert active.status == "active" and active.activated_at == LATER
    assert session.get(Resident, match.resident_id).status == "matched"
    assert session.get(Volunteer, match.volunteer_id).open_matches == 1


def test_a_no_go_ends_the_match_excludes_and_the_resident_waits(session, offered):
    match, token = offered
    decide(session, token, "accept")
    ended = decisions.record_introduction(
        session, match.id, intro_date=LATER.date(), volunteer_go=True, resident_go=False,
        actor=None, now=LATER)
    session.commit()
    assert ended.status == "ended" and ended.end_reason == "no_click"
    resident = session.get(Resident, match.resident_id)
    assert resident.status == "waiting" and resident.waiting_since == date(2025, 3, 1)
    assert session.scalar(select(func.count()).select_from(Exclusion)) == 1
    assert session.get(Volunteer, match.volunteer_id).open_matches == 0


def test_the_introduction_date_is_utrechts_date_not_the_servers(session, offered):
    """At 23:30 UTC in winter it is already tomorrow in Utrecht: that date is today, not the future."""
    match, token = offered
    decide(session, token, "accept")
    late = datetime(NOW.year, NOW.month, NOW.day, 23, 30, tzinfo=UTC) + timedelta(days=1)
    utrecht_today = late.date() + timedelta(days=1)
    with pytest.raises(ValidationFailed):
        decisions.record_introduction(
            session, match.id, intro_date=utrecht_today + timedelta(days=1), volunteer_go=True,
            resident_go=True, actor=None, now=late)
    active = decisions.record_introduction(
        session, match.id, intro_date=utrecht_today, volunteer_go=True, resident_go=True,
        actor=None, now=late)
    assert active.status == "active" and active.intro_date == utrecht_today


def test_introduction_only_after_accept(session, offered):
    match, _token = offered
    with pytest.raises(Conflict):
        decisions.record_introduction(session, match.id, intro_date=LATER.date(),
                                      volunteer_go=True, resident_go=True, actor=None, now=LATER)


# ---------------------------------------------------------------- the state machine

def test_workflow_keeps_its_invariants_under_random_interleavings(engine):
    sessions = make_session_factory(engine)
    tables = [t for t in reversed(Base.metadata.sorted_tables)
              if t.name in {"exclusion", "link", "outbox_message", "match", "match_run",
                            "volunteer", "resident", "audit_event"}]

    class Workflow(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.session = sessions()
            for table in tables:
                self.session.execute(delete(table))
            for n in range(3):
                self.session.add(Volunteer(
                    first_name=f"V{n}", email=f"v{n}@example.org", lat=52.09, lon=5.12,
                    languages=["nl"], interests=["wandelen"], availability=[1, 4],
                    capacity=1 + n % 2, status="available", max_travel_km=5.0))
            for n in range(4):
                self.session.add(Resident(
                    first_name=f"R{n}", lat=52.085, lon=5.13, languages=["nl"],
                    interests=["wandelen"], availability=[1, 4], status="waiting",
                    waiting_since=date(2025, 1, 1 + n)))
            self.session.commit()
            self.now = NOW
            self.tokens: dict[str, str] = {}

        def teardown(self) -> None:
            self.session.rollback()
            self.session.close()

        def _matches(self, status: str) -> list[Match]:
            return list(self.session.scalars(
                select(Match).where(Match.status == status).order_by(Match.id)).unique())

        @rule()
        def run_again(self) -> None:
            self.now += timedelta(hours=1)
            run(self.session, now=self.now)

        @rule(data=st.data())
        def approve_one(self, data: st.DataObject) -> None:
            found = self._matches("proposed")
            if not found:
                return
            match = data.draw(st.sampled_from(found))
            approve(self.session, match, now=self.now)
            self.tokens[match.id] = tokens_in(self.session, f"proposal:{match.id}")[0]

        @precondition(lambda self: self.tokens)
        @rule(data=st.data(), choice=st.sampled_from(decisions.CHOICES))
        def answer(self, data: st.DataObject, choice: str) -> None:
            match_id = data.draw(st.sampled_from(sorted(self.tokens)))
            try:
                decisions.decide(self.session, self.tokens[match_id], choice, now=self.now,
                                 secret=SECRET)
                self.session.commit()
            except InvalidLink:
                self.session.rollback()

        @rule(data=st.data(), locked=st.booleans())
        def lock_one(self, data: st.DataObject, locked: bool) -> None:
            found = self._matches("proposed")
            if not found:
                return
            match = data.draw(st.sampled_from(found))
            proposals.set_locked(self.session, match.id, locked, actor=None, now=self.now)
            self.session.commit()

        @rule(data=st.data())
        def reject_one(self, data: st.DataObject) -> None:
            found = self._matches("proposed")
            if not found:
                return
            match = data.draw(st.sampled_from(found))
            proposals.reject(self.session, match.id, reason="past niet", actor=None, now=self.now)
            self.session.commit()

        @rule()
        def let_a_week_pass(self) -> None:
            self.now += timedelta(days=7, hours=1)
            decisions.expire_due(self.session, now=self.now)
            self.session.commit()

        @rule(data=st.data(), go=st.booleans())
        def introduce(self, data: st.DataObject, go: bool) -> None:
            found = self._matches("accepted")
            if not found:
                return
            match = data.draw(st.sampled_from(found))
            decisions.record_introduction(
                self.session, match.id, intro_date=self.now.date(), volunteer_go=True,
                resident_go=go, actor=None, now=self.now)
            self.session.commit()

        @invariant()
        def counters_match_open_matches(self) -> None:
            open_statuses = ("proposed", "offered", "accepted", "active")
            for volunteer in self.session.scalars(select(Volunteer)):
                self.session.refresh(volunteer)
                count = self.session.scalar(select(func.count()).select_from(Match).where(
                    Match.volunteer_id == volunteer.id, Match.status.in_(open_statuses)))
                assert volunteer.open_matches == count <= volunteer.capacity

        @invariant()
        def residents_status_follows_their_match(self) -> None:
            expected = {"proposed": "proposed", "offered": "proposed",
                        "accepted": "proposed", "active": "matched"}
            for resident in self.session.scalars(select(Resident)):
                self.session.refresh(resident)
                statuses = [m.status for m in self.session.scalars(
                    select(Match).where(Match.resident_id == resident.id)).unique()
                    if m.status in expected]
                assert len(statuses) <= 1
                assert resident.status == (expected[statuses[0]] if statuses else "waiting")
                assert resident.waiting_since.year == 2025

        @invariant()
        def excluded_pairs_are_never_open(self) -> None:
            for exclusion in self.session.scalars(select(Exclusion)):
                assert self.session.scalar(select(func.count()).select_from(Match).where(
                    Match.volunteer_id == exclusion.volunteer_id,
                    Match.resident_id == exclusion.resident_id,
                    Match.status.in_(("proposed", "offered", "accepted", "active")),
                )) == 0

        @invariant()
        def one_decision_mail_per_answered_match(self) -> None:
            answered = self.session.scalar(select(func.count()).select_from(Match).where(
                Match.decided_at.is_not(None), Match.status.in_(
                    ("accepted", "declined", "active")))) or 0
            ended_after_accept = self.session.scalar(select(func.count()).select_from(Match).where(
                Match.status == "ended")) or 0
            mails = self.session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.dedupe_key.like("decision:%"))) or 0
            assert mails == answered + ended_after_accept

    Workflow.TestCase.settings = settings(
        max_examples=15, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    Workflow.TestCase().runTest()


@pytest.mark.parametrize("choice, status", [("accept", "accepted"), ("decline", "declined")])
def test_an_unaddressable_notice_never_undoes_the_volunteers_answer(session, offered, choice,
                                                                   status):
    """A coordinator address from before the mailer's rule was enforced (set in the table)."""
    from matching.services import mail
    from matching.store import StaffUser

    match, token = offered
    coordinator = session.get(StaffUser, session.get(Match, match.id).offered_by)
    coordinator.email = "coordinator@demo.maatwerk.local"
    session.commit()
    assert decide(session, token, choice).result == "recorded"
    session.expire_all()
    assert session.get(Match, match.id).status == status
    [notice] = messages(session, f"coordinator:{status}:")
    assert (notice.status, notice.last_error) == ("failed", mail.UNADDRESSABLE)
    [confirmation] = messages(session, "decision:")
    assert confirmation.status == "pending"
