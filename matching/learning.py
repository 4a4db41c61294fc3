"""`learn`: from a history of matches to a model of what makes pairs last (numpy and scipy only).

Input: the people as `solve` takes them and the matches with their start and (if any) end; a
match still running is censored at ``today``. Output: the model `solve` accepts as
``settings.model``, the terms with standard errors and hazard ratios, an out-of-sample c-index
(k-fold cross-validation) and a calibration table (predicted against Kaplan-Meier observed
26-week survival per quintile of prediction).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
from scipy import special, stats

from matching import geo, lasting, survival
from matching.problem import parse

MIN_ENDED = 30  # fewer ended matches than this teach nothing stable
FOLDS = 5
PENALTY = 1.0  # see survival.fit_cox: a N(0, 1) prior per standard deviation of a feature
GROUPS = 5  # calibration: quintiles of the prediction


class TooLittleHistory(ValueError):
    """Not enough ended matches to learn from."""


def _matches(problem: dict, vindex: dict[str, int], rindex: dict[str, int], today: dt.date):
    records = problem.get("matches")
    if not isinstance(records, list):
        raise ValueError("matches must be a list of {volunteer, resident, started, ended}")
    vi, ri, days, ended, first = [], [], [], [], today
    # A canonical order: the folds and the data hash do not depend on the order of the input.
    order = sorted(range(len(records)), key=lambda n: _order_key(records[n]))
    for n in order:
        rec = records[n]
        if not isinstance(rec, dict):
            raise ValueError(f"matches[{n}] must be an object")
        v, r = rec.get("volunteer"), rec.get("resident")
        if v not in vindex:
            raise ValueError(f"matches[{n}]: unknown volunteer id {v!r}")
        if r not in rindex:
            raise ValueError(f"matches[{n}]: unknown resident id {r!r}")
        started = _date(rec.get("started"), f"matches[{n}].started")
        end = rec.get("ended")
        stop = today if end is None else _date(end, f"matches[{n}].ended")
        if started > today or stop > today:
            raise ValueError(f"matches[{n}]: dates after today ({today.isoformat()})")
        if stop < started:
            raise ValueError(f"matches[{n}]: ended {stop.isoformat()} before started {started.isoformat()}")
        vi.append(vindex[v])
        ri.append(rindex[r])
        days.append((stop - started).days)
        ended.append(end is not None)
        first = min(first, started)
    return np.array(vi, np.int64), np.array(ri, np.int64), np.array(days, float), np.array(ended, bool), first


def _order_key(rec: object) -> tuple[str, str, str, str]:
    if not isinstance(rec, dict):
        return ("", "", "", "")
    return tuple(str(rec.get(k) or "") for k in ("started", "volunteer", "resident", "ended"))  # type: ignore[return-value]


def _date(value: object, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be an ISO date 'YYYY-MM-DD', got {value!r}") from None


def _means(raw: np.ndarray) -> tuple[float, float]:
    out = []
    for column in (4, 5):
        known = raw[:, column][~np.isnan(raw[:, column])]
        out.append(float(known.mean()) if len(known) else 12.0)
    return out[0], out[1]


def _fit(raw: np.ndarray, days: np.ndarray, ended: np.ndarray) -> tuple[survival.CoxFit, lasting.Model]:
    means = _means(raw)
    x = lasting.impute(raw.copy(), *means)
    fit = survival.fit_cox(x, days, ended, penalty=PENALTY)
    model = lasting.Model(fit.coef, fit.center, fit.baseline_cumhaz(lasting.HORIZON_DAYS), means, "", "")
    return fit, model


def _cross_validated(raw: np.ndarray, days: np.ndarray, ended: np.ndarray) -> tuple[list[float], np.ndarray]:
    """Per fold c-index, and every match's 26-week survival predicted by the model that did not see it."""
    fold = np.empty(len(days), dtype=np.int64)
    fold[np.random.default_rng(0).permutation(len(days))] = np.arange(len(days)) % FOLDS
    c_values, predicted = [], np.empty(len(days))
    for k in range(FOLDS):
        test, train = fold == k, fold != k
        if not ended[train].any():
            continue
        _, model = _fit(raw[train], days[train], ended[train])
        x = lasting.impute(raw[test].copy(), *model.impute)
        predicted[test] = model.probability(x)
        try:
            c_values.append(survival.concordance(days[test], ended[test], -predicted[test]))
        except ValueError:  # a fold without comparable pairs tells nothing
            pass
    return c_values, predicted


