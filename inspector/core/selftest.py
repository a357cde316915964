"""The installation's self-test: does this copy of Inspector work on this machine?

`inspector self-test` runs it; IT runs it after installing the packaged application and the
installer's smoke test runs it on every bundle. Each check is independent and says what it found,
so one broken piece (a missing shared library in a bundle, a read-only user folder) is named
instead of surfacing later as a traceback on the factory floor. Nothing here touches a
workspace: the model is a random-weight one made and loaded in a temporary folder.
"""

from __future__ import annotations

import importlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SELF_TEST_CLASSES = ["missing_hole", "ok", "short"]
SELF_TEST_SIZE = 64  # px: enough to exercise every layer, quick on any CPU
# The packages a bundle must carry; a missing one is what a PyInstaller build gets wrong.
PACKAGES = ("numpy", "torch", "torchvision", "cv2", "albumentations", "onnxruntime", "onnx",
            "captum", "safetensors", "pydantic", "platformdirs", "PySide6", "pyqtgraph")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float
    required: bool = True  # False: information (no ImageNet weights is not a broken install)


def timed_check(name: str, run: Callable[[], str], required: bool = True) -> Check:
    started = time.perf_counter()
    try:
        detail = run()
        ok = True
    except Exception as exc:  # a self-test reports every failure, it never stops at the first
        log.debug("self-test %s failed", name, exc_info=True)
        # A note (not required) is a finding, not a crash: its message is enough.
        detail = str(exc) if not required else f"{type(exc).__name__}: {exc}"
        ok = False
    return Check(name, ok, detail, time.perf_counter() - started, required)


def _packages() -> str:
    versions = []
    for name in PACKAGES:
        module = importlib.import_module(name)
        versions.append(f"{name} {getattr(module, '__version__', '?')}")
    return ", ".join(versions)


def _compute() -> str:
    import torch

    from inspector.core.training.devices import describe_device, resolve_device

    device = resolve_device("auto")
    built = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU-only"
    return f"{describe_device(device)} (torch {torch.__version__}, {built} build)"


def _weights() -> str:
    from inspector.core.models.pretrained import NO_WEIGHTS_WARNING, find_imagenet_weights

    source = find_imagenet_weights()
    if source is None:
        raise LookupError(NO_WEIGHTS_WARNING)
    return f"{source.path} ({source.origin})"


def _user_folders() -> str:
    from inspector.core.paths import (
        installation_dir,
        user_config_dir,
        user_data_dir,
        user_log_dir,
    )

    install = installation_dir()
    folders = [user_config_dir(), user_data_dir(), user_log_dir()]
    for folder in folders:
        if folder.resolve().is_relative_to(install):
            raise RuntimeError(f"{folder} is inside the installation ({install}): an upgrade "
                               "or uninstall would lose it")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".self-test."):
            pass  # created and removed: the folder is writable
    return ", ".join(str(f) for f in folders)


def make_model(folder: Path) -> Path:
    """A random-weight model of the production architecture, saved as training saves one."""
    from inspector.core.training.checkpoint import save_untrained_model

    path = folder / "best.safetensors"
    save_untrained_model(path, SELF_TEST_CLASSES, SELF_TEST_SIZE)
    return path


def _board_patch() -> object:
    from inspector.core.data.synthetic import SyntheticPCB

    return SyntheticPCB(seed=1, style="scan").patch("short", size=SELF_TEST_SIZE, index=0)


def _classify(model: Path, backend: str) -> str:
    import numpy as np

    from inspector.core.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(model, device="auto", backend=backend)
    (result,) = predictor.infer([_board_patch()])
    if not np.isclose(float(result.probabilities.sum()), 1.0, atol=1e-4):
        raise ValueError(f"probabilities sum to {result.probabilities.sum():.4f}, not 1")
    if result.cam is None or not np.isfinite(result.cam).all():
        raise ValueError("the Grad-CAM map is missing or not finite")
    label = predictor.classes[result.index]
    return (f"one synthetic board patch -> {label} ({result.probabilities[result.index]:.2f}), "
            f"Grad-CAM {result.cam.shape[1]}x{result.cam.shape[0]}")


def _onnx(model: Path) -> str:
    from inspector.core.inference.export import export_onnx

    export_onnx(model)  # checks ONNX Runtime against PyTorch before it writes the file
    return _classify(model, "onnx")


def _train_in_child(folder: Path) -> str:
    """One tiny epoch through the desktop application's path: a spawned child process (in a
    bundle, the executable re-run by multiprocessing), a DataLoader, a checkpoint."""
    from inspector.config import InspectorConfig
    from inspector.core.data.dataset import Dataset
    from inspector.core.data.synthetic import generate_patch_dataset
    from inspector.core.training.isolated import fit_in_subprocess

    data = folder / "data"
    generate_patch_dataset(data, per_class=8, seed=1, size=48, classes=SELF_TEST_CLASSES)
    dataset = Dataset(data)
    dataset.split()
    config = InspectorConfig()
    config.model.input_size = 32
    config.model.pretrained = False  # the weights have their own check; keep this one quick
    config.train.epochs, config.train.batch_size, config.train.workers = 1, 8, 0
    config.train.warmup_epochs, config.train.patience = 0.0, 0
    result = fit_in_subprocess(config, dataset.root, dataset.config, folder / "run")
    if not result.best_path.is_file():
        raise RuntimeError("the training child finished without writing its model")
    return (f"1 epoch on {len(SELF_TEST_CLASSES) * 8} synthetic patches in a child process "
            f"({result.seconds:.1f} s, {result.device})")


def run_self_test(onnx: bool = True, train: bool = True) -> Iterator[Check]:
    """The checks, in order, each as it finishes (a caller can print them as they come)."""
    yield timed_check("python packages", _packages)
    yield timed_check("compute device", _compute)
    yield timed_check("ImageNet weights", _weights, required=False)
    yield timed_check("user folders", _user_folders)
    with tempfile.TemporaryDirectory(prefix="inspector-self-test-") as tmp:
        made = timed_check("model file", lambda: str(make_model(Path(tmp))))
        yield made
        if made.ok:
            model = Path(tmp) / "best.safetensors"
            yield timed_check("classify (PyTorch)", lambda: _classify(model, "torch"))
            if onnx:
                yield timed_check("classify (ONNX Runtime)", lambda: _onnx(model))
        if train:
            yield timed_check("train (child process)", lambda: _train_in_child(Path(tmp)))
