"""Layout primitives of a synthetic board, their rendering, and an occupancy grid to place them.

A layout is a list of shapes in pixel coordinates (floats). Rendering paints them in the order a
board is built: laminate, copper pours, clearance around conductors, traces, solder-mask colour,
silkscreen, exposed pads, drill holes. Defects are extra shapes: `add` (copper that should not be
there) and `sub` (copper that is missing), plus `no_hole` (pads whose drill hole is missing), so
the defect-free rendering of the same layout is `layout.without_defects()`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

SHIFT = 4
_ONE = float(1 << SHIFT)

LINE, POLY, CIRCLE = 0, 1, 2

_S = math.sqrt(0.5)
# The eight octilinear unit vectors, k * 45 degrees (image coordinates, y down).
DIRS = np.array([[1, 0], [_S, _S], [0, 1], [-_S, _S], [-1, 0], [-_S, -_S], [0, -1], [_S, -_S]])

Color = tuple[int, int, int]


@dataclass(slots=True)
class Shape:
    """LINE: polyline with round caps (size = thickness); POLY: filled polygon; CIRCLE: disc."""

    kind: int
    pts: np.ndarray
    size: float = 0.0

    def bbox(self, grow: float = 0.0) -> tuple[float, float, float, float]:
        if self.kind == LINE:
            half = self.size / 2
        elif self.kind == CIRCLE:
            half = self.size
        else:
            half = 0.0
        half += grow
        lo = self.pts.min(axis=0)
        hi = self.pts.max(axis=0)
        return lo[0] - half, lo[1] - half, hi[0] + half, hi[1] + half

    def scaled(self, factor: float) -> Shape:
        return Shape(self.kind, self.pts * factor, self.size * factor)


def line(pts: np.ndarray | list, width: float) -> Shape:
    return Shape(LINE, np.asarray(pts, dtype=np.float64).reshape(-1, 2), float(width))


def polygon(pts: np.ndarray | list) -> Shape:
    return Shape(POLY, np.asarray(pts, dtype=np.float64).reshape(-1, 2))


def circle(centre: np.ndarray | tuple, radius: float) -> Shape:
    return Shape(CIRCLE, np.asarray(centre, dtype=np.float64).reshape(1, 2), float(radius))


def rect(centre: np.ndarray, t: np.ndarray, half_len: float, half_wid: float) -> Shape:
    """A rectangle centred on `centre`, `half_len` along unit vector t, `half_wid` across it."""
    n = np.array([-t[1], t[0]])
    a, b = t * half_len, n * half_wid
    return polygon([centre - a - b, centre + a - b, centre + a + b, centre - a + b])


@dataclass(slots=True)
class Pad:
    """A pad or via: its copper shape, drill radius (0 for SMD) and whether the mask exposes it."""

    shape: Shape
    hole: float = 0.0
    exposed: bool = True
    centre: np.ndarray = field(default_factory=lambda: np.zeros(2))


@dataclass(slots=True)
class Text:
    """Text drawn with a Hershey font: silkscreen, or etched copper when `copper`."""

    text: str
    org: tuple[int, int]
    scale: float
    thickness: int
    copper: bool = False
    font: int = cv2.FONT_HERSHEY_SIMPLEX

    def box(self) -> Shape:
        (tw, th), base = cv2.getTextSize(self.text, self.font, self.scale, self.thickness)
        x, y = self.org
        return polygon([[x, y - th], [x + tw, y - th], [x + tw, y + base], [x, y + base]])


@dataclass
class Layout:
    width: int
    height: int
    clearance: float
    pours: list[np.ndarray] = field(default_factory=list)
    traces: list[Shape] = field(default_factory=list)
    pads: list[Pad] = field(default_factory=list)
    silk: list[Shape] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    add: list[Shape] = field(default_factory=list)
    sub: list[Shape] = field(default_factory=list)
    no_hole: set[int] = field(default_factory=set)

    def without_defects(self) -> Layout:
        return dataclasses.replace(self, add=[], sub=[], no_hole=set())


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours of each layer; single-channel rendering when `channels` is 1 (first component)."""

    substrate: Color
    copper: Color
    finish: Color
    hole: Color
    silk: Color | None
    opening: Color | None = None
    channels: int = 3


MASK_PALETTE = Palette(
    substrate=(0, 0, 0), copper=(255, 255, 255), finish=(255, 255, 255), hole=(0, 0, 0),
    silk=(100, 100, 100), channels=1,
)
"""Copper 255, laminate and holes 0, silkscreen 100: for finding defect sites on a board."""


def _fix(pts: np.ndarray) -> np.ndarray:
    return np.rint(pts * _ONE).astype(np.int32)


def draw(img: np.ndarray, shape: Shape, color: Color | int, grow: float = 0.0,
         aa: bool = True) -> None:
    """Paint one shape, optionally grown by `grow` pixels on every side."""
    kind = cv2.LINE_AA if aa else cv2.LINE_8
    if shape.kind == LINE:
        thick = max(1, round(shape.size + 2 * grow))
        cv2.polylines(img, [_fix(shape.pts)], False, color, thick, kind, SHIFT)
    elif shape.kind == POLY:
        pts = _fix(shape.pts)
        cv2.fillPoly(img, [pts], color, kind, SHIFT)
        if grow > 0:
            cv2.polylines(img, [pts], True, color, max(1, round(2 * grow)), kind, SHIFT)
    else:
        c = _fix(shape.pts[0])
        radius = max(0.5, shape.size + grow)
        cv2.circle(img, (int(c[0]), int(c[1])), round(radius * _ONE), color, -1, kind, SHIFT)


