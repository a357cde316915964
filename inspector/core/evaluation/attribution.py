"""Grad-CAM on a chosen layer with captum, for the images an engineer inspects.

The live path computes layer4 Grad-CAM from the forward pass alone (inference/cam.py). Here
captum's `LayerGradCam` explains any residual stage (layer4 is coarse, layer2 sharper but less
semantic) at the cost of a backward pass: fine for a gallery of a few dozen images.

Preprocessing, model and calibration are a torch `Predictor`'s, so the images are scored as the
evaluation scores them. Each result carries the heat map cropped to the image's own area (the
eval pipeline pads to a square) and scaled to the displayed size, and an RGB overlay.

torch, cv2 and captum are imported inside the functions (DESIGN rule 6).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inspector.core.errors import CheckpointError, DatasetError

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.inference.predictor import Predictor

log = logging.getLogger(__name__)

LAYERS: tuple[str, ...] = ("layer4", "layer3", "layer2", "layer1")
"""The layers offered, most semantic first."""
DISPLAY_SIZE = 224
"""Longest side of the displayed image, heat map and overlay."""
OVERLAY_ALPHA = 0.45
BATCH_SIZE = 16

Progress = Callable[[int, int], None]


@dataclass(eq=False)  # identity: arrays have no truth value
class CamResult:
    path: Path
    label: int  # the image's class (its folder) in the model's class order; -1 if unknown
    predicted: int
    confidence: float  # calibrated probability of the predicted class
    target: int  # the class the map explains
    layer_map: np.ndarray  # float32 (h, w): raw Grad-CAM (ReLU) at the layer's resolution
    heat_map: np.ndarray  # float32 (H, W) in [0, 1], the displayed image's size
    image: np.ndarray  # uint8 (H, W, 3) RGB, the displayed image
    overlay: np.ndarray  # uint8 (H, W, 3) RGB, heat map blended over the image


@dataclass
class CellExplanation:
    """The images of one confusion-matrix cell (true class, predicted class) with their maps."""

    true_class: str
    predicted_class: str
    layer: str
    results: list[CamResult]
    stopped: bool = False


class LayerCam:
    """captum's LayerGradCam on one stage of a torch Predictor's model.

    A context manager: on exit any hook left on the model (captum removes its own; an
    interrupted call must not leave one either) is removed, so the model stays pure.
    """

    def __init__(self, predictor: Predictor, layer: str = "layer4") -> None:
        from captum.attr import LayerGradCam

        if layer not in LAYERS:
            raise CheckpointError(f"Unknown layer '{layer}'; choose one of {', '.join(LAYERS)}.")
        model = getattr(predictor.backend, "model", None)
        if model is None or not hasattr(model, layer):
            raise CheckpointError("Grad-CAM on a chosen layer needs the torch backend.")
        self.predictor = predictor
        self.layer = layer
        self.model = model
        self._hooks_before = _hook_ids(model)
        self._cam: Any = LayerGradCam(model, getattr(model, layer))

    def __enter__(self) -> LayerCam:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._cam = None
        left = _remove_hooks_not_in(self.model, self._hooks_before)
        if left:
            log.warning("removed %d hooks left on the model after Grad-CAM", left)

    def attribute(self, images: Sequence[np.ndarray],
                  targets: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(maps (N, h, w) float32 at the layer's resolution, probabilities (N, C)) of RGB
        uint8 images; `targets` default to the predicted classes."""
        import torch

        from inspector.core.evaluation.calibration import softmax

        if self._cam is None:
            raise RuntimeError("this LayerCam is closed")
        predictor = self.predictor
        inputs = predictor.backend.normalize(torch.from_numpy(predictor.preprocess(images)))
        with torch.no_grad():
            logits = self.model(inputs).float().cpu().numpy()
        probabilities = softmax(logits, predictor.temperature)
        chosen = probabilities.argmax(1) if targets is None else np.asarray(targets)
        maps = self._cam.attribute(inputs, target=torch.as_tensor(chosen, dtype=torch.long,
                                                                  device=inputs.device),
                                   relu_attributions=True)
        return maps[:, 0].detach().float().cpu().numpy(), probabilities


