"""Cutting classification patches out of box-annotated boards (DeepPCB, Pascal VOC).

Rectangles are in pixels, half-open: x1 <= x < x2, y1 <= y < y2, as numpy slices read them.

- `patch_rect` gives the square crop around a defect box: the box plus `context` times its size
  on every side, at least `min_patch` wide, shifted (never shrunk) to lie inside the image.
- `sample_ok_rects` picks defect-free squares that meet no box grown by its margin and no other
  defect-free square, at random but reproducibly (the seed and the board's file name decide).
- `encode_patch` stores a crop as PNG with where it came from in text chunks, so each patch
  names its source and box, and two annotations that happen to give the same pixels still make
  two different files.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, PngImagePlugin

# A candidate defect-free crop whose pixel values vary less than this (standard deviation) is
# blank: bare substrate or solid copper. Such crops are used only when no textured one is free.
FLAT_STD = 3.0
_MAX_CANDIDATES = 200_000
_MAX_TEXTURE_TRIES = 256


@dataclass(frozen=True)
class Rect:
    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    def intersects(self, other: Rect) -> bool:
        return (self.x1 < other.x2 and other.x1 < self.x2
                and self.y1 < other.y2 and other.y1 < self.y2)

    def contains(self, other: Rect) -> bool:
        return (self.x1 <= other.x1 and self.y1 <= other.y1
                and other.x2 <= self.x2 and other.y2 <= self.y2)

    def inside(self, width: int, height: int) -> bool:
        return self.x1 >= 0 and self.y1 >= 0 and self.x2 <= width and self.y2 <= height

    def clamp(self, width: int, height: int) -> Rect | None:
        """The part inside a width x height image, or None when nothing of it is."""
        clamped = Rect(max(self.x1, 0), max(self.y1, 0), min(self.x2, width),
                       min(self.y2, height))
        return clamped if clamped.width > 0 and clamped.height > 0 else None

    def text(self) -> str:
        return f"{self.x1},{self.y1},{self.x2},{self.y2}"


def box_from_corners(x1: float, y1: float, x2: float, y2: float) -> Rect | None:
    """A box from two corners in any order, rounded outwards to whole pixels; None if empty."""
    left, right = sorted((x1, x2))
    top, bottom = sorted((y1, y2))
    box = Rect(math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom))
    return box if box.width > 0 and box.height > 0 else None


def expand(box: Rect, context: float) -> Rect:
    """The box grown by `context` times its width (left and right) and height (top, bottom)."""
    dx, dy = context * box.width, context * box.height
    return Rect(math.floor(box.x1 - dx), math.floor(box.y1 - dy),
                math.ceil(box.x2 + dx), math.ceil(box.y2 + dy))


def _place(start: float, side: int, limit: int) -> tuple[int, int]:
    if side >= limit:
        return 0, limit
    first = min(max(round(start), 0), limit - side)
    return first, first + side


def patch_rect(box: Rect, context: float, min_patch: int, width: int, height: int) -> Rect:
    """The square crop for a defect box (see the module's docstring); it always holds the box
    when the box is inside the image. Only an image smaller than the square makes it narrower."""
    grown = expand(box, context)
    side = max(grown.width, grown.height, min_patch)
    cx, cy = (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2
    x1, x2 = _place(cx - side / 2, side, width)
    y1, y2 = _place(cy - side / 2, side, height)
    return Rect(x1, y1, x2, y2)


def board_rng(seed: int, name: str) -> np.random.Generator:
    """A generator fixed by the configured seed and the board's file name (not its folder)."""
    digest = hashlib.blake2b(f"{seed}\0{name}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


def _candidates(width: int, height: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    stride = max(1, side // 8)
    while True:
        xs = np.unique(np.append(np.arange(0, width - side + 1, stride), width - side))
        ys = np.unique(np.append(np.arange(0, height - side + 1, stride), height - side))
        if xs.size * ys.size <= _MAX_CANDIDATES:
            break
        stride *= 2
    gx, gy = np.meshgrid(xs, ys)
    return gx.ravel(), gy.ravel()


def _free(xs: np.ndarray, ys: np.ndarray, side: int, avoid: Sequence[Rect]) -> np.ndarray:
    free = np.ones(xs.shape, dtype=bool)
    for r in avoid:
        free &= ~((xs < r.x2) & (r.x1 < xs + side) & (ys < r.y2) & (r.y1 < ys + side))
    return np.flatnonzero(free)


def _is_flat(image: np.ndarray, rect: Rect) -> bool:
    return float(image[rect.y1:rect.y2, rect.x1:rect.x2].std()) < FLAT_STD


def sample_ok_rects(image: np.ndarray, count: int, *, sides: Sequence[int],
                    avoid: Sequence[Rect], rng: np.random.Generator,
                    min_side: int) -> list[Rect]:
    """Up to `count` squares of `image` (HxW or HxWxC) meeting none of `avoid` nor each other.

    Each square's side is drawn from `sides` (the board's defect patch sides, so defect-free
    patches show the board at the same scales); when no square of that side is free, `min_side`
    is tried. Textured regions are preferred over blank ones. Fewer than `count` come back when
    the board has no more free room: the caller reports it.
    """
    height, width = image.shape[:2]
    chosen: list[Rect] = []
    pool = [s for s in sides if s > 0] or [min_side]
    for _ in range(count):
        side_first = int(pool[int(rng.integers(len(pool)))])
        picked = None
        for wanted in dict.fromkeys((side_first, min_side)):
            side = max(1, min(wanted, width, height))
            xs, ys = _candidates(width, height, side)
            free = _free(xs, ys, side, [*avoid, *chosen])
            if free.size == 0:
                continue
            order = rng.permutation(free)
            fallback = None
            for index in order[:_MAX_TEXTURE_TRIES]:
                rect = Rect(int(xs[index]), int(ys[index]), int(xs[index]) + side,
                            int(ys[index]) + side)
                if not _is_flat(image, rect):
                    picked = rect
                    break
                fallback = fallback or rect
            picked = picked or fallback
            if picked is not None:
                break
        if picked is None:
            break
        chosen.append(picked)
    return chosen


def crop(image: np.ndarray, rect: Rect) -> np.ndarray:
    return image[rect.y1:rect.y2, rect.x1:rect.x2]


def pixels_hash(array: np.ndarray) -> str:
    """Hash of a crop's pixels and shape: equal for crops that look exactly the same."""
    digest = hashlib.blake2b(str(array.shape).encode(), digest_size=16)
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def encode_patch(rgb: np.ndarray, info: Mapping[str, str]) -> bytes:
    """Lossless PNG of a crop, grey when its three channels are equal, with `info` as text.

    The text makes the file unique to its annotation and is stable: importing the same source
    with the same settings again gives the same bytes, which the dataset skips as duplicates.
    """
    if rgb.ndim == 3 and rgb.shape[2] == 3 and (
        np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])
    ):
        image = Image.fromarray(np.ascontiguousarray(rgb[..., 0]))
    else:
        image = Image.fromarray(np.ascontiguousarray(rgb))
    text = PngImagePlugin.PngInfo()
    for key, value in info.items():
        text.add_itxt(key, value)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=text)
    return buffer.getvalue()
