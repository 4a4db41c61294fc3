"""Volunteer and resident profiles: create, edit with a version check, merge, lifecycle, views.

data is a mapping of field name to raw value (a form or JSON body); only the fields listed in
validation.VOLUNTEER_FIELDS / RESIDENT_FIELDS are read. Besides the model columns these include
manual_lat / manual_lon (coordinates a coordinator enters by hand) and, for residents,
health_note_consent (True records the health-note consent in the same call).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.store import (
    OPEN_MATCH_STATUSES, Activity, Consent, Exclusion, Interest, Language, Match, OutboxMessage,
    Resident, Volunteer,
)

from . import consents, routing, validation
from .audit import record, record_view
from .geocoding import Geocoder, locate
from .validation import Taxonomy

Kind = Literal["volunteer", "resident"]
Profile = Volunteer | Resident
MODELS: dict[str, type[Volunteer] | type[Resident]] = {"volunteer": Volunteer, "resident": Resident}
# The stop / close reason of a profile whose personal data was erased (see services.privacy).
ERASED = "erased"
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
_NOT_COLUMNS = {"manual_lat", "manual_lon", "health_note_consent"}
_LOCATION_FIELDS = {"postcode", "house_number", "manual_lat", "manual_lon"}


def local_date(now: datetime) -> date:
    """The calendar date in Utrecht at this moment."""
    return now.astimezone(LOCAL_TIME).date()


def taxonomy(session: Session) -> Taxonomy:
    """The active codes of the interest, activity and language tables."""

    def active(model: type[Interest] | type[Activity] | type[Language]) -> frozenset[str]:
        return frozenset(session.scalars(select(model.code).where(model.active.is_(True))))

    return Taxonomy(languages=active(Language), interests=active(Interest),
                    activities=active(Activity))


def get_profile(session: Session, kind: Kind, id: str) -> Profile:
    """The volunteer or resident, or NotFound."""
    if kind not in MODELS:
        raise NotFound(f"{kind} {id}")
    profile = session.get(MODELS[kind], id)
    if profile is None:
        raise NotFound(f"{kind} {id}")
    return profile


def view_profile(session: Session, kind: Kind, id: str, *, actor: str | None, now: datetime) -> Profile:
    """The profile for display, with an audit event that this actor viewed it."""
    profile = get_profile(session, kind, id)
    record_view(session, actor, kind, id, now=now)
    session.flush()
    return profile


def _changeable(session: Session, kind: Kind, id: str) -> Any:
    profile = get_profile(session, kind, id)
    reason = profile.stop_reason if kind == "volunteer" else profile.closed_reason
    if reason == ERASED:
        raise Conflict("this profile was erased")
    return profile


def _clean(
    session: Session, kind: Kind, data: Mapping[str, Any], now: datetime,
    current: Profile | None, extra_errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    stored = None
    if current is not None:
        stored = {name: getattr(current, name) for name in ("prefers_min_age", "prefers_max_age")}
    errors = dict(extra_errors or {})
    cleaned: dict[str, Any] = {}
    try:
        cleaned = validation.clean(kind, data, today=local_date(now), taxonomy=taxonomy(session),
                                   current=stored)
    except ValidationFailed as failure:
        errors = {**failure.errors, **errors}
    if kind == "resident" and cleaned.get("health_note") and not cleaned.get("health_note_consent"):
        has_consent = current is not None and consents.current(
            session, "resident", current.id, "health_note") is not None
        if not has_consent:
            errors.setdefault("health_note", "consent_required")
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _place(
    session: Session, profile: Profile, cleaned: dict[str, Any], geocoder: Geocoder | None,
    now: datetime,
) -> None:
    manual = None
    if cleaned.get("manual_lat") is not None:
        manual = (cleaned["manual_lat"], cleaned["manual_lon"])
    location = locate(session, profile.postcode, profile.house_number, geocoder=geocoder,
                      manual=manual, now=now)
    profile.lat, profile.lon = location.lat, location.lon
    profile.location_source, profile.location_problem = location.source, location.problem


def _assign(profile: Profile, cleaned: dict[str, Any]) -> list[str]:
    changed = []
    for name, value in cleaned.items():
        if name in _NOT_COLUMNS:
            continue
        if getattr(profile, name) != value:
            setattr(profile, name, value)
            changed.append(name)
    return changed


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as error:
        raise Conflict("the profile was changed by someone else; reload and try again") from error


def create_volunteer(
    session: Session,
    data: Mapping[str, Any],
    *,
    actor: str | None,
    now: datetime,
    source: str = "coordinator",
    status: str = "new",
    geocoder: Geocoder | None = None,
    partner_organisation: str | None = None,
) -> Volunteer:
    """A new volunteer (status "new" or "available"); source is signup/coordinator/import/api/demo.

    partner_organisation names the partner whose API token created the volunteer (never taken
    from data): only that partner sees the volunteer through the API.
    """
    extra: dict[str, str] = {}
    if source not in ("signup", "coordinator", "import", "api", "demo"):
        extra["source"] = "invalid_choice"
    if status not in validation.INITIAL_STATUSES["volunteer"]:
        extra["status"] = "invalid_choice"
    cleaned = _clean(session, "volunteer", data, now, None, extra)
    volunteer = Volunteer(source=source, status=status, registered_at=now, created_at=now,
                          updated_at=now, partner_organisation=partner_organisation)
    _assign(volunteer, cleaned)
    _place(session, volunteer, cleaned, geocoder, now)
    session.add(volunteer)
    session.flush()
    record(session, actor=actor, action="volunteer.created", subject=("volunteer", volunteer.id),
           fields=[n for n in cleaned if n not in _NOT_COLUMNS], now=now)
    session.flush()
    return volunteer


def create_resident(
    session: Session,
    data: Mapping[str, Any],
    *,
    actor: str | None,
    now: datetime,
    referral: bool = False,
    status: str = "referred",
    geocoder: Geocoder | None = None,
    organisation: str | None = None,
    route: bool = False,
) -> Resident:
    """A new resident; referral=True (a referrer's form) forces status "referred" and needs the
    referrer's name and an e-mail or phone. status "waiting" (intake already done) sets
    waiting_since to today.

    organisation: the partner that serves the resident (its API token or coordinator made the
    record); otherwise route=True (a referral to the network) applies the routing rules."""
    extra: dict[str, str] = {}
    if referral:
        status = "referred"
        if not str(data.get("referrer_name") or "").strip():
            extra["referrer_name"] = "required"
        if not (str(data.get("referrer_email") or "").strip()
                or str(data.get("referrer_phone") or "").strip()):
            extra["referrer_email"] = "required"
    if status not in validation.INITIAL_STATUSES["resident"]:
        extra["status"] = "invalid_choice"
    cleaned = _clean(session, "resident", data, now, None, extra)
    resident = Resident(status=status, created_at=now, updated_at=now,
                        waiting_since=local_date(now) if status == "waiting" else None)
    _assign(resident, cleaned)
    _place(session, resident, cleaned, geocoder, now)
    resident.organisation = organisation
    session.add(resident)
    session.flush()
    if organisation is None and route:
        routing.route(session, resident, actor=actor, now=now)
    if cleaned.get("health_note") and cleaned.get("health_note_consent"):
        consents.give(session, "resident", resident.id, "health_note", consents.CURRENT_VERSION,
                      actor, now)
    record(session, actor=actor, action="resident.referred" if referral else "resident.created",
           subject=("resident", resident.id),
           fields=[n for n in cleaned if n not in _NOT_COLUMNS], now=now)
    session.flush()
    return resident


def _update(
    session: Session, kind: Kind, id: str, data: Mapping[str, Any], expected_version: int,
    actor: str | None, now: datetime, geocoder: Geocoder | None,
) -> Any:
    profile = _changeable(session, kind, id)
    if profile.version != expected_version:
        raise Conflict("the profile was changed by someone else; reload and try again")
    cleaned = _clean(session, kind, data, now, profile)
    relocate = any(
        name in cleaned and (name.startswith("manual") or cleaned[name] != getattr(profile, name))
        for name in _LOCATION_FIELDS
    )
    changed = _assign(profile, cleaned)
    if relocate:
        located = ("lat", "lon", "location_source", "location_problem")
        before = {name: getattr(profile, name) for name in located}
        _place(session, profile, cleaned, geocoder, now)
        changed += [name for name in located if getattr(profile, name) != before[name]]
    if kind == "resident" and cleaned.get("health_note") and cleaned.get("health_note_consent"):
        if consents.current(session, "resident", id, "health_note") is None:
            consents.give(session, "resident", id, "health_note", consents.CURRENT_VERSION,
                          actor, now)
    if changed:
        profile.updated_at = now
        _flush(session)
        record(session, actor=actor, action=f"{kind}.updated", subject=(kind, id), fields=changed,
               now=now)
        session.flush()
    return profile


def update_volunteer(
    session: Session,
    volunteer_id: str,
    data: Mapping[str, Any],
    *,
    expected_version: int,
    actor: str | None,
    now: datetime,
    geocoder: Geocoder | None = None,
) -> Volunteer:
    """Change the fields present in data; Conflict when the profile's version moved on."""
    return _update(session, "volunteer", volunteer_id, data, expected_version, actor, now, geocoder)


def update_resident(
    session: Session,
    resident_id: str,
    data: Mapping[str, Any],
    *,
    expected_version: int,
    actor: str | None,
    now: datetime,
    geocoder: Geocoder | None = None,
) -> Resident:
    """Change the fields present in data; Conflict when the profile's version moved on."""
    return _update(session, "resident", resident_id, data, expected_version, actor, now, geocoder)


def _lenient(cleaner: Any, value: Any) -> Any:
    try:
        return cleaner(value)
    except Exception:  # an invalid value simply matches nothing
        return None


def find_duplicates(
    session: Session, kind: Kind, data: Mapping[str, Any], *, exclude_id: str | None = None
) -> list[Profile]:
    """Stored profiles with the same e-mail, the same phone, or the same name and postcode."""
    model = MODELS[kind]
    email = _lenient(validation.email, data.get("email"))
    phone = _lenient(validation.phone, data.get("phone"))
    postcode = _lenient(validation.postcode, data.get("postcode"))
    first = str(data.get("first_name") or "").strip().lower()
    last = str(data.get("last_name") or "").strip().lower()
    conditions = []
    if email:
        conditions.append(func.lower(model.email) == email)
    if phone:
        conditions.append(model.phone == phone)
    if first and postcode:
        conditions.append(
            (func.lower(model.first_name) == first) & (func.lower(model.last_name) == last)
            & (model.postcode == postcode)
        )
    if not conditions:
        return []
    query = select(model).where(or_(*conditions)).order_by(model.created_at)
    if exclude_id:
        query = query.where(model.id != exclude_id)
    erased = model.stop_reason if model is Volunteer else model.closed_reason
    query = query.where(or_(erased.is_(None), erased != ERASED))
    return list(session.scalars(query))


def _open_count(session: Session, column: Any, id: str) -> int:
    return session.scalar(
        select(func.count()).select_from(Match)
        .where(column == id, Match.status.in_(OPEN_MATCH_STATUSES))
    ) or 0


def _merge(session: Session, kind: Kind, keep_id: str, drop_id: str, actor: str | None,
           now: datetime) -> Any:
    if keep_id == drop_id:
        raise Conflict("a profile cannot be merged with itself")
    keep = _changeable(session, kind, keep_id)
    drop = _changeable(session, kind, drop_id)
    column = Match.volunteer_id if kind == "volunteer" else Match.resident_id
    kept_open, dropped_open = _open_count(session, column, keep_id), _open_count(session, column, drop_id)
    if kept_open and dropped_open:
        raise Conflict("both profiles have open matches; end one first")
    if kind == "volunteer" and dropped_open > keep.capacity:
        raise Conflict("the kept volunteer's capacity is too small for the open matches")
    other = Exclusion.resident_id if kind == "volunteer" else Exclusion.volunteer_id
    own = Exclusion.volunteer_id if kind == "volunteer" else Exclusion.resident_id
    already = select(other).where(own == keep_id).scalar_subquery()
    session.execute(delete(Exclusion).where(own == drop_id, other.in_(already)))
    session.execute(update(Exclusion).where(own == drop_id).values({own: keep_id}))
    session.execute(update(Match).where(column == drop_id).values({column: keep_id}))
    session.execute(
        update(Consent).where(Consent.subject_kind == kind, Consent.subject_id == drop_id)
        .values(subject_id=keep_id)
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.subject_kind == kind, OutboxMessage.subject_id == drop_id)
        .values(subject_id=keep_id)
    )
    if kind == "volunteer":
        keep.open_matches = kept_open + dropped_open
        drop.open_matches = 0
    elif dropped_open:
        keep.status = drop.status
    keep.updated_at = now
    session.flush()
    session.delete(drop)
    event = record(session, actor=actor, action=f"{kind}.merged", subject=(kind, keep_id), now=now)
    event.detail = {"dropped": drop_id}
    _flush(session)
    return keep


