"""CSV and XLSX import (preview, then all-or-nothing) and export of volunteers and residents.

Column mapping (headers are matched case-insensitively; spaces and hyphens count as "_"; see
COMMON_COLUMNS, VOLUNTEER_COLUMNS and RESIDENT_COLUMNS):

    voornaam, achternaam, email, telefoon, postcode, huisnummer, wijk, geboortejaar,
    geslacht (v/vrouw, m/man, x/anders or f/m/x), talen, interesses, activiteiten
    (codes or Dutch/English labels, separated by "," or ";"), beschikbaarheid ("ma-ochtend;
    wo-middag": day ma di wo do vr za zo, part ochtend middag avond), voorkeur_geslacht,
    voorkeur_min_leeftijd, voorkeur_max_leeftijd, notities, status
    volunteers also: reisafstand_km, capaciteit, vog_status, vog_datum
    residents also: reisafstand_km, kan_reizen (ja/nee), doelgroep, verwijzer_bron,
    verwijzer_naam, verwijzer_organisatie, verwijzer_email, verwijzer_telefoon,
    contact_via_verwijzer (ja/nee), eenzaamheidsscore

Health notes are never imported or exported: each needs the person's own recorded consent.
status may only be a starting status (volunteers: new/available; residents: referred/waiting).
Row numbers are spreadsheet rows: the header is row 1, the first person row 2.
Exported cells that start with = + - @, a tab or a carriage return get a leading ' so that a
spreadsheet shows them as text instead of running them as a formula; import strips that ' again.
An XLSX file is read from its first sheet, header in row 1, like a CSV file. XLSX exports store
every cell as text (such a cell is also marked "quote prefix", so Excel keeps it text on editing):
a spreadsheet never runs a text cell as a formula, so no ' is added there.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from matching.errors import ValidationFailed
from matching.store import Activity, Interest, Language, Resident, Volunteer

from . import consents, geocoding, profiles, validation
from .audit import record
from .geocoding import Geocoder

# "zolang het klikt" and friends for the open-ended commitment; numbers of months pass as they are.
COMMITMENT_WORDS = {"open": "open", "zolang het klikt": "open", "onbepaald": "open",
                    "as long as it works": "open"}
COMMON_COLUMNS: dict[str, str] = {
    "voornaam": "first_name",
    "achternaam": "last_name",
    "email": "email",
    "telefoon": "phone",
    "postcode": "postcode",
    "huisnummer": "house_number",
    "wijk": "neighbourhood",
    "geboortejaar": "birth_year",
    "geslacht": "gender",
    "talen": "languages",
    "interesses": "interests",
    "activiteiten": "activities",
    "beschikbaarheid": "availability",
    "voorkeur_geslacht": "prefers_gender",
    "voorkeur_min_leeftijd": "prefers_min_age",
    "voorkeur_max_leeftijd": "prefers_max_age",
    "inzet_maanden": "commitment_months",
    "notities": "notes",
    "status": "status",
}
VOLUNTEER_COLUMNS: dict[str, str] = {
    **COMMON_COLUMNS,
    "reisafstand_km": "max_travel_km",
    "capaciteit": "capacity",
    "vog_status": "vog_status",
    "vog_datum": "vog_date",
}
RESIDENT_COLUMNS: dict[str, str] = {
    **COMMON_COLUMNS,
    "reisafstand_km": "max_travel_km",
    "kan_reizen": "can_travel",
    "doelgroep": "target_group",
    "verwijzer_bron": "referral_source",
    "verwijzer_naam": "referrer_name",
    "verwijzer_organisatie": "referrer_organisation",
    "verwijzer_email": "referrer_email",
    "verwijzer_telefoon": "referrer_phone",
    "contact_via_verwijzer": "contact_via_referrer",
    "eenzaamheidsscore": "loneliness_score",
}
COLUMNS = {"volunteer": VOLUNTEER_COLUMNS, "resident": RESIDENT_COLUMNS}
HEADER_ALIASES = {"e_mail": "email", "telefoonnummer": "telefoon", "mail": "email"}
DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
PARTS = ("ochtend", "middag", "avond")
GENDER_WORDS = {"v": "f", "vrouw": "f", "f": "f", "m": "m", "man": "m", "x": "x", "anders": "x"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A 5 MB XLSX can unpack to far more; reading stops here instead of filling memory.
MAX_ROWS = 5000
MAX_COLUMNS = 60
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_CONSENT = {"volunteer": "profile", "resident": "referral"}
_TAXONOMY_MODELS = {"languages": Language, "interests": Interest, "activities": Activity}


@dataclass(frozen=True)
class RowProblem:
    row: int
    field: str
    key: str  # a validation.KEYS key, or "duplicate" / "duplicate_in_file" for warnings
    ids: tuple[str, ...] = ()  # for duplicates: existing profile ids or "row N"


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    valid: int = 0  # rows that would be (or were) created
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    # Rows the postcode table cannot place: imported, and flagged on the person for a coordinator.
    unplaced: list[RowProblem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    created_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def slot_token(slot: int) -> str:
    """Slot 4 -> "di-middag"."""
    return f"{DAYS[slot // 3]}-{PARTS[slot % 3]}"


def _slot(token: str) -> int:
    day, _, part = token.strip().lower().partition("-")
    if day not in DAYS or part not in PARTS:
        raise ValueError(token)
    return DAYS.index(day) * 3 + PARTS.index(part)


def _header(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower().lstrip("\ufeff"))
    return HEADER_ALIASES.get(key, key)


def _unguard(cell: str) -> str:
    if cell.startswith("'") and cell[1:2] and cell[1] in FORMULA_START:
        return cell[1:]
    return cell


def is_xlsx(source: str | bytes) -> bool:
    """An XLSX file is a zip archive; a CSV file is text."""
    return isinstance(source, bytes) and source.startswith(b"PK\x03\x04")


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(source: bytes) -> list[list[str]]:
    try:
        book = load_workbook(io.BytesIO(source), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zipfile, KeyError, XML and value errors alike
        raise ValidationFailed({"file": "invalid_file"}) from error
    try:
        if not book.worksheets:
            return []
        table = []
        for row in book.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True):
            if len(table) > MAX_ROWS:
                raise ValidationFailed({"file": "too_many_rows"})
            table.append([_xlsx_text(value) for value in row])
        return table
    finally:
        book.close()


def _read(source: str | bytes) -> list[list[str]]:
    if is_xlsx(source):
        return _read_xlsx(source)  # type: ignore[arg-type]
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError:
            source = source.decode("cp1252")  # Excel's "CSV" on Dutch Windows
    source = source.lstrip("\ufeff")
    first = source.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    table = []
    for row in csv.reader(io.StringIO(source, newline=""), delimiter=delimiter):
        if len(table) > MAX_ROWS:
            raise ValidationFailed({"file": "too_many_rows"})
        table.append(row)
    return table


def _labels(session: Session) -> dict[str, dict[str, str]]:
    """Per list field: code, Dutch label and English label (lower-cased) -> code."""
    result: dict[str, dict[str, str]] = {}
    for name, model in _TAXONOMY_MODELS.items():
        lookup: dict[str, str] = {}
        for term in session.scalars(select(model).where(model.active.is_(True))):
            for word in (term.label_en, term.label_nl, term.code):
                lookup[word.strip().lower()] = term.code
        result[name] = lookup
    return result


def _row_data(cells: dict[str, str], labels: dict[str, dict[str, str]]) -> tuple[dict[str, Any], dict[str, str]]:
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, raw in cells.items():
        value = _unguard(raw.strip())
        if name in labels:
            data[name] = [labels[name].get(part.strip().lower(), part.strip())
                          for part in re.split(r"[,;]", value) if part.strip()]
        elif name == "availability":
            try:
                data[name] = [_slot(part) for part in re.split(r"[,;]", value) if part.strip()]
            except ValueError:
                errors[name] = "invalid_choice"
        elif name in ("gender", "prefers_gender"):
            data[name] = GENDER_WORDS.get(value.lower(), value) if value else None
        elif name == "commitment_months":
            data[name] = COMMITMENT_WORDS.get(value.lower(), value) if value else None
        else:
            data[name] = value
    return data, errors


def _parse(session: Session, kind: str, source: str | bytes, now: datetime) -> tuple[
        ImportReport, list[tuple[int, dict[str, Any], str]]]:
    report = ImportReport(kind=kind)
    table = [row for row in _read(source)]
    if not table:
        return report, []
    mapping = COLUMNS[kind]
    headers = [_header(h) for h in table[0]]
    report.unknown_columns = [h for h in headers if h and h not in mapping]
    labels = _labels(session)
    known = profiles.taxonomy(session)
    today = profiles.local_date(now)
    good: list[tuple[int, dict[str, Any], str]] = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        report.rows += 1
        raw = {mapping[h]: cells[i] if i < len(cells) else ""
               for i, h in enumerate(headers) if h in mapping}
        data, errors = _row_data(raw, labels)
        status = data.pop("status", "") or validation.INITIAL_STATUSES[kind][0]
        try:
            validation.check_status(kind, status, initial=True)
        except ValidationFailed as failure:
            errors.update(failure.errors)
        try:
            validation.clean(kind, {k: v for k, v in data.items() if k not in errors},
                             today=today, taxonomy=known)
        except ValidationFailed as failure:
            errors.update(failure.errors)
        for name, key in sorted(errors.items()):
            report.errors.append(RowProblem(number, name, key))
        if not errors:
            good.append((number, data, status))
    report.valid = len(good)
    _warn_duplicates(session, kind, good, report)
    _warn_unplaced(session, good, report)
    return report, good


def _warn_unplaced(session: Session, rows: list[tuple[int, dict[str, Any], str]],
                   report: ImportReport) -> None:
    """Rows neither the geocode cache nor the postcode table can place (a preview never calls
    an outside geocoder); two queries for the whole file, not two per row."""
    codes = {number: validation.postcode(data["postcode"]) if data.get("postcode") else None
             for number, data, _status in rows}
    keys = {geocoding.cache_key(code) for code in codes.values() if code}
    known = geocoding.placeable(session, keys)
    for number, code in codes.items():
        if not code:
            report.unplaced.append(RowProblem(number, "postcode", "no_postcode"))
        elif geocoding.cache_key(code) not in known:
            report.unplaced.append(RowProblem(number, "postcode", "unknown_postcode"))


def _warn_duplicates(session: Session, kind: str, rows: list[tuple[int, dict[str, Any], str]],
                     report: ImportReport) -> None:
    seen: dict[tuple[str, str], int] = {}
    for number, data, _status in rows:
        found = profiles.find_duplicates(session, kind, data)  # type: ignore[arg-type]
        if found:
            report.warnings.append(RowProblem(number, "duplicate", "duplicate",
                                              tuple(p.id for p in found)))
        keys = []
        for name in ("email", "phone"):
            cleaner = getattr(validation, name)
            value = cleaner(data.get(name)) if data.get(name) else None
            if value:
                keys.append((name, value))
        postcode = validation.postcode(data.get("postcode")) if data.get("postcode") else None
        if postcode:
            name = f"{data.get('first_name', '')}|{data.get('last_name', '')}".lower()
            keys.append(("name_postcode", f"{name}|{postcode}"))
        earlier = sorted({seen[key] for key in keys if key in seen})
        if earlier:
            report.warnings.append(RowProblem(number, "duplicate", "duplicate_in_file",
                                              tuple(f"row {n}" for n in earlier)))
        for key in keys:
            seen.setdefault(key, number)


def preview_import(session: Session, kind: str, source: str | bytes, *, now: datetime) -> ImportReport:
    """Parse and validate every row without storing anything: errors, warnings, would-be count.

    A file that cannot be read at all (a broken XLSX, more than MAX_ROWS rows) raises
    ValidationFailed({"file": key}).
    """
    report, _rows = _parse(session, kind, source, now)
    return report


def import_people(
    session: Session,
    kind: str,
    source: str | bytes,
    *,
    actor: str | None,
    now: datetime,
    geocoder: Geocoder | None = None,
) -> ImportReport:
    """Create every row, or none: any row error raises ValidationFailed({"row N field": key}).

    Duplicates are only warnings (in the returned report). The caller commits.
    """
    report, rows = _parse(session, kind, source, now)
    if report.errors:
        raise ValidationFailed({f"row {p.row} {p.field}": p.key for p in report.errors})
    with session.begin_nested():
        for _number, data, status in rows:
            if kind == "volunteer":
                person: Any = profiles.create_volunteer(
                    session, data, actor=actor, now=now, source="import", status=status,
                    geocoder=geocoder)
            else:
                person = profiles.create_resident(session, data, actor=actor, now=now,
                                                  status=status, geocoder=geocoder, route=True)
            # The organisation that supplied the file asked the person; the record says so.
            consents.give(session, kind, person.id, IMPORT_CONSENT[kind],
                          consents.CURRENT_VERSION, f"import ({actor or 'onbekend'})", now)
            report.created_ids.append(person.id)
    return report


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "availability":
        return ";".join(slot_token(slot) for slot in value)
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


EXPORT_FORMATS = ("csv", "xlsx")


def _export_rows(session: Session, kind: str, ids: Iterable[str] | None) -> Iterable[list[str]]:
    model = Volunteer if kind == "volunteer" else Resident
    mapping = COLUMNS[kind]
    erased = model.stop_reason if model is Volunteer else model.closed_reason
    query = select(model).where(or_(erased.is_(None), erased != profiles.ERASED))
    if ids is not None:
        query = query.where(model.id.in_(list(ids)))
    for person in session.scalars(query.order_by(model.last_name, model.first_name, model.id)):
        yield [_cell(name, getattr(person, name)) for name in mapping.values()]


def export_csv(session: Session, kind: str, *, ids: Iterable[str] | None = None) -> str:
    """All (or the given) profiles of a kind as CSV with the import's columns, ";"-separated."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(list(COLUMNS[kind]))
    for row in _export_rows(session, kind, ids):
        writer.writerow([neutralise(cell) for cell in row])
    return "\ufeff" + out.getvalue()


