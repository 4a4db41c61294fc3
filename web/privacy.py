"""The privacy statement: what we keep, why, for how long, and the rights people have."""
from __future__ import annotations

from typing import NamedTuple

from flask import Blueprint, current_app, render_template
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

bp = Blueprint("privacy", __name__)

# Until the retention job brings RETENTION_MONTHS into the configuration, the documented default.
DEFAULT_RETENTION_MONTHS = 24


class Retention(NamedTuple):
    what: LazyString
    period: LazyString | None  # None: RETENTION_MONTHS from the configuration
    start: LazyString


# The same rows, in the same order, as docs/privacy/retention.md (a test compares the count).
RETENTION = (
    Retention(_l("Gegevens van een vrijwilliger die gestopt is (naam, contactgegevens, adres, "
                 "voorkeuren, notities)"), None,
              _l("de laatste activiteit na het stoppen")),
    Retention(_l("Gegevens van een deelnemer van wie het dossier is gesloten"), None,
              _l("de laatste activiteit na het sluiten")),
    Retention(_l("Gezondheidsnotitie van een deelnemer"),
              _l("tot de toestemming wordt ingetrokken (dan direct gewist), hooguit zo lang als "
                 "het dossier"), _l("de toestemming")),
    Retention(_l("Verwijzing die niet tot een intake leidde"), None, _l("de verwijzing")),
    Retention(_l("Aanmelding waarvan het e-mailadres nooit is bevestigd"), None,
              _l("de aanmelding")),
    Retention(_l("Koppelingen, wekelijkse contactmomenten en afsluitingen"),
              _l("bewaard voor statistiek; vrije tekst wordt met de persoonsgegevens gewist"),
              _l("het einde van de koppeling")),
    Retention(_l("Vastgelegde toestemmingen"),
              _l("zo lang als de gegevens waarvoor ze gelden; gewist bij verwijdering"),
              _l("de toestemming")),
    Retention(_l("E-mails die wij sturen"), None, _l("het verzenden")),
    Retention(_l("Links in e-mails"), None, _l("het verlopen van de link")),
    Retention(_l("Logboek van wie welke gegevens bekeek of wijzigde (alleen veldnamen)"), None,
              _l("de gebeurtenis")),
    Retention(_l("Accounts van medewerkers"), None, _l("het uitschakelen van het account")),
    Retention(_l("Opgezochte postcodes (voor afstanden)"), None, _l("het opzoeken")),
    Retention(_l("Back-ups"), _l("35 dagen"), _l("de back-up")),
)


@bp.get("/privacy")
def statement() -> str:
    months = int(current_app.config.get("RETENTION_MONTHS", DEFAULT_RETENTION_MONTHS))
    return render_template("privacy/statement.html", retention=RETENTION, months=months)
