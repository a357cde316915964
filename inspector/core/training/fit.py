"""fit(): a dataset in, a trained, calibrated and evaluated model out.

One entry point for the CLI, the GUI worker and `torchrun` (DistributedDataParallel): it is
synchronous, reports progress through a callback and stops cleanly when `stop_event` is set,
leaving a checkpoint that `resume=True` continues from, in the middle of an epoch if need be.

Files in the output folder:
    last.safetensors    resumable state (model, optimizer, position), written every epoch
                        and on a stop; a kill loses at most the epoch under way. A run that
                        finishes drops it (it is ~3x the model) unless train.keep_resume_state
    best.safetensors    the model of the best validation macro-F1 epoch, with its calibration
                        temperature and test metrics once training ends (what a Predictor loads)
    split.json          the split manifest the run used
    evaluation.json, evaluation-confusion.png   the test-split evaluation
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from inspector.config import InspectorConfig
from inspector.core.data.dataset import Dataset
from inspector.core.errors import CheckpointError, TrainingError
from inspector.core.training.checkpoint import (
    flatten_state,
    load_checkpoint,
    new_meta,
    save_checkpoint,
    unflatten_state,
)
from inspector.core.training.data import (
    BATCH,
    EpochSampler,
    ImageDataset,
    SplitData,
    collect_splits,
    default_workers,
    sample_seed,
)
from inspector.core.training.devices import describe_device, resolve_device
from inspector.core.training.distributed import (
    DistContext,
    init_distributed,
    shutdown_distributed,
)
from inspector.core.training.engine import (
    BatchStats,
    EpochStats,
    Normalizer,
    make_loader,
    predict_logits,
    train_one_epoch,
)

log = logging.getLogger(__name__)

BEST, LAST = "best.safetensors", "last.safetensors"


@dataclass
class TrainProgress:
    """One report: after each batch ("batch"), after each epoch ("epoch"), or news ("status")."""

    stage: str
    epoch: int
    epochs: int
    batch: int = 0
    batches: int = 0
    loss: float = math.nan
    accuracy: float = math.nan
    lr: float = math.nan
    images_per_s: float = math.nan
    eta_s: float = math.nan
    val_loss: float = math.nan
    val_accuracy: float = math.nan
    val_macro_f1: float = math.nan
    message: str = ""


@dataclass
class TrainResult:
    out_dir: Path
    best_path: Path
    last_path: Path | None  # None once a finished run has dropped its resume state
    classes: list[str]
    device: str
    epochs_run: int
    best_epoch: int
    best_val_macro_f1: float
    stopped: bool = False
    early_stopped: bool = False
    pretrained: str | None = None
    temperature: float = 1.0
    test: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    history: list[dict[str, float]] = field(default_factory=list)
    world_size: int = 1
    seconds: float = 0.0


Progress = Callable[[TrainProgress], None]


def _lr_lambda(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


class _Run:
    """The state of one training run; fit() drives it."""

    def __init__(self, config: InspectorConfig, dataset: Dataset, out_dir: Path,
                 on_progress: Progress | None, stop_event: threading.Event | None,
                 ctx: DistContext) -> None:
        self.config, self.dataset, self.out_dir, self.ctx = config, dataset, out_dir, ctx
        self.on_progress = on_progress if ctx.is_main else None
        self.stop_event = stop_event or threading.Event()
        self.warnings: list[str] = []
        self.history: list[dict[str, float]] = []
        self.epoch, self.position, self.step = 0, 0, 0
        self.best_f1, self.best_epoch, self.bad_epochs = -1.0, -1, 0
        self.partial = EpochStats()  # totals of an epoch interrupted by a stop
        self.warm_start: Path | None = None
        self.parent: dict[str, Any] | None = None  # the warm start's WarmStart, as a dict

    def report(self, progress: TrainProgress) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)

    def status(self, message: str) -> None:
        log.info(message)
        self.report(TrainProgress("status", self.epoch, self.config.train.epochs,
                                  message=message))


def fit(config: InspectorConfig, data: Dataset | Any, out_dir: Path | None = None,
        on_progress: Progress | None = None, stop_event: threading.Event | None = None,
        resume: bool = False, warm_start: Path | None = None) -> TrainResult:
    """Train on `data` (a Dataset, or a Workspace: its active dataset and a new model folder).

    `warm_start`: a trained model (checkpoint or folder) to start from instead of the backbone;
    its head is widened when the dataset has gained classes (see warm_start.py)."""
    from inspector.core.workspace import Workspace

    if isinstance(data, Workspace):
        dataset = data.dataset()
        if out_dir is None:
            out_dir = data.models_dir / time.strftime("model-%Y%m%d-%H%M%S")
    else:
        dataset = data
    if out_dir is None:
        raise TrainingError("fit() needs an output folder for a plain dataset.")
    out_dir = Path(out_dir)
    if resume:
        config = _config_for_resume(out_dir, config)
    ctx = init_distributed()
    try:
        run = _Run(config, dataset, out_dir, on_progress, stop_event, ctx)
        run.warm_start = Path(warm_start) if warm_start is not None and not resume else None
        return _fit(run, resume)
    finally:
        shutdown_distributed(ctx)


def _config_for_resume(out_dir: Path, config: InspectorConfig) -> InspectorConfig:
    """A resumed run keeps the settings it started with (only the epoch count may grow)."""
    last = out_dir / LAST
    if not last.is_file():
        if (out_dir / BEST).is_file() and (out_dir / "evaluation.json").is_file():
            raise CheckpointError(
                f"The run in {out_dir} finished, so there is nothing to resume. To train it "
                f"further, start a new run warm-started from its model ({out_dir / BEST}); "
                "set train.keep_resume_state to keep finished runs resumable.")
        raise CheckpointError(f"There is nothing to resume in {out_dir}: no {LAST}.")
    checkpoint = load_checkpoint(last)
    if not checkpoint.is_resumable:
        raise CheckpointError(f"{last} is not a resumable checkpoint.")
    stored = InspectorConfig.model_validate(checkpoint.meta["config"])
    stored.train.epochs = max(stored.train.epochs, config.train.epochs)
    return stored


def _fit(run: _Run, resume: bool) -> TrainResult:
    started = time.perf_counter()
    config, ctx = run.config, run.ctx
    torch.manual_seed(config.train.seed)
    np.random.seed(config.train.seed & 0xFFFFFFFF)
    device = resolve_device(config.train.device, ctx.local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    run.status(f"Training on {describe_device(device)}"
               + (f", {ctx.world} processes" if ctx.active else ""))

    # The split is decided once, by rank 0, then read by the others.
    if ctx.is_main:
        splits = collect_splits(run.dataset)
    ctx.barrier()
    if not ctx.is_main:
        splits = collect_splits(run.dataset)
    run.out_dir.mkdir(parents=True, exist_ok=True)
    if ctx.is_main:
        splits.manifest.save(run.out_dir / "split.json")
    _warn_about_splits(run, splits)

    from inspector.core.models import prepare_model, trainable_parameter_groups
    from inspector.core.models.losses import build_loss, weighted_sample_weights

    if resume:
        run.parent = _resumed_parent(run.out_dir)
    if run.warm_start is not None or run.parent is not None:
        model, pretrained = _warm_model(run, splits.classes, resume)
        weights_source = None
    else:
        model, weights_source, model_warnings = prepare_model(config.model,
                                                              len(splits.classes))
        run.warnings += model_warnings
        for warning in model_warnings:  # prepare_model has logged them
            run.report(TrainProgress("status", run.epoch, config.train.epochs, message=warning))
        pretrained = (f"{weights_source.origin}: {weights_source.path}" if weights_source
                      else None)
    model.to(device, memory_format=torch.channels_last)

    train_items = splits.items["train"]
    train_counts = splits.counts("train")
    criterion = build_loss(config.train.loss, train_counts).to(device)
    batch_size = _usable_batch_size(run, len(train_items) // ctx.world)
    # The smaller backbone rate protects pretrained features; random ones have none to protect.
    trained_backbone = weights_source is not None or run.parent is not None
    lr_backbone = config.train.lr_backbone if trained_backbone else config.train.lr_head
    groups = trainable_parameter_groups(model, lr_backbone, config.train.lr_head,
                                        config.train.weight_decay)
    optimizer = torch.optim.AdamW(groups, fused=device.type == "cuda")

    if resume:
        _restore(run, model, optimizer, splits)
    train_model: nn.Module = model
    if ctx.active:
        train_model = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)

    workers = config.train.workers if config.train.workers is not None else default_workers()
    max_pixels = config.dataset.max_image_pixels
    train_set = ImageDataset(train_items, config.augment if config.augment.enabled else None,
                             config.model.input_size, max_pixels)
    weights = None
    if config.train.sampler == "weighted":
        weights = weighted_sample_weights([label for _, label in train_items])
    sampler = EpochSampler(len(train_items), config.train.seed, weights, ctx.rank, ctx.world)

    while True:  # rebuilt with a smaller batch after running out of GPU memory
        loader = make_loader(train_set, batch_size, workers, sampler, drop_last=True,
                             pin_memory=device.type == "cuda")
        steps_per_epoch = sampler.per_rank // batch_size
        total_steps = steps_per_epoch * config.train.epochs
        warmup = int(config.train.warmup_epochs * steps_per_epoch)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, _lr_lambda(max(1, warmup), max(1, total_steps)), last_epoch=-1)
        with warnings.catch_warnings():  # fast-forward the schedule on resume
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(run.step):
                scheduler.step()
        scaler = torch.amp.GradScaler("cuda") if (device.type == "cuda"
                                                  and config.train.amp) else None
        try:
            stopped = _epochs(run, train_model, model, loader, sampler, criterion, optimizer,
                              scheduler, scaler, Normalizer(device), splits, device,
                              batch_size, pretrained)
            break
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            if batch_size <= 2:
                raise TrainingError(
                    f"The GPU ran out of memory even with batch size {batch_size} at input "
                    f"size {config.model.input_size} px. Lower model.input_size, or train on "
                    "the CPU (train.device = 'cpu')."
                ) from None
            batch_size //= 2
            message = (f"The GPU ran out of memory; retrying the epoch with batch size "
                       f"{batch_size}.")
            run.warnings.append(message)
            run.status(message)
            run.position = 0

    result = TrainResult(
        run.out_dir, run.out_dir / BEST, run.out_dir / LAST, splits.classes,
        describe_device(device), len(run.history), run.best_epoch + 1, run.best_f1,
        stopped=stopped, early_stopped=run.bad_epochs >= config.train.patience > 0,
        pretrained=pretrained, warnings=run.warnings, history=run.history, world_size=ctx.world)
    if not stopped and ctx.is_main:
        _finish(run, model, splits, device, result)
        if not config.train.keep_resume_state:
            # Only an interrupted run needs its optimizer state; a finished one is extended by a
            # warm start from best.safetensors instead. This saves ~300 MB per model version.
            (run.out_dir / LAST).unlink(missing_ok=True)
            result.last_path = None
    ctx.barrier()
    result.seconds = time.perf_counter() - started
    return result


def _resumed_parent(out_dir: Path) -> dict[str, Any] | None:
    from inspector.core.model_catalog import read_header_metadata

    parent = read_header_metadata(out_dir / LAST).get("parent")
    return parent if isinstance(parent, dict) else None


def _warm_model(run: _Run, classes: list[str], resume: bool) -> tuple[nn.Module, str | None]:
    """The warm-started model (a resumed warm run: its shape and freezing; the weights come
    from last.safetensors) and the lineage's ImageNet origin."""
    from inspector.core.models import build_model, freeze_stages
    from inspector.core.training.warm_start import warm_start_model

    config = run.config
    if resume:
        assert run.parent is not None
        model = build_model(config.model, len(classes))
        freeze_stages(model, config.model.frozen_stages)
        return model, run.parent.get("pretrained")
    assert run.warm_start is not None
    model, info = warm_start_model(config.model, classes, run.warm_start)
    run.parent = asdict(info)
    run.status(info.describe())
    return model, info.pretrained


