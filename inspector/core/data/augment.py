"""Augmentation presets: the train and eval pipelines, and previews for the GUI.

Both pipelines take an HxWx3 uint8 RGB image of any size and return a dict whose "image" is
``input_size x input_size x 3`` uint8 RGB. They do not normalise or make tensors: the trainer
does that itself. The geometry is the same in both: the longest side is scaled to
``input_size`` (INTER_AREA when shrinking, bilinear when enlarging) and the short side is padded
to a square with BORDER_REFLECT_101. The train pipeline adds the random transforms of an
`AugmentConfig` after that, so train and eval see the same scale on average; nothing crops,
because the defect sits near the centre of a patch and must stay in it.

Randomness. albumentations' own ``Compose.set_random_seed(seed)`` (2.0.x) gives every transform
a generator seeded with the *same* seed, so transforms with the same probability fire together
(with ``p=0.5`` flips, the horizontal and the vertical flip are always both applied or both
skipped) and their parameters are correlated. The pipelines made here are a `SeededCompose`
instead: one numpy Generator and one `random.Random`, seeded once, shared by all transforms in
order. So ``pipeline.set_random_seed(s)`` before a sample makes that sample's augmentation a
function of ``s`` alone (the trainer's per-(epoch, index) seeds, whatever the worker process),
and two pipelines built with the same ``seed`` give the same sequence of outputs.

albumentations is imported inside the functions (DESIGN rule 6); `inspector/__init__.py` sets
NO_ALBUMENTATIONS_UPDATE=1 before that so that importing it never goes on the network.
"""

from __future__ import annotations

import functools
import logging
import random
from typing import TYPE_CHECKING, Any

import numpy as np

from inspector.config import AugmentConfig

if TYPE_CHECKING:
    import albumentations as alb

log = logging.getLogger(__name__)

PREVIEW_MAX_SIZE = 512
"""`preview` works at the image's own size up to this many pixels a side."""

# HueSaturationValue limits: small, a PCB's solder mask and copper keep their colours.
_HUE_SHIFT = 6
_SAT_SHIFT = 15
_VAL_SHIFT = 10

__all__ = ["PREVIEW_MAX_SIZE", "eval_pipeline", "preview", "train_pipeline"]


@functools.cache
def _seeded_compose_class() -> type[alb.Compose]:
    import albumentations as alb

    class SeededCompose(alb.Compose):
        """A `Compose` whose transforms share one random stream (see the module docstring)."""

        def set_random_seed(self, seed: int | None) -> None:
            self.seed = seed
            self.set_random_state(np.random.default_rng(seed), random.Random(seed))

    # Picklable by name (DataLoader workers that spawn): the module's __getattr__ builds it.
    SeededCompose.__module__ = __name__
    SeededCompose.__qualname__ = "SeededCompose"
    return SeededCompose


def __getattr__(name: str) -> Any:
    if name == "SeededCompose":
        return _seeded_compose_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _check_size(input_size: int) -> int:
    if isinstance(input_size, bool) or not isinstance(input_size, (int, np.integer)):
        raise TypeError(f"input_size must be an int, not {type(input_size).__name__}")
    if input_size < 1:
        raise ValueError(f"input_size must be at least 1, not {input_size}")
    return int(input_size)


def _geometry(input_size: int) -> list[Any]:
    """Longest side to input_size, then reflect-pad to a square: shared by train and eval."""
    import albumentations as alb
    import cv2

    return [
        alb.LongestMaxSize(max_size=input_size, interpolation=cv2.INTER_LINEAR,
                         area_for_downscale="image"),
        alb.PadIfNeeded(min_height=input_size, min_width=input_size,
                      border_mode=cv2.BORDER_REFLECT_101),
    ]


