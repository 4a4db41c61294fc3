"""Postcode to coordinates: cache, a geopy geocoder, postcode areas, or the coordinator's own.

Only the six-character postcode is ever sent to a geocoder, never the house number: a PC6 is a
street segment, precise enough for matching on 0.5 km and up, and keeps addresses out of
third-party logs. A geocoder's answer is cached in geocode_cache under that postcode; an answer
"not found" is cached for NEGATIVE_TTL (so a typo does not hit the service on every save), while
errors (time-outs, HTTP failures) are not cached at all so that an outage does not stick.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import urlopen

from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from matching.errors import ValidationFailed
from matching.store import GeocodeCache, PostcodeArea

USER_AGENT = "maatwerk/0.1 (+contact)"
NEGATIVE_TTL = timedelta(days=1)
PROBLEMS = ("no_postcode", "unknown_postcode", "geocoder_failed")

# A geocoder here is any callable taking a query and returning a geopy Location or None.
Geocoder = Callable[..., Any]


@dataclass(frozen=True)
class Location:
    lat: float | None
    lon: float | None
    source: str | None  # "cache", "postcode_area", "geocoder", "manual" or None
    problem: str | None  # one of PROBLEMS when unresolved


def make_geocoder(
    *,
    domain: str = "nominatim.openstreetmap.org",
    scheme: str = "https",
    user_agent: str = USER_AGENT,
    min_delay_seconds: float = 1.0,
    timeout: float = 5.0,
) -> Geocoder:
    """A Nominatim geocoder behind geopy's RateLimiter (Nominatim's policy: 1 request/s)."""
    nominatim = Nominatim(domain=domain, scheme=scheme, user_agent=user_agent, timeout=timeout)
    # No retries: a failure is reported as "geocoder_failed" and the profile is still saved.
    return RateLimiter(
        nominatim.geocode, min_delay_seconds=min_delay_seconds, max_retries=0,
        swallow_exceptions=False,
    )


def from_settings(kind: str, url: str, user_agent: str) -> Geocoder | None:
    """The geocoder the configuration names: "nominatim" (at url) or none ("", the PC4 table)."""
    if not kind:
        return None
    if kind != "nominatim":
        raise ValueError(f"unknown GEOCODER {kind!r}: use 'nominatim' or leave it empty")
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"NOMINATIM_URL must be an http(s) address, not {url!r}")
    # The public server allows one request a second; a self-hosted one gets the same courtesy.
    return make_geocoder(domain=parsed.netloc + parsed.path.rstrip("/"), scheme=parsed.scheme,
                         user_agent=user_agent or USER_AGENT)


def cache_key(postcode: str) -> str:
    return postcode.replace(" ", "").upper()


def locate(
    session: Session,
    postcode: str | None,
    house_number: str | None,
    *,
    geocoder: Geocoder | None = None,
    manual: tuple[float, float] | None = None,
    now: datetime,
) -> Location:
    """Coordinates for a normalised postcode ("1234 AB").

    Manual coordinates, when given, are the coordinator's explicit choice and win. Otherwise:
    the geocode cache, then the geocoder when one is configured (the six-character postcode,
    precise to a street segment), then the PC4 postcode area (the default, and the fallback
    when the geocoder knows nothing or fails). A location that cannot be found comes back with
    its problem, which the profile keeps for the coordinator to see.
    house_number is accepted for the signature's sake but never leaves the system.
    """
    if manual is not None:
        return Location(manual[0], manual[1], "manual", None)
    if not postcode:
        return Location(None, None, None, "no_postcode")
    key = cache_key(postcode)
    cached = session.get(GeocodeCache, key)
    if cached is not None and cached.lat is not None and cached.lon is not None:
        return Location(cached.lat, cached.lon, "cache", None)
    problem = "unknown_postcode"
    if geocoder is not None:
        found = _geocoded(session, geocoder, postcode, key, cached, now)
        if isinstance(found, Location):
            return found
        problem = found
    area = session.execute(
        select(func.avg(PostcodeArea.lat), func.avg(PostcodeArea.lon))
        .where(PostcodeArea.postcode == key[:4])
    ).one()
    if area[0] is not None:
        return Location(float(area[0]), float(area[1]), "postcode_area", None)
    return Location(None, None, None, problem)


def _geocoded(session: Session, geocoder: Geocoder, postcode: str, key: str,
              cached: GeocodeCache | None, now: datetime) -> Location | str:
    """The geocoder's location (cached), or the problem: "unknown_postcode" or "geocoder_failed"."""
    if cached is not None:  # a recent "not found" answer
        if cached.created_at > now - NEGATIVE_TTL:
            return "unknown_postcode"
        session.delete(cached)
        session.flush()
    try:
        found = geocoder({"postalcode": postcode, "country": "Nederland"}, country_codes="nl")
    except GeopyError:
        return "geocoder_failed"
    lat = float(found.latitude) if found is not None else None
    lon = float(found.longitude) if found is not None else None
    session.add(GeocodeCache(query=key, lat=lat, lon=lon, source="geocoder", created_at=now))
    session.flush()
    if lat is None or lon is None:
        return "unknown_postcode"
    return Location(lat, lon, "geocoder", None)


