"""Focal Loss, class weights and sample weights."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from inspector.config import LossConfig
from inspector.core.models.losses import (
    FocalLoss,
    build_loss,
    class_alpha,
    weighted_sample_weights,
)


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    return torch.randn(8, 4) * 3, torch.randint(0, 4, (8,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gamma_zero_is_cross_entropy(batch, reduction: str) -> None:
    logits, target = batch
    focal = FocalLoss(gamma=0.0, reduction=reduction)(logits, target)
    torch.testing.assert_close(focal, F.cross_entropy(logits, target, reduction=reduction))


def test_gamma_zero_with_alpha_is_weighted_cross_entropy_over_n(batch) -> None:
    logits, target = batch
    alpha = torch.tensor([0.5, 1.0, 2.0, 0.5])
    focal = FocalLoss(gamma=0.0, alpha=alpha)(logits, target)
    # Documented: "mean" divides by N, not by the summed weights.
    expected = F.cross_entropy(logits, target, weight=alpha, reduction="sum") / len(target)
    torch.testing.assert_close(focal, expected)
    per_sample = FocalLoss(gamma=0.0, alpha=alpha, reduction="none")(logits, target)
    torch.testing.assert_close(
        per_sample, F.cross_entropy(logits, target, weight=alpha, reduction="none"))


def test_formula(batch) -> None:
    logits, target = batch
    alpha = torch.tensor([0.5, 1.0, 2.0, 0.5])
    p_t = logits.softmax(1)[torch.arange(8), target]
    expected = (-alpha[target] * (1 - p_t) ** 2 * p_t.log()).mean()
    torch.testing.assert_close(FocalLoss(2.0, alpha)(logits, target), expected)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
def test_finite_for_huge_logits(gamma: float) -> None:
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [1e4, -1e4, 0.0]],
                          requires_grad=True)
    target = torch.tensor([0, 0, 2])  # right and sure, wrong and sure, wrong
    loss = FocalLoss(gamma)(logits, target)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()


def test_gradient_finite_and_nonzero(batch) -> None:
    logits, target = batch
    logits = logits.clone().requires_grad_(True)
    FocalLoss(2.0)(logits, target).backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_easy_examples_are_down_weighted() -> None:
    easy = torch.tensor([[4.0, 0.0, 0.0]])
    hard = torch.tensor([[-2.0, 0.0, 0.0]])
    target = torch.tensor([0])
    focal, ce = FocalLoss(2.0), nn.CrossEntropyLoss()
    assert focal(easy, target) < 0.01 * ce(easy, target)
    assert focal(hard, target) > 0.5 * ce(hard, target)


def test_alpha_length_must_match_classes(batch) -> None:
    logits, target = batch
    with pytest.raises(ValueError, match="3 values for 4 classes"):
        FocalLoss(2.0, torch.ones(3))(logits, target)


def test_class_alpha_modes() -> None:
    assert class_alpha("none", [10, 20]) is None
    alpha = class_alpha("inverse_frequency", [10, 20, 40])
    assert alpha is not None
    torch.testing.assert_close(alpha.mean(), torch.tensor(1.0))
    torch.testing.assert_close(alpha / alpha[0], torch.tensor([1.0, 0.5, 0.25]))
    torch.testing.assert_close(class_alpha([1.0, 2.0], [5, 5]), torch.tensor([1.0, 2.0]))


def test_class_alpha_errors() -> None:
    with pytest.raises(ValueError, match=r"3 values but there are 2 classes"):
        class_alpha([1.0, 2.0, 3.0], [5, 5])
    with pytest.raises(ValueError, match=r"\[1\]"):
        class_alpha("inverse_frequency", [5, 0])
    with pytest.raises(ValueError, match="alpha must be"):
        class_alpha("balanced", [5, 5])


def test_build_loss() -> None:
    focal = build_loss(LossConfig(kind="focal", gamma=1.5, alpha="inverse_frequency"), [1, 3])
    assert isinstance(focal, FocalLoss) and focal.gamma == 1.5
    torch.testing.assert_close(focal.alpha, torch.tensor([1.5, 0.5]))
    ce = build_loss(LossConfig(kind="cross_entropy", alpha=[1.0, 2.0]), [4, 4])
    assert isinstance(ce, nn.CrossEntropyLoss)
    torch.testing.assert_close(ce.weight, torch.tensor([1.0, 2.0]))
    assert build_loss(LossConfig(kind="cross_entropy"), [4, 4]).weight is None


def test_weighted_sample_weights() -> None:
    labels = [0, 0, 0, 1, 2, 2]
    weights = weighted_sample_weights(labels)
    torch.testing.assert_close(
        weights, torch.tensor([1 / 3, 1 / 3, 1 / 3, 1.0, 0.5, 0.5], dtype=torch.float64))
    per_class = torch.zeros(3, dtype=torch.float64).index_add_(0, torch.tensor(labels), weights)
    torch.testing.assert_close(per_class, torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError):
        weighted_sample_weights([])
