"""Partial freezing: frozen weights and BatchNorm statistics never move; the rest trains."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inspector.core.models.freezing import freeze_stages, trainable_parameter_groups
from inspector.core.models.resnet_cbam import ResNetCBAM

DEFAULT_FROZEN = ("stem", "layer1", "layer2")
FROZEN_PREFIXES = ("conv1.", "bn1.", "layer1.", "layer2.")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny inputs: one thread is as fast, and immune to OpenMP stalls when the CPU is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _model() -> ResNetCBAM:
    torch.manual_seed(0)
    return ResNetCBAM(3, cbam_stages=("layer3", "layer4"))


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _train(model: ResNetCBAM, steps: int = 2) -> None:
    torch.manual_seed(1)
    model.train()
    optimiser = torch.optim.AdamW(trainable_parameter_groups(model, 1e-3, 1e-2, 1e-2))
    for _ in range(steps):
        x, y = torch.randn(4, 3, 32, 32), torch.randint(0, 3, (4,))
        optimiser.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimiser.step()


def _changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> set[str]:
    return {k for k in before if not torch.equal(before[k], after[k])}


def test_default_freezing_sets_requires_grad_exactly() -> None:
    model = _model()
    freeze_stages(model, list(DEFAULT_FROZEN))
    assert model.frozen_stages == DEFAULT_FROZEN
    for name, param in model.named_parameters():
        assert param.requires_grad == (not name.startswith(FROZEN_PREFIXES)), name


def test_frozen_stages_keep_weights_and_bn_statistics_while_the_rest_trains() -> None:
    model = _model()
    freeze_stages(model, list(DEFAULT_FROZEN))
    model.train()
    for name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            assert module.training == (not f"{name}.".startswith(FROZEN_PREFIXES)), name
    before = _snapshot(model)
    _train(model)
    changed = _changed(before, _snapshot(model))
    frozen_changed = {k for k in changed if k.startswith(FROZEN_PREFIXES)}
    assert frozen_changed == set()
    for prefix in ("layer3.", "layer4."):
        for suffix in ("bn1.running_mean", "bn2.running_var", "bn3.num_batches_tracked",
                       "conv2.weight", "bn3.weight", "cbam.channel.fc2.weight",
                       "cbam.spatial.conv.weight"):
            assert f"{prefix}1.{suffix}" in changed, f"{prefix}1.{suffix}"
    assert {"fc.weight", "fc.bias"} <= changed
    # Training mode survives for the rest; eval() still reaches everything.
    assert model.layer3[0].bn1.training and not model.layer2[0].bn1.training
    model.eval()
    assert not any(m.training for m in model.modules())


def test_unfrozen_model_trains_everything() -> None:
    model = _model()
    before = _snapshot(model)
    _train(model)
    unchanged = set(before) - _changed(before, _snapshot(model))
    assert unchanged == set()


def test_frozen_prefix_keeps_no_graph_while_training() -> None:
    model = _model()
    freeze_stages(model, list(DEFAULT_FROZEN))
    seen: dict[str, bool] = {}
    for stage in ("layer2", "layer3"):
        getattr(model, stage).register_forward_hook(
            lambda _m, _i, out, stage=stage: seen.__setitem__(stage, out.requires_grad))
    model.train()
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    assert seen == {"layer2": False, "layer3": True}
    # An input that asks for a gradient gets one: the prefix is not cut then.
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    model(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_non_prefix_freezing_still_lets_gradients_through() -> None:
    model = _model()
    freeze_stages(model, ["layer2"])
    assert model.frozen_stages == ("layer2",)
    before = _snapshot(model)
    _train(model)
    changed = _changed(before, _snapshot(model))
    assert not {k for k in changed if k.startswith("layer2.")}
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight"} <= changed


def test_freezing_nothing_unfreezes() -> None:
    model = _model()
    freeze_stages(model, list(DEFAULT_FROZEN))
    freeze_stages(model, [])
    model.train()
    assert model.frozen_stages == ()
    assert all(p.requires_grad for p in model.parameters())
    assert all(m.training for m in model.modules())


def test_unknown_stage_refused() -> None:
    with pytest.raises(ValueError, match="layer5"):
        freeze_stages(_model(), ["layer5"])


def test_parameter_groups() -> None:
    model = _model()
    freeze_stages(model, list(DEFAULT_FROZEN))
    groups = trainable_parameter_groups(model, lr_backbone=1e-4, lr_head=1e-3, weight_decay=0.05)
    by_name = {g["name"]: g for g in groups}
    assert list(by_name) == ["backbone", "backbone_no_decay", "head", "head_no_decay"]
    assert by_name["backbone"]["lr"] == by_name["backbone_no_decay"]["lr"] == 1e-4
    assert by_name["head"]["lr"] == by_name["head_no_decay"]["lr"] == 1e-3
    assert by_name["backbone"]["weight_decay"] == by_name["head"]["weight_decay"] == 0.05
    assert by_name["backbone_no_decay"]["weight_decay"] == 0.0
    assert by_name["head_no_decay"]["weight_decay"] == 0.0

    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids))
    names = {id(p): n for n, p in model.named_parameters()}
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert set(ids) == trainable
    for group in groups:
        for param in group["params"]:
            name = names[id(param)]
            is_head = name.startswith("fc.") or ".cbam." in name
            assert is_head == group["name"].startswith("head"), name
            assert (param.ndim <= 1) == group["name"].endswith("no_decay"), name
    assert "model.layer3.0.bn1.weight" not in names.values()
    torch.optim.AdamW(groups)  # accepted as is (the extra "name" key included)


def test_empty_groups_are_left_out() -> None:
    model = ResNetCBAM(2, cbam_stages=())
    freeze_stages(model, ["stem", "layer1", "layer2", "layer3", "layer4"])
    groups = trainable_parameter_groups(model, 1e-4, 1e-3, 0.0)
    assert [g["name"] for g in groups] == ["head", "head_no_decay"]
