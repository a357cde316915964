"""Checkpoints: safetensors weights with JSON metadata inside the same file.

A checkpoint carries everything a Predictor needs (classes, input size, normalisation, model
config, temperature, thresholds later) and everything needed to resume training (optimizer,
scheduler, epoch, position in the epoch) when it is a resume checkpoint. Nothing is ever
unpickled: tensors come from safetensors, everything else from JSON.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from inspector import __version__
from inspector.core.atomic import atomic_path
from inspector.core.errors import CheckpointError

log = logging.getLogger(__name__)

FORMAT = "inspector-checkpoint"
FORMAT_VERSION = 1
ARCHITECTURES = ("resnet50_cbam",)
_META_KEY = "inspector"


@dataclass
class Checkpoint:
    meta: dict[str, Any]
    model_state: dict[str, torch.Tensor]
    optimizer_state: dict[str, torch.Tensor] = field(default_factory=dict)  # flattened
    path: Path | None = None

    @property
    def classes(self) -> list[str]:
        return list(self.meta["classes"])

    @property
    def input_size(self) -> int:
        return int(self.meta["input_size"])

    @property
    def is_resumable(self) -> bool:
        return "resume" in self.meta


def library_versions() -> dict[str, str]:
    import torchvision

    return {"inspector": __version__, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "python": platform.python_version()}


def new_meta(**fields: Any) -> dict[str, Any]:
    return {"format": FORMAT, "format_version": FORMAT_VERSION,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": library_versions(), **fields}


def flatten_state(prefix: str, obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Split a nested state (optimizer, scheduler) into tensors and a JSON-able skeleton."""
    if isinstance(obj, torch.Tensor):
        key = f"{prefix}"
        tensors[key] = obj.detach().cpu().contiguous()
        return {"__tensor__": key}
    if isinstance(obj, dict):
        return {"__dict__": [[flatten_state(f"{prefix}.k{i}", k, tensors),
                              flatten_state(f"{prefix}.{i}", v, tensors)]
                             for i, (k, v) in enumerate(obj.items())]}
    if isinstance(obj, list | tuple):
        kind = "__tuple__" if isinstance(obj, tuple) else "__list__"
        return {kind: [flatten_state(f"{prefix}.{i}", v, tensors) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} in a checkpoint")


def unflatten_state(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]]
        if "__dict__" in skeleton:
            return {unflatten_state(k, tensors): unflatten_state(v, tensors)
                    for k, v in skeleton["__dict__"]}
        if "__list__" in skeleton:
            return [unflatten_state(v, tensors) for v in skeleton["__list__"]]
        if "__tuple__" in skeleton:
            return tuple(unflatten_state(v, tensors) for v in skeleton["__tuple__"])
    return skeleton


def save_checkpoint(path: Path, meta: dict[str, Any], model_state: dict[str, torch.Tensor],
                    extra_tensors: dict[str, torch.Tensor] | None = None) -> None:
    """Write atomically: a crash or a full disk leaves the previous file intact.

    `save_file` writes with the GIL released; `save()` builds the whole file in memory while
    holding it (200-400 ms for a resumable ResNet-50 checkpoint), which froze the GUI thread
    for as long while a training ran in a worker thread.
    """
    from safetensors.torch import save_file

    _remove_stale_temporaries(Path(path))
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model_state.items()}
    for key, value in (extra_tensors or {}).items():
        tensors[f"extra.{key}"] = value
    try:
        with atomic_path(path) as tmp:
            save_file(tensors, tmp, metadata={_META_KEY: json.dumps(meta)})
    except OSError as exc:
        reason = "the disk is full" if exc.errno == 28 else (exc.strerror or str(exc))
        raise CheckpointError(
            f"Could not save the checkpoint {path}: {reason}. The previous checkpoint is "
            "unchanged; free some space and resume."
        ) from None


STALE_TEMP_S = 60.0


