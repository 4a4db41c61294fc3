"""Kaplan-Meier curves against a hand computation, durations from the database, small groups."""
from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from matching.services import durability
from matching.services.pairing import close_match
from matching.services.periods import Period
from matching.store import Match

# Six matches: ended after 2, 3, 5 and 8 days; still running after 4 and 9 days (censored).
DAYS = np.array([2.0, 3.0, 4.0, 5.0, 8.0, 9.0])
ENDED = np.array([True, True, False, True, True, False])


def hand_kaplan_meier() -> list[tuple[float, float, float, float]]:
    """(t, S(t), Greenwood low, high) at each event time, computed step by step."""
    rows, survival, greenwood = [], 1.0, 0.0
    for t, at_risk, ended in [(2, 6, 1), (3, 5, 1), (5, 3, 1), (8, 2, 1)]:
        survival *= (at_risk - ended) / at_risk
        greenwood += ended / (at_risk * (at_risk - ended)) if at_risk > ended else math.inf
        se = survival * math.sqrt(greenwood)
        rows.append((t, survival, max(0.0, survival - 1.959964 * se),
                     min(1.0, survival + 1.959964 * se)))
    return rows


def test_kaplan_meier_matches_the_hand_computation():
    km = durability.kaplan_meier(DAYS, ENDED)
    assert km["times"].tolist() == [2.0, 3.0, 4.0, 5.0, 8.0, 9.0]
    assert km["at_risk"].tolist() == [6, 5, 4, 3, 2, 1]
    by_time = dict(zip(km["times"].tolist(), range(len(km["times"]))))
    expected = {2: 5 / 6, 3: 4 / 6, 4: 4 / 6, 5: 4 / 9, 8: 2 / 9, 9: 2 / 9}
    for t, s in expected.items():
        assert km["survival"][by_time[t]] == pytest.approx(s)
    for t, s, low, high in hand_kaplan_meier()[:3]:
        i = by_time[t]
        assert km["survival"][i] == pytest.approx(s)
        assert km["low"][i] == pytest.approx(low, abs=1e-4)
        assert km["high"][i] == pytest.approx(high, abs=1e-4)
    assert (km["n"], km["events"]) == (6, 4)


def test_kaplan_meier_refuses_bad_shapes():
    with pytest.raises(ValueError, match="equal"):
        durability.kaplan_meier(np.array([1.0, 2.0]), np.array([True]))
    with pytest.raises(ValueError):
        durability.kaplan_meier(np.array([]), np.array([], dtype=bool))


def test_curve_stops_where_fewer_than_five_are_followed():
    shown = durability.curve("all", DAYS, ENDED)
    assert [p["day"] for p in shown["points"]] == [0.0, 2.0, 3.0]
    assert [p["at_risk"] for p in shown["points"]] == [6, 6, 5]
    assert shown["points"][2]["survival"] == pytest.approx(4 / 6, abs=1e-4)
    assert all(p["at_risk"] >= 5 for p in shown["points"])


def test_curve_of_fewer_than_five_matches_is_hidden():
    shown = durability.curve("lt60", DAYS[:4], ENDED[:4])
    assert shown["suppressed"] and shown["n"] is None
    assert shown["points"] == [] and shown["months"] == []


def test_everything_ended_keeps_the_band_defined():
    days = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0])
    km = durability.kaplan_meier(days, np.ones(6, dtype=bool))
    assert km["survival"][-1] == 0.0
    assert not np.isnan(km["low"]).any() and not np.isnan(km["high"]).any()


NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def cohort(session, make_volunteer, make_resident):
    """Six well-scored matches with the hand-computed durations, two poorly scored ones."""
    volunteer = make_volunteer()
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    spans = [(d, e) for d, e in zip(DAYS.tolist(), ENDED.tolist())]
    for n, (days, ended) in enumerate(spans):
        activated = start + timedelta(days=n)
        resident = make_resident(target_group="older_person", status="matched")
        # A censored match is followed until "as of": activate it that many days before.
        if not ended:
            activated = NOW - timedelta(days=days)
        session.add(Match(
            resident_id=resident.id, volunteer_id=volunteer.id,
            status="ended" if ended else "active",
            activated_at=activated, ended_at=activated + timedelta(days=days) if ended else None,
            end_reason="moved" if ended else None, score=85.0, distance_km=0.4 + n,
        ))
    for n in range(2):
        resident = make_resident(target_group="informal_carer", status="closed")
        session.add(Match(resident_id=resident.id, volunteer_id=volunteer.id, status="ended",
                          activated_at=start, ended_at=start + timedelta(days=30 + n),
                          end_reason="no_click", score=40.0, distance_km=5.0))
    session.flush()


