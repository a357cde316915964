"""The virtual camera: generated boards with known defects moving under the lens.

Two modes, both deterministic (the same seed and options give the same frames, whatever the
speed of the consumer: frame i is a function of i alone):

``mode="board"`` (default): frames of width x height (SourceConfig, default 640x480) showing a
conveyor belt carrying synthetic boards from right to left. Each board is about 86% of the view
wide and 84% high, is generated once by SyntheticPCB when it comes into view and is only
translated afterwards (a board costs ~60 ms; a frame ~1 ms). A board takes `frames_per_board`
frames (default 30, 2 s at 15 fps) to advance by its own width plus the gap to the next one.
About `ok_fraction` of the boards are defect-free; the others carry 1 to 3 defects drawn from
`classes`. Frame.boxes are the defects whose box is entirely in view, in frame coordinates, and
Frame.truth their labels, or ("ok",) when there is none. A defect that is only partly in view
is in neither.

``mode="patch"``: each frame is one size x size patch (default 224, give the model's input
size) of class "ok" (about `ok_fraction` of them) or of a defect class, the defect near the
centre, as in a patch dataset: what a patch classifier's verdict can be checked against.
Frame.truth is (label,) and Frame.boxes is empty. `hold` repeats each patch for that many
frames.

Frames come at SourceConfig.fps (default 15) in real time, or as fast as they can be made with
realtime=False. Paced, the camera drops stale frames like a real one (drop=True); unpaced, it
defaults to drop=False, so that it makes each frame only when the consumer took the previous
one instead of spending a core on frames nobody sees (pass drop=True to override).

Boards and patches use generator indices from 1,000,000 on, so the camera never shows an image
of a dataset generated with the same seed.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

from inspector.config import SourceConfig
from inspector.core.data.synthetic.common import DEFECT_CLASSES, STYLES, DefectBox
from inspector.core.errors import CameraError
from inspector.core.inference.sources.base import (
    Feed,
    FrameSource,
    Pacer,
    SourceState,
    StateCallback,
)

if TYPE_CHECKING:
    from inspector.core.data.synthetic import SyntheticPCB

log = logging.getLogger(__name__)

VirtualMode = Literal["board", "patch"]
MODES: tuple[str, ...] = ("board", "patch")
DEFAULT_SIZE = (640, 480)
DEFAULT_FPS = 15.0
INDEX_BASE = 1_000_000
"""First generator index used: datasets made with the same seed start at 0."""

BOARD_FILL = (0.86, 0.84)  # board width and height, fractions of the view
GAP = 0.2  # space between boards, fraction of the view's width
SHADOW = (4, 6)  # offset of the board's shadow on the belt, pixels
DEFECT_COUNTS = (1, 2, 3)
DEFECT_COUNT_P = (0.5, 0.3, 0.2)
MIN_VIEW = 96

Rendered = tuple[np.ndarray, tuple[str, ...], tuple[DefectBox, ...]]


class BoardBelt:
    """Frame i of the conveyor, for any i, in any order (boards are cached while in view)."""

    def __init__(self, generator: SyntheticPCB, width: int, height: int,
                 classes: Sequence[str], ok_fraction: float, frames_per_board: int) -> None:
        self.gen = generator
        self.width, self.height = width, height
        self.classes = tuple(classes)
        self.ok_fraction = ok_fraction
        self.board_w = round(width * BOARD_FILL[0])
        self.board_h = round(height * BOARD_FILL[1])
        self.pitch = self.board_w + max(8, round(width * GAP))
        self.step = self.pitch / frames_per_board
        self._boards: OrderedDict[int, tuple[np.ndarray, tuple[DefectBox, ...], int]] = (
            OrderedDict())
        self._belt = self._make_belt()

    def _make_belt(self) -> np.ndarray:
        """A dark textured belt, one pitch long, repeated to cover a view from any offset."""
        rng = np.random.default_rng([self.gen.seed, 0xBE17])
        h, t = self.height, self.pitch
        base = 40.0 + rng.normal(0.0, 3.0, (h, t)) + rng.normal(0.0, 2.5, (1, t))
        base += 3.0 * np.sin(np.arange(h) / h * math.pi)[:, None]  # lit in the middle
        grey = np.clip(base, 0, 255).astype(np.uint8)
        tile = np.stack([grey, grey + 1, grey + 3], axis=2)
        reps = math.ceil((self.width + t) / t)
        return np.ascontiguousarray(np.tile(tile, (1, reps, 1)))

    def board(self, k: int) -> tuple[np.ndarray, tuple[DefectBox, ...], int]:
        """Board k's image, boxes (board coordinates) and top edge in the view."""
        cached = self._boards.get(k)
        if cached is not None:
            self._boards.move_to_end(k)
            return cached
        rng = np.random.default_rng([self.gen.seed, 0xB0A2D, k])
        n_defects = 0
        if rng.random() >= self.ok_fraction:
            n_defects = int(rng.choice(DEFECT_COUNTS, p=DEFECT_COUNT_P))
        spare = (self.height - self.board_h) // 2
        y = spare + int(rng.integers(-max(0, spare - 2), max(0, spare - 2) + 1))
        frame = self.gen.board(self.board_w, self.board_h, n_defects, self.classes,
                               index=INDEX_BASE + k)
        entry = (frame.image, frame.boxes, y)
        self._boards[k] = entry
        while len(self._boards) > 3:
            self._boards.popitem(last=False)
        return entry

    def view_left(self, i: int) -> int:
        """The belt coordinate at the view's left edge in frame i (board k starts at k*pitch)."""
        return round(i * self.step) - self.width // 2

    def frame(self, i: int) -> Rendered:
        w, h = self.width, self.height
        left = self.view_left(i)
        offset = left % self.pitch
        image = self._belt[:, offset:offset + w].copy()
        first = max(0, math.floor((left - self.board_w) / self.pitch) + 1)
        last = math.floor((left + w - 1) / self.pitch)
        boxes: list[DefectBox] = []
        for k in range(first, last + 1):
            board, board_boxes, y = self.board(k)
            x = k * self.pitch - left  # the board's left edge in the view
            # the shadow: the belt at half brightness, offset down and right
            sx0, sx1 = max(0, x + SHADOW[0]), min(w, x + SHADOW[0] + self.board_w)
            sy0, sy1 = max(0, y + SHADOW[1]), min(h, y + SHADOW[1] + self.board_h)
            if sx0 < sx1 and sy0 < sy1:
                region = image[sy0:sy1, sx0:sx1]
                np.right_shift(region, 1, out=region)
            x0, x1 = max(0, x), min(w, x + self.board_w)
            if x0 >= x1:
                continue
            image[y:y + self.board_h, x0:x1] = board[:, x0 - x:x1 - x]
            for box in board_boxes:
                fx1, fx2 = box.x1 + x, box.x2 + x
                if fx1 >= 0 and fx2 <= w:
                    boxes.append(DefectBox(fx1, box.y1 + y, fx2, box.y2 + y, box.label))
        truth = tuple(box.label for box in boxes) or ("ok",)
        return image, truth, tuple(boxes)


