"""`learn`: the Cox fit against statsmodels, recovery of a chosen hazard, refusal on little history,
and the solver using the model (durability per pair, hard rules and max-matched untouched, blind
to gender and age)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight

from demo import synthetic
from matching import engine, lasting, learning, survival
from tests.matching.records import problem, resident, volunteer
from tests.matching.test_input_and_cli import run_cli


def _data(seed: int, n: int = 800):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)) * [1, 3, 0.5, 2] + [0, 5, 1, -2]
    x[:, 2] = x[:, 2] > 1  # a binary covariate
    beta = np.array([0.4, -0.1, 0.8, 0.05])
    time = np.round(rng.exponential(np.exp(-(x - x.mean(axis=0)) @ beta)) * 100)  # rounded: many ties
    censor = np.round(rng.uniform(0, 250, n))
    return x, np.minimum(time, censor), time <= censor


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cox_fit_agrees_with_statsmodels(seed):
    x, time, event = _data(seed)
    ours = survival.fit_cox(x, time, event, penalty=0.0)
    reference = PHReg(time, x, status=event.astype(float), ties="breslow").fit()
    assert np.abs(ours.coef - reference.params).max() < 1e-4
    assert np.abs(ours.se - reference.bse).max() < 1e-4
    assert ours.loglik == pytest.approx(reference.llf, abs=1e-6)


def test_penalty_shrinks_towards_zero_and_fades_with_data():
    x, time, event = _data(4, n=300)
    plain = survival.fit_cox(x, time, event, penalty=0.0)
    light = survival.fit_cox(x, time, event, penalty=learning.PENALTY)
    heavy = survival.fit_cox(x, time, event, penalty=100.0)
    assert np.linalg.norm(heavy.coef) < np.linalg.norm(light.coef) < np.linalg.norm(plain.coef)
    x, time, event = _data(4, n=6000)
    assert np.abs(survival.fit_cox(x, time, event, penalty=learning.PENALTY).coef
                  - survival.fit_cox(x, time, event, penalty=0.0).coef).max() < 2e-3


def test_kaplan_meier_and_concordance_against_references():
    x, time, event = _data(5, n=300)
    curve = SurvfuncRight(time, event.astype(float))
    for t in (10.0, 57.0, 120.0):
        k = np.searchsorted(curve.surv_times, t, side="right")
        expected = curve.surv_prob[k - 1] if k else 1.0
        assert survival.kaplan_meier(time, event, t) == pytest.approx(expected, abs=1e-12)
    risk = x @ [0.4, -0.1, 0.8, 0.05]
    good = total = 0.0
    for i in range(len(time)):  # Harrell's definition, pair by pair
        if not event[i]:
            continue
        for j in range(len(time)):
            if time[j] > time[i]:
                total += 1
                good += 1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0
    assert survival.concordance(time, event, risk, block=37) == pytest.approx(good / total, abs=1e-12)


@pytest.mark.parametrize("seed", [11, 12])
def test_learn_recovers_the_chosen_hazard(seed):
    out = learning.learn(synthetic.history(seed, 2000))
    assert out["n"] >= 1900 and out["events"] > 800
    for term, true in zip(out["terms"], synthetic.TRUE_COEF):
        assert abs(term["coef"] - true) < 3.5 * term["se"], term
        assert term["hazard_ratio"] == pytest.approx(np.exp(term["coef"]), rel=1e-5)
        assert term["ci_low"] < term["hazard_ratio"] < term["ci_high"]
    assert [t["name"] for t in out["terms"]] == list(lasting.FEATURES)
    # Out of sample, and as good as the true hazard ranks the same matches (within noise).
    history = synthetic.history(seed, 2000)
    vindex = {v["id"]: i for i, v in enumerate(history["volunteers"])}
    rindex = {r["id"]: i for i, r in enumerate(history["residents"])}
    vi = np.array([vindex[m["volunteer"]] for m in history["matches"]])
    ri = np.array([rindex[m["resident"]] for m in history["matches"]])
    true_risk = synthetic.true_log_hazard(synthetic.features(history, vi, ri))
    learned = learning.learn(history)
    days, ended = _durations(history)
    true_c = survival.concordance(days, ended, true_risk)
    assert learned["c_index_interval"][0] < learned["c_index"] < learned["c_index_interval"][1]
    assert 0.6 < learned["c_index"] and abs(learned["c_index"] - true_c) < 0.03
    # Calibration: predicted 26-week survival is close to what Kaplan-Meier observes per quintile.
    assert len(learned["calibration"]) == 5 and sum(g["n"] for g in learned["calibration"]) == learned["n"]
    predicted = [g["predicted"] for g in learned["calibration"]]
    assert predicted == sorted(predicted)
    assert all(abs(g["predicted"] - g["observed"]) < 0.1 for g in learned["calibration"])


def _durations(history):
    import datetime as dt
    today = dt.date.fromisoformat(history["today"])
    days, ended = [], []
    for m in history["matches"]:
        stop = today if m["ended"] is None else dt.date.fromisoformat(m["ended"])
        days.append((stop - dt.date.fromisoformat(m["started"])).days)
        ended.append(m["ended"] is not None)
    return np.array(days, float), np.array(ended)


def test_learn_is_deterministic_through_the_cli(tmp_path):
    source = tmp_path / "history.json"
    source.write_text(json.dumps(synthetic.history(3, 400)))
    first = run_cli("learn", "--input", str(source), stdin="")
    second = run_cli("learn", stdin=source.read_text())
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert json.loads(first.stdout)["model"]["data_hash"]


def test_too_little_history_is_refused_with_nothing_on_stdout():
    history = synthetic.history(4, 300)
    ended = [m for m in history["matches"] if m["ended"]]
    keep = ended[: learning.MIN_ENDED - 1]
    history["matches"] = keep + [m for m in history["matches"] if not m["ended"]]
    done = run_cli("learn", stdin=json.dumps(history))
    assert done.returncode == 3
    assert done.stdout == ""
    assert "too little history" in done.stderr and "29 ended" in done.stderr
    history["matches"] = ended[: learning.MIN_ENDED] + history["matches"][len(keep):]
    assert run_cli("learn", stdin=json.dumps(history)).returncode == 0


@pytest.mark.parametrize("change, message", [
    (lambda h: h["matches"].append({"volunteer": "nobody", "resident": "r0", "started": "2026-01-01", "ended": None}),
     "unknown volunteer id 'nobody'"),
    (lambda h: h["matches"][0].update(started="2027-01-01"), "after today"),
    (lambda h: h["matches"][0].update(started="2026-05-01", ended="2026-04-01"), "before started"),
    (lambda h: h["volunteers"][0].update(commitment_months=7.5), "commitment_months"),
    (lambda h: h.pop("matches"), "matches must be a list"),
])
def test_bad_history_is_refused(change, message):
    history = synthetic.history(5, 120)
    change(history)
    done = run_cli("learn", stdin=json.dumps(history))
    assert done.returncode == 2 and done.stdout == ""
    assert message in done.stderr


@pytest.fixture(scope="module")
def model() -> dict:
    return learning.learn(synthetic.history(7, 1200))["model"]


def _pool(seed: int, n_vol: int = 150, n_res: int = 130) -> dict:
    rng = np.random.default_rng(seed)
    return {"today": "2026-11-30", "volunteers": synthetic.people(rng, n_vol, "v", True),
            "residents": synthetic.people(rng, n_res, "r", False)}


def test_solve_with_a_model_names_each_pairs_durability(model):
    pool = _pool(1)
    out = engine.solve({**pool, "settings": {"model": model}})
    assert out["pairs"]
    vindex = {v["id"]: i for i, v in enumerate(pool["volunteers"])}
    rindex = {r["id"]: i for i, r in enumerate(pool["residents"])}
    vi = np.array([vindex[p["volunteer"]] for p in out["pairs"]])
    ri = np.array([rindex[p["resident"]] for p in out["pairs"]])
    parsed = lasting.Model.from_dict(model)
    expected = parsed.probability(lasting.impute(synthetic.features(pool, vi, ri), *parsed.impute))
    got = np.array([p["durability"] for p in out["pairs"]])
    assert np.abs(got - expected).max() <= 5e-4
    for pair in out["pairs"]:
        assert set(pair["parts"]) == {"durability", "waiting"}
        assert pair["score"] == pytest.approx(sum(pair["parts"].values()), abs=0.02)
        assert f"expected chance this lasts 26 weeks: {pair['durability']:.0%}" in pair["reasons"]
        assert 1 <= len(pair["durability_factors"]) <= 3
        for factor in pair["durability_factors"]:
            assert factor["feature"] in lasting.FEATURES and factor["effect"] in ("raises", "lowers")
    # With the objective "weights" the model only annotates: the same pairs as without it.
    plain = engine.solve(pool)
    annotated = engine.solve({**pool, "settings": {"model": model, "objective": "weights"}})
    assert [(p["volunteer"], p["resident"]) for p in annotated["pairs"]] == [
        (p["volunteer"], p["resident"]) for p in plain["pairs"]]
    assert all("durability" in p for p in annotated["pairs"])
    assert all("durability" not in p for p in plain["pairs"])


def test_the_model_keeps_max_matched_and_raises_expected_durability(model):
    for seed in (2, 3, 4):
        pool = _pool(seed, 120, 160)  # more residents than places: who gets matched matters
        plain = engine.solve({**pool, "settings": {"model": model, "objective": "weights"}})
        learned = engine.solve({**pool, "settings": {"model": model, "weights": {"waiting": 0}}})
        assert learned["stats"]["matched"] == plain["stats"]["matched"]
        assert sum(p["durability"] for p in learned["pairs"]) > sum(p["durability"] for p in plain["pairs"])


def test_a_small_case_by_hand(model):
    """Two volunteers for one resident: the model prefers the one who shares the intended length."""
    r = {**resident("r1"), "commitment_months": 12, "interests": ["wandelen"], "availability": [0, 1]}
    near = {**volunteer("near", lat=r["lat"] + 0.003), "commitment_months": 3, "interests": ["wandelen"],
            "availability": [0, 1]}
    agreeing = {**volunteer("agreeing", lat=r["lat"] + 0.006), "commitment_months": 12,
                "interests": ["wandelen"], "availability": [0, 1]}
    case = problem([near, agreeing], [r])
    assert engine.solve(case)["pairs"][0]["volunteer"] == "near"
    out = engine.solve({**case, "settings": {"model": model}})
    assert out["pairs"][0]["volunteer"] == "agreeing"
    assert any(f["feature"] == "commitment_agree" and f["effect"] == "raises"
               for f in out["pairs"][0]["durability_factors"])
    costs = engine.cost_matrix({**case, "settings": {"model": model}})
    assert costs["cost"][0][1] == pytest.approx(1 - out["pairs"][0]["score"] / 100, abs=1e-4)


def test_gender_and_birth_year_do_not_move_proposals(model):
    """People without preferences: shuffling gender and birth year among them changes nothing."""
    pool = _pool(5)
    before = engine.solve({**pool, "settings": {"model": model}})
    rng = np.random.default_rng(0)
    shuffled = copy.deepcopy(pool)
    for side in ("volunteers", "residents"):
        genders = [p["gender"] for p in shuffled[side]]
        years = [p["birth_year"] for p in shuffled[side]]
        rng.shuffle(genders)
        rng.shuffle(years)
        for person, g, y in zip(shuffled[side], genders, years):
            person["gender"], person["birth_year"] = g, y
    assert [p["gender"] for p in shuffled["volunteers"]] != [p["gender"] for p in pool["volunteers"]]
    after = engine.solve({**shuffled, "settings": {"model": model}})
    before["stats"].pop("seconds")
    after["stats"].pop("seconds")
    assert after == before


def test_no_protected_trait_is_a_feature():
    for word in ("gender", "age", "birth", "language", "target", "origin", "health"):
        assert not any(word in name for name in lasting.FEATURES)


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(kind="other"), "unknown model kind"),
    (lambda m: m.update(features=["gender"] + m["features"][1:]), "settings.model.features"),
    (lambda m: m.update(coef=m["coef"][:-1]), "settings.model.coef"),
    (lambda m: m.update(baseline_cumhaz=-1), "baseline_cumhaz"),
])
def test_a_bad_model_is_refused(model, change, message):
    bad = copy.deepcopy(model)
    change(bad)
    with pytest.raises(ValueError, match=message):
        engine.solve({**_pool(6, 10, 10), "settings": {"model": bad}})
    with pytest.raises(ValueError, match="needs settings.model"):
        engine.solve({**_pool(6, 10, 10), "settings": {"objective": "durability"}})
    with pytest.raises(ValueError, match="unknown weight 'interests' with the objective 'durability'"):
        engine.solve({**_pool(6, 10, 10), "settings": {"model": model, "weights": {"interests": 3}}})
