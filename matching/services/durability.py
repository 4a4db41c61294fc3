"""How long matches last: Kaplan-Meier survival curves with a 95% band, split into groups.

A match's duration runs from activation to its ending. Every ending counts as an event, a
natural one (goal reached, the resident died) included: the question is how long pairs stay
together. Matches still active at "as of" are censored there. The cohort is the matches
activated in the period. Privacy: a group of fewer than 5 matches gets no curve, and a curve
stops where fewer than 5 matches are still being followed.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from scipy.stats import CensoredData, ecdf
from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session

from matching.store import Match, Resident

from .periods import Period, days_between
from .reports import DURABLE_DAYS, MIN_GROUP, UNKNOWN, suppress

SPLITS = ("all", "target_group", "score_band", "distance_band")
# (key, lower bound included, upper bound excluded); scores are the engine's 0-100.
SCORE_BANDS = (("lt60", None, 60.0), ("60_80", 60.0, 80.0), ("ge80", 80.0, None))
DISTANCE_BANDS = (("lt1", None, 1.0), ("1_3", 1.0, 3.0), ("ge3", 3.0, None))
MONTH_DAYS = 30.4375
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Durations:
    """One row per match of the cohort: days followed, ended or not, and what it is split by."""

    days: np.ndarray
    ended: np.ndarray
    score: np.ndarray
    distance: np.ndarray
    target_group: np.ndarray


def durations(session: Session, period: Period, *, wijk: str | None = None,
              target_group: str | None = None) -> Durations:
    """The cohort's durations, computed by the database."""
    as_of = period.as_of
    ended = and_(Match.ended_at.is_not(None), Match.ended_at <= as_of)
    stop = case((ended, Match.ended_at), else_=as_of)
    stmt = (select(days_between(Match.activated_at, stop), case((ended, 1), else_=0),
                   Match.score, Match.distance_km, Resident.target_group)
            .join(Resident, Match.resident_id == Resident.id)
            .where(Match.activated_at >= period.starts, Match.activated_at < period.ends,
                   Match.activated_at < as_of))
    if wijk is not None:
        stmt = stmt.where(Resident.neighbourhood == wijk)
    if target_group is not None:
        stmt = stmt.where(Resident.target_group == target_group)
    rows = session.execute(stmt).all()
    columns = list(zip(*rows)) if rows else [(), (), (), (), ()]
    return Durations(
        days=np.maximum(np.asarray(columns[0], dtype=float), 0.0),
        ended=np.asarray(columns[1], dtype=bool),
        score=np.asarray([np.nan if s is None else s for s in columns[2]], dtype=float),
        distance=np.asarray([np.nan if d is None else d for d in columns[3]], dtype=float),
        target_group=np.asarray(columns[4], dtype=object),
    )


def kaplan_meier(days: np.ndarray, ended: np.ndarray) -> dict[str, Any]:
    """S(t) at each distinct time with its 95% band and the number still followed (at risk).

    Nothing is hidden here; `curve` applies the small-group rule.
    """
    days, ended = np.asarray(days, dtype=float), np.asarray(ended, dtype=bool)
    if days.shape != ended.shape or days.ndim != 1 or len(days) == 0:
        raise ValueError(
            f"need equal, non-empty 1-d days and ended; got {days.shape}, {ended.shape}")
    result = ecdf(CensoredData(uncensored=days[ended], right=days[~ended]))
    with warnings.catch_warnings():
        # Greenwood's band is undefined where S(t) reaches 0: shown as the point itself.
        warnings.filterwarnings("ignore", "The confidence interval is undefined", RuntimeWarning)
        band = result.sf.confidence_interval(CONFIDENCE)
    times = result.sf.quantiles
    survival = result.sf.probabilities
    low = np.where(np.isnan(band.low.probabilities), survival, band.low.probabilities)
    high = np.where(np.isnan(band.high.probabilities), survival, band.high.probabilities)
    at_risk = len(days) - np.searchsorted(np.sort(days), times, side="left")
    return {"times": times, "survival": survival, "low": low, "high": high, "at_risk": at_risk,
            "n": len(days), "events": int(ended.sum()), "sf": result.sf}


