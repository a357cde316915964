"""Losses for imbalanced defect classes: Focal Loss, class weights, and sample weights.

Two remedies for imbalance are offered: weighting the loss per class (``alpha``), or drawing
training samples so that classes come equally often (:func:`weighted_sample_weights`, for a
``WeightedRandomSampler``). Using both at once over-corrects.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from inspector.config import LossConfig

_REDUCTIONS = ("mean", "sum", "none")
# Below this, (1 - p_t) is clamped: the loss there is ~0 anyway, and (1 - p_t) ** gamma with
# gamma < 1 would otherwise have an infinite gradient at p_t == 1.
_TINY = 1e-12


class FocalLoss(nn.Module):
    """Focal Loss (Lin et al., 2017) for multi-class logits.

    ``loss_i = -alpha[y_i] * (1 - p_t) ** gamma * log p_t`` with ``log p_t`` taken from
    ``log_softmax`` in float32 (stable for logits of any size, and under mixed precision).

    Reduction "mean" is ``sum(loss_i) / N``: it is NOT normalised by the alpha weights (as in the
    paper). So at ``gamma == 0`` it equals ``F.cross_entropy(logits, y)`` without alpha, and
    ``F.cross_entropy(logits, y, weight=alpha, reduction="sum") / N`` with alpha; PyTorch's
    weighted "mean" divides by ``sum(alpha[y_i])`` instead. With alpha normalised to mean 1 (see
    :func:`class_alpha`) the scale stays comparable to unweighted cross-entropy.
    """

    def __init__(
        self, gamma: float = 2.0, alpha: Tensor | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, not {gamma}")
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}, not {reduction!r}")
        self.gamma = float(gamma)
        self.reduction = reduction
        alpha_t = None if alpha is None else torch.as_tensor(alpha, dtype=torch.float32)
        if alpha_t is not None and alpha_t.ndim != 1:
            raise ValueError(f"alpha must be one value per class, not shape {tuple(alpha_t.shape)}")
        self.alpha: Tensor | None
        self.register_buffer("alpha", alpha_t)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        if logits.ndim != 2:
            raise ValueError(f"logits must be N x C, not shape {tuple(logits.shape)}")
        if self.alpha is not None and self.alpha.numel() != logits.shape[1]:
            raise ValueError(
                f"alpha has {self.alpha.numel()} values for {logits.shape[1]} classes"
            )
        target = target.long()
        log_p = F.log_softmax(logits.float(), dim=1)
        log_pt = log_p.gather(1, target[:, None]).squeeze(1)
        loss = -log_pt
        if self.gamma != 0:
            # 1 - p_t via expm1: accurate when p_t is close to 1.
            one_minus_pt = (-torch.expm1(log_pt)).clamp(min=_TINY)
            loss = loss * one_minus_pt.pow(self.gamma)
        if self.alpha is not None:
            loss = loss * self.alpha.to(loss.device)[target]
        if self.reduction == "mean":
            return loss.sum() / max(loss.numel(), 1)
        if self.reduction == "sum":
            return loss.sum()
        return loss

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, alpha={self.alpha is not None}, reduction={self.reduction}"


def class_alpha(mode: str | Sequence[float], counts: Sequence[int]) -> Tensor | None:
    """Per-class loss weights.

    - ``"none"``: None.
    - ``"inverse_frequency"``: ``1 / count``, scaled to mean 1; a class with no training image
      raises ValueError (its weight would be infinite).
    - a list: one positive value per class, used as given; another length raises ValueError.
    """
    counts = [int(c) for c in counts]
    if any(c < 0 for c in counts):
        raise ValueError(f"class counts cannot be negative: {counts}")
    if isinstance(mode, str):
        if mode == "none":
            return None
        if mode == "inverse_frequency":
            if not counts:
                raise ValueError("no classes to weigh")
            empty = [i for i, c in enumerate(counts) if c == 0]
            if empty:
                raise ValueError(
                    f"inverse-frequency weights need images of every class; class index(es) "
                    f"{empty} have none"
                )
            inverse = 1.0 / torch.tensor(counts, dtype=torch.float64)
            return (inverse / inverse.mean()).float()
        raise ValueError(f"alpha must be 'none', 'inverse_frequency' or a list, not {mode!r}")
    values = [float(v) for v in mode]
    if len(values) != len(counts):
        raise ValueError(f"alpha has {len(values)} values but there are {len(counts)} classes")
    if any(not v > 0 for v in values):
        raise ValueError(f"alpha values must all be above 0: {values}")
    return torch.tensor(values, dtype=torch.float32)


def build_loss(config: LossConfig, counts: Sequence[int]) -> nn.Module:
    """FocalLoss(gamma, alpha) or nn.CrossEntropyLoss(weight=alpha), alpha from the config.

    Note the normalisation differs when alpha is set (see :class:`FocalLoss`): cross-entropy's
    weighted mean divides by the summed weights, Focal Loss by the number of samples.
    """
    alpha = class_alpha(config.alpha, counts)
    if config.kind == "focal":
        return FocalLoss(gamma=config.gamma, alpha=alpha)
    if config.kind == "cross_entropy":
        return nn.CrossEntropyLoss(weight=alpha)
    raise ValueError(f"unknown loss {config.kind!r}")


def weighted_sample_weights(labels: Sequence[int]) -> Tensor:
    """Per-sample weight ``1 / count[label]`` (float64), for ``WeightedRandomSampler``: every
    class is then drawn equally often."""
    label_t = torch.as_tensor(list(labels), dtype=torch.long)
    if label_t.numel() == 0:
        raise ValueError("no labels to weigh")
    if int(label_t.min()) < 0:
        raise ValueError("labels cannot be negative")
    counts = torch.bincount(label_t).double()
    return 1.0 / counts[label_t]
