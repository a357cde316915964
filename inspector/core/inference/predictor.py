"""Predictor: a checkpoint in, class probabilities out, with the evaluation's preprocessing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from inspector.core.evaluation.calibration import softmax
from inspector.core.training.checkpoint import (
    Checkpoint,
    build_model_from_checkpoint,
    load_checkpoint,
)
from inspector.core.training.devices import resolve_device
from inspector.core.training.engine import Normalizer


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    probabilities: dict[str, float]


class Predictor:
    def __init__(self, checkpoint: Checkpoint, device: str = "auto") -> None:
        from inspector.core.data.augment import eval_pipeline

        self.checkpoint = checkpoint
        self.classes = checkpoint.classes
        self.input_size = checkpoint.input_size
        self.temperature = float(checkpoint.meta.get("temperature", 1.0))
        self.device = resolve_device(device)
        self.model = build_model_from_checkpoint(checkpoint).to(self.device)
        norm = checkpoint.meta["normalization"]
        self.normalize = Normalizer(self.device, norm["mean"], norm["std"])
        self.pipeline = eval_pipeline(self.input_size)

    @classmethod
    def from_checkpoint(cls, path: Path, device: str = "auto") -> Predictor:
        return cls(load_checkpoint(path), device)

    def preprocess(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """RGB uint8 images -> the uint8 NCHW batch the evaluation loader produces."""
        batch = [self.pipeline(image=image)["image"].transpose(2, 0, 1) for image in images]
        return torch.from_numpy(np.ascontiguousarray(np.stack(batch)))

    @torch.no_grad()
    def logits(self, images: Sequence[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, len(self.classes)), np.float32)
        return self.model(self.normalize(self.preprocess(images))).float().cpu().numpy()

    def predict(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        probabilities = softmax(self.logits(images), self.temperature)
        results = []
        for row in probabilities:
            best = int(row.argmax())
            results.append(Prediction(self.classes[best], float(row[best]),
                                      dict(zip(self.classes, map(float, row), strict=True))))
        return results
