"""Partial freezing of a ResNetCBAM and the optimiser's parameter groups.

Freezing a stage does three things:

1. its parameters get ``requires_grad=False`` (CBAM in a frozen stage is frozen too, and so stays
   the identity it was built as);
2. its BatchNorm layers stay in eval mode even when ``model.train()`` is called
   (``ResNetCBAM.train`` re-applies it), so their running statistics never move;
3. if the frozen stages form a prefix stem -> layerK, the forward pass runs that prefix under
   ``torch.no_grad()`` while training, so no activation is kept for backward and the backward
   pass stops at layerK+1. A set that is not a prefix (say layer1 alone) still has its
   parameters and BatchNorm frozen, but gradients must flow through it to the stages before it;
   the longest frozen prefix is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from torch import nn

from inspector.config import STAGES
from inspector.core.models.resnet_cbam import ResNetCBAM

log = logging.getLogger(__name__)


def freeze_stages(model: ResNetCBAM, stages: Sequence[str]) -> None:
    """Freeze exactly ``stages`` (names from STAGES; "stem" is conv1 + bn1) and unfreeze the rest.

    The call sets the whole state, so ``freeze_stages(model, [])`` unfreezes everything (for a
    later fine-tuning phase). The head is never frozen. An optimiser built before this call must
    be rebuilt to see newly trainable parameters.
    """
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stages {unknown}; stages are {STAGES}")
    frozen = tuple(s for s in STAGES if s in stages)  # canonical order, no duplicates
    for stage in STAGES:
        for module in model.stage_modules(stage):
            module.requires_grad_(stage not in frozen)
    with_cbam = [s for s in frozen if s in model.cbam_stages]
    if with_cbam:
        log.warning("CBAM in frozen stages %s stays fixed (an identity at initialisation)",
                    with_cbam)
    model.frozen_stages = frozen
    model.train(model.training)  # put the frozen BatchNorm layers in eval mode now
    prefix = 0
    while prefix < len(STAGES) and STAGES[prefix] in frozen:
        prefix += 1
    log.info("frozen stages: %s (forward skips gradients for %s)",
             ", ".join(frozen) or "none", ", ".join(STAGES[:prefix]) or "nothing")


def _is_head(name: str) -> bool:
    return name.startswith("fc.") or ".cbam." in name


def trainable_parameter_groups(
    model: nn.Module, lr_backbone: float, lr_head: float, weight_decay: float
) -> list[dict]:
    """AdamW parameter groups of the trainable parameters.

    "backbone" / "backbone_no_decay": the (pretrained) ResNet layers, at ``lr_backbone``;
    "head" / "head_no_decay": CBAM and the linear head (new layers), at ``lr_head``.
    The "_no_decay" groups hold BatchNorm weights and all biases (any parameter of one dimension
    or fewer) with weight decay 0. Empty groups are left out.
    """
    groups: dict[str, dict] = {
        "backbone": {"params": [], "lr": lr_backbone, "weight_decay": weight_decay},
        "backbone_no_decay": {"params": [], "lr": lr_backbone, "weight_decay": 0.0},
        "head": {"params": [], "lr": lr_head, "weight_decay": weight_decay},
        "head_no_decay": {"params": [], "lr": lr_head, "weight_decay": 0.0},
    }
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        key = "head" if _is_head(name) else "backbone"
        if param.ndim <= 1:
            key += "_no_decay"
        groups[key]["params"].append(param)
    return [{"name": key, **group} for key, group in groups.items() if group["params"]]
