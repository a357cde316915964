"""Training speed with the default partial freezing versus full fine-tuning.

Measures images/s of a training step (forward + cross-entropy + backward + AdamW step) of the
ResNet-50 + CBAM classifier with the default frozen stages (stem, layer1, layer2) and with none,
plus the bare forward pass (eval mode, no_grad) as the reference measured in the same run.
Target: frozen >= 1.8x full fine-tuning at the same input size.

    python bench/bench_freezing.py [--batch 16] [--size 128] [--rounds 4] [--channels-last]
                                   [--fused] [--plain]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from inspector.config import ModelConfig
from inspector.core.models import (
    build_model,
    freeze_stages,
    trainable_parameter_groups,
)

TARGET_RATIO = 1.8


def _model(frozen: list[str], memory_format: torch.memory_format) -> nn.Module:
    torch.manual_seed(0)
    model = build_model(ModelConfig(), num_classes=4).to(memory_format=memory_format)
    freeze_stages(model, frozen)
    return model


def _train_step(frozen: list[str], x: torch.Tensor, y: torch.Tensor,
                memory_format: torch.memory_format, fused: bool) -> Callable[[], None]:
    model = _model(frozen, memory_format).train()
    optimiser = torch.optim.AdamW(trainable_parameter_groups(model, 1e-4, 1e-3, 1e-4),
                                  fused=fused or None)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        optimiser.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimiser.step()

    return step


def _plain_train_step(frozen: bool, x: torch.Tensor, y: torch.Tensor,
                      memory_format: torch.memory_format, fused: bool) -> Callable[[], None]:
    """A bare loop on torchvision's own ResNet-50 (no CBAM), frozen by requires_grad alone."""
    from torchvision.models import resnet50

    torch.manual_seed(0)
    model = resnet50(weights=None, num_classes=4).to(memory_format=memory_format).train()
    if frozen:
        for module in (model.conv1, model.bn1, model.layer1, model.layer2):
            module.requires_grad_(False)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  fused=fused or None)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        optimiser.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimiser.step()

    return step


def _forward_step(x: torch.Tensor, memory_format: torch.memory_format) -> Callable[[], None]:
    model = _model([], memory_format).eval()

    def step() -> None:
        with torch.no_grad():
            model(x)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=4, help="timed rounds after one warm-up")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--fused", action="store_true", help="fused AdamW (faster on CPU too)")
    parser.add_argument("--plain", action="store_true",
                        help="also time torchvision's plain ResNet-50 frozen by requires_grad")
    args = parser.parse_args()

    torch.set_num_threads(os.cpu_count() or 1)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, args.size, args.size).to(memory_format=memory_format)
    y = torch.randint(0, 4, (args.batch,))
    default_frozen = list(ModelConfig().frozen_stages)
    steps = {
        "reference: forward only (eval, no_grad)": _forward_step(x, memory_format),
        "train step, full fine-tuning": _train_step([], x, y, memory_format, args.fused),
        f"train step, frozen {'+'.join(default_frozen)}": _train_step(
            default_frozen, x, y, memory_format, args.fused),
    }
    if args.plain:
        steps["plain torchvision: full fine-tuning"] = _plain_train_step(
            False, x, y, memory_format, args.fused)
        steps["plain torchvision: stem..layer2 frozen"] = _plain_train_step(
            True, x, y, memory_format, args.fused)
    print(f"ResNet-50 + CBAM (layer3, layer4), batch {args.batch}, {args.size} px, "
          f"{torch.get_num_threads()} threads, "
          f"{'channels_last' if args.channels_last else 'contiguous'}, "
          f"{'fused' if args.fused else 'foreach'} AdamW, torch {torch.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}")
    # Rounds interleave the three, so a burst of load from elsewhere hits all of them alike;
    # the best round of each is its speed on an idle machine, the median a busier one.
    times: dict[str, list[float]] = {name: [] for name in steps}
    for round_ in range(args.rounds + 1):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if round_:  # round 0 warms up (allocations, oneDNN kernels)
                times[name].append(time.perf_counter() - start)
    rates = {}
    for name, seconds in times.items():
        best, median = min(seconds), statistics.median(seconds)
        rates[name] = (args.batch / best, args.batch / median)
        print(f"{name:<48} {rates[name][0]:6.1f} images/s best, {rates[name][1]:6.1f} median")
    forward, full, frozen = list(rates.values())[:3]
    ratio = frozen[0] / full[0]
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"frozen / full: {ratio:.2f}x best, {frozen[1] / full[1]:.2f}x median "
          f"({verdict} the {TARGET_RATIO}x target); speed relative to forward only: "
          f"full {full[0] / forward[0]:.2f}, frozen {frozen[0] / forward[0]:.2f}")
    if args.plain:
        plain_full, plain_frozen = list(rates.values())[3:]
        print(f"plain torchvision frozen / full: {plain_frozen[0] / plain_full[0]:.2f}x best, "
              f"{plain_frozen[1] / plain_full[1]:.2f}x median")


if __name__ == "__main__":
    main()
