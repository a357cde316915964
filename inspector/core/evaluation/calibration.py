"""Confidence calibration: softmax with temperature, ECE, reliability bins, temperature fit.

Binning follows Guo et al. (2017), "On Calibration of Modern Neural Networks": the confidence
of a prediction is its top probability, and it falls in bin ``b`` of ``bins`` equal-width bins
when ``b / bins < confidence <= (b + 1) / bins`` (a confidence of exactly 0 goes in the first).
ECE is the mean over samples of ``|accuracy - confidence|`` of their bin.

numpy only at import; `fit_temperature` imports scipy when called.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

__all__ = [
    "TEMPERATURE_RANGE",
    "expected_calibration_error",
    "fit_temperature",
    "negative_log_likelihood",
    "reliability_bins",
    "softmax",
]

log = logging.getLogger(__name__)

TEMPERATURE_RANGE = (0.05, 20.0)
"""`fit_temperature` searches this interval (on a log scale)."""


def _logits(logits: np.ndarray) -> np.ndarray:
    array = np.asarray(logits, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"expected logits of shape [samples, classes], got {array.shape}")
    return array


def _log_softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    if not temperature > 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a positive number, not {temperature!r}")
    scaled = logits / temperature
    shifted = scaled - scaled.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Probabilities of `logits / temperature` along the last axis, without overflow.

    Float32 input gives float32 output; anything else gives float64.
    """
    array = np.asarray(logits)
    dtype = np.float32 if array.dtype == np.float32 else np.float64
    if array.size == 0:
        return array.astype(dtype)
    return np.exp(_log_softmax(array.astype(np.float64), float(temperature))).astype(dtype)


def _targets(y_true: np.ndarray, n: int, num_classes: int) -> np.ndarray:
    true = np.asarray(y_true).reshape(-1)
    if true.size != n:
        raise ValueError(f"{n} rows of scores but {true.size} labels")
    true = true.astype(np.int64)
    if true.size and (true.min() < 0 or true.max() >= num_classes):
        raise ValueError(f"y_true holds a class index outside 0..{num_classes - 1}")
    return true


def negative_log_likelihood(logits: np.ndarray, y_true: np.ndarray,
                            temperature: float = 1.0) -> float:
    """Mean cross-entropy of `logits / temperature` against the true classes (0 if empty)."""
    array = _logits(logits)
    true = _targets(y_true, array.shape[0], array.shape[1])
    if true.size == 0:
        return 0.0
    log_probs = _log_softmax(array, float(temperature))
    return float(-log_probs[np.arange(true.size), true].mean())


def _binned(probs: np.ndarray, y_true: np.ndarray,
            bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bin: sample count, sum of confidences, number correct."""
    if isinstance(bins, bool) or int(bins) != bins or bins < 1:
        raise ValueError(f"bins must be a positive integer, not {bins!r}")
    bins = int(bins)
    array = np.asarray(probs, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"expected probabilities of shape [samples, classes], got {array.shape}")
    true = _targets(y_true, array.shape[0], array.shape[1])
    if true.size == 0:
        zeros = np.zeros(bins)
        return zeros.astype(np.int64), zeros, zeros
    confidence = array.max(axis=1)
    correct = (array.argmax(axis=1) == true).astype(np.float64)
    index = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    count = np.bincount(index, minlength=bins)
    conf_sum = np.bincount(index, weights=confidence, minlength=bins)
    correct_sum = np.bincount(index, weights=correct, minlength=bins)
    return count, conf_sum, correct_sum


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray, bins: int = 15) -> float:
    """ECE of probabilities [samples, classes] (top-label, equal-width bins); 0 if empty."""
    count, conf_sum, correct_sum = _binned(probs, y_true, bins)
    total = count.sum()
    if total == 0:
        return 0.0
    return float(np.abs(correct_sum - conf_sum).sum() / total)


def reliability_bins(probs: np.ndarray, y_true: np.ndarray,
                     bins: int = 15) -> list[dict[str, Any]]:
    """One dict per bin, all `bins` of them in order, for a reliability diagram.

    Keys: ``lower`` and ``upper`` (the bin's edges), ``count``, ``confidence`` (mean top
    probability) and ``accuracy`` (fraction correct); the last two are None in an empty bin.
    """
    count, conf_sum, correct_sum = _binned(probs, y_true, bins)
    edges = np.linspace(0.0, 1.0, len(count) + 1)
    result = []
    for b, n in enumerate(count.tolist()):
        result.append({
            "lower": float(edges[b]),
            "upper": float(edges[b + 1]),
            "count": int(n),
            "confidence": float(conf_sum[b] / n) if n else None,
            "accuracy": float(correct_sum[b] / n) if n else None,
        })
    return result


def fit_temperature(logits: np.ndarray, y_true: np.ndarray) -> float:
    """The temperature T > 0 that minimises the NLL of ``softmax(logits / T)`` on held-out data.

    Searched as log T on `TEMPERATURE_RANGE` by bounded Brent (scipy). Returns 1.0 for empty
    input, and 1.0 when the best T found is no better than 1.0 (so it never makes NLL worse).
    T > 1 softens over-confident predictions, T < 1 sharpens under-confident ones; the argmax,
    and so accuracy, never changes.
    """
    array = _logits(logits)
    true = _targets(y_true, array.shape[0], array.shape[1])
    if true.size == 0:
        return 1.0
    if not np.isfinite(array).all():
        raise ValueError("logits must be finite to fit a temperature")
    from scipy.optimize import minimize_scalar

    rows = np.arange(true.size)

    def nll(log_t: float) -> float:
        return float(-_log_softmax(array, math.exp(log_t))[rows, true].mean())

    low, high = (math.log(t) for t in TEMPERATURE_RANGE)
    result = minimize_scalar(nll, bounds=(low, high), method="bounded",
                             options={"xatol": 1e-4})
    best = math.exp(float(result.x))
    if not result.success or not nll(float(result.x)) < nll(0.0):
        log.debug("temperature fit found nothing better than T=1 (%s)", result.message)
        return 1.0
    log.debug("fitted temperature %.4f: NLL %.4f -> %.4f", best, nll(0.0), result.fun)
    return best
