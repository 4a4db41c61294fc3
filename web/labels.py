"""Dutch labels (gettext msgids) for stored codes and for the validation error keys."""
from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

# One message per validation key (matching.services.validation.KEYS), plus the field-specific
# ones where the generic text would be unclear.
ERRORS = {
    "required": _l("Vul dit veld in."),
    "too_long": _l("Deze tekst is te lang."),
    "invalid_characters": _l("Deze tekst bevat tekens die niet zijn toegestaan."),
    "invalid_postcode": _l("Vul een geldige postcode in, zoals 1234 AB."),
    "invalid_phone": _l("Vul een geldig Nederlands telefoonnummer in, zoals 06 12345678."),
    "invalid_email": _l("Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl."),
    "invalid_house_number": _l("Vul een geldig huisnummer in, zoals 12 of 12a."),
    "invalid_number": _l("Vul een getal in."),
    "out_of_range": _l("Dit getal valt buiten de toegestane grenzen."),
    "invalid_choice": _l("Kies een van de mogelijkheden."),
    "invalid_boolean": _l("Kies ja of nee."),
    "invalid_date": _l("Vul een geldige datum in (jjjj-mm-dd)."),
    "invalid_list": _l("Kies uit de lijst."),
    "unknown_code": _l("Kies alleen waarden uit de lijst."),
    "min_above_max": _l("De minimumleeftijd is hoger dan de maximumleeftijd."),
    "consent_required": _l("Een gezondheidsnotitie kan alleen met uitdrukkelijke toestemming."),
    "date_in_past": _l("Kies een datum na vandaag."),
}
FIELD_ERRORS = {
    ("birth_year", "out_of_range"): _l("Vul een geldig geboortejaar in."),
    ("consent", "required"): _l("Geef toestemming om je aan te melden."),
    ("agreed", "required"): _l("Een verwijzing kan alleen als de deelnemer ermee instemt."),
    ("referrer_email", "required"): _l("Vul een e-mailadres of telefoonnummer van de verwijzer in."),
}


def error_messages(errors: Mapping[str, str]) -> dict[str, str]:
    """Field -> message in the user's language for a ValidationFailed's {field: key}."""
    return {
        field: str(FIELD_ERRORS.get((field, key)) or ERRORS.get(key) or _l("Deze waarde klopt niet."))
        for field, key in errors.items()
    }


VOLUNTEER_STATUSES = {
    "new": _l("Nieuw"), "available": _l("Beschikbaar"), "paused": _l("Gepauzeerd"),
    "stopped": _l("Gestopt"),
}
RESIDENT_STATUSES = {
    "referred": _l("Aangemeld"), "waiting": _l("Wachtend"), "proposed": _l("Voorgesteld"),
    "matched": _l("Gekoppeld"), "on_hold": _l("On hold"), "closed": _l("Afgesloten"),
}
TARGET_GROUPS = {
    "older_person": _l("Oudere"), "migrant_elder": _l("Oudere migrant"),
    "informal_carer": _l("Mantelzorger"), "young_person": _l("Jongere"), "other": _l("Anders"),
}
REFERRAL_SOURCES = {
    "gp": _l("Huisarts / Welzijn op Recept"), "neighbourhood_team": _l("Buurtteam"),
    "nizu": _l("NIZU-informatielijn"), "partner": _l("Partnerorganisatie"),
    "family": _l("Familie of bekende"), "self": _l("Zelf aangemeld"),
}
END_REASONS = {
    "moved": _l("Verhuisd"), "health": _l("Gezondheid"), "no_click": _l("Geen klik"),
    "goal_reached": _l("Doel bereikt"), "volunteer_stopped": _l("Vrijwilliger gestopt"),
    "resident_died": _l("Deelnemer overleden"), "other": _l("Anders"),
}
# Aggregates group what has no value under this key.
UNKNOWN = {"unknown": _l("Onbekend")}
# A professional's referral form offers only the professional sources.
PROFESSIONAL_SOURCES = ("gp", "neighbourhood_team", "nizu", "partner")
GENDERS = {"f": _l("Vrouw"), "m": _l("Man"), "x": _l("Anders / zeg ik liever niet")}
COMMITMENTS = {
    "3": _l("3 maanden"), "6": _l("6 maanden"), "12": _l("1 jaar"), "24": _l("2 jaar"),
    "open": _l("Zolang het klikt"),
}
VOG_STATUSES = {
    "none": _l("Geen"), "requested": _l("Aangevraagd"), "valid": _l("Geldig"),
    "expired": _l("Verlopen"),
}
DAYS = (_l("maandag"), _l("dinsdag"), _l("woensdag"), _l("donderdag"), _l("vrijdag"),
        _l("zaterdag"), _l("zondag"))
