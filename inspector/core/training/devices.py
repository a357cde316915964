"""Choosing the compute device: the local GPU when there is one, the CPU otherwise."""

from __future__ import annotations

import logging

import torch

from inspector.core.errors import TrainingError

log = logging.getLogger(__name__)


def resolve_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    if name == "auto":
        return torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError(
            f"The device '{name}' was asked for, but no CUDA GPU is usable here (torch "
            f"{torch.__version__}, CUDA build {torch.version.cuda}). Use device 'auto' or 'cpu'."
        )
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name} ({props.total_memory / 2**30:.0f} GiB)"
    return f"CPU ({torch.get_num_threads()} threads)"
