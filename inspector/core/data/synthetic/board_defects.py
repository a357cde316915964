"""Defects on a whole board: sites found on a rendering of its copper, boxes that do not overlap.

A straight, isolated stretch of trace takes an open, a mousebite or a spur; a trace edge facing
another conductor across a small gap takes a short; free laminate takes spurious copper; solid
copper takes a pin hole; a drilled pad loses its hole.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from inspector.core.data.synthetic import defects as dfx
from inspector.core.data.synthetic.boards import BoardBuilder
from inspector.core.data.synthetic.builder import sign
from inspector.core.data.synthetic.common import DefectBox
from inspector.core.data.synthetic.defects import Defect, uniform
from inspector.core.data.synthetic.geometry import MASK_PALETTE, Layout, draw, perp, render

BOARD_KIND = 100
"""The 'class' slot of a board's random stream (patch classes use 0 to 7)."""


def _clip(p0: np.ndarray, p1: np.ndarray, lo: np.ndarray, hi: np.ndarray,
          ) -> tuple[float, float] | None:
    """The parameter range [s0, s1] of p0 + s (p1 - p0) inside the box lo..hi (Liang-Barsky)."""
    s0, s1 = 0.0, 1.0
    d = p1 - p0
    for k in range(2):
        if abs(d[k]) < 1e-9:
            if p0[k] < lo[k] or p0[k] > hi[k]:
                return None
            continue
        a, b = (lo[k] - p0[k]) / d[k], (hi[k] - p0[k]) / d[k]
        s0, s1 = max(s0, min(a, b)), min(s1, max(a, b))
    return (s0, s1) if s0 < s1 else None