PARTS = (_l("ochtend"), _l("middag"), _l("avond"))

# Field names as the error summary above a form names them.
FIELDS = {
    "name": _l("Naam"), "organiser": _l("Organisator"), "address": _l("Adres"), "cost": _l("Kosten"),
    "contact": _l("Contact"), "description": _l("Beschrijving"), "target_groups": _l("Voor wie"),
    "wheelchair": _l("Rolstoel"),
    "first_name": _l("Voornaam"), "last_name": _l("Achternaam"), "email": _l("E-mailadres"),
    "phone": _l("Telefoonnummer"), "postcode": _l("Postcode"), "house_number": _l("Huisnummer"),
    "neighbourhood": _l("Wijk"), "birth_year": _l("Geboortejaar"), "gender": _l("Gender"),
    "languages": _l("Talen"), "interests": _l("Interesses"), "activities": _l("Activiteiten"),
    "availability": _l("Beschikbaarheid"), "prefers_gender": _l("Voorkeur gender maatje"),
    "prefers_min_age": _l("Minimumleeftijd maatje"), "prefers_max_age": _l("Maximumleeftijd maatje"),
    "commitment_months": _l("Hoe lang wil je een maatjescontact aangaan?"),
    "notes": _l("Notities"), "manual_lat": _l("Breedtegraad"), "manual_lon": _l("Lengtegraad"),
    "max_travel_km": _l("Reisafstand"), "capacity": _l("Aantal deelnemers tegelijk"),
    "vog_status": _l("VOG"), "vog_date": _l("Datum VOG"), "status": _l("Status"),
    "contact_via_referrer": _l("Contact via verwijzer"), "referrer_name": _l("Naam verwijzer"),
    "referrer_organisation": _l("Organisatie verwijzer"), "referrer_email": _l("E-mail verwijzer"),
    "referrer_phone": _l("Telefoon verwijzer"), "can_travel": _l("Kan zelf reizen"),
    "target_group": _l("Doelgroep"), "referral_source": _l("Aangemeld via"),
    "loneliness_score": _l("Eenzaamheidsscore"), "health_note": _l("Gezondheidsnotitie"),
    "health_note_consent": _l("Toestemming gezondheidsnotitie"), "consent": _l("Toestemming"),
    "agreed": _l("Toestemming deelnemer"),
}
# Reasons the system writes itself (a coordinator's own reasons are free text, shown as typed).
SYSTEM_REASONS = {"erased": _l("persoonsgegevens gewist")}
# Why a person has no location: shown to the coordinator, who can enter coordinates by hand.
LOCATION_PROBLEMS = {
    "no_postcode": _l("geen postcode: vul een postcode of coördinaten in"),
    "unknown_postcode": _l("postcode niet gevonden: controleer hem of vul coördinaten in"),
    "geocoder_failed": _l("de adresdienst gaf geen antwoord: sla het profiel later opnieuw op "
                          "of vul coördinaten in"),
}
CONSENT_PURPOSES = {
    "profile": _l("aanmelding"), "referral": _l("verwijzing"),
    "health_note": _l("gezondheidsnotitie"), "contact": _l("contact"),
    "referrer_updates": _l("verwijzer op de hoogte houden"),
}
SUGGESTION_STATUSES = {"suggested": _l("voorgesteld"), "went": _l("is gegaan"), "not_for_me": _l("niets voor mij")}
# Where a referral stands, as the referrer reads it on the status page.
REFERRAL_STAGES = {
    "received": _l("Ontvangen"), "intake_done": _l("Intake gedaan"),
    "waiting": _l("Wachtend op een passend maatje"), "matched": _l("Gekoppeld"),
    "introduced": _l("Kennismaking geweest: het maatjescontact loopt"),
    "ended": _l("Maatjescontact beëindigd"), "closed": _l("Afgesloten"),
}
