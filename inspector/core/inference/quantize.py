"""Static INT8 quantisation of an exported model, with calibration and an accuracy check.

Settings (measured on this project's models; see bench/bench_onnx.py and the notes below):

- QDQ format, weights QInt8 per channel, activations QUInt8 (asymmetric), MinMax calibration.
- ``reduce_range=True`` (7-bit weights). On x86 CPUs without VNNI (AVX2 only) the u8 x s8
  multiply-add saturates 16-bit intermediates; with full-range weights a DeepPCB model agreed
  with its fp32 self on 90.6% of the test images and its features correlated 0.920; with
  reduced range 97.5% and 0.985, for the same speed. VNNI CPUs lose nothing by it.
- MinMax calibration: Entropy gave the same model as MinMax here, Percentile (99.999) agreed on
  three more images out of 320 (within noise) at twice the calibration time and with histogram
  memory; MinMax is collected one batch at a time (bounded memory at any input size).
- The head (the Gemm producing the logits) stays float: it costs nothing, keeps ``fc_weight``
  exact for the Grad-CAM, and the ``features`` output leaves the graph through a
  DequantizeLinear as float32.

onnxruntime is imported inside the functions (DESIGN rule 6).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from inspector.core.atomic import atomic_write_json
from inspector.core.errors import CheckpointError, DatasetError
from inspector.core.inference.onnx_backend import INPUT, LOGITS, OnnxModel, sidecar_path

log = logging.getLogger(__name__)

FEATURES_MIN_CORRELATION = 0.95
"""Below this correlation between int8 and fp32 features the heat maps would mislead: refused."""
CHECK_IMAGES = 64
"""Without an evaluation set, agreement and feature correlation are measured on this many
calibration images."""

__all__ = ["CHECK_IMAGES", "FEATURES_MIN_CORRELATION", "QuantizationReport",
           "calibration_batches", "int8_path", "quantize_int8"]


@dataclass(frozen=True)
class QuantizationReport:
    fp32_accuracy: float | None  # on the evaluation images; None without them
    int8_accuracy: float | None
    delta_points: float | None  # int8 - fp32, in percentage points
    n_images: int  # evaluation images (0 without them)
    calibration_images: int
    seconds: float  # the whole call: pre-processing, calibration, quantisation, checks
    agreement: float = float("nan")  # share of images where int8 and fp32 pick the same class
    features_correlation: float = float("nan")  # Pearson, int8 vs fp32 layer4 features
    check_images: int = 0  # images behind agreement and features_correlation
    method: str = "minmax"
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def int8_path(onnx_path: Path) -> Path:
    """``model.onnx`` -> ``model.int8.onnx``."""
    onnx_path = Path(onnx_path)
    return onnx_path.with_name(f"{onnx_path.stem}.int8{onnx_path.suffix or '.onnx'}")


def calibration_batches(checkpoint_meta: Mapping[str, Any], items: Sequence[tuple[Path, int]],
                        batch_size: int = 16, limit: int = 256,
                        max_pixels: int | None = None,
                        kept: list[int] | None = None) -> list[np.ndarray]:
    """Images preprocessed as the evaluation does, as normalised float32 NCHW batches.

    `checkpoint_meta` is a checkpoint's meta or an exported model's metadata (``input_size``
    and ``normalization`` are read). At most `limit` items are used, spread evenly over the
    list (items come sorted by class, so every class is represented). Unreadable images are
    skipped with a warning; `kept`, when given, receives the indices of the items used (so
    labels can follow the images).
    """
    from inspector.core.data.augment import eval_pipeline
    from inspector.core.data.images import DEFAULT_MAX_PIXELS, load_rgb

    if batch_size < 1 or limit < 1:
        raise ValueError(f"batch_size and limit must be >= 1, not {batch_size}, {limit}")
    size = int(checkpoint_meta["input_size"])
    norm = checkpoint_meta["normalization"]
    # The same arithmetic as training's Normalizer: (x - 255 mean) / (255 std).
    mean = np.asarray(norm["mean"], np.float32).reshape(1, 3, 1, 1) * np.float32(255.0)
    std = np.asarray(norm["std"], np.float32).reshape(1, 3, 1, 1) * np.float32(255.0)
    pipeline = eval_pipeline(size)
    indices = list(range(len(items)))
    if len(indices) > limit:
        indices = [int(i) for i in np.linspace(0, len(items) - 1, limit).round().astype(int)]
    chosen = [items[i] for i in indices]
    images: list[np.ndarray] = []
    batches: list[np.ndarray] = []
    skipped = 0
    for index, (path, _) in zip(indices, chosen, strict=True):
        try:
            image = load_rgb(Path(path), max_pixels or DEFAULT_MAX_PIXELS)
        except DatasetError as exc:
            skipped += 1
            log.warning("left out of calibration: %s", exc)
            continue
        images.append(pipeline(image=image)["image"].transpose(2, 0, 1))
        if kept is not None:
            kept.append(index)
        if len(images) == batch_size:
            batches.append(_normalise(images, mean, std))
            images = []
    if images:
        batches.append(_normalise(images, mean, std))
    if skipped:
        log.warning("%d of %d calibration images could not be read", skipped, len(chosen))
    return batches


def _normalise(images: list[np.ndarray], mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    batch = np.stack(images).astype(np.float32)
    return np.ascontiguousarray((batch - mean) / std, dtype=np.float32)


class _Reader:
    """A CalibrationDataReader over a list of batches, read a window at a time.

    quantize_static's ``CalibStridedMinMax`` calls ``set_range`` and collects each window
    separately, merging the ranges: with windows of one batch the activations of a single
    batch are held in memory, whatever the number of calibration images.
    """

    def __init__(self, batches: Sequence[np.ndarray],
                 progress: Callable[[str, float], None] | None) -> None:
        self.batches = batches
        self.progress = progress
        self.done = 0
        self._iter: Iterator[np.ndarray] = iter(batches)

    def __len__(self) -> int:
        return len(self.batches)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._iter = iter(self.batches[start_index:end_index])

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._iter, None)
        if batch is None:
            return None
        self.done += 1
        if self.progress is not None:
            self.progress("Calibrating", self.done / max(1, len(self.batches)))
        return {INPUT: batch}

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:  # CalibrationDataReader protocol
        self.set_range(0, len(self.batches))
        while (item := self.get_next()) is not None:
            yield item


def _check_batches(batches: Sequence[np.ndarray], size: int, what: str) -> list[np.ndarray]:
    checked = []
    for given in batches:
        batch = np.ascontiguousarray(given, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1:] != (3, size, size):
            raise ValueError(f"{what} batches must be N x 3 x {size} x {size}, got {batch.shape}")
        if len(batch):
            checked.append(batch)
    return checked


def _predict(model: OnnxModel, batches: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    logits, features = zip(*(model.run(b) for b in batches), strict=True)
    return np.concatenate(logits), np.concatenate(features)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    a -= a.mean()
    b -= b.mean()
    denominator = float(np.sqrt((a @ a) * (b @ b)))
    if denominator == 0.0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(a @ b) / denominator


def _head_nodes(model_path: Path) -> list[str]:
    """Names of the nodes that compute the logits from the pooled features (left in float)."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    return [node.name for node in graph.node
            if LOGITS in node.output and node.op_type != "Identity"]


