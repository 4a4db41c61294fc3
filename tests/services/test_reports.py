"""Indicators on a hand-built population whose answers were counted by hand."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from matching.services import reports
from matching.services.periods import Period, month
from matching.store import CheckIn, Match, MatchRun

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
PERIOD = Period(date(2026, 1, 1), date(2026, 7, 1), NOW)


def at(year: int, month_: int, day: int) -> datetime:
    return datetime(year, month_, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def population(session, make_volunteer, make_resident):
    """Oost: ten residents with matches; West: six waiting residents and five new volunteers."""
    oost = [make_volunteer(neighbourhood="Oost", registered_at=at(2025, 6, 1)) for _ in range(6)]
    oost[0].is_returning, oost[0].returned_at = True, at(2026, 3, 1)
    oost[1].is_returning, oost[1].returned_at = True, at(2025, 12, 1)  # before the period
    west = [make_volunteer(neighbourhood="West", registered_at=at(2026, 2, 1)) for _ in range(5)]
    make_volunteer(neighbourhood="Oost", registered_at=at(2025, 1, 1), status="stopped",
                   stopped_at=at(2026, 3, 1))
    make_volunteer(neighbourhood="Oost", registered_at=at(2026, 8, 1))  # after the period

    scores = [2, 3, 4, 5, 6, None, None, None, None, None]
    residents = [
        make_resident(neighbourhood="Oost", target_group="older_person", status="matched",
                      created_at=at(2026, 1, 5) if score is not None else at(2025, 5, 1),
                      loneliness_score=score)
        for score in scores
    ]
    for days in (10, 20, 40, 90, 180, 365):
        make_resident(neighbourhood="West", target_group="migrant_elder", status="waiting",
                      created_at=at(2025, 1, 1),
                      waiting_since=date.fromordinal(date(2026, 7, 1).toordinal() - days))
    make_resident(neighbourhood="West", target_group="migrant_elder", status="waiting",
                  waiting_since=date(2026, 7, 15), created_at=at(2025, 1, 1))
    make_resident(neighbourhood="West", target_group="migrant_elder", status="closed",
                  waiting_since=date(2026, 1, 1), created_at=at(2025, 1, 1))

    def match(resident, volunteer, activated, ended=None, reason=None, proposed=None,
              decided=None, status=None):
        row = Match(resident_id=resident.id, volunteer_id=volunteer.id,
                    status=status or ("ended" if ended else "active"),
                    proposed_at=proposed or at(2025, 11, 15),
                    decided_at=decided or at(2025, 11, 20), activated_at=activated,
                    ended_at=ended, end_reason=reason, score=85.0, distance_km=1.2)
        session.add(row)
        return row

    active = [match(residents[i], oost[i], at(2025, 12, 1)) for i in range(6)]
    m7 = match(residents[6], oost[0], at(2025, 12, 1), at(2026, 2, 1), "no_click")
    match(residents[7], oost[1], at(2025, 12, 1), at(2026, 2, 1), "no_click")
    match(residents[8], oost[2], at(2026, 2, 1), at(2026, 6, 15), "goal_reached",
          proposed=at(2026, 1, 10), decided=at(2026, 1, 15))
    m10 = match(residents[9], west[0], at(2026, 5, 1), proposed=at(2026, 4, 1),
                decided=at(2026, 4, 10))
    for i, reason in enumerate(["Te ver weg", "Te ver weg", "Te ver weg", "Geen klik"]):
        match(residents[i], west[1 + i], None, status="declined", proposed=at(2026, 2, 1),
              decided=at(2026, 2, 5)).decline_reason = reason
    session.flush()

    # (match, ISO week, Monday, answered, met, rating, call requested)
    weeks = {"W24": at(2026, 6, 8), "W25": at(2026, 6, 15), "W26": at(2026, 6, 22),
             "W23": at(2026, 6, 1), "W04": at(2026, 1, 19), "W05": at(2026, 1, 26),
             "W28": at(2026, 7, 6), "W51": at(2025, 12, 15)}
    plan = [
        (active[0], "W24", True, "yes", 4, False), (active[0], "W25", False, None, None, False),
        (active[0], "W26", False, None, None, False),  # two missed in a row: at risk
        (active[0], "W28", True, "yes", 5, False),  # after "as of": ignored
        (active[0], "W51", True, "yes", 5, False),  # before the period: not counted as sent
        (active[1], "W24", True, "no", None, False), (active[1], "W25", True, "no", None, False),
        (active[1], "W26", True, "not_planned", None, False),  # not met three times: at risk
        (active[2], "W25", True, "yes", 5, False),
        (active[2], "W26", True, "yes", 2, False),  # low rating: at risk
        (active[3], "W26", True, "yes", 4, True),  # call requested: at risk
        (active[4], "W24", False, None, None, False), (active[4], "W25", True, "yes", 4, False),
        (active[4], "W26", False, None, None, False),  # missed, but not twice in a row
        (active[5], "W24", True, "no", None, False), (active[5], "W25", True, "no", None, False),
        (active[5], "W26", True, "no", None, False),  # not met three times: at risk
        (m10, "W26", True, "yes", 5, False),
        (m7, "W04", False, None, None, False), (m7, "W05", False, None, None, False),  # ended
    ]
    for row, week, answered, met, rating, call in plan:
        sent = weeks[week]
        year = sent.isocalendar().year
        session.add(CheckIn(match_id=row.id, week=f"{year}-{week}", sent_at=sent,
                            answered_at=sent.replace(hour=18) if answered else None, met=met,
                            rating=rating, call_requested=call))
    for started, status in [(at(2026, 3, 1), "done"), (at(2026, 3, 15), "done"),
                            (at(2026, 3, 29), "failed"), (at(2025, 12, 1), "done")]:
        session.add(MatchRun(started_at=started, status=status))
    session.flush()


def test_suppress_hides_one_to_four_and_shows_zero():
    assert [reports.suppress(n) for n in range(7)] == [0, None, None, None, None, 5, 6]
    assert reports.share(3, 4) is None
    assert reports.share(2, 5) == 0.4


def test_indicators_overall(session, population):
    result = reports.indicators(session, PERIOD)
    overall = result["overall"]
    assert result["runs"] == 2
    assert overall["volunteers_registered"] == 11
    assert overall["volunteers_new"] == 5
    assert overall["volunteers_returning"] is None  # one person
    assert overall["volunteers_active"] == 7
    assert overall["residents_waiting"] == 6
    assert overall["waiting_days_median"] == 65.0
    assert overall["waiting_days_p90"] == 272.5
    assert overall["proposals"] == 6
    assert overall["decided"] == 6
    assert overall["accepted"] is None and overall["declined"] is None  # 2 and 4
    assert overall["acceptance_rate"] == 0.333
    # Typed reasons shared by fewer than 5 decisions are only counted together.
    assert overall["decline_reasons"] == {"other": None}
    assert overall["active_matches"] == 7
    assert (overall["durable_3m_eligible"], overall["durable_3m"]) == (9, 7)
    assert overall["durable_3m_share"] == 0.778
    assert (overall["durable_6m_eligible"], overall["durable_6m"]) == (8, 6)
    assert overall["durable_6m_share"] == 0.75
    assert (overall["check_ins_sent"], overall["check_ins_answered"]) == (18, 12)
    assert overall["check_in_response_rate"] == 0.667
    assert overall["at_risk"] == 5
    assert overall["endings_total"] is None  # three endings
    assert overall["endings"] == {"goal_reached": None, "no_click": None}
    assert overall["loneliness_measured"] == 5
    assert overall["loneliness_intake_mean"] == 4.0
    assert overall["loneliness_change"] == "no_measurements"
    assert json.loads(json.dumps(result)) == result  # the partner API returns it as it is


def test_indicators_per_wijk_and_target_group(session, population):
    result = reports.indicators(session, PERIOD)
    oost, west = result["by_wijk"]["Oost"], result["by_wijk"]["West"]
    assert (oost["volunteers_registered"], west["volunteers_registered"]) == (6, 5)
    assert (oost["volunteers_active"], west["volunteers_active"]) == (6, None)
    assert (oost["active_matches"], west["active_matches"]) == (7, 0)
    assert (oost["residents_waiting"], west["residents_waiting"]) == (0, 6)
    assert oost["waiting_days_median"] is None
    assert west["waiting_days_median"] == 65.0
    assert oost["at_risk"] == 5
    older = result["by_target_group"]["older_person"]
    migrant = result["by_target_group"]["migrant_elder"]
    assert "volunteers_registered" not in older  # volunteers have no target group
    assert (older["active_matches"], migrant["residents_waiting"]) == (7, 6)
    assert older["durable_3m_share"] == 0.778


def test_filters_narrow_every_indicator(session, population):
    west = reports.indicators(session, PERIOD, wijk="West")
    assert set(west["by_wijk"]) == {"West"}
    assert west["overall"]["volunteers_registered"] == 5
    assert west["overall"]["residents_waiting"] == 6
    assert west["overall"]["active_matches"] == 0
    older = reports.indicators(session, PERIOD, target_group="older_person")
    assert "volunteers_registered" not in older["overall"]
    assert older["overall"]["residents_waiting"] == 0
    assert older["overall"]["active_matches"] == 7
    assert set(older["by_target_group"]) == {"older_person"}


def test_a_period_that_has_not_ended_reads_states_now(session, population):
    running = Period(date(2026, 1, 1), date(2027, 1, 1), at(2026, 6, 20))
    overall = reports.indicators(session, running)["overall"]
    # As of 20 June week 26 was not sent yet: no match has two missed or three "not met" weeks.
    assert overall["at_risk"] == 0
    assert overall["active_matches"] == 7
    assert running.as_of == at(2026, 6, 20)


def test_month_period_and_bad_input():
    november = month("2026-11", NOW)
    assert (november.start, november.end) == (date(2026, 11, 1), date(2026, 12, 1))
    assert month("2026-12", NOW).end == date(2027, 1, 1)
    assert november.starts == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # Amsterdam midnight
    for bad in ("2026-13", "26-11", "2026/11", ""):
        with pytest.raises(ValueError):
            month(bad, NOW)
    with pytest.raises(ValueError):
        Period(date(2026, 2, 1), date(2026, 2, 1), NOW)


def test_neighbourhoods_lists_every_wijk_once(session, population):
    assert reports.neighbourhoods(session) == ["Oost", "West"]


def test_exports_neutralise_formulas():
    rows = [["Indicator", "Totaal"], ["=HYPERLINK(\"http://x\")", 7], ["+1", None], ["@a", "-2"]]
    text = reports.table_csv(rows)
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert parsed == [["Indicator", "Totaal"], ["'=HYPERLINK(\"http://x\")", "7"], ["'+1", ""],
                      ["'@a", "'-2"]]
    sheet = load_workbook(io.BytesIO(reports.table_xlsx(rows, "rapport"))).active
    assert sheet["A2"].value == "'=HYPERLINK(\"http://x\")"
    assert sheet["A2"].data_type == "s"
    assert sheet["B2"].value == 7
