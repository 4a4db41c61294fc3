"""The dashboard pages: roles, downloads, names for coordinators only, no group under 5 shown."""
from __future__ import annotations

import csv
import io
import re
from html import unescape
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import delete

from matching.services import durability, reports, waiting
from matching.services.periods import ZONE, Period
from matching.store import END_REASONS, CheckIn, Match, MatchRun, Resident, Volunteer, utcnow

CANARY = "Kanarie7x"
COUNT_KEYS = {
    "volunteers_registered", "volunteers_active", "volunteers_new", "volunteers_returning",
    "residents_waiting", "proposals", "decided", "accepted", "declined", "active_matches",
    "durable_3m_eligible", "durable_3m", "durable_6m_eligible", "durable_6m", "check_ins_sent",
    "check_ins_answered", "at_risk", "endings_total", "loneliness_measured",
}
DERIVED_KEYS = {
    "waiting_days_median", "waiting_days_p90", "acceptance_rate", "durable_3m_share",
    "durable_6m_share", "check_in_response_rate", "loneliness_intake_mean", "loneliness_change",
}
PER_REASON_KEYS = {"decline_reasons", "endings"}
PAGES = ["/dashboard", "/dashboard/wachtlijst", "/dashboard/maandrapport"]


def shown_counts(html: str) -> list[str]:
    return re.findall(r'class="num count"[^>]*>([^<]*)<', html)


def is_allowed(text: str) -> bool:
    text = unescape(text).strip()
    return text == "<5" or int(text) == 0 or int(text) >= 5