def merge_volunteers(
    session: Session, keep_id: str, drop_id: str, *, actor: str | None, now: datetime
) -> Volunteer:
    """Move drop's matches, consents, exclusions and check-ins to keep, then delete drop."""
    return _merge(session, "volunteer", keep_id, drop_id, actor, now)


def merge_residents(
    session: Session, keep_id: str, drop_id: str, *, actor: str | None, now: datetime
) -> Resident:
    """Move drop's matches, consents, exclusions and check-ins to keep, then delete drop."""
    return _merge(session, "resident", keep_id, drop_id, actor, now)


def _transition(session: Session, profile: Profile, kind: Kind, action: str, fields: list[str],
                actor: str | None, now: datetime) -> None:
    profile.updated_at = now
    _flush(session)
    record(session, actor=actor, action=f"{kind}.{action}", subject=(kind, profile.id),
           fields=fields, now=now)
    session.flush()


def pause(session: Session, volunteer_id: str, until: date, *, actor: str | None,
          now: datetime) -> Volunteer:
    """Not available for new matches until the given date (open matches go on)."""
    volunteer = _changeable(session, "volunteer", volunteer_id)
    if not isinstance(until, date) or until <= local_date(now):
        raise ValidationFailed({"paused_until": "date_in_past"})
    if volunteer.status == "stopped":
        raise Conflict("a stopped volunteer cannot be paused; reactivate first")
    volunteer.status, volunteer.paused_until = "paused", until
    _transition(session, volunteer, "volunteer", "paused", ["status", "paused_until"], actor, now)
    return volunteer