def _usable_batch_size(run: _Run, n_train: int) -> int:
    wanted = run.config.train.batch_size
    if n_train < 2:
        raise TrainingError("The training split has fewer than 2 images per process.")
    if wanted > n_train:
        message = (f"The batch size {wanted} is larger than the training split ({n_train} "
                   f"images); using {n_train}.")
        run.warnings.append(message)
        run.status(message)
        return n_train
    return max(2, wanted)  # BatchNorm needs two samples in training mode


def _warn_about_splits(run: _Run, splits: SplitData) -> None:
    val = splits.counts("val")
    missing = [c for c, n in zip(splits.classes, val, strict=True) if n == 0]
    if missing:
        message = (f"No validation images for {', '.join(missing)}: the best epoch is chosen "
                   "without them. Add images to these classes.")
        run.warnings.append(message)
        run.status(message)


def _epochs(run: _Run, train_model: nn.Module, model: nn.Module, loader, sampler: EpochSampler,
            criterion: nn.Module, optimizer: torch.optim.Optimizer, scheduler, scaler,
            normalize: Normalizer, splits: SplitData, device: torch.device, batch_size: int,
            pretrained: str | None) -> bool:
    """Run the remaining epochs; True when stopped on request."""
    config = run.config
    epochs = config.train.epochs
    from inspector.core.evaluation.metrics import macro_f1

    while run.epoch < epochs:
        sampler.set_epoch(run.epoch, run.position * batch_size)
        batches_left = len(sampler) // batch_size
        first = run.position
        timings: list[float] = []

        def on_batch(stats: BatchStats, epoch: int = run.epoch,
                     timings: list[float] = timings) -> None:
            run.step += 1
            timings.append(stats.seconds)
            recent = timings[-20:]
            per_batch = sum(recent) / len(recent)
            remaining = (stats.batches - stats.batch) + (epochs - epoch - 1) * (
                stats.batches)
            run.report(TrainProgress(
                "batch", epoch + 1, epochs, stats.batch, stats.batches, stats.loss,
                stats.correct / max(1, stats.seen), scheduler.get_last_lr()[-1],
                stats.seen * run.ctx.world / max(per_batch, 1e-9), remaining * per_batch))

        if batches_left == 0:
            raise TrainingError("The training split is smaller than one batch.")
        def batch_seed(batch: int, epoch: int = run.epoch) -> int:
            return sample_seed(config.train.seed + 7919 * run.ctx.rank, epoch, batch, BATCH)

        epoch_stats = train_one_epoch(train_model, loader, normalize, criterion, optimizer,
                                      scheduler, scaler, first, on_batch, run.stop_event,
                                      batch_seed, run.partial)
        run.position = epoch_stats.batches_done
        run.partial = epoch_stats
        stop = run.ctx.broadcast_flag(not epoch_stats.completed)
        if stop:
            if run.ctx.is_main:
                _save_last(run, model, optimizer, splits, pretrained)
            run.status(f"Stopped in epoch {run.epoch + 1} after {run.position} batches; "
                       "resume continues from there.")
            return True

        val_loss, val_acc, val_f1 = math.nan, math.nan, math.nan
        if run.ctx.is_main:
            logits, labels = predict_logits(model, splits.items["val"], config.model.input_size,
                                            device, batch_size=max(batch_size, 32),
                                            max_pixels=config.dataset.max_image_pixels)
            predictions = logits.argmax(1)
            val_acc = float((predictions == labels).mean())
            val_f1 = macro_f1(labels, predictions, len(splits.classes))
            with torch.no_grad():
                val_loss = float(criterion(torch.from_numpy(logits).to(device),
                                           torch.from_numpy(labels).to(device)))
        record = {"epoch": run.epoch + 1, "loss": epoch_stats.loss,
                  "accuracy": epoch_stats.accuracy, "val_loss": val_loss,
                  "val_accuracy": val_acc, "val_macro_f1": val_f1,
                  "lr": scheduler.get_last_lr()[-1],
                  "images_per_s": epoch_stats.images_per_s * run.ctx.world}
        run.history.append(record)
        run.epoch += 1
        run.position = 0
        run.partial = EpochStats()
        improved = val_f1 > run.best_f1 + 1e-6
        if run.ctx.is_main:
            if improved:
                run.best_f1, run.best_epoch, run.bad_epochs = val_f1, run.epoch - 1, 0
                _save_best(run, model, splits, pretrained)
            else:
                run.bad_epochs += 1
            _save_last(run, model, optimizer, splits, pretrained)
        run.report(TrainProgress(
            "epoch", run.epoch, epochs, loss=epoch_stats.loss, accuracy=epoch_stats.accuracy,
            lr=record["lr"], images_per_s=record["images_per_s"], val_loss=val_loss,
            val_accuracy=val_acc, val_macro_f1=val_f1,
            message=f"epoch {run.epoch}/{epochs}: val macro-F1 {val_f1:.4f}"
                    + (" (best)" if improved else "")))
        patience = config.train.patience
        if run.ctx.broadcast_flag(patience > 0 and run.bad_epochs >= patience):
            run.status(f"Early stop: no validation macro-F1 gain in {patience} epochs.")
            return False
    return False


