"""Dutch labels (msgids) for the engine's codes: time slots, unmatched reasons, problems."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

DAYS = (_l("maandag"), _l("dinsdag"), _l("woensdag"), _l("donderdag"), _l("vrijdag"),
        _l("zaterdag"), _l("zondag"))
PARTS = (_l("ochtend"), _l("middag"), _l("avond"))

UNMATCHED = {
    "no_volunteers": _l("Geen beschikbare vrijwilligers"),
    "no_volunteer_in_reach": _l("Geen vrijwilliger binnen reisafstand"),
    "no_shared_language": _l("Geen gedeelde taal"),
    "no_shared_time": _l("Geen gedeeld moment"),
    "preferences_conflict": _l("Voorkeuren voor geslacht of leeftijd passen niet"),
    "excluded": _l("Overgebleven koppelingen zijn uitgesloten"),
    "below_min_score": _l("Score onder het minimum"),
    "all_reachable_volunteers_full": _l("Passende vrijwilligers zijn vol"),
    "location_unknown": _l("Locatie onbekend"),
    "not_in_run": _l("Nog niet in een koppelronde meegenomen"),
}

PROBLEMS = {
    "proposal_already_handled": _l(
        "Dit voorstel is intussen door iemand anders behandeld. Bekijk de bijgewerkte lijst."),
    "match was changed by someone else": _l(
        "Dit voorstel is intussen door iemand anders behandeld. Bekijk de bijgewerkte lijst."),
    "volunteer_has_no_email": _l("Deze vrijwilliger heeft geen e-mailadres."),
    "required": _l("Vul een reden in."),
    "too_long": _l("De tekst is te lang."),
    "not_an_alternative": _l("Kies een van de genoemde alternatieven."),
    "alternative_not_possible": _l("Deze vrijwilliger past niet (meer) bij deze deelnemer."),
    "volunteer has no capacity left": _l("Deze vrijwilliger heeft geen plek meer."),
    "volunteer is not available": _l("Deze vrijwilliger is niet beschikbaar."),
    "resident already has an open match": _l("Deze deelnemer heeft al een open koppeling."),
    "not_accepted": _l("Alleen een aangenomen voorstel krijgt een kennismaking."),
    "in_future": _l("De datum van de kennismaking ligt in de toekomst."),
    "invalid_date": _l("Vul een geldige datum in."),
    "one_scope_only": _l("Kies een wijk of een doelgroep, niet allebei."),
    "invalid_choice": _l("Kies een van de mogelijkheden."),
    "invalid_settings": _l("Ongeldige instellingen."),
    "not_found": _l("Dit voorstel bestaat niet (meer)."),
}


def slot_label(slot: int) -> str:
    """'maandag ochtend' for slot 0."""
    return f"{DAYS[slot // 3]} {PARTS[slot % 3]}"


def problem(key: str) -> str:
    return str(PROBLEMS.get(key, key))
