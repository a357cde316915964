"""SyntheticPCB: deterministic synthetic PCB patches and whole board frames."""

from __future__ import annotations

import logging
import operator
from collections.abc import Sequence

import numpy as np

from inspector.core.data.synthetic.board_defects import BOARD_KIND, board_layout
from inspector.core.data.synthetic.common import (
    DEFECT_CLASSES,
    MIN_BOARD_SIDE,
    MIN_PATCH_SIZE,
    PATCH_CLASSES,
    BoardFrame,
    Style,
    check_labels,
    check_style,
)
from inspector.core.data.synthetic.geometry import Layout, render
from inspector.core.data.synthetic.patches import patch_layout
from inspector.core.data.synthetic.styles import (
    SCAN_PALETTE,
    NoiseBank,
    finish_photo,
    finish_scan,
    photo_palette,
)

log = logging.getLogger(__name__)


def _count(value: object, name: str, minimum: int) -> int:
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if isinstance(value, bool) or number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return number


class SyntheticPCB:
    """Synthetic PCB images, the same bytes for the same arguments whatever the order of calls.

    Every item draws from its own random stream, seeded by (seed, style, class, index), so
    items can be made in any order, in parallel, or again later. The generator keeps no state
    between calls apart from read-only noise textures, and may be shared between threads.
    """

    def __init__(self, seed: int = 0, style: Style = "photo") -> None:
        self.seed = _count(seed, "seed", 0)
        self.style: Style = style
        self._style_id = check_style(style)
        self._bank = NoiseBank(self.seed, self._style_id)

    def __repr__(self) -> str:
        return f"SyntheticPCB(seed={self.seed}, style={self.style!r})"

    def _rngs(self, kind: int, index: int) -> tuple[np.random.Generator, np.random.Generator]:
        """One stream for the layout and the defects, one for colours and camera effects."""
        key = [self.seed, self._style_id, kind, index]
        return np.random.default_rng(key), np.random.default_rng([*key, 1])

    def _finish(self, layout: Layout, rng: np.random.Generator, vignette: bool) -> np.ndarray:
        if self.style == "scan":
            return finish_scan(render(layout, SCAN_PALETTE), rng, self._bank)
        return finish_photo(render(layout, photo_palette(rng)), rng, self._bank, vignette)

    def patch_layout(self, label: str, size: int = 128,
                     index: int = 0) -> tuple[Layout, np.random.Generator]:
        """The layout of a patch and the random stream that finishes it (for tests and tools:
        `layout.without_defects()` renders the same patch without its defect)."""
        check_labels([label], PATCH_CLASSES)
        size = _count(size, "size", MIN_PATCH_SIZE)
        index = _count(index, "index", 0)
        rng, post = self._rngs(PATCH_CLASSES.index(label), index)
        return patch_layout(rng, label, size, self.style == "scan"), post

    def render_layout(self, layout: Layout, rng: np.random.Generator,
                      vignette: bool = False) -> np.ndarray:
        """Paint a layout in this generator's style: HxWx3 uint8 RGB."""
        return self._finish(layout, rng, vignette)

    def patch(self, label: str, size: int = 128, index: int = 0) -> np.ndarray:
        """A size x size x 3 uint8 RGB patch of class `label` ("ok" or a defect class), the
        defect (if any) near the centre, within a few pixels."""
        layout, post = self.patch_layout(label, size, index)
        return self._finish(layout, post, vignette=False)

    def board_layout(self, width: int = 640, height: int = 480, n_defects: int = 3,
                     classes: Sequence[str] = DEFECT_CLASSES, index: int = 0,
                     ) -> tuple[Layout, BoardFrame, np.random.Generator]:
        """The layout of a board frame with its boxes (image left empty) and the stream that
        finishes it."""
        width = _count(width, "width", MIN_BOARD_SIDE)
        height = _count(height, "height", MIN_BOARD_SIDE)
        n_defects = _count(n_defects, "n_defects", 0)
        index = _count(index, "index", 0)
        check_labels(classes, DEFECT_CLASSES, "defect class")
        if n_defects and not classes:
            raise ValueError("classes is empty: name at least one defect class to inject")
        rng, post = self._rngs(BOARD_KIND, index)
        layout, boxes = board_layout(rng, width, height, self.style == "scan", n_defects,
                                     tuple(classes))
        if len(boxes) < n_defects:
            log.debug("board %d: room for %d of %d defects", index, len(boxes), n_defects)
        return layout, BoardFrame(np.zeros((0, 0, 3), np.uint8), boxes), post

    def board(self, width: int = 640, height: int = 480, n_defects: int = 3,
              classes: Sequence[str] = DEFECT_CLASSES, index: int = 0) -> BoardFrame:
        """A whole board frame (height x width x 3 uint8 RGB) with `n_defects` defects drawn
        from `classes` and their boxes (inside the frame, not overlapping). A very small or
        crowded frame may hold fewer defects than asked for."""
        layout, frame, post = self.board_layout(width, height, n_defects, classes, index)
        return BoardFrame(self._finish(layout, post, vignette=True), frame.boxes)
