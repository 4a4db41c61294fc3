"""The indicators under /api/v1/stats: a token is needed, groups under five never show."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from matching.services import api_tokens, pairing
from matching.services.profiles import local_date
from matching.store import utcnow

API = "/api/v1/stats"


def _token(session, scope="read"):
    _row, token = api_tokens.issue(session, organisation="Gemeente Utrecht", scope=scope,
                                   created_by="admin@vcu.example", now=utcnow())
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def _numbers(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, int) and not isinstance(value, bool):
        yield value


def test_stats_need_a_token(client):
    response = client.get(API)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_stats_count_matches_and_suppress_small_groups(client, session, make_volunteer, make_resident):
    activated = datetime.now(UTC) - timedelta(days=120)
    for n in range(6):
        volunteer = make_volunteer(email=f"v{n}@example.org", neighbourhood="Overvecht")
        resident = make_resident(first_name=f"R{n}", neighbourhood="Overvecht", status="matched")
        pairing.open_match(session, volunteer_id=volunteer.id, resident_id=resident.id,
                           status="active", activated_at=activated)
    # Two people in another wijk: a group that must not be shown.
    make_resident(first_name="Klein", neighbourhood="Binnenstad", status="waiting",
                  waiting_since=local_date(utcnow()) - timedelta(days=30))
    make_resident(first_name="Klein2", neighbourhood="Binnenstad", status="waiting",
                  waiting_since=local_date(utcnow()) - timedelta(days=40))
    session.commit()

    response = client.get(API, headers=_token(session))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["min_group"] == 5
    assert body["overall"]["active_matches"] == 6
    assert all(not 1 <= number <= 4 for number in _numbers(body["overall"]))
    for group in body["by_wijk"].values():
        assert all(not 1 <= number <= 4 for number in _numbers(group))
    assert body["by_wijk"]["Overvecht"]["active_matches"] == 6


def test_stats_refuse_a_period_that_ends_before_it_starts(client, session):
    response = client.get(f"{API}?van=2026-06-01&tot=2026-01-01", headers=_token(session))
    assert response.status_code == 422
    assert "tot" in response.get_json()["errors"]


def test_stats_refuse_an_unknown_target_group(client, session):
    response = client.get(f"{API}?doelgroep=martians", headers=_token(session))
    assert response.status_code == 422
