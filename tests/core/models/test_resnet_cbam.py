"""ResNetCBAM: torchvision's layout and keys, and CBAM that leaves pretrained features intact."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models import resnet50

from inspector.config import ModelConfig
from inspector.core.models.resnet_cbam import (
    CBAMBottleneck,
    ResNetCBAM,
    build_model,
    widen_head,
)

STAGES = ("stem", "layer1", "layer2", "layer3", "layer4")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny inputs: one thread is as fast, and immune to OpenMP stalls when the CPU is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _plain_stage_outputs(plain: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    out = {"stem": plain.maxpool(plain.relu(plain.bn1(plain.conv1(x))))}
    x = out["stem"]
    for stage in STAGES[1:]:
        x = getattr(plain, stage)(x)
        out[stage] = x
    return out


@pytest.fixture(scope="module")
def plain_and_cbam() -> tuple[nn.Module, ResNetCBAM]:
    """A plain torchvision ResNet-50 with non-trivial BN statistics, and a ResNetCBAM (CBAM in
    layer3 and layer4) carrying the same weights."""
    torch.manual_seed(0)
    plain = resnet50(weights=None, num_classes=3)
    with torch.no_grad():
        for module in plain.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
    model = ResNetCBAM(3, cbam_stages=("layer3", "layer4"))
    result = model.load_state_dict(plain.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys and all(".cbam." in k for k in result.missing_keys)
    return plain.eval(), model.eval()


def test_cbam_at_init_leaves_pretrained_features_unchanged(plain_and_cbam) -> None:
    plain, model = plain_and_cbam
    torch.manual_seed(1)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = _plain_stage_outputs(plain, x)
        got = model.stage_outputs(x)
        assert list(got) == list(STAGES)
        for stage in STAGES:
            torch.testing.assert_close(got[stage], expected[stage], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(model(x), plain(x), atol=1e-5, rtol=1e-5)


def test_state_dict_keys_extend_torchvision(plain_and_cbam) -> None:
    plain, model = plain_and_cbam
    ours, theirs = set(model.state_dict()), set(plain.state_dict())
    assert ours >= theirs
    extra = ours - theirs
    assert extra and all(".cbam." in k for k in extra)
    assert {k.split(".")[0] for k in extra} == {"layer3", "layer4"}
    assert "layer3.0.cbam.channel.fc2.weight" in extra
    assert {k for k in ours if k.startswith("fc.")} == {"fc.weight", "fc.bias"}
    assert all(isinstance(block, CBAMBottleneck) for block in model.layer3)
    assert not any(isinstance(block, CBAMBottleneck) for block in model.layer2)
    assert model.cbam_stages == ("layer3", "layer4")
    assert model.frozen_stages == ()


def test_forward_with_features_is_one_consistent_pass(plain_and_cbam) -> None:
    _, model = plain_and_cbam
    torch.manual_seed(2)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits, features = model.forward_with_features(x)
        assert logits.shape == (2, 3)
        assert features.shape == (2, 2048, 2, 2)
        torch.testing.assert_close(logits, model(x))
        pooled = features.mean(dim=(2, 3))
        torch.testing.assert_close(logits, model.fc(pooled), atol=1e-5, rtol=1e-5)


def test_channels_last_input(plain_and_cbam) -> None:
    _, model = plain_and_cbam
    torch.manual_seed(3)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
        got = model(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_build_model_follows_config() -> None:
    config = ModelConfig(cbam_stages=["layer2"], cbam_reduction=8, dropout=0.3)
    model = build_model(config, 5)
    assert model.num_classes == 5 and model.fc.out_features == 5
    assert model.cbam_stages == ("layer2",)
    assert isinstance(model.layer2[0], CBAMBottleneck)
    assert not isinstance(model.layer3[0], CBAMBottleneck)
    assert model.layer2[0].cbam.channel.fc1.out_features == 512 // 8
    assert model.dropout.p == 0.3


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_classes_refused(n: int) -> None:
    with pytest.raises(ValueError, match="at least 2 classes"):
        build_model(ModelConfig(), n)
    with pytest.raises(ValueError, match="at least 2 classes"):
        ResNetCBAM(n)


def test_unknown_cbam_stage_refused() -> None:
    with pytest.raises(ValueError, match="CBAM stages"):
        ResNetCBAM(2, cbam_stages=("stem",))


def test_widen_head_keeps_chosen_rows() -> None:
    torch.manual_seed(4)
    model = ResNetCBAM(2, cbam_stages=())
    old_w, old_b = model.fc.weight.detach().clone(), model.fc.bias.detach().clone()
    widen_head(model, 3, [1, None, 0])
    assert model.num_classes == 3 and model.fc.out_features == 3
    torch.testing.assert_close(model.fc.weight[0], old_w[1])
    torch.testing.assert_close(model.fc.bias[2], old_b[0])
    with pytest.raises(ValueError):
        widen_head(model, 4, [0, 1, 2])
    with pytest.raises(ValueError):
        widen_head(model, 2, [0, 7])