class PatchStream:
    """Frame i of the patch mode: patch i // hold."""

    def __init__(self, generator: SyntheticPCB, size: int, classes: Sequence[str],
                 ok_fraction: float, hold: int) -> None:
        self.gen = generator
        self.size = size
        self.classes = tuple(classes)
        self.ok_fraction = ok_fraction
        self.hold = hold
        self._last: tuple[int, np.ndarray, str] | None = None

    def label(self, j: int) -> str:
        rng = np.random.default_rng([self.gen.seed, 0x9A7C, j])
        if rng.random() < self.ok_fraction:
            return "ok"
        return self.classes[int(rng.integers(len(self.classes)))]

    def frame(self, i: int) -> Rendered:
        j = i // self.hold
        if self._last is not None and self._last[0] == j:
            image, label = self._last[1].copy(), self._last[2]
        else:
            label = self.label(j)
            image = self.gen.patch(label, self.size, index=INDEX_BASE + j)
            if self.hold > 1:
                self._last = (j, image.copy(), label)
        return image, (label,), ()


class VirtualCamera(FrameSource):
    """Generated frames with known defects; see the module's docstring for the two modes."""

    kind: ClassVar[str] = "virtual"
    OPTIONS: ClassVar[frozenset[str]] = frozenset({
        "drop", "on_state", "realtime", "mode", "size", "style", "classes", "ok_fraction",
        "frames_per_board", "hold"})

    def __init__(self, seed: int = 0, config: SourceConfig | None = None, *,
                 mode: VirtualMode = "board", size: int = 224, style: str = "photo",
                 classes: Sequence[str] = DEFECT_CLASSES, ok_fraction: float = 0.35,
                 frames_per_board: int = 30, hold: int = 1, realtime: bool = True,
                 drop: bool | None = None, on_state: StateCallback | None = None) -> None:
        config = config or SourceConfig(spec=f"virtual:{seed}")
        _check(seed, mode, size, style, classes, ok_fraction, frames_per_board, hold)
        self.config = config
        self.seed = seed
        self.mode: VirtualMode = mode
        self.width = config.width or DEFAULT_SIZE[0]
        self.height = config.height or DEFAULT_SIZE[1]
        if mode == "board" and min(self.width, self.height) < MIN_VIEW:
            raise CameraError(f"the virtual camera needs a view of at least {MIN_VIEW}x"
                              f"{MIN_VIEW} pixels, not {self.width}x{self.height}")
        self.size = size
        self.style = style
        self.classes = tuple(c for c in classes if c != "ok")
        self.ok_fraction = ok_fraction
        self.frames_per_board = frames_per_board
        self.hold = hold
        self.fps = config.fps or DEFAULT_FPS
        self.realtime = realtime
        shape = f"boards {self.width}x{self.height}" if mode == "board" else \
            f"patches {size}x{size}"
        if drop is None:  # paced: like a camera; unpaced: no frame is made for nothing
            drop = realtime
        super().__init__(f"virtual camera {seed} ({shape})", drop=drop, on_state=on_state)

    def renderer(self) -> BoardBelt | PatchStream:
        """A fresh frame maker: .frame(i) -> (image, truth, boxes), frame i of this camera."""
        from inspector.core.data.synthetic import SyntheticPCB

        generator = SyntheticPCB(self.seed, self.style)  # type: ignore[arg-type]
        if self.mode == "patch":
            return PatchStream(generator, self.size, self.classes, self.ok_fraction, self.hold)
        return BoardBelt(generator, self.width, self.height, self.classes, self.ok_fraction,
                         self.frames_per_board)

    def _produce(self, feed: Feed) -> None:
        maker = self.renderer()
        pacer = Pacer(self.fps) if self.realtime else None
        feed.set_state(SourceState.CONNECTED)
        i = 0
        while not feed.stopping:
            image, truth, boxes = maker.frame(i)
            if pacer is not None and not pacer.wait(feed):
                return
            if not feed.publish(image, truth=truth, boxes=boxes):
                return
            i += 1


