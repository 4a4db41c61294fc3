"""Postcode to coordinates, the GeoNames loader, and a real geopy request to a local server."""
from __future__ import annotations

import io
import json
import threading
import zipfile
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from matching.errors import ValidationFailed
from matching.services.geocoding import (
    USER_AGENT, forget, import_postcode_areas, locate, make_geocoder, read_postcode_source,
)
from matching.store import GeocodeCache, PostcodeArea
from tests.conftest import shared_file

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
SMALL = [
    "NL\t3511\tUtrecht\t\t\t\t\t\t\t52.0931\t5.1142\t",
    "NL\t3451\tVleuten\t\t\t\t\t\t\t52.1058\t5.0125\t",
    "NL\t3451\tDe Meern\t\t\t\t\t\t\t52.0808\t5.0325\t",
]


class NominatimLike(BaseHTTPRequestHandler):
    """Answers /search like Nominatim's JSON format; knows one postcode."""

    requests: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).requests.append({"path": url.path, "query": query,
                                    "agent": self.headers.get("User-Agent")})
        if query.get("postalcode") == "9000 ZZ":
            self.send_response(500)
            self.end_headers()
            return
        found = [{"place_id": 1, "lat": "52.3700", "lon": "4.8900",
                  "display_name": "1012 AB, Amsterdam", "boundingbox": ["52", "53", "4", "5"]}]
        body = json.dumps(found if query.get("postalcode") == "1012 AB" else []).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def nominatim():
    NominatimLike.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), NominatimLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, NominatimLike.requests
    server.shutdown()
    server.server_close()


def geocoder_for(server):
    return make_geocoder(domain=f"127.0.0.1:{server.server_port}", scheme="http",
                         min_delay_seconds=0, timeout=5)


def test_loader_reads_lines_and_replaces_idempotently(session):
    assert import_postcode_areas(session, SMALL) == 3
    assert import_postcode_areas(session, SMALL) == 3
    assert session.scalar(select(func.count()).select_from(PostcodeArea)) == 3
    # A code with several places gets the mean of their coordinates.
    location = locate(session, "3451 AB", "1", now=NOW)
    assert location.source == "postcode_area"
    assert location.lat == pytest.approx((52.1058 + 52.0808) / 2)


def test_loader_reads_a_file_and_a_zip(session, tmp_path):
    text = tmp_path / "NL.txt"
    text.write_text("\n".join(SMALL) + "\n", encoding="utf-8")
    assert import_postcode_areas(session, text) == 3
    archive = tmp_path / "NL.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "GeoNames")
        zipped.writestr("NL.txt", "\n".join(SMALL[:2]))
    assert import_postcode_areas(session, archive) == 2
    assert import_postcode_areas(session, archive.read_bytes()) == 2


def test_loader_reports_bad_lines_by_number_and_keeps_the_old_rows(session):
    import_postcode_areas(session, SMALL)
    bad = [SMALL[0], "NL\t0123\tNergens\t\t\t\t\t\t\t52\t5\t", "", "NL\t3512\tUtrecht",
           "BE\t3512\tGent\t\t\t\t\t\t\t51\t3.7\t", "NL\t3513\tUtrecht\t\t\t\t\t\t\tnoord\t5\t"]
    with pytest.raises(ValidationFailed) as failure:
        import_postcode_areas(session, bad)
    assert failure.value.errors == {
        "line 2": "invalid_postcode", "line 4": "too_few_columns", "line 5": "wrong_country",
        "line 6": "invalid_coordinates",
    }
    assert session.scalar(select(func.count()).select_from(PostcodeArea)) == 3


def test_loader_on_the_shared_geonames_file(session):
    assert import_postcode_areas(session, shared_file("geo", "NL.txt")) == 4328
    distinct = session.scalar(select(func.count(func.distinct(PostcodeArea.postcode))))
    assert distinct == 4064
    utrecht = locate(session, "3511 AB", None, now=NOW)
    assert utrecht.source == "postcode_area" and 52.0 < utrecht.lat < 52.2


def test_without_postcode_or_known_area(session):
    assert locate(session, None, None, now=NOW).problem == "no_postcode"
    assert locate(session, "9999 ZZ", "1", now=NOW).problem == "unknown_postcode"
    manual = locate(session, None, None, manual=(52.1, 5.1), now=NOW)
    assert (manual.lat, manual.lon, manual.source, manual.problem) == (52.1, 5.1, "manual", None)


def test_geocoder_request_is_cached_and_not_repeated(session, nominatim):
    server, requests = nominatim
    geocoder = geocoder_for(server)
    first = locate(session, "1012 AB", "7", geocoder=geocoder, now=NOW)
    assert (first.lat, first.lon, first.source) == (52.37, 4.89, "geocoder")
    assert len(requests) == 1
    sent = requests[0]
    assert sent["path"] == "/search" and sent["agent"] == USER_AGENT
    assert sent["query"]["postalcode"] == "1012 AB" and sent["query"]["countrycodes"] == "nl"
    assert "7" not in json.dumps(sent["query"]).replace("1012", "")  # no house number sent
    second = locate(session, "1012 AB", "9", geocoder=geocoder, now=NOW)
    assert (second.lat, second.source) == (52.37, "cache") and len(requests) == 1
    assert session.get(GeocodeCache, "1012AB").lat == 52.37
    forget(session, "1012 AB")
    assert session.get(GeocodeCache, "1012AB") is None


def test_not_found_is_cached_for_a_day_and_errors_are_not_cached(session, nominatim):
    server, requests = nominatim
    geocoder = geocoder_for(server)
    assert locate(session, "1099 ZZ", None, geocoder=geocoder, now=NOW).problem == "unknown_postcode"
    assert locate(session, "1099 ZZ", None, geocoder=geocoder, now=NOW).problem == "unknown_postcode"
    assert len(requests) == 1
    locate(session, "1099 ZZ", None, geocoder=geocoder, now=NOW + timedelta(days=2))
    assert len(requests) == 2
    failed = locate(session, "9000 ZZ", None, geocoder=geocoder, now=NOW)
    assert failed.problem == "geocoder_failed" and session.get(GeocodeCache, "9000ZZ") is None


def test_postcode_source_from_a_url_or_a_path(session, tmp_path):
    """What `maatwerk geo import FILE_OR_URL` does: fetch or read the bytes, then load them."""
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as zipped:
        zipped.writestr("NL.txt", "\n".join(SMALL))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.end_headers()
            self.wfile.write(payload.getvalue())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        data = read_postcode_source(f"http://127.0.0.1:{server.server_port}/NL.zip", timeout=5)
        assert import_postcode_areas(session, data) == 3
    finally:
        server.shutdown()
        server.server_close()
    (tmp_path / "NL.txt").write_text(SMALL[0])
    assert import_postcode_areas(session, read_postcode_source(str(tmp_path / "NL.txt"))) == 1
