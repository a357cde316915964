"""Predictor: a checkpoint in, probabilities and Grad-CAM maps out, in one forward pass.

Preprocessing is the evaluation's (`eval_pipeline` + the checkpoint's normalisation), so a
model scores the same image the same way in evaluation and on the line (a test checks it).
Backends: "torch" (the checkpoint itself, on the GPU when there is one) and "onnx" /
"onnx-int8" (an export of the checkpoint in ONNX Runtime, see inference/export.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from inspector.core.errors import CheckpointError
from inspector.core.evaluation.calibration import softmax
from inspector.core.inference.cam import grad_cam, normalise
from inspector.core.training.checkpoint import (
    Checkpoint,
    build_model_from_checkpoint,
    load_checkpoint,
)
from inspector.core.training.devices import resolve_device
from inspector.core.training.engine import Normalizer

BACKENDS = ("torch", "onnx", "onnx-int8")


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    probabilities: dict[str, float]


@dataclass
class Inference:
    """One image: logits, calibrated probabilities and the Grad-CAM map of the top class."""

    logits: np.ndarray
    probabilities: np.ndarray
    index: int
    cam: np.ndarray | None = None  # (h, w) in [0, 1], layer4 resolution


@dataclass
class TileInference:
    x: int
    y: int
    w: int
    h: int
    inference: Inference


@dataclass
class FrameInference:
    """A whole frame: the region classified as one image, or one result per tile."""

    inference: Inference
    roi: tuple[int, int, int, int] | None = None
    tiles: list[TileInference] = field(default_factory=list)


class _TorchBackend:
    def __init__(self, checkpoint: Checkpoint, device: str) -> None:
        self.device = resolve_device(device)
        self.model = build_model_from_checkpoint(checkpoint).to(
            self.device, memory_format=torch.channels_last)
        norm = checkpoint.meta["normalization"]
        self.normalize = Normalizer(self.device, norm["mean"], norm["std"])
        self.fc_weight = self.model.fc.weight.detach().cpu().numpy()
        self.name = f"torch on {self.device}"

    @torch.no_grad()
    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inputs = self.normalize(torch.from_numpy(batch))
        with torch.autocast(self.device.type, dtype=torch.float16,
                            enabled=self.device.type == "cuda"):
            logits, features = self.model.forward_with_features(inputs)
        return logits.float().cpu().numpy(), features.float().cpu().numpy()


class _OnnxBackend:
    def __init__(self, path: Path) -> None:
        from inspector.core.inference.onnx_backend import OnnxModel

        self.model = OnnxModel(path)
        norm = self.model.normalization
        self.mean = np.array(norm["mean"], np.float32).reshape(1, 3, 1, 1) * 255.0
        self.std = np.array(norm["std"], np.float32).reshape(1, 3, 1, 1) * 255.0
        self.fc_weight = self.model.fc_weight
        self.name = f"ONNX Runtime ({path.name})"

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inputs = ((batch.astype(np.float32) - self.mean) / self.std).astype(np.float32)
        return self.model.run(inputs)


def onnx_path_for(checkpoint_path: Path, backend: str) -> Path:
    folder = checkpoint_path if checkpoint_path.is_dir() else checkpoint_path.parent
    return folder / ("model.int8.onnx" if backend == "onnx-int8" else "model.onnx")


class Predictor:
    def __init__(self, checkpoint: Checkpoint, device: str = "auto",
                 backend: str = "torch") -> None:
        from inspector.core.data.augment import eval_pipeline

        if backend not in BACKENDS:
            raise CheckpointError(f"Unknown backend '{backend}'; use one of {BACKENDS}.")
        self.checkpoint = checkpoint
        self.classes = checkpoint.classes
        self.input_size = checkpoint.input_size
        self.temperature = float(checkpoint.meta.get("temperature", 1.0))
        self.verdict_defaults: dict = checkpoint.meta.get("verdict", {})
        if backend == "torch":
            self.backend: _TorchBackend | _OnnxBackend = _TorchBackend(checkpoint, device)
        else:
            assert checkpoint.path is not None
            path = onnx_path_for(checkpoint.path, backend)
            if not path.is_file():
                hint = "inspector export --format onnx" + (" --int8" if "int8" in backend else "")
                raise CheckpointError(f"There is no {path.name} beside {checkpoint.path}: "
                                      f"run `{hint} --model {checkpoint.path.parent}` first.")
            self.backend = _OnnxBackend(path)
        self.pipeline = eval_pipeline(self.input_size)

    @classmethod
    def from_checkpoint(cls, path: Path, device: str = "auto",
                        backend: str = "torch") -> Predictor:
        return cls(load_checkpoint(path), device, backend)

    @property
    def version(self) -> str:
        path = self.checkpoint.path
        return f"{path.parent.name}/{path.name}" if path else "unsaved"

    def preprocess(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 images -> the uint8 NCHW batch the evaluation loader produces."""
        batch = [self.pipeline(image=image)["image"].transpose(2, 0, 1) for image in images]
        return np.ascontiguousarray(np.stack(batch))

    def infer(self, images: Sequence[np.ndarray], cam: bool = True) -> list[Inference]:
        if not images:
            return []
        logits, features = self.backend.run(self.preprocess(images))
        probabilities = softmax(logits, self.temperature)
        top = probabilities.argmax(axis=1)
        maps = normalise(grad_cam(features, self.backend.fc_weight, top)) if cam else None
        return [Inference(logits[i], probabilities[i], int(top[i]),
                          None if maps is None else maps[i]) for i in range(len(images))]

    def infer_frame(self, frame: np.ndarray, roi: tuple[int, int, int, int] | None = None,
                    tiling: bool = False, overlap: float = 0.25,
                    tile_size: int | None = None) -> FrameInference:
        """Classify a frame: its region of interest as one image, or a grid of tiles over it."""
        height, width = frame.shape[:2]
        x0, y0, w, h = _clip_roi(roi, width, height)
        region = frame[y0:y0 + h, x0:x0 + w]
        if not tiling:
            return FrameInference(self.infer([region])[0], roi and (x0, y0, w, h))
        size = min(tile_size or self.input_size, w, h)
        step = max(1, int(size * (1.0 - overlap)))
        xs = _positions(w, size, step)
        ys = _positions(h, size, step)
        boxes = [(x, y) for y in ys for x in xs]
        results = self.infer([region[y:y + size, x:x + size] for x, y in boxes])
        tiles = [TileInference(x0 + x, y0 + y, size, size, r)
                 for (x, y), r in zip(boxes, results, strict=True)]
        worst = max(results, key=lambda r: 1.0 - r.probabilities[self._good_index()])
        return FrameInference(worst, roi and (x0, y0, w, h), tiles)

    def _good_index(self) -> int:
        good = self.verdict_defaults.get("good_class", "ok")
        return self.classes.index(good) if good in self.classes else 0

    def predict(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        results = []
        for item in self.infer(images, cam=False):
            results.append(Prediction(
                self.classes[item.index], float(item.probabilities[item.index]),
                dict(zip(self.classes, map(float, item.probabilities), strict=True))))
        return results


def _clip_roi(roi: tuple[int, int, int, int] | None, width: int,
              height: int) -> tuple[int, int, int, int]:
    if roi is None:
        return 0, 0, width, height
    x, y, w, h = roi
    x, y = max(0, min(x, width - 1)), max(0, min(y, height - 1))
    return x, y, max(1, min(w, width - x)), max(1, min(h, height - y))


def _positions(length: int, size: int, step: int) -> list[int]:
    positions = list(range(0, max(1, length - size + 1), step))
    if positions[-1] + size < length:
        positions.append(length - size)  # the last tile touches the edge
    return positions