def curve(key: str, days: np.ndarray, ended: np.ndarray) -> dict[str, Any]:
    """One group's curve as it may be shown: none under 5 matches, cut where < 5 are followed."""
    n = len(days)
    shown: dict[str, Any] = {"key": key, "n": suppress(n), "suppressed": n < MIN_GROUP,
                             "points": [], "months": [], "survival_3m": None,
                             "survival_6m": None}
    if n < MIN_GROUP:
        return shown
    km = kaplan_meier(days, ended)
    keep = km["at_risk"] >= MIN_GROUP
    points = [{"day": 0.0, "survival": 1.0, "low": 1.0, "high": 1.0, "at_risk": n}]
    for t, s, lo, hi, r in zip(km["times"][keep], km["survival"][keep], km["low"][keep],
                               km["high"][keep], km["at_risk"][keep]):
        points.append({"day": round(float(t), 2), "survival": round(float(s), 4),
                       "low": round(float(lo), 4), "high": round(float(hi), 4),
                       "at_risk": int(r)})
    shown["points"] = points
    followed = points[-1]["day"] if len(points) > 1 else 0.0
    shown["months"] = [_point_at(points, month, days) for month in range(0, 25)
                       if month * MONTH_DAYS <= followed]
    for label, mark in (("survival_3m", 91.0), ("survival_6m", 182.0)):
        if mark <= followed:
            shown[label] = _point_at(points, mark / MONTH_DAYS, days)["survival"]
    return shown


def _point_at(points: list[dict[str, Any]], month: float, days: np.ndarray) -> dict[str, Any]:
    """The step function's value at a month mark, with the number followed at that moment."""
    day = month * MONTH_DAYS
    last = [p for p in points if p["day"] <= day][-1]
    return {"month": round(month, 2), "day": round(day, 1), "survival": last["survival"],
            "low": last["low"], "high": last["high"], "at_risk": int((days >= day).sum())}


Bands = tuple[tuple[str, float | None, float | None], ...]


def _band(values: np.ndarray, bands: Bands) -> np.ndarray:
    labels = np.full(len(values), UNKNOWN, dtype=object)
    for key, low, high in bands:
        inside = ~np.isnan(values)
        if low is not None:
            inside &= values >= low
        if high is not None:
            inside &= values < high
        labels[inside] = key
    return labels


def curves(session: Session, period: Period, split: str = "all", *, wijk: str | None = None,
           target_group: str | None = None) -> dict[str, Any]:
    """Survival curves for the cohort, one per group of the split; JSON-ready."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return _split(durations(session, period, wijk=wijk, target_group=target_group), period, split)


def every_split(session: Session, period: Period, *, wijk: str | None = None,
                target_group: str | None = None) -> dict[str, dict[str, Any]]:
    """The curves of every split, from one read of the durations."""
    data = durations(session, period, wijk=wijk, target_group=target_group)
    return {split: _split(data, period, split) for split in SPLITS}


def _split(data: Durations, period: Period, split: str) -> dict[str, Any]:
    if split == "all":
        labels, order = np.full(len(data.days), "all", dtype=object), ["all"]
    elif split == "target_group":
        labels = data.target_group
        order = sorted(set(labels.tolist()))
    else:
        bands = SCORE_BANDS if split == "score_band" else DISTANCE_BANDS
        labels = _band(data.score if split == "score_band" else data.distance, bands)
        order = [key for key, _low, _high in bands] + [UNKNOWN]
        order = [key for key in order if (labels == key).any() or key != UNKNOWN]
    groups = [curve(key, data.days[labels == key], data.ended[labels == key]) for key in order]
    return {"split": split, "period": {"start": period.start.isoformat(),
                                       "end": period.end.isoformat()},
            "n": suppress(len(data.days)), "min_group": MIN_GROUP, "groups": groups}


def lasted(activated_at: datetime, ended_at: datetime | None, now: datetime, days: int) -> bool:
    """Whether a match stayed active `days` days (the dashboard's definition of durable)."""
    until = min(ended_at, now) if ended_at else now
    return (until - activated_at).days >= days


def durable_counts(session: Session, *, now: datetime) -> dict[str, int]:
    """How many matches were ever activated, and how many of them lasted 3 and 6 months."""
    rows = session.execute(
        select(Match.activated_at, Match.ended_at).where(
            Match.activated_at.is_not(None), Match.activated_at <= now
        )
    ).all()
    counts = {"activated": len(rows)}
    for label, days in DURABLE_DAYS.items():
        counts[f"durable_{label}"] = sum(lasted(a, e, now, days) for a, e in rows)
    return counts
