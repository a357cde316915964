"""Warm start: a new training begins from a trained model instead of from the backbone alone.

When the dataset has gained classes since that model was trained, its head is widened: every
class the model already knew keeps its learned row (matched by name, so a reordered or renamed
class list cannot mix them up), each new class gets a freshly initialised row, and classes that
left the dataset are dropped. The whole backbone, CBAM included, carries over, so the frozen
stages are frozen again: they hold trained features, ImageNet's or the earlier run's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from inspector.config import ModelConfig
from inspector.core.errors import CheckpointError
from inspector.core.models import ResNetCBAM, build_model, freeze_stages, widen_head
from inspector.core.training.checkpoint import load_checkpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WarmStart:
    """What a warm start took over: stored in the new model's metadata as its parent."""

    path: str
    model: str  # the parent model's folder name (its version in the registry)
    classes: list[str]  # the parent's classes
    pretrained: str | None = None  # the parent's ImageNet origin: the lineage keeps it
    kept: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = f"Warm start from {self.model}: {len(self.kept)} classes keep their weights"
        if self.new:
            text += f"; new: {', '.join(self.new)}"
        if self.dropped:
            text += f"; dropped: {', '.join(self.dropped)}"
        return text + "."


def warm_start_model(config: ModelConfig, classes: list[str],
                     checkpoint_path: Path) -> tuple[ResNetCBAM, WarmStart]:
    """The model of `checkpoint_path` with its head fitted to `classes`, stages frozen."""
    checkpoint = load_checkpoint(Path(checkpoint_path))
    parent = ModelConfig.model_validate(checkpoint.meta["model_config"])
    if (tuple(parent.cbam_stages) != tuple(config.cbam_stages)
            or parent.cbam_reduction != config.cbam_reduction):
        raise CheckpointError(
            f"{checkpoint.path} has CBAM in {list(parent.cbam_stages)} (reduction "
            f"{parent.cbam_reduction}); the settings ask for {list(config.cbam_stages)} "
            f"(reduction {config.cbam_reduction}). Use the same model settings to warm-start, "
            "or train from the backbone.")
    old_classes = checkpoint.classes
    model = build_model(config, len(old_classes))
    try:
        model.load_state_dict(checkpoint.model_state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{checkpoint.path}: the weights do not fit the network "
                              f"({str(exc).splitlines()[0]}).") from None
    keep = [old_classes.index(name) if name in old_classes else None for name in classes]
    widen_head(model, len(classes), keep)
    freeze_stages(model, config.frozen_stages)
    folder = checkpoint.path.parent if checkpoint.path else Path(checkpoint_path)
    info = WarmStart(str(checkpoint.path), folder.name, old_classes,
                     checkpoint.meta.get("pretrained") or None,
                     kept=[c for c in classes if c in old_classes],
                     new=[c for c in classes if c not in old_classes],
                     dropped=[c for c in old_classes if c not in classes])
    if not info.kept:
        raise CheckpointError(f"{checkpoint.path} knows none of the dataset's classes "
                              f"({', '.join(classes)}): a warm start would take nothing over.")
    log.info("%s", info.describe())
    return model, info
