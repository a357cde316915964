"""CBAM: an exact identity at initialisation that still learns from the first step."""

from __future__ import annotations

import pytest
import torch

from inspector.core.models.cbam import CBAM, ChannelAttention, SpatialAttention


@pytest.mark.parametrize(("channels", "reduction"), [(32, 16), (64, 4), (4, 16)])
def test_identity_at_init_is_exact(channels: int, reduction: int) -> None:
    torch.manual_seed(0)
    cbam = CBAM(channels, reduction)
    x = torch.randn(2, channels, 8, 8) * 5
    assert torch.equal(cbam(x), x)
    assert torch.equal(cbam(x.to(memory_format=torch.channels_last)), x)


def test_gate_shapes_and_range() -> None:
    torch.manual_seed(0)
    x = torch.randn(3, 32, 6, 5)
    channel, spatial = ChannelAttention(32, 16), SpatialAttention(7)
    assert channel(x).shape == (3, 32, 1, 1)
    assert spatial(x).shape == (3, 1, 6, 5)
    assert torch.equal(channel(x), torch.ones(3, 32, 1, 1))
    torch.nn.init.normal_(channel.fc2.weight, std=10.0)
    torch.nn.init.normal_(spatial.conv.weight, std=10.0)
    for gate in (channel(x), spatial(x)):
        assert gate.min() >= 0 and gate.max() <= 2
    assert CBAM(32)(x).shape == x.shape


@pytest.mark.parametrize(("channels", "reduction", "hidden"), [(2048, 16, 128), (64, 16, 8),
                                                                (32, 2, 16)])
def test_mlp_hidden_size(channels: int, reduction: int, hidden: int) -> None:
    assert ChannelAttention(channels, reduction).fc1.out_features == hidden


def test_gradients_reach_the_zero_initialised_layers() -> None:
    torch.manual_seed(0)
    cbam = CBAM(32, 16)
    x = torch.randn(2, 32, 8, 8)
    target = torch.randn(2, 32, 8, 8)
    ((cbam(x) - target) ** 2).mean().backward()
    for param in (cbam.channel.fc2.weight, cbam.channel.fc2.bias,
                  cbam.spatial.conv.weight, cbam.spatial.conv.bias):
        assert param.grad is not None and param.grad.abs().sum() > 0


def test_output_changes_after_one_optimiser_step() -> None:
    torch.manual_seed(0)
    cbam = CBAM(32, 16)
    x = torch.randn(2, 32, 8, 8)
    target = torch.randn(2, 32, 8, 8)
    optimiser = torch.optim.SGD(cbam.parameters(), lr=0.1)
    ((cbam(x) - target) ** 2).mean().backward()
    optimiser.step()
    with torch.no_grad():
        assert not torch.allclose(cbam(x), x)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="odd"):
        SpatialAttention(4)
    with pytest.raises(ValueError, match="reduction"):
        ChannelAttention(32, 0)
