"""CBAM: Convolutional Block Attention Module (Woo et al., ECCV 2018), identity at initialisation.

A CBAM block refines a feature map twice: first every channel is scaled by a channel-attention
gate, then every position by a spatial-attention gate.

Identity at initialisation
--------------------------
CBAM is inserted into a network whose other layers carry ImageNet weights. The paper's gate,
``sigmoid(z)``, is 0.5 at a neutral ``z`` and would halve every feature it touches, so the
pretrained features would be wrecked on the first forward pass. Here the gate is
``2 * sigmoid(z)`` instead, and the layer that produces ``z`` (the second linear layer of the
channel MLP, and the 7x7 convolution of the spatial branch) starts with zero weights and zero bias.
Then ``z == 0`` exactly, ``2 * sigmoid(0) == 2 * 0.5 == 1.0`` exactly in floating point, and
``x * 1.0 == x`` bit for bit: at initialisation CBAM is an exact identity.

It still learns from the first step: the gradient of a zero-initialised layer's weight is its
input (the hidden ReLU activations, or the pooled channel maps, which are non-zero) times the
gradient of ``z`` (``dL/dgate * 2 * sigmoid'(0) = dL/dgate / 2``, non-zero), so those weights
move on step one. Only the first MLP layer gets no gradient on step one (the zero second layer
blocks it); it starts learning on step two, once the second layer has moved.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn


def _gate(z: Tensor) -> Tensor:
    """2 * sigmoid(z): exactly 1 at z == 0, between 0 and 2 otherwise."""
    return 2.0 * torch.sigmoid(z)


class ChannelAttention(nn.Module):
    """Average- and max-pooled channel descriptors -> shared MLP -> sum -> gate (N, C, 1, 1).

    The MLP is two linear layers with ``max(channels // reduction, 8)`` hidden units, run once on
    both descriptors stacked (cheaper than 1x1 convolutions on 1x1 maps, which oneDNN handles
    slowly on CPU). ``forward`` returns the gate; :class:`CBAM` multiplies it in.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        if channels < 1 or reduction < 1:
            raise ValueError(f"channels and reduction must be >= 1, not {channels}, {reduction}")
        hidden = max(channels // reduction, 8)
        self.fc1 = nn.Linear(channels, hidden)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(hidden, channels)
        # The layer that produces z starts at zero: gate == 1 exactly (see the module docstring).
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x: Tensor) -> Tensor:
        n, c = x.shape[:2]
        # adaptive_max_pool2d keeps the argmax, so its backward is a cheap scatter.
        pooled = torch.cat([x.mean((2, 3)), F.adaptive_max_pool2d(x, 1).flatten(1)], dim=0)
        z = self.fc2(self.relu(self.fc1(pooled)))
        return _gate(z[:n] + z[n:]).view(n, c, 1, 1)


class SpatialAttention(nn.Module):
    """Channel-wise average and max -> k x k convolution -> gate (N, 1, H, W).

    ``forward`` returns the gate; :class:`CBAM` multiplies it in.
    """

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and >= 1, not {kernel_size}")
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=True)
        # The layer that produces z starts at zero: gate == 1 exactly (see the module docstring).
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        maps = torch.cat(
            [torch.mean(x, dim=1, keepdim=True), torch.max(x, dim=1, keepdim=True).values], dim=1
        )
        return _gate(self.conv(maps))


class CBAM(nn.Module):
    """Channel attention, then spatial attention; ``forward(x)`` returns x refined, same shape.

    An exact identity at initialisation (see the module docstring).
    """

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7) -> None:
        super().__init__()
        self.channel = ChannelAttention(channels, reduction)
        self.spatial = SpatialAttention(kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        x = x * self.channel(x)
        return x * self.spatial(x)
