"""Evaluating a model on a split: logits in, an EvaluationReport out."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from inspector.core.evaluation.calibration import expected_calibration_error, softmax
from inspector.core.evaluation.metrics import compute_metrics
from inspector.core.evaluation.report import EvaluationReport, top_mistakes


def evaluate_logits(logits: np.ndarray, labels: np.ndarray, paths: list[Path],
                    classes: list[str], temperature: float, split: str, model: str,
                    dataset: str) -> EvaluationReport:
    """Metrics, calibration before and after temperature scaling, and the worst mistakes."""
    if len(labels) == 0:
        logits = np.zeros((0, len(classes)), np.float32)
    metrics = compute_metrics(labels, logits.argmax(1), classes)
    calibrated = softmax(logits, temperature)
    return EvaluationReport(
        split=split, metrics=metrics,
        ece=expected_calibration_error(softmax(logits), labels),
        ece_calibrated=expected_calibration_error(calibrated, labels),
        temperature=temperature, n_images=len(labels), model=model, dataset=dataset,
        mistakes=top_mistakes(paths, labels, calibrated, classes))


def evaluate_checkpoint(model_path: Path, dataset: Any, split: str = "test",
                        device: str = "auto", batch_size: int = 64,
                        stop_event: threading.Event | None = None) -> EvaluationReport:
    """Run a saved model on one split of a dataset (a Dataset, with the classes it was made for)."""
    from inspector.core.errors import DatasetError
    from inspector.core.training.checkpoint import build_model_from_checkpoint, load_checkpoint
    from inspector.core.training.data import collect_splits
    from inspector.core.training.devices import resolve_device
    from inspector.core.training.engine import predict_logits

    checkpoint = load_checkpoint(model_path)
    splits = collect_splits(dataset)
    missing = [c for c in splits.classes if c not in checkpoint.classes]
    if missing:
        raise DatasetError(
            f"The dataset has classes the model does not know: {', '.join(missing)}. The model "
            f"knows {', '.join(checkpoint.classes)}. Retrain to include them."
        )
    # Labels follow the model's class order, whatever subset of classes the dataset has.
    remap = [checkpoint.classes.index(c) for c in splits.classes]
    items = [(path, remap[label]) for path, label in splits.items.get(split, [])]
    if not items:
        raise DatasetError(f"The {split} split of {dataset.root} is empty.")
    torch_device = resolve_device(device)
    model = build_model_from_checkpoint(checkpoint).to(torch_device)
    logits, labels = predict_logits(model, items, checkpoint.input_size, torch_device,
                                    batch_size=batch_size, stop_event=stop_event)
    return evaluate_logits(logits, labels, [p for p, _ in items], checkpoint.classes,
                           float(checkpoint.meta.get("temperature", 1.0)), split,
                           str(checkpoint.path), str(dataset.root))