def export_xlsx(session: Session, kind: str, *, ids: Iterable[str] | None = None) -> bytes:
    """All (or the given) profiles of a kind as an XLSX sheet with the import's columns, all text."""
    book = Workbook()
    sheet = book.active
    sheet.title = "vrijwilligers" if kind == "volunteer" else "deelnemers"
    sheet.append(list(COLUMNS[kind]))
    for row in _export_rows(session, kind, ids):
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value:
                # openpyxl stores a string starting with "=" as a formula: force text.
                cell.data_type = "s"
                cell.quotePrefix = cell.value.startswith(FORMULA_START)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(
    session: Session, kind: str, file_format: str, *, ids: Iterable[str] | None = None,
    actor: str | None, now: datetime,
) -> bytes:
    """The export file ("csv" or "xlsx"), recorded in the audit trail by column names only."""
    if file_format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {file_format!r}")
    chosen = None if ids is None else list(ids)
    if file_format == "csv":
        body = export_csv(session, kind, ids=chosen).encode("utf-8")
    else:
        body = export_xlsx(session, kind, ids=chosen)
    event = record(session, actor=actor, action="export", fields=COLUMNS[kind].values(), now=now)
    event.detail = {"kind": kind, "format": file_format, "filtered": chosen is not None}
    session.flush()
    return body