def stop(session: Session, volunteer_id: str, reason: str, *, actor: str | None,
         now: datetime) -> Volunteer:
    """The volunteer stops; refused (Conflict) while they still have open matches."""
    volunteer = _changeable(session, "volunteer", volunteer_id)
    reason = validation.single(lambda v: validation.text_field(v, 200), "stop_reason", reason)
    if reason == ERASED:
        raise ValidationFailed({"stop_reason": "invalid_choice"})
    if volunteer.status == "stopped":
        raise Conflict("the volunteer has already stopped")
    if _open_count(session, Match.volunteer_id, volunteer_id):
        raise Conflict("the volunteer still has open matches; end them first")
    volunteer.status, volunteer.stop_reason, volunteer.stopped_at = "stopped", reason, now
    volunteer.paused_until = None
    _transition(session, volunteer, "volunteer", "stopped",
                ["status", "stop_reason", "stopped_at"], actor, now)
    return volunteer


def reactivate(session: Session, volunteer_id: str, *, actor: str | None,
               now: datetime) -> Volunteer:
    """Back to "available"; a stopped volunteer coming back is counted as returning."""
    volunteer = _changeable(session, "volunteer", volunteer_id)
    if volunteer.status == "available":
        raise Conflict("the volunteer is already available")
    fields = ["status", "paused_until"]
    if volunteer.status == "stopped":
        volunteer.is_returning, volunteer.returned_at = True, now
        volunteer.stop_reason = volunteer.stopped_at = None
        fields += ["is_returning", "returned_at", "stop_reason", "stopped_at"]
    volunteer.status, volunteer.paused_until = "available", None
    _transition(session, volunteer, "volunteer", "reactivated", fields, actor, now)
    return volunteer


