"""Class names and the plain data the synthetic generator returns (numpy only, no cv2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

DEFECT_CLASSES: tuple[str, ...] = (
    "open",
    "short",
    "mousebite",
    "spur",
    "spurious_copper",
    "pin_hole",
    "missing_hole",
)
PATCH_CLASSES: tuple[str, ...] = ("ok", *DEFECT_CLASSES)

Style = Literal["photo", "scan"]
STYLES: tuple[str, ...] = get_args(Style)

MIN_PATCH_SIZE = 32
MIN_BOARD_SIDE = 64


@dataclass(frozen=True)
class DefectBox:
    """A defect's pixel box in a board frame: x2 and y2 are exclusive; label is a defect class."""

    x1: int
    y1: int
    x2: int
    y2: int
    label: str


@dataclass(frozen=True)
class BoardFrame:
    """A whole synthetic board image (HxWx3 uint8 RGB) and the true boxes of its defects."""

    image: np.ndarray
    boxes: tuple[DefectBox, ...]


def check_style(style: str) -> int:
    """The style's id (used in seeds); ValueError for an unknown style."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}: valid styles are {', '.join(STYLES)}")
    return STYLES.index(style)


def check_labels(labels: Sequence[str], valid: Sequence[str], what: str = "class") -> None:
    """ValueError naming the first label not in `valid`, with the valid ones listed."""
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise ValueError(f"expected a sequence of {what} names, got {labels!r}")
    for label in labels:
        if label not in valid:
            raise ValueError(
                f"unknown {what} {label!r}: valid {what}es are {', '.join(valid)}"
            )
