"""Training data: the images of each split, decoded and augmented in DataLoader workers.

Augmentation is reproducible per (seed, epoch, index): the sampler hands each index together
with its own seed, and the sample's augmentation is seeded with it. A run therefore gives the
same batches whatever the number of workers, and a resumed run continues exactly where the
interrupted one stopped (the sampler can start in the middle of an epoch).

Samples leave the workers as uint8 CHW tensors (4x less to copy than float); normalisation
happens on the device, in the training step.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import Sampler

from inspector.config import AugmentConfig
from inspector.core.data.dataset import Dataset
from inspector.core.data.images import load_rgb
from inspector.core.data.split import SPLITS, SplitManifest
from inspector.core.errors import DatasetError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitData:
    """The labelled images of every split, for one fixed list of classes."""

    classes: list[str]
    items: dict[str, list[tuple[Path, int]]]  # split -> (path, class index)
    manifest: SplitManifest
    fingerprint: str  # changes when any image, label or split assignment changes

    def counts(self, split: str) -> list[int]:
        counts = [0] * len(self.classes)
        for _, label in self.items[split]:
            counts[label] += 1
        return counts


def collect_splits(dataset: Dataset) -> SplitData:
    """Every readable image with its class and split; refuses data that cannot be trained on.

    A managed dataset keeps its manifest up to date (new images get a split); for a plain
    folder the split is computed in memory, so nothing is written into the user's folder.
    """
    records, errors = dataset.records()
    for error in errors[:20]:
        log.warning("left out of training: %s", error)
    if errors:
        log.warning("%d unreadable images left out (run `inspector dataset check`)", len(errors))
    classes = [c for c in dataset.classes() if any(r.label == c for r in records)]
    empty = [c for c in dataset.classes() if c not in classes]
    if empty:
        log.warning("classes without images are left out: %s", ", ".join(empty))
    if not records:
        raise DatasetError(f"{dataset.root} has no readable images: nothing to train on.")
    if len(classes) < 2:
        raise DatasetError(
            f"{dataset.root} has images of one class only ({classes[0]}); a classifier needs at "
            "least two classes (for example 'ok' and one defect)."
        )
    if dataset.is_managed:
        dataset.split(records=records)
        manifest = dataset.manifest()
        assert manifest is not None
    else:
        manifest = SplitManifest(ratios=dataset.config.split.as_dict())
        by_class: dict[str, list[str]] = {}
        for record in records:
            by_class.setdefault(record.label, []).append(record.hash)
        manifest.assign(by_class)
    index = {c: i for i, c in enumerate(classes)}
    items: dict[str, list[tuple[Path, int]]] = {s: [] for s in SPLITS}
    digest = hashlib.blake2b(digest_size=16)
    for record in sorted(records, key=lambda r: (r.label, r.path.name)):
        split = manifest.split_of(record.hash) or "train"
        items[split].append((record.path, index[record.label]))
        digest.update(f"{record.hash} {record.label} {split}\n".encode())
    if not items["train"]:
        raise DatasetError("The training split is empty: add images or raise dataset.split.train.")
    if not items["val"]:
        raise DatasetError(
            "The validation split is empty, so training could not choose its best epoch. "
            "Add images (at least a few per class) or raise dataset.split.val."
        )
    return SplitData(classes, items, manifest, digest.hexdigest())


SAMPLE, SHUFFLE, BATCH = 0, 1, 2  # independent random streams derived from one seed


def sample_seed(seed: int, epoch: int, index: int, stream: int = SAMPLE) -> int:
    """A 32-bit seed for one item (sample, batch) of one epoch, independent of order."""
    mixed = np.random.SeedSequence([seed & 0xFFFFFFFF, epoch, index, stream]).generate_state(1)
    return int(mixed[0])


class EpochSampler(Sampler[tuple[int, int]]):
    """Yields (index, sample seed) for one epoch: a seeded shuffle (or a class-balanced draw
    with replacement when `weights` is given), this rank's share of it, from `start` on."""

    def __init__(self, n: int, seed: int, weights: torch.Tensor | None = None, rank: int = 0,
                 world: int = 1, shuffle: bool = True) -> None:
        self.n, self.seed, self.weights = n, seed, weights
        self.rank, self.world, self.shuffle = rank, world, shuffle
        self.epoch = 0
        self.start = 0
        self.per_rank = -(-n // world)  # ceil: every rank gets the same number of samples

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def order(self) -> list[int]:
        generator = torch.Generator().manual_seed(sample_seed(self.seed, self.epoch, 0, SHUFFLE))
        if self.weights is not None:
            total = self.per_rank * self.world
            picks = torch.multinomial(self.weights, total, True, generator=generator)
        elif self.shuffle:
            picks = torch.randperm(self.n, generator=generator)
        else:
            picks = torch.arange(self.n)
        order = picks.tolist()
        order += order[: self.per_rank * self.world - len(order)]  # pad so ranks stay in step
        return order[self.rank :: self.world]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        order = self.order()
        for position in range(self.start, len(order)):
            index = order[position]
            yield index, sample_seed(self.seed, self.epoch, position * self.world + self.rank)

    def __len__(self) -> int:
        return max(0, self.per_rank - self.start)


class ImageDataset(TorchDataset):
    """Decodes and augments one image per (index, seed); returns (uint8 CHW tensor, label)."""

    def __init__(self, items: Sequence[tuple[Path, int]], augment: AugmentConfig | None,
                 input_size: int, max_pixels: int) -> None:
        self.items = list(items)
        self.augment = augment
        self.input_size = input_size
        self.max_pixels = max_pixels
        self._pipeline = None  # built lazily in each worker process (not pickled)

    def __len__(self) -> int:
        return len(self.items)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_pipeline"] = None
        return state

    def pipeline(self):
        if self._pipeline is None:
            from inspector.core.data.augment import eval_pipeline, train_pipeline

            if self.augment is None:
                self._pipeline = eval_pipeline(self.input_size)
            else:
                self._pipeline = train_pipeline(self.augment, self.input_size, seed=0)
        return self._pipeline

    def __getitem__(self, key: tuple[int, int] | int) -> tuple[torch.Tensor, int]:
        index, seed = key if isinstance(key, tuple) else (key, 0)
        path, label = self.items[index]
        image = load_rgb(path, self.max_pixels)
        pipeline = self.pipeline()
        if self.augment is not None:
            pipeline.set_random_seed(seed)
        out = pipeline(image=image)["image"]
        return torch.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1))), label


def default_workers() -> int:
    """Leave one core to the training step; more than 8 decoding processes rarely helps."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, min(8, (cores or 1) - 1))