def _calibration(predicted: np.ndarray, days: np.ndarray, ended: np.ndarray) -> list[dict]:
    groups = np.array_split(np.argsort(predicted, kind="stable"), GROUPS)
    return [
        {
            "predicted": round(float(predicted[g].mean()), 4),
            "observed": round(survival.kaplan_meier(days[g], ended[g], lasting.HORIZON_DAYS), 4),
            "n": len(g),
        }
        for g in groups
        if len(g)
    ]


def learn(problem: dict) -> dict:
    """The model and how good it is; TooLittleHistory with fewer than MIN_ENDED ended matches."""
    if not isinstance(problem, dict):
        raise ValueError("the input must be an object with today, volunteers, residents and matches")
    pool = parse({"today": problem.get("today"), "volunteers": problem.get("volunteers", []),
                  "residents": problem.get("residents", [])})
    today = dt.date.fromisoformat(problem["today"])
    vindex = {v: i for i, v in enumerate(pool.volunteer_ids)}
    rindex = {r: i for i, r in enumerate(pool.resident_ids)}
    vi, ri, days, ended, first = _matches(problem, vindex, rindex, today)
    if ended.sum() < MIN_ENDED:
        raise TooLittleHistory(
            f"too little history to learn from: {int(ended.sum())} ended match(es), at least {MIN_ENDED} needed"
        )
    km = geo.indexed_distance_km(pool.vols.points, pool.res.points, vi, ri)
    raw = lasting.raw_features(pool.vols, pool.res, vi, ri, km)
    fit, model = _fit(raw, days, ended)
    c_values, predicted = _cross_validated(raw, days, ended)
    c_index = float(np.mean(c_values))
    half = float(stats.t.ppf(0.975, len(c_values) - 1) * np.std(c_values, ddof=1) / np.sqrt(len(c_values)))
    digest = hashlib.sha256(
        json.dumps([np.round(raw, 6).tolist(), days.tolist(), ended.tolist()], allow_nan=True).encode()
    ).hexdigest()
    z = fit.coef / fit.se
    terms = [
        {
            "name": name,
            "coef": round(float(b), 6),
            "se": round(float(s), 6),
            "hazard_ratio": round(float(np.exp(b)), 6),
            "ci_low": round(float(np.exp(b - 1.959964 * s)), 6),
            "ci_high": round(float(np.exp(b + 1.959964 * s)), 6),
            "p": float(f"{special.erfc(abs(q) / np.sqrt(2)):.4g}"),
            "mean": round(float(c), 4),
        }
        for name, b, s, q, c in zip(lasting.FEATURES, fit.coef, fit.se, z, fit.center)
    ]
    return {
        "model": {
            "kind": lasting.MODEL_KIND,
            "format": lasting.MODEL_VERSION,
            "version": digest[:12],
            "data_hash": digest,
            "features": list(lasting.FEATURES),
            "horizon_days": lasting.HORIZON_DAYS,
            "coef": fit.coef.tolist(),
            "center": fit.center.tolist(),
            "baseline_cumhaz": model.baseline_cumhaz,
            "impute_volunteer_commitment": model.impute[0],
            "impute_resident_commitment": model.impute[1],
            "penalty": PENALTY,
        },
        "terms": terms,
        "c_index": round(c_index, 4),
        "c_index_interval": [round(c_index - half, 4), round(c_index + half, 4)],
        "n": len(days),
        "events": int(ended.sum()),
        "period": {"from": first.isoformat(), "to": today.isoformat()},
        "baseline_survival": round(survival.kaplan_meier(days, ended, lasting.HORIZON_DAYS), 4),
        "calibration": _calibration(predicted, days, ended),
    }
