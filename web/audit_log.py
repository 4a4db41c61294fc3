"""The audit log for the privacy officer (admin role): who viewed or changed whose record, when,
which fields; filtered by person, staff member and period, and as a CSV download."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug import Response

from matching.services import audit
from matching.services.periods import ZONE, midnight
from matching.services.spreadsheets import neutralise
from matching.store import AuditEvent, StaffUser

from . import labels
from .auth import roles_required
from .dashboard import query_date
from . import staff_scope
from .db import db_session
from .edge import whole_number

bp = Blueprint("audit_log", __name__, url_prefix="/beheer")
bp.before_request(staff_scope.host_only)

VERBS = {
    "viewed": _l("bekeken"), "updated": _l("gewijzigd"), "created": _l("aangemaakt"),
    "referred": _l("verwezen"), "merged": _l("samengevoegd"), "erased": _l("gewist"),
    "anonymised": _l("geanonimiseerd (bewaartermijn)"), "closed": _l("afgesloten"),
    "on_hold": _l("on hold gezet"), "paused": _l("gepauzeerd"),
    "reactivated": _l("weer actief"), "stopped": _l("gestopt"), "waiting": _l("wachtend gezet"),
    "email_verified": _l("e-mailadres bevestigd"),
    "still_available": _l("beantwoordde 'nog beschikbaar?'"),
}
KINDS = {"volunteer": _l("Vrijwilliger"), "resident": _l("Deelnemer")}
CSV_HEADER = (_l("Tijd"), _l("Door"), _l("Handeling"), _l("Soort"), _l("Persoon"), _l("Id"),
              _l("Velden"))


def action_label(event: AuditEvent) -> str:
    """The action in words: "bekeken", "toestemming ingetrokken (gezondheidsnotitie)", ..."""
    head, _dot, rest = event.action.partition(".")
    if head == "consent":
        verb, _dot, purpose = rest.partition(".")
        what = labels.CONSENT_PURPOSES.get(purpose, purpose)
        return (_("toestemming gegeven (%(what)s)", what=what) if verb == "given"
                else _("toestemming ingetrokken (%(what)s)", what=what))
    return str(VERBS.get(rest, rest.replace("_", " ")))


def actor_label(actor: str | None, staff: dict[str, str]) -> str:
    """Who acted, in words: a staff member's name, a partner's API key, a public form, the system."""
    if actor is None:
        return _("Systeem")
    if (staff_id := audit.staff_id(actor)) is not None:
        return staff.get(staff_id, _("onbekende medewerker"))
    source, _colon, name = actor.partition(":")
    if source == "api":
        return _("API-sleutel van %(organisation)s", organisation=name)
    if source == "public":
        return _("Openbaar formulier")
    if source in ("volunteer", "resident"):
        return _("De persoon zelf (via een link)")
    return actor


def _filters() -> tuple[dict[str, Any], dict[str, str], list[str]]:
    errors: list[str] = []
    first, last = query_date("van", None, errors), query_date("tot", None, errors)
    staff = request.args.get("medewerker", "").strip()
    person = request.args.get("persoon", "").strip()[:100]
    query = {
        "person": person or None, "staff": staff or None,
        "start": midnight(first) if first else None,
        "end": midnight(last + timedelta(days=1)) if last else None,
    }
    shown = {key: value for key, value in (
        ("persoon", person), ("medewerker", staff),
        ("van", first.isoformat() if first else ""), ("tot", last.isoformat() if last else ""),
    ) if value}
    return query, shown, errors


@bp.get("/auditlog")
@roles_required("admin")
def index() -> str:
    session = db_session()
    query, shown, errors = _filters()
    found = audit.trail(session, **query, page=whole_number(request.args.get("page")) or 1)
    staff = list(session.execute(select(StaffUser.id, StaffUser.name).order_by(StaffUser.name)))
    return render_template(
        "audit_log/index.html", found=found, shown=shown, errors=errors, staff_members=staff,
        action_label=action_label, actor_label=actor_label, kinds=KINDS,
        field_labels=labels.FIELDS, local=_local)


@bp.get("/auditlog.csv")
@roles_required("admin")
def download() -> Response:
    session = db_session()
    query, _shown, _errors = _filters()
    found = audit.trail_rows(session, **query)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([str(title) for title in CSV_HEADER])
    for event in found.events:
        writer.writerow([neutralise(cell) for cell in (
            _local(event.at).isoformat(timespec="seconds"), actor_label(event.actor, found.staff),
            action_label(event), str(KINDS.get(event.subject_kind or "", "")),
            found.people.get(event.subject_id or "", ""), event.subject_id or "",
            ", ".join(str(labels.FIELDS.get(f, f)) for f in event.fields),
        )])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="auditlog.csv"'})


def _local(moment: datetime) -> datetime:
    return moment.astimezone(ZONE)
