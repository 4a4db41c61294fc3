"""The whole journey in a real browser against gunicorn and PostgreSQL.

A volunteer signs up, a GP refers a resident, the coordinator does both intakes, runs matching and
approves; the volunteer accepts from the e-mail; introduction; four weekly check-ins; a milestone
review; the match ends and the resident is back on the waiting list; the dashboard counts it all.

The server keeps the real clock. Time travel: once the match is active, its history is moved
seven weeks back (as if the introduction was then), and the test process calls the services a
scheduler would call, with `now` = activation + k weeks. Every moment stays in the server's past,
so the attention list and the dashboard see the check-ins and the review as a person would.
"""
from __future__ import annotations

import csv
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from jobs import match_runs
from matching.services import check_ins, referrals, reviews
from matching.services import staff as staff_service
from matching.services.profiles import LOCAL_TIME
from matching.store import (
    Base, CheckIn, Exclusion, ExitInterview, Match, MilestoneReview, OutboxMessage, PostcodeArea,
    Resident, Volunteer, make_engine, make_session_factory, utcnow,
)
from tests.conftest import CHEAP_HASH, MIGRATED_DATA_TABLES, RESIDENT_DEFAULTS, VOLUNTEER_DEFAULTS
from tests.logins import PASSWORD

from .conftest import ARTIFACTS, CHROMIUM, LAUNCH_ARGS

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
SECRET = "journey-secret-key-that-is-long-enough-0123456789"
COORDINATOR = "coordinator@vcu.example"
VOLUNTEER_EMAIL = "sanne@example.org"
TIME_TRAVEL = timedelta(weeks=7)
SEEDED_MATCHES = 4  # with the journey's own, 5: enough for the dashboard to show figures


Sessions = sessionmaker[Session]


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[Sessions]:
    """The migrated PostgreSQL test database, emptied (reference terms kept)."""
    engine = make_engine(postgres_url)
    tables = ", ".join(
        f'"{t.name}"' for t in Base.metadata.sorted_tables if t.name not in MIGRATED_DATA_TABLES
    )
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield make_session_factory(engine)
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(postgres_url: str, postgres: Sessions, tmp_path: Path) -> Iterator[str]:
    """gunicorn with two workers on 127.0.0.1, in demo mode, on the PostgreSQL database."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MAATWERK_DEMO": "1", "DATABASE_URL": postgres_url, "SECRET_KEY": SECRET,
           "MAATWERK_INSTANCE": str(tmp_path / "instance"), "BASE_URL": base,
           "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"), "PYTHONPATH": str(ROOT)}
    env.pop("MAATWERK_ENV", None)
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(GUNICORN), "-w", "2", "-b", f"127.0.0.1:{port}", "--no-control-socket",
         "web:create_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n"
                                   + (tmp_path / "gunicorn.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def artifacts_on_failure(name: str, pages: list[Any]) -> Iterator[None]:
    """On failure, a full-page screenshot and the HTML of every open page in test-artifacts/."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        for number, page in enumerate(pages):
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}-{number}.png"), full_page=True)
                (ARTIFACTS / f"{name}-{number}.html").write_text(page.content(), encoding="utf-8")
            except Exception:  # a page that died must not hide the original failure
                pass
        raise


def _prepare(sessions: Sessions, today: date) -> None:
    with sessions() as session:
        # Two PC4 areas close together, so the public forms find coordinates without a geocoder.
        session.add_all([PostcodeArea(postcode="3581", place="Utrecht", lat=52.0880, lon=5.1320),
                         PostcodeArea(postcode="3582", place="Utrecht", lat=52.0905, lon=5.1420)])
        staff_service.create_user(session, email=COORDINATOR, name="Coördinator",
                                  role="coordinator", password=PASSWORD, profile=CHEAP_HASH)
        _seed_ended_matches(session, today)
        session.commit()