class DefectSites:
    """Finds where each defect class can go on a board, from a rendering of its copper."""

    def __init__(self, builder: BoardBuilder) -> None:
        self.b = builder
        self.rng = builder.rng
        self.layout = builder.layout
        self.h, self.w = self.layout.height, self.layout.width
        self.mask = render(self.layout, MASK_PALETTE)
        self._dt_free: np.ndarray | None = None
        self._dt_cu: np.ndarray | None = None
        margin = 6.0
        lo, hi = np.array([margin, margin]), np.array([self.w - margin, self.h - margin])
        segs = []
        for shape in self.layout.traces:
            width = shape.size
            for p0, p1 in zip(shape.pts[:-1], shape.pts[1:], strict=True):
                span = _clip(p0, p1, lo, hi)
                length = float(np.linalg.norm(p1 - p0))
                if span is None:
                    continue
                usable = (span[1] - span[0]) * length - 4 * width
                if usable > 2:
                    segs.append((p0, p1, width, span, length, usable))
        self.segs = segs
        weights = np.array([s[5] for s in segs])
        self.cdf = np.cumsum(weights) / weights.sum() if segs else np.zeros(0)

    # ---- masks --------------------------------------------------------------------------

    def value(self, p: np.ndarray) -> int:
        x, y = round(float(p[0])), round(float(p[1]))
        if 0 <= x < self.w and 0 <= y < self.h:
            return int(self.mask[y, x])
        return -1

    def copper(self, p: np.ndarray) -> bool:
        return self.value(p) > 200

    def free(self, p: np.ndarray) -> bool:
        return 0 <= self.value(p) < 30

    def dt_free(self) -> np.ndarray:
        if self._dt_free is None:
            self._dt_free = cv2.distanceTransform((self.mask < 30).astype(np.uint8),
                                                  cv2.DIST_L2, 3)
        return self._dt_free

    def dt_cu(self) -> np.ndarray:
        if self._dt_cu is None:
            self._dt_cu = cv2.distanceTransform((self.mask > 200).astype(np.uint8),
                                                cv2.DIST_L2, 3)
        return self._dt_cu

    def accept(self, defect: Defect) -> None:
        for shape in defect.add:
            draw(self.mask, shape, 255)
        for shape in defect.sub:
            draw(self.mask, shape, 0)
        self._dt_free = self._dt_cu = None

    # ---- sites --------------------------------------------------------------------------

    def trace_point(self) -> tuple[np.ndarray, np.ndarray, float] | None:
        if not self.segs:
            return None
        p0, p1, width, (s0, s1), length, _ = self.segs[
            int(np.searchsorted(self.cdf, self.rng.random()))]
        t = (p1 - p0) / length
        lo, hi = s0 * length + 2 * width, s1 * length - 2 * width
        a = p0 + t * uniform(self.rng, lo, hi)
        for k in (-1.0, 0.0, 1.0):
            if not self.copper(a + t * k * width):
                return None
        return a, t, width

    def random_where(self, ok: np.ndarray, margin: int) -> np.ndarray | None:
        inner = ok[margin:self.h - margin, margin:self.w - margin]
        flat = np.flatnonzero(inner)
        if flat.size == 0:
            return None
        i = int(flat[int(self.rng.random() * flat.size)])
        y, x = divmod(i, inner.shape[1])
        return np.array([x + margin, y + margin], dtype=np.float64)

    def find(self, label: str) -> Defect | int | None:
        """A defect of class `label` at a fitting site, a pad index for a missing hole, or None."""
        rng = self.rng
        if label == "missing_hole":
            pads = [i for i, p in enumerate(self.layout.pads)
                    if p.hole > 0 and i not in self.layout.no_hole]
            return pads[int(rng.random() * len(pads))] if pads else None
        if label == "spurious_copper":
            radius = dfx.blob_radius(rng, self.b.w)
            p = self.random_where(self.dt_free() >= 1.1 * radius + self.b.clr + 2,
                                  int(radius) + 3)
            return None if p is None else dfx.make_blob(rng, p, radius)
        if label == "pin_hole":
            dt = self.dt_cu()
            radius = min(max(2.0, uniform(rng, 2.0, 4.5) * self.b.px), float(dt.max()) - 2.5)
            if radius < 2.0:
                return None
            p = self.random_where(dt >= radius + 2.5, int(radius) + 3)
            return None if p is None else dfx.make_pin_hole(rng, p, radius)
        site = self.trace_point()
        if site is None:
            return None
        a, t, w = site
        out = perp(t) * sign(rng)
        e = a + out * w / 2
        if label == "open":
            gap = dfx.open_gap(rng, w)
            reach = w / 2 + gap / 2 + 2.5
            if all(self.free(a + s * perp(t) * reach) for s in (-1, 1)):
                return dfx.make_open(rng, a, t, w, gap)
        elif label == "mousebite":
            r = dfx.bite_radius(rng, w)
            if all(self.free(e + out * (r + 2) + t * k * r) for k in (-2, 0, 2)):
                return dfx.make_mousebite(rng, e, t, out, r, w)
        elif label == "spur":
            length = dfx.spur_length(rng, w)
            tip = e + out * (0.8 * length + 1)
            if self.free(tip) and self.dt_free()[int(tip[1]), int(tip[0])] >= 0.6 * length + 2:
                return dfx.make_spur(rng, e, t, out, w, length)
        elif label == "short":
            limit = max(3 * w, 4 * self.b.clr, 12.0)
            j = 1.0
            while j <= limit:
                if self.copper(e + out * j):
                    if j >= 2.5:
                        return dfx.make_short(rng, e, t, out, w, j - 0.5)
                    break
                if self.value(e + out * j) < 0:
                    break
                j += 1.0
        return None


def _overlaps(box: tuple[int, int, int, int], boxes: list[DefectBox], pad: int) -> bool:
    return any(box[0] < b.x2 + pad and b.x1 < box[2] + pad and box[1] < b.y2 + pad
               and b.y1 < box[3] + pad for b in boxes)


def board_layout(rng: np.random.Generator, width: int, height: int, scan: bool,
                 n_defects: int, classes: tuple[str, ...],
                 ) -> tuple[Layout, tuple[DefectBox, ...]]:
    builder = BoardBuilder(rng, width, height, scan)
    layout = builder.build()
    if n_defects == 0:
        return layout, ()
    sites = DefectSites(builder)
    boxes: list[DefectBox] = []
    for _ in range(n_defects):
        placed = False
        for _ in range(3):
            label = classes[int(rng.random() * len(classes))]
            for _ in range(30):
                found = sites.find(label)
                if found is None:
                    continue
                if isinstance(found, int):
                    x1, y1, x2, y2 = layout.pads[found].shape.bbox(2.0)
                else:
                    x1, y1, x2, y2 = found.box(2.0)
                box = (math.floor(x1), math.floor(y1), math.floor(x2) + 1, math.floor(y2) + 1)
                if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
                    continue
                if _overlaps(box, boxes, 3):
                    continue
                if isinstance(found, int):
                    layout.no_hole.add(found)
                else:
                    layout.add.extend(found.add)
                    layout.sub.extend(found.sub)
                    sites.accept(found)
                boxes.append(DefectBox(*box, label))
                placed = True
                break
            if placed:
                break
    return layout, tuple(boxes)

