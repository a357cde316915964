"""The classifier: a torchvision ResNet-50 with CBAM in the bottlenecks of chosen stages.

The module is pure (DESIGN rule 5): it builds layers and runs them. Loading ImageNet weights is in
:mod:`.pretrained`, freezing in :mod:`.freezing`, training and checkpoints elsewhere.

State-dict keys of the backbone are exactly torchvision's ``resnet50`` keys, so ImageNet weights
load with strict key matching; CBAM parameters add keys such as ``layer3.0.cbam.channel.fc1.weight``
and the head is ``fc.weight`` / ``fc.bias``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Self

import torch
from torch import Tensor, nn
from torchvision.models import resnet50
from torchvision.models.resnet import Bottleneck

from inspector.config import STAGES, ModelConfig
from inspector.core.models.cbam import CBAM

log = logging.getLogger(__name__)

RESIDUAL_STAGES: tuple[str, ...] = ("layer1", "layer2", "layer3", "layer4")
FEATURE_CHANNELS = 2048


class CBAMBottleneck(nn.Module):
    """A torchvision Bottleneck with CBAM after ``bn3``, before the residual addition.

    It takes over the original block's submodules under the same attribute names (conv1, bn1,
    conv2, bn2, conv3, bn3, relu, downsample), so the block's state-dict keys are unchanged and
    only ``cbam.*`` is added.
    """

    expansion = 4

    def __init__(self, block: Bottleneck, reduction: int = 16) -> None:
        super().__init__()
        self.conv1 = block.conv1
        self.bn1 = block.bn1
        self.conv2 = block.conv2
        self.bn2 = block.bn2
        self.conv3 = block.conv3
        self.bn3 = block.bn3
        self.relu = block.relu
        self.downsample = block.downsample
        self.stride = block.stride
        self.cbam = CBAM(block.conv3.out_channels, reduction)

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = self.cbam(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNetCBAM(nn.Module):
    """torchvision ResNet-50 layout (conv1, bn1, relu, maxpool, layer1..layer4) with CBAM inside the
    bottleneck blocks of chosen stages (after bn3, before the residual addition), global average
    pool, dropout and ONE linear head.

    Logits are exactly ``fc(dropout(flatten(avgpool(features))))`` with ``features`` the layer4
    output, so a class activation map computed from the features is exact.

    ``frozen_stages`` is set by :func:`inspector.core.models.freezing.freeze_stages`. While
    training, the longest frozen prefix (stem -> layerK) runs under ``torch.no_grad()`` so none of
    its activations are kept for backward, and BatchNorm layers of frozen stages stay in eval mode
    whatever ``train()`` is called with (see :meth:`train`).
    """

    def __init__(
        self,
        num_classes: int,
        cbam_stages: Sequence[str] = ("layer3", "layer4"),
        cbam_reduction: int = 16,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, not {num_classes}")
        cbam_stages = tuple(cbam_stages)
        unknown = [s for s in cbam_stages if s not in RESIDUAL_STAGES]
        if unknown:
            raise ValueError(f"CBAM stages must be among {RESIDUAL_STAGES}, not {unknown}")
        if len(set(cbam_stages)) != len(cbam_stages):
            raise ValueError(f"a CBAM stage is listed twice: {cbam_stages}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), not {dropout}")

        base = resnet50(weights=None, num_classes=num_classes)
        # Same attribute names and order as torchvision's ResNet: same state-dict keys.
        self.conv1 = base.conv1
        self.bn1 = base.bn1
        self.relu = base.relu
        self.maxpool = base.maxpool
        self.layer1 = base.layer1
        self.layer2 = base.layer2
        self.layer3 = base.layer3
        self.layer4 = base.layer4
        self.avgpool = base.avgpool
        self.dropout = nn.Dropout(dropout)
        self.fc = base.fc
        for stage in cbam_stages:
            layer: nn.Sequential = getattr(self, stage)
            for i, block in enumerate(layer):
                layer[i] = CBAMBottleneck(block, cbam_reduction)

        self.num_classes = num_classes
        self.cbam_stages: tuple[str, ...] = tuple(s for s in RESIDUAL_STAGES if s in cbam_stages)
        self.frozen_stages: tuple[str, ...] = ()

    # -- stages ---------------------------------------------------------------------------------

    def _stem(self, x: Tensor) -> Tensor:
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def _stage_functions(self) -> list[tuple[str, Callable[[Tensor], Tensor]]]:
        return [
            ("stem", self._stem),
            ("layer1", self.layer1),
            ("layer2", self.layer2),
            ("layer3", self.layer3),
            ("layer4", self.layer4),
        ]

    def stage_modules(self, stage: str) -> list[nn.Module]:
        """The modules holding a stage's parameters ("stem" is conv1 + bn1)."""
        if stage == "stem":
            return [self.conv1, self.bn1]
        if stage in RESIDUAL_STAGES:
            return [getattr(self, stage)]
        raise ValueError(f"unknown stage {stage!r}; stages are {STAGES}")

    def _frozen_prefix(self) -> int:
        """How many leading stages (stem, layer1, ...) are frozen and have no trainable parameter.

        Checked on every call (a few dozen flag reads), so a parameter someone switched back to
        trainable by hand is never silently cut off from its gradient.
        """
        count = 0
        for stage, _ in self._stage_functions():
            if stage not in self.frozen_stages:
                break
            if any(p.requires_grad for m in self.stage_modules(stage) for p in m.parameters()):
                break
            count += 1
        return count

    def features(self, x: Tensor) -> Tensor:
        """The layer4 output, N x 2048 x h x w."""
        stages = self._stage_functions()
        skip = 0
        if self.training and torch.is_grad_enabled() and not x.requires_grad:
            skip = self._frozen_prefix()
        if skip:
            # Frozen prefix: nothing before it needs a gradient, so keep no activations for it.
            with torch.no_grad():
                for _, run in stages[:skip]:
                    x = run(x)
        for _, run in stages[skip:]:
            x = run(x)
        return x

    def head(self, features: Tensor) -> Tensor:
        """Logits from layer4 features: fc(dropout(flatten(avgpool(features))))."""
        return self.fc(self.dropout(torch.flatten(self.avgpool(features), 1)))

    def forward(self, x: Tensor) -> Tensor:
        """Logits (N, num_classes)."""
        return self.head(self.features(x))

    def forward_with_features(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(logits, layer4 features N x 2048 x h x w) from one forward pass."""
        features = self.features(x)
        return self.head(features), features

    def stage_outputs(self, x: Tensor) -> dict[str, Tensor]:
        """The output of every stage: "stem" (after maxpool), "layer1" ... "layer4"."""
        outputs = {}
        for stage, run in self._stage_functions():
            x = run(x)
            outputs[stage] = x
        return outputs

    # -- frozen BatchNorm -----------------------------------------------------------------------

    def train(self, mode: bool = True) -> Self:
        """Set training mode, but keep the BatchNorm layers of frozen stages in eval mode.

        Overriding ``train()`` (rather than a forward pre-hook) fixes the mode at the one place it
        changes: ``model.train()``, ``model.eval()`` and ``freeze_stages`` all come through here,
        and the flags read by anyone inspecting the model are the ones actually used. A frozen
        BatchNorm then normalises with its running statistics and never updates them.
        """
        super().train(mode)
        for stage in self.frozen_stages:
            for module in self.stage_modules(stage):
                for sub in module.modules():
                    if isinstance(sub, nn.modules.batchnorm._BatchNorm):
                        sub.train(False)
        return self


def build_model(config: ModelConfig, num_classes: int) -> ResNetCBAM:
    """A ResNetCBAM with random weights, as the config describes (no weights are loaded)."""
    if num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, not {num_classes}")
    if config.architecture != "resnet50_cbam":
        raise ValueError(f"unknown architecture {config.architecture!r}")
    return ResNetCBAM(
        num_classes,
        cbam_stages=tuple(config.cbam_stages),
        cbam_reduction=config.cbam_reduction,
        dropout=config.dropout,
    )


def widen_head(model: ResNetCBAM, new_num_classes: int, keep: list[int | None]) -> None:
    """Replace the head by one with ``new_num_classes`` outputs.

    ``keep[i]`` is the old class index whose weights new class ``i`` takes over, or None for a
    freshly initialised row. An optimiser built before this call must be rebuilt.
    """
    if new_num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, not {new_num_classes}")
    if len(keep) != new_num_classes:
        raise ValueError(f"keep has {len(keep)} entries for {new_num_classes} classes")
    old = model.fc
    bad = [k for k in keep if k is not None and not 0 <= k < old.out_features]
    if bad:
        raise ValueError(f"keep names classes {bad} the head does not have ({old.out_features})")
    new = nn.Linear(
        old.in_features, new_num_classes, device=old.weight.device, dtype=old.weight.dtype
    )
    with torch.no_grad():
        for i, k in enumerate(keep):
            if k is not None:
                new.weight[i] = old.weight[k]
                new.bias[i] = old.bias[k]
    new.requires_grad_(old.weight.requires_grad)
    model.fc = new
    model.num_classes = new_num_classes
    log.info("head widened from %d to %d classes", old.out_features, new_num_classes)
