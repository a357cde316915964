"""The promotion gate: a candidate model next to the active one, on the same images.

Both models classify the dataset's test split (the split is decided by content hash, so the
images that were test images when the active model was trained are test images still) plus the
operator corrections waiting in the review inbox, with the operator's class as the truth. Per
class, recall and precision are compared over the classes both models know; a class the
candidate adds is reported, not compared. The candidate is refused when any class with at least
`min_support` images loses more than `margin` recall or precision; the engineer can still
promote it with a written reason (registry.promote), which goes to the audit log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inspector.config import InspectorConfig, PromotionConfig
from inspector.core.errors import ConfigError, DatasetError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassComparison:
    name: str
    support: int
    candidate_recall: float
    candidate_precision: float
    baseline_recall: float | None  # None: the active model does not know the class
    baseline_precision: float | None
    worse: bool = False
    note: str = ""

    @property
    def delta_recall(self) -> float | None:
        return (None if self.baseline_recall is None
                else self.candidate_recall - self.baseline_recall)

    @property
    def delta_precision(self) -> float | None:
        return (None if self.baseline_precision is None
                else self.candidate_precision - self.baseline_precision)


@dataclass(frozen=True)
class ChangedImage:
    path: str
    truth: str
    origin: str  # "test" or "inbox"
    baseline_label: str
    baseline_verdict: str
    baseline_confidence: float
    candidate_label: str
    candidate_verdict: str
    candidate_confidence: float

    @property
    def fixed(self) -> bool:
        return self.candidate_label == self.truth and self.baseline_label != self.truth

    @property
    def broken(self) -> bool:
        return self.baseline_label == self.truth and self.candidate_label != self.truth


@dataclass
class GateReport:
    candidate: str
    baseline: str | None
    classes: list[str]  # the candidate's
    margin: float
    n_test: int
    n_inbox: int
    comparisons: list[ClassComparison]
    candidate_confusion: list[list[int]]  # truth x prediction, over `classes`
    baseline_confusion: list[list[int]]  # the same axes; a baseline class outside: dropped
    changed: list[ChangedImage] = field(default_factory=list)
    n_changed: int = 0
    candidate_accuracy: float = 0.0
    baseline_accuracy: float | None = None
    reasons: list[str] = field(default_factory=list)  # why it is refused
    warnings: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.reasons)

    def confusion_difference(self) -> np.ndarray:
        return np.asarray(self.candidate_confusion) - np.asarray(self.baseline_confusion)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["refused"] = self.refused
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateReport:
        data = dict(data)
        data.pop("refused", None)
        data["comparisons"] = [ClassComparison(**c) for c in data["comparisons"]]
        data["changed"] = [ChangedImage(**c) for c in data.get("changed", [])]
        return cls(**data)

    def save(self, path: Path) -> None:
        from inspector.core.atomic import atomic_write_json

        atomic_write_json(path, {"created": time.time(), **self.to_dict()})


GATE_FILE = "gate.json"  # the latest comparison, in the candidate's folder


def load_report(path: Path) -> tuple[GateReport, float] | None:
    """A saved report and when it was made, or None when there is none (or it is unreadable)."""
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        created = float(data.pop("created"))
        return GateReport.from_dict(data), created
    except (OSError, ValueError, TypeError, KeyError):
        return None


@dataclass
class _Predictions:
    labels: list[str]
    confidences: np.ndarray
    verdicts: list[str]


def _predict(model_path: Path, items: list[tuple[Path, int]], config: InspectorConfig,
             device: str, stop_event: threading.Event | None) -> tuple[_Predictions, list[str]]:
    from inspector.core.evaluation.calibration import softmax
    from inspector.core.inference.verdict import VerdictPolicy
    from inspector.core.training.checkpoint import build_model_from_checkpoint, load_checkpoint
    from inspector.core.training.devices import resolve_device
    from inspector.core.training.engine import predict_logits

    checkpoint = load_checkpoint(model_path)
    torch_device = resolve_device(device)
    model = build_model_from_checkpoint(checkpoint).to(torch_device)
    logits, _ = predict_logits(model, [(p, 0) for p, _ in items], checkpoint.input_size,
                               torch_device, stop_event=stop_event)
    temperature = float(checkpoint.meta.get("temperature", 1.0))
    probabilities = softmax(logits, temperature)
    classes = checkpoint.classes
    top = probabilities.argmax(axis=1)
    try:
        policy = VerdictPolicy(classes, config.live.verdict, checkpoint.meta.get("verdict"),
                               temperature)
        verdicts = [policy.decide(p, z).verdict.value for p, z in zip(probabilities, logits,
                                                                      strict=True)]
    except ConfigError as exc:  # e.g. no good class: compare classes only
        log.warning("verdicts not compared: %s", exc)
        verdicts = [""] * len(items)
    return _Predictions([classes[i] for i in top], probabilities.max(axis=1), verdicts), classes


def _per_class(truth: list[str], predicted: list[str], name: str) -> tuple[float, float, int]:
    t = np.asarray(truth)
    p = np.asarray(predicted)
    support = int((t == name).sum())
    hits = int(((t == name) & (p == name)).sum())
    said = int((p == name).sum())
    recall = hits / support if support else 0.0
    precision = hits / said if said else (1.0 if support == 0 else 0.0)
    return recall, precision, support


def _confusion(truth: list[str], predicted: list[str], classes: list[str]) -> list[list[int]]:
    index = {name: i for i, name in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(truth, predicted, strict=True):
        if t in index and p in index:
            matrix[index[t], index[p]] += 1
    return matrix.tolist()


def compare_models(candidate: Path, baseline: Path | None, dataset: Any,
                   config: InspectorConfig, inbox: Any = None, device: str = "auto",
                   on_progress: Callable[[int, int], None] | None = None,
                   stop_event: threading.Event | None = None) -> GateReport:
    """Compare two model folders or checkpoints on `dataset`'s test split plus `inbox`'s
    waiting items (a ReviewInbox or None). `baseline` None: the candidate is the first."""
    from inspector.core.training.data import collect_splits

    gate: PromotionConfig = config.promotion
    candidate, baseline = Path(candidate), Path(baseline) if baseline else None
    splits = collect_splits(dataset)
    test = [(path, splits.classes[label]) for path, label in splits.items.get("test", [])]
    pending = []
    if inbox is not None:
        pending = [(inbox.image_path(item), item.operator_label) for item in inbox.items()]
    items = [(path, 0) for path, _ in test + pending]
    truth = [label for _, label in test + pending]
    origins = ["test"] * len(test) + ["inbox"] * len(pending)
    if not items:
        raise DatasetError("There is nothing to compare the models on: the test split is "
                           "empty and the review inbox holds no corrections.")
    steps = 2 if baseline else 1
    if on_progress:
        on_progress(0, steps)
    cand, classes = _predict(candidate, items, config, device, stop_event)
    if on_progress:
        on_progress(1, steps)
    candidate_name = _name(candidate)
    report = GateReport(candidate_name, None, classes, gate.margin, len(test), len(pending),
                        [], _confusion(truth, cand.labels, classes),
                        [[0] * len(classes) for _ in classes],
                        candidate_accuracy=_accuracy(truth, cand.labels))
    unknown = sorted({t for t in truth if t not in classes})
    if unknown:
        report.warnings.append(f"The candidate does not know {', '.join(unknown)}: those "
                               "images count as mistakes.")
    base = None
    base_classes: list[str] = []
    if baseline is not None:
        base, base_classes = _predict(baseline, items, config, device, stop_event)
        if on_progress:
            on_progress(2, steps)
        report.baseline = _name(baseline)
        report.baseline_confusion = _confusion(truth, base.labels, classes)
        report.baseline_accuracy = _accuracy(truth, base.labels)
    for name in classes:
        recall, precision, support = _per_class(truth, cand.labels, name)
        if base is None or name not in base_classes:
            note = "new class" if base is not None else ""
            report.comparisons.append(ClassComparison(name, support, recall, precision, None,
                                                      None, note=note))
            continue
        b_recall, b_precision, _ = _per_class(truth, base.labels, name)
        drops = []
        if recall < b_recall - gate.margin:
            drops.append(f"recall {b_recall:.3f} → {recall:.3f}")
        if precision < b_precision - gate.margin:
            drops.append(f"precision {b_precision:.3f} → {precision:.3f}")
        worse = bool(drops) and support >= gate.min_support
        note = ""
        if drops and not worse:
            note = f"only {support} images: not enough to refuse"
            report.warnings.append(f"{name}: {', '.join(drops)} on {support} images")
        if worse:
            report.reasons.append(f"{name}: {', '.join(drops)} (margin {gate.margin:.3f})")
        report.comparisons.append(ClassComparison(name, support, recall, precision, b_recall,
                                                  b_precision, worse, note))
    if base is not None:
        changed = [ChangedImage(str(items[i][0]), truth[i], origins[i], base.labels[i],
                                base.verdicts[i], float(base.confidences[i]), cand.labels[i],
                                cand.verdicts[i], float(cand.confidences[i]))
                   for i in range(len(items))
                   if base.labels[i] != cand.labels[i] or base.verdicts[i] != cand.verdicts[i]]
        # the regressions first, then the fixes: what an engineer must look at
        changed.sort(key=lambda c: (not c.broken, not c.fixed, -c.candidate_confidence))
        report.n_changed = len(changed)
        report.changed = changed[:gate.max_changed]
    return report


def _accuracy(truth: list[str], predicted: list[str]) -> float:
    return float(np.mean([t == p for t, p in zip(truth, predicted, strict=True)])) if truth else 0.0


def _name(path: Path) -> str:
    return path.name if path.is_dir() else path.parent.name
