"""Staff page of the e-mail outbox: what went out, what failed, and a retry for failures."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from werkzeug import Response

from matching.errors import Conflict
from matching.services import mail
from matching.store import OUTBOX_STATUSES, utcnow

from .auth import roles_required
from . import staff_scope
from .db import db_session

bp = Blueprint("outbox", __name__, url_prefix="/beheer/berichten")
bp.before_request(staff_scope.host_only)

STATUS_LABELS = {
    "pending": _l("In de wachtrij"),
    "sent": _l("Verzonden"),
    "failed": _l("Mislukt"),
    "cancelled": _l("Geannuleerd"),
}
_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Escaped text in which http(s) addresses become links (for the demo's own mails)."""
    parts: list[str] = []
    position = 0
    for found in _URL.finditer(text):
        parts.append(escape(text[position:found.start()]))
        url = escape(found.group())
        parts.append(Markup('<a href="{0}" rel="noreferrer">{0}</a>').format(url))
        position = found.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


@bp.get("/")
@roles_required("coordinator", "admin")
def index() -> str:
    status = request.args.get("status")
    status = status if status in OUTBOX_STATUSES else None
    messages = mail.recent(db_session(), status=status)
    return render_template(
        "outbox/index.html", messages=messages, status=status, labels=STATUS_LABELS,
        unaddressable=mail.UNADDRESSABLE,
        show_bodies=bool(current_app.config.get("DEMO_MODE")), linkify=linkify,
    )


@bp.post("/<message_id>/opnieuw")
@roles_required("coordinator", "admin")
def retry(message_id: str) -> Response:
    session = db_session()
    try:
        mail.retry(session, message_id, now=utcnow())
    except Conflict as refused:
        session.rollback()
        if refused.message != "unaddressable":
            raise
        flash(_("Dit e-mailadres wordt geweigerd; opnieuw versturen helpt niet. Corrigeer het "
                "adres in het profiel."), "error")
        return redirect(url_for("outbox.index"))
    session.commit()
    flash(_("Het bericht wordt zo opnieuw verstuurd."), "info")
    return redirect(url_for("outbox.index"))
