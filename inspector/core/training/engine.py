"""One training epoch and batched inference: the loops that fit() and evaluation share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from inspector.core.models.pretrained import IMAGENET_MEAN, IMAGENET_STD
from inspector.core.training.data import EpochSampler, ImageDataset


class Normalizer:
    """uint8 NCHW batch -> normalised float on the device, channels_last (faster convolutions
    on CUDA and, measured here, ~15% faster training steps on the CPU too)."""

    def __init__(self, device: torch.device, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD) -> None:
        self.device = device
        self.mean = torch.tensor(mean, device=device).view(1, 3, 1, 1) * 255.0
        self.std = torch.tensor(std, device=device).view(1, 3, 1, 1) * 255.0

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(self.device, non_blocking=True).float()
        return ((batch - self.mean) / self.std).contiguous(memory_format=torch.channels_last)


def make_loader(dataset: ImageDataset, batch_size: int, workers: int, sampler=None,
                drop_last: bool = False, pin_memory: bool = False) -> DataLoader:
    if sampler is None:  # evaluation: every image once, in order
        sampler = EpochSampler(len(dataset), seed=0, shuffle=False)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                      persistent_workers=workers > 0, drop_last=drop_last,
                      pin_memory=pin_memory, prefetch_factor=4 if workers > 0 else None)


@dataclass
class BatchStats:
    batch: int
    batches: int
    loss: float
    correct: int
    seen: int
    seconds: float


@dataclass
class EpochStats:
    """Running totals of an epoch; an epoch resumed after a stop carries on from them."""

    loss_sum: float = 0.0
    correct: int = 0
    images: int = 0
    seconds: float = 0.0
    completed: bool = True
    batches_done: int = 0

    @property
    def loss(self) -> float:
        return self.loss_sum / self.images if self.images else float("nan")

    @property
    def accuracy(self) -> float:
        return self.correct / self.images if self.images else float("nan")

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0


def train_one_epoch(model: nn.Module, loader: DataLoader, normalize: Normalizer,
                    criterion: nn.Module, optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler,
                    scaler: torch.amp.GradScaler | None, first_batch: int,
                    on_batch: Callable[[BatchStats], None] | None = None,
                    stop_event: threading.Event | None = None,
                    batch_seed: Callable[[int], int] | None = None,
                    carried: EpochStats | None = None) -> EpochStats:
    """Train until the loader is exhausted or the stop event is set (checked before each batch).

    `batch_seed(batch)` reseeds torch's generator (dropout) before each batch, so that a run
    resumed in the middle of an epoch draws the same masks as an uninterrupted one.
    """
    model.train()
    device_type = normalize.device.type
    total = first_batch + len(loader)
    stats = EpochStats(batches_done=first_batch)
    if carried is not None:
        stats.loss_sum, stats.correct = carried.loss_sum, carried.correct
        stats.images, stats.seconds = carried.images, carried.seconds
    start = time.perf_counter() - stats.seconds
    for batch, (images, labels) in enumerate(loader, first_batch):
        if stop_event is not None and stop_event.is_set():
            stats.completed = False
            break
        tick = time.perf_counter()
        if batch_seed is not None:
            torch.manual_seed(batch_seed(batch))
        inputs = normalize(images)
        targets = labels.to(normalize.device, non_blocking=True)
        with torch.autocast(device_type, dtype=torch.float16, enabled=scaler is not None):
            logits = model(inputs)
            loss = criterion(logits.float(), targets)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        scheduler.step()
        n = len(targets)
        batch_loss = float(loss.detach())
        batch_correct = int((logits.detach().argmax(1) == targets).sum())
        stats.loss_sum += batch_loss * n
        stats.correct += batch_correct
        stats.images += n
        stats.batches_done = batch + 1
        if on_batch is not None:
            on_batch(BatchStats(batch + 1, total, batch_loss, batch_correct, n,
                                time.perf_counter() - tick))
    stats.seconds = time.perf_counter() - start
    return stats


@torch.no_grad()
def predict_logits(model: nn.Module, items: Sequence[tuple[Path, int]], input_size: int,
                   device: torch.device, batch_size: int = 64, workers: int = 0,
                   max_pixels: int = 80_000_000,
                   stop_event: threading.Event | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels for every item, with the evaluation preprocessing."""
    model.eval()
    dataset = ImageDataset(items, None, input_size, max_pixels)
    loader = make_loader(dataset, batch_size, workers)
    normalize = Normalizer(device)
    outputs, labels = [], []
    with torch.autocast(device.type, dtype=torch.float16, enabled=device.type == "cuda"):
        for images, targets in loader:
            if stop_event is not None and stop_event.is_set():
                break
            outputs.append(model(normalize(images)).float().cpu())
            labels.append(targets)
    if not outputs:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    return torch.cat(outputs).numpy(), torch.cat(labels).numpy()
