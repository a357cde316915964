"""A new defect class: retraining warm-started from the active model versus from the backbone.

On synthetic patches: v1 is trained on six classes; a seventh class is added; then v2 is
trained twice on the seven classes, warm-started from v1 (head widened, old rows kept) and from
the backbone alone (ImageNet weights when found, random weights otherwise: the same start v1
had). After every epoch the old six classes' accuracy on the test split is measured from the
run's last checkpoint. Printed: the epoch at which each run first reaches v1's accuracy on
those classes (the reference, measured in the same run), the seconds it took, and the ratio.

    python bench/bench_warm_start.py [--per-class 60] [--size 64] [--epochs 10] [--v1-epochs 10]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from inspector.config import InspectorConfig
from inspector.core.data.dataset import Dataset
from inspector.core.data.synthetic import generate_patch_dataset
from inspector.core.training.fit import TrainProgress, fit

OLD = ("ok", "open", "short", "mousebite", "spur", "missing_hole")
NEW = "pin_hole"


def old_class_accuracy(model_path: Path, dataset: Dataset) -> float:
    """Accuracy on the test images of the old classes (prediction among all the model's)."""
    import torch

    from inspector.core.training.checkpoint import build_model_from_checkpoint, load_checkpoint
    from inspector.core.training.data import collect_splits
    from inspector.core.training.engine import predict_logits

    checkpoint = load_checkpoint(model_path)
    splits = collect_splits(dataset)
    items = [(p, checkpoint.classes.index(splits.classes[i])) for p, i in splits.items["test"]
             if splits.classes[i] in OLD]
    model = build_model_from_checkpoint(checkpoint)
    logits, labels = predict_logits(model, items, checkpoint.input_size, torch.device("cpu"))
    return float((logits.argmax(1) == labels).mean())


def run(config: InspectorConfig, dataset: Dataset, out: Path, warm: Path | None,
        target: float) -> tuple[list[float], list[float], int | None]:
    accuracies: list[float] = []
    seconds: list[float] = []
    start = time.perf_counter()

    def on_progress(p: TrainProgress) -> None:
        if p.stage == "epoch":
            seconds.append(time.perf_counter() - start)
            accuracies.append(old_class_accuracy(out / "last.safetensors", dataset))
            print(f"  {'warm' if warm else 'backbone'} epoch {p.epoch}: old-class test "
                  f"accuracy {accuracies[-1]:.3f} ({seconds[-1]:.0f} s)", flush=True)

    fit(config, dataset, out, on_progress, warm_start=warm)
    reached = next((i + 1 for i, a in enumerate(accuracies) if a >= target), None)
    return accuracies, seconds, reached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--v1-epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    config = InspectorConfig()
    config.model.input_size = args.size
    config.train.workers = 0
    config.train.patience = 0
    config.train.seed = args.seed
    from inspector.core.models.pretrained import find_imagenet_weights

    if find_imagenet_weights(config.model.imagenet_weights) is None:
        # as the demo does: from random weights a bolder rate converges in a few epochs
        config.train.lr_head = max(config.train.lr_head, 2e-3)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = root / "data"
        generate_patch_dataset(data, per_class=args.per_class, seed=args.seed, size=args.size,
                               classes=OLD, style="scan")
        dataset = Dataset.create(data)
        dataset.split()
        config.train.epochs = args.v1_epochs
        print(f"v1: {len(OLD)} classes, {args.per_class} images each, {args.size} px, "
              f"{args.v1_epochs} epochs", flush=True)
        t0 = time.perf_counter()
        v1 = fit(config, dataset, root / "v1")
        v1_seconds = time.perf_counter() - t0
        target = old_class_accuracy(v1.best_path, dataset)
        print(f"v1: old-class test accuracy {target:.3f} in {v1_seconds:.0f} s "
              f"(weights: {v1.pretrained or 'random, no ImageNet weights found'})", flush=True)

        generate_patch_dataset(data, per_class=args.per_class, seed=args.seed + 1,
                               size=args.size, classes=(NEW,), style="scan")
        dataset = Dataset(data)
        dataset.keep_split_current()
        config.train.epochs = args.epochs
        print(f"v2 with '{NEW}' added, {args.epochs} epochs each:", flush=True)
        warm = run(config, dataset, root / "warm", v1.out_dir, target)
        cold = run(config, dataset, root / "cold", None, target)

    print()
    print(f"reference: v1 reaches {target:.3f} on the old classes ({args.v1_epochs} epochs)")
    for name, (acc, secs, reached) in (("warm start", warm), ("backbone", cold)):
        when = (f"reaches it at epoch {reached} ({secs[reached - 1]:.0f} s)" if reached
                else f"does not reach it within {len(acc)} epochs (best {max(acc):.3f})")
        print(f"{name:>10}: {when}; final {acc[-1]:.3f}")
    if warm[2] and cold[2]:
        print(f"warm start needs {cold[2] / warm[2]:.1f}x fewer epochs "
              f"({cold[1][cold[2] - 1] / warm[1][warm[2] - 1]:.1f}x less time)")
    elif warm[2]:
        print(f"warm start reaches it at epoch {warm[2]}; from the backbone it does not within "
              f"{args.epochs} epochs (>{args.epochs / warm[2]:.1f}x fewer epochs)")
    print("mean old-class accuracy over the epochs: warm "
          f"{np.mean(warm[0]):.3f}, backbone {np.mean(cold[0]):.3f}")


if __name__ == "__main__":
    main()