def set_waiting(session: Session, resident_id: str, *, actor: str | None,
                now: datetime) -> Resident:
    """Intake done (or hold lifted): status "waiting", waiting_since today unless already set."""
    resident = _changeable(session, "resident", resident_id)
    if resident.status not in ("referred", "on_hold"):
        raise Conflict(f"a resident who is {resident.status} cannot be set to waiting")
    resident.status = "waiting"
    fields = ["status"]
    if resident.waiting_since is None:
        resident.waiting_since = local_date(now)
        fields.append("waiting_since")
    _transition(session, resident, "resident", "waiting", fields, actor, now)
    return resident


def put_on_hold(session: Session, resident_id: str, *, actor: str | None,
                now: datetime) -> Resident:
    """Not to be matched for now; refused while the resident has an open match."""
    resident = _changeable(session, "resident", resident_id)
    if resident.status not in ("referred", "waiting"):
        raise Conflict(f"a resident who is {resident.status} cannot be put on hold")
    if _open_count(session, Match.resident_id, resident_id):
        raise Conflict("the resident has an open match; end it first")
    resident.status = "on_hold"
    _transition(session, resident, "resident", "on_hold", ["status"], actor, now)
    return resident


def close(session: Session, resident_id: str, reason: str, *, actor: str | None,
          now: datetime) -> Resident:
    """Close the resident's file with a reason; refused while they have an open match."""
    resident = _changeable(session, "resident", resident_id)
    reason = validation.single(lambda v: validation.text_field(v, 200), "closed_reason", reason)
    if reason == ERASED:
        raise ValidationFailed({"closed_reason": "invalid_choice"})
    if resident.status == "closed":
        raise Conflict("the resident's file is already closed")
    if _open_count(session, Match.resident_id, resident_id):
        raise Conflict("the resident has an open match; end it first")
    resident.status, resident.closed_reason, resident.closed_at = "closed", reason, now
    _transition(session, resident, "resident", "closed",
                ["status", "closed_reason", "closed_at"], actor, now)
    return resident


def set_resident_status(session: Session, resident_ids: list[str], status: str) -> None:
    """Move residents between waiting / proposed / matched without marking their profile edited."""
    if not resident_ids:
        return
    # updated_at is kept: a workflow step is not a profile change (the stale flag reads it).
    session.execute(
        update(Resident.__table__)
        .where(Resident.id.in_(resident_ids))
        .values(status=status, updated_at=Resident.updated_at)
    )
    for resident_id in resident_ids:
        loaded = session.identity_map.get(identity_key(Resident, resident_id))
        if loaded is not None:
            session.expire(loaded, ["status", "version"])