def _base_meta(run: _Run, splits: SplitData, pretrained: str | None) -> dict[str, Any]:
    from inspector.core.models.pretrained import IMAGENET_MEAN, IMAGENET_STD

    config = run.config
    return new_meta(
        architecture=config.model.architecture, classes=splits.classes,
        input_size=config.model.input_size,
        normalization={"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)},
        model_config=config.model.model_dump(mode="json"),
        train_config=config.train.model_dump(mode="json"),
        dataset_fingerprint=splits.fingerprint, dataset=str(run.dataset.root),
        pretrained=pretrained, temperature=1.0, warnings=run.warnings, parent=run.parent,
    )


def _save_best(run: _Run, model: nn.Module, splits: SplitData, pretrained: str | None) -> None:
    meta = _base_meta(run, splits, pretrained)
    meta.update(epoch=run.epoch, metrics={"val_macro_f1": run.best_f1,
                                          "history": run.history})
    save_checkpoint(run.out_dir / BEST, meta, model.state_dict())


def _save_last(run: _Run, model: nn.Module, optimizer: torch.optim.Optimizer,
               splits: SplitData, pretrained: str | None) -> None:
    tensors: dict[str, torch.Tensor] = {}
    skeleton = flatten_state("optim", optimizer.state_dict(), tensors)
    meta = _base_meta(run, splits, pretrained)
    meta.update(config=run.config.model_dump(mode="json"), resume={
        "epoch": run.epoch, "position": run.position, "step": run.step,
        "best_f1": run.best_f1, "best_epoch": run.best_epoch, "bad_epochs": run.bad_epochs,
        "history": run.history, "optimizer": skeleton,
        "partial": {"loss_sum": run.partial.loss_sum, "correct": run.partial.correct,
                    "images": run.partial.images, "seconds": run.partial.seconds},
    })
    save_checkpoint(run.out_dir / LAST, meta, model.state_dict(), tensors)


def _restore(run: _Run, model: nn.Module, optimizer: torch.optim.Optimizer,
             splits: SplitData) -> None:
    checkpoint = load_checkpoint(run.out_dir / LAST)
    if checkpoint.classes != splits.classes:
        raise CheckpointError(
            f"The run in {run.out_dir} was trained on the classes {checkpoint.classes}; the "
            f"dataset now has {splits.classes}. Start a new training instead of resuming."
        )
    model.load_state_dict(checkpoint.model_state)
    state = checkpoint.meta["resume"]
    optimizer.load_state_dict(unflatten_state(state["optimizer"], checkpoint.optimizer_state))
    run.epoch, run.position, run.step = state["epoch"], state["position"], state["step"]
    run.best_f1, run.best_epoch = state["best_f1"], state["best_epoch"]
    run.bad_epochs, run.history = state["bad_epochs"], state["history"]
    run.partial = EpochStats(**state["partial"])
    run.status(f"Resuming at epoch {run.epoch + 1}, batch {run.position + 1}.")


def _finish(run: _Run, model: nn.Module, splits: SplitData, device: torch.device,
            result: TrainResult) -> None:
    """Calibrate the best model on val, evaluate it on test, store both in best.safetensors."""
    from inspector.core.evaluation.calibration import fit_temperature
    from inspector.core.evaluation.evaluate import evaluate_logits
    from inspector.core.evaluation.report import write_report

    best = load_checkpoint(run.out_dir / BEST)
    model.load_state_dict(best.model_state)
    size, pixels = run.config.model.input_size, run.config.dataset.max_image_pixels
    logits, labels = predict_logits(model, splits.items["val"], size, device,
                                    max_pixels=pixels)
    temperature = fit_temperature(logits, labels) if len(labels) else 1.0
    best.meta["temperature"] = temperature
    best.meta["verdict"] = _verdict_defaults(run.config, logits, labels, splits.classes,
                                             temperature)
    test_items = splits.items["test"]
    if test_items:
        run.status(f"Evaluating the best epoch on {len(test_items)} test images")
        logits, labels = predict_logits(model, test_items, size, device, max_pixels=pixels)
        report = evaluate_logits(logits, labels, [p for p, _ in test_items], splits.classes,
                                 temperature, split="test", model=str(run.out_dir / BEST),
                                 dataset=str(run.dataset.root))
        write_report(report, run.out_dir)
        result.test = report.to_dict()
        best.meta["metrics"]["test"] = {
            "accuracy": report.metrics.accuracy, "macro_f1": report.metrics.macro_f1,
            "ece": report.ece, "ece_calibrated": report.ece_calibrated}
    else:
        message = "The test split is empty: the model was not evaluated on unseen images."
        run.warnings.append(message)
        best.meta["warnings"] = run.warnings
    save_checkpoint(run.out_dir / BEST, best.meta, best.model_state)
    result.temperature = temperature


def _verdict_defaults(config: InspectorConfig, logits: np.ndarray, labels: np.ndarray,
                      classes: list[str], temperature: float) -> dict[str, Any]:
    """Per-class thresholds and the out-of-distribution threshold, fitted on val."""
    from inspector.core.evaluation.calibration import softmax
    from inspector.core.inference.verdict import fit_ood_threshold, fit_thresholds

    verdict = config.live.verdict
    probabilities = softmax(logits, temperature)
    return {"good_class": verdict.good_class,
            "thresholds": fit_thresholds(probabilities, labels, classes),
            "ood_method": verdict.ood_method,
            "ood_threshold": fit_ood_threshold(logits, verdict.ood_method, temperature)}


def result_summary(result: TrainResult) -> dict[str, Any]:
    data = asdict(result)
    for key in ("out_dir", "best_path", "last_path"):
        data[key] = None if data[key] is None else str(data[key])
    return data
