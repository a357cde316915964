"""Real data: import the DeepPCB sample, train on this machine, report test accuracy and time.

    .venv/bin/python bench/bench_deeppcb.py [../shared/data/deeppcb-sample] [--epochs 12]
        [--input-size 64] [--batch-size 32] [--keep DIR]

Reference measured in the same run: the import time and one epoch's images/s.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from inspector.config import InspectorConfig
from inspector.core.data.dataset import Dataset
from inspector.core.data.importers import import_dataset
from inspector.core.training.fit import TrainProgress, fit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source", type=Path, nargs="?",
                        default=Path(__file__).resolve().parents[2] / "shared/data/deeppcb-sample")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--input-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--keep", type=Path, help="keep the dataset and model here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        start = time.perf_counter()
        dataset = Dataset.create(work / "dataset")
        report = import_dataset("deeppcb", args.source, dataset)
        imported = time.perf_counter() - start
        print(f"import: {sum(report.counts.values())} patches in {imported:.1f} s "
              f"({report.counts})", flush=True)
        config = InspectorConfig()
        config.model.input_size = args.input_size
        config.train.epochs = args.epochs
        config.train.batch_size = args.batch_size
        config.train.device = args.device
        config.train.patience = max(4, args.epochs // 3)

        def on_progress(p: TrainProgress) -> None:
            if p.stage == "epoch":
                print(f"  epoch {p.epoch:2d}: loss {p.loss:.4f} val acc {p.val_accuracy:.4f} "
                      f"val macro-F1 {p.val_macro_f1:.4f} {p.images_per_s:.1f} img/s", flush=True)
            elif p.stage == "status":
                print(f"  {p.message}", flush=True)

        start = time.perf_counter()
        result = fit(config, dataset, work / "model", on_progress)
        trained = time.perf_counter() - start
        test = result.test["metrics"] if result.test else {}
        print(json.dumps({
            "device": result.device, "input_size": args.input_size, "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch, "train_minutes": round(trained / 60, 1),
            "test_accuracy": test.get("accuracy"), "test_macro_f1": test.get("macro_f1"),
            "test_images": result.test["n_images"] if result.test else 0,
            "temperature": result.temperature, "pretrained": result.pretrained,
        }, indent=1))


if __name__ == "__main__":
    main()
