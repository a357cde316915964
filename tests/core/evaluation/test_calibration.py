"""Calibration: softmax, ECE, reliability bins, temperature scaling."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.core.evaluation.calibration import (
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability_bins,
    softmax,
)


def _calibrated(n: int, classes: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels drawn from softmax(logits): calibrated by construction."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 2.0, (n, classes))
    probs = softmax(logits)
    labels = np.array([rng.choice(classes, p=p) for p in probs])
    return logits, labels


def test_softmax_sums_to_one_and_is_stable():
    logits = np.array([[1000.0, 1000.0, -1000.0], [0.0, 1.0, 2.0], [-1e6, 0.0, 1e6]])
    probs = softmax(logits)
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs[0], [0.5, 0.5, 0.0], atol=1e-12)
    expected = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    np.testing.assert_allclose(probs[1], expected)


def test_softmax_temperature_and_dtypes():
    logits = np.array([[0.0, 2.0]], dtype=np.float32)
    hot, cold = softmax(logits, 0.5), softmax(logits, 10.0)
    assert hot.dtype == np.float32
    assert hot[0, 1] > softmax(logits)[0, 1] > cold[0, 1] > 0.5
    np.testing.assert_allclose(softmax(logits, 2.0), softmax(logits / 2.0), rtol=1e-6)
    assert softmax(np.array([1, 2, 3])).dtype == np.float64  # 1-D works too
    with pytest.raises(ValueError, match="temperature"):
        softmax(logits, 0.0)
    assert softmax(np.zeros((0, 4))).shape == (0, 4)


def test_ece_of_perfectly_calibrated_bins_is_zero():
    probs, labels = [], []
    for confidence in (0.6, 0.7, 0.8, 0.9, 1.0):
        correct = round(100 * confidence)
        probs += [[confidence, 1 - confidence]] * 100
        labels += [0] * correct + [1] * (100 - correct)
    ece = expected_calibration_error(np.array(probs), np.array(labels), bins=10)
    assert ece == pytest.approx(0.0, abs=1e-12)


def test_ece_of_over_confident_predictions():
    probs = np.array([[0.99, 0.01]] * 100)
    labels = np.array([0] * 60 + [1] * 40)
    assert expected_calibration_error(probs, labels) == pytest.approx(0.39)


def test_ece_hand_computed():
    # bins=4: confidences 0.55 and 0.6 -> (0.5, 0.75] (1 right, 1 wrong: |0.5 - 0.575|);
    # 0.9 and 0.95 -> (0.75, 1] (both right: |1 - 0.925|).
    probs = np.array([[0.55, 0.45], [0.4, 0.6], [0.9, 0.1], [0.05, 0.95]])
    labels = np.array([0, 0, 0, 1])
    expected = (2 * abs(0.5 - 0.575) + 2 * abs(1.0 - 0.925)) / 4
    assert expected_calibration_error(probs, labels, bins=4) == pytest.approx(expected)
    # bins=2: all four in (0.5, 1], mean confidence 0.75 = accuracy 0.75.
    assert expected_calibration_error(probs, labels, bins=2) == pytest.approx(0.0)


def test_ece_empty_and_bad_shapes():
    assert expected_calibration_error(np.zeros((0, 3)), np.zeros(0, dtype=int)) == 0.0
    with pytest.raises(ValueError, match="labels"):
        expected_calibration_error(np.full((3, 2), 0.5), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="bins"):
        expected_calibration_error(np.full((3, 2), 0.5), np.zeros(3, dtype=int), bins=0)


def test_reliability_bins():
    probs = np.array([[0.55, 0.45], [0.4, 0.6], [0.9, 0.1], [0.05, 0.95]])
    labels = np.array([0, 0, 0, 1])
    rows = reliability_bins(probs, labels, bins=4)
    assert [r["count"] for r in rows] == [0, 0, 2, 2]
    assert rows[0]["confidence"] is None and rows[0]["accuracy"] is None
    assert rows[2] == pytest.approx({"lower": 0.5, "upper": 0.75, "count": 2,
                                     "confidence": 0.575, "accuracy": 0.5})
    assert rows[3]["accuracy"] == 1.0 and rows[3]["upper"] == 1.0
    assert len(reliability_bins(probs, labels)) == 15


def test_fit_temperature_softens_over_confident_logits():
    logits, labels = _calibrated(4000, seed=1)
    sharp = 3.0 * logits  # the same ranking, three times too confident
    temperature = fit_temperature(sharp, labels)
    assert temperature > 1.0
    assert temperature == pytest.approx(3.0, rel=0.15)
    assert negative_log_likelihood(sharp, labels, temperature) < negative_log_likelihood(
        sharp, labels)
    before = expected_calibration_error(softmax(sharp), labels)
    after = expected_calibration_error(softmax(sharp, temperature), labels)
    assert after < before / 2


def test_fit_temperature_sharpens_under_confident_logits():
    logits, labels = _calibrated(4000, seed=2)
    assert fit_temperature(logits / 2.0, labels) == pytest.approx(0.5, rel=0.15)


def test_fit_temperature_is_about_one_on_calibrated_logits():
    logits, labels = _calibrated(4000, seed=3)
    assert fit_temperature(logits, labels) == pytest.approx(1.0, abs=0.1)


def test_fit_temperature_edge_cases():
    assert fit_temperature(np.zeros((0, 3)), np.zeros(0, dtype=int)) == 1.0
    # Constant logits: every temperature gives the same NLL, so nothing beats 1.0.
    assert fit_temperature(np.zeros((10, 3)), np.arange(10) % 3) == 1.0
    # Always right and separable: the fit runs to the sharp end of the range.
    logits = np.array([[2.0, 0.0], [0.0, 2.0]] * 10)
    assert fit_temperature(logits, np.array([0, 1] * 10)) < 0.1
    with pytest.raises(ValueError, match="finite"):
        fit_temperature(np.array([[np.inf, 0.0]]), np.array([0]))
    with pytest.raises(ValueError, match="outside"):
        fit_temperature(np.zeros((2, 3)), np.array([0, 3]))