def _seed_ended_matches(session: Session, today: date) -> None:
    """Earlier matches like the journey's: four answered check-ins, ended for lack of a click."""
    activated = datetime.combine(today, datetime.min.time(), timezone.utc) - timedelta(weeks=10)
    for n in range(SEEDED_MATCHES):
        volunteer = Volunteer(**{**VOLUNTEER_DEFAULTS, "email": f"eerder{n}@example.org",
                                 "first_name": f"Eerder{n}", "status": "stopped"})
        resident = Resident(**{**RESIDENT_DEFAULTS, "first_name": f"Vroeger{n}",
                               "status": "closed", "closed_at": activated + timedelta(weeks=6)})
        session.add_all([volunteer, resident])
        session.flush()
        match = Match(volunteer_id=volunteer.id, resident_id=resident.id, status="ended",
                      proposed_at=activated - timedelta(days=3), decided_at=activated,
                      activated_at=activated, ended_at=activated + timedelta(weeks=6),
                      end_reason="no_click")
        session.add(match)
        session.flush()
        for k in range(1, 5):
            sent = activated + timedelta(weeks=k)
            session.add(CheckIn(match_id=match.id, week=check_ins.iso_week(sent), sent_at=sent,
                                answered_at=sent + timedelta(hours=2), met="yes", rating=4,
                                call_requested=False))


def _outbox(sessions: Sessions) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at,
                                                                   OutboxMessage.id)))


def _new_mail(sessions: Sessions, seen: list[OutboxMessage], *keys: str) -> list[OutboxMessage]:
    """Exactly the outbox rows with these dedupe-key prefixes arrived since `seen`, one each."""
    known = {m.id for m in seen}
    new = [m for m in _outbox(sessions) if m.id not in known]
    assert sorted(m.dedupe_key.split(":")[0] for m in new) == sorted(keys), \
        [m.dedupe_key for m in new]
    return new


def _link(message: OutboxMessage, path: str) -> str:
    found = re.search(rf"(http://127\.0\.0\.1:[0-9]+{path}\S+)", message.body_text)
    assert found, message.body_text
    return found.group(1)


def _notify_referrers(sessions: Sessions, base: str) -> None:
    """What the scheduler's `referrals.notify` job does."""
    with sessions() as session:
        referrals.notify_moves(session, now=utcnow(), base_url=base, secret=SECRET)
        session.commit()


def _monday_nine(after: datetime, weeks: int) -> datetime:
    """09:00 in Utrecht on the Monday `weeks` weeks after the week of `after`, in UTC."""
    local = after.astimezone(LOCAL_TIME).date()
    monday = local - timedelta(days=local.weekday()) + timedelta(weeks=weeks)
    return datetime(monday.year, monday.month, monday.day, 9, tzinfo=LOCAL_TIME).astimezone(
        timezone.utc)


def _log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", COORDINATOR)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_the_whole_journey(server: str, postgres: Sessions) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, sessions = server, postgres
    today = utcnow().astimezone(LOCAL_TIME).date()
    _prepare(sessions, today)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        pages: list[Any] = []

        def new_page(**options: Any) -> Any:
            page = browser.new_context(**options).new_page()
            page.set_default_timeout(20000)
            pages.append(page)
            return page

        try:
            with artifacts_on_failure("journey", pages):
                _journey(base, sessions, today, new_page, expect)
        finally:
            browser.close()


def _run_queued(staff: Any, sessions: Sessions) -> None:
    """The run page shows the run queued; the scheduler's executor (run here) does it."""
    from playwright.sync_api import expect

    expect(staff.locator("[data-stage=queued]")).to_be_visible()
    assert match_runs.execute_queued(sessions) == 1