def test_durations_come_from_the_database(session, cohort):
    period = Period(date(2026, 1, 1), date(2026, 12, 1), NOW)
    data = durability.durations(session, period)
    well = data.score >= 80
    assert sorted(np.round(data.days[well], 6).tolist()) == DAYS.tolist()
    assert sorted(zip(np.round(data.days[well], 6).tolist(), data.ended[well].tolist())) == sorted(
        zip(DAYS.tolist(), ENDED.tolist()))
    assert sorted(data.days[~well].tolist()) == [30.0, 31.0]


def test_curves_split_by_score_band_hide_small_bands(session, cohort):
    period = Period(date(2026, 1, 1), date(2026, 12, 1), NOW)
    curves = durability.curves(session, period, "score_band")
    groups = {g["key"]: g for g in curves["groups"]}
    assert list(groups) == ["lt60", "60_80", "ge80"]
    assert groups["lt60"]["suppressed"] and groups["lt60"]["n"] is None  # two matches
    assert groups["60_80"]["n"] == 0 and groups["60_80"]["suppressed"]
    assert groups["ge80"]["n"] == 6
    assert [p["day"] for p in groups["ge80"]["points"]] == [0.0, 2.0, 3.0]
    assert groups["ge80"]["points"][1]["survival"] == pytest.approx(5 / 6, abs=1e-4)
    assert curves["n"] == 8


def test_curves_by_distance_and_target_group(session, cohort):
    period = Period(date(2026, 1, 1), date(2026, 12, 1), NOW)
    distance = durability.curves(session, period, "distance_band")
    by_distance = {g["key"]: g for g in distance["groups"]}
    # Distances 0.4-5.4 km: one under 1 km, two from 1 to 3, five of 3 km or more.
    assert (by_distance["lt1"]["n"], by_distance["1_3"]["n"], by_distance["ge3"]["n"]) == (
        None, None, 5)
    by_group = {g["key"]: g for g in durability.curves(session, period, "target_group")["groups"]}
    assert by_group["older_person"]["n"] == 6 and by_group["informal_carer"]["n"] is None
    with pytest.raises(ValueError):
        durability.curves(session, period, "colour")


def test_every_split_is_ready_for_json(session, cohort):
    import json

    period = Period(date(2026, 1, 1), date(2026, 12, 1), NOW)
    every = durability.every_split(session, period)
    assert list(every) == list(durability.SPLITS)
    assert json.loads(json.dumps(every)) == every
    assert every["score_band"] == durability.curves(session, period, "score_band")


def test_lasted_counts_days_as_the_dashboard_does():
    start = datetime(2026, 5, 31, 10, 0, tzinfo=UTC)
    assert not durability.lasted(start, None, start + timedelta(days=90), 91)
    assert durability.lasted(start, None, start + timedelta(days=91), 91)
    assert durability.lasted(start, start + timedelta(days=92), start + timedelta(days=400), 91)
    assert not durability.lasted(start, start + timedelta(days=92), start + timedelta(days=400), 182)


def test_durable_counts_over_time(session, make_active_match):
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    young = make_active_match(now - timedelta(days=40))
    make_active_match(datetime(2026, 8, 1, tzinfo=UTC))  # 121 days: 3 months, not 6
    make_active_match(datetime(2026, 3, 1, tzinfo=UTC))  # 6 months and more
    short = make_active_match(datetime(2026, 1, 5, tzinfo=UTC))
    close_match(session, short, "ended", datetime(2026, 3, 1, tzinfo=UTC))  # ended after 8 weeks
    assert durability.durable_counts(session, now=now) == {
        "activated": 4, "durable_3m": 2, "durable_6m": 1}
    assert durability.durable_counts(session, now=now + timedelta(days=60))["durable_3m"] == 3
    assert young.status == "active"
