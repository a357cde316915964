"""Workers for the Evaluation and Models pages: each wraps core calls (no logic of its own).

Every function returns a Worker that is not started yet: connect its signals, then `start()`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.core.model_catalog import ModelInfo, active_model, list_models
from inspector.gui.workers.base import Progress, Worker

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.workspace import Workspace

PERCENT = 1000  # progress of stage-based tasks is reported as per-mille


@dataclass(frozen=True)
class Catalog:
    models: list[ModelInfo]
    active: ModelInfo | None


def catalog_worker(workspace: Workspace) -> Worker:
    """The workspace's models (newest first) and the active one, as a Catalog."""

    def task(_progress: Progress, _stop: threading.Event) -> Catalog:
        models = list_models(workspace)
        return Catalog(models, active_model(workspace, models))

    return Worker(task, "listing the trained models")


def evaluate_worker(model_path: Path, dataset: Dataset, split: str,
                    device: str = "auto") -> Worker:
    """An EvaluationReport of the model on the split; None when cancelled."""

    def task(_progress: Progress, stop: threading.Event) -> Any:
        from inspector.core.evaluation.evaluate import evaluate_checkpoint

        try:
            return evaluate_checkpoint(model_path, dataset, split, device=device,
                                       stop_event=stop)
        except ValueError:
            # A cancelled run leaves fewer logits than images, which the report refuses.
            if stop.is_set():
                return None
            raise

    return Worker(task, f"evaluating {Path(model_path).parent.name} on the {split} split")


def explain_cell_worker(model_path: Path, dataset: Dataset, split: str, true_class: str,
                        predicted_class: str, layer: str, explain: str = "predicted",
                        device: str = "auto") -> Worker:
    """A CellExplanation: the cell's images with their Grad-CAM maps on `layer`."""

    def task(progress: Progress, stop: threading.Event) -> Any:
        from inspector.core.evaluation.attribution import explain_cell

        return explain_cell(model_path, dataset, split, true_class, predicted_class, layer,
                            explain, device=device, on_progress=progress, stop_event=stop)

    return Worker(task, f"computing Grad-CAM maps of {true_class} predicted as "
                        f"{predicted_class}")


def relabel_worker(dataset: Dataset, path: Path, label: str) -> Worker:
    """Move one image to the class `label`; the result is its new path."""

    def task(_progress: Progress, _stop: threading.Event) -> Path:
        moved = dataset.relabel([path], label)
        return moved[0] if moved else Path(path)

    return Worker(task, f"relabelling {Path(path).name} as {label}")


@dataclass(frozen=True)
class ExportResult:
    onnx: Path
    int8: Path | None = None
    int8_report: Any = None  # a QuantizationReport


def export_worker(model_folder: Path, dataset: Dataset | None = None,
                  int8: bool = False) -> Worker:
    """Export to ONNX (checked against PyTorch), and to INT8 calibrated on the dataset's val
    split and checked on its test split, as `inspector export --int8` does. Progress is
    reported in per-mille: the fp32 export has no steps to report, quantisation does."""

    def task(progress: Progress, _stop: threading.Event) -> ExportResult:
        from inspector.core.errors import InspectorError
        from inspector.core.inference.export import export_onnx

        progress(0, PERCENT)
        onnx = export_onnx(Path(model_folder) / "best.safetensors")
        if not int8:
            progress(PERCENT, PERCENT)
            return ExportResult(onnx)
        if dataset is None:
            raise InspectorError("INT8 needs a dataset: it is calibrated on the validation "
                                 "split and checked on the test split.")
        from inspector.core.inference.quantize import quantize_with_dataset

        progress(PERCENT // 5, PERCENT)
        report = quantize_with_dataset(
            onnx, Path(model_folder) / "best.safetensors", dataset,
            progress=lambda _stage, f: progress(PERCENT // 5 + int(f * PERCENT * 4 / 5),
                                                PERCENT))
        return ExportResult(onnx, Path(report.path) if report.path else None, report)

    return Worker(task, f"exporting {Path(model_folder).name} to ONNX")
