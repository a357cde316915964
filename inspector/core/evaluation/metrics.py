"""Classification metrics from true and predicted class indices (numpy only).

Definitions are scikit-learn's with ``zero_division=0``: precision of a class never predicted is
0, recall of a class with no true samples is 0, F1 is 0 when precision and recall are both 0.
Macro-F1 is the unweighted mean of F1 over the classes that occur in ``y_true`` or in
``y_pred``; a class absent from both has no F1 and is left out of the mean (as scikit-learn's
``f1_score(average="macro")`` does when it is not given ``labels``). A class that is in the
data but never predicted counts with F1 0. With no samples at all, accuracy and macro-F1 are 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "TOP_CONFUSIONS",
    "ClassMetrics",
    "Metrics",
    "compute_metrics",
    "confusion_matrix",
    "macro_f1",
]

TOP_CONFUSIONS = 10
"""`Metrics.top_confusions` holds at most this many pairs."""

ArrayLike = Sequence[int] | np.ndarray


@dataclass
class ClassMetrics:
    name: str
    precision: float
    recall: float
    f1: float
    support: int  # true samples of the class

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "precision": self.precision, "recall": self.recall,
                "f1": self.f1, "support": self.support}


@dataclass
class Metrics:
    classes: list[str]
    accuracy: float
    macro_f1: float
    per_class: list[ClassMetrics]
    confusion: np.ndarray  # int64 [true, predicted]
    top_confusions: list[tuple[str, str, int]]  # (true, predicted, count), most frequent first

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types only: ready for `json.dumps`."""
        return {
            "classes": list(self.classes),
            "accuracy": float(self.accuracy),
            "macro_f1": float(self.macro_f1),
            "per_class": [c.to_dict() for c in self.per_class],
            "confusion": np.asarray(self.confusion, dtype=np.int64).tolist(),
            "top_confusions": [{"true": t, "predicted": p, "count": int(n)}
                               for t, p, n in self.top_confusions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metrics:
        """The inverse of `to_dict` (reading a saved report back)."""
        return cls(
            classes=list(data["classes"]),
            accuracy=float(data["accuracy"]),
            macro_f1=float(data["macro_f1"]),
            per_class=[ClassMetrics(name=str(c["name"]), precision=float(c["precision"]),
                                    recall=float(c["recall"]), f1=float(c["f1"]),
                                    support=int(c["support"])) for c in data["per_class"]],
            confusion=np.asarray(data["confusion"], dtype=np.int64).reshape(
                len(data["classes"]), len(data["classes"])),
            top_confusions=[(str(c["true"]), str(c["predicted"]), int(c["count"]))
                            for c in data["top_confusions"]],
        )


def _labels(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, not {num_classes!r}")
    true = np.asarray(y_true).reshape(-1)
    pred = np.asarray(y_pred).reshape(-1)
    if true.shape != pred.shape:
        raise ValueError(f"y_true has {true.size} labels but y_pred has {pred.size}")
    for name, values in (("y_true", true), ("y_pred", pred)):
        if values.size == 0:
            continue
        integral = np.issubdtype(values.dtype, np.integer) or (
            np.issubdtype(values.dtype, np.floating) and bool(np.all(values == np.round(values))))
        if not integral:
            raise ValueError(f"{name} must hold class indices (integers)")
        if values.min() < 0 or values.max() >= num_classes:
            raise ValueError(f"{name} holds a class index outside 0..{num_classes - 1}")
    return true.astype(np.int64), pred.astype(np.int64)


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """int64 [num_classes, num_classes]: entry [t, p] counts samples of class t predicted p."""
    true, pred = _labels(y_true, y_pred, num_classes)
    n = int(num_classes)
    return np.bincount(true * n + pred, minlength=n * n).reshape(n, n).astype(np.int64)


def _per_class(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """precision, recall, f1 (float64) and a mask of the classes present in truth or
    prediction, from a confusion matrix."""
    tp = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1).astype(np.float64)
    predicted = confusion.sum(axis=0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        total = precision + recall
        f1 = np.where(total > 0, 2 * precision * recall / total, 0.0)
    present = (support > 0) | (predicted > 0)
    return precision, recall, f1, present


def _macro(f1: np.ndarray, present: np.ndarray) -> float:
    return float(f1[present].mean()) if present.any() else 0.0


def macro_f1(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> float:
    """Macro-averaged F1 over the classes present in y_true or y_pred (see the module doc).

    The fast path for per-epoch validation: one bincount, no per-class objects.
    """
    _, _, f1, present = _per_class(confusion_matrix(y_true, y_pred, num_classes))
    return _macro(f1, present)


def _top_confusions(confusion: np.ndarray, classes: Sequence[str],
                    limit: int = TOP_CONFUSIONS) -> list[tuple[str, str, int]]:
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    true_idx, pred_idx = np.nonzero(off)
    counts = off[true_idx, pred_idx]
    # Most frequent first; ties in (true, predicted) index order, so the list is deterministic.
    order = np.lexsort((pred_idx, true_idx, -counts))[:limit]
    return [(classes[true_idx[i]], classes[pred_idx[i]], int(counts[i])) for i in order]


def compute_metrics(y_true: ArrayLike, y_pred: ArrayLike, classes: Sequence[str]) -> Metrics:
    """Accuracy, macro-F1, per-class precision/recall/F1/support, the confusion matrix and
    the most frequent confusions, for class indices into `classes`."""
    classes = [str(c) for c in classes]
    if not classes:
        raise ValueError("classes is empty")
    confusion = confusion_matrix(y_true, y_pred, len(classes))
    precision, recall, f1, present = _per_class(confusion)
    support = confusion.sum(axis=1)
    total = int(support.sum())
    accuracy = float(np.trace(confusion) / total) if total else 0.0
    per_class = [ClassMetrics(name=name, precision=float(precision[i]), recall=float(recall[i]),
                              f1=float(f1[i]), support=int(support[i]))
                 for i, name in enumerate(classes)]
    return Metrics(classes=classes, accuracy=accuracy, macro_f1=_macro(f1, present),
                   per_class=per_class, confusion=confusion,
                   top_confusions=_top_confusions(confusion, classes))
