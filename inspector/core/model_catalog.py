"""The trained models of a workspace and which one is active, without importing torch.

A model is a folder under ``<workspace>/models/`` holding ``best.safetensors``. Its metadata is
read from the safetensors header only (8 bytes of length, then JSON): listing a hundred models
reads a few kilobytes each and never loads weights.

The active model is kept in ``models/active.json`` as the folder's name (relative, so moving
the workspace keeps it), written atomically. Not in config.toml: the model registry (versions,
promotion, audit) is meant to own this file's job later, and config.toml holds settings, not
state. Without a valid choice the OLDEST usable model is active: a newly trained model never
goes on the line by itself; it is promoted through the gate (registry.py). In a new workspace
the first model trained is therefore active at once.

Deleting moves the folder to ``models/.trash/`` (restorable by hand), never removes it.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.core.atomic import atomic_write_json
from inspector.core.errors import CheckpointError

if TYPE_CHECKING:
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "best.safetensors"
ACTIVE_FILE = "active.json"
TRASH_DIR = ".trash"
ONNX_NAME = "model.onnx"
INT8_NAME = "model.int8.onnx"
_META_KEY = "inspector"  # the safetensors metadata key of training/checkpoint.py
_FORMAT = "inspector-checkpoint"
_MAX_HEADER = 100_000_000  # safetensors' own limit


@dataclass(frozen=True)
class ModelInfo:
    folder: Path
    classes: list[str] = field(default_factory=list)
    input_size: int = 0
    created: str = ""  # ISO 8601, from the checkpoint (file time if it has none)
    epoch: int | None = None
    val_macro_f1: float | None = None
    test_accuracy: float | None = None
    test_macro_f1: float | None = None
    test_ece: float | None = None
    pretrained: str | None = None  # where the ImageNet weights came from; None: random init
    size_bytes: int = 0
    problem: str | None = None  # why the model is unusable, if it is

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def checkpoint(self) -> Path:
        return self.folder / CHECKPOINT_NAME

    @property
    def imagenet(self) -> bool:
        return self.pretrained is not None

    @property
    def onnx_path(self) -> Path:
        return self.folder / ONNX_NAME

    @property
    def has_onnx(self) -> bool:
        return self.onnx_path.is_file()

    @property
    def has_int8(self) -> bool:
        return (self.folder / INT8_NAME).is_file()

    @property
    def usable(self) -> bool:
        return self.problem is None

    def created_at(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.created)
        except ValueError:
            return None


def read_header_metadata(path: Path) -> dict[str, Any]:
    """The JSON metadata Inspector stores in a safetensors header (CheckpointError if none)."""
    try:
        with Path(path).open("rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            if not 0 < length <= _MAX_HEADER:
                raise CheckpointError(f"{path} is not a safetensors file (bad header).")
            header = json.loads(handle.read(length))
        raw = header.get("__metadata__", {}).get(_META_KEY)
        meta = json.loads(raw) if raw is not None else None
    except OSError as exc:
        raise CheckpointError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise CheckpointError(f"{path} is damaged (its header is not valid JSON).") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise CheckpointError(f"{path} is a safetensors file but not an Inspector model.")
    return meta


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def read_model(folder: Path) -> ModelInfo:
    """A model folder's information; an unreadable checkpoint gives an entry with `problem`."""
    folder = Path(folder)
    checkpoint = folder / CHECKPOINT_NAME
    try:
        stat = checkpoint.stat()
        file_time = datetime.fromtimestamp(stat.st_mtime).astimezone().isoformat("T", "seconds")
    except OSError:
        return ModelInfo(folder, problem=f"{CHECKPOINT_NAME} is missing.")
    try:
        meta = read_header_metadata(checkpoint)
    except CheckpointError as exc:
        return ModelInfo(folder, created=file_time, size_bytes=stat.st_size, problem=str(exc))
    metrics = meta.get("metrics") or {}
    test = metrics.get("test") or {}
    epoch = meta.get("epoch")
    return ModelInfo(
        folder=folder, classes=[str(c) for c in meta.get("classes", [])],
        input_size=int(meta.get("input_size", 0)), created=str(meta.get("created") or file_time),
        epoch=int(epoch) if isinstance(epoch, int) else None,
        val_macro_f1=_number(metrics.get("val_macro_f1")),
        test_accuracy=_number(test.get("accuracy")), test_macro_f1=_number(test.get("macro_f1")),
        test_ece=_number(test.get("ece_calibrated", test.get("ece"))),
        pretrained=meta.get("pretrained") or None, size_bytes=stat.st_size)


def list_models(workspace: Workspace) -> list[ModelInfo]:
    """Every model folder of the workspace (those holding best.safetensors), newest first;
    unusable ones (damaged checkpoints) last."""
    root = workspace.models_dir
    if not root.is_dir():
        return []
    models = [read_model(folder) for folder in root.iterdir()
              if folder.is_dir() and not folder.name.startswith(".")
              and (folder / CHECKPOINT_NAME).is_file()]
    return sorted(models, key=_age_key, reverse=True)


def _age_key(model: ModelInfo) -> tuple[bool, float, str]:
    created = model.created_at()
    if created is not None and created.tzinfo is None:
        created = created.astimezone()
    return (model.usable, created.timestamp() if created else 0.0, model.name)


def _active_file(workspace: Workspace) -> Path:
    return workspace.models_dir / ACTIVE_FILE


def _chosen_name(workspace: Workspace) -> str | None:
    try:
        data = json.loads(_active_file(workspace).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = data.get("model") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def active_model(workspace: Workspace, models: list[ModelInfo] | None = None) -> ModelInfo | None:
    """The chosen model if it is still there and usable, else the oldest usable one."""
    models = list_models(workspace) if models is None else models
    usable = [m for m in models if m.usable]
    chosen = _chosen_name(workspace)
    for model in usable:
        if model.name == chosen:
            return model
    return usable[-1] if usable else None  # list_models: newest first


def set_active_model(workspace: Workspace, folder: Path | str) -> ModelInfo:
    """Make the model in `folder` (a path or a folder name under models/) the active one."""
    name = Path(folder).name
    model = read_model(workspace.models_dir / name)
    if not model.usable:
        raise CheckpointError(f"The model '{name}' cannot be made active: {model.problem}")
    atomic_write_json(_active_file(workspace), {"model": name})
    log.info("active model of %s: %s", workspace.root, name)
    return model


def delete_model(workspace: Workspace, folder: Path | str) -> Path:
    """Move a model folder to models/.trash/ and return where it went."""
    name = Path(folder).name
    source = workspace.models_dir / name
    if not name or name.startswith(".") or not source.is_dir():
        raise CheckpointError(f"There is no model '{name}' in {workspace.models_dir}.")
    active = active_model(workspace)
    if active is not None and active.name == name:
        # another model would go on the line without passing the gate or being audited
        raise CheckpointError(f"'{name}' is the active model, the one live inspection uses: "
                              "make another version active first (promote or roll back).")
    trash = workspace.models_dir / TRASH_DIR
    target = trash / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        trash.mkdir(exist_ok=True)
        n = 1
        while target.exists():
            target = trash / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{n}"
            n += 1
        source.rename(target)
    except OSError as exc:
        raise CheckpointError(f"Cannot move the model '{name}' to the trash: "
                              f"{exc.strerror or exc}.") from None
    log.info("moved model %s to %s", source, target)
    return target
