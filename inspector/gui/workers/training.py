"""Workers for the Training and Augmentation pages: each wraps core calls (no logic of its own).

Every function returns a Worker that is not started yet: connect its signals, then `start()`.

`TrainingWorker` runs `fit()` and forwards the core's `TrainProgress` reports as the
`train_progress(object)` signal, one report at a time, on the GUI thread. The training thread
hands them over in small bundles (at most one every `REPORT_INTERVAL_S` for per-batch reports;
epoch and status reports at once), so a fast GPU run cannot flood the event loop with one queued
signal per batch, and no report is lost: the per-batch loss curve still gets every batch.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import logging
import os
import random
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from inspector.config import AugmentConfig, InspectorConfig, ModelConfig
from inspector.core.errors import DatasetError
from inspector.gui.workers.base import Progress, Worker

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.training.fit import TrainProgress, TrainResult

log = logging.getLogger(__name__)

REPORT_INTERVAL_S = 0.1
TRAINING_MODULES = ("torch", "torchvision", "cv2", "albumentations",
                    "inspector.core.training.fit")
PREVIEW_MODULES = ("cv2", "albumentations", "inspector.core.data.augment")

_import_lock = threading.Lock()


# ---------------------------------------------------------------------------- quiet imports
def import_quietly(modules: tuple[str, ...] = TRAINING_MODULES) -> None:
    """Import heavy modules from a worker thread without stalling the GUI thread.

    Two things in these imports hold the GIL for long, and the GUI thread waits on it: the
    dlopen of big shared libraries (libtorch is about 1 GB: 0.4-1 s measured) and the cyclic
    garbage collector's full collections, whose cost grows with the 600,000 objects the imports
    create (100-400 ms each, measured on a busy 2-core machine). So libtorch's libraries are
    loaded first through libc's dlopen called via ctypes, which releases the GIL during the
    call (the import's own dlopen then finds them loaded), the collector is paused during the
    imports, and what they created is moved to the permanent generation (gc.freeze), which
    later full collections skip. Safe to call from several threads and more than once.
    """
    missing = [name for name in modules if name not in sys.modules]
    if not missing:
        return
    with _import_lock:
        if "torch" in missing and "torch" not in sys.modules:
            _preload_torch_libraries()
        enabled = gc.isenabled()
        gc.disable()
        try:
            for name in missing:
                try:
                    importlib.import_module(name)
                except ImportError as exc:  # the core call reports it where it needs it
                    log.debug("cannot import %s: %s", name, exc)
        finally:
            gc.freeze()
            if enabled:
                gc.enable()


def _preload_torch_libraries() -> None:
    """dlopen libtorch with the GIL released (Linux; elsewhere the import does it all)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        spec = importlib.util.find_spec("torch")
        if spec is None or not spec.submodule_search_locations:
            return
        lib = Path(next(iter(spec.submodule_search_locations))) / "lib"
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
        dlopen.restype = ctypes.c_void_p
        dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        # the flags torch uses: its global deps globally, the rest as Python loads extensions
        for name, flags in (("libtorch_global_deps.so", os.RTLD_NOW | os.RTLD_GLOBAL),
                            ("libtorch.so", os.RTLD_NOW), ("libtorch_python.so", os.RTLD_NOW)):
            path = lib / name
            if path.is_file() and not dlopen(os.fsencode(path), flags):
                log.debug("preloading %s failed; the import will load it", path)
                return
    except (OSError, AttributeError, ValueError) as exc:
        log.debug("preloading libtorch failed (%s); the import will load it", exc)


# ---------------------------------------------------------------------------- augmentation
@dataclass(frozen=True)
class PickedImage:
    path: Path
    image: np.ndarray  # HxWx3 uint8 RGB


@dataclass(frozen=True)
class PreviewResult:
    images: list[np.ndarray]
    seed: int
    input_size: int


def pick_image_worker(dataset: Dataset, label: str | None, seed: int) -> Worker:
    """A PickedImage: an image of the class (any class for None), chosen by `seed`, decoded."""

    def task(_progress: Progress, _stop: threading.Event) -> PickedImage:
        from inspector.core.data.images import load_rgb

        files = dataset.image_files(label)
        if not files:
            where = f"the class '{label}'" if label else "the dataset"
            raise DatasetError(f"There are no images in {where} to preview.")
        path = random.Random(seed).choice(files)
        return PickedImage(path, load_rgb(path, dataset.config.max_image_pixels))

    return Worker(task, "choosing an image to preview")


def file_image_worker(path: Path, max_pixels: int | None = None) -> Worker:
    """A PickedImage of the file."""

    def task(_progress: Progress, _stop: threading.Event) -> PickedImage:
        from inspector.core.data.images import DEFAULT_MAX_PIXELS, load_rgb

        return PickedImage(Path(path), load_rgb(Path(path), max_pixels or DEFAULT_MAX_PIXELS))

    return Worker(task, f"opening {path}")


def preview_worker(config: AugmentConfig, image: np.ndarray, n: int, seed: int,
                   input_size: int | None = None) -> Worker:
    """A PreviewResult: `n` augmented versions of `image` (the core's `preview`).

    The config is copied now, so edits made while the worker runs do not reach it.
    """
    snapshot = config.model_copy(deep=True)

    def task(_progress: Progress, _stop: threading.Event) -> PreviewResult:
        import_quietly(PREVIEW_MODULES)
        from inspector.core.data.augment import PREVIEW_MAX_SIZE, preview

        size = input_size or min(max(image.shape[:2]), PREVIEW_MAX_SIZE)
        return PreviewResult(preview(snapshot, image, n, seed, size), seed, size)

    return Worker(task, "computing the augmentation preview")


# ---------------------------------------------------------------------------- training
@dataclass(frozen=True)
class WeightsCheck:
    """What a training would start from: `source` (ImageNet weights found) or `warning`."""

    pretrained: bool
    source: str | None = None
    warning: str | None = None


def weights_check_worker(model: ModelConfig) -> Worker:
    """A WeightsCheck for these model settings; a named file that is missing fails the worker
    with the core's CheckpointError message (fit would refuse it as well)."""
    pretrained, named = model.pretrained, model.imagenet_weights

    def task(_progress: Progress, _stop: threading.Event) -> WeightsCheck:
        if not pretrained:
            return WeightsCheck(False)
        import_quietly()  # the training that follows needs these too
        from inspector.core.models.pretrained import NO_WEIGHTS_WARNING, find_imagenet_weights

        source = find_imagenet_weights(named)
        if source is None:
            return WeightsCheck(True, warning=NO_WEIGHTS_WARNING)
        return WeightsCheck(True, source=f"{source.path} ({source.origin})")

    return Worker(task, "looking for ImageNet weights")


class _Relay(QObject):
    """Emitted from the training thread; queued to the worker on the GUI thread."""

    reports = Signal(object)  # list[TrainProgress]
    log_line = Signal(str)
    weights_warning = Signal(str)


class TrainingWorker(Worker):
    """Runs `fit(config, dataset, out_dir, resume=...)`; `finished` or `cancelled` carry the
    TrainResult (`cancelled` when Cancel stopped it: `result.stopped`, resumable)."""

    train_progress = Signal(object)  # one TrainProgress
    log_message = Signal(str)  # a warning the core logged during the run
    weights_warning = Signal(str)  # the no-ImageNet-weights warning, when it applies

    def __init__(self, config: InspectorConfig, dataset: Dataset, out_dir: Path,
                 resume: bool = False, parent: QObject | None = None,
                 warm_start: Path | None = None) -> None:
        self.config = config.model_copy(deep=True)  # later edits in the form do not reach it
        self.dataset = dataset
        self.out_dir = Path(out_dir)
        self.resume = resume
        self.warm_start = warm_start  # a model folder: its weights (and classes) to start from
        verb = "resuming" if resume else "training"
        super().__init__(self._run, f"{verb} the model {self.out_dir.name}", parent)
        self._relay = _Relay(self)
        self._relay.reports.connect(self._on_reports)
        self._relay.log_line.connect(self.log_message)
        self._relay.weights_warning.connect(self.weights_warning)

    def _run(self, _progress: Progress, stop: threading.Event) -> TrainResult:
        # The training runs in its own process (core/training/isolated.py): in this one it
        # would share the GIL with the GUI thread, which then froze for 100-350 ms at a time.
        import_quietly()
        from inspector.core.models.pretrained import NO_WEIGHTS_WARNING
        from inspector.core.training.isolated import fit_in_subprocess

        relay = self._relay
        pending: list[TrainProgress] = []
        last_sent = 0.0

        def send() -> None:
            nonlocal last_sent
            if pending:
                relay.reports.emit(list(pending))
                pending.clear()
            last_sent = time.monotonic()

        def on_progress(report: TrainProgress) -> None:
            if report.stage == "status" and report.message == NO_WEIGHTS_WARNING:
                relay.weights_warning.emit(report.message)
            pending.append(report)
            if (report.stage != "batch" or report.batch >= report.batches
                    or time.monotonic() - last_sent >= REPORT_INTERVAL_S):
                send()

        try:
            return fit_in_subprocess(self.config, self.dataset.root, self.dataset.config,
                                     self.out_dir, on_progress, stop, resume=self.resume,
                                     on_log=relay.log_line.emit, warm_start=self.warm_start)
        finally:
            send()

    @Slot(object)
    def _on_reports(self, reports: list[Any]) -> None:
        for report in reports:
            self.train_progress.emit(report)


def training_worker(config: InspectorConfig, dataset: Dataset, out_dir: Path,
                    resume: bool = False, warm_start: Path | None = None) -> TrainingWorker:
    return TrainingWorker(config, dataset, out_dir, resume, warm_start=warm_start)