def add_population(session, items, today: date) -> None:
    """One volunteer and one resident per item, in the state the item asks for."""
    now = utcnow()
    reasons: dict[str, str] = {}
    for n, (wijk, group, state, days, score, km, answers, end_reason) in enumerate(items):
        volunteer = Volunteer(first_name=f"{CANARY}V{n}", last_name=CANARY, status="available",
                              neighbourhood=wijk, registered_at=now - timedelta(days=days + 30),
                              is_returning=n % 3 == 0, returned_at=now - timedelta(days=days))
        resident = Resident(first_name=f"{CANARY}R{n}", last_name=CANARY, neighbourhood=wijk,
                            target_group=group, created_at=now - timedelta(days=days),
                            loneliness_score=n % 7, waiting_since=today - timedelta(days=days),
                            status={"waiting": "waiting", "active": "matched"}.get(state, "closed"))
        session.add_all([volunteer, resident])
        session.flush()
        if state == "waiting":
            reasons[resident.id] = ["no_shared_language", "no_volunteer_in_reach"][n % 2]
            continue
        match = Match(volunteer_id=volunteer.id, resident_id=resident.id, score=score,
                      distance_km=km, proposed_at=now - timedelta(days=days + 20),
                      decided_at=now - timedelta(days=days + 15))
        if state == "declined":
            match.status, match.decline_reason = "declined", f"{CANARY} reden {n}"
        else:
            match.activated_at = now - timedelta(days=days)
            match.status = "active" if state == "active" else "ended"
            if state == "ended":
                match.ended_at = now - timedelta(days=days // 2)
                match.end_reason = end_reason
        session.add(match)
        session.flush()
        for week, answered in enumerate(answers):
            sent = now - timedelta(days=7 * week + 1)
            session.add(CheckIn(match_id=match.id, week=f"W{week}", sent_at=sent,
                                answered_at=sent if answered else None,
                                met="yes" if answered else None, rating=2 if answered else None))
    session.add(MatchRun(status="done", started_at=now - timedelta(days=1), unmatched=reasons))
    session.commit()


def clear(session) -> None:
    for model in (CheckIn, Match, MatchRun, Resident, Volunteer):
        session.execute(delete(model))
    session.commit()


people = st.lists(
    st.tuples(
        st.sampled_from(["Oost", "West", "Zuid"]),
        st.sampled_from(["older_person", "migrant_elder", "informal_carer"]),
        st.sampled_from(["waiting", "active", "ended", "declined"]),
        st.integers(min_value=1, max_value=330),
        st.floats(min_value=30, max_value=99),
        st.floats(min_value=0.1, max_value=6),
        st.lists(st.booleans(), max_size=3),
        st.sampled_from(END_REASONS),
    ),
    max_size=24,
)


@pytest.fixture
def analyst(logged_in):
    return logged_in("analyst")


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(items=people)
def test_no_group_under_five_is_ever_shown_to_the_analyst(session, analyst, items):
    client = analyst
    clear(session)
    today = utcnow().astimezone(ZONE).date()
    add_population(session, items, today)

    period = Period(today - timedelta(days=365), today + timedelta(days=1), utcnow())
    result = reports.indicators(session, period)
    for group in [result["overall"], *result["by_wijk"].values(),
                  *result["by_target_group"].values()]:
        assert set(group) <= COUNT_KEYS | DERIVED_KEYS | PER_REASON_KEYS
        for key in COUNT_KEYS & set(group):
            assert group[key] not in range(1, 5), key
        for key in PER_REASON_KEYS:
            assert all(count not in range(1, 5) for count in group[key].values()), key
    for split in durability.SPLITS:
        for curve in durability.curves(session, period, split)["groups"]:
            assert curve["n"] not in range(1, 5)
            assert all(point["at_risk"] >= 5 for point in curve["points"] + curve["months"])
    summary = waiting.waiting_summary(session, today)
    cells = [summary["total"], *summary["by_wijk"].values(), *summary["by_reason"].values()]
    cells += [c for row in summary["by_wijk_and_reason"].values() for c in row.values()]
    assert all(cell not in range(1, 5) for cell in cells)
    session.rollback()  # SQLite: let the app's requests take the database

    for path in PAGES:
        html = client.get(path).get_data(as_text=True)
        assert CANARY not in html
        assert all(is_allowed(text) for text in shown_counts(html)), path
    for split in durability.SPLITS:
        body = client.get(f"/dashboard/duurzaamheid.csv?indeling={split}").get_data(as_text=True)
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
        assert all(is_allowed(row[-1]) for row in rows[1:])


@pytest.fixture
def waiting_people(session, make_resident):
    """Six waiting residents with canary names; the latest run knows why for five."""
    ids = [make_resident(first_name=f"{CANARY}{n}", last_name=CANARY, neighbourhood="Oost",
                         waiting_since=date(2026, 1, 1) + timedelta(days=n)).id for n in range(6)]
    session.add(MatchRun(status="done", unmatched={i: "no_shared_time" for i in ids[:5]}))
    session.commit()
    return ids


@pytest.mark.parametrize("role", ["coordinator", "admin", "analyst"])
def test_each_staff_role_sees_the_dashboard(logged_in, role, waiting_people):
    client = logged_in(role)
    page = client.get("/dashboard")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("<svg") == len(durability.SPLITS) + 4  # the survival curves, 4 trends
    assert 'href="/dashboard/indicatoren.csv?' in html
    assert ' style="' not in html and "<script" not in html  # CSP: no inline style or script
    assert 'href="/dashboard"' in html  # the nav link
    for path in PAGES[1:]:
        assert client.get(path).status_code == 200


def test_names_on_the_waiting_list_for_coordinators_only(client, logged_in, waiting_people):
    coordinator = logged_in("coordinator")
    html = coordinator.get("/dashboard/wachtlijst").get_data(as_text=True)
    assert f"{CANARY}0 {CANARY}" in html
    assert "Geen gedeeld moment" in html
    assert html.index(f"{CANARY}0 ") < html.index(f"{CANARY}5 ")  # longest waiting first
    client.post("/logout", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', html).group(1)})

    analyst = logged_in("analyst")
    for path in [*PAGES, "/dashboard/indicatoren.csv", "/dashboard/maandrapport.csv",
                 "/dashboard/duurzaamheid.csv"]:
        body = analyst.get(path).get_data(as_text=True)
        assert CANARY not in body, path
    summary = analyst.get("/dashboard/wachtlijst").get_data(as_text=True)
    assert 'data-table="waiting-summary"' in summary
    assert 'data-table="waiting-people"' not in summary


def test_anonymous_visitors_are_sent_to_the_login(client):
    for path in [*PAGES, "/dashboard/indicatoren.csv", "/dashboard/maandrapport.xlsx"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_csv_downloads(logged_in, waiting_people):
    client = logged_in("coordinator")
    response = client.get("/dashboard/indicatoren.csv?van=2026-01-01&tot=2026-11-28")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert rows[0][:2] == ["Indicator", "Totaal"]
    assert ["Deelnemers op de wachtlijst", "6"] == rows[[r[0] for r in rows].index(
        "Deelnemers op de wachtlijst")][:2]
    curve = client.get("/dashboard/duurzaamheid.csv?indeling=score_band")
    assert curve.get_data(as_text=True).lstrip("\ufeff").startswith("Groep;Dagen;Nog samen")
    assert client.get("/dashboard/duurzaamheid.csv?indeling=kleur").status_code == 404


def test_monthly_report_page_and_files(logged_in, waiting_people):
    client = logged_in("analyst")
    page = client.get("/dashboard/maandrapport?maand=2026-10").get_data(as_text=True)
    assert "Maandrapport 2026-10" in page and "2026-10-31" in page
    assert 'href="/dashboard/maandrapport.xlsx?maand=2026-10"' in page
    text = client.get("/dashboard/maandrapport.csv?maand=2026-10").get_data(as_text=True)
    assert text.lstrip("\ufeff").startswith("Indicator;Totaal")
    xlsx = client.get("/dashboard/maandrapport.xlsx?maand=2026-10")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    labels = [row[0].value for row in sheet.iter_rows()]
    assert "Deelnemers op de wachtlijst" in labels
    waiting_row = [c.value for c in sheet[labels.index("Deelnemers op de wachtlijst") + 1]]
    assert waiting_row[1] == 6  # a number in the spreadsheet, not text
    assert client.get("/dashboard/maandrapport?maand=oktober").status_code == 404
    assert client.get("/dashboard/maandrapport.docx?maand=2026-10").status_code == 404


def test_bad_filters_are_explained_not_fatal(logged_in):
    client = logged_in("coordinator")
    html = client.get("/dashboard?van=gisteren&doelgroep=robots").get_data(as_text=True)
    assert "Vul een geldige datum in" in html
    assert "Kies een bestaande doelgroep." in html
    backwards = client.get("/dashboard?van=2026-05-01&tot=2026-01-01").get_data(as_text=True)
    assert "De einddatum ligt voor de begindatum." in backwards


def test_a_formula_in_a_wijk_name_is_neutralised_in_every_export(logged_in, make_resident,
                                                                 session):
    client = logged_in("coordinator")
    for _n in range(5):
        make_resident(neighbourhood='=HYPERLINK("http://x","klik")', status="waiting")
    session.commit()
    body = client.get("/dashboard/indicatoren.csv").get_data(as_text=True)
    header = next(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert '\'=HYPERLINK("http://x","klik")' in header
    assert not any(cell.startswith("=") for cell in header)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;klik&#34;)" in html  # escaped on the page


def test_survival_chart_draws_steps_and_a_closed_band():
    from web.charts import survival_chart

    points = [{"day": 0.0, "survival": 1.0, "low": 1.0, "high": 1.0, "at_risk": 6},
              {"day": 2.0, "survival": 0.75, "low": 0.5, "high": 1.0, "at_risk": 6},
              {"day": 3.0, "survival": 0.5, "low": 0.25, "high": 0.75, "at_risk": 5}]
    chart = survival_chart([{"key": "all", "suppressed": False, "points": points},
                            {"key": "lt60", "suppressed": True, "points": []}])
    assert [line.key for line in chart.lines] == ["all"]  # a hidden group draws nothing
    # x: 48 + 576 * day / 30 (a month at least); y: 12 + 248 * (1 - survival)
    assert chart.lines[0].path == "M48.0,12.0H86.4V74.0H105.6V136.0"
    assert chart.lines[0].band == ("M48.0,12.0H86.4V12.0H105.6V74.0"
                                   "V198.0V136.0H86.4V12.0H48.0Z")


def test_durable_after_six_months_has_one_definition_stated_beside_it(logged_in):
    page = logged_in("coordinator").get("/dashboard").get_data(as_text=True)
    definition = page[page.index('id="durable-definition"'):][:600]
    assert "182 dagen" in definition and "91" in definition
    assert "Geschatte kans op 182 dagen" in page and ">Na 6 maanden<" not in page


def test_tiles_first_then_twelve_months_of_trends_with_small_groups_hidden(
        logged_in, session, make_active_match):
    from datetime import datetime, timedelta

    from matching.services import trends
    from matching.services.periods import ZONE
    from matching.store import utcnow

    today = utcnow().astimezone(ZONE).date()
    this_month = datetime.combine(today.replace(day=1), datetime.min.time(), ZONE)
    for n in range(6):  # six matches that started this month: a figure that may be shown
        make_active_match(this_month + timedelta(hours=n + 1))
    make_active_match(this_month - timedelta(days=5))  # one last month: shown as <5
    session.commit()
    found = trends.trends(session, today)
    assert [m.label for m in found.months][-1] == today.strftime("%Y-%m")
    assert len(found.months) == 12 and found.new_matches[-1] == 6
    assert found.new_matches[-2] is None  # 1 match: suppressed
    tiles = trends.headline(session, today, found)
    assert (tiles.matched_this_month, tiles.active_now) == (6, 7)
    page = logged_in("coordinator").get("/dashboard").get_data(as_text=True)
    assert page.index('data-tile="waiting"') < page.index('data-trend="new"') < page.index(
        'id="indicators-title"')
    assert 'data-tile="matched"><p>Gekoppeld deze maand</p><p class="big">6<' in page
    assert page.count("data-trend=") == 4 and "&lt;5" in page


def test_the_monthly_report_downloads_as_a_pdf_that_reads_back(logged_in, session,
                                                               make_active_match):
    import io
    from datetime import datetime

    from pypdf import PdfReader

    from matching.services.periods import ZONE

    for n in range(6):
        make_active_match(datetime(2026, 10, 3 + n, 12, tzinfo=ZONE))
    session.commit()
    client = logged_in("analyst")
    response = client.get("/dashboard/maandrapport.pdf?maand=2026-10")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert 'filename="maandrapport-2026-10.pdf"' in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Maandrapport 2026-10" in text and "2026-10-31" in text
    assert "Download als" not in text  # the print styles leave the page's tools out
    assert "<5" in text or "Koppelingen" in text
