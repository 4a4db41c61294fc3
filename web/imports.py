"""Spreadsheet import (upload, preview, all-or-nothing import), the column guide, and exports.

Between preview and import the uploaded bytes wait in IMPORT_DIR under a random id that only
this browser session knows (and only for its staff member); the import reads them back and
validates every row again, so nothing from the preview page itself is trusted.
"""
from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import (
    Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug import Response

from matching.errors import ValidationFailed
from matching.services import profiles, spreadsheets
from matching.services.directory import select_profiles
from matching.services.scope import HOST
from matching.store import utcnow

from . import labels
from . import staff_scope
from .db import db_session
from .placing import geocoder
from .profile_lists import filters as list_filters
from .profile_pages import BLUEPRINTS, actor, coordinators_only

bp = Blueprint("imports", __name__, url_prefix="/import")
bp.before_request(staff_scope.host_only)
bp.before_request(coordinators_only)

KINDS = {"vrijwilligers": "volunteer", "deelnemers": "resident"}
KIND_NAMES = {"volunteer": _l("vrijwilligers"), "resident": _l("deelnemers")}
SESSION_KEY = "imports"
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{32}")
FILE_ERRORS = {
    "no_kind": _l("Kies of u vrijwilligers of deelnemers importeert."),
    "no_file": _l("Kies een bestand."),
    "empty": _l("Het bestand is leeg."),
    "file_type": _l("Kies een CSV-bestand (.csv) of een Excel-bestand (.xlsx)."),
    "invalid_file": _l("Het bestand kan niet worden gelezen. Sla het opnieuw op als .xlsx of .csv."),
    "too_many_rows": _l("Het bestand heeft te veel rijen (hoogstens %(rows)s). Splits het bestand.",
                        rows=spreadsheets.MAX_ROWS),
    "expired": _l("Het bestand is verlopen. Upload het opnieuw."),
}
# How each column is filled in, by field; the columns themselves come from the service.
FORMATS = {
    "email": _l("e-mailadres"),
    "phone": _l("Nederlands telefoonnummer, zoals 06 12345678"),
    "postcode": _l("1234 AB"),
    "birth_year": _l("jaartal, zoals 1950"),
    "gender": _l("v/vrouw, m/man of x/anders"),
    "prefers_gender": _l("v/vrouw, m/man of x/anders"),
    "languages": _l("codes of namen, gescheiden door , of ;"),
    "interests": _l("codes of namen, gescheiden door , of ;"),
    "activities": _l("codes of namen, gescheiden door , of ;"),
    "availability": _l("dagdelen zoals ma-ochtend;wo-middag (ma t/m zo; ochtend, middag, avond)"),
    "prefers_min_age": _l("getal"), "prefers_max_age": _l("getal"),
    "max_travel_km": _l("kilometers, zoals 2,5"),
    "capacity": _l("1, 2 of 3"),
    "vog_status": _l("none, requested, valid of expired"),
    "vog_date": _l("jjjj-mm-dd"),
    "can_travel": _l("ja of nee"), "contact_via_referrer": _l("ja of nee"),
    "target_group": _l("older_person, migrant_elder, informal_carer, young_person of other"),
    "referral_source": _l("gp, neighbourhood_team, nizu, self, family of partner"),
    "loneliness_score": _l("0 tot en met 6"),
    "status": _l("vrijwilligers: new of available; deelnemers: referred of waiting"),
}


def _kind(name: str) -> str:
    kind = KINDS.get(name)
    if kind is None:
        abort(404)
    return kind


def _directory() -> Path:
    path = Path(current_app.config["IMPORT_DIR"])
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _sweep(directory: Path) -> None:
    """Forget uploads nobody imported within the time limit."""
    limit = time.time() - current_app.config["IMPORT_TTL_SECONDS"]
    for path in directory.glob("*.upload"):
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _keep(kind: str, data: bytes) -> str:
    directory = _directory()
    _sweep(directory)
    upload_id = secrets.token_urlsafe(24)
    path = directory / f"{upload_id}.upload"
    path.touch(mode=0o600)
    path.write_bytes(data)
    uploads = {key: value for key, value in session.get(SESSION_KEY, {}).items()
               if (directory / f"{key}.upload").exists()}
    uploads[upload_id] = {"kind": kind, "staff": current_user.id}
    session[SESSION_KEY] = uploads
    return upload_id


def _kept(upload_id: str, kind: str) -> bytes | None:
    """The bytes of this session's own upload, or None when unknown, foreign or expired."""
    entry = session.get(SESSION_KEY, {}).get(upload_id)
    if (not _UPLOAD_ID.fullmatch(upload_id) or entry is None or entry.get("kind") != kind
            or entry.get("staff") != current_user.id):
        return None
    path = _directory() / f"{upload_id}.upload"
    limit = time.time() - current_app.config["IMPORT_TTL_SECONDS"]
    if not path.exists() or path.stat().st_mtime < limit:
        return None
    return path.read_bytes()


def _forget(upload_id: str) -> None:
    if _UPLOAD_ID.fullmatch(upload_id):
        (_directory() / f"{upload_id}.upload").unlink(missing_ok=True)
    uploads = dict(session.get(SESSION_KEY, {}))
    uploads.pop(upload_id, None)
    session[SESSION_KEY] = uploads


def _upload() -> tuple[bytes | None, str | None]:
    """The uploaded file's bytes, or the FILE_ERRORS key saying why there are none."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None, "no_file"
    extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
    if extension not in ("csv", "txt", "xlsx"):
        return None, "file_type"
    data = upload.read()
    if not data.strip():
        return None, "empty"
    if (extension == "xlsx") != spreadsheets.is_xlsx(data):
        return None, "invalid_file"
    return data, None


def _problems(kind: str, report: spreadsheets.ImportReport) -> list[dict[str, Any]]:
    headers = {field: header for header, field in spreadsheets.COLUMNS[kind].items()}
    return [{"row": problem.row, "column": headers.get(problem.field, problem.field),
             "message": labels.error_messages({problem.field: problem.key})[problem.field]}
            for problem in report.errors]


def _preview(kind: str, upload_id: str, report: spreadsheets.ImportReport,
             status: int = 200) -> tuple[str, int]:
    return render_template(
        "imports/preview.html", kind=kind, kind_name=KIND_NAMES[kind], upload_id=upload_id,
        report=report, problems=_problems(kind, report), blueprint=BLUEPRINTS[kind],
        kinds={value: key for key, value in KINDS.items()},
        location_problems=labels.LOCATION_PROBLEMS,
    ), status


def _upload_page(error: str | None = None, kind: str = "volunteer") -> tuple[str, int]:
    return render_template("imports/upload.html", error=FILE_ERRORS.get(error or ""),
                           kinds=KINDS, kind_names=KIND_NAMES, chosen=kind,
                           limit_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
                           ), 422 if error else 200


@bp.get("/")
def index() -> tuple[str, int]:
    return _upload_page(kind=KINDS.get(request.args.get("soort", ""), "volunteer"))


@bp.post("/")
def preview() -> tuple[str, int]:
    kind = KINDS.get(request.form.get("soort", ""))
    if kind is None:
        return _upload_page("no_kind")
    data, error = _upload()
    if data is None:
        return _upload_page(error, kind)
    try:
        report = spreadsheets.preview_import(db_session(), kind, data, now=utcnow())
    except ValidationFailed as failure:
        return _upload_page(next(iter(failure.errors.values())), kind)
    return _preview(kind, _keep(kind, data), report, 200 if report.ok else 422)


@bp.post("/<soort>/<upload_id>")
def commit(soort: str, upload_id: str) -> Response | tuple[str, int]:
    kind = _kind(soort)
    data = _kept(upload_id, kind)
    if data is None:
        return _upload_page("expired", kind)
    db = db_session()
    try:
        report = spreadsheets.import_people(db, kind, data, actor=actor(), now=utcnow(),
                                            geocoder=geocoder())
    except ValidationFailed:
        db.rollback()
        # Show why, from the same bytes: the import validated again and stored nothing.
        try:
            report = spreadsheets.preview_import(db, kind, data, now=utcnow())
        except ValidationFailed as failure:
            return _upload_page(next(iter(failure.errors.values())), kind)
        return _preview(kind, upload_id, report, 422)
    db.commit()
    _forget(upload_id)
    flash(_("%(count)s profielen geïmporteerd.", count=len(report.created_ids)), "info")
    return redirect(url_for(f"{BLUEPRINTS[kind]}.index"))


@bp.get("/kolommen")
def columns() -> str:
    volunteer, resident = spreadsheets.VOLUNTEER_COLUMNS, spreadsheets.RESIDENT_COLUMNS
    rows = [{"header": header, "field": field, "label": labels.FIELDS.get(field, field),
             "volunteer": header in volunteer, "resident": header in resident,
             "format": FORMATS.get(field, "")}
            for header, field in {**volunteer, **resident}.items()]
    aliases = {alias.replace("_", " "): header
               for alias, header in spreadsheets.HEADER_ALIASES.items()}
    return render_template("imports/columns.html", rows=rows, aliases=aliases,
                           max_rows=spreadsheets.MAX_ROWS)


@bp.get("/export/<soort>.<file_format>")
def export(soort: str, file_format: str) -> Response:
    """The list as a download, with the list page's filters (search, status, area, ...)."""
    kind = _kind(soort)
    if file_format not in spreadsheets.EXPORT_FORMATS:
        abort(404)
    db = db_session()
    ids = None
    if any(request.args.get(name) for name in request.args if name not in ("sort", "dir", "page")):
        statement = select_profiles(
            kind, list_filters(kind, request.args), scope=HOST,
            today=profiles.local_date(utcnow()), include_erased=True)
        model = profiles.MODELS[kind]  # type: ignore[index]
        ids = db.scalars(statement.with_only_columns(model.id)).all()
    body = spreadsheets.export(db, kind, file_format, ids=ids, actor=actor(), now=utcnow())
    db.commit()
    media = "text/csv; charset=utf-8" if file_format == "csv" else spreadsheets.XLSX_MEDIA_TYPE
    name = f"{soort}-{profiles.local_date(utcnow()).isoformat()}.{file_format}"
    return Response(body, mimetype=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

