"""Evaluation reports: metrics, calibration and worst mistakes, written as JSON and a PNG.

matplotlib is imported inside `render_confusion_png` and drawn with its Agg canvas directly
(`matplotlib.figure.Figure` + `FigureCanvasAgg`): pyplot and GUI backends are never loaded.
"""

from __future__ import annotations

import io
import logging
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from inspector.core.atomic import atomic_write_bytes, atomic_write_json
from inspector.core.evaluation.metrics import Metrics

__all__ = [
    "MAX_MISTAKES",
    "REPORT_VERSION",
    "EvaluationReport",
    "render_confusion_png",
    "top_mistakes",
    "write_report",
]

log = logging.getLogger(__name__)

MAX_MISTAKES = 200
"""A report keeps at most this many mistakes, the most confident first."""

REPORT_VERSION = 1
"""The "version" key of a report's JSON."""

_DPI = 120


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _number(value: float) -> float | None:
    """A JSON-safe float: NaN and infinities become null."""
    value = float(value)
    return value if math.isfinite(value) else None


def _sorted_mistakes(mistakes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = sorted(mistakes, key=lambda m: -float(m.get("confidence", 0.0)))
    return [dict(m) for m in ordered[:MAX_MISTAKES]]


@dataclass
class EvaluationReport:
    """The evaluation of one model on one split of one dataset.

    `mistakes` are dicts with ``path``, ``true``, ``predicted`` (class names) and ``confidence``
    (the probability given to the wrong class); they are kept sorted, the most confident first,
    and cut to `MAX_MISTAKES`. `created` defaults to now, as an ISO 8601 UTC time.
    """

    split: str
    metrics: Metrics
    ece: float
    ece_calibrated: float
    temperature: float
    n_images: int
    model: str
    dataset: str
    created: str = field(default_factory=_now)
    mistakes: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.mistakes = _sorted_mistakes(self.mistakes)

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types only: ready for `json.dumps`."""
        return {
            "version": REPORT_VERSION,
            "split": self.split,
            "model": self.model,
            "dataset": self.dataset,
            "created": self.created,
            "n_images": int(self.n_images),
            "ece": _number(self.ece),
            "ece_calibrated": _number(self.ece_calibrated),
            "temperature": _number(self.temperature),
            "metrics": self.metrics.to_dict(),
            "mistakes": [
                {"path": str(m["path"]), "true": str(m["true"]),
                 "predicted": str(m["predicted"]), "confidence": _number(m["confidence"])}
                for m in self.mistakes
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """The inverse of `to_dict` (a saved report read back for display)."""

        def number(key: str) -> float:
            value = data.get(key)
            return math.nan if value is None else float(value)

        return cls(split=str(data["split"]), metrics=Metrics.from_dict(data["metrics"]),
                   ece=number("ece"), ece_calibrated=number("ece_calibrated"),
                   temperature=number("temperature"), n_images=int(data["n_images"]),
                   model=str(data["model"]), dataset=str(data["dataset"]),
                   created=str(data["created"]), mistakes=list(data.get("mistakes", [])))


def top_mistakes(paths: Sequence[str | Path], y_true: Sequence[int] | np.ndarray,
                 probs: np.ndarray, classes: Sequence[str],
                 limit: int = MAX_MISTAKES) -> list[dict[str, Any]]:
    """The wrong predictions of `probs` [samples, classes], the most confident first, as
    `EvaluationReport.mistakes` entries (the prediction is the argmax)."""
    probs = np.asarray(probs, dtype=np.float64)
    true = np.asarray(y_true).reshape(-1).astype(np.int64)
    if probs.ndim != 2 or probs.shape[0] != true.size or len(paths) != true.size:
        raise ValueError(f"{len(paths)} paths, {true.size} labels and probabilities of shape "
                         f"{probs.shape} do not match")
    if true.size == 0:
        return []
    predicted = probs.argmax(axis=1)
    confidence = probs[np.arange(true.size), predicted]
    wrong = np.flatnonzero(predicted != true)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:limit]
    return [{"path": str(paths[i]), "true": classes[true[i]], "predicted": classes[predicted[i]],
             "confidence": float(confidence[i])} for i in order]


def render_confusion_png(confusion: np.ndarray, classes: Sequence[str], title: str = "") -> bytes:
    """PNG bytes of a confusion matrix: true classes on rows, predicted on columns, colour
    by the fraction of the row (the true class), raw counts written in each cell.

    Readable up to about 20 classes (the figure grows with the class count, to at most
    about 1700 px a side at 120 dpi).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    counts = np.asarray(confusion, dtype=np.int64)
    n = len(classes)
    if n == 0 or counts.shape != (n, n):
        raise ValueError(f"a confusion matrix of shape {counts.shape} for {n} classes")
    rows = counts.sum(axis=1, keepdims=True)
    fraction = np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)

    side = float(np.clip(1.8 + 0.45 * n, 4.0, 12.0))
    longest = max(len(str(c)) for c in classes)
    margin = min(0.075 * longest, 3.0)  # inches of room for the tick labels
    fig = Figure(figsize=(side + margin + 1.2, side + margin), dpi=_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(fraction, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    colorbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("fraction of the true class")

    ticks = np.arange(n)
    label_size = 10 if n <= 10 else 8 if n <= 20 else 6
    ax.set_xticks(ticks, labels=[str(c) for c in classes], rotation=45, ha="right",
                  rotation_mode="anchor", fontsize=label_size)
    ax.set_yticks(ticks, labels=[str(c) for c in classes], fontsize=label_size)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    ax.set_xticks(np.arange(n + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.0)
    ax.tick_params(which="minor", length=0)

    cell_size = 10 if n <= 8 else 8 if n <= 14 else 6.5 if n <= 20 else 5
    for t in range(n):
        for p in range(n):
            value = int(counts[t, p])
            colour = "white" if fraction[t, p] > 0.55 else "black"
            ax.text(p, t, str(value), ha="center", va="center", fontsize=cell_size,
                    color=colour if value else "0.6")
    if title:
        ax.set_title("\n".join(textwrap.wrap(title, width=max(40, int(9 * side)))),
                     fontsize=11)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def write_report(report: EvaluationReport, out_dir: Path,
                 stem: str = "evaluation") -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>-confusion.png`` in `out_dir`, each atomically.

    Returns (json path, png path).
    """
    if not stem or Path(stem).name != stem or stem in {".", ".."}:
        raise ValueError(f"stem must be a plain file name, not {stem!r}")
    out_dir = Path(out_dir)
    json_path = out_dir / f"{stem}.json"
    png_path = out_dir / f"{stem}-confusion.png"
    metrics = report.metrics
    title = (f"{report.model} on {report.dataset} ({report.split}): accuracy "
             f"{metrics.accuracy:.1%}, macro-F1 {metrics.macro_f1:.3f}")
    png = render_confusion_png(metrics.confusion, metrics.classes, title=title)
    atomic_write_json(json_path, report.to_dict())
    atomic_write_bytes(png_path, png)
    log.info("evaluation report written to %s and %s", json_path, png_path)
    return json_path, png_path