def _remove_stale_temporaries(path: Path) -> None:
    """A write killed midway leaves its temporary files (ours, `.<name>.*.tmp`, and the one
    safetensors writes through, `.tmpXXXXXX`): each as large as a checkpoint. The next save in
    the folder removes those older than a minute (a live writer's are younger)."""
    folder = path.parent
    if not folder.is_dir():
        return
    now = time.time()
    for pattern in (f".{path.name}.*.tmp", ".tmp??????"):
        for stale in folder.glob(pattern):
            try:
                if stale.is_file() and now - stale.stat().st_mtime > STALE_TEMP_S:
                    stale.unlink()
                    log.info("removed %s, left by an interrupted checkpoint write", stale)
            except OSError:
                pass


def load_checkpoint(path: Path, expected_classes: list[str] | None = None) -> Checkpoint:
    """Read a checkpoint, refusing anything that is not one of ours, in a version we know."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if path.is_dir():
        for name in ("best.safetensors", "model.safetensors", "last.safetensors"):
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise CheckpointError(f"{path} holds no model (best.safetensors). Train one first.")
    # safe_open reads with the GIL released; load(bytes) holds it while it copies every
    # tensor (130-300 ms for a resumable checkpoint), which froze the GUI thread.
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            raw = (handle.metadata() or {}).get(_META_KEY)
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
        meta = json.loads(raw) if raw is not None else None
    except FileNotFoundError:
        raise CheckpointError(f"Cannot read the model file {path}: it does not exist.") from None
    except PermissionError as exc:
        raise CheckpointError(f"Cannot read the model file {path}: {exc.strerror}.") from None
    except (SafetensorError, OSError, ValueError, UnicodeDecodeError,
            json.JSONDecodeError) as exc:
        raise CheckpointError(
            f"{path} is not a usable model file (damaged, truncated or another format: {exc})."
        ) from None
    if meta is None or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a safetensors file but not an Inspector model.")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer Inspector (format {version}); this one reads up to "
            f"format {FORMAT_VERSION}. Update Inspector to use it."
        )
    if meta.get("architecture") not in ARCHITECTURES:
        raise CheckpointError(
            f"{path} is a '{meta.get('architecture')}' model; this Inspector knows "
            f"{', '.join(ARCHITECTURES)}."
        )
    if expected_classes is not None and list(meta["classes"]) != list(expected_classes):
        raise CheckpointError(
            f"{path} was trained for the classes {meta['classes']}, not {expected_classes}. "
            "Use a model trained on this dataset, or retrain."
        )
    model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    extra = {k[6:]: v for k, v in tensors.items() if k.startswith("extra.")}
    return Checkpoint(meta, model_state, extra, path)


def save_untrained_model(path: Path, classes: list[str], input_size: int, seed: int = 0,
                         **meta: Any) -> torch.nn.Module:
    """A network of the production architecture with random weights, saved as training saves
    one (ImageNet normalisation and temperature 1 unless `meta` says otherwise); returns it in
    eval mode. For the self-test, tests and benchmarks: a real checkpoint without a training."""
    from inspector.config import ModelConfig
    from inspector.core.models import build_model
    from inspector.core.models.pretrained import IMAGENET_MEAN, IMAGENET_STD

    torch.manual_seed(seed)
    config = ModelConfig(input_size=input_size, pretrained=False)
    model = build_model(config, len(classes)).eval()
    fields = {"normalization": {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)},
              "temperature": 1.0, **meta}
    save_checkpoint(Path(path), new_meta(architecture="resnet50_cbam", classes=list(classes),
                                         input_size=input_size,
                                         model_config=config.model_dump(mode="json"), **fields),
                    model.state_dict())
    return model


def build_model_from_checkpoint(checkpoint: Checkpoint) -> torch.nn.Module:
    """The network of a checkpoint, weights loaded, in eval mode."""
    from inspector.config import ModelConfig
    from inspector.core.models import build_model

    config = ModelConfig.model_validate(checkpoint.meta["model_config"])
    model = build_model(config, len(checkpoint.classes))
    try:
        model.load_state_dict(checkpoint.model_state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{checkpoint.path}: the weights do not fit the network described in the file "
            f"({str(exc).splitlines()[0]})."
        ) from None
    return model.eval()
