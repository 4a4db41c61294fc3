"""Spreadsheet import pages (preview, all-or-nothing import) and the list exports."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from matching.store import AuditEvent, Resident, Volunteer

from .profile_fixtures import add_taxonomy, scalar, token

HEADER = "voornaam;achternaam;email;telefoon;postcode;geboortejaar;talen;beschikbaarheid;kleur\n"
GOOD = HEADER + (
    "Anne;de Vries;anne@example.org;06 12345678;3511ab;1960;nl;ma-ochtend;blauw\n"
    "Bert;Bakker;bert@example.org;0301234567;3512 CD;1985;Nederlands, tr;zo-avond;groen\n"
)
BAD_ROW = "Carla;Jansen;carla@;0612;0123 AB;1970;nl;;\n"


def count(session, model) -> int:
    return scalar(session, select(func.count()).select_from(model))


def upload(client, content: bytes | str, *, name: str = "mensen.csv", soort: str = "vrijwilligers",
           csrf: bool = True):
    data = content.encode() if isinstance(content, str) else content
    form = {"soort": soort, "file": (io.BytesIO(data), name)}
    if csrf:
        form["csrf_token"] = token(client.get("/import/").get_data(as_text=True))
    return client.post("/import/", data=form, content_type="multipart/form-data")


def import_action(page: str) -> str:
    found = re.search(r'action="(/import/[a-z]+/[A-Za-z0-9_-]{32})"', page)
    assert found, "no import button"
    return found.group(1)


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_preview_counts_names_unknown_columns_and_stores_nothing(logged_in, session):
    add_taxonomy(session)
    client = logged_in("coordinator")
    response = upload(client, GOOD)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert re.search(r'id="rows">2<', page) and re.search(r'id="valid">2<', page)
    assert "kleur" in page and "2 profielen importeren" in page
    assert count(session, Volunteer) == 0


def test_preview_lists_row_errors_with_row_numbers_and_dutch_messages(logged_in, session):
    add_taxonomy(session)
    client = logged_in("coordinator")
    response = upload(client, GOOD + BAD_ROW)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    table = page[page.index('id="row-errors"'):]
    rows = re.findall(r"<tr><td>(\d+)</td><td>([a-z_]+)</td><td>([^<]+)</td></tr>", table)
    assert ("4", "email", "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.") in rows
    assert ("4", "postcode", "Vul een geldige postcode in, zoals 1234 AB.") in rows
    assert {row[0] for row in rows} == {"4"}
    assert "importeren</button>" not in page
    assert count(session, Volunteer) == 0


def test_import_stores_every_row_and_forgets_the_upload(app, logged_in, session):
    add_taxonomy(session)
    client = logged_in("coordinator")
    action = import_action(upload(client, GOOD).get_data(as_text=True))
    page = client.get("/import/").get_data(as_text=True)
    response = client.post(action, data={"csrf_token": token(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/vrijwilligers/")
    names = session.scalars(select(Volunteer.first_name).order_by(Volunteer.first_name)).all()
    session.commit()
    assert names == ["Anne", "Bert"]
    assert list(Path(app.config["IMPORT_DIR"]).glob("*.upload")) == []
    assert "2 profielen geïmporteerd." in client.get("/vrijwilligers/").get_data(as_text=True)
    again = client.post(action, data={"csrf_token": token(page)})
    assert again.status_code == 422 and "verlopen" in again.get_data(as_text=True)
    assert count(session, Volunteer) == 2


def test_a_file_with_one_bad_row_stores_nothing_even_when_posted(logged_in, session):
    add_taxonomy(session)
    client = logged_in("coordinator")
    preview = upload(client, GOOD + BAD_ROW)
    assert preview.status_code == 422 and "importeren</button>" not in preview.get_data(as_text=True)
    with client.session_transaction() as stored:
        (upload_id,) = stored["imports"]
    # No button on the page, but a hand-made POST of the kept file is validated again.
    page = client.get("/import/").get_data(as_text=True)
    response = client.post(f"/import/vrijwilligers/{upload_id}", data={"csrf_token": token(page)})
    assert response.status_code == 422
    assert "Vul een geldig e-mailadres in" in response.get_data(as_text=True)
    assert count(session, Volunteer) == 0


def test_another_users_upload_id_is_refused(client, app, make_staff, session):
    from tests.logins import login

    add_taxonomy(session)
    first, second = make_staff(role="coordinator"), make_staff(role="coordinator")
    session.commit()
    login(client, first.email)
    action = import_action(upload(client, GOOD).get_data(as_text=True))
    other = app.test_client()
    login(other, second.email)
    page = other.get("/import/").get_data(as_text=True)
    response = other.post(action, data={"csrf_token": token(page)})
    assert response.status_code == 422 and "verlopen" in response.get_data(as_text=True)
    assert count(session, Volunteer) == 0


def test_xlsx_import_and_export_round_trip(logged_in, session):
    add_taxonomy(session)
    client = logged_in("coordinator")
    source = xlsx([["Voornaam", "Achternaam", "Postcode", "Geboortejaar", "Verwijzer_naam",
                    "Kan_reizen", "Status"],
                   ["Henk", "Jansen", "3512cd", 1940, "Dr. Bakker", "ja", "waiting"],
                   ["Truus", "de Boer", "3511 AB", 1935, None, "nee", None]])
    preview = upload(client, source, name="deelnemers.xlsx", soort="deelnemers")
    assert preview.status_code == 200, preview.get_data(as_text=True)
    page = client.get("/import/").get_data(as_text=True)
    assert client.post(import_action(preview.get_data(as_text=True)),
                       data={"csrf_token": token(page)}).status_code == 302
    henk = session.scalars(select(Resident).where(Resident.first_name == "Henk")).one()
    assert (henk.postcode, henk.can_travel, henk.status, henk.referrer_name) == (
        "3512 CD", True, "waiting", "Dr. Bakker")
    session.commit()

    exported = client.get("/import/export/deelnemers.xlsx")
    assert exported.status_code == 200
    assert exported.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(exported.data)).worksheets[0]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = rows[0]
    by_name = {row[header.index("voornaam")]: dict(zip(header, row)) for row in rows[1:]}
    assert by_name["Henk"]["postcode"] == "3512 CD" and by_name["Henk"]["kan_reizen"] == "ja"
    assert by_name["Truus"]["achternaam"] == "de Boer"

    session.execute(Resident.__table__.delete())
    session.commit()
    again = upload(client, exported.data, name="terug.xlsx", soort="deelnemers")
    assert again.status_code == 200, again.get_data(as_text=True)
    page = client.get("/import/").get_data(as_text=True)
    client.post(import_action(again.get_data(as_text=True)), data={"csrf_token": token(page)})
    assert sorted(session.scalars(select(Resident.first_name)).all()) == ["Henk", "Truus"]
    session.commit()


def test_exports_neutralise_formulas_and_are_audited_by_field_name(logged_in, session,
                                                                   make_volunteer):
    formula = '=HYPERLINK("http://x")'
    make_volunteer(first_name=formula, notes="NOTECANARY")
    session.commit()
    client = logged_in("coordinator")
    as_csv = client.get("/import/export/vrijwilligers.csv")
    assert as_csv.status_code == 200
    assert as_csv.headers["Content-Disposition"].startswith('attachment; filename="vrijwilligers-')
    assert as_csv.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff")),
                               delimiter=";"))
    assert rows[0]["voornaam"] == "'" + formula

    as_xlsx = client.get("/import/export/vrijwilligers.xlsx")
    assert as_xlsx.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).worksheets[0]
    cell = sheet.cell(row=2, column=[c.value for c in sheet[1]].index("voornaam") + 1)
    assert (cell.value, cell.data_type) == (formula, "s")
    with __import__("zipfile").ZipFile(io.BytesIO(as_xlsx.data)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")

    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [event.detail["format"] for event in events] == ["csv", "xlsx"]
    assert "first_name" in events[0].fields and "notes" in events[0].fields
    text = repr([(e.fields, e.detail, e.subject_id) for e in events])
    assert "HYPERLINK" not in text and "NOTECANARY" not in text
    session.commit()


def test_exports_follow_the_list_filters(logged_in, session, make_volunteer):
    make_volunteer(first_name="Anne", status="available")
    make_volunteer(first_name="Bert", status="paused", email="bert@example.org")
    session.commit()
    client = logged_in("coordinator")
    listing = client.get("/vrijwilligers/?status=paused").get_data(as_text=True)
    link = re.search(r'href="(/import/export/vrijwilligers\.csv[^"]*)"', listing).group(1)
    body = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "Bert" in body and "Anne" not in body
    everyone = client.get("/import/export/vrijwilligers.csv").get_data(as_text=True)
    assert "Bert" in everyone and "Anne" in everyone


def test_the_column_page_is_generated_from_the_mapping(logged_in):
    from matching.services.spreadsheets import RESIDENT_COLUMNS, VOLUNTEER_COLUMNS

    page = logged_in("coordinator").get("/import/kolommen").get_data(as_text=True)
    for header in {**VOLUNTEER_COLUMNS, **RESIDENT_COLUMNS}:
        assert f"<code>{header}</code>" in page
    assert "Eenzaamheidsscore" in page and "ma-ochtend" in page


def test_analysts_are_refused(logged_in, session):
    client = logged_in("analyst")
    for path in ("/import/", "/import/kolommen", "/import/export/vrijwilligers.csv",
                 "/import/export/deelnemers.xlsx"):
        assert client.get(path).status_code == 403, path
    response = client.post("/import/", data={"soort": "vrijwilligers"})
    assert response.status_code in (400, 403)
    assert scalar(session, select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "export")) == 0


def test_upload_and_import_need_a_csrf_token(logged_in, session):
    add_taxonomy(session)
    client = logged_in("coordinator")
    assert upload(client, GOOD, csrf=False).status_code == 400
    action = import_action(upload(client, GOOD).get_data(as_text=True))
    assert client.post(action).status_code == 400
    assert client.post(action, data={"csrf_token": "forged"}).status_code == 400
    assert count(session, Volunteer) == 0


def test_an_oversize_upload_gets_a_dutch_413_page(app, logged_in, session):
    client = logged_in("coordinator")
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, HEADER + "x" * limit)
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Bestand te groot" in page and "groter dan 5 MB" in page
    assert count(session, Volunteer) == 0


def test_wrong_files_get_a_clear_message(logged_in, session):
    client = logged_in("coordinator")
    for content, name, message in (
        (GOOD, "mensen.xls", "Kies een CSV-bestand"),
        ("", "leeg.csv", "Het bestand is leeg."),
        (b"PK\x03\x04 kapot", "kapot.xlsx", "kan niet worden gelezen"),
        (GOOD, "nep.xlsx", "kan niet worden gelezen"),
    ):
        response = upload(client, content, name=name)
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True), name
    response = upload(client, GOOD, soort="onbekend")
    assert response.status_code == 422 and "Kies of u vrijwilligers" in response.get_data(
        as_text=True)
    assert count(session, Volunteer) == 0


def test_duplicates_are_warnings_that_link_to_the_profile(logged_in, session, make_volunteer):
    add_taxonomy(session)
    existing = make_volunteer(email="anne@example.org")
    session.commit()
    client = logged_in("coordinator")
    twice = GOOD + "Berend;Bakker;bert@example.org;;;;;;\n"
    response = upload(client, twice)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    section = page[page.index('id="duplicates"'):]
    assert f'href="/vrijwilligers/{existing.id}"' in section
    assert "Rij 4" in section and "lijkt op rij 3 in dit bestand" in section
    assert "3 profielen importeren" in page


def test_import_flags_unplaceable_rows_in_the_preview_and_records_consent_with_its_source(
        logged_in, session):
    from matching.store import Consent, PostcodeArea

    add_taxonomy(session)
    session.add(PostcodeArea(postcode="3511", place="Utrecht", lat=52.09, lon=5.12))
    session.commit()
    client = logged_in("coordinator")
    preview = upload(client, GOOD).get_data(as_text=True)
    unplaced = preview[preview.index('id="unplaced"'):]
    assert 'data-row="3"' in unplaced and 'data-row="2"' not in unplaced  # 3512 is not known
    assert "postcode niet gevonden" in unplaced
    page = client.get("/import/").get_data(as_text=True)
    client.post(import_action(preview), data={"csrf_token": token(page)})
    stored = dict(session.execute(select(Volunteer.first_name, Volunteer.location_problem)).all())
    assert stored == {"Anne": None, "Bert": "unknown_postcode"}
    consents = session.execute(select(Consent.purpose, Consent.recorded_by)).all()
    session.commit()
    assert len(consents) == 2
    assert all(purpose == "profile" and by.startswith("import (") for purpose, by in consents)
