"""Training throughput, in one run on the same data:

    reference   bare forward pass (eval, no grad) of the model, images/s
    pipeline    the data pipeline alone: files -> decode -> albumentations -> loader, images/s
    in-memory   training steps on batches already in memory, default freezing and full fine-tuning
    real        training steps fed by the real pipeline, default freezing

Targets: default freezing >= 1.8x full fine-tuning; real >= 90% of in-memory.

    .venv/bin/python bench/bench_train.py [--size 128] [--batch 16] [--batches 12]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import torch

from inspector.config import InspectorConfig
from inspector.core.data.dataset import Dataset
from inspector.core.data.synthetic import generate_patch_dataset
from inspector.core.models import build_model, freeze_stages, trainable_parameter_groups
from inspector.core.models.losses import build_loss
from inspector.core.training.data import EpochSampler, ImageDataset, collect_splits, default_workers
from inspector.core.training.engine import Normalizer, make_loader


def _rate(step, batches: int, batch: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(batches):
        step()
    return batches * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--batches", type=int, default=12)
    args = parser.parse_args()
    torch.manual_seed(0)
    config = InspectorConfig()
    config.model.input_size = args.size
    device = torch.device("cpu")
    normalize = Normalizer(device)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        generate_patch_dataset(root, per_class=40, seed=1, size=args.size)
        splits = collect_splits(Dataset(root))
        items = splits.items["train"]
        dataset = ImageDataset(items, config.augment, args.size, 10**8)
        sampler = EpochSampler(len(items), seed=0)
        workers = default_workers()
        loader = make_loader(dataset, args.batch, workers, sampler, drop_last=True)

        def batches():
            epoch = 0
            while True:
                sampler.set_epoch(epoch)
                yield from loader
                epoch += 1

        stream = batches()
        pipeline = _rate(lambda: next(stream), args.batches * 2, args.batch)
        memory = [next(stream) for _ in range(4)]
        cycle = itertools.cycle(memory)
        criterion = build_loss(config.train.loss, [1] * len(splits.classes))

        def trainer(frozen: list[str], source):
            model = build_model(config.model, len(splits.classes))
            model.to(memory_format=torch.channels_last)  # as fit() does
            freeze_stages(model, frozen)
            model.train()
            optimizer = torch.optim.AdamW(trainable_parameter_groups(model, 1e-4, 1e-3, 1e-4))

            def step() -> None:
                images, labels = next(source)
                loss = criterion(model(normalize(images)), labels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

            return model, step

        model, _ = trainer([], cycle)
        model.eval()
        x = normalize(memory[0][0])
        with torch.no_grad():
            reference = _rate(lambda: model(x), args.batches, args.batch)
        default = list(config.model.frozen_stages)
        _, step = trainer(default, cycle)
        frozen_mem = _rate(step, args.batches, args.batch)
        _, step = trainer([], cycle)
        full_mem = _rate(step, args.batches, args.batch)
        _, step = trainer(default, stream)
        frozen_real = _rate(step, args.batches, args.batch)

    print(f"input {args.size}px, batch {args.batch}, {torch.get_num_threads()} threads, "
          f"{workers} loader workers")
    print(f"reference  forward pass (eval, no grad)     {reference:8.1f} img/s")
    print(f"pipeline   files+augment+loader alone       {pipeline:8.1f} img/s")
    print(f"in-memory  train step, default freezing     {frozen_mem:8.1f} img/s "
          f"({frozen_mem / reference:.2f}x forward)")
    print(f"in-memory  train step, full fine-tuning     {full_mem:8.1f} img/s "
          f"({full_mem / reference:.2f}x forward)")
    print(f"real       train step, default freezing     {frozen_real:8.1f} img/s")
    print(f"freezing speed-up: {frozen_mem / full_mem:.2f}x  (target >= 1.8x)")
    print(f"real pipeline keeps {frozen_real / frozen_mem:.0%} of in-memory  (target >= 90%)")


if __name__ == "__main__":
    main()
