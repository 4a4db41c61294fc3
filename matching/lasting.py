"""What makes a pair last: the pair features a learned model may use, and its predictions (numpy only).

Only features of the *pair* enter: what the two share, how far apart they live, how long each
means to keep the match going and whether they agree, and how much time they have. Gender, age,
language, target group, origin and health never do; they act only through the preferences people
state themselves, which are hard rules.

An intended commitment is in months; "as long as it works" counts as OPEN_ENDED_MONTHS. An
unknown commitment (a profile from before the question was asked) is imputed with the mean of
the known ones in the training data, and never counts as agreeing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.scoring import People, waiting_similarity

FEATURES = (
    "shared_interests",
    "shared_activities",
    "shared_slots",
    "distance_km",
    "volunteer_commitment_months",
    "resident_commitment_months",
    "commitment_agree",
    "availability_slots",
)
COMMITMENTS = (3, 6, 12, 24)
OPEN_ENDED_MONTHS = 36.0
HORIZON_DAYS = 182  # 26 weeks
MODEL_KIND = "cox-ph"
MODEL_VERSION = 1
_VOL_COMMITMENT = FEATURES.index("volunteer_commitment_months")
_RES_COMMITMENT = FEATURES.index("resident_commitment_months")


def _count(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.bitwise_count(a & b).sum(axis=1).astype(np.float64)


def raw_features(vols: People, res: People, vi: np.ndarray, ri: np.ndarray, km: np.ndarray) -> np.ndarray:
    """(n, len(FEATURES)) per pair; unknown commitments are nan."""
    out = np.empty((len(vi), len(FEATURES)))
    out[:, 0] = _count(vols.interests[vi], res.interests[ri])
    out[:, 1] = _count(vols.activities[vi], res.activities[ri])
    out[:, 2] = np.bitwise_count(vols.slots[vi] & res.slots[ri])
    out[:, 3] = km
    cv, cr = vols.commitment[vi], res.commitment[ri]
    out[:, 4] = cv
    out[:, 5] = cr
    out[:, 6] = cv == cr  # nan never equals
    out[:, 7] = np.minimum(np.bitwise_count(vols.slots[vi]), np.bitwise_count(res.slots[ri]))
    return out


def impute(features: np.ndarray, volunteer_mean: float, resident_mean: float) -> np.ndarray:
    """Unknown commitments replaced by the given means (in place; returns the array)."""
    for column, mean in ((_VOL_COMMITMENT, volunteer_mean), (_RES_COMMITMENT, resident_mean)):
        col = features[:, column]
        col[np.isnan(col)] = mean
    return features


@dataclass(frozen=True)
class Model:
    """A learned model as the solver uses it: P(lasting HORIZON_DAYS) = exp(-H0 * exp((x - centre) . coef))."""

    coef: np.ndarray
    center: np.ndarray
    baseline_cumhaz: float  # at HORIZON_DAYS, at the centre
    impute: tuple[float, float]  # volunteer, resident commitment means
    version: str
    data_hash: str

    @classmethod
    def from_dict(cls, model: object) -> Model:
        """Validate learn's "model" object; ValueError names what is wrong."""
        if not isinstance(model, dict):
            raise ValueError("settings.model must be the object `learn` printed under \"model\"")
        if model.get("kind") != MODEL_KIND or model.get("format") != MODEL_VERSION:
            raise ValueError(
                f"settings.model: unknown model kind {model.get('kind')!r} format {model.get('format')!r} "
                f"(expected {MODEL_KIND!r} format {MODEL_VERSION})"
            )
        if model.get("features") != list(FEATURES):
            raise ValueError(f"settings.model.features must be {list(FEATURES)}")
        if model.get("horizon_days") != HORIZON_DAYS:
            raise ValueError(f"settings.model.horizon_days must be {HORIZON_DAYS}")
        arrays = {}
        for key in ("coef", "center"):
            value = model.get(key)
            if not isinstance(value, list) or len(value) != len(FEATURES) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
            ):
                raise ValueError(f"settings.model.{key} must be {len(FEATURES)} numbers")
            arrays[key] = np.array(value, dtype=np.float64)
            if not np.isfinite(arrays[key]).all():
                raise ValueError(f"settings.model.{key} must be finite numbers")
        numbers = {}
        for key in ("baseline_cumhaz", "impute_volunteer_commitment", "impute_resident_commitment"):
            value = model.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise ValueError(f"settings.model.{key} must be a finite number >= 0")
            numbers[key] = float(value)
        return cls(
            coef=arrays["coef"],
            center=arrays["center"],
            baseline_cumhaz=numbers["baseline_cumhaz"],
            impute=(numbers["impute_volunteer_commitment"], numbers["impute_resident_commitment"]),
            version=str(model.get("version", "")),
            data_hash=str(model.get("data_hash", "")),
        )

    def features(self, vols: People, res: People, vi: np.ndarray, ri: np.ndarray, km: np.ndarray) -> np.ndarray:
        return impute(raw_features(vols, res, vi, ri, km), *self.impute)

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(the pair lasts HORIZON_DAYS) per row of features."""
        return np.exp(-self.baseline_cumhaz * np.exp((features - self.center) @ self.coef))

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per pair and feature, its term in the log hazard against the average pair (> 0 shortens)."""
        return (features - self.center) * self.coef


def score_parts(
    model: Model, vols: People, res: People, vi: np.ndarray, ri: np.ndarray, km: np.ndarray,
    weights: dict[str, float],
) -> dict[str, np.ndarray]:
    """The score with the objective "durability": points for the predicted chance of lasting, and
    the waiting priority as its own policy term."""
    total = sum(weights.values())
    return {
        "durability": 100.0 * weights["durability"] / total * model.probability(model.features(vols, res, vi, ri, km)),
        "waiting": 100.0 * weights["waiting"] / total * waiting_similarity(res, ri),
    }