def placeable(session: Session, keys: set[str]) -> set[str]:
    """Of these cache keys ("1234AB"), those the cache or the postcode table can place."""
    if not keys:
        return set()
    cached = set(session.scalars(select(GeocodeCache.query).where(
        GeocodeCache.query.in_(keys), GeocodeCache.lat.is_not(None))))
    areas = set(session.scalars(select(PostcodeArea.postcode).where(
        PostcodeArea.postcode.in_({key[:4] for key in keys}))))
    return cached | {key for key in keys if key[:4] in areas}


def forget(session: Session, postcode: str | None) -> None:
    """Remove the cached geocoder answer for this postcode (erasure of an address)."""
    if postcode:
        session.execute(delete(GeocodeCache).where(GeocodeCache.query == cache_key(postcode)))


def read_postcode_source(file_or_url: str, *, timeout: float = 60.0) -> bytes:
    """The bytes of a postcode file: fetched with urllib for http(s)://, read from disk otherwise."""
    if file_or_url.startswith(("http://", "https://")):
        # Only http(s) gets here (checked above), so no file:// or custom scheme.
        with urlopen(file_or_url, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return response.read()
    return Path(file_or_url).read_bytes()


_PC4 = re.compile(r"[1-9][0-9]{3}")


def _lines(source: str | Path | bytes | Iterable[str]) -> list[str]:
    if isinstance(source, str | Path):
        source = Path(source).read_bytes()
    if isinstance(source, bytes):
        if source[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(source)) as archive:
                names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "NL.txt"]
                if not names:
                    raise ValidationFailed({"file": "no_nl_txt_in_zip"})
                source = archive.read(names[0])
        return source.decode("utf-8-sig").splitlines()
    return [line.rstrip("\r\n") for line in source]


def import_postcode_areas(session: Session, lines_or_path: str | Path | bytes | Iterable[str]) -> int:
    """Replace all postcode areas with a GeoNames postal-code file (NL.txt, or a zip holding it).

    Accepts a path, the file's bytes, or its lines. Returns the number of rows stored. Any bad
    line stores nothing and raises ValidationFailed({"line N": key}) for every bad line.
    """
    rows: list[PostcodeArea] = []
    errors: dict[str, str] = {}
    reader = csv.reader(_lines(lines_or_path), delimiter="\t", quoting=csv.QUOTE_NONE)
    for number, cells in enumerate(reader, start=1):
        if not cells or not "".join(cells).strip():
            continue
        problem = _problem(cells)
        if problem:
            errors[f"line {number}"] = problem
            continue
        rows.append(PostcodeArea(
            postcode=cells[1].strip(), place=cells[2].strip()[:120],
            lat=float(cells[9]), lon=float(cells[10]),
        ))
    if errors:
        raise ValidationFailed(errors)
    session.execute(delete(PostcodeArea))
    session.add_all(rows)
    session.flush()
    return len(rows)


def _problem(cells: list[str]) -> str | None:
    if len(cells) < 11:
        return "too_few_columns"
    if cells[0].strip() != "NL":
        return "wrong_country"
    if not _PC4.fullmatch(cells[1].strip()):
        return "invalid_postcode"
    if not cells[2].strip():
        return "no_place"
    try:
        lat, lon = float(cells[9]), float(cells[10])
    except ValueError:
        return "invalid_coordinates"
    if not (50.5 <= lat <= 53.7 and 3.2 <= lon <= 7.3):
        return "invalid_coordinates"
    return None