def _random_transforms(config: AugmentConfig) -> list[Any]:
    """The config's random transforms, each left out when its probability or range is 0."""
    import albumentations as alb
    import cv2

    transforms: list[Any] = []
    if config.flips:
        transforms += [alb.HorizontalFlip(p=0.5), alb.VerticalFlip(p=0.5)]
    if config.rotate90:
        transforms.append(alb.RandomRotate90(p=1.0))
    if config.affine_p > 0 and (config.shift > 0 or config.scale > 0 or config.rotate > 0):
        transforms.append(alb.Affine(
            scale=(1.0 - config.scale, 1.0 + config.scale),
            translate_percent=(-config.shift, config.shift),
            rotate=(-config.rotate, config.rotate),
            interpolation=cv2.INTER_LINEAR,
            border_mode=cv2.BORDER_REFLECT_101,
            p=config.affine_p,
        ))
    if config.brightness_contrast_p > 0 and (config.brightness > 0 or config.contrast > 0):
        transforms.append(alb.RandomBrightnessContrast(
            brightness_limit=(-config.brightness, config.brightness),
            contrast_limit=(-config.contrast, config.contrast),
            p=config.brightness_contrast_p,
        ))
    if config.hue_saturation_p > 0:
        transforms.append(alb.HueSaturationValue(
            hue_shift_limit=(-_HUE_SHIFT, _HUE_SHIFT),
            sat_shift_limit=(-_SAT_SHIFT, _SAT_SHIFT),
            val_shift_limit=(-_VAL_SHIFT, _VAL_SHIFT),
            p=config.hue_saturation_p,
        ))
    if config.blur_p > 0:
        largest = config.blur_max if config.blur_max % 2 else config.blur_max - 1  # odd kernels
        transforms.append(alb.OneOf([
            alb.GaussianBlur(blur_limit=(3, largest), p=1.0),
            alb.MotionBlur(blur_limit=(3, largest), p=1.0),
        ], p=config.blur_p))
    if config.noise_p > 0 and config.noise_std > 0:
        transforms.append(alb.GaussNoise(std_range=(0.0, config.noise_std), p=config.noise_p))
    if config.jpeg_p > 0:
        transforms.append(alb.ImageCompression(
            compression_type="jpeg", quality_range=(config.jpeg_quality_min, 100),
            p=config.jpeg_p,
        ))
    return transforms


def train_pipeline(config: AugmentConfig, input_size: int,
                   seed: int | None = None) -> alb.Compose:
    """The training pipeline: eval geometry, then the config's random transforms.

    `seed` fixes the sequence of outputs (None: fresh entropy). Call
    ``pipeline.set_random_seed(s)`` before a sample to make it depend on `s` alone. With
    ``config.enabled`` false it is the eval geometry only.
    """
    input_size = _check_size(input_size)
    transforms = _geometry(input_size)
    if config.enabled:
        transforms += _random_transforms(config)
    pipeline = _seeded_compose_class()(transforms, seed=seed)
    log.debug("train pipeline at %d px: %s", input_size,
              ", ".join(type(t).__name__ for t in pipeline.transforms))
    return pipeline


def eval_pipeline(input_size: int) -> alb.Compose:
    """The evaluation pipeline: longest side to `input_size`, reflect-padded to a square."""
    return _seeded_compose_class()(_geometry(_check_size(input_size)), seed=0)


def preview(config: AugmentConfig, image: np.ndarray, n: int, seed: int = 0,
            input_size: int | None = None) -> list[np.ndarray]:
    """`n` augmented versions of `image` (HxWx3 uint8 RGB) for the GUI's preview grid.

    The same (config, image, n, seed) gives the same list, and the first k of a longer list
    equal a shorter one's. Each is ``input_size`` square; by default the image's longest side,
    at most `PREVIEW_MAX_SIZE`, which keeps previews fast.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got shape {image.shape} "
                         f"of {image.dtype}")
    if n < 0:
        raise ValueError(f"n must be 0 or more, not {n}")
    if input_size is None:
        input_size = min(max(image.shape[:2]), PREVIEW_MAX_SIZE)
    pipeline = train_pipeline(config, input_size, seed=seed)
    return [pipeline(image=image)["image"] for _ in range(n)]
