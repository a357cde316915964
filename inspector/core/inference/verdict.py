"""The verdict policy: PASS, FAIL or REVIEW for one classified image.

PASS when the good class wins with at least its threshold; FAIL when a defect class does;
REVIEW otherwise, and whenever the out-of-distribution score says the image looks unlike the
training data (a new defect, a lighting change, a wrong camera), however confident the model is.
Thresholds and the OOD threshold are fitted on the validation split when a model is trained
and stored in its checkpoint; the workspace settings override them per class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from inspector.config import VerdictConfig
from inspector.core.errors import ConfigError


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    REVIEW = "REVIEW"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    label: str
    confidence: float
    threshold: float
    ood_score: float | None
    reason: str


def ood_score(logits: np.ndarray, method: str, temperature: float = 1.0) -> np.ndarray:
    """Higher means less like the training data. energy: -T*logsumexp(z/T); max_logit: -max z."""
    logits = np.atleast_2d(np.asarray(logits, dtype=np.float64))
    if method == "max_logit":
        return -logits.max(axis=1)
    scaled = logits / temperature
    peak = scaled.max(axis=1, keepdims=True)
    return -temperature * (peak[:, 0] + np.log(np.exp(scaled - peak).sum(axis=1)))


class VerdictPolicy:
    def __init__(self, classes: Sequence[str], config: VerdictConfig,
                 fitted: dict | None = None, temperature: float = 1.0) -> None:
        """`fitted` is the checkpoint's verdict defaults: {"thresholds": {...},
        "ood_method": ..., "ood_threshold": ...}; `config` overrides them where it says."""
        self.classes = list(classes)
        if config.good_class not in self.classes:
            raise ConfigError(
                f"The good class '{config.good_class}' (live.verdict.good_class) is not one of "
                f"the model's classes: {', '.join(self.classes)}."
            )
        unknown = sorted(set(config.thresholds) - set(self.classes))
        if unknown:
            raise ConfigError(f"live.verdict.thresholds names unknown classes: {unknown}.")
        fitted = fitted or {}
        base = fitted.get("thresholds", {})
        self.thresholds = {c: float(config.thresholds.get(c, base.get(c, config.default_threshold)))
                           for c in self.classes}
        self.good = config.good_class
        self.temperature = temperature
        self.ood_method = config.ood_method
        same_method = fitted.get("ood_method") == config.ood_method
        self.ood_threshold = config.ood_threshold if config.ood_threshold is not None else (
            fitted.get("ood_threshold") if same_method else None)

    def decide(self, probabilities: np.ndarray, logits: np.ndarray) -> Decision:
        best = int(np.argmax(probabilities))
        label, confidence = self.classes[best], float(probabilities[best])
        threshold = self.thresholds[label]
        score = None
        if self.ood_method != "none":
            score = float(ood_score(logits, self.ood_method, self.temperature)[0])
            if self.ood_threshold is not None and score > self.ood_threshold:
                return Decision(Verdict.REVIEW, label, confidence, threshold, score,
                                "looks unlike the training data")
        if confidence < threshold:
            return Decision(Verdict.REVIEW, label, confidence, threshold, score,
                            f"unsure: {label} at {confidence:.2f} < {threshold:.2f}")
        verdict = Verdict.PASS if label == self.good else Verdict.FAIL
        return Decision(verdict, label, confidence, threshold, score, "")


def fit_thresholds(probabilities: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                   precision: float = 0.98, floor: float = 0.5, ceiling: float = 0.99,
                   min_support: int = 5) -> dict[str, float]:
    """Per class, the lowest confidence at which its predictions on val reach `precision`.

    Classes with fewer than `min_support` predictions keep `floor`: too little evidence to
    tune them. Results are clipped to [floor, ceiling].
    """
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    result = {}
    for index, name in enumerate(classes):
        mine = predicted == index
        if mine.sum() < min_support:
            result[name] = floor
            continue
        order = np.argsort(-confidence[mine])
        correct = (labels[mine] == index)[order]
        running = np.cumsum(correct) / np.arange(1, len(correct) + 1)
        ok = np.flatnonzero(running >= precision)
        threshold = float(confidence[mine][order][ok[-1]]) if len(ok) else ceiling
        result[name] = float(np.clip(threshold, floor, ceiling))
    return result


def fit_ood_threshold(logits: np.ndarray, method: str, temperature: float = 1.0,
                      quantile: float = 0.995) -> float | None:
    """The score that `quantile` of in-distribution (val) images stay below."""
    if method == "none" or len(logits) == 0:
        return None
    return float(np.quantile(ood_score(logits, method, temperature), quantile))
