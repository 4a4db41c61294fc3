"""CSV import (preview, all-or-nothing) and export with formula neutralisation."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from matching.errors import ValidationFailed
from matching.services import profiles, spreadsheets
from matching.store import Activity, Interest, Language, Resident, Volunteer

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

VOLUNTEERS = (
    "Voornaam;Achternaam;E-mail;Telefoon;Postcode;Huisnummer;Geboortejaar;Geslacht;Talen;"
    "Interesses;Activiteiten;Beschikbaarheid;Reisafstand_km;Capaciteit;Status;Lievelingskleur\n"
    "Anne;de Vries;anne@example.org;06 12345678;3511ab;12;1960;vrouw;Nederlands, ar;"
    "wandelen;Koffie drinken;\"ma-ochtend;wo-middag\";2,5;2;available;blauw\n"
    "Bert;Bakker;bert@example.org;0301234567;3512 CD;3;1985;m;nl;Cooking;;"
    "zo-avond;5;1;;groen\n"
)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_preview_validates_every_row_and_stores_nothing(session, codes):
    report = spreadsheets.preview_import(session, "volunteer", VOLUNTEERS.encode(), now=NOW)
    assert (report.rows, report.valid, report.errors) == (2, 2, [])
    assert report.unknown_columns == ["lievelingskleur"]
    assert count(session, Volunteer) == 0


def test_import_creates_all_rows_with_mapped_values(session, codes):
    report = spreadsheets.import_people(session, "volunteer", VOLUNTEERS, actor="s", now=NOW)
    assert len(report.created_ids) == 2
    anne = session.get(Volunteer, report.created_ids[0])
    assert (anne.first_name, anne.phone, anne.postcode, anne.gender) == (
        "Anne", "+31612345678", "3511 AB", "f")
    assert anne.languages == ["nl", "ar"] and anne.activities == ["koffie_drinken"]
    assert anne.availability == [0, 7] and anne.max_travel_km == 2.5 and anne.capacity == 2
    assert (anne.status, anne.source) == ("available", "import")
    bert = session.get(Volunteer, report.created_ids[1])
    assert bert.interests == ["koken"] and bert.status == "new" and bert.availability == [20]


def test_one_bad_row_stores_nothing_and_names_row_and_field(session, codes):
    bad = VOLUNTEERS + "Carla;;carla@;0612;0123 AB;1;1970;q;xx;;;vandaag;30;1;stopped;\n"
    report = spreadsheets.preview_import(session, "volunteer", bad, now=NOW)
    assert report.valid == 2
    assert {(p.row, p.field, p.key) for p in report.errors} == {
        (4, "email", "invalid_email"), (4, "phone", "invalid_phone"),
        (4, "postcode", "invalid_postcode"), (4, "gender", "invalid_choice"),
        (4, "languages", "unknown_code"), (4, "availability", "invalid_choice"),
        (4, "max_travel_km", "out_of_range"), (4, "status", "invalid_choice"),
    }
    with pytest.raises(ValidationFailed) as failure:
        spreadsheets.import_people(session, "volunteer", bad, actor="s", now=NOW)
    assert failure.value.errors["row 4 email"] == "invalid_email"
    assert count(session, Volunteer) == 0


def test_duplicates_are_warnings(session, codes):
    existing = profiles.create_volunteer(session, {"first_name": "Anne", "email": "ANNE@example.org"},
                                         actor=None, now=NOW)
    twice = VOLUNTEERS + "Anna;X;other@example.org;06-12345678;;;;;;;;;;;;\n"
    report = spreadsheets.preview_import(session, "volunteer", twice, now=NOW)
    assert report.ok
    assert spreadsheets.RowProblem(2, "duplicate", "duplicate", (existing.id,)) in report.warnings
    assert spreadsheets.RowProblem(4, "duplicate", "duplicate_in_file", ("row 2",)) in report.warnings


def test_residents_import_and_export_round_trip(session, codes):
    text = ("voornaam,achternaam,telefoon,postcode,doelgroep,verwijzer_bron,kan_reizen,"
            "verwijzer_naam,eenzaamheidsscore,status\n"
            "Henk,Jansen,030 1234567,3512CD,older_person,gp,ja,Dr. Bakker,4,waiting\n")
    report = spreadsheets.import_people(session, "resident", text, actor="s", now=NOW)
    henk = session.get(Resident, report.created_ids[0])
    assert (henk.can_travel, henk.referrer_name, henk.loneliness_score, henk.status) == (
        True, "Dr. Bakker", 4, "waiting")
    exported = spreadsheets.export_csv(session, "resident")
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))
    assert rows[0]["telefoon"] == "'+31301234567" and rows[0]["kan_reizen"] == "ja"
    session.delete(henk)
    session.flush()
    again = spreadsheets.import_people(session, "resident", exported, actor="s", now=NOW)
    assert session.get(Resident, again.created_ids[0]).phone == "+31301234567"


def test_export_neutralises_formulas(session, codes, make_volunteer):
    make_volunteer(first_name='=HYPERLINK("http://evil.example","klik")', last_name="+1",
                   notes="@SUM(A1)", neighbourhood="-2", availability=[0, 4])
    rows = list(csv.reader(io.StringIO(spreadsheets.export_csv(session, "volunteer").lstrip("\ufeff")),
                           delimiter=";"))
    header, row = rows[0], rows[1]
    cell = dict(zip(header, row))
    assert cell["voornaam"] == "'=HYPERLINK(\"http://evil.example\",\"klik\")"
    assert cell["achternaam"] == "'+1" and cell["notities"] == "'@SUM(A1)"
    assert cell["wijk"] == "'-2" and cell["beschikbaarheid"] == "ma-ochtend;di-middag"
    assert not any(value.startswith(spreadsheets.FORMULA_START) for value in row)


def xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_rows_read_like_csv_rows(session, codes):
    source = xlsx([["Voornaam", "Achternaam", "Postcode", "Geboortejaar", "Reisafstand_km",
                    "Vog_datum", "Kleur"],
                   ["Anne", "de Vries", "3511ab", 1960, 2.5, datetime(2026, 1, 5), "blauw"],
                   [None, None, None, None, None, None, None],
                   ["Bert", None, "0123 AB", 1985, 5, None, None]])
    report = spreadsheets.preview_import(session, "volunteer", source, now=NOW)
    assert (report.rows, report.valid, report.unknown_columns) == (2, 1, ["kleur"])
    assert [(p.row, p.field, p.key) for p in report.errors] == [(4, "postcode", "invalid_postcode")]
    good = xlsx([["voornaam", "geboortejaar", "reisafstand_km", "vog_datum"],
                 ["Anne", 1960, 2.5, datetime(2026, 1, 5)]])
    created = spreadsheets.import_people(session, "volunteer", good, actor="s", now=NOW)
    anne = session.get(Volunteer, created.created_ids[0])
    assert (anne.birth_year, anne.max_travel_km, anne.vog_date.isoformat()) == (
        1960, 2.5, "2026-01-05")


def test_a_broken_or_huge_file_is_refused_as_a_whole(session, codes):
    with pytest.raises(ValidationFailed) as failure:
        spreadsheets.preview_import(session, "volunteer", b"PK\x03\x04 not a zip", now=NOW)
    assert failure.value.errors == {"file": "invalid_file"}
    huge = "voornaam\n" + "Anne\n" * (spreadsheets.MAX_ROWS + 1)
    with pytest.raises(ValidationFailed) as failure:
        spreadsheets.preview_import(session, "volunteer", huge, now=NOW)
    assert failure.value.errors == {"file": "too_many_rows"}


def test_xlsx_export_round_trips_and_stores_formulas_as_text(session, codes, make_volunteer):
    from openpyxl import load_workbook

    make_volunteer(first_name='=HYPERLINK("http://evil.example","klik")', last_name="+1",
                   phone="+31612345678", availability=[0, 4], languages=["nl"])
    exported = spreadsheets.export_xlsx(session, "volunteer")
    sheet = load_workbook(io.BytesIO(exported)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header == list(spreadsheets.VOLUNTEER_COLUMNS)
    name = sheet.cell(row=2, column=header.index("voornaam") + 1)
    assert name.value == '=HYPERLINK("http://evil.example","klik")' and name.data_type == "s"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    session.execute(Volunteer.__table__.delete())
    again = spreadsheets.import_people(session, "volunteer", exported, actor="s", now=NOW)
    copy = session.get(Volunteer, again.created_ids[0])
    assert (copy.first_name, copy.last_name, copy.phone, copy.availability, copy.languages) == (
        '=HYPERLINK("http://evil.example","klik")', "+1", "+31612345678", [0, 4], ["nl"])


def test_the_intended_commitment_imports_in_words_or_months(session, codes):
    text = ("Voornaam;Postcode;Talen;Inzet_maanden\n"
            "Anne;3511 AB;nl;Zolang het klikt\nBert;3512 CD;nl;12\nCor;3512 CD;nl;\n")
    report = spreadsheets.import_people(session, "volunteer", text, actor="s", now=NOW)
    stored = [session.get(Volunteer, id).commitment_months for id in report.created_ids]
    assert stored == ["open", "12", None]
    bad = spreadsheets.preview_import(session, "volunteer", text + "Dirk;3512 CD;nl;een jaartje\n", now=NOW)
    assert {(p.row, p.field, p.key) for p in bad.errors} == {(5, "commitment_months", "invalid_choice")}
