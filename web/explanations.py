"""The engine's explanation of a pair in the user's language: shared interests and activities by
their taxonomy labels, shared moments, distance, waiting time, and why a runner-up was not chosen.

The engine stores codes and numbers; only this module turns them into words, so no code
(`koffie_drinken`, `taken_by_other_resident`) reaches a page.
"""
from __future__ import annotations


from typing import Any

from babel.numbers import format_decimal, format_percent
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matching.services.periods import ZONE
from matching.services import proposals
from matching.services.proposals import ReviewPage
from matching.store import Match

from .matchlabels import slot_label


# The learned model's pair features (matching.lasting.FEATURES) in words.
FEATURE_LABELS = {
    "shared_interests": _l("gedeelde interesses"),
    "shared_activities": _l("gedeelde activiteiten"),
    "shared_slots": _l("gedeelde momenten in de week"),
    "distance_km": _l("afstand"),
    "volunteer_commitment_months": _l("hoe lang de vrijwilliger zich wil inzetten"),
    "resident_commitment_months": _l("hoe lang de deelnemer een maatje wil"),
    "commitment_agree": _l("beiden willen even lang"),
    "availability_slots": _l("beschikbaarheid van de minst beschikbare"),
}


def durability(match: Match) -> str | None:
    """The learned model's expectation for this pair and what raises or lowers it; None without a model."""
    if match.durability is None:
        return None
    locale = str(get_locale() or "nl")
    text = _("verwachte kans dat dit 6 maanden duurt: %(share)s",
             share=format_percent(match.durability, "#,##0%", locale=locale))
    factors = (match.explanation or {}).get("durability_factors") or []
    up = [str(FEATURE_LABELS.get(f["feature"], f["feature"])) for f in factors if f.get("effect") == "raises"]
    down = [str(FEATURE_LABELS.get(f["feature"], f["feature"])) for f in factors if f.get("effect") == "lowers"]
    if up:
        text += "; " + _("maakt de kans groter: %(what)s", what=", ".join(up))
    if down:
        text += "; " + _("maakt de kans kleiner: %(what)s", what=", ".join(down))
    return text


def number(value: float | None, pattern: str = "#,##0.0") -> str:
    """A score or distance with one decimal (or as `pattern` says) in the user's locale ("6,2");
    "—" for none."""
    if value is None:
        return "—"
    return format_decimal(value, format=pattern, locale=str(get_locale() or "nl"))


def _listed(codes: list[str], labels: dict[str, str]) -> str:
    return ", ".join(labels.get(code, code.replace("_", " ")) for code in codes)


def reasons(match: Match, found: ReviewPage | proposals.Labels) -> list[str]:
    """Why this pair: what they share, how far apart they live, how long the resident waits."""
    e = match.explanation or {}
    out = []
    if match.locked:
        out.append(_("vastgezet door een coördinator"))
    if interests := e.get("shared_interests") or []:
        out.append(ngettext("%(num)d gedeelde interesse: %(what)s",
                            "%(num)d gedeelde interesses: %(what)s", len(interests),
                            what=_listed(interests, found.interests)))
    if activities := e.get("shared_activities") or []:
        out.append(ngettext("%(num)d gedeelde activiteit: %(what)s",
                            "%(num)d gedeelde activiteiten: %(what)s", len(activities),
                            what=_listed(activities, found.activities)))
    if slots := e.get("shared_slots") or []:
        out.append(ngettext("%(num)d gedeeld moment: %(what)s", "%(num)d gedeelde momenten: %(what)s",
                            len(slots), what=", ".join(slot_label(s) for s in slots)))
    if match.distance_km is not None:
        out.append(_("%(km)s km uit elkaar", km=number(match.distance_km)))
    waiting = match.resident.waiting_since
    if waiting is not None:
        days = (match.proposed_at.astimezone(ZONE).date() - waiting).days
        if days > 0:
            out.append(ngettext("de deelnemer wacht %(num)d dag", "de deelnemer wacht %(num)d dagen",
                                days))
    if (expected := durability(match)) is not None:
        out.append(expected)
    return out


def why_not(match: Match, alternative: dict[str, Any], found: ReviewPage) -> str:
    """Why a runner-up volunteer was not proposed, in words a coordinator can act on."""
    code = alternative.get("why_not_code")
    volunteer = alternative.get("volunteer", "")
    if code == "taken_by_other_resident":
        taken = found.taken_by.get((match.run_id or "", volunteer))
        if taken:
            return _("heeft al een maatje in deze ronde: %(name)s", name=taken)
        return _("had in deze ronde al een ander maatje")
    if code == "lower_score":
        return _("lagere score: %(score)s", score=number(alternative.get("score") or 0))
    if code == "at_capacity_with_locked_pairs":
        return _("zit vol met vastgezette voorstellen")
    if code == "tie":
        return _("even hoge score; de volgorde gaf de doorslag")
    if code == "swapped":
        return _("eerder voorgesteld, door een coördinator gewisseld")
    return _("minder passend")