def _journey(base: str, sessions: Sessions, today: date, new_page: Callable[..., Any],
             expect: Any) -> None:
    # 1. A volunteer signs up and confirms the address from the e-mail.
    volunteer_page = new_page()
    volunteer_page.goto(f"{base}/aanmelden")
    volunteer_page.fill("#first_name", "Sanne")
    volunteer_page.fill("#last_name", "de Boer")
    volunteer_page.fill("#email", VOLUNTEER_EMAIL)
    volunteer_page.fill("#postcode", "3581 KL")
    volunteer_page.fill("#house_number", "21")
    volunteer_page.fill("#birth_year", "1990")
    volunteer_page.check("input[name=languages][value=nl]")
    volunteer_page.check("input[name=interests][value=wandelen]")
    for slot in (1, 4, 7, 10, 13):  # every weekday afternoon
        volunteer_page.check(f"#slot-{slot}")
    volunteer_page.check("input[name=consent]")
    volunteer_page.click("main button[type=submit]")
    volunteer_page.wait_for_url(f"{base}/aanmelden/bedankt")
    with sessions() as session:
        volunteer = session.scalars(select(Volunteer).where(Volunteer.email == VOLUNTEER_EMAIL)
                                    ).one()
        assert (volunteer.status, volunteer.source) == ("new", "signup")
        assert volunteer.lat is not None and volunteer.location_source == "postcode_area"
        volunteer_id = volunteer.id
    [confirmation] = _new_mail(sessions, [], "verify_email")
    assert confirmation.to_address.endswith(f"<{VOLUNTEER_EMAIL}>") or \
        confirmation.to_address == VOLUNTEER_EMAIL
    volunteer_page.goto(_link(confirmation, "/aanmelden/bevestig/"))
    volunteer_page.click("#verify")
    expect(volunteer_page.locator("#verified")).to_contain_text("is bevestigd")
    with sessions() as session:
        assert session.get(Volunteer, volunteer_id).email_verified_at is not None
    mails = _outbox(sessions)
    assert len(mails) == 1

    # 2. The coordinator does the volunteer's intake: an activity added, then available.
    staff = new_page(accept_downloads=True)
    _log_in(staff, base)
    staff.click("nav >> text=Vrijwilligers")
    staff.click("text=Sanne de Boer")
    expect(staff.locator("#status")).to_have_text("Nieuw")
    staff.click("text=Bewerken")
    staff.check("input[name=activities][value=koffie_drinken]")
    staff.fill("#max_travel_km", "5")
    staff.click("main form button[type=submit]:has-text('Opslaan')")
    staff.wait_for_selector("h1:has-text('Sanne de Boer')")
    staff.click("button:has-text('Intake gedaan: beschikbaar')")
    expect(staff.locator("#status")).to_have_text("Beschikbaar")
    with sessions() as session:
        volunteer = session.get(Volunteer, volunteer_id)
        assert volunteer.status == "available" and volunteer.activities == ["koffie_drinken"]

    # 3. A GP refers a resident.
    gp = new_page()
    gp.goto(f"{base}/verwijzen")
    gp.fill("#first_name", "Gerrit")
    gp.fill("#last_name", "Mulder")
    gp.fill("#phone", "030 1112233")
    gp.fill("#postcode", "3582 AB")
    gp.fill("#house_number", "4")
    gp.fill("#birth_year", "1942")
    gp.select_option("#target_group", "older_person")
    gp.check("input[name=languages][value=nl]")
    gp.fill("#referrer_name", "Dr. Jansen")
    gp.fill("#referrer_email", "praktijk@example.org")
    gp.select_option("#referral_source", "gp")
    gp.check("input[name=agreed]")
    gp.click("main button[type=submit]")
    gp.wait_for_url(f"{base}/verwijzen/bedankt")
    with sessions() as session:
        resident = session.scalars(select(Resident).where(Resident.first_name == "Gerrit")).one()
        assert (resident.status, resident.referral_source) == ("referred", "gp")
        assert resident.lat is not None and resident.waiting_since is None
        resident_id = resident.id
    assert len(_new_mail(sessions, mails)) == 0  # the form itself mails nobody
    # The referrals job tells the GP the referral arrived: one e-mail, one link to a status page.
    _notify_referrers(sessions, base)
    [received] = _new_mail(sessions, mails, "referral")
    assert received.to_address.endswith("<praktijk@example.org>")
    mails = _outbox(sessions)
    gp.goto(_link(received, "/verwijzing/"))
    expect(gp.locator("[data-stage]")).to_have_attribute("data-stage", "received")

    # 4. The coordinator does the resident's intake: interests, times, then waiting.
    staff.click("nav >> text=Deelnemers")
    staff.click("text=Gerrit Mulder")
    expect(staff.locator("#status")).to_have_text("Aangemeld")
    staff.click("text=Bewerken")
    staff.check("input[name=interests][value=wandelen]")
    staff.check("input[name=activities][value=koffie_drinken]")
    for slot in (4, 10):  # Tuesday and Thursday afternoon
        staff.check(f"#slot-{slot}")
    staff.click("main form button[type=submit]:has-text('Opslaan')")
    staff.wait_for_selector("h1:has-text('Gerrit Mulder')")
    staff.check("#inform-referrer")  # the resident wants the GP kept informed
    staff.click("#intake-done")
    expect(staff.locator("#status")).to_have_text("Wachtend")
    with sessions() as session:
        resident = session.get(Resident, resident_id)
        assert resident.status == "waiting" and resident.waiting_since == today
        assert resident.availability == [4, 10]

    # 5. A match run proposes the pair; the coordinator approves; the volunteer gets the offer.
    staff.click("nav >> text=Koppelen")
    staff.click("text=Koppelronde starten")
    _run_queued(staff, sessions)
    expect(staff.locator("[data-status=done]")).to_be_visible()
    expect(staff.locator("[data-count=proposed]")).to_have_text("1")
    staff.click("text=Voorstellen van deze ronde bekijken")
    expect(staff.locator("tr.proposal")).to_contain_text("Gerrit Mulder")
    staff.click("tr.proposal button[name=approve]")
    expect(staff.locator(".flash")).to_contain_text("Goedgekeurd")
    with sessions() as session:
        match = session.scalars(select(Match).where(Match.resident_id == resident_id)).one()
        assert (match.volunteer_id, match.status) == (volunteer_id, "offered")
        match_id = match.id
        assert session.get(Resident, resident_id).status == "proposed"
    [offer] = _new_mail(sessions, mails, "proposal")
    mails = _outbox(sessions)

    # 6. The volunteer accepts from the e-mail.
    volunteer_page.goto(_link(offer, "/koppeling/"))
    expect(volunteer_page.locator("[data-proposal]")).to_contain_text("Gerrit")
    expect(volunteer_page.locator("body")).not_to_contain_text("Mulder")
    volunteer_page.click("button:has-text('Ja, ik neem het voorstel aan')")
    expect(volunteer_page.locator("[data-result=recorded]")).to_contain_text("Dank u wel")
    with sessions() as session:
        assert session.get(Match, match_id).status == "accepted"
    accepted = _new_mail(sessions, mails, "decision", "contact", "coordinator")
    assert {m.to_address.split("<")[-1].rstrip(">") for m in accepted} == {
        VOLUNTEER_EMAIL, COORDINATOR}
    mails = _outbox(sessions)
    # The GP hears of it and sees "Gekoppeld" on the status page, never the volunteer.
    _notify_referrers(sessions, base)
    [matched] = _new_mail(sessions, mails, "referral")
    mails = _outbox(sessions)
    gp.goto(_link(matched, "/verwijzing/"))
    expect(gp.locator("[data-stage]")).to_contain_text("Gekoppeld")
    expect(gp.locator("body")).not_to_contain_text("Sanne")

    # 7. The introduction: both want to go on, the match is active.
    staff.goto(f"{base}/koppelen/voorstellen/?status=accepted")
    staff.check("input[name=volunteer_go]")
    staff.check("input[name=resident_go]")
    staff.click("button:has-text('Kennismaking vastleggen')")
    expect(staff.locator(".flash")).to_contain_text("De koppeling is actief")
    with sessions() as session:
        match = session.get(Match, match_id)
        assert match.status == "active" and match.intro_date == today
        assert session.get(Resident, resident_id).status == "matched"
        assert session.get(Volunteer, volunteer_id).open_matches == 1
    assert _new_mail(sessions, mails) == []

    # Time travel: the match's history moves back, as if the introduction was seven weeks ago.
    with sessions() as session:
        match = session.get(Match, match_id)
        for column in ("proposed_at", "offered_at", "decided_at", "activated_at"):
            setattr(match, column, getattr(match, column) - TIME_TRAVEL)
        match.intro_date -= TIME_TRAVEL
        activated = match.activated_at
        session.commit()

    # 8. Four weekly check-ins: the Monday job's service, then the volunteer answers the e-mail.
    for week in range(1, 5):
        now = _monday_nine(activated, week)
        with sessions() as session:
            report = check_ins.send_weekly(session, now=now, base_url=base, secret=SECRET,
                                           link_days=60)
            session.commit()
            again = check_ins.send_weekly(session, now=now + timedelta(hours=3), base_url=base,
                                          secret=SECRET, link_days=60)
            session.commit()
        assert (report.sent, report.week, again.sent) == (1, check_ins.iso_week(now), 0)
        [weekly] = _new_mail(sessions, mails, "check_in")
        assert weekly.dedupe_key == f"check_in:{match_id}:{report.week}"
        mails = _outbox(sessions)
        volunteer_page.goto(_link(weekly, "/check-in/"))
        volunteer_page.check("input[name=met][value=yes]")
        volunteer_page.check("input[name=rating][value='4']")
        volunteer_page.click("button:has-text('Versturen')")
        expect(volunteer_page.locator("[data-outcome=recorded]")).to_contain_text(
            f"week {int(report.week[-2:])}")
    with sessions() as session:
        answered = session.scalars(select(CheckIn).where(CheckIn.match_id == match_id)
                                   .order_by(CheckIn.week)).all()
        assert [(c.met, c.rating, c.call_requested) for c in answered] == [("yes", 4, False)] * 4
        assert all(c.answered_at is not None for c in answered)
        assert len({c.week for c in answered}) == 4

    # 9. The 6-week milestone review: the daily job's service makes the task, the coordinator
    #    fills it in from the attention page and decides to end the match.
    #    The milestone falls on a local date: the daily job at 07:00 in Utrecht on that day (not
    #    42 x 24 hours after activation, which across the end of summer time can be the day before).
    due_on = reviews.due_dates(activated.astimezone(LOCAL_TIME).date())["6w"]
    job_time = datetime(due_on.year, due_on.month, due_on.day, 7, tzinfo=LOCAL_TIME).astimezone(timezone.utc)
    with sessions() as session:
        assert reviews.create_due(session, now=job_time) == 1
        session.commit()
        assert reviews.create_due(session, now=job_time + timedelta(hours=1)) == 0
        session.commit()
    staff.click("nav >> text=Aandacht")
    row = staff.locator("tr[data-review]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("6 weken")
    row.locator("text=Evaluatie invullen").click()
    staff.check("input[name=volunteer_satisfaction][value='3']")
    staff.check("input[name=resident_satisfaction][value='2']")
    staff.check("input[name=decision][value=end]")
    staff.fill("#note", "Het klikt niet echt.")
    staff.click("main button:has-text('Opslaan')")
    with sessions() as session:
        review = session.scalars(select(MilestoneReview)).one()
        assert (review.match_id, review.milestone, review.decision) == (match_id, "6w", "end")
        assert (review.volunteer_satisfaction, review.resident_satisfaction) == (3, 2)
        assert review.done_at is not None

    # 10. The coordinator ends the match with a reason; the resident goes back to waiting.
    expect(staff.locator("h1")).to_have_text("Koppeling beëindigen")
    staff.select_option("#reason", "no_click")
    expect(staff.locator("input[name=rematch]")).to_be_checked()
    staff.click("main button:has-text('Beëindigen')")
    expect(staff.locator(".flash")).to_contain_text("De koppeling is beëindigd")
    with sessions() as session:
        match = session.get(Match, match_id)
        assert (match.status, match.end_reason) == ("ended", "no_click")
        resident = session.get(Resident, resident_id)
        assert (resident.status, resident.waiting_since) == ("waiting", today)
        assert session.get(Volunteer, volunteer_id).open_matches == 0
        assert session.scalar(select(func.count()).select_from(Exclusion).where(
            Exclusion.volunteer_id == volunteer_id, Exclusion.resident_id == resident_id)) == 1
    [exit_question] = _new_mail(sessions, mails, "exit")
    assert exit_question.dedupe_key == f"exit:{match_id}:volunteer"  # the resident has no e-mail
    mails = _outbox(sessions)

    # Both sides get the exit question: the volunteer by e-mail, the resident by the coordinator.
    volunteer_page.goto(_link(exit_question, "/afscheid/"))
    volunteer_page.check("input[name=rating][value='3']")
    volunteer_page.fill("#comment", "Jammer, maar het was goed zo.")
    volunteer_page.click("button:has-text('Versturen')")
    expect(volunteer_page.locator("[data-outcome=recorded]")).to_be_visible()
    staff.click("nav >> text=Aandacht")
    task = staff.locator("li[data-exit]")
    expect(task).to_have_text("Gerrit Mulder")
    task.locator("a").click()
    staff.check("input[name=rating][value='2']")
    staff.click("main button[type=submit]")
    expect(staff.locator(".flash")).to_contain_text("Het antwoord is opgeslagen")
    expect(staff.locator("li[data-exit]")).to_have_count(0)
    with sessions() as session:
        answers = session.execute(select(ExitInterview.side, ExitInterview.channel,
                                         ExitInterview.rating)
                                  .where(ExitInterview.match_id == match_id)).all()
        assert sorted(answers) == [("resident", "coordinator", 2), ("volunteer", "email", 3)]

    staff.goto(f"{base}/deelnemers/?status=waiting")
    waiting_row = staff.locator("tbody tr", has_text="Gerrit Mulder")
    expect(waiting_row).to_contain_text("Wachtend")
    expect(waiting_row.locator("td").last).to_have_text("0 dagen")

    # The resident is rematched: the same pair is excluded, a new volunteer gets the proposal.
    staff.click("nav >> text=Koppelen")
    staff.click("text=Koppelronde starten")
    _run_queued(staff, sessions)
    expect(staff.locator("[data-status=done]")).to_be_visible()
    expect(staff.locator("[data-count=proposed]")).to_have_text("0")
    staff.goto(f"{base}/vrijwilligers/nieuw")
    staff.select_option("#status", "available")
    staff.fill("#first_name", "Ahmed")
    staff.fill("#last_name", "Bakker")
    staff.fill("#email", "ahmed@example.org")
    staff.fill("#postcode", "3581 AB")
    staff.fill("#house_number", "2")
    staff.fill("#birth_year", "1975")
    staff.fill("#max_travel_km", "5")
    staff.fill("#capacity", "1")
    staff.check("input[name=languages][value=nl]")
    staff.check("input[name=interests][value=wandelen]")
    staff.check("#slot-10")
    staff.click("main form button[type=submit]:has-text('Opslaan')")
    staff.wait_for_selector("h1:has-text('Ahmed Bakker')")
    staff.click("nav >> text=Koppelen")
    staff.click("text=Koppelronde starten")
    _run_queued(staff, sessions)
    expect(staff.locator("[data-count=proposed]")).to_have_text("1")
    staff.click("text=Voorstellen van deze ronde bekijken")
    expect(staff.locator("tr.proposal")).to_contain_text("Gerrit Mulder")
    expect(staff.locator("tr.proposal")).to_contain_text("Ahmed Bakker")
    with sessions() as session:
        rematch = session.scalars(select(Match).where(Match.resident_id == resident_id,
                                                      Match.status == "proposed")).one()
        assert rematch.volunteer.email == "ahmed@example.org"
        assert session.get(Resident, resident_id).waiting_since == today
    assert _new_mail(sessions, mails) == []

    # 11. The dashboard counts the journey's match with the four earlier ones.
    staff.click("nav >> text=Dashboard")
    staff.wait_for_url(f"{base}/dashboard")
    shown = {key: staff.locator(f"td[data-key={key}]") for key in (
        "accepted", "endings_total", "check_ins_sent", "check_ins_answered",
        "check_in_response_rate", "active_matches")}
    expect(shown["accepted"]).to_have_text("5")
    expect(shown["endings_total"]).to_have_text("5")
    expect(shown["check_ins_sent"]).to_have_text("20")
    expect(shown["check_ins_answered"]).to_have_text("20")
    expect(shown["check_in_response_rate"]).to_have_text(re.compile(r"^100[,.]0\s?%$"))
    expect(shown["active_matches"]).to_have_text("0")
    reasons = staff.locator("tr", has=staff.locator("th:text-is('Geen klik')"))
    expect(reasons.locator("td")).to_have_text("5")
    with staff.expect_download() as download_info:
        staff.click("text=Download alle indicatoren (CSV)")
    rows = list(csv.reader(io.StringIO(
        Path(download_info.value.path()).read_text(encoding="utf-8-sig")), delimiter=";"))
    total = {row[0]: row[1] for row in rows[1:]}
    assert total["Voorstellen geaccepteerd"] == "5"
    assert total["Voorstellen"] == "6"  # and the new proposal
    assert total["Beëindigde koppelingen"] == "5"
    assert (total["Check-ins verstuurd"], total["Check-ins beantwoord"]) == ("20", "20")
    assert total["Actieve koppelingen"] == "0"

    # One e-mail per event over the whole journey, none twice; the demo's outbox page shows them.
    keys = [m.dedupe_key for m in _outbox(sessions)]
    # verify, offer, accept (3), four check-ins, review; the GP's two referral notices.
    assert len(keys) == len(set(keys)) == 1 + 1 + 3 + 4 + 1 + 2
    staff.goto(f"{base}/beheer/berichten/")
    expect(staff.locator("tr[data-message]")).to_have_count(len(keys))
    expect(staff.locator("summary:has-text('Tekst van het bericht')")).to_have_count(len(keys))
