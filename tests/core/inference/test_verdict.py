from __future__ import annotations

import numpy as np
import pytest

from inspector.config import VerdictConfig
from inspector.core.errors import ConfigError
from inspector.core.inference.verdict import (
    Verdict,
    VerdictPolicy,
    fit_ood_threshold,
    fit_thresholds,
    ood_score,
)

CLASSES = ["ok", "short", "spur"]


def _decide(policy: VerdictPolicy, probabilities, logits=None):
    probabilities = np.array(probabilities, dtype=np.float64)
    logits = np.log(probabilities) if logits is None else np.array(logits, dtype=np.float64)
    return policy.decide(probabilities, logits)


def test_pass_fail_and_review_by_threshold():
    policy = VerdictPolicy(CLASSES, VerdictConfig(default_threshold=0.6, ood_method="none"))
    assert _decide(policy, [0.9, 0.05, 0.05]).verdict is Verdict.PASS
    assert _decide(policy, [0.1, 0.8, 0.1]).verdict is Verdict.FAIL
    unsure = _decide(policy, [0.5, 0.3, 0.2])
    assert unsure.verdict is Verdict.REVIEW
    assert "unsure" in unsure.reason


def test_per_class_thresholds_override_fitted_defaults():
    fitted = {"thresholds": {"ok": 0.95, "short": 0.5, "spur": 0.5}}
    policy = VerdictPolicy(CLASSES, VerdictConfig(thresholds={"short": 0.9}, ood_method="none"),
                           fitted)
    assert policy.thresholds == {"ok": 0.95, "short": 0.9, "spur": 0.5}
    assert _decide(policy, [0.9, 0.05, 0.05]).verdict is Verdict.REVIEW  # ok below 0.95
    assert _decide(policy, [0.15, 0.85, 0.0]).verdict is Verdict.REVIEW  # short below 0.9


def test_out_of_distribution_frames_go_to_review_however_confident():
    policy = VerdictPolicy(CLASSES, VerdictConfig(ood_method="energy", ood_threshold=-5.0))
    familiar = _decide(policy, [0.98, 0.01, 0.01], logits=[12.0, 8.0, 8.0])
    assert familiar.verdict is Verdict.PASS
    strange = _decide(policy, [0.98, 0.01, 0.01], logits=[1.0, -3.0, -3.0])
    assert strange.verdict is Verdict.REVIEW
    assert "unlike the training data" in strange.reason


def test_unknown_good_class_or_threshold_class_is_a_config_error():
    with pytest.raises(ConfigError, match="good class"):
        VerdictPolicy(["a", "b"], VerdictConfig())
    with pytest.raises(ConfigError, match="unknown classes"):
        VerdictPolicy(CLASSES, VerdictConfig(thresholds={"opne": 0.5}))


def test_fitted_thresholds_reach_the_asked_precision():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    confidence = rng.uniform(0.34, 1.0, 600)
    correct = rng.uniform(0, 1, 600) < confidence  # more confident, more often right
    predicted = np.where(correct, labels, (labels + 1) % 3)
    probabilities = np.full((600, 3), 0.0)
    probabilities[np.arange(600), predicted] = confidence
    thresholds = fit_thresholds(probabilities, labels, CLASSES, precision=0.9)
    for index, name in enumerate(CLASSES):
        kept = (predicted == index) & (confidence >= thresholds[name])
        assert (labels[kept] == index).mean() >= 0.9


def test_ood_threshold_keeps_most_validation_images_in_distribution():
    logits = np.random.default_rng(1).normal(0, 3, (500, 4))
    threshold = fit_ood_threshold(logits, "energy", quantile=0.99)
    assert (ood_score(logits, "energy") <= threshold).mean() >= 0.98
