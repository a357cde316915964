"""Workers for the Evaluation and Models pages: each wraps core calls (no logic of its own).

Every function returns a Worker that is not started yet: connect its signals, then `start()`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.core.model_catalog import (
    CHECKPOINT_NAME,
    INT8_NAME,
    ONNX_NAME,
    ModelInfo,
    active_model,
    list_models,
)
from inspector.core.registry import ModelVersion, Registry
from inspector.gui.workers.base import Progress, Worker

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.evaluation.attribution import CamResult
    from inspector.core.evaluation.compare import GateReport
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
    onnx: Path | None = None
    int8: Path | None = None
    int8_report: Any = None  # a QuantizationReport
    torchscript: Path | None = None


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


def torchscript_worker(model_folder: Path) -> Worker:
    """Export to TorchScript (checked against PyTorch before it is written), as
    `inspector models export --format torchscript` does; an ExportResult."""

    def task(progress: Progress, _stop: threading.Event) -> ExportResult:
        from inspector.core.inference.export import export_torchscript

        progress(0, PERCENT)
        path = export_torchscript(Path(model_folder) / CHECKPOINT_NAME)
        progress(PERCENT, PERCENT)
        return ExportResult(torchscript=path)

    return Worker(task, f"exporting {Path(model_folder).name} to TorchScript")


# ---------------------------------------------------------------------- the model registry
EXPORT_FILES = (("ONNX", ONNX_NAME), ("INT8", INT8_NAME))


@dataclass(frozen=True)
class Versions:
    """The workspace's model versions as the Models page shows them."""

    tree: list[tuple[int, ModelVersion]]  # (depth, version) in tree order (Registry.walk)
    active: ModelVersion | None
    reports: dict[str, GateReport]  # a version's saved gate report, when still valid now
    exports: dict[str, tuple[str, ...]]  # the formats written beside each version
    was_active: frozenset[str]  # the versions active at some time (activations.jsonl)


def versions_worker(workspace: Workspace) -> Worker:
    """The version tree, the active version, the saved gate reports that still count and what
    was exported, as Versions (reads checkpoint headers and small JSON files, no torch)."""

    def task(_progress: Progress, _stop: threading.Event) -> Versions:
        from inspector.core.evaluation.compare import GATE_FILE
        from inspector.core.inference.export import TORCHSCRIPT_NAME

        registry = Registry(workspace)
        tree = list(registry.walk())
        active = registry.active()
        reports = {}
        for _, version in tree:
            if (version.info.usable and (version.folder / GATE_FILE).is_file()
                    and (active is None or version.name != active.name)):
                report = registry.saved_report(version.name)
                if report is not None:
                    reports[version.name] = report
        files = (*EXPORT_FILES, ("TorchScript", TORCHSCRIPT_NAME))
        exports = {version.name: tuple(kind for kind, name in files
                                       if (version.folder / name).is_file())
                   for _, version in tree}
        was_active = frozenset(str(entry[key]) for entry in registry.history()
                               for key in ("model", "previous") if entry.get(key))
        return Versions(tree, active, reports, exports, was_active)

    return Worker(task, "reading the model versions")


def compare_worker(workspace: Workspace, name: str, baseline: str | None = None,
                   device: str = "auto") -> Worker:
    """The promotion gate (Registry.compare): `name` next to `baseline` (default: the active
    version) on the test split and the review inbox's corrections; a GateReport, also saved as
    the candidate's gate.json. Progress counts the models run; None when cancelled."""

    def task(progress: Progress, stop: threading.Event) -> GateReport | None:
        try:
            return Registry(workspace).compare(name, baseline, device, progress, stop)
        except (ValueError, IndexError):
            # A cancelled run predicts fewer images than it has truths, which the report
            # refuses; nothing was saved.
            if stop.is_set():
                return None
            raise

    return Worker(task, f"comparing {name} with {baseline or 'the active model'}")


@dataclass(eq=False)
class ChangedCam:
    """Grad-CAM of one image under the candidate and under the baseline, each explaining the
    class that model predicted (None: that model could not read it)."""

    path: Path
    candidate: CamResult | None
    baseline: CamResult | None


def changed_cam_worker(candidate: Path, baseline: Path | None, image: Path,
                       layer: str = "layer4", device: str = "auto") -> Worker:
    """ChangedCam of `image` for the candidate and baseline model folders; None when
    cancelled."""

    def task(progress: Progress, stop: threading.Event) -> ChangedCam | None:
        from inspector.core.errors import DatasetError
        from inspector.core.evaluation.attribution import explain_images

        folders = [Path(candidate)] + ([Path(baseline)] if baseline is not None else [])
        results: list[CamResult | None] = []
        for done, folder in enumerate(folders):
            if stop.is_set():
                return None
            progress(done, len(folders))
            found = explain_images(folder / CHECKPOINT_NAME, [Path(image)], layer=layer,
                                   device=device, stop_event=stop)
            results.append(found[0] if found else None)
        progress(len(folders), len(folders))
        if not any(results):
            raise DatasetError(f"{Path(image).name} cannot be read any more: no Grad-CAM map.")
        return ChangedCam(Path(image), results[0], results[1] if len(results) > 1 else None)

    return Worker(task, f"computing the Grad-CAM maps of {Path(image).name}")
