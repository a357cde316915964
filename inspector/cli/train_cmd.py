"""`inspector train`, `inspector evaluate`, `inspector predict`."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from pathlib import Path

from inspector.config import InspectorConfig, load_config
from inspector.core.errors import InspectorError


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train", help="train a model on a dataset",
        description="Train the ResNet-50 + CBAM classifier. --data is a folder with one "
        "sub-folder per class (or a workspace). Ctrl-C stops after the current batch and "
        "leaves a checkpoint that --resume continues from.")
    train.add_argument("--data", type=Path, required=True,
                       help="dataset folder (one sub-folder per class) or a workspace")
    train.add_argument("--out", type=Path, default=None,
                       help="output folder (default for a workspace: models/model-<time>)")
    train.add_argument("--config", type=Path, default=None,
                       help="a config.toml to take settings from (default: the workspace's)")
    train.add_argument("--epochs", type=int)
    train.add_argument("--input-size", type=int, help="input side in pixels (default 224)")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    train.add_argument("--workers", type=int, help="DataLoader worker processes")
    train.add_argument("--seed", type=int)
    train.add_argument("--no-pretrained", action="store_true",
                       help="start from random weights even if ImageNet weights are found")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its last checkpoint")
    train.add_argument("--warm-start", metavar="MODEL",
                       help="start from a trained model (a folder or file, or 'active' for the "
                            "workspace's active model); new classes get a fresh head row")
    train.add_argument("--json", type=Path, help="write the training result as JSON here")
    train.set_defaults(func=cmd_train)

    evaluate = commands.add_parser("evaluate", help="evaluate a model on a dataset split")
    evaluate.add_argument("--model", type=Path, required=True, help="model folder or file")
    evaluate.add_argument("--data", type=Path, required=True,
                          help="dataset folder (one sub-folder per class) or a workspace")
    evaluate.add_argument("--split", choices=("train", "val", "test"), default="test")
    evaluate.add_argument("--json", type=Path, help="write the report as JSON here")
    evaluate.add_argument("--out", type=Path,
                          help="write evaluation.json and the confusion-matrix PNG here")
    evaluate.add_argument("--device", default="auto")
    evaluate.set_defaults(func=cmd_evaluate)

    predict = commands.add_parser("predict", help="classify image files")
    predict.add_argument("images", type=Path, nargs="+")
    predict.add_argument("--model", type=Path, required=True, help="model folder or file")
    predict.add_argument("--top", type=int, default=3, help="classes to show per image")
    predict.add_argument("--json", action="store_true", help="machine-readable output")
    predict.add_argument("--device", default="auto")
    predict.set_defaults(func=cmd_predict)


def _dataset_and_config(path: Path, config_path: Path | None):
    from inspector.cli.dataset_cmd import open_dataset

    dataset, workspace = open_dataset(path)
    if config_path is not None:
        config = load_config(config_path)
    elif workspace is not None:
        config = workspace.config
    else:
        config = InspectorConfig()
    dataset.config = config.dataset
    return dataset, workspace, config


def _apply_flags(config: InspectorConfig, args: argparse.Namespace) -> InspectorConfig:
    data = config.model_dump()
    for flag, section, key in (("epochs", "train", "epochs"), ("batch_size", "train", "batch_size"),
                               ("device", "train", "device"), ("workers", "train", "workers"),
                               ("seed", "train", "seed"), ("input_size", "model", "input_size")):
        value = getattr(args, flag)
        if value is not None:
            data[section][key] = value
    if args.no_pretrained:
        data["model"]["pretrained"] = False
    from inspector.config import config_from_dict

    return config_from_dict(data, "the command line")


class _Interrupts:
    """First Ctrl-C: stop after the current batch and save; a second one: stop at once."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.previous = None

    def __enter__(self) -> threading.Event:
        def handler(signum: int, frame: object) -> None:
            if self.event.is_set():
                raise KeyboardInterrupt
            self.event.set()
            print("\nStopping after this batch and saving a resumable checkpoint "
                  "(Ctrl-C again to quit at once) ...", file=sys.stderr)

        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, handler)
        return self.event

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def cmd_train(args: argparse.Namespace) -> int:
    import os

    from tqdm import tqdm

    from inspector.core.models.pretrained import NO_WEIGHTS_WARNING
    from inspector.core.training.fit import TrainProgress, fit, result_summary

    dataset, workspace, config = _dataset_and_config(args.data, args.config)
    config = _apply_flags(config, args)
    out = args.out
    if out is None:
        if workspace is None:
            raise InspectorError("--out is needed when --data is a plain folder.")
        import time

        out = workspace.models_dir / time.strftime("model-%Y%m%d-%H%M%S")
    main = int(os.environ.get("RANK", "0")) == 0
    bar: tqdm | None = None

    def on_progress(p: TrainProgress) -> None:
        nonlocal bar
        if p.stage == "status":
            if p.message == NO_WEIGHTS_WARNING:
                return  # the core logged it as a warning (stderr) and the summary repeats it
            (bar.write if bar else lambda m: print(m, file=sys.stderr))(p.message)
        elif p.stage == "batch":
            if bar is None or bar.total != p.batches or p.batch <= 1:
                if bar is not None:
                    bar.close()
                bar = tqdm(total=p.batches, initial=p.batch - 1, desc=f"epoch {p.epoch}/{p.epochs}",
                           unit="batch", file=sys.stderr, leave=False, dynamic_ncols=True,
                           disable=None)
            bar.update(1)
            bar.set_postfix(loss=f"{p.loss:.3f}", lr=f"{p.lr:.2e}", img_s=f"{p.images_per_s:.0f}",
                            eta=f"{p.eta_s / 60:.0f}m" if math.isfinite(p.eta_s) else "?")
        elif p.stage == "epoch":
            if bar is not None:
                bar.close()
                bar = None
            print(f"epoch {p.epoch}/{p.epochs}  loss {p.loss:.4f}  acc {p.accuracy:.3f}  "
                  f"val loss {p.val_loss:.4f}  val acc {p.val_accuracy:.3f}  "
                  f"val macro-F1 {p.val_macro_f1:.4f}  {p.images_per_s:.1f} img/s", flush=True)

    warm_start = None
    if args.warm_start:
        if args.warm_start == "active":
            if workspace is None:
                raise InspectorError("--warm-start active needs --data to be a workspace.")
            from inspector.core.model_catalog import active_model

            parent = active_model(workspace)
            if parent is None:
                raise InspectorError(f"{workspace.root} has no trained model to warm-start "
                                     "from yet; train one first.")
            warm_start = parent.checkpoint
        else:
            warm_start = Path(args.warm_start)
    with _Interrupts() as stop:
        result = fit(config, dataset, out, on_progress if main else None, stop,
                     resume=args.resume, warm_start=warm_start)
    if bar is not None:
        bar.close()
    if not main:
        return 0
    if args.json:
        args.json.write_text(json.dumps(result_summary(result), indent=1))
    print()
    if result.stopped:
        print(f"Stopped. Resume with: inspector train --data {args.data} --out {out} --resume")
        return 130
    print(f"Model: {result.best_path}  (best epoch {result.best_epoch} of {result.epochs_run}, "
          f"val macro-F1 {result.best_val_macro_f1:.4f}, temperature {result.temperature:.2f})")
    if result.test:
        metrics = result.test["metrics"]
        print(f"Test: accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f} "
              f"on {result.test['n_images']} images; report in {out / 'evaluation.json'}")
    print(f"Device: {result.device}; {result.seconds / 60:.1f} min")
    for warning in result.warnings:
        print(f"WARNING: {warning}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from inspector.core.evaluation.evaluate import evaluate_checkpoint
    from inspector.core.evaluation.report import write_report

    dataset, _, _ = _dataset_and_config(args.data, None)
    report = evaluate_checkpoint(args.model, dataset, args.split, args.device)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.to_dict(), indent=1))
    if args.out:
        json_path, png_path = write_report(report, args.out)
        print(f"Report: {json_path}\nConfusion matrix: {png_path}")
    m = report.metrics
    print(f"{args.split} split: {report.n_images} images, accuracy {m.accuracy:.4f}, "
          f"macro-F1 {m.macro_f1:.4f}, ECE {report.ece:.4f} "
          f"({report.ece_calibrated:.4f} at temperature {report.temperature:.2f})")
    width = max(len(c.name) for c in m.per_class) + 2
    print("class".ljust(width) + "precision".rjust(11) + "recall".rjust(9) + "F1".rjust(8)
          + "support".rjust(9))
    for c in m.per_class:
        print(c.name.ljust(width) + f"{c.precision:11.3f}{c.recall:9.3f}{c.f1:8.3f}"
              f"{c.support:9d}")
    if m.top_confusions:
        print("most frequent confusions: " + ", ".join(
            f"{t} -> {p} ({n})" for t, p, n in m.top_confusions[:5]))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from inspector.core.data.images import load_rgb
    from inspector.core.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(args.model, args.device)
    rows = []
    failed = 0
    for path in args.images:
        try:
            image = load_rgb(path)
        except InspectorError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        prediction = predictor.predict([image])[0]
        top = sorted(prediction.probabilities.items(), key=lambda kv: -kv[1])[: args.top]
        rows.append({"path": str(path), "label": prediction.label,
                     "confidence": prediction.confidence, "top": top})
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for row in rows:
            others = ", ".join(f"{label} {p:.3f}" for label, p in row["top"][1:])
            print(f"{row['path']}: {row['label']} ({row['confidence']:.3f})"
                  + (f"  [{others}]" if others else ""))
    return 1 if failed else 0

