"""The run page while a run waits and works: its stages, not a jump from 0 to 100."""
from __future__ import annotations

import re

from matching.services import runs
from matching.store import MatchRun, utcnow
from tests import queued_runs
from tests.logins import csrf_token


def _states(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<li data-stage-state="(\w+)"[^>]*>(?:<strong>)?([^<✓…]+)', page)


def test_starting_a_run_queues_it_and_the_page_follows_each_stage(logged_in, session,
                                                                  make_volunteer, make_resident):
    make_volunteer()
    make_resident()
    session.commit()
    client = logged_in("coordinator")
    started = client.post("/koppelen/", data={"csrf_token": csrf_token(client, "/koppelen/"),
                                              "scope": "all"})
    assert started.status_code == 303
    queued = client.get(started.location).get_data(as_text=True)
    assert 'data-status="running"' in queued and 'data-stage="queued"' in queued
    assert '<meta http-equiv="refresh" content="2">' in queued
    assert "De ronde begint zodra de planner haar oppakt" in queued
    assert [state for state, _ in _states(queued)] == ["current"] + ["todo"] * 5
    assert 'value="0"' in queued

    run = session.query(MatchRun).one()
    runs.report(session, run.id, "solving", now=utcnow())
    session.commit()
    working = client.get(started.location).get_data(as_text=True)
    assert _states(working) == [
        ("done", "In de wachtrij "), ("done", "Deelnemers en vrijwilligers laden "),
        ("done", "Paren binnen bereik zoeken en scoren "),
        ("current", "De beste verdeling berekenen"),
        ("todo", "Elk voorstel uitleggen"), ("todo", "Voorstellen opslaan")]
    assert f'value="{runs.STAGE_PROGRESS["solving"]}"' in working
    assert 'aria-current="step"' in working

    runs.report(session, run.id, "queued", now=utcnow())  # back in the queue for the executor
    session.commit()
    assert queued_runs.execute_for(client) == 1
    done = client.get(started.location).get_data(as_text=True)
    assert 'data-status="done"' in done and "data-stage-state" not in done
    assert "http-equiv=\"refresh\"" not in done
    assert re.search(r"Duur per stap</dt><dd data-stage-seconds>Deelnemers en vrijwilligers laden: "
                     r"\d+,\d\d s; Paren binnen bereik zoeken en scoren: \d+,\d\d s; .*Voorstellen "
                     r"opslaan: \d+,\d\d s</dd>", done)


def test_a_run_cut_off_or_overtaken_says_so_and_what_to_do(logged_in, session):
    client = logged_in("coordinator")
    for error, words in (("pool_changed", "veranderden de voorstellen die ze zou vervangen"),
                         ("interrupted", "het proces dat haar uitvoerde stopte")):
        run = runs.start_run(session, scope={}, settings={}, started_by=None, now=utcnow())
        runs.fail_run(session, run.id, now=utcnow(), error=error)
        session.commit()
        page = client.get(f"/koppelen/runs/{run.id}").get_data(as_text=True)
        assert f'data-error="{error}"' in page and words in page and "Start de ronde opnieuw." in page


def test_the_stages_read_in_english_too(logged_in, session):
    client = logged_in("coordinator")
    run = runs.start_run(session, scope={}, settings={}, started_by=None, now=utcnow())
    runs.report(session, run.id, "pairs", now=utcnow())
    session.commit()
    client.post("/taal/en", data={"csrf_token": csrf_token(client, "/")})
    page = client.get(f"/koppelen/runs/{run.id}").get_data(as_text=True)
    assert "Finding and scoring the pairs within reach" in page and "Loading participants" in page


def test_a_run_queued_for_long_asks_whether_the_scheduler_runs(logged_in, session):
    from datetime import timedelta

    client = logged_in("coordinator")
    fresh = runs.start_run(session, scope={}, settings={}, started_by=None, now=utcnow())
    old = runs.start_run(session, scope={}, settings={}, started_by=None,
                         now=utcnow() - timedelta(minutes=2))
    session.commit()
    assert "data-queued-long" not in client.get(f"/koppelen/runs/{fresh.id}").get_data(as_text=True)
    page = client.get(f"/koppelen/runs/{old.id}").get_data(as_text=True)
    assert "data-queued-long" in page and "Draait de planner (maatwerk scheduler)?" in page