def quantize_int8(onnx_path: Path, calibration: Sequence[np.ndarray], out_path: Path | None = None,
                  evaluation: tuple[Sequence[np.ndarray], Sequence[int]] | None = None,
                  progress: Callable[[str, float], None] | None = None,
                  min_correlation: float = FEATURES_MIN_CORRELATION) -> QuantizationReport:
    """Quantise an exported fp32 model to INT8 (static, QDQ) and check it.

    `calibration`: normalised float32 NCHW batches (see :func:`calibration_batches`).
    `evaluation`: optional (batches, labels) on which fp32 and int8 accuracy are measured.
    Default `out_path`: ``<stem>.int8.onnx`` beside the fp32 model. The int8 file and its
    metadata (``<file>.json``: the fp32 model's inference fields plus the report under
    ``"quantization"``) are renamed into place only after the checks pass; CheckpointError if
    the int8 features correlate with the fp32 ones below `min_correlation` (the heat maps would
    mislead; a benchmark of speed alone may pass 0).
    `progress(stage, fraction)` is called as the work goes on (fraction from 0 to 1).
    """
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from inspector.core.inference.export import file_sha256, onnx_versions

    start = time.perf_counter()
    onnx_path = Path(onnx_path)
    out = Path(out_path) if out_path is not None else int8_path(onnx_path)
    if out.resolve() == onnx_path.resolve():
        raise ValueError("the int8 model cannot replace the fp32 model it is made from")
    fp32 = OnnxModel(onnx_path)
    size = fp32.input_size
    calibration = _check_batches(calibration, size, "calibration")
    if not calibration:
        raise DatasetError("There are no calibration images: the INT8 model needs a few dozen "
                           "images of the validation split (at least one readable image).")
    eval_batches: list[np.ndarray] = []
    labels = np.zeros(0, np.int64)
    if evaluation is not None:
        eval_batches = _check_batches(evaluation[0], size, "evaluation")
        labels = np.asarray(evaluation[1], np.int64).ravel()
        if len(labels) != sum(len(b) for b in eval_batches):
            raise ValueError(f"{len(labels)} labels for "
                             f"{sum(len(b) for b in eval_batches)} evaluation images")
    n_calibration = sum(len(b) for b in calibration)
    log.info("quantising %s with %d calibration images", onnx_path, n_calibration)

    def report_progress(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as tmp_dir:
        tmp = Path(tmp_dir)
        pre = tmp / "preprocessed.onnx"
        quantized = tmp / out.name
        report_progress("Preparing", 0.0)
        try:
            quant_pre_process(str(onnx_path), str(pre))
            quantize_static(
                str(pre), str(quantized),
                _Reader(calibration, lambda stage, f: report_progress(stage, 0.05 + 0.8 * f)),
                quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=True,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=_head_nodes(pre),
                extra_options={"CalibStridedMinMax": 1},
            )
        except OSError as exc:
            reason = "the disk is full" if exc.errno == 28 else (exc.strerror or str(exc))
            raise CheckpointError(f"Could not write the INT8 model {out}: {reason}.") from None
        except Exception as exc:  # onnxruntime.quantization raises many kinds
            raise CheckpointError(f"{onnx_path} could not be quantised to INT8: {exc}") from None

        info = dict(fp32.info)
        info.update(
            onnx_file=out.name, onnx_sha256=file_sha256(quantized), precision="int8",
            source_onnx=onnx_path.name, source_onnx_sha256=fp32.info["onnx_sha256"],
            quantized=datetime.now(UTC).isoformat(timespec="seconds"),
            versions=onnx_versions(),
        )
        info.pop("check", None)
        atomic_write_json(sidecar_path(quantized), info)
        int8 = OnnxModel(quantized, threads=fp32.threads)

        report_progress("Checking", 0.9)
        check = eval_batches or _first_images(calibration, CHECK_IMAGES)
        fp32_logits, fp32_features = _predict(fp32, check)
        int8_logits, int8_features = _predict(int8, check)
        agreement = float(np.mean(fp32_logits.argmax(1) == int8_logits.argmax(1)))
        correlation = _correlation(fp32_features, int8_features)
        fp32_acc = int8_acc = delta = None
        if eval_batches:
            fp32_acc = float(np.mean(fp32_logits.argmax(1) == labels))
            int8_acc = float(np.mean(int8_logits.argmax(1) == labels))
            delta = round((int8_acc - fp32_acc) * 100.0, 4)
        report = QuantizationReport(
            fp32_accuracy=fp32_acc, int8_accuracy=int8_acc, delta_points=delta,
            n_images=len(labels) if eval_batches else 0, calibration_images=n_calibration,
            seconds=round(time.perf_counter() - start, 3), agreement=agreement,
            features_correlation=correlation, check_images=len(fp32_logits), method="minmax",
            path=str(out),
        )
        log.info("INT8 model: agreement with fp32 %.3f, features correlation %.4f, accuracy "
                 "%s -> %s", agreement, correlation, fp32_acc, int8_acc)
        if not correlation >= min_correlation:
            raise CheckpointError(
                f"The INT8 model's features correlate only {correlation:.3f} with the fp32 "
                f"model's (at least {min_correlation} needed for trustworthy heat maps; "
                f"class agreement {agreement:.1%}). Nothing was written; keep using the fp32 "
                "model, or calibrate with more varied images."
            )
        info["quantization"] = {
            **report.to_dict(), "format": "QDQ", "per_channel": True, "reduce_range": True,
            "activation_type": "QUInt8", "weight_type": "QInt8",
            "float_nodes": _head_nodes(pre),
        }
        del int8
        quantized.replace(out)
    atomic_write_json(sidecar_path(out), info)
    report_progress("Done", 1.0)
    return report


def _first_images(batches: Sequence[np.ndarray], n: int) -> list[np.ndarray]:
    chosen, count = [], 0
    for batch in batches:
        if count >= n:
            break
        chosen.append(batch[: n - count])
        count += len(chosen[-1])
    return chosen


def quantize_with_dataset(onnx_path: Path, checkpoint_path: Path, dataset: Any,
                          progress: Callable[[str, float], None] | None = None
                          ) -> QuantizationReport:
    """INT8 for a dataset's model: calibrated on its val split, accuracy measured on its test split.

    The one recipe behind `inspector export --int8` and the Models page. The dataset's classes
    are mapped onto the checkpoint's by name, so a dataset that lists them in another order
    still measures the right accuracy.
    """
    from inspector.core.training.checkpoint import load_checkpoint
    from inspector.core.training.data import collect_splits

    checkpoint = load_checkpoint(Path(checkpoint_path))
    splits = collect_splits(dataset)
    unknown = [c for c in splits.classes if c not in checkpoint.classes]
    if unknown:
        raise DatasetError(f"The dataset has classes the model does not know ({', '.join(unknown)}"
                           "): calibrate with the dataset the model was trained on.")
    remap = [checkpoint.classes.index(c) for c in splits.classes]
    calibration = calibration_batches(checkpoint.meta, splits.items["val"])
    test_items = splits.items["test"]
    evaluation = None
    if test_items:
        kept: list[int] = []
        test = calibration_batches(checkpoint.meta, test_items, limit=len(test_items), kept=kept)
        evaluation = (test, [remap[test_items[i][1]] for i in kept])
    return quantize_int8(onnx_path, calibration, evaluation=evaluation, progress=progress)