def _hook_ids(model: Any) -> set[tuple[int, str, int]]:
    ids = set()
    for module in model.modules():
        for kind in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks"):
            ids.update((id(module), kind, key) for key in getattr(module, kind, {}))
    return ids


def _remove_hooks_not_in(model: Any, keep: set[tuple[int, str, int]]) -> int:
    removed = 0
    for module in model.modules():
        for kind in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks"):
            hooks = getattr(module, kind, None)
            for key in [k for k in (hooks or {}) if (id(module), kind, k) not in keep]:
                del hooks[key]
                removed += 1
    return removed


def content_box(height: int, width: int, input_size: int) -> tuple[int, int, int, int]:
    """(top, left, h, w) of the image inside the eval pipeline's padded square: the longest
    side scaled to `input_size`, the other padded evenly (augment._geometry)."""
    scale = input_size / max(height, width)
    h, w = round(height * scale), round(width * scale)
    return (input_size - h) // 2, (input_size - w) // 2, h, w


def display_maps(image: np.ndarray, layer_map: np.ndarray, input_size: int,
                 display_size: int = DISPLAY_SIZE,
                 alpha: float = OVERLAY_ALPHA) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(displayed image, heat map in [0, 1], overlay), all at the displayed size."""
    import cv2

    from inspector.core.inference.cam import normalise
    from inspector.core.inference.overlay import heat_map

    height, width = image.shape[:2]
    scale = display_size / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))  # cv2: (w, h)
    shrink = scale < 1.0
    shown = cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    square = cv2.resize(np.ascontiguousarray(layer_map, np.float32), (input_size, input_size),
                        interpolation=cv2.INTER_LINEAR)
    top, left, h, w = content_box(height, width, input_size)
    region = square[top:top + h, left:left + w]
    cam = cv2.resize(region, size, interpolation=cv2.INTER_LINEAR)
    cam = np.clip(normalise(np.maximum(cam, 0.0)), 0.0, 1.0).astype(np.float32)
    colours = heat_map(cam, size[0], size[1])
    overlay = cv2.addWeighted(colours, alpha, shown, 1.0 - alpha, 0.0)
    return shown, cam, overlay


def _explain(cam: LayerCam, images: Sequence[np.ndarray], paths: Sequence[Path],
             labels: Sequence[int], targets: Sequence[int] | None, batch_size: int,
             display_size: int, progress: Callable[[int], None],
             stop_event: threading.Event | None) -> tuple[list[CamResult], bool]:
    results: list[CamResult] = []
    size = cam.predictor.input_size
    for start in range(0, len(images), batch_size):
        if stop_event is not None and stop_event.is_set():
            return results, True
        batch = images[start:start + batch_size]
        chosen = None if targets is None else targets[start:start + batch_size]
        maps, probabilities = cam.attribute(batch, chosen)
        for i, image in enumerate(batch):
            predicted = int(probabilities[i].argmax())
            target = predicted if chosen is None else int(chosen[i])
            shown, heat, overlay = display_maps(image, maps[i], size, display_size)
            results.append(CamResult(Path(paths[start + i]), int(labels[start + i]), predicted,
                                     float(probabilities[i, predicted]), target, maps[i],
                                     heat, shown, overlay))
        progress(len(batch))
    return results, False


def _load(paths: Sequence[Path], max_pixels: int | None) -> tuple[list[np.ndarray], list[int]]:
    """Decoded images and the indices of the paths that could be read (others are logged)."""
    from inspector.core.data.images import DEFAULT_MAX_PIXELS, load_rgb

    images, kept = [], []
    for i, path in enumerate(paths):
        try:
            images.append(load_rgb(Path(path), max_pixels or DEFAULT_MAX_PIXELS))
            kept.append(i)
        except (DatasetError, OSError) as exc:
            log.warning("no Grad-CAM for %s: %s", path, exc)
    return images, kept


def explain_images(model_path: Path, paths: Sequence[Path], targets: Sequence[int] | None = None,
                   layer: str = "layer4", device: str = "auto", batch_size: int = BATCH_SIZE,
                   display_size: int = DISPLAY_SIZE, max_pixels: int | None = None,
                   on_progress: Progress | None = None,
                   stop_event: threading.Event | None = None) -> list[CamResult]:
    """Grad-CAM of `layer` for each image (for `targets`, default the predicted class).

    Unreadable images are left out (logged). Stops between batches once `stop_event` is set,
    returning the results so far.
    """
    from inspector.core.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(Path(model_path), device=device)
    images, kept = _load(paths, max_pixels)
    kept_targets = None if targets is None else [targets[i] for i in kept]
    label_of = {name: i for i, name in enumerate(predictor.classes)}
    labels = [label_of.get(Path(paths[i]).parent.name, -1) for i in kept]
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if on_progress is not None:
            on_progress(done[0], len(images))

    with LayerCam(predictor, layer) as cam:
        results, _ = _explain(cam, images, [paths[i] for i in kept], labels, kept_targets,
                              batch_size, display_size, step, stop_event)
    return results


def explain_cell(model_path: Path, dataset: Dataset, split: str, true_class: str,
                 predicted_class: str, layer: str = "layer4", explain: str = "predicted",
                 device: str = "auto", batch_size: int = BATCH_SIZE,
                 display_size: int = DISPLAY_SIZE, on_progress: Progress | None = None,
                 stop_event: threading.Event | None = None) -> CellExplanation:
    """The images of `split` whose class is `true_class` and that the model predicts as
    `predicted_class`, each with its Grad-CAM (of the predicted class, or with
    ``explain="true"`` of the true class).

    Membership is computed now, from the dataset as it is (after a relabel, the cell is what
    evaluating again would give), with the evaluation's preprocessing and calibration.
    """
    from inspector.core.inference.predictor import Predictor
    from inspector.core.training.data import collect_splits

    if explain not in ("predicted", "true"):
        raise ValueError(f"explain must be 'predicted' or 'true', not {explain!r}")
    predictor = Predictor.from_checkpoint(Path(model_path), device=device)
    classes = predictor.classes
    for name in (true_class, predicted_class):
        if name not in classes:
            raise CheckpointError(f"The model does not know the class '{name}'.")
    splits = collect_splits(dataset)
    row = [path for path, label in splits.items.get(split, [])
           if splits.classes[label] == true_class]
    true_index, predicted_index = classes.index(true_class), classes.index(predicted_class)
    total = [len(row)]
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if on_progress is not None:
            on_progress(done[0], total[0])

    # Pass 1: which images of the row the model predicts as `predicted_class` (forward only).
    members: list[tuple[Path, np.ndarray]] = []
    for start in range(0, len(row), batch_size):
        if stop_event is not None and stop_event.is_set():
            return CellExplanation(true_class, predicted_class, layer, [], stopped=True)
        paths = row[start:start + batch_size]
        images, kept = _load(paths, dataset.config.max_image_pixels)
        if images:
            results = predictor.infer(images, cam=False)
            for i, image, result in zip(kept, images, results, strict=True):
                if result.index == predicted_index:
                    members.append((paths[i], image))
        step(len(paths))
    total[0] += len(members)
    # Pass 2: Grad-CAM of the members.
    target = predicted_index if explain == "predicted" else true_index
    with LayerCam(predictor, layer) as cam:
        results, stopped = _explain(cam, [m[1] for m in members], [m[0] for m in members],
                                    [true_index] * len(members), [target] * len(members),
                                    batch_size, display_size, step, stop_event)
    return CellExplanation(true_class, predicted_class, layer, results, stopped)