def _check(seed: int, mode: str, size: int, style: str, classes: Sequence[str],
           ok_fraction: float, frames_per_board: int, hold: int) -> None:
    """CameraError for an option a user could have mistyped."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise CameraError(f"the virtual camera's seed must be a whole number >= 0, not {seed!r}")
    if mode not in MODES:
        raise CameraError(f"unknown virtual camera mode {mode!r}: use {' or '.join(MODES)}")
    if isinstance(size, bool) or not isinstance(size, int) or not 32 <= size <= 4096:
        raise CameraError(f"the virtual camera's patch size must be 32 to 4096, not {size!r}")
    if style not in STYLES:
        raise CameraError(f"unknown virtual camera style {style!r}: use {' or '.join(STYLES)}")
    if isinstance(classes, str):
        raise CameraError("classes must be a list of defect class names, not one string")
    unknown = [c for c in classes if c != "ok" and c not in DEFECT_CLASSES]
    if unknown:
        raise CameraError(f"the virtual camera cannot make {', '.join(map(repr, unknown))}: "
                          f"its defect classes are {', '.join(DEFECT_CLASSES)}")
    if not [c for c in classes if c != "ok"] and ok_fraction < 1.0:
        raise CameraError("the virtual camera needs at least one defect class "
                          "(or ok_fraction=1 for defect-free boards only)")
    if not 0.0 <= ok_fraction <= 1.0:
        raise CameraError(f"ok_fraction must be between 0 and 1, not {ok_fraction!r}")
    if frames_per_board < 2 or hold < 1:
        raise CameraError("frames_per_board must be 2 or more and hold 1 or more")