def _put_text(img: np.ndarray, text: Text, color: Color, extra: int = 0) -> None:
    cv2.putText(img, text.text, text.org, text.font, text.scale, color,
                text.thickness + extra, cv2.LINE_AA)


def render(layout: Layout, pal: Palette) -> np.ndarray:
    """Paint a layout with a palette: HxWx3 (or HxW when pal.channels == 1) uint8."""
    h, w = layout.height, layout.width
    if pal.channels == 1:
        img = np.full((h, w), pal.substrate[0], dtype=np.uint8)
    else:
        img = np.empty((h, w, 3), dtype=np.uint8)
        img[:] = pal.substrate
    sub, cu = pal.substrate, pal.copper
    for pour in layout.pours:
        cv2.fillPoly(img, [_fix(pour)], cu, cv2.LINE_AA, SHIFT)
    copper_texts = [t for t in layout.texts if t.copper]
    if layout.pours:
        grow = layout.clearance
        for shape in layout.traces:
            draw(img, shape, sub, grow)
        for pad in layout.pads:
            draw(img, pad.shape, sub, grow)
        for text in copper_texts:
            _put_text(img, text, sub, max(1, round(2 * grow)))
    for shape in layout.traces:
        draw(img, shape, cu)
    for text in copper_texts:
        _put_text(img, text, cu)
    for shape in layout.add:
        draw(img, shape, cu)
    if pal.silk is not None:
        for shape in layout.silk:
            draw(img, shape, pal.silk)
        for text in layout.texts:
            if not text.copper:
                _put_text(img, text, pal.silk)
    for pad in layout.pads:
        if pad.exposed and pal.opening is not None:
            draw(img, pad.shape, pal.opening, 1.0)
    for pad in layout.pads:
        draw(img, pad.shape, pal.finish if pad.exposed else cu)
    for shape in layout.sub:
        draw(img, shape, sub)
    for i, pad in enumerate(layout.pads):
        if pad.hole > 0 and i not in layout.no_hole:
            draw(img, circle(pad.centre, pad.hole), pal.hole)
    return img


class Occupancy:
    """A coarse raster of what is already placed, to place new items without touching it."""

    def __init__(self, height: int, width: int, scale: float = 0.5) -> None:
        self.scale = scale
        self.grid = np.zeros((math.ceil(height * scale) + 1, math.ceil(width * scale) + 1),
                             dtype=np.uint8)
        self._scratch = np.zeros_like(self.grid)
        self._small = self.grid.size <= 160 * 160

    def _window(self, shape: Shape, grow: float) -> tuple[int, int, int, int] | None:
        x1, y1, x2, y2 = shape.bbox(grow)
        s = self.scale
        gh, gw = self.grid.shape
        ix1, iy1 = max(0, int(x1 * s) - 1), max(0, int(y1 * s) - 1)
        ix2, iy2 = min(gw, int(x2 * s) + 2), min(gh, int(y2 * s) + 2)
        if ix1 >= ix2 or iy1 >= iy2:
            return None
        return ix1, iy1, ix2, iy2

    def fits(self, shape: Shape, grow: float) -> bool:
        """True if `shape` grown by `grow` pixels touches nothing marked so far."""
        scratch = self._scratch
        if self._small:  # cheaper to test the whole grid than to find the shape's window
            scratch.fill(0)
            draw(scratch, shape.scaled(self.scale), 255, grow * self.scale, aa=False)
            return cv2.countNonZero(cv2.bitwise_and(scratch, self.grid)) == 0
        win = self._window(shape, grow)
        if win is None:
            return True
        x1, y1, x2, y2 = win
        scratch[y1:y2, x1:x2] = 0
        draw(scratch, shape.scaled(self.scale), 255, grow * self.scale, aa=False)
        hit = cv2.bitwise_and(scratch[y1:y2, x1:x2], self.grid[y1:y2, x1:x2])
        return cv2.countNonZero(hit) == 0

    def fits_all(self, shapes: list[Shape], grow: float) -> bool:
        return all(self.fits(s, grow) for s in shapes)

    def mark(self, shape: Shape, grow: float = 0.0) -> None:
        draw(self.grid, shape.scaled(self.scale), 255, grow * self.scale, aa=False)


def offset_polyline(pts: np.ndarray, d: float) -> np.ndarray:
    """The polyline moved `d` pixels to its left (mitred joints: parallel bus traces)."""
    xy = pts.tolist()  # a handful of points: plain floats beat numpy's per-call overhead
    normals = []
    for (x0, y0), (x1, y1) in itertools.pairwise(xy):
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        normals.append((-(y1 - y0) / length, (x1 - x0) / length))
    out = [(xy[0][0] + d * normals[0][0], xy[0][1] + d * normals[0][1])]
    for (x, y), (ax, ay), (bx, by) in zip(xy[1:-1], normals[:-1], normals[1:], strict=True):
        k = d / (1.0 + ax * bx + ay * by)
        out.append((x + k * (ax + bx), y + k * (ay + by)))
    out.append((xy[-1][0] + d * normals[-1][0], xy[-1][1] + d * normals[-1][1]))
    return np.array(out)


def rotate(v: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def perp(t: np.ndarray) -> np.ndarray:
    return np.array([-t[1], t[0]])
